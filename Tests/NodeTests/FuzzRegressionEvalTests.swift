import Foundation
import Testing
import Shared
@testable import Node

/// Replays every saved input of the `eval` fuzz target (Fuzz/corpus/eval, Fuzz/crashes/eval)
/// through the same driver as Fuzz/targets/eval.swift: a socket-less Server runs each body as
/// EVAL/EVAL_RO or as a FUNCTION library and FCALL; runaway scripts are killed 30 ms in. Any reply
/// is fine; the server must answer PING after each, and the hostile seeds (an endless loop,
/// unbounded allocation, endless recursion) must end in an error.
@Suite(.serialized) struct FuzzRegressionEvalTests {
    static func inputs() -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for kind in ["corpus", "crashes"] {
            let dir = FuzzRegressionRDBTests.root.appendingPathComponent(kind).appendingPathComponent("eval")
            for n in ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() where !n.hasPrefix(".") {
                if let d = FileManager.default.contents(atPath: dir.appendingPathComponent(n).path) { out.append((n, [UInt8](d))) }
            }
        }
        return out
    }

    /// As `fuzzEvalInput`: the reply to the script's command.
    static func replay(_ n: TxInProcessNode, _ c: Client, _ input: [UInt8], runs: inout Int) -> [UInt8] {
        guard let mode = input.first else { return [] }
        func run(_ argv: [[UInt8]]) -> [UInt8] {
            c.argv = argv
            n.server.processCommand(c)
            if !c.flags.contains(.pendingCommand) { n.server.commandDone(c) }
            return c.takeReplies()
        }
        let body = Array(input.dropFirst())
        runs += 1
        if runs % 64 == 0 {
            _ = run([Array("FLUSHALL".utf8)])
            _ = run([Array("SCRIPT".utf8), Array("FLUSH".utf8)])
            _ = run([Array("FUNCTION".utf8), Array("FLUSH".utf8)])
        }
        _ = run([Array("HELLO".utf8), mode & 1 == 0 ? Array("2".utf8) : Array("3".utf8)])
        n.server.scripting.evalEngine.L.memoryLimit = 64 << 20
        n.server.scripting.functionEngine.L.memoryLimit = 64 << 20
        let keysAndArgs: [[UInt8]] = [Array("2".utf8), Array("k1".utf8), Array("{k}2".utf8), Array("a1".utf8), Array("5".utf8)]
        let reply: [UInt8]
        if mode & 2 != 0 {
            _ = run([Array("FUNCTION".utf8), Array("LOAD".utf8), Array("REPLACE".utf8), Array("#!lua name=fz\n".utf8) + body])
            reply = run([Array((mode & 4 != 0 ? "FCALL_RO" : "FCALL").utf8), Array("f".utf8)] + keysAndArgs)
        } else {
            reply = run([Array((mode & 4 != 0 ? "EVAL_RO" : "EVAL").utf8), body] + keysAndArgs)
        }
        #expect(run([Array("PING".utf8)]) == Array("+PONG\r\n".utf8))
        return reply
    }

    @Test func everySavedInputRunsAndTheServerKeepsServing() throws {
        let inputs = Self.inputs()
        #expect(inputs.count >= 10, "no eval inputs under \(FuzzRegressionRDBTests.root.path)/corpus/eval")
        let n = try TxInProcessNode { $0.busyReplyThreshold = 20 }
        n.loop.addBeforeSleep { [unowned server = n.server] in
            if let run = server.scriptRun, Clock.monotonicMillis() - run.startedAt > 30 { run.killed = true }
        }
        let c = try n.client()
        var runs = 0
        for (name, input) in inputs {
            let reply = String(decoding: Self.replay(n, c, input, runs: &runs), as: UTF8.self)
            switch name {
            case "seed-loop": #expect(reply.hasPrefix("-ERR Script killed by user with SCRIPT KILL"), "\(reply)")
            case "seed-alloc": #expect(reply.contains("not enough memory") || reply.hasPrefix("-ERR Script killed"), "\(reply)")
            case "seed-recursion": #expect(reply.contains("stack overflow") || reply.hasPrefix("-ERR Script killed"), "\(reply)")
            case "seed-set-get": #expect(reply == "$2\r\na1\r\n")
            case "seed-function-lib": #expect(reply.hasPrefix(":"), "\(reply)")
            default: break
            }
        }
    }
}

// Fuzz target: EVAL bodies, compiled with the Node sources (and Sources/Lua as a module). One
// socket-less Server runs every input as a script, the way a client's EVAL runs: compile,
// KEYS/ARGV, redis.call into the real commands, the conversions both ways, the error paths. The
// first byte picks how: bit 0 the caller's protocol (RESP2/RESP3), bit 1 FUNCTION LOAD of the
// body as a library (then FCALL of its function `f` when it registered one) instead of EVAL,
// bit 2 EVAL_RO. The rest is the body. A script may loop forever: busy-reply-threshold is 20 ms
// and a before-sleep hook (run from the script's hook once it is busy) kills it 30 ms in, as
// SCRIPT KILL would; the interpreter is capped at 64 MB. Every 64 inputs the dataset and the
// script cache are flushed so they stay small.
import Lua
import Shared

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEval(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzEvalInput(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// The server, its client and the inputs run so far.
final class EvalFuzzNode {
    let server: Server
    let client: Client
    var runs = 0

    init() {
        let loop = try! EventLoop()
        let config = ServerConfig()
        config.busyReplyThreshold = 20
        let log = Logger()
        log.level = .nothing
        server = Server(config: config, loop: loop, log: log, clock: .system)
        client = server.makeLocalClient()
        server.clients[client.id] = client
        loop.addBeforeSleep { [unowned server] in
            if let run = server.scriptRun, Clock.monotonicMillis() - run.startedAt > 30 { run.killed = true }
        }
    }

    /// Runs one command as the client; returns its reply bytes.
    @discardableResult
    func run(_ argv: [[UInt8]]) -> [UInt8] {
        client.argv = argv
        server.processCommand(client)
        if !client.flags.contains(.pendingCommand) { server.commandDone(client) }
        return client.takeReplies()
    }
}

nonisolated(unsafe) let evalFuzzNode = EvalFuzzNode()

func fuzzEvalInput(_ input: [UInt8]) {
    guard let mode = input.first else { return }
    let n = evalFuzzNode
    let body = Array(input.dropFirst())
    n.runs += 1
    if n.runs % 64 == 0 {
        n.run([Array("FLUSHALL".utf8)])
        n.run([Array("SCRIPT".utf8), Array("FLUSH".utf8)])
        n.run([Array("FUNCTION".utf8), Array("FLUSH".utf8)])
    }
    n.run([Array("HELLO".utf8), mode & 1 == 0 ? Array("2".utf8) : Array("3".utf8)])
    n.server.scripting.evalEngine.L.memoryLimit = 64 << 20
    n.server.scripting.functionEngine.L.memoryLimit = 64 << 20
    let keysAndArgs: [[UInt8]] = [Array("2".utf8), Array("k1".utf8), Array("{k}2".utf8), Array("a1".utf8), Array("5".utf8)]
    if mode & 2 != 0 {
        let library = Array("#!lua name=fz\n".utf8) + body
        n.run([Array("FUNCTION".utf8), Array("LOAD".utf8), Array("REPLACE".utf8), library])
        n.run([Array((mode & 4 != 0 ? "FCALL_RO" : "FCALL").utf8), Array("f".utf8)] + keysAndArgs)
    } else {
        n.run([Array((mode & 4 != 0 ? "EVAL_RO" : "EVAL").utf8), body] + keysAndArgs)
    }
    // The server still answers.
    precondition(n.run([Array("PING".utf8)]) == Array("+PONG\r\n".utf8))
}

import Testing
import TestSupport
import Shared

/// Runaway scripts against a real vigil-node process: past busy-reply-threshold others get
/// -BUSY, SCRIPT KILL / FUNCTION KILL stop a script that has not written, a script that wrote is
/// UNKILLABLE and SHUTDOWN NOSAVE still ends the process; unbounded allocation and deep recursion
/// end in an error. The node keeps serving after each (texts are redis-server 7.0.15's).
@Suite(.serialized) struct ScriptBusyTests {
    static func errorText(_ v: RESPValue) -> String? { if case .error(let e) = v { return e } else { return nil } }

    static let busyEval = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    static let busyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."

    /// Polls PING on `c` until it answers -BUSY (the script passed the threshold).
    static func waitBusy(_ c: TestClient, _ text: String) -> Bool {
        waitUntil(timeout: 10) { try c.call("PING") == .error(text) }
    }

    @Test func anEndlessEvalGetsBusyRepliesAndScriptKillStopsIt() throws {
        let node = try ServerProcess.vigilNode(args: ["--busy-reply-threshold", "100"])
        defer { node.stop() }
        let runner = try node.client(timeoutMillis: 20000)
        let other = try node.client()
        try runner.send(["EVAL", "local i = 0 while true do i = i + 1 end", "0"])
        #expect(Self.waitBusy(other, Self.busyEval))
        #expect(try other.call("GET", "x") == .error(Self.busyEval))
        #expect(try other.call("FUNCTION", "KILL") == .error(Self.busyEval))
        #expect(try other.call("SCRIPT", "KILL") == .simpleString("OK"))
        let killed = try runner.read()
        #expect(Self.errorText(killed)?.hasPrefix("ERR Script killed by user with SCRIPT KILL...") == true, "\(killed)")
        #expect(try other.call("PING") == .simpleString("PONG"))
        #expect(try runner.call("EVAL", "return 1", "0") == .integer(1))
    }

    @Test func anEndlessFunctionIsStoppedByFunctionKill() throws {
        let node = try ServerProcess.vigilNode(args: ["--busy-reply-threshold", "100"])
        defer { node.stop() }
        let runner = try node.client(timeoutMillis: 20000)
        let other = try node.client()
        #expect(try runner.call("FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}")
                == .bulkString(Bytes("spin".utf8)))
        try runner.send(["FCALL", "spin", "0"])
        #expect(Self.waitBusy(other, Self.busyFunction))
        #expect(try other.call("SCRIPT", "KILL") == .error(Self.busyFunction))
        #expect(try other.call("FUNCTION", "KILL") == .simpleString("OK"))
        let killed = try runner.read()
        #expect(killed.isError, "\(killed)")
        #expect(try other.call("PING") == .simpleString("PONG"))
    }

    @Test func aScriptThatWroteIsUnkillableButShutdownNosaveEndsTheNode() throws {
        let node = try ServerProcess.vigilNode(args: ["--busy-reply-threshold", "100"])
        defer { node.stop() }
        let runner = try node.client(timeoutMillis: 20000)
        let other = try node.client()
        try runner.send(["EVAL", "redis.call('set', 'x', 1) while true do end", "0"])
        #expect(Self.waitBusy(other, Self.busyEval))
        let refused = try other.call("SCRIPT", "KILL")
        #expect(Self.errorText(refused)?.hasPrefix("UNKILLABLE Sorry the script already executed write commands") == true, "\(refused)")
        try other.send(["SHUTDOWN", "NOSAVE"])
        #expect(node.waitExit(timeout: 10) != nil)
    }

    @Test func unboundedAllocationAndRecursionEndInErrors() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let c = try node.client(timeoutMillis: 60000)
        // A string that doubles until the interpreter's 512 MB cap refuses the allocation.
        let grow = try c.call("EVAL", "local s = 'x' while true do s = s .. s end", "0")
        #expect(Self.errorText(grow)?.contains("not enough memory") == true, "\(grow)")
        let deep = try c.call("EVAL", "local function f(n) return 1 + f(n + 1) end return f(1)", "0")
        #expect(Self.errorText(deep)?.contains("stack overflow") == true, "\(deep)")
        #expect(try c.call("EVAL", "return 'still here'", "0") == .bulkString(Bytes("still here".utf8)))
        #expect(try c.call("PING") == .simpleString("PONG"))
    }
}

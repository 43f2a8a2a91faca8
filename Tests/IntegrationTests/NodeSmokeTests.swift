import Testing
import TestSupport
import Shared

/// The node starts, answers PING and closes on a protocol error as Redis does.
@Suite(.serialized) struct NodeSmokeTests {
    @Test func pingAndProtocolError() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let c = try node.client()
        #expect(try c.call("PING") == .simpleString("PONG"))
        try c.sendRaw("*1\r\n$x\r\n")
        #expect(try c.read() == .error("ERR Protocol error: invalid bulk length"))
        #expect(c.isClosedByPeer())
        // The node keeps serving others.
        #expect(try node.client().call("PING") == .simpleString("PONG"))
    }
}

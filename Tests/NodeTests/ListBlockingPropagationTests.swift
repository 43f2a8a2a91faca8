import Testing
@testable import Node
import Shared
import Glibc

/// In-process checks of what blocking and random commands write to the replication stream, and
/// of blocking commands inside a transaction. Clients have no socket; replies are read from
/// their output buffers without running the event loop.
@Suite(.serialized) struct ListBlockingPropagationTests {
    typealias Harness = PropagationHarness

    @Test func servedBlpopPropagatesAsLpopAfterThePush() throws {
        let h = try Harness()
        let a = try h.client(1), b = try h.client(2)
        #expect(h.run(a, "BLPOP", "q", "0") == "")
        #expect(a.flags.contains(.blocked))
        #expect(h.run(b, "RPUSH", "q", "x", "y") == ":2\r\n")
        #expect(h.take(a) == "*2\r\n$1\r\nq\r\n$1\r\nx\r\n")
        #expect(!a.flags.contains(.blocked))
        #expect(h.stream == [["RPUSH", "q", "x", "y"], ["LPOP", "q"]])
        // Served at once: the same rewrite.
        h.stream = []
        #expect(h.run(a, "BRPOP", "q", "0") == "*2\r\n$1\r\nq\r\n$1\r\ny\r\n")
        #expect(h.stream == [["RPOP", "q"]])
    }

    @Test func servedBlmoveAndBzpopminPropagateTheirNonBlockingForms() throws {
        let h = try Harness()
        let a = try h.client(1), b = try h.client(2), z = try h.client(3)
        h.run(a, "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
        h.run(z, "BZPOPMIN", "zs", "0")
        h.run(b, "RPUSH", "src", "v")
        h.run(b, "ZADD", "zs", "1", "m")
        #expect(h.take(a) == "$1\r\nv\r\n")
        #expect(h.take(z) == "*3\r\n$2\r\nzs\r\n$1\r\nm\r\n$1\r\n1\r\n")
        #expect(h.stream == [["RPUSH", "src", "v"], ["LMOVE", "src", "dst", "LEFT", "RIGHT"], ["ZADD", "zs", "1", "m"], ["ZPOPMIN", "zs"]])
    }

    @Test func blockingCommandsInsideMultiDoNotBlock() throws {
        let h = try Harness()
        let a = try h.client(1)
        // As EXEC runs queued commands: the client is in MULTI state while they execute.
        a.flags.insert(.multi)
        a.argv = ["BLPOP", "empty", "0"].map { Bytes($0.utf8) }
        h.server.call(a, try #require(h.server.commandTable["blpop"]))
        #expect(h.take(a) == "*-1\r\n")
        #expect(!a.flags.contains(.blocked))
    }

    @Test func disconnectingWhileBlockedForgetsTheClient() throws {
        let h = try Harness()
        let a = try h.client(1), b = try h.client(2)
        h.run(a, "BLPOP", "q", "0")
        #expect(h.server.blocking.blockedCount == 1)
        h.server.freeClient(a)
        #expect(h.server.blocking.blockedCount == 0)
        h.run(b, "RPUSH", "q", "x")
        #expect(h.run(b, "LLEN", "q") == ":1\r\n")
    }

    @Test func randomAndFloatWritesPropagateDeterministically() throws {
        let h = try Harness()
        let a = try h.client(1)
        h.run(a, "SADD", "s", "only")
        h.stream = []
        #expect(h.run(a, "SPOP", "s") == "$4\r\nonly\r\n")
        #expect(h.stream == [["SREM", "s", "only"]])
        h.stream = []
        #expect(h.run(a, "HINCRBYFLOAT", "h", "f", "1.5") == "$3\r\n1.5\r\n")
        #expect(h.stream == [["HSET", "h", "f", "1.5"]])
    }
}

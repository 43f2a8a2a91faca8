import Testing
import TestSupport
import Shared

/// Blocking pops against a real vigil-node: woken by pushes from other connections, timeouts,
/// and clean-up of blocked clients that disconnect.
@Suite(.serialized) struct BlockingTests {
    static func bulk(_ s: String) -> RESPValue { .bulkString(Bytes(s.utf8)) }

    @Test func blpopIsWokenByRpushFromAnotherConnection() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let waiter = try node.client()
        let pusher = try node.client()
        try waiter.send(["BLPOP", "nokey", "queue", "0"])
        #expect(try pusher.call("RPUSH", "queue", "job1", "job2") == .integer(2))
        #expect(try waiter.read() == .array([Self.bulk("queue"), Self.bulk("job1")]))
        // Only one element was taken; the list keeps the other.
        #expect(try pusher.call("LRANGE", "queue", "0", "-1") == .array([Self.bulk("job2")]))
        // The unblocked client is usable again.
        #expect(try waiter.call("PING") == .simpleString("PONG"))
    }

    @Test func blmoveAndBzpopminAreWokenToo() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let mover = try node.client()
        let zwaiter = try node.client()
        let other = try node.client()
        try mover.send(["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"])
        try zwaiter.send(["BZPOPMIN", "z", "0"])
        #expect(try other.call("LPUSH", "src", "a") == .integer(1))
        #expect(try mover.read() == Self.bulk("a"))
        #expect(try other.call("LRANGE", "dst", "0", "-1") == .array([Self.bulk("a")]))
        #expect(try other.call("ZADD", "z", "2", "m2", "1", "m1") == .integer(2))
        #expect(try zwaiter.read() == .array([Self.bulk("z"), Self.bulk("m1"), Self.bulk("1")]))
        #expect(try other.call("ZCARD", "z") == .integer(1))
    }

    @Test func timeoutRepliesNullAndUnblocks() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let c = try node.client()
        try c.send(["BLPOP", "never", "0.2"])
        let raw = try c.readRaw()
        #expect(raw == Bytes("*-1\r\n".utf8))
        #expect(try c.call("HELLO", "3").elements != nil)
        try c.send(["BLMOVE", "never", "d", "LEFT", "LEFT", "0.05"])
        #expect(try c.readRaw() == Bytes("_\r\n".utf8))
        // A later push is not consumed by the timed-out client.
        #expect(try c.call("RPUSH", "never", "x") == .integer(1))
        #expect(try c.call("LLEN", "never") == .integer(1))
    }

    @Test func twoWaitersEachGetOneElement() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let w1 = try node.client(), w2 = try node.client(), p = try node.client()
        try w1.send(["BRPOP", "k", "0"])
        try w2.send(["BRPOP", "k", "0"])
        // Whether the waiters are already blocked or served at once, each gets exactly one element.
        #expect(try p.call("RPUSH", "k", "a", "b") == .integer(2))
        let got = [try w1.read(), try w2.read()].compactMap { $0.elements?.last?.string }
        #expect(got.sorted() == ["a", "b"])
        #expect(try p.call("LLEN", "k") == .integer(0))
    }

    @Test func disconnectedWaiterIsForgotten() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        do {
            let gone = try node.client()
            try gone.send(["BLPOP", "q", "0"])
        }  // closed here, while blocked
        let p = try node.client()
        // Pushes stay in the list once the server has dropped the closed waiter, and serving a key
        // whose waiter went away does not hurt the server.
        let stays = waitUntil(timeout: 10) {
            _ = try p.call("RPUSH", "q", "x")
            if case .integer(let n) = try p.call("LLEN", "q") { return n >= 1 }
            return false
        }
        #expect(stays)
        #expect(try p.call("PING") == .simpleString("PONG"))
    }
}

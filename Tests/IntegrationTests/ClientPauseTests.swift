import Foundation
import Testing
import TestSupport
import Shared

/// CLIENT PAUSE against a real vigil-node: paused commands are held (INFO counts them as
/// blocked clients, as Redis does), then complete in order as soon as the pause ends or is lifted;
/// a WRITE pause holds writes only.
@Suite(.serialized) struct ClientPauseTests {
    static func blocked(_ node: ServerProcess) -> Int {
        guard let text = (try? node.client().call("INFO", "clients"))?.string else { return -1 }
        for line in text.split(separator: "\r\n") where line.hasPrefix("blocked_clients:") {
            return Int(line.dropFirst("blocked_clients:".count)) ?? -1
        }
        return -1
    }

    static func now() -> Double { Double(Clock.monotonicMillis()) / 1000 }

    @Test func setsSentDuringAPauseCompleteInOrderRightAfterIt() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let admin = try node.client()
        let single = try node.client(timeoutMillis: 10000)
        let piped = try node.client(timeoutMillis: 10000)
        let start = Self.now()
        #expect(try admin.call("CLIENT", "PAUSE", "300") == .simpleString("OK"))
        let pauseEnd = start + 0.3
        try single.send(["SET", "a", "1"])
        // Three SETs in one write: they must run in the order sent.
        try piped.sendRaw(RESPWriter.command(["SET", "p", "1"]) + RESPWriter.command(["SET", "p", "2"])
                          + RESPWriter.command(["SET", "p", "3"]))
        #expect(try single.read() == .simpleString("OK"))
        for _ in 0..<3 { #expect(try piped.read() == .simpleString("OK")) }
        let done = Self.now()
        #expect(done >= pauseEnd - 0.05, "replies came before the pause ended")
        #expect(done - pauseEnd < 1.0, "replies came \(done - pauseEnd) s after the pause ended")
        #expect(try admin.call("GET", "p") == .bulkString(Bytes("3".utf8)))
        #expect(try admin.call("GET", "a") == .bulkString(Bytes("1".utf8)))
    }

    @Test func aWritePauseHoldsSetButServesGet() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let admin = try node.client()
        #expect(try admin.call("SET", "k", "old") == .simpleString("OK"))
        #expect(try admin.call("CLIENT", "PAUSE", "2000", "WRITE") == .simpleString("OK"))
        let writer = try node.client(timeoutMillis: 10000)
        try writer.send(["SET", "k", "new"])
        #expect(waitUntil(timeout: 1.5) { Self.blocked(node) == 1 }, "the SET was not held")
        let reader = try node.client()
        let t0 = Self.now()
        #expect(try reader.call("GET", "k") == .bulkString(Bytes("old".utf8)))
        #expect(try reader.call("PING") == .simpleString("PONG"))
        #expect(Self.now() - t0 < 0.5, "reads waited for the pause")
        #expect(Self.blocked(node) == 1)
        #expect(try writer.read() == .simpleString("OK"))
        #expect(try reader.call("GET", "k") == .bulkString(Bytes("new".utf8)))
    }

    /// (A WRITE pause: under ALL, UNPAUSE itself waits for the pause to end, in Redis too.)
    @Test func unpauseReleasesHeldClientsAtOnce() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let admin = try node.client()
        #expect(try admin.call("CLIENT", "PAUSE", "100000", "WRITE") == .simpleString("OK"))
        let a = try node.client(timeoutMillis: 10000), b = try node.client(timeoutMillis: 10000)
        try a.send(["INCR", "n"])
        try b.send(["INCR", "n"])
        #expect(waitUntil(timeout: 2) { Self.blocked(node) == 2 })
        let t0 = Self.now()
        #expect(try admin.call("CLIENT", "UNPAUSE") == .simpleString("OK"))
        #expect(try a.read() == .integer(1))
        #expect(try b.read() == .integer(2))
        #expect(Self.now() - t0 < 1.0)
        #expect(Self.blocked(node) == 0)
    }
}

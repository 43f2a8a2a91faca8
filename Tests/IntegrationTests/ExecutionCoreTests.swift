import Foundation
import Testing
import TestSupport
import Shared

/// The one execution path, seen from outside: a blocked client served later is a write WAIT
/// waits for, and an AOF holding transactions, served blocking pops and a lazily expired key
/// replays into exactly the dataset that wrote it.
@Suite(.serialized) struct ExecutionCoreTests {
    static func bulk(_ s: String) -> RESPValue { .bulkString(Bytes(s.utf8)) }

    static func field(_ p: ServerProcess, _ section: String, _ name: String) -> String? {
        guard let text = (try? p.client().call("INFO", section))?.string else { return nil }
        for line in text.split(separator: "\r\n") where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1))
        }
        return nil
    }

    /// The acknowledged offset of the first replica, from the master's INFO.
    static func replicaAck(_ master: ServerProcess) -> Int64? {
        guard let line = field(master, "replication", "slave0") else { return nil }
        for part in line.split(separator: ",") where part.hasPrefix("offset=") { return Int64(part.dropFirst(7)) }
        return nil
    }

    @Test func waitAfterABlpopServedWhileBlockedWaitsForThePop() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        #expect(waitUntil(timeout: 10) { Self.field(replica, "replication", "master_link_status") == "up" })
        let popper = try master.client(timeoutMillis: 10000)
        let pusher = try master.client()
        #expect(try pusher.call("SET", "warm", "up") == .simpleString("OK"))
        #expect(waitUntil(timeout: 5) { Self.replicaAck(master) == Int64(Self.field(master, "replication", "master_repl_offset") ?? "") })
        try popper.send(["BLPOP", "q", "0"])
        #expect(waitUntil(timeout: 2) { Self.field(master, "clients", "blocked_clients") == "1" })
        // The replica stalls for a second: it acknowledged everything before the pop, nothing after.
        let stall = try replica.client()
        try stall.send(["DEBUG", "SLEEP", "1"])
        #expect(try pusher.call("RPUSH", "q", "job") == .integer(1))
        #expect(try popper.read() == .array([Self.bulk("q"), Self.bulk("job")]))
        #expect(try popper.call("WAIT", "1", "5000") == .integer(1))
        // WAIT returned 1 only once the replica had the pop in its acknowledged offset.
        let masterOffset = Int64(Self.field(master, "replication", "master_repl_offset") ?? "") ?? -1
        #expect((Self.replicaAck(master) ?? -1) >= masterOffset)
        #expect(try replica.client().call("LLEN", "q") == .integer(0))
    }

    @Test func anAOFOfTransactionsServedPopsAndLazyExpiryReplaysExactly() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", "", "--appendonly", "yes", "--appendfsync", "always"])
        defer { node.stop() }
        let c = try node.client(timeoutMillis: 10000)
        // A transaction of several writes, and one with a single write.
        for cmd in [["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["RPUSH", "l", "x", "y"], ["SELECT", "2"], ["SET", "in2", "v"], ["EXEC"]] {
            _ = try c.call(cmd)
        }
        _ = try c.call("SELECT", "0")
        for cmd in [["MULTI"], ["SADD", "s", "m1", "m2"], ["EXEC"]] { _ = try c.call(cmd) }
        // Blocking pops served after they blocked: a list pop, a move, a sorted-set pop.
        let w1 = try node.client(timeoutMillis: 10000), w2 = try node.client(timeoutMillis: 10000), w3 = try node.client(timeoutMillis: 10000)
        try w1.send(["BLPOP", "q", "0"])
        try w2.send(["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"])
        try w3.send(["BZPOPMIN", "z", "0"])
        #expect(waitUntil(timeout: 2) { Self.field(node, "clients", "blocked_clients") == "3" })
        #expect(try c.call("RPUSH", "q", "q1", "q2") == .integer(2))
        #expect(try c.call("RPUSH", "src", "s1", "s2") == .integer(2))
        #expect(try c.call("ZADD", "z", "1", "z1", "2", "z2") == .integer(2))
        #expect(try w1.read() == .array([Self.bulk("q"), Self.bulk("q1")]))
        #expect(try w2.read() == Self.bulk("s1"))
        #expect(try w3.read() == .array([Self.bulk("z"), Self.bulk("z1"), Self.bulk("1")]))
        // A key that expires while nothing touches it (active expiry off), then a write that finds
        // it expired: the DEL of the old key must replay before the write, not after it.
        #expect(try c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == .simpleString("OK"))
        #expect(try c.call("SET", "n", "41", "PX", "20") == .simpleString("OK"))
        let setAt = Clock.monotonicMillis()
        _ = waitUntil(timeout: 1) { Clock.monotonicMillis() - setAt > 40 }  // the TTL runs out
        #expect(try c.call("INCR", "n") == .integer(1))
        #expect(Self.field(node, "stats", "expired_keys") == "1")
        let before = try Repl.snapshot(node)
        #expect(before["0:n"] != nil && before["0:dst"] != nil && before["2:in2"] != nil)
        node.stop()
        let again = try node.restart()
        defer { again.stop() }
        #expect(waitUntil(timeout: 10) { (try? again.client().call("PING")) == .simpleString("PONG") })
        #expect(try Repl.snapshot(again) == before)
    }
}

import Foundation
import Testing
@testable import Node
import Shared
import Glibc

/// Stream commands in process: what they propagate to replicas and the AOF, how blocked
/// XREAD / XREADGROUP clients are served or failed, DEBUG DIGEST against redis-server's value,
/// and the RDB and AOF forms read back into an identical stream.
@Suite(.serialized) struct StreamCommandTests {
    typealias Harness = PropagationHarness

    // MARK: - Propagation

    @Test func xaddPropagatesTheGeneratedIDAndAnExactTrim() throws {
        let h = try Harness()
        let a = try h.client(1)
        let reply = h.run(a, "XADD", "s", "*", "f", "v")
        let id = String(reply.split(separator: "\r\n")[1])
        #expect(h.stream == [["XADD", "s", id, "f", "v"]])
        h.stream = []
        h.run(a, "XADD", "s", "5-*", "f", "v")  // smaller ms than the generated one: refused
        #expect(h.stream == [])
        h.run(a, "XADD", "s", "99999999999999-*", "f", "v")
        #expect(h.stream == [["XADD", "s", "99999999999999-0", "f", "v"]])
        h.stream = []
        h.run(a, "CONFIG", "SET", "stream-node-max-entries", "2")
        for i in 0..<6 { h.run(a, "XADD", "t", "\(i + 1)", "f", "v") }
        h.stream = []
        #expect(h.run(a, "XADD", "t", "MAXLEN", "~", "3", "7", "f", "v") == "$3\r\n7-0\r\n")
        // Whole nodes of two entries went while at least three stayed: replicas trim to exactly three.
        #expect(h.stream == [["XADD", "t", "MAXLEN", "=", "3", "7", "f", "v"]])
        h.stream = []
        #expect(h.run(a, "XTRIM", "t", "MINID", "~", "7") == ":2\r\n")
        // The node [5, 6] went; the one holding 7 stays whole and its first ID is what replicas keep.
        #expect(h.stream == [["XTRIM", "t", "MINID", "=", "7-0"]])
        h.stream = []
        #expect(h.run(a, "XTRIM", "t", "MAXLEN", "~", "100") == ":0\r\n")
        #expect(h.stream == [])
    }

    @Test func xreadgroupPropagatesClaimsAndGroupIDsNotItself() throws {
        let h = try Harness()
        let a = try h.client(1)
        h.run(a, "XADD", "s", "1", "a", "1")
        h.run(a, "XADD", "s", "2", "b", "2")
        h.run(a, "XGROUP", "CREATE", "s", "g", "0")
        h.stream = []
        _ = h.run(a, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
        #expect(h.stream.count == 4)
        #expect(h.stream.first == ["MULTI"] && h.stream.last == ["EXEC"])
        let claim = h.stream[1]
        #expect(Array(claim.prefix(6)) == ["XCLAIM", "s", "g", "alice", "0", "1-0"])
        #expect(claim[6] == "TIME" && claim[8] == "RETRYCOUNT" && claim[9] == "1")
        // Each claim carries the group's last ID as it was when that entry was delivered.
        #expect(Array(claim[10...]) == ["FORCE", "JUSTID", "LASTID", "1-0"])
        #expect(h.stream[2][5] == "2-0" && h.stream[2].last == "2-0")
        // Reading history creates nothing to propagate.
        h.stream = []
        _ = h.run(a, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")
        #expect(h.stream == [])
        // NOACK: the consumer creation and the new last ID, not XCLAIMs.
        h.run(a, "XADD", "s", "3", "c", "3")
        h.stream = []
        _ = h.run(a, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", ">")
        #expect(h.stream == [["MULTI"], ["XGROUP", "CREATECONSUMER", "s", "g", "bob"],
                             ["XGROUP", "SETID", "s", "g", "3-0", "ENTRIESREAD", "3"], ["EXEC"]])
        // Nothing new: nothing at all.
        h.stream = []
        #expect(h.run(a, "XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">") == "*-1\r\n")
        #expect(h.stream == [])
    }

    @Test func claimsOfDeletedEntriesPropagateAsXclaimAndDropThePendingEntry() throws {
        let h = try Harness()
        let a = try h.client(1)
        for i in 1...3 { h.run(a, "XADD", "x", "\(i)", "f", "v") }
        h.run(a, "XGROUP", "CREATE", "x", "grp", "0")
        _ = h.run(a, "XREADGROUP", "GROUP", "grp", "Alice", "STREAMS", "x", ">")
        h.run(a, "XDEL", "x", "2")
        h.stream = []
        let r = h.run(a, "XCLAIM", "x", "grp", "Bob", "0", "1", "2", "3", "JUSTID")
        #expect(r == "*2\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n")
        // Three XCLAIMs (the dropped 2-0 included, with its original argument text), in MULTI/EXEC.
        #expect(h.stream.count == 5)
        #expect(h.stream.dropFirst().dropLast().map { $0[5] } == ["1", "2", "3"])
        #expect(h.run(a, "XPENDING", "x", "grp", "-", "+", "10", "Alice") == "*0\r\n")
        h.run(a, "XDEL", "x", "3")
        h.stream = []
        #expect(h.run(a, "XAUTOCLAIM", "x", "grp", "Carol", "0", "0", "JUSTID") == "*3\r\n$3\r\n0-0\r\n*1\r\n$3\r\n1-0\r\n*1\r\n$3\r\n3-0\r\n")
        #expect(h.stream.count == 4 && h.stream.first == ["MULTI"])
    }

    // MARK: - Blocking

    @Test func blockedXreadIsServedByXaddWithTheIDsItBlockedOn() throws {
        let h = try Harness()
        let a = try h.client(1), b = try h.client(2)
        h.run(b, "XADD", "s", "1", "old", "x")
        #expect(h.run(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "other", "$", "$") == "")
        #expect(a.flags.contains(.blocked))
        // A write that adds nothing keeps it blocked.
        h.run(b, "XDEL", "s", "1")
        #expect(a.flags.contains(.blocked))
        h.run(b, "XADD", "other", "5", "new", "y")
        #expect(h.take(a) == "*1\r\n*2\r\n$5\r\nother\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$3\r\nnew\r\n$1\r\ny\r\n")
        #expect(!a.flags.contains(.blocked))
        // RESP3 answers a map; a deleted key does not wake an XREAD.
        h.run(a, "HELLO", "3")
        h.run(a, "XREAD", "BLOCK", "0", "STREAMS", "other", "$")
        h.run(b, "DEL", "other")
        #expect(a.flags.contains(.blocked))
        h.run(b, "XADD", "other", "9", "k", "v")
        #expect(h.take(a) == "%1\r\n$5\r\nother\r\n*1\r\n*2\r\n$3\r\n9-0\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n")
    }

    @Test func blockedXreadgroupFailsWhenTheKeyOrGroupGoes() throws {
        let h = try Harness()
        let a = try h.client(1), b = try h.client(2)
        h.run(b, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        h.run(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
        h.run(b, "XGROUP", "DESTROY", "s", "g")
        #expect(h.take(a) == "-NOGROUP the consumer group this client was blocked on no longer exists\r\n")
        h.run(b, "XGROUP", "CREATE", "s", "g", "$")
        h.run(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
        h.run(b, "SET", "s", "now a string")
        #expect(h.take(a) == "-UNBLOCKED the stream key no longer exists\r\n")
        h.run(b, "DEL", "s")
        h.run(b, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        h.run(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
        h.run(b, "FLUSHALL")
        #expect(h.take(a) == "-UNBLOCKED the stream key no longer exists\r\n")
        #expect(h.server.blocking.blockedCount == 0)
    }

    @Test func blockedXreadgroupIsServedAndPropagatesItsClaim() throws {
        let h = try Harness()
        let a = try h.client(1), b = try h.client(2)
        h.run(b, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        h.run(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
        h.stream = []
        h.run(b, "XADD", "s", "7", "f", "v")
        #expect(h.take(a) == "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n")
        #expect(h.stream.count == 2)
        #expect(h.stream[0] == ["XADD", "s", "7", "f", "v"])
        #expect(Array(h.stream[1].prefix(6)) == ["XCLAIM", "s", "g", "alice", "0", "7-0"])
        #expect(h.run(b, "XPENDING", "s", "g").hasPrefix("*4\r\n:1\r\n"))
    }

    @Test func clientUnblockEndsAStreamWaitOrAWaitAsTimeoutOrError() throws {
        let h = try Harness()
        let a = try h.client(1), b = try h.client(2)
        h.run(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        #expect(h.run(b, "CLIENT", "UNBLOCK", "1") == ":1\r\n")
        #expect(h.take(a) == "*-1\r\n")
        #expect(h.run(b, "CLIENT", "UNBLOCK", "1") == ":0\r\n")
        h.run(b, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        h.run(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        #expect(h.run(b, "CLIENT", "UNBLOCK", "1", "ERROR") == ":1\r\n")
        #expect(h.take(a) == "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
        #expect(h.run(b, "CLIENT", "UNBLOCK", "1", "FOO") == "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n")
        #expect(h.run(b, "CLIENT", "UNBLOCK", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.run(b, "CLIENT", "UNBLOCK", "999") == ":0\r\n")
        #expect(h.server.blocking.blockedCount == 0)
        // A WAIT (the harness has a backlog, no replica) answers what was acknowledged: none.
        #expect(h.run(a, "WAIT", "1", "0") == "")
        #expect(a.flags.contains(.blocked))
        #expect(h.run(b, "CLIENT", "UNBLOCK", "1") == ":1\r\n")
        #expect(h.take(a) == ":0\r\n")
        #expect(!a.flags.contains(.blocked))
        #expect(h.run(a, "WAIT", "1", "0") == "")
        #expect(h.run(b, "CLIENT", "UNBLOCK", "1", "ERROR") == ":1\r\n")
        #expect(h.take(a) == "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
        #expect(h.run(b, "CLIENT", "UNBLOCK", "2") == ":0\r\n")
    }

    // MARK: - Digest, RDB and AOF forms

    @Test func debugDigestEqualsRedisServers() throws {
        let h = try Harness()
        let a = try h.client(1)
        // The same commands gave these digests on redis-server 7.0.15.
        for cmd in [["SET", "s1", "hello"], ["RPUSH", "l", "a", "b", "c"], ["SADD", "st", "x", "y", "1"], ["HSET", "h", "f", "v", "g", "2"],
                    ["ZADD", "z", "1.5", "a", "-2", "b"], ["XADD", "x", "1-1", "f", "v", "g", "2"], ["XADD", "x", "2-0", "f", "w"],
                    ["XADD", "x", "3", "other", "1"], ["XDEL", "x", "2-0"], ["EXPIRE", "s1", "100000"]] {
            a.argv = cmd.map { Bytes($0.utf8) }
            h.server.processCommand(a)
        }
        h.take(a)
        h.run(a, "SELECT", "3")
        h.run(a, "XADD", "y", "5", "a", "b")
        #expect(h.run(a, "DEBUG", "DIGEST-VALUE", "y") == "*1\r\n+f20e5e613d1c319a47344df27118aaf07d514a28\r\n")
        h.run(a, "SELECT", "0")
        #expect(h.run(a, "DEBUG", "DIGEST") == "+79c15783a6b84a5c98a563c2d9f810a9b6784281\r\n")
        #expect(h.run(a, "DEBUG", "DIGEST-VALUE", "x", "l", "nokey") == "*3\r\n+63bc15b8e75803b87b78ec9049ecd9df277d6801\r\n+8bf72d812571eea9b927f3c11beb0c4165a6ff89\r\n+0000000000000000000000000000000000000000\r\n")
    }

    /// A stream with tombstones, several nodes, groups, consumers with and without pending
    /// entries, and a NOACK reader.
    static func populate(_ h: Harness, _ a: Client) {
        h.run(a, "CONFIG", "SET", "stream-node-max-entries", "3")
        for i in 1...10 { h.run(a, "XADD", "s", "\(i)-\(i % 2)", "f", "\(i)", "g", i % 3 == 0 ? "other" : "same") }
        h.run(a, "XDEL", "s", "4-0", "9-1")
        h.run(a, "XGROUP", "CREATE", "s", "g1", "0")
        h.run(a, "XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "10")
        _ = h.run(a, "XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "s", ">")
        _ = h.run(a, "XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "s", ">")
        _ = h.run(a, "XREADGROUP", "GROUP", "g1", "carol", "NOACK", "COUNT", "2", "STREAMS", "s", ">")
        h.run(a, "XACK", "s", "g1", "2-0")
        h.run(a, "XGROUP", "CREATECONSUMER", "s", "g2", "dave")
        h.run(a, "XADD", "empty", "MAXLEN", "0", "5-5", "x", "y")
        h.run(a, "XGROUP", "CREATE", "empty", "lonely", "$")
    }

    /// XINFO STREAM FULL of every stream, seen-times aside (they change on load via commands).
    static func fullInfo(_ h: Harness, _ a: Client) -> [String] {
        ["s", "empty"].map { h.run(a, "XINFO", "STREAM", $0, "FULL") }
    }

    @Test func rdbFormReadsBackIdentically() throws {
        let h = try Harness()
        let a = try h.client(1)
        Self.populate(h, a)
        let before = Self.fullInfo(h, a)
        let digest = h.run(a, "DEBUG", "DIGEST")
        let image = try RDBWriter.snapshot(h.server.databases, options: RDBWriter.Options(), now: 0)
        var r = RDBReader(image)
        try h.server.apply(try r.read(now: nil))
        #expect(Self.fullInfo(h, a) == before)
        #expect(h.run(a, "DEBUG", "DIGEST") == digest)
    }

    /// Redis's own legacy payload (unit/type/stream-cgroups, "Loading from legacy ... persistence"):
    /// a Redis 5 DUMP of a stream with a tombstone, two groups and a trimmed PEL.
    static let legacyDump = "0f011000000000000000010000000000000000c3404a405716570000002300020104010101846461746105000103010020010381610204200a0001400a0062600a0002400a0063600a4022018164200a4039200a0065600a0005400a0066200a00ff02060002026731050004000000000000000100000000000000003ef783437a01000001000000000000000200000000000000003ef783437a01000001000000000000000400000000000000003ef783437a01000001000000000000000500000000000000003ef783437a0100000101036331313ef783437a01000004000000000000000100000000000000000000000000000002000000000000000000000000000000040000000000000000000000000000000500000000000000000267320000000009003d52ef6867521dfa"

    @Test func legacyStreamLayoutDerivesTheNewCounters() throws {
        var bytes: [UInt8] = []
        var chars = Array(Self.legacyDump.utf8)
        while chars.count >= 2 { bytes.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!); chars.removeFirst(2) }
        #expect(bytes[0] == RDB.typeStreamListpacks)
        // Payload: type byte, value, then the DUMP trailer (RDB version, CRC64).
        var r = RDBReader(Array(bytes[1..<(bytes.count - 10)]))
        let s = try r.stream(type: bytes[0], at: 0)
        #expect(r.pos == bytes.count - 11)
        #expect(s.length == 2)
        #expect(s.entriesAdded == 2)
        #expect(s.maxDeletedID == .zero)
        #expect(s.firstID == StreamID(5, 0))
        #expect(s.groups.map { $0.name.text } == ["g1", "g2"])
        #expect(s.groups[0].entriesRead == 1 && s.lag(of: s.groups[0]) == 1)
        #expect(s.groups[1].entriesRead == 0 && s.lag(of: s.groups[1]) == 2)
        // Every pending entry has its owner.
        #expect(s.groups[0].pel.count == 4 && s.groups[0].consumers.first?.pel.count == 4)
    }

    @Test func malformedStreamPayloadsAreRefused() throws {
        let h = try Harness()
        let a = try h.client(1)
        Self.populate(h, a)
        guard case .stream(let s)? = h.server.databases[0].raw(Key("s")) else { Issue.record("no stream"); return }
        var w = RDBWriter(options: RDBWriter.Options())
        w.writeStream(s)
        let good = w.buffer
        var r = RDBReader(good)
        _ = try r.stream(type: RDB.typeStreamListpacks2, at: 0)
        #expect(r.pos == good.count)
        // Every truncation fails cleanly.
        for cut in stride(from: 0, to: good.count, by: 7) {
            var t = RDBReader(Array(good[0..<cut]))
            #expect(throws: RDBError.self) { _ = try t.stream(type: RDB.typeStreamListpacks2, at: 0) }
        }
        // Random corruption is refused or yields a stream our commands can walk.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bad = good
            bad[Int.random(in: 0..<bad.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            var t = RDBReader(bad)
            guard let loaded = try? t.stream(type: RDB.typeStreamListpacks2, at: 0) else { continue }
            h.server.databases[1].set(Key("z"), .stream(loaded))
            h.run(a, "SELECT", "1")
            _ = h.run(a, "XINFO", "STREAM", "z", "FULL")
            _ = h.run(a, "XREVRANGE", "z", "+", "-")
            _ = h.run(a, "XAUTOCLAIM", "z", "g1", "c", "0", "0")
            h.run(a, "SELECT", "0")
        }
    }

    @Test func aofRewriteReplaysIntoTheSameStream() throws {
        let h = try Harness()
        let a = try h.client(1)
        Self.populate(h, a)
        let before = Self.fullInfo(h, a)
        var commands: [[Bytes]] = []
        guard case .stream(let s)? = h.server.databases[0].raw(Key("s")),
              case .stream(let e)? = h.server.databases[0].raw(Key("empty")) else { Issue.record("no stream"); return }
        try AOFBaseWriter.rewriteStream(Bytes("s".utf8), s) { commands.append($0) }
        try AOFBaseWriter.rewriteStream(Bytes("empty".utf8), e) { commands.append($0) }
        h.run(a, "FLUSHALL")
        h.server.loading = true  // as the AOF loader runs them: straight through call()
        for argv in commands {
            a.argv = argv
            h.server.call(a, try #require(h.server.commandTable[argv[0].text.lowercased()]))
            #expect(!h.take(a).hasPrefix("-"), "\(argv.map { $0.text })")
        }
        h.server.loading = false
        // Consumer seen-times are those of the replay, and the replay packs entries into fresh
        // nodes without the tombstones, as with Redis.
        func masked(_ s: [String]) -> [String] {
            s.map { $0.replacingSeenTimes() }
        }
        #expect(masked(Self.fullInfo(h, a)) == masked(before))
    }
}

private extension String {
    /// Replaces the values of replay-dependent fields (seen-time, node layout) with a placeholder.
    func replacingSeenTimes() -> String {
        var parts = self.components(separatedBy: "\r\n")
        let masked: Set<String> = ["seen-time", "radix-tree-keys", "radix-tree-nodes"]
        for i in parts.indices where masked.contains(parts[i]) && i + 1 < parts.count { parts[i + 1] = ":T" }
        return parts.joined(separator: "\r\n")
    }
}

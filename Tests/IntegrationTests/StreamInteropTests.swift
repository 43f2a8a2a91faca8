import Foundation
import Testing
import TestSupport
import Shared

/// Streams with groups, consumers and PELs between vigil-node and real redis-server: RDB files
/// both ways (DEBUG DIGEST equal, redis-check-rdb OK, XINFO STREAM FULL equal), replication of a
/// stream workload both ways, and AOF files both ways.
@Suite(.serialized) struct StreamInteropTests {
    static let base = ["--save", "", "--enable-debug-command", "yes", "--bind", "127.0.0.1"]

    /// A workload touching every stream write: generated and explicit IDs, approximate and exact
    /// trims, deletions, groups read with and without NOACK, acks, claims of live and deleted
    /// entries, consumer and group management, XSETID; `round` names the keys. (No history
    /// reads: Redis does not propagate their delivery counts, so replicas legitimately differ.)
    static func workload(_ c: TestClient, round: Int) throws {
        func run(_ args: [String]) throws {
            let r = try c.call(args)
            if case .error(let e) = r { throw TestClientError("\(args.joined(separator: " ")): \(e)") }
        }
        let k = "s\(round)"
        try run(["CONFIG", "SET", "stream-node-max-entries", "7"])
        for i in 0..<40 { try run(["XADD", k, "*", "item", "\(i)", "payload", String(repeating: "p", count: i % 9)]) }
        try run(["XADD", k, "MAXLEN", "~", "30", "*", "trimmed", "yes"])
        try run(["XADD", "\(k)-ids", "1-1", "a", "1"])
        try run(["XADD", "\(k)-ids", "1-*", "a", "2"])
        try run(["XADD", "\(k)-ids", "5", "b", "3"])
        try run(["XDEL", "\(k)-ids", "1-2"])
        try run(["XGROUP", "CREATE", k, "g1", "0"])
        try run(["XGROUP", "CREATE", k, "g2", "$"])
        try run(["XGROUP", "CREATE", "\(k)-mk", "g", "$", "MKSTREAM"])
        try run(["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", k, ">"])
        try run(["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "5", "STREAMS", k, ">"])
        try run(["XREADGROUP", "GROUP", "g1", "carol", "NOACK", "COUNT", "3", "STREAMS", k, ">"])
        let pending = try c.call("XPENDING", k, "g1", "-", "+", "20").elements ?? []
        let ids = pending.compactMap { $0.elements?.first?.string }
        if ids.count >= 6 {
            try run(["XACK", k, "g1", ids[0], ids[1]])
            try run(["XCLAIM", k, "g1", "dave", "0", ids[2], ids[3], "RETRYCOUNT", "4"])
            try run(["XDEL", k, ids[4]])
            try run(["XCLAIM", k, "g1", "erin", "0", ids[4], ids[5], "JUSTID"])
        }
        try run(["XAUTOCLAIM", k, "g1", "frank", "0", "0", "COUNT", "2"])
        try run(["XGROUP", "CREATECONSUMER", k, "g2", "idle"])
        try run(["XGROUP", "CREATECONSUMER", k, "g2", "gone"])
        try run(["XGROUP", "DELCONSUMER", k, "g2", "gone"])
        try run(["XGROUP", "SETID", k, "g2", "0", "ENTRIESREAD", "0"])
        try run(["XREADGROUP", "GROUP", "g2", "idle", "COUNT", "2", "STREAMS", k, ">"])
        try run(["XTRIM", k, "MINID", "~", "0"])
        try run(["XTRIM", "\(k)-ids", "MAXLEN", "=", "5"])
        try run(["XSETID", "\(k)-ids", "99-0", "ENTRIESADDED", "50", "MAXDELETEDID", "3-0"])
        try run(["XGROUP", "CREATE", k, "doomed", "0"])
        try run(["XGROUP", "DESTROY", k, "doomed"])
        try run(["XADD", "\(k)-empty", "MAXLEN", "0", "*", "x", "y"])
    }

    /// XINFO STREAM FULL of every stream key, and DEBUG DIGEST. Unless `exact`, consumer seen-times
    /// are masked (a replica or a replay sets its own). With `layout: false` also what a replay of
    /// commands cannot reproduce, on redis-server as on vigil-node: node counts (entries are
    /// packed into fresh nodes, per the replica's own stream-node-max-entries) and groups' read
    /// counters and lag (XCLAIM LASTID moves a group's last ID, not its entries-read).
    static func state(_ p: ServerProcess, exact: Bool, layout: Bool = true) throws -> [String] {
        let c = try p.client()
        let keys = (try c.call("KEYS", "s*").elements ?? []).compactMap { $0.string }.sorted()
        var out = try [c.call("DEBUG", "DIGEST").string ?? "?"]
        for k in keys {
            var w = RESPWriter()
            w.value(try c.call("XINFO", "STREAM", k, "FULL"))
            var text = String(decoding: w.bytes, as: UTF8.self)
            if !exact {
                var parts = text.components(separatedBy: "\r\n")
                let masked: Set<String> = layout ? ["seen-time"] : ["seen-time", "radix-tree-keys", "radix-tree-nodes", "entries-read", "lag"]
                for i in parts.indices where masked.contains(parts[i]) && i + 1 < parts.count { parts[i + 1] = ":T" }
                text = parts.joined(separator: "\r\n")
            }
            out.append(k + " " + text)
        }
        return out
    }

    // MARK: - RDB

    @Test func rdbFilesGoBothWaysWithGroupsAndPELs() throws {
        guard let redis = try ServerProcess.redisServer(args: Self.base + ["--appendonly", "no"]) else { return }
        defer { redis.stop() }
        try Self.workload(try redis.client(), round: 1)
        #expect(try redis.client().call("SAVE") == .simpleString("OK"))
        let expected = try Self.state(redis, exact: true)
        #expect(expected.count == 5)

        // redis-server's dump into vigil-node.
        let vdir = NSTemporaryDirectory() + "vigil-stream-rdb-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: vdir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: redis.dir + "/dump.rdb", toPath: vdir + "/dump.rdb")
        let vigil = try ServerProcess(binary: Binaries.vigilNode, args: Self.base, dir: vdir)
        defer { vigil.stop() }
        Self.expectSame(expected, try Self.state(vigil, exact: true), "vigil from redis-server's RDB")

        // vigil-node's own dump (after more writes) into redis-check-rdb and redis-server.
        try Self.workload(try vigil.client(), round: 2)
        #expect(try vigil.client().call("SAVE") == .simpleString("OK"))
        let mine = try Self.state(vigil, exact: true)
        if let check = Binaries.which("redis-check-rdb") {
            let (status, output) = try runProgram(check, [vdir + "/dump.rdb"])
            #expect(status == 0 && output.contains("RDB looks OK"), "\(output)")
        }
        let rdir = NSTemporaryDirectory() + "vigil-stream-rdb-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: rdir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: vdir + "/dump.rdb", toPath: rdir + "/dump.rdb")
        let back = Self.loaded(try ServerProcess(binary: try #require(Binaries.redisServer), args: Self.base + ["--appendonly", "no"], dir: rdir))
        defer { back.stop() }
        Self.expectSame(mine, try Self.state(back, exact: true), "redis-server from vigil's RDB")
    }

    // MARK: - DUMP / RESTORE

    /// Every stream key DUMPed by one server (groups, consumers, PELs, deleted entries, an empty
    /// stream, XSETID counters) RESTOREs on the other with XINFO STREAM FULL and DEBUG DIGEST
    /// unchanged, both ways.
    @Test func dumpPayloadsOfStreamsRestoreBothWays() throws {
        let vigil = try ServerProcess.vigilNode(args: Self.base)
        defer { vigil.stop() }
        guard let redis = try ServerProcess.redisServer(args: Self.base + ["--appendonly", "no"]) else { return }
        defer { redis.stop() }
        for (round, (from, to)) in [(redis, vigil), (vigil, redis)].enumerated() {
            let src = try from.client(), dst = try to.client()
            _ = try src.call("FLUSHALL")
            _ = try dst.call("FLUSHALL")
            try Self.workload(src, round: round)
            let keys = (try src.call("KEYS", "s*").elements ?? []).compactMap { $0.string }
            #expect(keys.count == 4)
            for k in keys {
                guard case .bulkString(let payload) = try src.call("DUMP", k) else { Issue.record("DUMP \(k) on \(from.binary)"); continue }
                let r = try dst.call(bytes: [Array("RESTORE".utf8), Array(k.utf8), Array("0".utf8), payload])
                #expect(r == .simpleString("OK"), "RESTORE \(k) from \(from.binary): \(r)")
            }
            Self.expectSame(try Self.state(from, exact: true), try Self.state(to, exact: true), "RESTORE on \(to.binary) of \(from.binary)'s DUMP")
        }
    }

    // MARK: - Replication

    /// The workload before the sync (RDB half) and after it (the command stream), then the
    /// replica must show the master's streams, groups and PELs.
    private func replicate(master: ServerProcess, replica: ServerProcess) throws {
        try Self.workload(try master.client(), round: 1)
        #expect(try replica.client().call("REPLICAOF", "127.0.0.1", String(master.port)) == .simpleString("OK"))
        #expect(waitUntil(timeout: 20) { Repl.linkUp(replica) })
        try Self.workload(try master.client(), round: 2)
        // A blocked XREADGROUP served by an XADD propagates as XCLAIM too.
        _ = try master.client().call("XGROUP", "CREATE", "s2", "blk", "$")
        let waiter = try master.client()
        try waiter.send(["XREADGROUP", "GROUP", "blk", "late", "BLOCK", "0", "STREAMS", "s2", ">"])
        #expect(waitUntil { (try? Repl.info(master, "clients")["blocked_clients"]) == "1" })
        _ = try master.client().call("XADD", "s2", "*", "wake", "up")
        #expect(try waiter.read().elements?.count == 1)
        #expect(waitUntil(timeout: 20) { Repl.inSync(master, [replica]) })
        // Node layout follows each side's stream-node-max-entries; what the approximate trims
        // removed must still be the same, since they propagate as exact ones.
        let want = try Self.state(master, exact: false, layout: false)
        #expect(want.count == 9)
        _ = waitUntil(timeout: 10) { (try? Self.state(replica, exact: false, layout: false)) == want }
        Self.expectSame(want, try Self.state(replica, exact: false, layout: false), "replica")
    }

    /// Records where two states first differ.
    static func expectSame(_ a: [String], _ b: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) keys", sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) where x != y {
            let i = zip(x, y).prefix { $0 == $1 }.count
            func show(_ s: String) -> String { String(s.dropFirst(max(0, i - 80)).prefix(240)).replacingOccurrences(of: "\r\n", with: " ") }
            Issue.record("\(what) differs at byte \(i) of \(x.prefix(8)): want …\(show(x)) | got …\(show(y))", sourceLocation: sourceLocation)
        }
    }

    /// A server that finished loading its data (redis-server answers -LOADING until then).
    static func loaded(_ p: ServerProcess) -> ServerProcess {
        _ = waitUntil(timeout: 20) { (try? Repl.info(p, "persistence")["loading"]) == "0" }
        return p
    }

    @Test func vigilReplicaOfRedisMasterFollowsStreams() throws {
        guard let master = try ServerProcess.redisServer(args: Self.base + ["--appendonly", "no", "--repl-diskless-sync-delay", "0"]) else { return }
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: Self.base)
        defer { replica.stop() }
        try replicate(master: master, replica: replica)
    }

    @Test func redisReplicaOfVigilMasterFollowsStreams() throws {
        let master = try ServerProcess.vigilNode(args: Self.base)
        defer { master.stop() }
        guard let replica = try ServerProcess.redisServer(args: Self.base + ["--appendonly", "no"]) else { return }
        defer { replica.stop() }
        try replicate(master: master, replica: replica)
    }

    // MARK: - AOF

    @Test func aofFilesGoBothWaysAndDebugLoadaofRestoresStreams() throws {
        for preamble in ["no", "yes"] {
            let vigil = try ServerProcess.vigilNode(args: Self.base + ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble])
            defer { vigil.stop() }
            let c = try vigil.client()
            try Self.workload(c, round: 1)
            #expect(try c.call("BGREWRITEAOF").string?.contains("rewriting") == true)
            #expect(waitUntil(timeout: 20) { (try? Repl.info(vigil, "persistence")["aof_rewrite_in_progress"]) == "0" })
            try Self.workload(c, round: 2)
            let want = try Self.state(vigil, exact: false, layout: false)
            #expect(try c.call("DEBUG", "LOADAOF") == .simpleString("OK"))
            Self.expectSame(want, try Self.state(vigil, exact: false, layout: false), "DEBUG LOADAOF, preamble \(preamble)")
            // redis-server loads vigil-node's AOF...
            let rdir = NSTemporaryDirectory() + "vigil-stream-aof-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: rdir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: vigil.dir + "/appendonlydir", toPath: rdir + "/appendonlydir")
            let redis = Self.loaded(try ServerProcess(binary: try #require(Binaries.redisServer), args: Self.base + ["--appendonly", "yes"], dir: rdir))
            defer { redis.stop() }
            Self.expectSame(want, try Self.state(redis, exact: false, layout: false), "redis-server from vigil's AOF, preamble \(preamble)")
            // ...and vigil-node loads redis-server's, after more writes there.
            try Self.workload(try redis.client(), round: 3)
            let more = try Self.state(redis, exact: false, layout: false)
            redis.stop()
            let vdir = NSTemporaryDirectory() + "vigil-stream-aof-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: vdir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: rdir + "/appendonlydir", toPath: vdir + "/appendonlydir")
            let again = Self.loaded(try ServerProcess(binary: Binaries.vigilNode, args: Self.base + ["--appendonly", "yes"], dir: vdir))
            defer { again.stop() }
            Self.expectSame(more, try Self.state(again, exact: false, layout: false), "vigil from redis-server's AOF, preamble \(preamble)")
        }
    }
}

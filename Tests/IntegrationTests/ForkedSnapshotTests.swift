import Testing
import Foundation
import TestSupport
import Shared

/// Snapshots made by a forked child (BGSAVE, disk-based and diskless full sync) while the master
/// keeps serving, the child's end as INFO and the log report it, and lazy freeing; the
/// reporting checks run against redis-server too, so both must behave alike.
/// `rdb-key-save-delay` (µs per key written) makes the child slow enough to watch.
@Suite(.serialized) struct ForkedSnapshotTests {
    private static let binaries: [String] = ["vigil", "redis"]

    private func start(_ kind: String, _ args: [String] = []) throws -> ServerProcess? {
        let base = ["--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"] + args
        if kind == "vigil" { return try ServerProcess.vigilNode(args: base) }
        return try ServerProcess.redisServer(args: base)
    }

    /// `n` string keys `k:<i>` → `v:<i>`, in MSET batches.
    private func fill(_ c: TestClient, _ n: Int, prefix: String = "k") throws {
        var i = 0
        while i < n {
            var args = ["MSET"]
            for j in i..<min(n, i + 500) { args += ["\(prefix):\(j)", "v:\(j)"] }
            #expect(try c.call(args) == .simpleString("OK"))
            i += 500
        }
    }

    /// The pid in the last "<prefix> <pid>" line of the log.
    private func childPid(_ p: ServerProcess, after prefix: String) -> Int32? {
        guard let line = p.log().components(separatedBy: "\n").last(where: { $0.contains(prefix) }),
              let r = line.range(of: prefix) else { return nil }
        return Int32(line[r.upperBound...].trimmingCharacters(in: .whitespaces))
    }

    // MARK: - BGSAVE

    @Test(arguments: binaries) func bgsaveChildWritesWhileTheServerAnswers(kind: String) throws {
        guard let s = try start(kind) else { return }
        defer { s.stop() }
        let c = try s.client(timeoutMillis: 5000)
        try fill(c, 2000)
        // 2000 keys × 400 µs: the child writes for about 0.8 s.
        #expect(try c.call("CONFIG", "SET", "rdb-key-save-delay", "400") == .simpleString("OK"))
        let saves = Int(try Repl.info(s, "persistence")["rdb_saves"] ?? "") ?? -1
        #expect(try c.call("BGSAVE") == .simpleString("Background saving started"))
        var answeredDuringSave = 0
        // Generous bound, not a performance figure: a stalled loop would not answer at all.
        let fast = try s.client(timeoutMillis: 2000)
        while (try Repl.info(s, "persistence")["rdb_bgsave_in_progress"]) == "1" {
            #expect(try fast.call("PING") == .simpleString("PONG"))
            #expect(try fast.call("SET", "during", String(answeredDuringSave)) == .simpleString("OK"))
            answeredDuringSave += 1
        }
        #expect(answeredDuringSave > 0)
        let info = try Repl.info(s, "persistence")
        #expect(info["rdb_last_bgsave_status"] == "ok")
        #expect(Int(info["rdb_saves"] ?? "") == saves + 1)
        #expect((Int(try Repl.info(s, "stats")["latest_fork_usec"] ?? "") ?? 0) > 0)
        #expect(s.log().contains("Background saving terminated with success"))
    }

    @Test(arguments: binaries) func aKilledChildIsReportedAsAFailedSave(kind: String) throws {
        guard let s = try start(kind) else { return }
        defer { s.stop() }
        let c = try s.client()
        try fill(c, 200)
        // 200 keys × 50 ms: the child would take 10 s; it is killed long before.
        #expect(try c.call("CONFIG", "SET", "rdb-key-save-delay", "50000") == .simpleString("OK"))
        #expect(try c.call("BGSAVE") == .simpleString("Background saving started"))
        var pid: Int32? = nil
        #expect(waitUntil { pid = childPid(s, after: "Background saving started by pid"); return pid != nil })
        guard let pid else { return }
        #expect(try Repl.info(s, "persistence")["rdb_bgsave_in_progress"] == "1")
        kill(pid, SIGKILL)
        #expect(waitUntil { try Repl.info(s, "persistence")["rdb_bgsave_in_progress"] == "0" })
        #expect(try Repl.info(s, "persistence")["rdb_last_bgsave_status"] == "err")
        #expect(waitUntil { s.log().contains("Background saving terminated by signal 9") })
        #expect(!FileManager.default.fileExists(atPath: s.dir + "/temp-\(pid).rdb"))
        // The next save succeeds and clears the error.
        #expect(try c.call("CONFIG", "SET", "rdb-key-save-delay", "0") == .simpleString("OK"))
        #expect(try c.call("BGSAVE") == .simpleString("Background saving started"))
        #expect(waitUntil { try Repl.info(s, "persistence")["rdb_last_bgsave_status"] == "ok" })
    }

    // MARK: - Full sync

    /// The master forks for the sync (INFO shows the child), answers and takes writes while the
    /// child writes, and the replica ends with the snapshot plus every write made meanwhile.
    @Test(arguments: [false, true]) func fullSyncSnapshotIsForked(diskless: Bool) throws {
        guard let master = try start("vigil", ["--repl-diskless-sync", diskless ? "yes" : "no"]) else { return }
        defer { master.stop() }
        let m = try master.client(timeoutMillis: 2000)
        try fill(m, 2000)
        #expect(try m.call("CONFIG", "SET", "rdb-key-save-delay", "400") == .simpleString("OK"))
        guard let replica = try start("vigil") else { return }
        defer { replica.stop() }
        #expect(try replica.client().call("REPLICAOF", "127.0.0.1", String(master.port)) == .simpleString("OK"))
        #expect(waitUntil { try Repl.info(master, "persistence")["rdb_bgsave_in_progress"] == "1" })
        var written = 0
        while (try Repl.info(master, "persistence")["rdb_bgsave_in_progress"]) == "1" {
            #expect(try m.call("PING") == .simpleString("PONG"))
            #expect(try m.call("SET", "during:\(written)", "x\(written)") == .simpleString("OK"))
            written += 1
        }
        #expect(written > 0)
        #expect(waitUntil(timeout: 20) { Repl.linkUp(replica) && Repl.inSync(master, [replica]) })
        let r = try replica.client()
        #expect(try r.call("DBSIZE") == .integer(Int64(2000 + written)))
        #expect(try r.call("GET", "k:1999") == .bulkString(Bytes("v:1999".utf8)))
        #expect(try r.call("GET", "during:\(written - 1)") == .bulkString(Bytes("x\(written - 1)".utf8)))
        let log = master.log()
        #expect(log.contains(diskless ? "Background RDB transfer started by pid" : "Background saving started by pid"))
        #expect(log.contains("Synchronization with replica 127.0.0.1:\(replica.port) succeeded"))
        // Writes after the sync keep flowing.
        #expect(try m.call("SET", "after", "1") == .simpleString("OK"))
        #expect(waitUntil { try r.call("GET", "after") == .bulkString(Bytes("1".utf8)) })
    }

    /// A second replica asking while a disk snapshot runs for the first joins it.
    @Test func secondReplicaJoinsTheRunningDiskSnapshot() throws {
        guard let master = try start("vigil", ["--repl-diskless-sync", "no"]) else { return }
        defer { master.stop() }
        let m = try master.client()
        try fill(m, 2000)
        // About 2 s of child: the second replica's handshake fits well inside it.
        #expect(try m.call("CONFIG", "SET", "rdb-key-save-delay", "1000") == .simpleString("OK"))
        guard let r1 = try start("vigil"), let r2 = try start("vigil") else { return }
        defer { r1.stop(); r2.stop() }
        #expect(try r1.client().call("REPLICAOF", "127.0.0.1", String(master.port)) == .simpleString("OK"))
        #expect(waitUntil { try Repl.info(master, "persistence")["rdb_bgsave_in_progress"] == "1" })
        #expect(try m.call("SET", "between", "1") == .simpleString("OK"))
        #expect(try r2.client().call("REPLICAOF", "127.0.0.1", String(master.port)) == .simpleString("OK"))
        #expect(waitUntil(timeout: 20) { Repl.linkUp(r1) && Repl.linkUp(r2) && Repl.inSync(master, [r1, r2]) })
        #expect(master.log().contains("Waiting for end of BGSAVE for SYNC"))
        // One fork served both.
        #expect(master.log().components(separatedBy: "Background saving started by pid").count == 2)
        for r in [r1, r2] {
            #expect(try r.client().call("DBSIZE") == .integer(2001))
            #expect(try r.client().call("GET", "between") == .bulkString(Bytes("1".utf8)))
        }
    }

    // MARK: - Lazy free

    @Test(arguments: binaries) func flushallAsyncAndUnlinkFreeInTheBackground(kind: String) throws {
        guard let s = try start(kind) else { return }
        defer { s.stop() }
        let c = try s.client()
        try fill(c, 5000)
        var fields = ["HSET", "big"]
        for i in 0..<1000 { fields += ["f\(i)", "v\(i)"] }
        _ = try c.call(fields)
        _ = try c.call("SET", "small", "1")
        func freed() throws -> Int { Int(try Repl.info(s, "memory")["lazyfreed_objects"] ?? "") ?? -1 }
        #expect(try freed() == 0)
        // A big value goes to the thread (one object); a small one is freed at once.
        #expect(try c.call("UNLINK", "big", "small", "missing") == .integer(2))
        #expect(waitUntil { try freed() == 1 })
        #expect(try c.call("FLUSHALL", "ASYNC") == .simpleString("OK"))
        #expect(try c.call("DBSIZE") == .integer(0))
        #expect(waitUntil { try freed() == 5001 })
        #expect(try Repl.info(s, "memory")["lazyfree_pending_objects"] == "0")
        // lazyfree-lazy-user-flush makes a plain FLUSHDB asynchronous; SYNC overrides it.
        try fill(c, 100)
        #expect(try c.call("CONFIG", "SET", "lazyfree-lazy-user-flush", "yes") == .simpleString("OK"))
        #expect(try c.call("FLUSHDB") == .simpleString("OK"))
        #expect(waitUntil { try freed() == 5101 })
        try fill(c, 100)
        #expect(try c.call("FLUSHDB", "SYNC") == .simpleString("OK"))
        #expect(try freed() == 5101)
        #expect(try c.call("DBSIZE") == .integer(0))
    }
}

import Testing
import Foundation
import TestSupport
import Shared

/// Which resync a returning replica gets: a restarted replica continues from its RDB's history
/// (partial), one that missed more than the backlog holds loads a new snapshot (full); and full
/// syncs lose nothing while the master keeps taking writes.
@Suite(.serialized) struct ReplicationResyncTests {
    private func bulk(_ s: String) -> RESPValue { .bulkString(Array(s.utf8)) }

    /// Saves the replica's RDB (with repl-id/repl-offset/repl-stream-db) and kills it hard.
    private func saveAndKill(_ replica: ServerProcess) throws {
        #expect(try replica.client().call("SAVE") == .simpleString("OK"))
        replica.signal(SIGKILL)
        replica.process.wait()
    }

    /// Restarts `replica` from its RDB after `whileDown` ran on the master, and returns it with
    /// the master's (sync_full, sync_partial_ok) growth.
    private func restartCase(master: ServerProcess, replica: ServerProcess, whileDown: () throws -> Void) throws -> (ServerProcess, full: Int, partial: Int) {
        #expect(waitUntil { Repl.inSync(master, [replica]) })
        try saveAndKill(replica)
        let full = try Repl.stat(master, "sync_full"), partial = try Repl.stat(master, "sync_partial_ok")
        try whileDown()
        let again = try replica.restart()
        #expect(waitUntil { Repl.linkUp(again) })
        #expect(waitUntil { Repl.inSync(master, [again]) })
        return (again, try Repl.stat(master, "sync_full") - full, try Repl.stat(master, "sync_partial_ok") - partial)
    }

    /// Writes in db 2 before the restart and after it: the continued stream carries no new
    /// SELECT, so the replica must remember the stream's db (repl-stream-db).
    private func writeInDB2(_ master: ServerProcess, _ key: String) throws {
        let c = try master.client()
        _ = try c.call("SELECT", "2")
        #expect(try c.call("SET", key, "v") == .simpleString("OK"))
    }

    private func existsInDB2(_ p: ServerProcess, _ key: String) throws -> Bool {
        let c = try p.client()
        _ = try c.call("SELECT", "2")
        return try c.call("EXISTS", key) == .integer(1)
    }

    /// Writes in db 2 before, during and after the replica's restart; the master must see one
    /// partial resync and no full one, and the replica must end with every write. Returns the
    /// restarted replica (stopped by the caller).
    private func expectPartialResume(master: ServerProcess, replica: ServerProcess) throws -> ServerProcess {
        #expect(waitUntil { Repl.linkUp(replica) })
        try writeInDB2(master, "before")
        let (again, full, partial) = try restartCase(master: master, replica: replica) {
            try writeInDB2(master, "while-down")
        }
        #expect(full == 0)
        #expect(partial == 1)
        try writeInDB2(master, "after")
        #expect(waitUntil { try existsInDB2(again, "after") })
        #expect(try existsInDB2(again, "while-down"))
        return again
    }

    @Test func restartedVigilReplicaResumesPartiallyFromItsRDB() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        let again = try expectPartialResume(master: master, replica: replica)
        defer { again.stop() }
        #expect(try existsInDB2(again, "before"))
        #expect(try again.client().call("EXISTS", "after", "while-down") == .integer(0))
        #expect(again.log().contains("Successful partial resynchronization with master."))
    }

    @Test func restartedVigilReplicaOfRedisResumesPartially() throws {
        guard let master = try ServerProcess.redisServer(args: ["--save", "", "--repl-diskless-sync-delay", "0"]) else { return }
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        let again = try expectPartialResume(master: master, replica: replica)
        defer { again.stop() }
    }

    @Test func restartedRedisReplicaOfVigilResumesPartially() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        guard let replica = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)]) else { return }
        defer { replica.stop() }
        let again = try expectPartialResume(master: master, replica: replica)
        defer { again.stop() }
    }

    @Test func aLinkDownLongerThanTheBacklogForcesAFullResync() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", "", "--repl-backlog-size", "16kb"])
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        #expect(waitUntil { Repl.linkUp(replica) })
        _ = try master.client().call("SET", "first", "1")
        #expect(try Repl.info(master, "replication")["repl_backlog_size"] == "16384")
        let value = String(repeating: "v", count: 1000)
        let (again, full, partial) = try restartCase(master: master, replica: replica) {
            let c = try master.client()
            for i in 0..<40 { _ = try c.call("SET", "k\(i)", value) }   // 40 KB > 16 KB of backlog
        }
        defer { again.stop() }
        #expect(full == 1)
        #expect(partial == 0)
        #expect(master.log().contains("for lack of backlog"))
        #expect(try again.client().call("GET", "k39") == bulk(value))
        #expect(try again.client().call("GET", "first") == bulk("1"))
    }

    @Test func aBlockedLinkLongerThanTheBacklogForcesAFullResync() throws {
        // The replica process freezes (SIGSTOP): the master times the link out, keeps writing,
        // and the replica that wakes up asks for an offset the backlog no longer holds.
        let master = try ServerProcess.vigilNode(args: ["--save", "", "--repl-backlog-size", "16kb", "--repl-timeout", "2"])
        defer { master.stop() }
        guard let replica = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)]) else { return }
        defer { replica.stop() }
        #expect(waitUntil { Repl.linkUp(replica) })
        _ = try master.client().call("SET", "first", "1")
        #expect(waitUntil { Repl.inSync(master, [replica]) })
        let full = try Repl.stat(master, "sync_full")
        replica.signal(SIGSTOP)
        #expect(waitUntil(timeout: 15) { try Repl.info(master, "replication")["connected_slaves"] == "0" })
        let c = try master.client()
        let value = String(repeating: "w", count: 1000)
        for i in 0..<40 { _ = try c.call("SET", "k\(i)", value) }
        replica.signal(SIGCONT)
        #expect(waitUntil(timeout: 15) { try Repl.stat(master, "sync_full") == full + 1 })
        #expect(waitUntil { Repl.inSync(master, [replica]) })
        #expect(try replica.client().call("GET", "k39") == bulk(value))
    }

    // MARK: - Full sync under load

    /// Starts the sync (REPLICAOF) and keeps writing until well after the link is up; returns
    /// how many writes went out.
    private func writeDuringSync(master: ServerProcess, replica: ServerProcess) throws -> Int {
        let c = try master.client()
        var writes = 0
        var batchesAfterUp = 0
        #expect(try replica.client().call("REPLICAOF", "127.0.0.1", String(master.port)) == .simpleString("OK"))
        let deadline = Date().addingTimeInterval(30)
        while batchesAfterUp < 20 && Date() < deadline {
            var batch = Bytes()
            for i in 0..<200 {
                let n = writes + i
                batch += RESPWriter.command(["INCR", "counter"])
                batch += RESPWriter.command(["SET", "w:\(n)", String(n)])
                batch += RESPWriter.command(["RPUSH", "log", String(n)])
            }
            try c.sendRaw(batch)
            for _ in 0..<600 { if try c.read().isError { throw TestClientError("write failed") } }
            writes += 200
            if Repl.linkUp(replica) { batchesAfterUp += 1 }
        }
        return writes
    }

    private func preload(_ master: ServerProcess, keys: Int) throws {
        let c = try master.client()
        var batch = Bytes()
        for i in 0..<keys { batch += RESPWriter.command(["SET", "pre:\(i)", String(repeating: "p", count: 100)]) }
        try c.sendRaw(batch)
        for _ in 0..<keys { _ = try c.read() }
    }

    private func checkNothingLost(master: ServerProcess, replica: ServerProcess, writes: Int) throws {
        #expect(waitUntil(timeout: 30) { Repl.inSync(master, [replica]) })
        let r = try replica.client(), m = try master.client()
        #expect(try r.call("DBSIZE") == m.call("DBSIZE"))
        #expect(try r.call("GET", "counter") == bulk(String(writes)))
        #expect(try r.call("LLEN", "log") == .integer(Int64(writes)))
        #expect(try r.call("LRANGE", "log", "0", "-1") == m.call("LRANGE", "log", "0", "-1"))
        #expect(try r.call("GET", "w:\(writes - 1)") == bulk(String(writes - 1)))
        #expect(try Repl.snapshot(replica, dbs: 1) == Repl.snapshot(master, dbs: 1))
    }

    @Test func fullSyncUnderWritesLosesNothingVigilToVigil() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        try preload(master, keys: 5000)
        let replica = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { replica.stop() }
        let writes = try writeDuringSync(master: master, replica: replica)
        try checkNothingLost(master: master, replica: replica, writes: writes)
    }

    @Test func fullSyncUnderWritesLosesNothingVigilToRedis() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        try preload(master, keys: 5000)
        guard let replica = try ServerProcess.redisServer(args: ["--save", ""]) else { return }
        defer { replica.stop() }
        let writes = try writeDuringSync(master: master, replica: replica)
        try checkNothingLost(master: master, replica: replica, writes: writes)
    }

    @Test func fullSyncUnderWritesLosesNothingRedisToVigil() throws {
        // Redis forks a BGSAVE and buffers the writes that arrive meanwhile: they follow the
        // payload on the same socket.
        guard let master = try ServerProcess.redisServer(args: ["--save", "", "--repl-diskless-sync-delay", "0"]) else { return }
        defer { master.stop() }
        try preload(master, keys: 5000)
        let replica = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { replica.stop() }
        let writes = try writeDuringSync(master: master, replica: replica)
        try checkNothingLost(master: master, replica: replica, writes: writes)
    }

    @Test func aTenMegabyteValueReplicates() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        var big = Bytes(repeating: 0, count: 10 << 20)
        for i in 0..<big.count { big[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        let m = try master.client()
        #expect(try m.call(bytes: [Array("SET".utf8), Array("inrdb".utf8), big]) == .simpleString("OK"))
        let replica = try ServerProcess.vigilNode(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        guard let rreplica = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)]) else { return }
        defer { rreplica.stop() }
        #expect(waitUntil(timeout: 30) { Repl.linkUp(replica) && Repl.linkUp(rreplica) })
        big.reverse()
        #expect(try m.call(bytes: [Array("SET".utf8), Array("instream".utf8), big]) == .simpleString("OK"))
        #expect(waitUntil(timeout: 30) { Repl.inSync(master, [replica, rreplica]) })
        for r in [replica, rreplica] {
            let c = try r.client(timeoutMillis: 20000)
            #expect(try c.call("GET", "instream") == .bulkString(big))
            big.reverse()
            #expect(try c.call("GET", "inrdb") == .bulkString(big))
            big.reverse()
        }
    }
}

extension ReplicationResyncTests {
    @Test func aTenMegabyteValueFromRedisReachesAVigilReplica() throws {
        guard let master = try ServerProcess.redisServer(args: ["--save", "", "--repl-diskless-sync-delay", "0"]) else { return }
        defer { master.stop() }
        let big = Bytes((0..<(10 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 40503 >> 5) })
        let m = try master.client(timeoutMillis: 20000)
        #expect(try m.call(bytes: [Array("SET".utf8), Array("inrdb".utf8), big]) == .simpleString("OK"))
        let replica = try ServerProcess.vigilNode(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        #expect(waitUntil(timeout: 30) { Repl.linkUp(replica) })
        #expect(try m.call(bytes: [Array("APPEND".utf8), Array("inrdb".utf8), big]) == .integer(Int64(2 * big.count)))
        #expect(waitUntil(timeout: 30) { Repl.inSync(master, [replica]) })
        let got = try replica.client(timeoutMillis: 20000).call("GET", "inrdb")
        #expect(got == .bulkString(big + big))
    }
}

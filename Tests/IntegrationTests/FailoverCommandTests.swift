import Testing
import Foundation
import TestSupport
import Shared

/// FAILOVER on the master (Redis 6.2/7.0): writes are held, the target catches up, takes over with
/// PSYNC FAILOVER, and no acknowledged write is lost, with vigil-node and real redis-server on
/// either side. Error texts are compared with redis-server's own.
@Suite(.serialized) struct FailoverCommandTests {
    private func state(_ p: ServerProcess) -> String? { try? Repl.info(p, "replication")["master_failover_state"] }
    private func role(_ p: ServerProcess) -> String? { try? Repl.info(p, "replication")["role"] }

    /// Starts replication, pipelines writes while FAILOVER TO the replica is issued, and checks
    /// that every acknowledged write is on the new master and the roles swapped with a partial
    /// resync (no full sync) on the target.
    private func handover(master: ServerProcess, replica: ServerProcess) throws {
        _ = try replica.client().call("REPLICAOF", "127.0.0.1", String(master.port))
        #expect(waitUntil { Repl.linkUp(replica) })
        let writer = try master.client(timeoutMillis: 10000)
        for i in 0..<200 { #expect(try writer.call("SET", "pre:\(i)", "\(i)") == .simpleString("OK")) }
        #expect(waitUntil { Repl.inSync(master, [replica]) })
        let fullBefore = try Repl.stat(replica, "sync_full")
        // A burst in flight while FAILOVER lands: part of it runs before the pause (acknowledged,
        // so it must survive), the rest is held and then refused with -READONLY.
        var burst: Bytes = []
        let n = 3000
        for i in 0..<n { burst += RESPWriter.command(["SET", "k:\(i)", "\(i)"]) }
        try writer.sendRaw(burst)
        let admin = try master.client()
        #expect(try admin.call("FAILOVER", "TO", "127.0.0.1", String(replica.port), "TIMEOUT", "5000") == .simpleString("OK"))
        #expect(waitUntil { role(replica) == "master" && state(master) == "no-failover" })
        var acked: [Int] = []
        var readonly = 0
        for i in 0..<n {
            switch try writer.read() {
            case .simpleString("OK"): acked.append(i)
            case .error(let e) where e.hasPrefix("READONLY"): readonly += 1
            case let other: Issue.record("SET k:\(i) answered \(other)")
            }
        }
        #expect(acked.count + readonly == n)
        #expect(role(master) == "slave")
        #expect(waitUntil { Repl.linkUp(master) })
        #expect(try Repl.stat(replica, "sync_full") == fullBefore)
        // Every acknowledged write is on the new master.
        let newMaster = try replica.client()
        var lost = 0
        for chunk in stride(from: 0, to: acked.count, by: 500) {
            let ids = Array(acked[chunk..<min(acked.count, chunk + 500)])
            let got = try newMaster.call(["MGET"] + ids.map { "k:\($0)" }).elements ?? []
            for (j, v) in got.enumerated() where v.string != String(ids[j]) { lost += 1 }
        }
        #expect(lost == 0)
        #expect(try newMaster.call("DBSIZE") == .integer(Int64(200 + acked.count)))
        // The old master follows: a write on the new one reaches it.
        #expect(try newMaster.call("SET", "after", "1") == .simpleString("OK"))
        #expect(waitUntil { (try? master.client().call("GET", "after")) == .bulkString(Bytes("1".utf8)) })
    }

    @Test func vigilMasterHandsOverToRedisReplica() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        guard let replica = try ServerProcess.redisServer(args: ["--save", ""]) else { return }
        defer { replica.stop() }
        try handover(master: master, replica: replica)
        #expect(master.log().contains("is synced, failing over."))
    }

    @Test func redisMasterHandsOverToVigilReplica() throws {
        guard let master = try ServerProcess.redisServer(args: ["--save", "", "--repl-diskless-sync-delay", "0"]) else { return }
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { replica.stop() }
        try handover(master: master, replica: replica)
        #expect(replica.log().contains("MASTER MODE enabled (failover request from"))
    }

    @Test func vigilMasterHandsOverToVigilReplica() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { replica.stop() }
        try handover(master: master, replica: replica)
    }

    /// The refusals, word for word as redis-server answers them.
    @Test func errorsMatchRedis() throws {
        guard let ref = try ServerProcess.redisServer(args: ["--save", "", "--repl-diskless-sync-delay", "0"]) else { return }
        defer { ref.stop() }
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let cases: [[String]] = [
            ["FAILOVER", "ABORT"],
            ["FAILOVER"],
            ["FAILOVER", "TO", "127.0.0.1", "1"],
            ["FAILOVER", "TO", "127.0.0.1", "nan"],
            ["FAILOVER", "TIMEOUT", "0"],
            ["FAILOVER", "TIMEOUT", "x"],
            ["FAILOVER", "FORCE", "FORCE"],
            ["FAILOVER", "BOGUS"],
            ["FAILOVER", "TO", "h"],
            ["PSYNC", "?", "-1", "FAILOVER"],
        ]
        for argv in cases {
            let want = try ref.client().call(argv)
            let got = try node.client().call(argv)
            #expect(got == want, "\(argv)")
        }
        // With a replica: FORCE needs a target and a timeout; the target must be a replica.
        let rr = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(ref.port)])!
        defer { rr.stop() }
        let vr = try ServerProcess.vigilNode(args: ["--save", "", "--replicaof", "127.0.0.1", String(node.port)])
        defer { vr.stop() }
        #expect(waitUntil { Repl.linkUp(rr) && Repl.linkUp(vr) })
        for argv in [["FAILOVER", "FORCE", "TIMEOUT", "100"], ["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"],
                     ["FAILOVER", "TO", "127.0.0.1", "1"]] {
            #expect(try node.client().call(argv) == ref.client().call(argv), "\(argv)")
        }
        // On a replica.
        #expect(try vr.client().call("FAILOVER") == rr.client().call("FAILOVER"))
    }

    /// A target that never catches up: TIMEOUT aborts (writes resume, we stay master); ABORT ends
    /// a waiting failover at once; REPLICAOF is refused meanwhile.
    @Test func timeoutAndAbortLeaveTheMasterServing() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        #expect(waitUntil { Repl.linkUp(replica) })
        let c = try master.client()
        replica.signal(SIGSTOP)
        defer { replica.signal(SIGCONT) }
        #expect(try c.call("SET", "x", "1") == .simpleString("OK"))
        #expect(try c.call("FAILOVER", "TO", "127.0.0.1", String(replica.port), "TIMEOUT", "300") == .simpleString("OK"))
        #expect(state(master) == "waiting-for-sync")
        #expect(try c.call("FAILOVER") == .error("ERR FAILOVER already in progress."))
        #expect(try c.call("REPLICAOF", "NO", "ONE") == .error("ERR REPLICAOF not allowed while failing over."))
        #expect(try c.call("GET", "x") == .bulkString(Bytes("1".utf8)))
        #expect(waitUntil { state(master) == "no-failover" })
        #expect(master.log().contains("aborted: Replica never caught up before timeout"))
        #expect(try c.call("SET", "x", "2") == .simpleString("OK"))
        #expect(try c.call("FAILOVER", "TO", "127.0.0.1", String(replica.port)) == .simpleString("OK"))
        // A held write while waiting; ABORT lets it run here.
        let w = try master.client()
        try w.send(["SET", "x", "3"])
        #expect(try c.call("FAILOVER", "ABORT") == .simpleString("OK"))
        #expect(try w.read() == .simpleString("OK"))
        #expect(state(master) == "no-failover" && role(master) == "master")
    }
}

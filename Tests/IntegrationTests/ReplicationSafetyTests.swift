import Testing
import Foundation
import TestSupport
import Shared

/// What replication promises writers: min-replicas-to-write refusals, stale-data refusals on a
/// replica without a master, WAIT counting only acknowledgements of the caller's own writes, and
/// a shutdown that lets lagging replicas catch up first.
@Suite(.serialized) struct ReplicationSafetyTests {
    private let noReplicas = RESPValue.error("NOREPLICAS Not enough good replicas to write.")

    private func replicaOf(_ master: ServerProcess, _ extra: [String] = []) throws -> ServerProcess {
        try ServerProcess.vigilNode(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)] + extra)
    }

    @Test func minReplicasToWriteRefusesWritesWithoutEnoughGoodReplicas() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", "", "--min-replicas-to-write", "2", "--min-replicas-max-lag", "2"])
        defer { master.stop() }
        let m = try master.client()
        #expect(try m.call("SET", "k", "v") == noReplicas)
        let r1 = try replicaOf(master)
        defer { r1.stop() }
        guard let r2 = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)]) else { return }
        defer { r2.stop() }
        #expect(waitUntil { try Repl.info(master, "replication")["min_slaves_good_slaves"] == "2" })
        #expect(try m.call("SET", "k", "v") == .simpleString("OK"))
        #expect(try m.call("GET", "k") == .bulkString(Array("v".utf8)))   // reads are never refused
        // A frozen replica stops acknowledging: after max-lag it no longer counts.
        r2.signal(SIGSTOP)
        #expect(waitUntil(timeout: 15) { try m.call("SET", "k", "v2") == self.noReplicas })
        #expect(try Repl.info(master, "replication")["min_slaves_good_slaves"] == "1")
        #expect(try m.call("GET", "k").isError == false)
        r2.signal(SIGCONT)
        #expect(waitUntil(timeout: 15) { try m.call("SET", "k", "v3") == .simpleString("OK") })
        #expect(try Repl.info(master, "replication")["min_slaves_good_slaves"] == "2")
        // A killed replica: refused again; CONFIG SET lowers the bar.
        r1.stop()
        #expect(waitUntil(timeout: 15) { try m.call("SET", "k", "v4") == self.noReplicas })
        #expect(try m.call("CONFIG", "SET", "min-replicas-to-write", "1") == .simpleString("OK"))
        #expect(try m.call("SET", "k", "v5") == .simpleString("OK"))
        #expect(waitUntil { try r2.client().call("GET", "k") == .bulkString(Array("v5".utf8)) })
    }

    @Test func replicaServeStaleDataNoRefusesWhileTheLinkIsDown() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        _ = try master.client().call("SET", "k", "v")
        let replica = try replicaOf(master, ["--replica-serve-stale-data", "no"])
        defer { replica.stop() }
        #expect(waitUntil { Repl.linkUp(replica) })
        let c = try replica.client()
        #expect(waitUntil { try c.call("GET", "k") == .bulkString(Array("v".utf8)) })
        master.stop()
        let masterDown = RESPValue.error("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
        #expect(waitUntil { try c.call("GET", "k") == masterDown })
        // Commands flagged stale still work (INFO, ECHO, REPLICAOF); PING is not one of them in
        // Redis 7.0 (redis-server answers it MASTERDOWN too, which Sentinel accepts).
        #expect(try c.call("PING") == masterDown)
        #expect(try c.call("ECHO", "hi") == .bulkString(Array("hi".utf8)))
        #expect(try c.call("INFO", "replication").string?.contains("master_link_status:down") == true)
        let back = try master.restart()
        defer { back.stop() }
        _ = try back.client().call("SET", "k", "again")
        #expect(waitUntil { try c.call("GET", "k") == .bulkString(Array("again".utf8)) })
    }

    @Test func waitCountsAcksOfTheClientsOwnLastWrite() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        let r1 = try replicaOf(master)
        defer { r1.stop() }
        let r2 = try replicaOf(master)
        defer { r2.stop() }
        #expect(waitUntil { Repl.linkUp(r1) && Repl.linkUp(r2) })
        let a = try master.client(), b = try master.client()
        #expect(try a.call("SET", "a", "1") == .simpleString("OK"))
        #expect(try a.call("WAIT", "2", "5000") == .integer(2))
        r2.signal(SIGSTOP)
        defer { r2.signal(SIGCONT) }
        // B writes after A: r2 (frozen) never acknowledges B's write...
        #expect(try b.call("SET", "b", "1") == .simpleString("OK"))
        #expect(try b.call("WAIT", "2", "300") == .integer(1))
        // ...but it did acknowledge A's, which is all A's WAIT is about.
        #expect(try a.call("WAIT", "2", "5000") == .integer(2))
        // A client that never wrote waits for nothing.
        #expect(try master.client().call("WAIT", "2", "5000") == .integer(2))
    }

    // MARK: - Shutdown

    /// A master with one replica frozen behind it (it misses the last write).
    private func laggingSetup(_ masterArgs: [String] = []) throws -> (ServerProcess, ServerProcess) {
        let master = try ServerProcess.vigilNode(args: ["--save", ""] + masterArgs)
        let replica = try replicaOf(master)
        #expect(waitUntil { Repl.linkUp(replica) })
        _ = try master.client().call("SET", "first", "1")
        #expect(waitUntil { Repl.inSync(master, [replica]) })
        replica.signal(SIGSTOP)
        _ = try master.client().call("SET", "last", "write")
        return (master, replica)
    }

    @Test func shutdownWaitsForALaggingReplicaThenExits() throws {
        let (master, replica) = try laggingSetup()
        defer { master.stop(); replica.signal(SIGCONT); replica.stop() }
        let s = try master.client()
        try s.send(["SHUTDOWN"])
        #expect(waitUntil { master.log().contains("Waiting for replicas before shutting down.") })
        // The loop keeps running while it waits.
        #expect(try master.client().call("PING") == .simpleString("PONG"))
        // A write arriving meanwhile is held, never acknowledged: the replicas have all we answered.
        let writer = try master.client()
        try writer.send(["SET", "unacknowledged", "1"])
        replica.signal(SIGCONT)
        #expect(master.waitExit(timeout: 9) == 0)
        #expect((try? writer.read()) == nil)
        #expect(master.log().contains("1 of 1 replicas are in sync when shutting down."))
        #expect(try replica.client().call("GET", "last") == .bulkString(Array("write".utf8)))
    }

    @Test func shutdownAbortCancelsTheWait() throws {
        let (master, replica) = try laggingSetup()
        defer { master.stop(); replica.signal(SIGCONT); replica.stop() }
        let s = try master.client()
        try s.send(["SHUTDOWN"])
        #expect(waitUntil { master.log().contains("Waiting for replicas before shutting down.") })
        // Writers are held while the shutdown waits (reads are served).
        let writer = try master.client()
        try writer.send(["SET", "held", "1"])
        try writer.send(["GET", "held"])
        let other = try master.client()
        #expect(try other.call("GET", "last") == .bulkString(Array("write".utf8)))
        #expect(try other.call("EXISTS", "held") == .integer(0))
        #expect(try other.call("SHUTDOWN", "ABORT") == .simpleString("OK"))
        #expect(try s.read() == .error("ERR Errors trying to SHUTDOWN. Check logs."))
        // Aborted: the held write runs, then what the writer pipelined behind it.
        #expect(try writer.read() == .simpleString("OK"))
        #expect(try writer.read() == .bulkString(Array("1".utf8)))
        #expect(try other.call("SHUTDOWN", "ABORT") == .error("ERR No shutdown in progress."))
        replica.signal(SIGCONT)
        #expect(waitUntil { Repl.inSync(master, [replica]) })
        // Nothing pending any more: the master stays up.
        #expect(master.isRunning)
        #expect(try s.call("PING") == .simpleString("PONG"))
    }

    @Test func shutdownNowSkipsTheWait() throws {
        let (master, replica) = try laggingSetup(["--shutdown-timeout", "600"])
        defer { master.stop(); replica.signal(SIGCONT); replica.stop() }
        try master.client().send(["SHUTDOWN", "NOW"])
        #expect(master.waitExit(timeout: 20) == 0)
        #expect(!master.log().contains("Waiting for replicas"))
        #expect(master.log().contains("0 of 1 replicas are in sync when shutting down."))
    }

    @Test func sigtermWaitsAtMostShutdownTimeout() throws {
        let (master, replica) = try laggingSetup(["--shutdown-timeout", "1"])
        defer { master.stop(); replica.signal(SIGCONT); replica.stop() }
        master.signal(SIGTERM)
        #expect(waitUntil { master.log().contains("Waiting for replicas before shutting down.") })
        #expect(master.waitExit(timeout: 20) == 0)
        let log = master.log()
        #expect(log.contains("Lagging replica 127.0.0.1:\(replica.port) reported offset"))
        #expect(log.contains("0 of 1 replicas are in sync when shutting down."))
    }

    @Test func shutdownWithoutLaggingReplicasExitsAtOnce() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", "", "--shutdown-timeout", "600"])
        defer { master.stop() }
        let replica = try replicaOf(master)
        defer { replica.stop() }
        _ = try master.client().call("SET", "k", "v")
        // The master knows the replica caught up once its next ACK arrived.
        #expect(waitUntil { try (Repl.info(master, "replication")["slave0"] ?? "").contains("offset=\(try Repl.offset(master)),") })
        try master.client().send(["SHUTDOWN"])
        #expect(master.waitExit(timeout: 20) == 0)
        #expect(!master.log().contains("Waiting for replicas"))
    }
}

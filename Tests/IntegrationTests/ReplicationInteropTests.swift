import Testing
import Foundation
import TestSupport
import Shared

/// Every data type through both halves of a sync (the RDB payload and the live stream), with
/// real redis-server on the other side, in both directions.
@Suite(.serialized) struct ReplicationInteropTests {
    /// Data before the sync, the sync, data after it; the replica must equal the master.
    private func allTypesBothHalves(master: ServerProcess, replica: ServerProcess) throws {
        let m = try master.client()
        try Repl.writeAllTypes(m, prefix: "rdb:")
        #expect(try replica.client().call("REPLICAOF", "127.0.0.1", String(master.port)) == .simpleString("OK"))
        #expect(waitUntil { Repl.linkUp(replica) })
        try Repl.writeAllTypes(m, prefix: "stream:")
        // Overwrites and deletions of keys that came with the payload.
        _ = try m.call("LPUSH", "rdb:list", "new-head")
        _ = try m.call("HSET", "rdb:bighash", "field1", "changed")
        _ = try m.call("ZADD", "rdb:bigzset", "1000", "m1")
        _ = try m.call("SREM", "rdb:intset", "2")
        _ = try m.call("PERSIST", "rdb:ttl-ex")
        _ = try m.call("DEL", "rdb:set")
        _ = try m.call("EXPIRE", "rdb:str", "777")
        #expect(waitUntil { Repl.inSync(master, [replica]) })
        let expected = try Repl.snapshot(master)
        #expect(expected.count >= 36)
        #expect(expected["0:rdb:ttl-ex"]?.hasSuffix(" -1") == true)
        #expect(expected["0:rdb:str"]?.hasSuffix(" ttl") == true)
        #expect(waitUntil { try Repl.snapshot(replica) == Repl.snapshot(master) })
        let got = try Repl.snapshot(replica)
        for (k, v) in expected where got[k] != v { Issue.record("\(k): master \(v.prefix(80)) replica \(got[k]?.prefix(80) ?? "missing")") }
    }

    @Test func redisReplicaOfVigilMasterGetsEveryType() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        guard let replica = try ServerProcess.redisServer(args: ["--save", ""]) else { return }
        defer { replica.stop() }
        try allTypesBothHalves(master: master, replica: replica)
    }

    @Test func vigilReplicaOfRedisMasterGetsEveryType() throws {
        guard let master = try ServerProcess.redisServer(args: ["--save", "", "--repl-diskless-sync-delay", "0"]) else { return }
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { replica.stop() }
        try allTypesBothHalves(master: master, replica: replica)
    }

    @Test func vigilReplicaOfDiskBasedRedisMasterGetsEveryType() throws {
        // `$<len>` framing instead of `$EOF:`.
        guard let master = try ServerProcess.redisServer(args: ["--save", "", "--repl-diskless-sync", "no"]) else { return }
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { replica.stop() }
        try allTypesBothHalves(master: master, replica: replica)
    }

    @Test func vigilReplicaOfVigilMasterWithDiskFramingGetsEveryType() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", "", "--repl-diskless-sync", "no"])
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { replica.stop() }
        try allTypesBothHalves(master: master, replica: replica)
    }
}

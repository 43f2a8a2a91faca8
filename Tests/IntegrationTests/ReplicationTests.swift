import Testing
import Foundation
import TestSupport
import Shared

/// Replication between vigil-node and real redis-server processes, both directions, on loopback.
@Suite(.serialized) struct ReplicationTests {

    // MARK: - Helpers

    private func redisMaster() throws -> ServerProcess? {
        // No diskless delay: the sync starts at once.
        try ServerProcess.redisServer(args: ["--save", "", "--repl-diskless-sync-delay", "0"])
    }

    private func info(_ p: ServerProcess, _ section: String) throws -> [String: String] {
        let v = try p.client().call("INFO", section)
        var out: [String: String] = [:]
        for line in (v.string ?? "").split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            out[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return out
    }

    private func offset(_ p: ServerProcess) throws -> Int64 {
        Int64(try info(p, "replication")["master_repl_offset"] ?? "") ?? -1
    }

    private func linkUp(_ p: ServerProcess) -> Bool {
        (try? info(p, "replication")["master_link_status"]) == "up"
    }

    private func get(_ p: ServerProcess, _ key: String, db: Int = 0) throws -> RESPValue {
        let c = try p.client()
        if db != 0 { _ = try c.call("SELECT", String(db)) }
        return try c.call("GET", key)
    }

    private func stat(_ p: ServerProcess, _ name: String) throws -> Int {
        Int(try info(p, "stats")[name] ?? "") ?? -1
    }

    // MARK: - Tests

    @Test func vigilReplicatesFromRedisMaster() throws {
        guard let master = try redisMaster() else { return }
        defer { master.stop() }
        let m = try master.client()
        #expect(try m.call("SET", "before", "sync") == .simpleString("OK"))
        _ = try m.call("SET", "big", String(repeating: "x", count: 5000))  // LZF-compressed in the RDB
        let replica = try ServerProcess.vigilNode(args: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        #expect(waitUntil { self.linkUp(replica) })
        #expect(try get(replica, "before") == .bulkString(Array("sync".utf8)))
        #expect(try get(replica, "big").string?.count == 5000)
        // The live stream, including a SELECT of another db.
        _ = try m.call("INCR", "counter")
        _ = try m.call("SELECT", "3")
        _ = try m.call("SET", "in3", "yes")
        #expect(waitUntil { try self.offset(replica) == self.offset(master) })
        #expect(try get(replica, "counter") == .bulkString(Array("1".utf8)))
        #expect(try get(replica, "in3", db: 3) == .bulkString(Array("yes".utf8)))
        // ROLE reports the link as Redis does.
        let role = try replica.client().call("ROLE").elements ?? []
        #expect(role.first?.string == "slave")
        #expect(role.count == 5 && role[3].string == "connected")
        // Writes from normal clients are refused with Redis's exact text.
        #expect(try replica.client().call("SET", "k", "v") == .error("READONLY You can't write against a read only replica."))
        // The master sees an online replica that acknowledges the stream.
        #expect(waitUntil { (try self.info(master, "replication")["slave0"] ?? "").contains("state=online,offset=\(try self.offset(master))") })
    }

    @Test func redisReplicatesFromVigilMaster() throws {
        let master = try ServerProcess.vigilNode()
        defer { master.stop() }
        let m = try master.client()
        #expect(try m.call("SET", "a", "1") == .simpleString("OK"))
        guard let replica = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)]) else { return }
        defer { replica.stop() }
        #expect(waitUntil { self.linkUp(replica) })
        #expect(try get(replica, "a") == .bulkString(Array("1".utf8)))
        _ = try m.call("INCR", "a")
        _ = try m.call("SELECT", "5")
        _ = try m.call("SET", "five", "5")
        #expect(waitUntil { try self.offset(replica) == self.offset(master) && self.offset(master) > 0 })
        #expect(try get(replica, "a") == .bulkString(Array("2".utf8)))
        #expect(try get(replica, "five", db: 5) == .bulkString(Array("5".utf8)))
        let inf = try info(master, "replication")
        #expect(inf["role"] == "master")
        #expect(inf["connected_slaves"] == "1")
        #expect(waitUntil { (try self.info(master, "replication")["slave0"] ?? "").hasPrefix("ip=127.0.0.1,port=\(replica.port),state=online,offset=\(try self.offset(master)),lag=") })
        let role = try master.client().call("ROLE").elements ?? []
        #expect(role.first?.string == "master")
        #expect(role.count == 3 && (role[2].elements?.count ?? 0) == 1)
    }

    @Test func authenticatedLinksBothWays() throws {
        // vigil replica of a password-protected redis master (disk-based `$<len>` payload).
        guard let rmaster = try ServerProcess.redisServer(args: ["--save", "", "--requirepass", "s3cret", "--repl-diskless-sync", "no"], password: "s3cret") else { return }
        defer { rmaster.stop() }
        let rm = try rmaster.client()
        _ = try rm.call("AUTH", "s3cret")
        _ = try rm.call("SET", "secret", "data")
        let vreplica = try ServerProcess.vigilNode(args: ["--replicaof", "127.0.0.1", String(rmaster.port), "--masterauth", "s3cret"])
        defer { vreplica.stop() }
        #expect(waitUntil { self.linkUp(vreplica) })
        #expect(try get(vreplica, "secret") == .bulkString(Array("data".utf8)))

        // redis replica of a password-protected vigil master.
        let vmaster = try ServerProcess.vigilNode(args: ["--requirepass", "pw2"], password: "pw2")
        defer { vmaster.stop() }
        let vm = try vmaster.client()
        _ = try vm.call("AUTH", "pw2")
        _ = try vm.call("SET", "guarded", "1")
        guard let rreplica = try ServerProcess.redisServer(args: ["--save", "", "--masterauth", "pw2", "--replicaof", "127.0.0.1", String(vmaster.port)]) else { return }
        defer { rreplica.stop() }
        #expect(waitUntil { self.linkUp(rreplica) })
        #expect(try get(rreplica, "guarded") == .bulkString(Array("1".utf8)))
    }

    @Test func droppedLinksResumeWithPartialResync() throws {
        // vigil replica of a redis master: the master kills the replica's link.
        guard let rmaster = try redisMaster() else { return }
        defer { rmaster.stop() }
        let vreplica = try ServerProcess.vigilNode(args: ["--replicaof", "127.0.0.1", String(rmaster.port)])
        defer { vreplica.stop() }
        #expect(waitUntil { self.linkUp(vreplica) })
        let fullBefore = try stat(rmaster, "sync_full")
        let partialBefore = try stat(rmaster, "sync_partial_ok")
        _ = try rmaster.client().call("CLIENT", "KILL", "TYPE", "replica")
        _ = try rmaster.client().call("SET", "while", "away")
        #expect(waitUntil { try self.stat(rmaster, "sync_partial_ok") == partialBefore + 1 })
        #expect(try stat(rmaster, "sync_full") == fullBefore)
        #expect(waitUntil { try self.get(vreplica, "while") == .bulkString(Array("away".utf8)) })
        #expect(waitUntil { try self.offset(vreplica) == self.offset(rmaster) })

        // redis replica of a vigil master: the replica kills its master link.
        let vmaster = try ServerProcess.vigilNode()
        defer { vmaster.stop() }
        _ = try vmaster.client().call("SET", "x", "1")
        guard let rreplica = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(vmaster.port)]) else { return }
        defer { rreplica.stop() }
        #expect(waitUntil { self.linkUp(rreplica) })
        #expect(try stat(vmaster, "sync_full") == 1)
        _ = try rreplica.client().call("CLIENT", "KILL", "TYPE", "master")
        _ = try vmaster.client().call("SET", "y", "2")
        #expect(waitUntil { try self.stat(vmaster, "sync_partial_ok") == 1 })
        #expect(try stat(vmaster, "sync_full") == 1)
        #expect(waitUntil { try self.get(rreplica, "y") == .bulkString(Array("2".utf8)) })
        #expect(waitUntil { try self.offset(rreplica) == self.offset(vmaster) })
    }

    @Test func promotedReplicaLetsAFormerSiblingContinuePartially() throws {
        guard let master = try redisMaster() else { return }
        defer { master.stop() }
        _ = try master.client().call("SET", "k", "v1")
        let promoted = try ServerProcess.vigilNode(args: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { promoted.stop() }
        guard let sibling = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)]) else { return }
        defer { sibling.stop() }
        #expect(waitUntil { self.linkUp(promoted) && self.linkUp(sibling) })
        _ = try master.client().call("SET", "k", "v2")
        #expect(waitUntil { try self.offset(promoted) == self.offset(master) && self.offset(sibling) == self.offset(master) })
        let oldID = try info(master, "replication")["master_replid"]
        master.stop()

        #expect(try promoted.client().call("REPLICAOF", "NO", "ONE") == .simpleString("OK"))
        let p = try info(promoted, "replication")
        #expect(p["role"] == "master")
        #expect(p["master_replid2"] == oldID)
        #expect(p["second_repl_offset"] == String(try offset(promoted) + 1))
        #expect(try promoted.client().call("SET", "after", "promotion") == .simpleString("OK"))

        #expect(try sibling.client().call("REPLICAOF", "127.0.0.1", String(promoted.port)) == .simpleString("OK"))
        #expect(waitUntil { try self.stat(promoted, "sync_partial_ok") == 1 })
        #expect(try stat(promoted, "sync_full") == 0)
        #expect(waitUntil { try self.get(sibling, "after") == .bulkString(Array("promotion".utf8)) })
        #expect(try get(sibling, "k") == .bulkString(Array("v2".utf8)))
        #expect(waitUntil { try self.info(sibling, "replication")["master_replid"] == p["master_replid"] })
    }

    @Test func waitCountsAcknowledgingReplicas() throws {
        let master = try ServerProcess.vigilNode()
        defer { master.stop() }
        guard let r1 = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(master.port)]) else { return }
        defer { r1.stop() }
        let r2 = try ServerProcess.vigilNode(args: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { r2.stop() }
        #expect(waitUntil { self.linkUp(r1) && self.linkUp(r2) })
        let c = try master.client()
        _ = try c.call("SET", "w", "1")
        #expect(try c.call("WAIT", "2", "5000") == .integer(2))
        // More replicas than exist: WAIT times out with the number that acknowledged.
        _ = try c.call("SET", "w", "2")
        #expect(try c.call("WAIT", "3", "300") == .integer(2))
        #expect(try r2.client().call("WAIT", "1", "10").isError)
    }

    @Test func chainedReplicaPassesTheStreamOn() throws {
        guard let top = try redisMaster() else { return }
        defer { top.stop() }
        let middle = try ServerProcess.vigilNode(args: ["--replicaof", "127.0.0.1", String(top.port)])
        defer { middle.stop() }
        #expect(waitUntil { self.linkUp(middle) })
        guard let leaf = try ServerProcess.redisServer(args: ["--save", "", "--replicaof", "127.0.0.1", String(middle.port)]) else { return }
        defer { leaf.stop() }
        #expect(waitUntil { self.linkUp(leaf) })
        _ = try top.client().call("SET", "chain", "ok")
        #expect(waitUntil { try self.get(leaf, "chain") == .bulkString(Array("ok".utf8)) })
        #expect(waitUntil { try self.offset(leaf) == self.offset(top) })
        #expect(try info(leaf, "replication")["master_replid"] == info(top, "replication")["master_replid"])
    }
}

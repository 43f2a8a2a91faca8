import Foundation
import Testing
import TestSupport
import Shared

/// The data commands of issue 16 against real redis-server, in both directions: HyperLogLogs
/// (sparse and dense, cached cardinality included), bitmaps, GEO sets, SORT/GEO STORE results and
/// RESTOREd keys cross RDB files, AOF directories, replication (both halves of a sync) and
/// DUMP/RESTORE/MIGRATE, and arrive byte for byte identical.
@Suite(.serialized) struct DataTypesInteropTests {
    static let base = ["--save", "", "--bind", "127.0.0.1"]

    // MARK: - Dataset

    /// Writes keys of every new kind through `c`, all named `<prefix>...`, with the commands
    /// whose replication form differs from what the client sent (GEOADD, GEOSEARCHSTORE,
    /// GEORADIUS STORE, SORT STORE, RESTORE with a relative TTL, PFCOUNT's cache update).
    static func write(_ c: TestClient, prefix p: String) throws {
        func ok(_ args: [Bytes]) throws {
            let r = try c.call(bytes: args)
            if r.isError { throw TestClientError("\(String(decoding: args[0], as: UTF8.self)) failed: \(r)") }
        }
        func ok(_ args: [String]) throws { try ok(args.map { Array($0.utf8) }) }
        try ok(["SETBIT", "\(p)bits", "1000", "1"])
        try ok(["SETBIT", "\(p)bits", "7", "1"])
        try ok(["BITFIELD", "\(p)bits", "SET", "u8", "#3", "200", "INCRBY", "i5", "100", "7", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"])
        try ok(["SET", "\(p)text", "foobar"])
        try ok(["BITOP", "XOR", "\(p)bitop", "\(p)bits", "\(p)text"])
        try ok(["PFADD", "\(p)hll"] + (0..<40).map { "e\($0)" })
        try ok(["PFCOUNT", "\(p)hll"])
        try ok(["PFADD", "\(p)hlldense"] + (0..<2500).map { "d\($0)" })
        try ok(["PFMERGE", "\(p)hllmerged", "\(p)hll", "\(p)hlldense"])
        try ok(["PFCOUNT", "\(p)hllmerged"])
        try ok(["PFADD", "\(p)hllstale", "x", "y"])
        try ok(["GEOADD", "\(p)geo", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania",
                "2.352222", "48.856613", "Paris", "-0.127758", "51.507351", "London"])
        try ok(["GEOADD", "\(p)geo", "CH", "XX", "2.35", "48.85", "Paris"])
        try ok(["GEOSEARCHSTORE", "\(p)geostore", "\(p)geo", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "ASC", "STOREDIST"])
        try ok(["GEORADIUS", "\(p)geo", "0", "50", "1000", "km", "COUNT", "2", "STORE", "\(p)georadius"])
        try ok(["RPUSH", "\(p)list", "3", "1", "2", "10"])
        for i in 0..<5 { try ok(["SET", "\(p)w_\(i)", "\(10 - i)"]) }
        try ok(["RPUSH", "\(p)ids", "0", "1", "2", "3", "4"])
        try ok(["SORT", "\(p)list", "STORE", "\(p)sorted"])
        try ok(["SORT", "\(p)ids", "BY", "\(p)w_*", "GET", "#", "GET", "\(p)w_*", "STORE", "\(p)sortedby"])
        guard case .bulkString(let payload) = try c.call("DUMP", "\(p)geo") else { throw TestClientError("DUMP failed") }
        try ok([Array("RESTORE".utf8), Array("\(p)restored".utf8), Array("500000".utf8), payload])
        try ok([Array("RESTORE".utf8), Array("\(p)restoredabs".utf8), Array("4102444800000".utf8), payload, Array("ABSTTL".utf8)])
    }

    /// Every key of db 0 as "key → type, exact value, has-TTL": strings as hex (HLLs and
    /// bitmaps are binary), aggregates in their natural order (sets sorted).
    static func contents(_ s: ServerProcess, password: String? = nil) throws -> [String: String] {
        guard waitUntil(timeout: 20, { try Repl.client(s, password: password).call("PING") == .simpleString("PONG") }) else {
            throw TestClientError("server on \(s.port) is not serving")
        }
        let c = try Repl.client(s, password: password)
        _ = try c.call("SELECT", "0")
        var out: [String: String] = [:]
        for k in (try c.call("KEYS", "*").elements ?? []).compactMap({ $0.string }) {
            let type = try c.call("TYPE", k).string ?? "?"
            func texts(_ v: RESPValue) -> [String] { (v.elements ?? []).compactMap { $0.string } }
            var value: String
            switch type {
            case "string":
                guard case .bulkString(let b) = try c.call("GET", k) else { value = "?"; break }
                value = b.map { String(format: "%02x", $0) }.joined()
            case "list": value = texts(try c.call("LRANGE", k, "0", "-1")).joined(separator: ",")
            case "set": value = texts(try c.call("SMEMBERS", k)).sorted().joined(separator: ",")
            case "zset": value = texts(try c.call("ZRANGE", k, "0", "-1", "WITHSCORES")).joined(separator: ",")
            case "hash":
                let f = texts(try c.call("HGETALL", k))
                value = stride(from: 0, to: f.count - 1, by: 2).map { f[$0] + "=" + f[$0 + 1] }.sorted().joined(separator: ",")
            default: value = "?"
            }
            let ttl = try c.call("PTTL", k).int ?? -2
            out[k] = "\(type) \(value) \(ttl > 0 ? "ttl" : String(ttl))"
        }
        return out
    }

    /// The written dataset is complete and holds the values the commands must produce, so two
    /// empty snapshots cannot pass a comparison.
    static func checkDataset(_ d: [String: String], prefix p: String) {
        #expect(d.count == 21, "keys: \(d.keys.sorted())")
        #expect(d["\(p)hll"]?.hasPrefix("string 48594c4c01") == true)      // "HYLL", sparse
        #expect(d["\(p)hlldense"]?.hasPrefix("string 48594c4c00") == true) // dense
        #expect(d["\(p)geostore"]?.hasPrefix("zset Catania,") == true)
        #expect(d["\(p)sorted"] == "list 1,2,3,10 -1")
        #expect(d["\(p)sortedby"] == "list 4,6,3,7,2,8,1,9,0,10 -1")
        #expect(d["\(p)restored"]?.hasSuffix(" ttl") == true)
        #expect(d["\(p)restored"]?.contains("London,") == true)
    }

    // MARK: - RDB

    /// Both ways through SAVE: redis-server's file loads into vigil-node, vigil-node's into
    /// redis-server, with identical contents.
    @Test func rdbFilesCrossBothWays() throws {
        guard let redis = try ServerProcess.redisServer(args: Self.base) else { return }
        defer { redis.stop() }
        try Self.write(try redis.client(), prefix: "r:")
        #expect(try redis.client().call("SAVE") == .simpleString("OK"))
        let expected = try Self.contents(redis)
        Self.checkDataset(expected, prefix: "r:")

        let vdir = NSTemporaryDirectory() + "vigil-dt-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: vdir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: redis.dir + "/dump.rdb", toPath: vdir + "/dump.rdb")
        let node = try ServerProcess(binary: Binaries.vigilNode, args: Self.base, dir: vdir)
        defer { node.stop() }
        #expect(try Self.contents(node) == expected)

        try Self.write(try node.client(), prefix: "v:")
        #expect(try node.client().call("SAVE") == .simpleString("OK"))
        let both = try Self.contents(node)
        Self.checkDataset(both.filter { $0.key.hasPrefix("v:") }, prefix: "v:")
        redis.stop()
        try FileManager.default.removeItem(atPath: redis.dir + "/dump.rdb")
        try FileManager.default.copyItem(atPath: vdir + "/dump.rdb", toPath: redis.dir + "/dump.rdb")
        let again = try redis.restart()
        defer { again.stop() }
        #expect(try Self.contents(again) == both)
    }

    // MARK: - AOF

    /// The commands' logged forms replay on the other server: vigil's AOF (GEOSEARCHSTORE as
    /// DEL + ZADD, RESTORE with ABSTTL...) loads into redis-server and redis-server's (the
    /// commands as sent) into vigil-node.
    @Test func aofDirectoriesCrossBothWays() throws {
        guard Binaries.redisServer != nil else { return }
        let aof = Self.base + ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"]
        for writer in ["vigil", "redis"] {
            let source = writer == "vigil" ? try ServerProcess.vigilNode(args: aof) : try ServerProcess.redisServer(args: aof)!
            try Self.write(try source.client(), prefix: "\(writer):")
            let expected = try Self.contents(source)
            Self.checkDataset(expected, prefix: "\(writer):")
            source.stop()
            let dir = NSTemporaryDirectory() + "vigil-dt-aof-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: source.dir + "/appendonlydir", toPath: dir + "/appendonlydir")
            let loader = try ServerProcess(binary: writer == "vigil" ? Binaries.redisServer! : Binaries.vigilNode, args: aof, dir: dir)
            defer { loader.stop() }
            #expect(try Self.contents(loader) == expected, "AOF written by \(writer)")
        }
    }

    // MARK: - Replication

    /// Data written before the sync (the RDB payload) and after it (the stream) is identical on
    /// the replica, for a vigil master with a redis-server replica and the other way round.
    @Test(arguments: ["vigil-master", "redis-master"]) func replicationBothHalves(_ setup: String) throws {
        guard Binaries.redisServer != nil else { return }
        let vigil = try ServerProcess.vigilNode(args: Self.base)
        defer { vigil.stop() }
        guard let redis = try ServerProcess.redisServer(args: Self.base + ["--repl-diskless-sync-delay", "0"]) else { return }
        defer { redis.stop() }
        let (master, replica) = setup == "vigil-master" ? (vigil, redis) : (redis, vigil)
        try Self.write(try master.client(), prefix: "rdb:")
        #expect(try replica.client().call("REPLICAOF", "127.0.0.1", String(master.port)) == .simpleString("OK"))
        #expect(waitUntil { Repl.linkUp(replica) })
        try Self.write(try master.client(), prefix: "stream:")
        // The cached cardinality of an HLL read once more changes its bytes on both sides.
        _ = try master.client().call("PFCOUNT", "rdb:hllstale")
        #expect(waitUntil { Repl.inSync(master, [replica]) })
        let expected = try Self.contents(master)
        #expect(expected.count == 42)
        #expect(waitUntil { try Self.contents(replica) == expected })
        let got = try Self.contents(replica)
        for (k, v) in expected where got[k] != v { Issue.record("\(k): master \(v.prefix(90)) replica \(got[k]?.prefix(90) ?? "missing")") }
    }

    /// SPUBLISH on a master reaches SSUBSCRIBE subscribers of its replica, with vigil-node and
    /// redis-server on either side; plain SUBSCRIBErs of the same name get nothing.
    @Test(arguments: ["vigil-master", "redis-master"]) func shardedPublishReachesReplicaSubscribers(_ setup: String) throws {
        let vigil = try ServerProcess.vigilNode(args: Self.base)
        defer { vigil.stop() }
        guard let redis = try ServerProcess.redisServer(args: Self.base + ["--repl-diskless-sync-delay", "0"]) else { return }
        defer { redis.stop() }
        let (master, replica) = setup == "vigil-master" ? (vigil, redis) : (redis, vigil)
        #expect(try replica.client().call("REPLICAOF", "127.0.0.1", String(master.port)) == .simpleString("OK"))
        #expect(waitUntil { Repl.linkUp(replica) })
        let shard = try replica.client(), plain = try replica.client()
        #expect(try shard.call("SSUBSCRIBE", "news").elements?.first?.string == "ssubscribe")
        #expect(try plain.call("SUBSCRIBE", "news").elements?.first?.string == "subscribe")
        #expect(try master.client().call("SPUBLISH", "news", "hello") == .integer(0))
        let msg = try shard.read()
        #expect(msg.elements?.compactMap { $0.string } == ["smessage", "news", "hello"])
        #expect(try master.client().call("PUBLISH", "news", "plain") == .integer(0))
        #expect(try plain.read().elements?.compactMap { $0.string } == ["message", "news", "plain"])
        #expect(try shard.call("PING").elements?.first?.string == "pong")  // nothing else was queued for it
    }

    /// CLIENT LIST's sub/psub/ssub and INFO's pubsub_channels/pubsub_patterns/pubsubshard_channels
    /// count the three kinds apart, the same on vigil-node and redis-server; SUNSUBSCRIBE of the
    /// last shard channel leaves pub/sub mode only once the plain subscriptions are gone too.
    @Test func subscriptionCountsMatchRedis() throws {
        let vigil = try ServerProcess.vigilNode(args: Self.base)
        defer { vigil.stop() }
        guard let redis = try ServerProcess.redisServer(args: Self.base) else { return }
        defer { redis.stop() }
        for server in [vigil, redis] {
            let sub = try server.client(), admin = try server.client()
            _ = try sub.call("CLIENT", "SETNAME", "counted")
            _ = try sub.call("SUBSCRIBE", "a")
            _ = try sub.call("PSUBSCRIBE", "p*")
            try sub.send(["SSUBSCRIBE", "s1", "s2"])
            #expect(try sub.read().elements?.last == .integer(1))
            #expect(try sub.read().elements?.last == .integer(2))
            let list = try admin.call("CLIENT", "LIST").string ?? ""
            let line = list.split(separator: "\n").first { $0.contains("name=counted") } ?? ""
            #expect(line.contains(" sub=1 psub=1 ssub=2 "), "\(server.port): \(line)")
            #expect(line.contains(" flags=P "), "\(server.port): \(line)")
            let info = try admin.call("INFO", "stats").string ?? ""
            for field in ["pubsub_channels:1", "pubsub_patterns:1", "pubsubshard_channels:2"] {
                #expect(info.contains(field + "\r\n"), "\(server.port) lacks \(field)")
            }
            try sub.send(["SUNSUBSCRIBE"])
            _ = try sub.read(); _ = try sub.read()
            // Still subscribed to a channel and a pattern: RESP2 pub/sub mode refuses GET.
            let refused = try sub.call("GET", "x")
            #expect(refused.isError, "\(server.port): \(refused)")
            let after = try admin.call("INFO", "stats").string ?? ""
            #expect(after.contains("pubsubshard_channels:0\r\n"))
        }
    }

    // MARK: - DUMP / RESTORE / MIGRATE

    /// Every key DUMPed by one server RESTOREs on the other with the same value, both ways.
    @Test func dumpPayloadsRestoreOnTheOtherServer() throws {
        let vigil = try ServerProcess.vigilNode(args: Self.base)
        defer { vigil.stop() }
        guard let redis = try ServerProcess.redisServer(args: Self.base) else { return }
        defer { redis.stop() }
        for (from, to) in [(redis, vigil), (vigil, redis)] {
            let src = try from.client(), dst = try to.client()
            _ = try src.call("FLUSHALL")
            _ = try dst.call("FLUSHALL")
            try Self.write(src, prefix: "d:")
            try Repl.writeAllTypes(src, prefix: "t:")
            _ = try src.call("SELECT", "0")
            _ = try src.call("DEL", "t:short")  // written with PX 1: it may vanish at any time
            let keys = (try src.call("KEYS", "*").elements ?? []).compactMap { $0.string }
            #expect(keys.count > 30)
            for k in keys {
                guard case .bulkString(let payload) = try src.call("DUMP", k) else { Issue.record("DUMP \(k) from \(from.binary)"); continue }
                let r = try dst.call(bytes: [Array("RESTORE".utf8), Array(k.utf8), Array("0".utf8), payload])
                #expect(r == .simpleString("OK"), "RESTORE \(k) from \(from.binary): \(r)")
            }
            // TTLs are not carried by DUMP: compare values only.
            let a = try Self.contents(from).mapValues { String($0.split(separator: " ").dropLast().joined(separator: " ")) }
            let b = try Self.contents(to).mapValues { String($0.split(separator: " ").dropLast().joined(separator: " ")) }
            #expect(a == b)
        }
    }

    /// MIGRATE moves keys to a redis-server target and from a redis-server source, with COPY,
    /// REPLACE, KEYS, AUTH and TTLs; the moved keys are deleted at the source and that DEL
    /// reaches the source's replica.
    @Test func migrateBothWays() throws {
        let vigil = try ServerProcess.vigilNode(args: Self.base)
        defer { vigil.stop() }
        guard let redis = try ServerProcess.redisServer(args: Self.base + ["--requirepass", "sekret"], password: "sekret") else { return }
        defer { redis.stop() }
        let v = try vigil.client()
        let r = try redis.client()
        #expect(try r.call("AUTH", "sekret") == .simpleString("OK"))
        try Self.write(v, prefix: "m:")
        let before = try Self.contents(vigil)
        // vigil → redis: AUTH needed, TTL kept, REPLACE over an existing key, COPY keeps the source.
        #expect(try v.call("MIGRATE", "127.0.0.1", String(redis.port), "m:geo", "0", "5000").string?.contains("NOAUTH") == true)
        #expect(try v.call("MIGRATE", "127.0.0.1", String(redis.port), "m:geo", "0", "5000", "AUTH", "sekret") == .simpleString("OK"))
        #expect(try v.call("EXISTS", "m:geo") == .integer(0))
        #expect(try r.call("SET", "m:hll", "old") == .simpleString("OK"))
        #expect(try v.call("MIGRATE", "127.0.0.1", String(redis.port), "m:hll", "0", "5000", "AUTH", "sekret").string?.contains("BUSYKEY") == true)
        #expect(try v.call("MIGRATE", "127.0.0.1", String(redis.port), "", "0", "5000", "REPLACE", "AUTH2", "default", "sekret",
                           "KEYS", "m:hll", "m:restored", "m:nokey") == .simpleString("OK"))
        #expect(try v.call("MIGRATE", "127.0.0.1", String(redis.port), "m:bits", "0", "5000", "COPY", "AUTH", "sekret") == .simpleString("OK"))
        #expect(try v.call("EXISTS", "m:bits") == .integer(1))
        #expect(try v.call("MIGRATE", "127.0.0.1", String(redis.port), "m:nokey", "0", "5000") == .simpleString("NOKEY"))
        let moved = try Self.contents(redis, password: "sekret")
        for k in ["m:geo", "m:hll", "m:restored", "m:bits"] { #expect(moved[k] == before[k], "\(k)") }
        // redis → vigil.
        #expect(try r.call("MIGRATE", "127.0.0.1", String(vigil.port), "", "0", "5000", "KEYS", "m:geo", "m:restored") == .simpleString("OK"))
        let back = try Self.contents(vigil)
        #expect(back["m:geo"] == before["m:geo"] && back["m:restored"] == before["m:restored"])
        #expect(try r.call("EXISTS", "m:geo", "m:restored") == .integer(0))
        // A closed port: Redis's error text for a target that is not there.
        let closed = FreePort.next()
        #expect(try v.call("MIGRATE", "127.0.0.1", String(closed), "m:bits", "0", "500") == .error("IOERR error or timeout writing to target instance"))
    }

    /// A MIGRATE on a vigil master replicates as a DEL of the moved keys only.
    @Test func migrateReplicatesAsDel() throws {
        let master = try ServerProcess.vigilNode(args: Self.base)
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: Self.base + ["--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        guard let target = try ServerProcess.redisServer(args: Self.base) else { return }
        defer { target.stop() }
        let m = try master.client()
        #expect(waitUntil { Repl.linkUp(replica) })
        _ = try m.call("MSET", "a", "1", "b", "2", "c", "3")
        _ = try target.client().call("SET", "b", "taken")
        // b is refused by the target (BUSYKEY): only a and c move.
        #expect(try m.call("MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS", "a", "b", "c").string?.contains("BUSYKEY") == true)
        #expect(waitUntil { Repl.inSync(master, [replica]) })
        #expect(try replica.client().call("KEYS", "*").elements?.compactMap { $0.string } == ["b"])
        #expect(try m.call("KEYS", "*").elements?.compactMap { $0.string } == ["b"])
    }
}

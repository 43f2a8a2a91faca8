import Foundation
import Testing
import TestSupport
import Shared

/// vigil-node's RDB persistence against the real redis-server: files cross in both directions,
/// survive restarts, and damaged files are refused.
@Suite(.serialized) struct RDBIntegrationTests {
    static let redisArgs = ["--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--bind", "127.0.0.1"]

    /// A redis-server holding every type across encoding thresholds, TTLs and several databases.
    func populatedRedis() throws -> ServerProcess? {
        guard let redis = try ServerProcess.redisServer(args: Self.redisArgs) else { return nil }
        let c = try redis.client()
        func run(_ a: [String]) throws {
            let r = try c.call(a)
            if r.isError { throw TestClientError("\(a[0]): \(r)") }
        }
        try run(["SET", "s", "hello"])
        try run(["SET", "n", "12345"])
        try run(["SET", "big", String(repeating: "abcdefgh", count: 500)])
        try run(["SET", "ttl", "v", "PXAT", "4102444800000"])
        try run(["RPUSH", "l:small", "a", "1", "-70000"])
        try run(["RPUSH", "l:large"] + (0..<3000).map { "item-\($0)" })
        try run(["HSET", "h:small", "f", "v", "n", "5"])
        try run(["HSET", "h:large"] + (0..<700).flatMap { ["f\($0)", "v\($0)"] })
        try run(["SADD", "s:ints", "1", "2", "-3"])
        try run(["SADD", "s:intlarge"] + (0..<800).map { "\($0)" })
        try run(["SADD", "s:strs"] + (0..<300).map { "m\($0)" })
        try run(["ZADD", "z:small", "1.5", "a", "-inf", "b", "3", "c"])
        try run(["ZADD", "z:large"] + (0..<400).flatMap { ["\(Double($0) * 0.25)", "m\($0)"] })
        try run(["SELECT", "7"])
        try run(["SET", "db7", "x"])
        try run(["HSET", "h7", "a", "b"])
        try run(["PEXPIREAT", "h7", "4102444800999"])
        return redis
    }

    func digest(_ p: ServerProcess) throws -> RESPValue { try p.client().call("DEBUG", "DIGEST") }

    func copyDump(from: String, toDir: String) throws {
        try FileManager.default.createDirectory(atPath: toDir, withIntermediateDirectories: true)
        let dst = toDir + "/dump.rdb"
        try? FileManager.default.removeItem(atPath: dst)
        try FileManager.default.copyItem(atPath: from, toPath: dst)
    }

    func newDir() -> String { NSTemporaryDirectory() + "vigil-rdb-it-\(UUID().uuidString.prefix(8))" }

    /// redis dump → vigil-node loads → vigil SAVE → redis-server loads it with the same digest;
    /// restarting vigil-node on its own file keeps the data identical.
    @Test func redisToVigilToRedis() throws {
        guard let reference = try populatedRedis() else { return }
        defer { reference.stop() }
        #expect(try reference.client().call("SAVE") == .simpleString("OK"))
        let expected = try digest(reference)

        let vdir = newDir()
        try copyDump(from: reference.dir + "/dump.rdb", toDir: vdir)
        let node = try ServerProcess(binary: Binaries.vigilNode, args: ["--save", "", "--bind", "127.0.0.1"], dir: vdir)
        defer { node.stop() }
        #expect(node.log().contains("DB loaded from disk"))
        #expect(node.log().contains("keys loaded: 15"))
        let c = try node.client()
        try FileManager.default.removeItem(atPath: vdir + "/dump.rdb")
        #expect(try c.call("SAVE") == .simpleString("OK"))
        #expect(FileManager.default.fileExists(atPath: vdir + "/dump.rdb"))
        #expect((try c.call("LASTSAVE").int ?? 0) > 1_700_000_000)

        let rdir = newDir()
        try copyDump(from: vdir + "/dump.rdb", toDir: rdir)
        let check = try runProgram(try #require(Binaries.which("redis-check-rdb")), [rdir + "/dump.rdb"])
        #expect(check.status == 0, "\(check.output)")
        let loaded = try ServerProcess(binary: try #require(Binaries.redisServer), args: Self.redisArgs, dir: rdir)
        defer { loaded.stop() }
        #expect(try digest(loaded) == expected)

        // Restart vigil-node: it loads the file it wrote, and saving again still matches.
        node.stop()
        let again = try node.restart()
        defer { again.stop() }
        #expect(again.log().contains("keys loaded: 15"))
        #expect(try again.client().call("SAVE") == .simpleString("OK"))
        loaded.stop()
        try copyDump(from: vdir + "/dump.rdb", toDir: rdir)
        let reloaded = try loaded.restart()
        defer { reloaded.stop() }
        #expect(try digest(reloaded) == expected)
    }

    /// BGSAVE forks a child whose file redis-server loads; the parent logs and reaps it.
    @Test func bgsaveWritesALoadableFile() throws {
        guard let reference = try populatedRedis() else { return }
        defer { reference.stop() }
        #expect(try reference.client().call("SAVE") == .simpleString("OK"))
        let expected = try digest(reference)
        let vdir = newDir()
        try copyDump(from: reference.dir + "/dump.rdb", toDir: vdir)
        let node = try ServerProcess(binary: Binaries.vigilNode, args: ["--save", "", "--bind", "127.0.0.1"], dir: vdir)
        defer { node.stop() }
        try FileManager.default.removeItem(atPath: vdir + "/dump.rdb")
        let c = try node.client()
        // Pipelined: the child is reaped only by the cron, so the later commands see it running.
        try c.sendRaw("BGSAVE\r\nBGSAVE\r\nSAVE\r\n")
        #expect(try c.read() == .simpleString("Background saving started"))
        #expect(try c.read() == .error("ERR Background save already in progress"))
        #expect(try c.read() == .error("ERR Background save already in progress"))
        #expect(waitUntil(timeout: 20) { node.log().contains("Background saving terminated with success") })
        #expect(node.log().contains("Background saving started by pid"))
        #expect(try c.call("BGSAVE", "NOW") == .error("ERR syntax error"))
        let rdir = newDir()
        try copyDump(from: vdir + "/dump.rdb", toDir: rdir)
        let loaded = try ServerProcess(binary: try #require(Binaries.redisServer), args: Self.redisArgs, dir: rdir)
        defer { loaded.stop() }
        #expect(try digest(loaded) == expected)
        // No temp file is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: vdir).filter { $0.hasPrefix("temp-") }
        #expect(leftovers.isEmpty)
    }

    /// A truncated or corrupted dump stops start-up with the file name and offset.
    @Test(arguments: ["truncated", "corrupted"]) func damagedFileIsRefused(kind: String) throws {
        guard let reference = try populatedRedis() else { return }
        defer { reference.stop() }
        #expect(try reference.client().call("SAVE") == .simpleString("OK"))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: reference.dir + "/dump.rdb"))
        if kind == "truncated" { bytes = bytes.prefix(bytes.count * 2 / 3) } else { bytes[bytes.count / 2] ^= 0x5a }
        let vdir = newDir()
        try FileManager.default.createDirectory(atPath: vdir, withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: vdir + "/dump.rdb"))
        let node = try ServerProcess(binary: Binaries.vigilNode, args: ["--save", "", "--bind", "127.0.0.1"], dir: vdir, waitReady: false)
        defer { node.stop() }
        let status = node.waitExit(timeout: 20)
        #expect(status != nil && status != 0)
        let log = node.log()
        #expect(log.contains("dump.rdb"), "\(log)")
        #expect(log.contains("at offset"), "\(log)")
    }

    /// A save that cannot be written fails cleanly: SAVE replies an error, BGSAVE's child
    /// reports failure, no temp file is left, and the node keeps serving.
    @Test func failedSavesAreReported() throws {
        let node = try ServerProcess(binary: Binaries.vigilNode, args: ["--save", "", "--bind", "127.0.0.1"])
        defer { node.stop() }
        // A directory where the dump should go makes the final rename fail (even for root).
        try FileManager.default.createDirectory(atPath: node.dir + "/dump.rdb", withIntermediateDirectories: false)
        let c = try node.client()
        #expect(try c.call("SAVE") == .error("ERR"))
        #expect(try c.call("BGSAVE") == .simpleString("Background saving started"))
        #expect(waitUntil(timeout: 20) { node.log().contains("Background saving error") })
        #expect(node.log().contains("Error moving temp DB file"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: node.dir).filter { $0.hasPrefix("temp-") }
        #expect(leftovers.isEmpty)
        #expect(try c.call("PING") == .simpleString("PONG"))
        // Once the obstacle is gone, saving works again.
        try FileManager.default.removeItem(atPath: node.dir + "/dump.rdb")
        #expect(try c.call("SAVE") == .simpleString("OK"))
    }

    /// With save rules, SIGTERM writes a final snapshot; with `save ""` it does not.
    @Test func shutdownSavesOnlyWithSaveRules() throws {
        let withRules = try ServerProcess(binary: Binaries.vigilNode, args: ["--save", "3600", "1", "--bind", "127.0.0.1"])
        withRules.stop()
        #expect(withRules.log().contains("Saving the final RDB snapshot before exiting."))
        #expect(FileManager.default.fileExists(atPath: withRules.dir + "/dump.rdb"))
        let check = try runProgram(try #require(Binaries.which("redis-check-rdb")), [withRules.dir + "/dump.rdb"])
        #expect(check.status == 0, "\(check.output)")

        let noRules = try ServerProcess(binary: Binaries.vigilNode, args: ["--save", "", "--bind", "127.0.0.1"])
        noRules.stop()
        #expect(!FileManager.default.fileExists(atPath: noRules.dir + "/dump.rdb"))
    }

    /// DEBUG RELOAD saves, flushes and loads the file back on vigil-node as on redis-server: the
    /// data of every type (the data commands' encodings too) reads the same afterwards, the TTL
    /// survives, NOSAVE NOFLUSH MERGE adds the file's keys to newer ones, and a bad option gets
    /// Redis's text.
    @Test func debugReloadKeepsEveryTypeLikeRedis() throws {
        guard let redis = try ServerProcess.redisServer(args: Self.redisArgs) else { return }
        defer { redis.stop() }
        let vigil = try ServerProcess(binary: Binaries.vigilNode, args: ["--save", "", "--bind", "127.0.0.1"])
        defer { vigil.stop() }
        func snapshot(_ c: TestClient) throws -> [String] {
            var out: [String] = []
            for read in [["GET", "s"], ["GET", "bits"], ["BITCOUNT", "bits"], ["PFCOUNT", "hll"], ["LRANGE", "l", "0", "-1"],
                         ["HGETALL", "h"], ["SMEMBERS", "set"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
                         ["GEOPOS", "geo", "rome"], ["DBSIZE"]] {
                let r = try c.call(read)
                let parts = (r.elements?.map { "\($0)" } ?? ["\(r)"])
                out.append(read[0] + " " + (read[0] == "SMEMBERS" || read[0] == "HGETALL" ? parts.sorted() : parts).joined(separator: ","))
            }
            return out
        }
        var results: [[String]] = []
        for server in [redis, vigil] {
            let c = try server.client()
            for w in [["SET", "s", "hello", "EX", "1000"], ["SETBIT", "bits", "77", "1"], ["PFADD", "hll", "a", "b", "c"],
                      ["RPUSH", "l", "1", "two", "3"], ["HSET", "h", "f", "v", "g", "w"], ["SADD", "set", "x", "7"],
                      ["ZADD", "z", "1.5", "a", "-2", "b"], ["GEOADD", "geo", "12.5", "41.9", "rome"]] {
                #expect(try !c.call(w).isError, "\(server.port): \(w)")
            }
            let before = try snapshot(c)
            #expect(try c.call("DEBUG", "RELOAD") == .simpleString("OK"))
            let after = try snapshot(c)
            #expect(before == after, "\(server.port): \(before) vs \(after)")
            if case .integer(let ttl) = try c.call("TTL", "s") { #expect(ttl > 900) } else { Issue.record("TTL of s") }
            // A key written after the save survives a NOFLUSH MERGE load of the older file.
            _ = try c.call("SET", "later", "1")
            _ = try c.call("DEL", "l")
            #expect(try c.call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == .simpleString("OK"))
            #expect(try c.call("GET", "later") == .bulkString(Bytes("1".utf8)))
            #expect(try c.call("LLEN", "l") == .integer(3))
            let bad = try c.call("DEBUG", "RELOAD", "NOPE")
            results.append(after + ["\(bad)"])
        }
        #expect(results[0] == results[1])
    }
}

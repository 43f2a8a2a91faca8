import Foundation
import Testing
import TestSupport
import Shared
@testable import Node

/// Files go both ways between our reader/writer and a real redis-server 7.0.
@Suite(.serialized) struct RDBRedisInteropTests {
    static let redisArgs = ["--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--bind", "127.0.0.1"]

    /// Starts redis-server with the data set written by ordinary commands.
    func populatedRedis() throws -> ServerProcess? {
        guard let redis = try ServerProcess.redisServer(args: Self.redisArgs) else { return nil }
        try RDBTestData.populate(try redis.client())
        return redis
    }

    @Test func readsRedisDumpWithEveryEncoding() throws {
        guard let redis = try populatedRedis() else { return }
        defer { redis.stop() }
        let c = try redis.client()
        // The data set really crosses the thresholds in redis-server.
        #expect(try c.call("OBJECT", "ENCODING", "hash:small").string == "listpack")
        let enc = try c.call("OBJECT", "ENCODING", "hash:large"), hlen = try c.call("HLEN", "hash:large")
        #expect(enc.string == "hashtable", "\(enc) \(hlen)")
        #expect(try c.call("OBJECT", "ENCODING", "set:intsmall").string == "intset")
        #expect(try c.call("OBJECT", "ENCODING", "set:intlarge").string == "hashtable")
        #expect(try c.call("OBJECT", "ENCODING", "zset:small").string == "listpack")
        #expect(try c.call("OBJECT", "ENCODING", "zset:large").string == "skiplist")
        #expect(try c.call("OBJECT", "ENCODING", "list:large").string == "quicklist")
        #expect(try c.call("SAVE") == .simpleString("OK"))
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: redis.dir + "/dump.rdb")))
        var r = RDBReader(bytes)
        let contents = try r.read(now: Clock.wallMillis())
        RDBTestData.expectMatches(contents)
        #expect(contents.aux["redis-ver"] == Array("7.0.15".utf8))
    }

    @Test(arguments: [true, false]) func redisLoadsOurFile(compression: Bool) throws {
        guard let reference = try populatedRedis() else { return }
        defer { reference.stop() }
        let expectedDigest = try reference.client().call("DEBUG", "DIGEST")

        let dir = NSTemporaryDirectory() + "vigil-rdb-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var o = RDBWriter.Options()
        o.compression = compression
        let image = try RDBWriter.snapshot(RDBTestData.databases(), options: o, now: Clock.wallMillis())
        try Data(image).write(to: URL(fileURLWithPath: dir + "/dump.rdb"))

        if let check = Binaries.which("redis-check-rdb") {
            let (status, output) = try runProgram(check, [dir + "/dump.rdb"])
            #expect(status == 0, "\(output)")
            #expect(output.contains("RDB looks OK"))
        }
        let redis = try ServerProcess(binary: try #require(Binaries.redisServer), args: Self.redisArgs, dir: dir)
        defer { redis.stop() }
        let c = try redis.client()
        #expect(try c.call("DEBUG", "DIGEST") == expectedDigest)
        #expect(try c.call("DBSIZE") == .integer(24))
        let ttl = try c.call("PEXPIRETIME", "str:ttl")
        #expect(ttl == .integer(4_102_444_800_123))
        // Redis re-encodes our plain types compactly on load.
        #expect(try c.call("OBJECT", "ENCODING", "hash:small").string == "listpack")
        #expect(try c.call("OBJECT", "ENCODING", "set:intsmall").string == "intset")
        #expect(try c.call("OBJECT", "ENCODING", "list:small").string == "quicklist")
        #expect(try c.call("LINDEX", "list:bigelement", "1").string?.count == 10_000)
        #expect(redis.log().contains("DB loaded from disk"))
    }

    /// Function libraries are skipped with a warning (we have no Lua); streams load beside them.
    @Test func functionsLoadAndStreamsLoad() throws {
        guard let redis = try ServerProcess.redisServer(args: Self.redisArgs) else { return }
        defer { redis.stop() }
        let c = try redis.client()
        let lib = "#!lua name=mylib\nredis.register_function('f', function() return 1 end)"
        #expect(try c.call("FUNCTION", "LOAD", lib) == .bulkString(Array("mylib".utf8)))
        #expect(try c.call("SET", "k", "v") == .simpleString("OK"))
        #expect(try c.call("SAVE") == .simpleString("OK"))
        let path = redis.dir + "/dump.rdb"
        var r = RDBReader(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
        let contents = try r.read(now: nil)
        #expect(contents.keyCount == 1)
        // Function libraries are read (FUNCTION is implemented) with no warning.
        #expect(contents.warnings.isEmpty)
        #expect(contents.functions.count == 1)
        #expect(contents.functions.first.map { String(decoding: $0, as: UTF8.self).contains("mylib") } == true)

        #expect(try c.call("XADD", "stream", "*", "a", "1").isError == false)
        #expect(try c.call("SAVE") == .simpleString("OK"))
        var r2 = RDBReader(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
        let withStream = try r2.read(now: nil)
        #expect(withStream.keyCount == 2)
        guard case .stream(let s)? = withStream.databases[0]?.dict[Key("stream")] else { Issue.record("no stream"); return }
        #expect(s.length == 1 && s.entriesAdded == 1)
    }
}

// Node behaviour Redis's Sentinel suite needs from its data nodes (it runs vigil-node as them):
// DEBUG POPULATE, PING refused with -MISCONF when the node cannot persist, CONFIG SET of
// protected directives, a relative logfile inside `dir`, and -LOADING while a dataset loads.
import Foundation
import Shared
import Testing
import TestSupport

@Suite(.serialized) struct NodeSentinelSupportTests {
    @Test func debugPopulateCreatesKeysAsRedis() throws {
        let n = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { n.stop() }
        let c = try n.client()
        #expect(try c.call("SET", "key:3", "mine") == .simpleString("OK"))
        #expect(try c.call("DEBUG", "POPULATE", "100") == .simpleString("OK"))
        #expect(try c.call("DBSIZE") == .integer(100))
        #expect(try c.call("GET", "key:7") == .bulkString(Array("value:7".utf8)))
        // Existing keys are left alone.
        #expect(try c.call("GET", "key:3") == .bulkString(Array("mine".utf8)))
        #expect(try c.call("DEBUG", "POPULATE", "2", "p", "10") == .simpleString("OK"))
        #expect(try c.call("GET", "p:1") == .bulkString(Array("value:1".utf8) + [0, 0, 0]))
        #expect(try c.call("DEBUG", "POPULATE", "1", "q", "3") == .simpleString("OK"))
        #expect(try c.call("GET", "q:0") == .bulkString(Array("val".utf8)))
        #expect(try c.call("DEBUG", "POPULATE", "-1").isError)
    }

    /// A node whose BGSAVE failed refuses writes and PING with -MISCONF (a sentinel then sees it
    /// down), until a save succeeds; protected directives can be set with
    /// enable-protected-configs yes.
    @Test func failedBackgroundSaveMakesPingAnswerMisconf() throws {
        let n = try ServerProcess.vigilNode(args: ["--save", "1000000 1000000", "--enable-protected-configs", "yes"])
        defer { n.stop() }
        let c = try n.client()
        try FileManager.default.createDirectory(atPath: n.dir + "/adir", withIntermediateDirectories: true)
        // A file name that is a directory: the final rename fails.
        #expect(try c.call("CONFIG", "SET", "dbfilename", "adir") == .simpleString("OK"))
        _ = try c.call("BGSAVE")
        #expect(waitUntil(timeout: 10) { (try c.call("INFO", "persistence").string ?? "").contains("rdb_last_bgsave_status:err") })
        let ping = try c.call("PING")
        #expect(ping.string?.hasPrefix("MISCONF Redis is configured to save RDB snapshots") == true && ping.isError, "\(ping)")
        #expect(try c.call("SET", "a", "1").isError)
        #expect(try c.call("CONFIG", "SET", "dbfilename", "dump.rdb") == .simpleString("OK"))
        _ = try c.call("BGSAVE")
        #expect(waitUntil(timeout: 10) { try c.call("PING") == .simpleString("PONG") })
    }

    @Test func protectedDirectivesAndDir() throws {
        let locked = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { locked.stop() }
        #expect(try locked.client().call("CONFIG", "SET", "dir", "/tmp")
                == .error("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"))
        // CONFIG GET dir is absolute, as Redis's, so the value read back can be set again.
        #expect(try locked.client().call("CONFIG", "GET", "dir").elements?.last?.string == (locked.dir as NSString).resolvingSymlinksInPath)
        let open = try ServerProcess.vigilNode(args: ["--save", "", "--enable-protected-configs", "local"])
        defer { open.stop() }
        let c = try open.client()
        let real = (open.dir as NSString).resolvingSymlinksInPath
        try FileManager.default.createDirectory(atPath: open.dir + "/sub", withIntermediateDirectories: true)
        #expect(try c.call("CONFIG", "SET", "dir", "sub") == .simpleString("OK"))
        #expect(try c.call("CONFIG", "GET", "dir").elements?.last?.string == real + "/sub")
        #expect(try c.call("CONFIG", "SET", "dir", "nosuch").isError)
        #expect(try c.call("CONFIG", "SET", "dir", real) == .simpleString("OK"))
        _ = try c.call("SET", "k", "v")
        #expect(try c.call("SAVE") == .simpleString("OK"))
        #expect(FileManager.default.fileExists(atPath: open.dir + "/dump.rdb"))
    }

    @Test func relativeLogfileIsInsideDir() throws {
        let port = FreePort.next()
        let root = NSTemporaryDirectory() + "vigil-logdir-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let n = try ServerProcess(binary: Binaries.vigilNode, port: port, args: ["--save", "", "--dir", "data", "--logfile", "node.log"], dir: root)
        defer { n.stop() }
        #expect(waitUntil(timeout: 5) { fileText(root + "/data/node.log").contains("Ready to accept connections") })
        #expect(!FileManager.default.fileExists(atPath: root + "/node.log"))
    }

    /// While a dataset loads the node accepts clients and answers -LOADING (Redis's
    /// loading-process-events-interval-bytes); key-load-delay makes the load slow enough to see.
    @Test func clientsGetLoadingWhileTheDatasetLoads() throws {
        let n = try ServerProcess.vigilNode(args: ["--save", ""])
        let c = try n.client()
        #expect(try c.call("DEBUG", "POPULATE", "2000") == .simpleString("OK"))
        #expect(try c.call("SAVE") == .simpleString("OK"))
        n.stop()
        let restarted = try ServerProcess(binary: Binaries.vigilNode, port: n.port, args: ["--save", "", "--port", String(n.port),
            "--key-load-delay", "1000", "--loading-process-events-interval-bytes", "1024"], dir: n.dir, waitReady: false)
        defer { restarted.stop() }
        var sawLoading = false
        let up = waitUntil(timeout: 20) {
            guard let r = try? TestClient(port: n.port, timeoutMillis: 1000).call("PING") else { return false }
            if case .error(let e) = r, e.hasPrefix("LOADING") { sawLoading = true }
            return r == .simpleString("PONG")
        }
        #expect(sawLoading, "no -LOADING reply while loading 2000 keys at 1 ms each")
        #expect(up)
        #expect(try restarted.client().call("DBSIZE") == .integer(2000))
    }
}

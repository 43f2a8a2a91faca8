// What Redis's own Sentinel suite (tests/sentinel of redis/redis) found, as tests of ours: CI
// cannot fetch the suite, so each finding of issue 13 has a test that failed on the code before
// the fix. Real vigil-sentinel and vigil-node processes on free loopback ports.
import Foundation
import Shared
import Testing
import TestSupport

/// The base file the Redis suite gives every sentinel: options about `setmaster` before its
/// `monitor` line.
let suiteBaseConfig = """
    # assume master is down after being unresponsive for 20s
    sentinel down-after-milliseconds setmaster 20000
    # reconfigure one slave at a time
    sentinel parallel-syncs setmaster 2
    # wait for 4m before assuming failover went wrong
    sentinel failover-timeout setmaster 240000
    # monitoring set
    sentinel monitor setmaster 10.0.0.1 30000 2

    """

/// The same options with `monitor` first, which any loader accepts: the tests of the other
/// findings use it so that each fails for its own reason.
let monitorFirstConfig = """
    # monitoring set
    sentinel monitor setmaster 10.0.0.1 30000 2
    # assume master is down after being unresponsive for 20s
    sentinel down-after-milliseconds setmaster 20000
    # reconfigure one slave at a time
    sentinel parallel-syncs setmaster 2
    # wait for 4m before assuming failover went wrong
    sentinel failover-timeout setmaster 240000

    """

/// A sentinel started as the suite starts one: the base file plus port, `dir ./sentinel_0` and
/// a relative logfile, run from the directory above `sentinel_0`.
final class SuiteStyleSentinel {
    let root: String
    let port: Int
    var process: ServerProcess
    var configPath: String { root + "/sentinel_0/sentinel.conf" }

    init(base: String = suiteBaseConfig, extra: [String] = []) throws {
        root = NSTemporaryDirectory() + "vigil-suite-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/sentinel_0", withIntermediateDirectories: true)
        port = FreePort.next()
        let text = base + (["port \(port)", "dir ./sentinel_0", "logfile log.txt", "sentinel deny-scripts-reconfig no"] + extra)
            .joined(separator: "\n") + "\n"
        try text.write(toFile: root + "/sentinel_0/sentinel.conf", atomically: true, encoding: .utf8)
        process = try SuiteStyleSentinel.spawn(root: root, port: port)
    }

    static func spawn(root: String, port: Int) throws -> ServerProcess {
        try ServerProcess(binary: Binaries.vigilSentinel, port: port, configName: "unused", args: ["sentinel_0/sentinel.conf"], dir: root)
    }

    /// Stops the sentinel (SIGTERM) and starts it again from its (rewritten) file.
    func restart() throws {
        process.stop()
        process = try SuiteStyleSentinel.spawn(root: root, port: port)
    }

    func client() throws -> TestClient { try process.client() }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}

@Suite(.serialized) struct SentinelSuiteFindingsTests {
    /// Finding 1: options before `monitor` were "No such master with specified name".
    @Test func startsFromAFileWithMasterOptionsBeforeMonitor() throws {
        let s = try SuiteStyleSentinel()
        let m = fields(try s.client().call("SENTINEL", "MASTER", "setmaster"))
        #expect(m["down-after-milliseconds"] == "20000" && m["parallel-syncs"] == "2" && m["failover-timeout"] == "240000")
        // `dir` took effect as it was read: the relative logfile is inside it.
        #expect(waitUntil(timeout: 5) { fileText(s.root + "/sentinel_0/log.txt").contains("Sentinel ID is") })
        #expect(!FileManager.default.fileExists(atPath: s.root + "/log.txt"))
    }

    /// Finding 2: SENTINEL DEBUG <param> <value> was refused.
    @Test func debugShowsAndSetsEveryTimingParameter() throws {
        let s = try SuiteStyleSentinel(base: monitorFirstConfig)
        let c = try s.client()
        let names = ["INFO-PERIOD", "PING-PERIOD", "ASK-PERIOD", "PUBLISH-PERIOD", "DEFAULT-DOWN-AFTER", "DEFAULT-FAILOVER-TIMEOUT",
                     "TILT-TRIGGER", "TILT-PERIOD", "SLAVE-RECONF-TIMEOUT", "MIN-LINK-RECONNECT-PERIOD", "ELECTION-TIMEOUT",
                     "SCRIPT-MAX-RUNTIME", "SCRIPT-RETRY-DELAY"]
        #expect(fieldNames(try c.call("SENTINEL", "DEBUG")) == names)
        #expect(try c.call("SENTINEL", "DEBUG", "info-period", "8888", "PING-PERIOD", "700", "default-down-after", "1234") == .simpleString("OK"))
        let d = fields(try c.call("SENTINEL", "DEBUG"))
        #expect(d["INFO-PERIOD"] == "8888" && d["PING-PERIOD"] == "700" && d["DEFAULT-DOWN-AFTER"] == "1234")
        #expect(try c.call("SENTINEL", "DEBUG", "info-period", "-1") == .error("ERR Invalid argument '-1' for SENTINEL DEBUG 'info-period'"))
        #expect(try c.call("SENTINEL", "DEBUG", "no-such", "1") == .error("ERR Unknown option or number of arguments for SENTINEL DEBUG 'no-such'"))
        #expect(try c.call("SENTINEL", "DEBUG", "ping-period") == .error("ERR Unknown option or number of arguments for SENTINEL DEBUG 'ping-period'"))
        // The new default applies to masters monitored from now on.
        #expect(try c.call("SENTINEL", "MONITOR", "other", "127.0.0.1", "1", "1") == .simpleString("OK"))
        #expect(fields(try c.call("SENTINEL", "MASTER", "other"))["down-after-milliseconds"] == "1234")
    }

    /// Finding 3: a restarted sentinel refused its own rewritten config (a script path relative
    /// to `dir`).
    @Test func restartsFromItsRewrittenConfigWithAScriptRelativeToDir() throws {
        let s = try SuiteStyleSentinel(base: monitorFirstConfig)
        try FileManager.default.createDirectory(atPath: s.root + "/helpers", withIntermediateDirectories: true)
        let script = s.root + "/helpers/notify.sh"
        try "#!/bin/sh\nexit 0\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let c = try s.client()
        #expect(try c.call("SENTINEL", "SET", "setmaster", "notification-script", "../helpers/notify.sh") == .simpleString("OK"))
        #expect(try c.call("SENTINEL", "SET", "setmaster", "notification-script", "helpers/notify.sh")
                == .error("ERR Notification script seems non existing or non executable"))
        #expect(fileText(s.configPath).contains("sentinel notification-script setmaster ../helpers/notify.sh"))
        try s.restart()
        #expect(fields(try s.client().call("SENTINEL", "MASTER", "setmaster"))["notification-script"] == "../helpers/notify.sh")
    }

    /// Finding 4: after FLUSHCONFIG the file's own lines were not where they were.
    @Test func flushConfigRewritesEachLineInPlace() throws {
        let s = try SuiteStyleSentinel(base: monitorFirstConfig)
        let before = fileText(s.configPath).split(separator: "\n", omittingEmptySubsequences: false).prefix(8).map(String.init)
        #expect(try s.client().call("SENTINEL", "FLUSHCONFIG") == .simpleString("OK"))
        let after = fileText(s.configPath).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(after.prefix(8)) == before)
        // A changed option is changed on its own line.
        #expect(try s.client().call("SENTINEL", "SET", "setmaster", "parallel-syncs", "3") == .simpleString("OK"))
        let changed = fileText(s.configPath).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(changed[5] == "sentinel parallel-syncs setmaster 3" && changed.filter { $0.contains("parallel-syncs") }.count == 1)
    }

    /// Finding 5: after the master's ACL changed, the sentinel stayed connected with the old
    /// credentials and did not reconnect with new ones.
    @Test func linksFollowTheMastersACLChange() throws {
        let d = try ACLDeployment()
        defer { d.stopAll() }
        let s = try d.startSentinel()
        #expect(waitUntil(timeout: 10) { d.connected(s, replicas: 1) })
        for n in d.nodes {
            let c = try n.client()
            #expect(try c.call("ACL", "SETUSER", "testuser", "on", ">secret", "allchannels", "+@all") == .simpleString("OK"))
            #expect(try c.call("ACL", "SETUSER", "default", "off") == .simpleString("OK"))
            _ = try? c.call("CLIENT", "KILL", "USER", "default", "SKIPME", "no")
            let again = try n.client()
            #expect(try again.call("AUTH", "testuser", "secret") == .simpleString("OK"))
            _ = try again.call("CONFIG", "SET", "masteruser", "testuser")
            _ = try again.call("CONFIG", "SET", "masterauth", "secret")
        }
        // Without credentials the links are refused: the sentinel reports them disconnected (not
        // just while it reconnects: most of the time).
        #expect(waitUntil(timeout: 5) { d.masterFlags(s).contains("disconnected") })
        var samples = 0
        for _ in 0..<10 {
            if d.masterFlags(s).contains("disconnected") { samples += 1 }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(samples >= 7, "disconnected in only \(samples) of 10 samples")
        let c = try s.client()
        #expect(try c.call("SENTINEL", "SET", "mymaster", "auth-user", "testuser", "auth-pass", "secret") == .simpleString("OK"))
        #expect(waitUntil(timeout: 5) { d.connected(s, replicas: 1) })
        // The replica links too use the new credentials: the replica answers PING and INFO (it
        // would be SDOWN after its 2 s down-after otherwise).
        #expect(waitUntil(timeout: 5) {
            guard let r = try? s.client().call("SENTINEL", "REPLICAS", "mymaster").elements?.first.map(fields) else { return false }
            return Int(r["last-ok-ping-reply"] ?? "") ?? 9999 < 1000 && Int(r["info-refresh"] ?? "") ?? 9999 < 1500
        })
        Thread.sleep(forTimeInterval: 2.5)
        let replica = try #require(try s.client().call("SENTINEL", "REPLICAS", "mymaster").elements?.first.map(fields))
        #expect(!(replica["flags"] ?? "").contains("s_down"), "replica \(replica)")
    }

    /// Finding 6: after the ACL unit, sentinels no longer discovered each other when the master
    /// was removed and monitored again (what every later unit of the suite starts with).
    @Test func sentinelsRediscoverEachOtherAfterRemoveAndMonitor() throws {
        let d = try ACLDeployment(replicas: 2)
        defer { d.stopAll() }
        for _ in 0..<3 { try d.startSentinel() }
        #expect(d.waitDiscovered(timeout: 10))
        // The ACL change and back, as the suite's unit 03 leaves it, then its init steps.
        for n in d.nodes {
            let c = try n.client()
            _ = try c.call("ACL", "SETUSER", "testuser", "on", ">secret", "allchannels", "+@all")
            _ = try c.call("ACL", "SETUSER", "default", "off")
            _ = try? c.call("CLIENT", "KILL", "USER", "default", "SKIPME", "no")
        }
        for s in d.sentinels { _ = try s.client().call("SENTINEL", "SET", "mymaster", "auth-user", "testuser", "auth-pass", "secret") }
        #expect(waitUntil(timeout: 5) { d.sentinels.allSatisfy { d.connected($0, replicas: 2) } })
        for n in d.nodes {
            let c = try n.client()
            _ = try c.call("AUTH", "testuser", "secret")
            _ = try c.call("ACL", "SETUSER", "default", "on")
            _ = try c.call("ACL", "DELUSER", "testuser")
        }
        for s in d.sentinels {
            let c = try s.client()
            #expect(try c.call("SENTINEL", "REMOVE", "mymaster") == .simpleString("OK"))
            #expect(try c.call("SENTINEL", "MONITOR", "mymaster", "127.0.0.1", String(d.master.port), "2") == .simpleString("OK"))
        }
        #expect(d.waitDiscovered(timeout: 10), "sentinels did not rediscover each other and the replicas")
    }
}

/// vigil-node nodes without passwords (the suite's), for ACL changes at run time.
final class ACLDeployment {
    var master: ServerProcess
    var replicas: [ServerProcess] = []
    var sentinels: [ServerProcess] = []
    var nodes: [ServerProcess] { [master] + replicas }

    init(replicas n: Int = 1) throws {
        master = try ServerProcess.vigilNode(args: ["--save", "", "--bind", "127.0.0.1"])
        for _ in 0..<n {
            replicas.append(try ServerProcess.vigilNode(args: ["--save", "", "--bind", "127.0.0.1", "--replicaof", "127.0.0.1", String(master.port)]))
        }
        let synced = waitUntil(timeout: 15) {
            try self.replicas.allSatisfy { (try $0.client().call("INFO", "replication").string ?? "").contains("master_link_status:up") }
        }
        if !synced { stopAll(); throw TestClientError("replicas did not sync") }
    }

    @discardableResult
    func startSentinel() throws -> ServerProcess {
        let port = FreePort.next()
        let conf = "port \(port)\nsentinel monitor mymaster 127.0.0.1 \(master.port) 2\nsentinel down-after-milliseconds mymaster 2000\n"
        let s = try ServerProcess(binary: Binaries.vigilSentinel, port: port, config: conf, configName: "sentinel.conf")
        sentinels.append(s)
        return s
    }

    func masterFlags(_ s: ServerProcess) -> String {
        (try? fields(s.client(timeoutMillis: 1000).call("SENTINEL", "MASTER", "mymaster"))["flags"]) ?? ""
    }

    /// The master and `replicas` replicas known, none of them disconnected.
    func connected(_ s: ServerProcess, replicas: Int) -> Bool {
        guard let c = try? s.client(timeoutMillis: 1000), let r = try? c.call("SENTINEL", "REPLICAS", "mymaster").elements else { return false }
        return masterFlags(s) == "master" && r.count == replicas && r.allSatisfy { !(fields($0)["flags"] ?? "").contains("disconnected") }
    }

    /// Every sentinel knows every replica and the other sentinels.
    func waitDiscovered(timeout: Double) -> Bool {
        waitUntil(timeout: timeout) {
            self.sentinels.allSatisfy { s in
                guard let m = try? fields(s.client(timeoutMillis: 1000).call("SENTINEL", "MASTER", "mymaster")) else { return false }
                return m["num-other-sentinels"] == String(self.sentinels.count - 1) && m["num-slaves"] == String(self.replicas.count)
            }
        }
    }

    func stopAll() {
        for s in sentinels { s.stop() }
        for n in nodes { n.stop() }
    }
}

@testable import Sentinel
import Foundation
import Shared
import Testing

@Suite struct SentinelConfigTests {
    private func load(_ text: String) throws -> Sentinel {
        let log = Logger()
        log.level = .nothing
        let s = Sentinel(log: log)
        for d in try ConfigFile.parse(text).directives { try s.apply(d, now: 0) }
        return s
    }

    @Test func parsesStockDirectivesCaseInsensitively() throws {
        let s = try load("""
            port 26400
            protected-mode no
            acllog-max-len 128
            SENTINEL monitor mymaster 127.0.0.1 6379 2
            sentinel down-after-milliseconds mymaster 3000
            sentinel Failover-Timeout mymaster 9000
            sentinel parallel-syncs mymaster 2
            sentinel auth-pass mymaster "p w"
            sentinel known-slave mymaster 127.0.0.1 6380
            sentinel known-replica mymaster 127.0.0.1 6381
            sentinel known-sentinel mymaster 127.0.0.1 26380 \(Fixture.peerB)
            sentinel config-epoch mymaster 3
            sentinel leader-epoch mymaster 2
            sentinel current-epoch 4
            sentinel deny-scripts-reconfig yes
            SENTINEL resolve-hostnames no
            SENTINEL announce-hostnames no
            SENTINEL master-reboot-down-after-period mymaster 0
            sentinel myid \(Fixture.myID)
            """)
        #expect(s.settings.port == 26400)
        let m = try #require(s.masters["mymaster"])
        #expect(m.quorum == 2 && m.downAfterMillis == 3000 && m.failoverTimeout == 9000 && m.parallelSyncs == 2)
        #expect(m.authPass == "p w")
        #expect(Set(m.replicas.keys) == ["127.0.0.1:6380", "127.0.0.1:6381"])
        #expect(m.sentinels[Fixture.peerB]?.address.port == 26380)
        #expect(m.configEpoch == 3 && m.leaderEpoch == 2 && s.currentEpoch == 4)
        #expect(s.myID == Fixture.myID)
    }

    @Test func badStatementsAreConfigErrors() {
        #expect(throws: ConfigError.self) { try load("sentinel monitor m 127.0.0.1 6379 0") }
        #expect(throws: ConfigError.self) { try load("sentinel down-after-milliseconds nosuch 100") }
        #expect(throws: ConfigError.self) { try load("sentinel bogus-option x") }
        #expect(throws: ConfigError.self) { try load("sentinel myid tooshort") }
    }

    @Test func rewriteKeepsCommentsAndWritesRedisLayout() throws {
        let dir = NSTemporaryDirectory() + "vigil-sconf-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/sentinel.conf"
        let text = "# my comment\nport 26400\nsentinel monitor mymaster 127.0.0.1 6379 2\nsentinel known-slave mymaster 127.0.0.1 6380\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let s = try load(text)
        s.settings.configFile = path
        s.myID = Fixture.myID
        s.currentEpoch = 7
        #expect(s.flushConfig())
        let out = try String(contentsOfFile: path, encoding: .utf8)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines == ["# my comment", "port 26400", "sentinel myid \(Fixture.myID)",
                          "sentinel monitor mymaster 127.0.0.1 6379 2", "sentinel config-epoch mymaster 0",
                          "sentinel leader-epoch mymaster 0", "sentinel known-replica mymaster 127.0.0.1 6380",
                          "sentinel current-epoch 7"])
        // Reloading the rewritten file gives the same state.
        let again = try load(out)
        #expect(again.myID == Fixture.myID && again.currentEpoch == 7 && again.masters["mymaster"]?.replicas.count == 1)
    }
}

@Suite struct HelloTests {
    @Test func helloAddsSentinelAdoptsEpochAndSwitchesMaster() {
        let (s, rec, m) = Fixture.make(peers: [])
        let peer = String(repeating: "d", count: 40)
        s.processHello("10.0.1.9,26379,\(peer),3,mymaster,10.0.0.1,6000,0", now: 100)
        #expect(m.sentinels[peer]?.address == InstanceAddress(ip: "10.0.1.9", port: 26379))
        #expect(rec.has("+sentinel"))
        #expect(s.currentEpoch == 3)
        #expect(m.address.ip == "10.0.0.1")
        // A newer config epoch with another address moves the master.
        s.processHello("10.0.1.9,26379,\(peer),3,mymaster,10.0.0.2,6000,3", now: 200)
        #expect(rec.has("+config-update-from"))
        #expect(rec.message("+switch-master") == "mymaster 10.0.0.1 6000 10.0.0.2 6000")
        #expect(m.address == InstanceAddress(ip: "10.0.0.2", port: 6000))
        #expect(m.configEpoch == 3)
        #expect(m.replicas["10.0.0.1:6000"] != nil)
    }

    @Test func ownAndMalformedHellosAreIgnored() {
        let (s, _, m) = Fixture.make(peers: [])
        s.processHello("10.0.1.9,26379,\(Fixture.myID),9,mymaster,10.0.0.1,6000,0", now: 1)
        s.processHello("garbage", now: 1)
        s.processHello("10.0.1.9,notaport,\(Fixture.peerB),9,mymaster,10.0.0.1,6000,0", now: 1)
        s.processHello("10.0.1.9,26379,\(Fixture.peerB),9,othermaster,10.0.0.1,6000,0", now: 1)
        #expect(m.sentinels.isEmpty)
        #expect(s.currentEpoch == 0)
    }

    @Test func sentinelAddressSwitch() {
        let (s, rec, m) = Fixture.make(peers: [Fixture.peerB])
        s.processHello("10.0.7.7,26379,\(Fixture.peerB),0,mymaster,10.0.0.1,6000,0", now: 1)
        #expect(rec.has("+sentinel-address-switch"))
        #expect(m.sentinels.count == 1)
        #expect(m.sentinels[Fixture.peerB]?.address.ip == "10.0.7.7")
    }

    @Test func globMatching() {
        #expect(Glob.match("*", "+sdown"))
        #expect(Glob.match("+s?own", "+sdown"))
        #expect(Glob.match("[-+]odown", "-odown"))
        #expect(!Glob.match("+odown", "-odown"))
        #expect(Glob.match("h[^e]llo", "hallo") && !Glob.match("h[^e]llo", "hello"))
    }
}

@Suite struct SentinelUsersTests {
    @Test func userRulesAndAuthentication() {
        var u = SentinelUser()
        #expect(u.apply(["on", ">a", ">b", "~*", "&*", "+@all", "-debug"]) == nil)
        #expect(u.accepts("a") && u.accepts("b") && !u.accepts("c"))
        #expect(u.apply(["<a"]) == nil)
        #expect(!u.accepts("a"))
        #expect(u.apply(["off"]) == nil)
        #expect(!u.accepts("b"))
        var h = SentinelUser()
        #expect(h.apply(["on", "#" + SHA256.hex(Array("secret".utf8))]) == nil)
        #expect(h.accepts("secret") && !h.accepts("other"))
        // Redis 7 selectors are accepted (and, like all permission rules, not enforced).
        #expect(h.apply(["(~temp:* +get)", "clearselectors", "%R~r:*"]) == nil)
        #expect(h.apply(["bogus-rule"]) == "bogus-rule")
        #expect(h.apply(["#nothex"]) == "#nothex")
    }

    @Test func requirepassAndUsersDecideAuthentication() {
        var s = SentinelSettings()
        #expect(!s.authRequired)
        var peer = SentinelUser()
        _ = peer.apply(["on", ">pw"])
        s.users["peer"] = peer
        #expect(!s.authRequired)
        #expect(s.authenticate(user: "peer", pass: "pw") && !s.authenticate(user: "peer", pass: "x"))
        #expect(!s.authenticate(user: "nobody", pass: "pw"))
        s.requirepass = "rp"
        #expect(s.authRequired)
        #expect(s.authenticate(user: "default", pass: "rp") && !s.authenticate(user: "default", pass: "pw"))
    }
}

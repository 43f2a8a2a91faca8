// Unit tests for behaviour Redis's Sentinel suite relies on, with an injected clock: SENTINEL
// DEBUG timings, master-reboot-down-after-period, a failover whose promoted replica is down,
// a sentinel replaced at the same address, hostnames, and the Redis rewrite state.
@testable import Sentinel
import Shared
import Testing

@Suite struct SentinelSuiteBehaviourTests {
    @Test func debugTimingsApplyAllOrNothing() {
        var t = SentinelTimings()
        #expect(t.apply(["info-period", "100", "PUBLISH-PERIOD", "200"]) == nil)
        #expect(t.infoPeriod == 100 && t.publishPeriod == 200)
        #expect(t.apply(["ping-period", "300", "tilt-period", "0"]) == "ERR Invalid argument '0' for SENTINEL DEBUG 'tilt-period'")
        #expect(t.pingPeriod == 1000)
        #expect(t.apply(["bogus", "1"]) == "ERR Unknown option or number of arguments for SENTINEL DEBUG 'bogus'")
        #expect(SentinelTimings.names.allSatisfy { t[name: $0] != nil })
    }

    @Test func debugPeriodsDriveThePeriodicCommands() {
        let (s, _, m) = Fixture.make()
        let r = m.replicas["10.0.0.2:6000"]!
        r.infoRefresh = 10_000
        r.link.cmdConnTime = 0
        s.sendPeriodicCommands(r, now: 10_000 + 150)
        #expect(!(r.link.simulatedSent ?? []).contains(["INFO"]))
        s.timings.infoPeriod = 100
        s.sendPeriodicCommands(r, now: 10_000 + 150)
        #expect((r.link.simulatedSent ?? []).contains(["INFO"]))
        // PUBLISH-PERIOD too.
        r.link.lastPubTime = 10_000
        s.timings.publishPeriod = 100
        r.link.simulatedSent = []
        s.sendPeriodicCommands(r, now: 10_000 + 150)
        #expect((r.link.simulatedSent ?? []).contains { $0.first == "PUBLISH" })
    }

    /// Redis: a rebooted master that does not answer PONG within master-reboot-down-after-period
    /// (it is loading) is SDOWN; a PONG clears it.
    @Test func rebootedMasterWithoutPongIsDownAfterThePeriod() {
        let (s, _, m) = Fixture.make()
        m.downAfterMillis = 60_000
        m.masterRebootDownAfterMillis = 5000
        s.refreshFromInfo(m, Fixture.masterInfo(runID: String(repeating: "1", count: 40)), now: 1000)
        s.refreshFromInfo(m, Fixture.masterInfo(runID: String(repeating: "2", count: 40)), now: 2000)
        #expect(m.flags.contains(.masterRebootDown))
        // -LOADING keeps it available but is not a PONG.
        s.handlePingReply(m, .error("LOADING Redis is loading the dataset in memory"), now: 6000)
        s.checkSubjectivelyDown(m, now: 6000)
        #expect(!m.flags.contains(.sDown))
        s.checkSubjectivelyDown(m, now: 7001)
        #expect(m.flags.contains(.sDown))
        s.handlePingReply(m, .simpleString("PONG"), now: 7100)
        s.checkSubjectivelyDown(m, now: 7100)
        #expect(!m.flags.contains(.sDown) && !m.flags.contains(.masterRebootDown))
    }

    /// Redis never ends a failover whose promoted replica is unreachable; we end it at the
    /// failover timeout and switch to it.
    @Test func failoverWithAnUnreachablePromotedReplicaEndsAtTheTimeout() {
        let (s, rec, m) = Fixture.make()
        let r = m.replicas["10.0.0.2:6000"]!
        m.flags.insert(.failoverInProgress)
        m.failoverState = .reconfSlaves
        m.failoverStateChangeTime = 10_000
        m.promotedReplica = r
        r.flags.insert([.promoted, .sDown])
        s.failoverStep(m, now: 10_000 + m.failoverTimeout)
        #expect(m.failoverState == .reconfSlaves)
        s.failoverStep(m, now: 10_000 + m.failoverTimeout + 1)
        #expect(rec.has("+failover-end-for-timeout") && m.failoverState == .updateConfig)
        s.tick(now: 10_000 + m.failoverTimeout + 2)
        #expect(m.address == r.address && m.failoverState == .none)
    }

    /// The suite restarts a sentinel on the same port without its id: the old entry is replaced,
    /// the number of sentinels stays.
    @Test func sentinelReplacedAtTheSameAddressIsForgotten() {
        let (s, rec, m) = Fixture.make(peers: [Fixture.peerB])
        s.processHello("10.0.1.1,26379,\(Fixture.peerB),0,mymaster,10.0.0.1,6000,0", now: 1)
        #expect(m.sentinels.count == 1)
        let newID = String(repeating: "e", count: 40)
        s.processHello("10.0.1.1,26379,\(newID),0,mymaster,10.0.0.1,6000,0", now: 2)
        #expect(rec.has("+sentinel-invalid-addr"))
        #expect(m.sentinels.count == 1 && m.sentinels.values.first?.runID == newID)
    }

    @Test func newPeerGetsOurHelloAtOnce() {
        let (s, _, m) = Fixture.make(peers: [])
        m.link.lastPubTime = 1000
        s.processHello("10.0.1.9,26379,\(Fixture.peerB),0,mymaster,10.0.0.1,6000,0", now: 1100)
        #expect(m.link.lastPubTime == 0)
    }

    @Test func hostnamesAreAnnouncedOnlyWithAnnounceHostnames() {
        let (s, _, _) = Fixture.make(peers: [])
        s.settings.resolveHostnames = true
        let a = try! #require(s.makeAddress(host: "localhost", port: 6000))
        #expect(a.host == "localhost" && (a.ip == "127.0.0.1" || a.ip == "::1"))
        #expect(s.announced(a) == a.ip)
        s.settings.announceHostnames = true
        #expect(s.announced(a) == "localhost")
        #expect(s.addressMatches(a, a.ip) && s.addressMatches(a, "LOCALHOST"))
        s.settings.resolveHostnames = false
        #expect(s.makeAddress(host: "localhost", port: 6000) == nil)
        #expect(s.makeAddress(host: "10.1.2.3", port: 6000)?.ip == "10.1.2.3")
    }

    @Test func rewriteStateFollowsRedis() {
        var st = ConfigRewriteState(original: ["# c", "save 1 1", "sentinel monitor a 1.1.1.1 1 1", "", "", "save 2 2", "x unknown"])
        st.rewrite("save", "save 3 3", force: true)
        st.rewrite("sentinel monitor", "sentinel monitor a 2.2.2.2 2 1", force: true)
        st.rewrite("sentinel monitor", "sentinel monitor b 3.3.3.3 3 1", force: true)
        st.rewrite("port", "port 1", force: false)
        // The second save line is blanked (processed, unused), blank runs collapse, the unknown
        // line stays, new lines follow the signature.
        #expect(st.text() == "# c\nsave 3 3\nsentinel monitor a 2.2.2.2 2 1\n\nx unknown\n# Generated by CONFIG REWRITE\nsentinel monitor b 3.3.3.3 3 1\n")
    }
}

// Hosts and containers on the sentinel side: dead entries forgotten after
// `forget-unreachable-after`, the directive's config life, and replicas pointed at names.
@testable import Sentinel
import Shared
import Testing

@Suite struct HostnameTests {
    /// A fixture where replica 1 and peer B answered PING recently and the others never did.
    private func halfAnswering(limit: Int64) -> (Sentinel, EventRecorder, MonitoredInstance) {
        let (s, rec, m) = Fixture.make(now: 1000)
        s.settings.forgetUnreachableAfter = limit
        let alive = m.replicas.values.min { $0.name < $1.name }!
        s.handlePingReply(alive, .simpleString("PONG"), now: 2400)
        s.handlePingReply(m.sentinels[Fixture.peerB]!, .simpleString("PONG"), now: 2400)
        return (s, rec, m)
    }

    @Test func unreachableReplicasAndSentinelsAreForgottenAfterTheLimit() {
        let (s, rec, m) = halfAnswering(limit: 1000)
        s.configDirty = false
        s.forgetUnreachable(now: 2500)
        #expect(m.replicas.keys.sorted() == ["10.0.0.2:6000"])
        #expect(Array(m.sentinels.keys) == [Fixture.peerB])
        #expect(rec.message("-slave") == "slave 10.0.0.3:6000 10.0.0.3 6000 @ mymaster 10.0.0.1 6000 #unreachable for 1500 ms")
        #expect(rec.has("-sentinel"))
        #expect(s.configDirty, "the forgotten entries must leave the config file too")
        // The master itself is never forgotten, however long it is down.
        s.forgetUnreachable(now: 100_000)
        #expect(s.masters["mymaster"] === m)
    }

    @Test func nothingIsForgottenByDefaultInTiltOrDuringAFailover() {
        let (s, _, m) = halfAnswering(limit: 0)
        s.forgetUnreachable(now: 1_000_000)
        #expect(m.replicas.count == 2 && m.sentinels.count == 2)

        let (t, _, tm) = halfAnswering(limit: 1000)
        t.tilt = true
        t.forgetUnreachable(now: 2500)
        #expect(tm.replicas.count == 2 && tm.sentinels.count == 2)

        let (f, _, fm) = halfAnswering(limit: 1000)
        fm.failoverState = .reconfSlaves
        fm.flags.insert(.failoverInProgress)
        f.forgetUnreachable(now: 2500)
        #expect(fm.replicas.count == 2 && fm.sentinels.count == 2)
    }

    @Test func forgetUnreachableAfterIsLoadedRewrittenAndValidated() throws {
        let log = Logger()
        log.level = .nothing
        let s = Sentinel(log: log, clock: Clock(ManualTime(monotonicMillis: 0)))
        s.changeDirectory = { _ in }
        try s.loadConfig(ConfigFile.parse("sentinel forget-unreachable-after 30000\nsentinel monitor m 10.0.0.1 6379 2\n").directives, now: 0)
        #expect(s.settings.forgetUnreachableAfter == 30000)
        s.myID = Fixture.myID
        let out = s.rewrittenConfig(original: [], cwd: "")
        #expect(out.contains("sentinel forget-unreachable-after 30000\n"))
        s.settings.forgetUnreachableAfter = 0
        #expect(!s.rewrittenConfig(original: [], cwd: "").contains("forget-unreachable-after"), "the default is not written")
        #expect(s.applySentinelDirective(["forget-unreachable-after", "-5"], now: 0) != nil)
        #expect(s.applySentinelDirective(["forget-unreachable-after", "soon"], now: 0) != nil)
    }

    @Test func replicasArePointedAtTheMastersNameWithAnnounceHostnames() {
        let (s, _, m) = Fixture.make(peers: [])
        let r = m.replicas.values.min { $0.name < $1.name }!
        let named = InstanceAddress(host: "node-b", port: 6000, ip: "10.0.0.9")
        s.settings.announceHostnames = true
        r.link.simulatedSent = []
        #expect(s.sendSlaveOf(r, to: named))
        #expect(r.link.simulatedSent?.contains(["SLAVEOF", "node-b", "6000"]) == true)
        s.settings.announceHostnames = false
        r.link.simulatedSent = []
        #expect(s.sendSlaveOf(r, to: named))
        #expect(r.link.simulatedSent?.contains(["SLAVEOF", "10.0.0.9", "6000"]) == true)
    }

    @Test func aNameIsMatchedByNameWithoutALookup() {
        let (s, _, _) = Fixture.make(peers: [])
        s.settings.resolveHostnames = true
        // Unresolved (Redis accepts unresolved instance addresses with resolve-hostnames).
        let a = InstanceAddress(host: "node-a", port: 6000, ip: "")
        #expect(s.addressMatches(a, "NODE-A"))
        #expect(!s.addressMatches(a, "10.0.0.1"))
    }
}

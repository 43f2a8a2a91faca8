@testable import Sentinel
import Shared
import Testing

@Suite struct FailureDetectionTests {
    @Test func sdownAfterDownAfterMillisecondsWithoutValidReply() {
        let (s, rec, m) = Fixture.make()
        m.link.actPingTime = 1000
        s.checkSubjectivelyDown(m, now: 1400)
        #expect(!m.flags.contains(.sDown))
        s.checkSubjectivelyDown(m, now: 1501)
        #expect(m.flags.contains(.sDown))
        #expect(rec.message("+sdown") == "master mymaster 10.0.0.1 6000")
        // A valid reply (-LOADING counts) clears SDOWN on the next check.
        s.handlePingReply(m, .error("LOADING Redis is loading the dataset in memory"), now: 1600)
        s.checkSubjectivelyDown(m, now: 1601)
        #expect(!m.flags.contains(.sDown))
        #expect(rec.has("-sdown"))
    }

    @Test func sdownCountsFromLastValidReplyAcrossReconnects() {
        let (s, _, m) = Fixture.make()
        s.handlePingReply(m, .simpleString("PONG"), now: 1000)
        // The link broke and the reconnect attempt sent a fresh PING: unreachable since 1000 still.
        m.link.close(now: 1050)
        m.link.actPingTime = 1400
        s.checkSubjectivelyDown(m, now: 1500)
        #expect(!m.flags.contains(.sDown))
        s.checkSubjectivelyDown(m, now: 1501)
        #expect(m.flags.contains(.sDown))
    }

    @Test func mastersArePingedEveryTenthOfDownAfter() {
        let (s, _, m) = Fixture.make()
        let t = s.timings
        m.downAfterMillis = 1000
        #expect(m.fastPingPeriod(t) == 100)
        m.downAfterMillis = 200
        #expect(m.fastPingPeriod(t) == SentinelTiming.minFastPingPeriod)
        m.downAfterMillis = 30_000
        #expect(m.fastPingPeriod(t) == 1000 && m.pingPeriod(t) == 1000)
    }

    @Test func invalidPingReplyDoesNotProveAvailability() {
        let (s, _, m) = Fixture.make()
        m.link.actPingTime = 1000
        s.handlePingReply(m, .error("ERR something"), now: 1200)
        #expect(m.link.actPingTime == 1000)
        s.checkSubjectivelyDown(m, now: 1600)
        #expect(m.flags.contains(.sDown))
    }

    @Test func odownNeedsQuorumIncludingSelf() {
        let (s, rec, m) = Fixture.make(quorum: 3)
        m.flags.insert(.sDown)
        m.sentinels[Fixture.peerB]!.flags.insert(.masterDown)
        s.checkObjectivelyDown(m, now: 2000)
        #expect(!m.flags.contains(.oDown))
        m.sentinels[Fixture.peerC]!.flags.insert(.masterDown)
        s.checkObjectivelyDown(m, now: 2100)
        #expect(m.flags.contains(.oDown))
        #expect(rec.message("+odown") == "master mymaster 10.0.0.1 6000 #quorum 3/3")
        m.flags.remove(.sDown)
        s.checkObjectivelyDown(m, now: 2200)
        #expect(!m.flags.contains(.oDown))
        #expect(rec.has("-odown"))
    }

    @Test func peersAreAskedOnlyWhenSdownAndAnswersExpire() {
        let (s, _, m) = Fixture.make()
        let b = m.sentinels[Fixture.peerB]!
        s.askMasterStateToOtherSentinels(m, now: 10_000, force: false)
        #expect(b.link.simulatedSent?.isEmpty == true)
        m.flags.insert(.sDown)
        s.askMasterStateToOtherSentinels(m, now: 10_000, force: false)
        #expect(b.link.simulatedSent?.last == ["SENTINEL", "is-master-down-by-addr", "10.0.0.1", "6000", "0", "*"])
        s.handleIsMasterDownReply(b, .array([.integer(1), .bulkString(Array("*".utf8)), .integer(0)]), now: 10_010)
        #expect(b.flags.contains(.masterDown))
        // Without fresh answers the peer's opinion expires.
        s.askMasterStateToOtherSentinels(m, now: 10_010 + SentinelTiming.askValidity + 1, force: false)
        #expect(!b.flags.contains(.masterDown))
    }

    @Test func peersAreAskedOftenOnlyRightAfterSdown() {
        let (s, _, m) = Fixture.make()
        let b = m.sentinels[Fixture.peerB]!
        m.flags.insert(.sDown)
        m.sDownSince = 10_000
        let down = RESPValue.array([.integer(0), .bulkString(Array("*".utf8)), .integer(0)])
        s.askMasterStateToOtherSentinels(m, now: 10_000, force: false)
        s.handleIsMasterDownReply(b, down, now: 10_001)
        b.link.askInFlight = false
        s.askMasterStateToOtherSentinels(m, now: 10_000 + SentinelTiming.askPeriodBeforeODown, force: false)
        #expect(b.link.simulatedSent?.count == 1)
        s.askMasterStateToOtherSentinels(m, now: 10_001 + SentinelTiming.askPeriodBeforeODown, force: false)
        #expect(b.link.simulatedSent?.count == 2)
        // Long after SDOWN (only we see it down): back to the usual period.
        let late: Int64 = 10_000 + SentinelTiming.fastAskWindow + 10
        s.handleIsMasterDownReply(b, down, now: late)
        b.link.askInFlight = false
        s.askMasterStateToOtherSentinels(m, now: late + SentinelTiming.askPeriodBeforeODown, force: false)
        #expect(b.link.simulatedSent?.count == 2)
        s.askMasterStateToOtherSentinels(m, now: late + s.timings.askPeriod, force: false)
        #expect(b.link.simulatedSent?.count == 3)
    }

    @Test func malformedIsMasterDownReplyIsIgnored() {
        let (s, _, m) = Fixture.make()
        let b = m.sentinels[Fixture.peerB]!
        s.handleIsMasterDownReply(b, .array([.integer(1)]), now: 5)
        s.handleIsMasterDownReply(b, .error("ERR x"), now: 5)
        #expect(!b.flags.contains(.masterDown))
        #expect(b.lastMasterDownReplyTime == 0)
    }

    @Test func tiltOnTimerStallAndAnswersNotDown() {
        let (s, rec, m) = Fixture.make()
        m.flags.insert(.sDown)
        s.checkTiltCondition(now: 1000)
        s.checkTiltCondition(now: 1100)
        #expect(!s.tilt)
        #expect(s.isMasterDownByAddr(ip: "10.0.0.1", port: 6000, reqEpoch: 0, runid: "*", now: 1100).down)
        s.checkTiltCondition(now: 4000)
        #expect(s.tilt)
        #expect(rec.has("+tilt"))
        #expect(!s.isMasterDownByAddr(ip: "10.0.0.1", port: 6000, reqEpoch: 0, runid: "*", now: 4000).down)
        // TILT ends after the tilt period.
        s.handleInstance(m, now: 4000 + s.timings.tiltPeriod + 1)
        #expect(!s.tilt)
        #expect(rec.has("-tilt"))
    }

    @Test func infoParsing() {
        let text = "# Server\r\nrun_id:\(String(repeating: "f", count: 40))\r\n# Replication\r\nrole:master\r\nslave0:ip=127.0.0.1,port=7001,state=online,offset=5,lag=0\r\nslave1:127.0.0.1,7002,online\r\nslavebogus:ip=x\r\n"
        let r = InfoReport.parse(text)
        #expect(r.role == .master)
        #expect(r.runID == String(repeating: "f", count: 40))
        #expect(r.replicas == [InstanceAddress(ip: "127.0.0.1", port: 7001), InstanceAddress(ip: "127.0.0.1", port: 7002)])
        let q = InfoReport.parse(Fixture.replicaInfo(master: InstanceAddress(ip: "1.2.3.4", port: 9), offset: 77, priority: 0, linkUp: false))
        #expect(q.role == .slave && q.masterHost == "1.2.3.4" && q.masterPort == 9 && q.slaveReplOffset == 77 && q.slavePriority == 0 && q.masterLinkUp == false)
    }

    @Test func infoDiscoversReplicasAndDetectsReboot() {
        let (s, rec, m) = Fixture.make(replicas: 0)
        s.refreshFromInfo(m, Fixture.masterInfo(replicas: [InstanceAddress(ip: "10.0.0.9", port: 7000)], runID: String(repeating: "1", count: 40)), now: 2000)
        #expect(m.replicas["10.0.0.9:7000"] != nil)
        #expect(rec.message("+slave") == "slave 10.0.0.9:7000 10.0.0.9 7000 @ mymaster 10.0.0.1 6000")
        #expect(s.configDirty)
        s.refreshFromInfo(m, Fixture.masterInfo(runID: String(repeating: "2", count: 40)), now: 3000)
        #expect(rec.has("+reboot"))
    }
}

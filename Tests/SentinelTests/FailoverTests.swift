@testable import Sentinel
import Shared
import Testing

@Suite struct FailoverTests {
    /// A master in ODOWN with both peers voting for us in epoch 1.
    private func odownWithVotes() -> (Sentinel, EventRecorder, MonitoredInstance) {
        let (s, rec, m) = Fixture.make(now: 30_000)
        m.flags.insert([.sDown, .oDown])
        m.sDownSince = 29_000
        for p in m.sentinels.values { p.leader = Fixture.myID; p.leaderEpoch = 1 }
        return (s, rec, m)
    }

    @Test func replicaSelectionOrder() {
        let (s, _, m) = Fixture.make(replicas: 0)
        func add(_ ip: String, prio: Int, offset: Int64, runid: Character) -> MonitoredInstance {
            let r = s.addReplica(to: m, address: InstanceAddress(ip: ip, port: 1), now: 1000, announce: false)!
            r.link.simulatedSent = []
            r.slavePriority = prio; r.slaveReplOffset = offset; r.runID = String(repeating: runid, count: 40)
            r.infoRefresh = 1000
            return r
        }
        _ = add("10.0.0.2", prio: 100, offset: 500, runid: "1")
        let best = add("10.0.0.3", prio: 10, offset: 1, runid: "2")
        _ = add("10.0.0.4", prio: 0, offset: 9999, runid: "0")
        #expect(s.selectReplica(m, now: 1000) === best)
        best.slavePriority = 100
        // Equal priority: the highest offset wins.
        #expect(s.selectReplica(m, now: 1000)?.address.ip == "10.0.0.2")
        best.slaveReplOffset = 500
        // Equal offset: the smallest run id wins.
        #expect(s.selectReplica(m, now: 1000)?.address.ip == "10.0.0.2")
        m.replicas["10.0.0.2:1"]!.flags.insert(.sDown)
        #expect(s.selectReplica(m, now: 1000) === best)
        // Stale INFO disqualifies.
        best.infoRefresh = 1000 - SentinelTimings().infoPeriod * 3 - 1
        #expect(s.selectReplica(m, now: 1000) == nil)
    }

    @Test func disconnectedReplicaIsSkipped() {
        let (s, _, m) = Fixture.make(replicas: 1)
        m.replicas.values.first!.link.simulatedSent = nil
        #expect(s.selectReplica(m, now: 1000) == nil)
    }

    @Test func fullFailoverRun() {
        let (s, rec, m) = odownWithVotes()
        var now: Int64 = 30_000
        #expect(s.startFailoverIfNeeded(m, now: now))
        #expect(s.currentEpoch == 1 && m.failoverEpoch == 1)
        #expect(m.failoverState == .waitStart)
        #expect(rec.has("+try-failover"))
        for r in m.replicas.values { r.infoRefresh = now - 500 }
        s.failoverStateMachine(m, now: now)
        #expect(rec.has("+elected-leader"))
        // Selection waits for the fresh INFO it asked every replica for.
        #expect(m.failoverState == .selectSlave)
        for r in m.replicas.values { #expect(r.link.simulatedSent == [["INFO"]]) }
        now += 5
        // Replica 10.0.0.3 acknowledged more since the periodic INFO: the fresh offset decides.
        s.refreshFromInfo(m.replicas["10.0.0.2:6000"]!, Fixture.replicaInfo(master: m.address, offset: 500), now: now)
        #expect(m.failoverState == .selectSlave)
        s.refreshFromInfo(m.replicas["10.0.0.3:6000"]!, Fixture.replicaInfo(master: m.address, offset: 900), now: now)
        s.failoverStateMachine(m, now: now)
        let promoted = m.replicas["10.0.0.3:6000"]!
        #expect(m.promotedReplica === promoted)
        #expect(rec.message("+selected-slave") == "slave 10.0.0.3:6000 10.0.0.3 6000 @ mymaster 10.0.0.1 6000")
        // send-slaveof-noone follows in the same call; INFO right behind EXEC shows the promotion.
        #expect(promoted.link.simulatedSent == [["INFO"], ["MULTI"], ["SLAVEOF", "NO", "ONE"], ["CONFIG", "REWRITE"],
                                                ["CLIENT", "KILL", "TYPE", "normal"], ["CLIENT", "KILL", "TYPE", "pubsub"], ["EXEC"], ["INFO"]])
        #expect(m.failoverState == .waitPromotion)
        #expect(rec.has("+failover-state-wait-promotion"))
        now += 100
        s.refreshFromInfo(promoted, Fixture.masterInfo(), now: now)
        #expect(rec.has("+promoted-slave"))
        #expect(m.failoverState == .reconfSlaves)
        #expect(m.configEpoch == 1)
        // The hello now announces the promoted replica with the new config epoch.
        #expect(s.helloPayload(for: m, announceIP: "1.1.1.1").hasSuffix(",mymaster,10.0.0.3,6000,1"))
        let other = m.replicas["10.0.0.2:6000"]!
        s.failoverStateMachine(m, now: now)
        #expect(other.flags.contains(.reconfSent))
        #expect(other.link.simulatedSent?.contains(["SLAVEOF", "10.0.0.3", "6000"]) == true)
        // The new configuration was published at once to every reachable link.
        for p in m.sentinels.values { #expect(p.link.simulatedSent?.contains { $0.first == "PUBLISH" && $0.last?.hasSuffix(",10.0.0.3,6000,1") == true } == true) }
        #expect(rec.has("+slave-reconf-sent"))
        s.refreshFromInfo(other, Fixture.replicaInfo(master: promoted.address, linkUp: false), now: now)
        #expect(other.flags.contains(.reconfInprog))
        s.refreshFromInfo(other, Fixture.replicaInfo(master: promoted.address, linkUp: true), now: now)
        #expect(other.flags.contains(.reconfDone))
        #expect(rec.has("+slave-reconf-done"))
        s.failoverStateMachine(m, now: now)
        #expect(rec.has("+failover-end"))
        #expect(m.failoverState == .updateConfig)
        s.tick(now: now + 10)
        #expect(rec.message("+switch-master") == "mymaster 10.0.0.1 6000 10.0.0.3 6000")
        #expect(m.address == InstanceAddress(ip: "10.0.0.3", port: 6000))
        // The history (SENTINEL HISTORY, GET /history) has the switch, led by us, forced.
        #expect(s.history.records.map { [$0.master, String($0.epoch), $0.from, $0.to, $0.role] } == [["mymaster", "1", "10.0.0.1:6000", "10.0.0.3:6000", "leader"]])
        #expect(s.history.records.first?.coordinated == false && s.history.counts["mymaster"] == 1)
        #expect(m.failoverState == .none && !m.flags.contains(.failoverInProgress))
        // The old master is now a replica; the promoted one is not listed as its own replica.
        #expect(Set(m.replicas.keys) == ["10.0.0.1:6000", "10.0.0.2:6000"])
        let states = rec.types.filter { $0.hasPrefix("+failover-state-") }
        #expect(states == ["+failover-state-select-slave", "+failover-state-send-slaveof-noone",
                           "+failover-state-wait-promotion", "+failover-state-reconf-slaves"])
    }

    @Test func selectionProceedsWhenFreshInfoDoesNotArrive() {
        let (s, rec, m) = odownWithVotes()
        for r in m.replicas.values { r.infoRefresh = 29_000 }
        #expect(s.startFailoverIfNeeded(m, now: 30_000))
        s.failoverStateMachine(m, now: 30_000)
        s.failoverStateMachine(m, now: 30_000 + SentinelTiming.selectRefreshTimeout - 1)
        #expect(m.failoverState == .selectSlave && !rec.has("+selected-slave"))
        s.failoverStateMachine(m, now: 30_000 + SentinelTiming.selectRefreshTimeout)
        #expect(rec.has("+selected-slave"))
        #expect(m.failoverState == .waitPromotion)
    }

    @Test func notElectedAbortsAfterElectionTimeout() {
        let (s, rec, m) = Fixture.make()
        m.flags.insert([.sDown, .oDown])
        #expect(s.startFailoverIfNeeded(m, now: 50_000))
        s.failoverStateMachine(m, now: 50_100)
        #expect(m.failoverState == .waitStart)
        let timeout = min(SentinelTimings().electionTimeout, m.failoverTimeout)
        s.failoverStateMachine(m, now: 50_000 + timeout + 1)
        #expect(rec.has("-failover-abort-not-elected"))
        #expect(m.failoverState == .none && !m.flags.contains(.failoverInProgress))
        // A retry waits for twice the failover timeout.
        #expect(!s.startFailoverIfNeeded(m, now: 50_000 + timeout + 2))
        #expect(s.startFailoverIfNeeded(m, now: 50_000 + m.failoverTimeout * 2 + 1))
        #expect(s.currentEpoch == 2)
    }

    @Test func noGoodReplicaAborts() {
        let (s, rec, m) = odownWithVotes()
        for r in m.replicas.values { r.slavePriority = 0 }
        #expect(s.startFailoverIfNeeded(m, now: 30_000))
        s.failoverStateMachine(m, now: 30_000)
        s.failoverStateMachine(m, now: 30_000)
        #expect(rec.has("-failover-abort-no-good-slave"))
        #expect(m.failoverState == .none)
    }

    @Test func promotionTimeoutAborts() {
        let (s, rec, m) = odownWithVotes()
        #expect(s.startFailoverIfNeeded(m, now: 30_000))
        for _ in 0..<3 { s.failoverStateMachine(m, now: 30_000) }
        #expect(m.failoverState == .waitPromotion)
        let promoted = m.promotedReplica
        s.failoverStateMachine(m, now: 30_000 + m.failoverTimeout + 1)
        #expect(rec.has("-failover-abort-slave-timeout"))
        #expect(m.failoverState == .none)
        #expect(promoted?.flags.contains(.promoted) == false)
    }

    @Test func reconfigurationEndsOnTimeout() {
        let (s, rec, m) = odownWithVotes()
        #expect(s.startFailoverIfNeeded(m, now: 30_000))
        for _ in 0..<3 { s.failoverStateMachine(m, now: 30_000) }
        s.refreshFromInfo(m.promotedReplica!, Fixture.masterInfo(), now: 30_100)
        s.failoverStateMachine(m, now: 30_100)
        #expect(m.failoverState == .reconfSlaves)
        s.failoverStateMachine(m, now: 30_100 + m.failoverTimeout + 1)
        #expect(rec.has("+failover-end-for-timeout"))
        #expect(m.failoverState == .updateConfig)
    }

    @Test func returningOldMasterIsConverted() {
        let (s, rec, m) = Fixture.make()
        // The master looks sane; a listed replica claims to be a master.
        m.infoRefresh = 100_000
        let r = m.replicas["10.0.0.2:6000"]!
        s.refreshFromInfo(r, Fixture.masterInfo(), now: 100_000)
        #expect(!rec.has("+convert-to-slave"))
        let wait = SentinelTimings().publishPeriod * 2
        m.infoRefresh = 100_000 + wait
        s.refreshFromInfo(r, Fixture.masterInfo(), now: 100_000 + wait + 1)
        #expect(rec.has("+convert-to-slave"))
        #expect(r.link.simulatedSent?.contains(["SLAVEOF", "10.0.0.1", "6000"]) == true)
    }

    /// Hello from a peer as it arrives on the hello channel.
    private func hello(_ s: Sentinel, from id: String, ip: String, master: InstanceAddress, configEpoch: UInt64, now: Int64) {
        s.processHello("\(ip),26379,\(id),\(s.currentEpoch),mymaster,\(master.ip),\(master.port),\(configEpoch)", now: now)
    }

    @Test func returningOldMasterIsDemotedAtOnceWhenAMajorityConfirmsOurView() {
        let (s, rec, m) = Fixture.make()
        m.infoRefresh = 100_000
        hello(s, from: Fixture.peerB, ip: "10.0.1.1", master: m.address, configEpoch: 0, now: 99_000)
        #expect(s.viewConfirmedCurrent(m, now: 100_000))
        let r = m.replicas["10.0.0.2:6000"]!
        r.link.disconnectedSince = 90_000
        r.flags.insert(.sDown)
        r.sDownSince = 90_000
        // Back from the dead (our link to it is 100 ms old): Redis's guard would wait; the confirmed
        // view does not.
        r.link.cmdConnTime = 99_900
        s.refreshFromInfo(r, Fixture.masterInfo(), now: 100_000)
        #expect(rec.has("+convert-to-slave"))
        #expect(r.link.simulatedSent?.contains(["SLAVEOF", "10.0.0.1", "6000"]) == true)
    }

    @Test func replicaWatchedTurningMasterOrPendingElectionKeepsRedisGuard() {
        for pendingElection in [false, true] {
            let (s, rec, m) = Fixture.make()
            m.infoRefresh = 100_000
            hello(s, from: Fixture.peerB, ip: "10.0.1.1", master: m.address, configEpoch: 0, now: 99_000)
            let r = m.replicas["10.0.0.2:6000"]!
            if pendingElection {
                // Just reconnected, but we voted in epoch 3 and no config of epoch 3 reached us yet.
                r.link.cmdConnTime = 99_900
                m.leaderEpoch = 3
            } else {
                // Connected for a long time: we watched it become a master.
                r.link.cmdConnTime = 10_000
            }
            s.refreshFromInfo(r, Fixture.masterInfo(), now: 100_000)
            #expect(!rec.has("+convert-to-slave"))
        }
    }

    @Test func returningNodeClaimingMasterIsPolledClosely() {
        for (connectedAgo, expectInfo) in [(Int64(100), true), (Int64(60_000), false)] {
            let (s, _, m) = Fixture.make()
            let r = m.replicas["10.0.0.2:6000"]!
            r.roleReported = .master
            // As INFO leaves it for a node reporting role master: no replication link.
            r.slaveMasterLinkUp = false
            r.link.cmdConnTime = 100_000 - connectedAgo
            r.infoRefresh = 100_000 - SentinelTiming.nodeReconnectPeriod - 1
            s.sendPeriodicCommands(r, now: 100_000)
            #expect((r.link.simulatedSent?.contains(["INFO"]) ?? false) == expectInfo)
        }
    }

    @Test func unconfirmedViewKeepsRedisGuard() {
        let clock: [Int64] = [100_000, 100_000 + SentinelTiming.helloConfirmWindow + 1]
        for (i, now) in clock.enumerated() {
            let (s, rec, m) = Fixture.make()
            m.infoRefresh = now
            if i == 0 {
                // A majority of hellos, but announcing a newer config epoch than ours.
                hello(s, from: Fixture.peerB, ip: "10.0.1.1", master: m.address, configEpoch: 0, now: now - 10)
                m.sentinels[Fixture.peerB]!.helloConfigEpoch = 7
            } else {
                // Hellos that agree, but too old to confirm anything now.
                hello(s, from: Fixture.peerB, ip: "10.0.1.1", master: m.address, configEpoch: 0, now: 100_000)
                hello(s, from: Fixture.peerC, ip: "10.0.1.2", master: m.address, configEpoch: 0, now: 100_000)
            }
            #expect(!s.viewConfirmedCurrent(m, now: now))
            let r = m.replicas["10.0.0.2:6000"]!
            r.link.cmdConnTime = now - 100
            s.refreshFromInfo(r, Fixture.masterInfo(), now: now)
            #expect(!rec.has("+convert-to-slave"))
            // Redis's guard still applies: after the wait it is converted anyway.
            let later = now + SentinelTimings().publishPeriod * 2 + 1
            m.infoRefresh = later
            s.refreshFromInfo(r, Fixture.masterInfo(), now: later)
            #expect(rec.has("+convert-to-slave"))
        }
    }

    @Test func helloAnnouncingAnotherMasterDoesNotConfirm() {
        let (s, _, m) = Fixture.make()
        hello(s, from: Fixture.peerB, ip: "10.0.1.1", master: InstanceAddress(ip: "10.0.0.1", port: 6000), configEpoch: 0, now: 1000)
        hello(s, from: Fixture.peerC, ip: "10.0.1.2", master: InstanceAddress(ip: "10.0.0.1", port: 6000), configEpoch: 0, now: 1000)
        #expect(s.viewConfirmedCurrent(m, now: 1000))
        m.sentinels[Fixture.peerB]!.helloMasterAddress = InstanceAddress(ip: "10.0.0.9", port: 6000)
        m.sentinels[Fixture.peerC]!.helloMasterAddress = InstanceAddress(ip: "10.0.0.9", port: 6000)
        #expect(!s.viewConfirmedCurrent(m, now: 1000))
    }

    @Test func replicaPointingElsewhereIsFixedAfterFailoverTimeout() {
        let (s, rec, m) = Fixture.make()
        let r = m.replicas["10.0.0.2:6000"]!
        m.infoRefresh = 1000
        s.refreshFromInfo(r, Fixture.replicaInfo(master: InstanceAddress(ip: "9.9.9.9", port: 1)), now: 1000)
        #expect(!rec.has("+fix-slave-config"))
        m.infoRefresh = 1000 + m.failoverTimeout + 1
        s.refreshFromInfo(r, Fixture.replicaInfo(master: InstanceAddress(ip: "9.9.9.9", port: 1)), now: 1000 + m.failoverTimeout + 1)
        #expect(rec.has("+fix-slave-config"))
    }
}

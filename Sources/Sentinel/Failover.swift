// The failover state machine (Redis's names and events): wait-start → select-slave →
// send-slaveof-noone → wait-promotion → reconf-slaves → update-config, then the switch.
import Shared

extension Sentinel {
    // MARK: - Starting

    /// Starts a failover when the master is ODOWN, none is running, and the last attempt is old enough.
    func startFailoverIfNeeded(_ m: MonitoredInstance, now: Int64) -> Bool {
        guard m.flags.contains(.oDown), !m.flags.contains(.failoverInProgress) else { return false }
        if now - m.failoverStartTime < m.failoverTimeout * 2 {
            if m.failoverDelayLogged != m.failoverStartTime {
                m.failoverDelayLogged = m.failoverStartTime
                log.warning("Next failover delay: I will not start a failover before \(m.failoverStartTime + m.failoverTimeout * 2 - now) ms from now")
            }
            return false
        }
        startFailover(m, now: now)
        return true
    }

    /// Enters wait-start in a fresh epoch.
    func startFailover(_ m: MonitoredInstance, now: Int64) {
        m.failoverState = .waitStart
        m.flags.insert(.failoverInProgress)
        currentEpoch += 1
        m.failoverEpoch = currentEpoch
        flushConfig()
        event(.warning, "+new-epoch", message: "\(currentEpoch)", master: m)
        event(.warning, "+try-failover", m)
        m.failoverStartTime = now + Int64(random() % UInt64(SentinelTiming.maxDesync))
        m.failoverStateChangeTime = now
    }

    // MARK: - The state machine

    /// Advances a failover in progress as far as it can go now: states that need no answer from
    /// anyone (elected → select → send) follow each other in one call instead of one per tick.
    func failoverStateMachine(_ m: MonitoredInstance, now: Int64) {
        for _ in 0..<4 {
            let before = m.failoverState
            failoverStep(m, now: now)
            if m.failoverState == before || m.failoverState == .reconfSlaves || m.failoverState == .none { return }
        }
    }

    /// One step of the failover state machine.
    func failoverStep(_ m: MonitoredInstance, now: Int64) {
        guard m.flags.contains(.failoverInProgress) else { return }
        switch m.failoverState {
        case .none, .updateConfig:
            // update-config is finished by the timer once all masters were handled.
            break
        case .waitStart:
            let winner = leader(of: m, epoch: m.failoverEpoch, now: now)
            let isLeader = winner == myID
            if !isLeader && !m.flags.contains(.forceFailover) {
                let electionTimeout = min(timings.electionTimeout, m.failoverTimeout)
                if now - m.failoverStartTime > electionTimeout {
                    event(.warning, "-failover-abort-not-elected", m)
                    abortFailover(m, now: now)
                }
                return
            }
            event(.warning, "+elected-leader", m)
            if simulateCrashAfterElection { crashForSimulation() }
            setFailoverState(m, .selectSlave, now: now)
        case .selectSlave:
            // Offsets from the periodic INFO can be seconds old: a replica that acknowledged a WAIT
            // since then must not be passed over. Ask every replica now and choose once all
            // answered (or after a short timeout).
            if m.selectRefreshRequested == 0 {
                m.selectRefreshRequested = now
                for r in m.replicas.values where r.link.isUp { requestInfo(r, thenAdvance: m) }
            }
            let waiting = m.replicas.values.contains { $0.link.isUp && $0.infoRefresh < m.selectRefreshRequested }
            if waiting && now - m.selectRefreshRequested < SentinelTiming.selectRefreshTimeout { return }
            guard let r = selectReplica(m, now: now) else {
                event(.warning, "-failover-abort-no-good-slave", m)
                abortFailover(m, now: now)
                return
            }
            event(.warning, "+selected-slave", r)
            r.flags.insert(.promoted)
            m.promotedReplica = r
            setFailoverState(m, .sendSlaveofNoOne, now: now)
        case .sendSlaveofNoOne:
            guard let r = m.promotedReplica else { abortFailover(m, now: now); return }
            if !r.link.isUp {
                if now - m.failoverStateChangeTime > m.failoverTimeout {
                    event(.warning, "-failover-abort-slave-timeout", r)
                    abortFailover(m, now: now)
                }
                return
            }
            if m.flags.contains(.coordinatedFailover) {
                guard sendCoordinatedHandover(m, to: r) else { return }
            } else {
                guard sendSlaveOf(r, to: nil) else { return }
            }
            event(.notice, "+failover-state-wait-promotion", r)
            m.failoverState = .waitPromotion
            m.failoverStateChangeTime = now
            // Replies come in order: this INFO is answered right after EXEC, so the promotion is
            // seen one round trip after it happened instead of at the next INFO period.
            requestInfo(r, thenAdvance: m)
        case .waitPromotion:
            // The promotion itself is noticed in the INFO reply of the promoted replica.
            if m.flags.contains(.coordinatedFailover) { pollCoordinatedPromotion(m, now: now) }
            if now - m.failoverStateChangeTime > m.failoverTimeout {
                if let r = m.promotedReplica { event(.warning, "-failover-abort-slave-timeout", r) }
                abortFailover(m, now: now)
            }
        case .reconfSlaves:
            reconfigureNextReplicas(m, now: now)
        }
    }

    /// Sends INFO to `r` now (even if one is in flight) and runs the failover state machine of
    /// `m` when the answer is applied.
    func requestInfo(_ r: MonitoredInstance, thenAdvance m: MonitoredInstance) {
        r.link.send([r.command("INFO")]) { [weak self, weak r, weak m] reply in
            guard let self, let r else { return }
            let now = self.clock.monotonicMillis()
            if let text = reply.string, !reply.isError { self.refreshFromInfo(r, text, now: now) }
            if let m, !self.tilt { self.failoverStateMachine(m, now: now) }
        }
    }

    /// Moves to `state` and announces it as `+failover-state-<name>`.
    func setFailoverState(_ m: MonitoredInstance, _ state: FailoverState, now: Int64) {
        m.failoverState = state
        m.failoverStateChangeTime = now
        if state == .selectSlave { m.selectRefreshRequested = 0 }
        event(.notice, "+failover-state-" + state.name.replacingUnderscores(), m)
    }

    /// Called when the promoted replica reports role master.
    func promotionObserved(_ m: MonitoredInstance, _ r: MonitoredInstance, now: Int64) {
        m.configEpoch = m.failoverEpoch
        m.failoverState = .reconfSlaves
        m.failoverStateChangeTime = now
        flushConfig()
        event(.warning, "+promoted-slave", r)
        if simulateCrashAfterPromotion { crashForSimulation() }
        event(.notice, "+failover-state-reconf-slaves", m)
        if m.flags.contains(.coordinatedFailover) { finishCoordinatedHandover(m, promoted: r) }
        callClientReconfigScript(m, role: "leader", state: "start", from: m.address, to: r.address)
        // Tell everyone at once: the new config epoch stops other sentinels' failovers and makes
        // them (and the clients asking them) switch to the new master now, not at failover end.
        forceHelloUpdate(m)
        for ri in [r] + Array(m.replicas.values.filter { $0 !== r }) + Array(m.sentinels.values) { sendHello(ri, now: now) }
    }

    /// Gives up the failover; promoted/reconf flags are cleared.
    func abortFailover(_ m: MonitoredInstance, now: Int64) {
        // After the promotion the failover can only end or time out, not be aborted.
        guard m.failoverState.rawValue <= FailoverState.waitPromotion.rawValue else { return }
        abortCoordinatedHandover(m)
        m.flags.remove([.failoverInProgress, .forceFailover])
        m.failoverState = .none
        m.failoverStateChangeTime = now
        if let r = m.promotedReplica {
            r.flags.remove(.promoted)
            m.promotedReplica = nil
        }
    }

    // MARK: - Replica selection

    /// The best replica to promote, or nil (Redis's sentinelSelectSlave).
    func selectReplica(_ m: MonitoredInstance, now: Int64) -> MonitoredInstance? {
        var maxMasterDownTime: Int64 = 0
        if m.flags.contains(.sDown) { maxMasterDownTime += now - m.sDownSince }
        maxMasterDownTime += m.downAfterMillis * 10
        let infoValidity: Int64 = m.flags.contains(.sDown) ? timings.pingPeriod * 5 : timings.infoPeriod * 3
        let candidates = m.replicas.values.filter { r in
            if !r.flags.isDisjoint(with: [.sDown, .oDown]) { return false }
            if !r.link.isUp { return false }
            if now - r.link.lastAvailTime > timings.pingPeriod * 5 { return false }
            if r.slavePriority == 0 { return false }
            if r.infoRefresh == 0 || now - r.infoRefresh > infoValidity { return false }
            if r.masterLinkDownTime > maxMasterDownTime { return false }
            return true
        }
        return candidates.min(by: Sentinel.replicaOrder)
    }

    /// Better replicas sort first: lower priority, then higher offset, then smaller run id.
    static func replicaOrder(_ a: MonitoredInstance, _ b: MonitoredInstance) -> Bool {
        if a.slavePriority != b.slavePriority { return a.slavePriority < b.slavePriority }
        if a.slaveReplOffset != b.slaveReplOffset { return a.slaveReplOffset > b.slaveReplOffset }
        switch (a.runID, b.runID) {
        case (nil, nil): return a.name < b.name
        case (nil, _): return false
        case (_, nil): return true
        case let (x?, y?): return x < y
        }
    }

    // MARK: - Commands to nodes

    /// Sends `MULTI; SLAVEOF host port|NO ONE; CONFIG REWRITE; CLIENT KILL TYPE normal; CLIENT KILL
    /// TYPE pubsub; EXEC` so the change persists and clients reconnect to the right node.
    @discardableResult
    func sendSlaveOf(_ ri: MonitoredInstance, to addr: InstanceAddress?) -> Bool {
        // As Redis: the name with announce-hostnames (the replica resolves it, and follows it when
        // the new master's address changes), else the IP.
        let target = addr.map { [announced($0), String($0.port)] } ?? ["NO", "ONE"]
        return ri.link.sendBatch([
            [ri.command("MULTI")],
            [ri.command("SLAVEOF")] + target,
            [ri.command("CONFIG"), "REWRITE"],
            [ri.command("CLIENT"), "KILL", "TYPE", "normal"],
            [ri.command("CLIENT"), "KILL", "TYPE", "pubsub"],
            [ri.command("EXEC")],
        ])
    }

    // MARK: - Reconfiguring replicas

    /// Points up to parallel-syncs replicas at a time to the promoted one, then checks for the end.
    func reconfigureNextReplicas(_ m: MonitoredInstance, now: Int64) {
        guard let promoted = m.promotedReplica else { return }
        var inProgress = m.replicas.values.filter { !$0.flags.isDisjoint(with: [.reconfSent, .reconfInprog]) }.count
        for r in m.replicas.values.sorted(by: { $0.name < $1.name }) where inProgress < m.parallelSyncs {
            if r === promoted || r.flags.contains(.reconfDone) { continue }
            if r.flags.contains(.reconfSent) && now - r.slaveReconfSentTime > timings.slaveReconfTimeout {
                event(.notice, "-slave-reconf-sent-timeout", r)
                r.flags.remove(.reconfSent)
                r.flags.insert(.reconfDone)
                continue
            }
            if !r.flags.isDisjoint(with: [.reconfSent, .reconfInprog]) { continue }
            if !r.link.isUp { continue }
            if sendSlaveOf(r, to: promoted.address) {
                r.flags.insert(.reconfSent)
                r.slaveReconfSentTime = now
                event(.notice, "+slave-reconf-sent", r)
                inProgress += 1
            }
        }
        detectFailoverEnd(m, now: now)
    }

    /// Ends the failover when every reachable replica is reconfigured (or on timeout).
    func detectFailoverEnd(_ m: MonitoredInstance, now: Int64) {
        // Redis waits for an unreachable promoted replica forever, and meanwhile follows no other
        // configuration for this master; past the failover timeout we end anyway, switch to it,
        // and let failure detection handle it like any master that is down.
        let expired = now - m.failoverStateChangeTime > m.failoverTimeout
        guard let promoted = m.promotedReplica, expired || !promoted.flags.contains(.sDown) else { return }
        var notReconfigured = 0
        for r in m.replicas.values {
            if !r.flags.isDisjoint(with: [.promoted, .reconfDone]) { continue }
            if r.flags.contains(.sDown) { continue }
            notReconfigured += 1
        }
        var timedOut = false
        if expired {
            notReconfigured = 0
            timedOut = true
            event(.warning, "+failover-end-for-timeout", m)
        }
        guard notReconfigured == 0 else { return }
        event(.warning, "+failover-end", m)
        m.failoverState = .updateConfig
        m.failoverStateChangeTime = now
        if timedOut {
            // Best effort: send the remaining replicas the new address anyway.
            for r in m.replicas.values where r.flags.isDisjoint(with: [.promoted, .reconfDone, .reconfSent]) {
                if sendSlaveOf(r, to: promoted.address) { event(.notice, "+slave-reconf-sent-be", r) }
            }
        }
    }

    /// Makes the promoted replica our master (Redis's sentinelFailoverSwitchToPromotedSlave).
    func switchToPromotedReplica(_ m: MonitoredInstance, now: Int64) {
        guard let r = m.promotedReplica else { abortFailover(m, now: now); m.failoverState = .none; return }
        let old = m.address
        event(.warning, "+switch-master", message: "\(m.name) \(announced(old)) \(old.port) \(announced(r.address)) \(r.address.port)", master: m)
        recordSwitch(m, from: old, to: r.address, leader: true)
        resetMasterAndChangeAddress(m, to: r.address, now: now)
    }

    /// SIMULATE-FAILURE: die as a crashed sentinel would.
    func crashForSimulation() {
        log.warning("Simulated failure: exiting")
        exitProcess(99)
    }
}

extension String {
    /// `wait_start` → `wait-start` (event names use dashes).
    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}

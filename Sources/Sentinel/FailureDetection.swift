// Subjective and objective failure detection: SDOWN from our own PINGs, ODOWN from the answers of
// peer sentinels to `SENTINEL is-master-down-by-addr`.
import Shared

extension Sentinel {
    // MARK: - SDOWN

    /// Marks `ri` subjectively down when it failed to answer PING for down-after-milliseconds
    /// (or a master keeps reporting itself a replica); also recycles links that look stuck.
    func checkSubjectivelyDown(_ ri: MonitoredInstance, now: Int64) {
        let link = ri.link
        // Redis counts from the oldest unanswered PING, so a reconnect attempt after a crash (which
        // sends a fresh PING) restarts the count and SDOWN lands up to a ping period late. A master
        // has in fact been unreachable since its last valid reply: count from that, as soon as a
        // PING is outstanding or the link is down. Only masters: they are pinged every
        // down-after/10 (`fastPingPeriod`), so a healthy one never gets near the limit between
        // replies; replicas and sentinels, pinged every down-after, keep Redis's rule.
        var elapsed: Int64 = 0
        if ri.isMaster && (link.actPingTime != 0 || link.disconnected) {
            elapsed = now - link.lastAvailTime
        } else if link.actPingTime != 0 {
            elapsed = now - link.actPingTime
        } else if link.disconnected {
            elapsed = now - link.lastAvailTime
        }
        // A connection that is up but does not answer may be broken in a way TCP hides: reconnect.
        if link.cmd != nil && !link.disconnected && now - link.cmdConnTime > timings.minLinkReconnectPeriod
            && link.actPingTime != 0 && now - link.actPingTime > ri.downAfterMillis / 2
            && now - link.lastPongTime > ri.downAfterMillis / 2 {
            link.close(now: now)
        }
        if link.pubsub != nil && !link.disconnected && now - link.pubsubConnTime > timings.minLinkReconnectPeriod
            && now - link.pubsubLastActivity > timings.publishPeriod * 3 {
            link.closePubsub(now: now)
        }
        let roleMismatch = ri.isMaster && ri.roleReported == .slave
            && now - ri.roleReportedTime > ri.downAfterMillis + timings.infoPeriod * 2
        // A master that rebooted (new run id) and has not answered PONG since (it may be loading)
        // is down once master-reboot-down-after-period has passed.
        let rebootDown = ri.flags.contains(.masterRebootDown) && now - ri.rebootTime > ri.masterRebootDownAfterMillis
        if elapsed > ri.downAfterMillis || roleMismatch || rebootDown {
            if !ri.flags.contains(.sDown) {
                event(.warning, "+sdown", ri)
                ri.sDownSince = now
                ri.flags.insert(.sDown)
            }
        } else if ri.flags.contains(.sDown) {
            event(.warning, "-sdown", ri)
            ri.flags.remove([.sDown, .scriptKillSent])
        }
    }

    // MARK: - ODOWN

    /// Counts sentinels (us included) that consider the master down; ODOWN at `quorum`.
    func checkObjectivelyDown(_ m: MonitoredInstance, now: Int64) {
        var votes = 0
        var odown = false
        if m.flags.contains(.sDown) {
            votes = 1
            for s in m.sentinels.values where s.flags.contains(.masterDown) { votes += 1 }
            odown = votes >= m.quorum
        }
        if odown {
            if !m.flags.contains(.oDown) {
                event(.warning, "+odown", m, "#quorum \(votes)/\(m.quorum)")
                m.flags.insert(.oDown)
                m.oDownSince = now
            }
        } else if m.flags.contains(.oDown) {
            event(.warning, "-odown", m)
            m.flags.remove(.oDown)
        }
    }

    /// Asks peers whether they see `m` down (and, during our failover, for their vote).
    /// `force` skips the rate limit (right after a failover starts).
    func askMasterStateToOtherSentinels(_ m: MonitoredInstance, now: Int64, force: Bool) {
        for s in m.sentinels.values {
            let elapsed = now - s.lastMasterDownReplyTime
            // Stale answers are forgotten: a peer that stopped answering no longer counts.
            if elapsed > max(SentinelTiming.askValidity, timings.askPeriod * 5) {
                s.flags.remove(.masterDown)
                s.leader = nil
            }
            // A coordinated failover asks for votes with the master up.
            guard m.flags.contains(.sDown) || m.flags.contains(.coordinatedFailover), s.link.isUp else { continue }
            // Right after SDOWN every round trip counts: peers reach SDOWN within a ping period of
            // us. Later (only we see it down, or it is ODOWN already) the usual period will do.
            let fresh = !m.flags.contains(.oDown) && now - m.sDownSince < SentinelTiming.fastAskWindow
            let period = fresh ? min(SentinelTiming.askPeriodBeforeODown, timings.askPeriod) : timings.askPeriod
            if !force && elapsed < period { continue }
            if s.link.askInFlight && !force { continue }
            let runid = m.failoverState != .none ? myID : "*"
            let ok = s.link.send([s.command("SENTINEL"), "is-master-down-by-addr", announced(m.address), String(m.address.port),
                                  String(currentEpoch), runid]) { [weak self, weak s] reply in
                guard let self, let s else { return }
                s.link.askInFlight = false
                let now = self.clock.monotonicMillis()
                self.handleIsMasterDownReply(s, reply, now: now)
                // Act on the answer now rather than on the next tick: it may complete the quorum or
                // the election.
                if let m = s.master, !self.tilt { self.advanceFailureHandling(m, now: now) }
            }
            if ok { s.link.askInFlight = true }
        }
    }

    /// Records a peer's `[down, leader, leader_epoch]` answer.
    func handleIsMasterDownReply(_ s: MonitoredInstance, _ reply: RESPValue, now: Int64) {
        guard case .array(let r) = reply, r.count == 3, case .integer(let down) = r[0],
              let leader = r[1].string, !r[1].isError, case .integer(let epoch) = r[2], epoch >= 0 else { return }
        s.lastMasterDownReplyTime = now
        if down == 1 { s.flags.insert(.masterDown) } else { s.flags.remove(.masterDown) }
        if leader != "*" {
            if s.leader != leader || s.leaderEpoch != UInt64(epoch) {
                event(.debug, "+vote-for-leader", s, "\(leader) \(epoch)")
            }
            s.leader = leader
            s.leaderEpoch = UInt64(epoch)
        }
    }

    /// Our answer to `SENTINEL is-master-down-by-addr`: down flag, leader voted for, its epoch.
    func isMasterDownByAddr(ip: String, port: Int, reqEpoch: UInt64, runid: String, now: Int64) -> (down: Bool, leader: String?, epoch: UInt64) {
        guard let m = master(at: ip, port: port) else { return (false, nil, 0) }
        let down = !tilt && m.flags.contains(.sDown)
        if runid != "*" {
            let v = voteLeader(m, reqEpoch: reqEpoch, reqRunID: runid, now: now)
            return (down, v.leader, v.epoch)
        }
        return (down, nil, 0)
    }
}

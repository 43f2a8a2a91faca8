// Forgetting dead entries (`sentinel forget-unreachable-after <ms>`, vigil's, off by default as
// Redis never forgets). In containers a replica or a sentinel that is rescheduled comes back with a
// new address (and a sentinel maybe with a new id): the old entry stays forever, is reported by
// SENTINEL REPLICAS/SENTINELS, is rewritten into the config, and an old sentinel entry raises the
// majority a failover needs. Redis's answer is a manual SENTINEL RESET on every sentinel; this does
// it per entry, for the entries that have given no valid reply for the configured time.
import Shared

extension Sentinel {
    /// Forgets replicas and peer sentinels of every master unreachable for longer than the limit.
    /// Never in TILT (our clock is unreliable), nor during a failover of that master (a replica
    /// being promoted or reconfigured must stay known).
    func forgetUnreachable(now: Int64) {
        let limit = settings.forgetUnreachableAfter
        guard limit > 0, !tilt else { return }
        for m in masters.values where m.failoverState == .none && !m.flags.contains(.failoverInProgress) {
            for (key, r) in m.replicas where isUnreachable(r, limit: limit, now: now) {
                event(.notice, "-slave", r, "#unreachable for \(now - r.link.lastAvailTime) ms")
                r.link.close(now: now)
                m.replicas[key] = nil
                configDirty = true
            }
            for (key, s) in m.sentinels where isUnreachable(s, limit: limit, now: now) {
                event(.notice, "-sentinel", s, "#unreachable for \(now - s.link.lastAvailTime) ms")
                s.link.close(now: now)
                m.sentinels[key] = nil
                configDirty = true
            }
        }
    }

    /// No valid reply to PING for `limit` ms (an instance never reached counts from its creation).
    func isUnreachable(_ ri: MonitoredInstance, limit: Int64, now: Int64) -> Bool {
        now - ri.link.lastAvailTime > limit && (ri.link.disconnected || ri.flags.contains(.sDown))
    }
}

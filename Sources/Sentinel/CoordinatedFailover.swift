// SENTINEL FAILOVER <name> COORDINATED, as Valkey 9: a switchover that loses no acknowledged
// write. The leader is elected first (as for an automatic failover); then, instead of
// SLAVEOF NO ONE on the chosen replica, the master gets
//     MULTI; CLIENT PAUSE <t> WRITE; FAILOVER TO <host> <port> TIMEOUT <t>; EXEC
// so it holds writes, waits until the replica has its whole stream, and hands over with
// PSYNC FAILOVER. The promotion is observed as usual; then both nodes rewrite their config and
// drop their normal and pub/sub clients (which reconnect and ask us where the master is), and the
// old master's pause is lifted. No hello is published to the paused master: a PUBLISH is a write
// and would wait there. A handover that does not complete is undone with FAILOVER ABORT.
//
// The plain SENTINEL FAILOVER <name> takes this path too when the master is reachable and runs a
// server with FAILOVER (6.2+), without the election (as Redis's, it asks no agreement); otherwise
// it is Redis's forced promotion.
import Shared

/// The pure decisions of the coordinated path (unit-tested without sockets).
enum CoordinatedFailover {
    /// Whether a server whose INFO says `redis_version:<v>` has FAILOVER (6.2.0 and later).
    static func supportsFailoverCommand(version: String?) -> Bool {
        guard let v = version else { return false }
        let parts = v.split(separator: ".").map { Int($0) ?? 0 }
        let major = parts.first ?? 0, minor = parts.count > 1 ? parts[1] : 0
        return major > 6 || (major == 6 && minor >= 2)
    }

    /// `redis_version` from an INFO text.
    static func version(fromInfo text: String?) -> String? {
        guard let text else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("redis_version:") {
            return String(line.dropFirst("redis_version:".count))
        }
        return nil
    }

    /// How long the master's writes may stay paused (and FAILOVER may wait for the replica):
    /// the failover timeout, bounded so a sentinel that dies mid-way does not hold writes for
    /// Redis's default 3 minutes.
    static func pauseMillis(failoverTimeout: Int64) -> Int64 { max(1000, min(failoverTimeout, 10_000)) }

    /// The batch that starts the handover on the master (`cmd` maps renamed commands).
    static func handoverBatch(target: InstanceAddress, pause: Int64, cmd: (String) -> String) -> [[String]] {
        [[cmd("MULTI")],
         [cmd("CLIENT"), "PAUSE", String(pause), "WRITE"],
         // The host the master lists the replica under (its announced name or its IP).
         [cmd("FAILOVER"), "TO", target.host, String(target.port), "TIMEOUT", String(pause)],
         [cmd("EXEC")]]
    }

    /// After the promotion: persist the new role, drop the clients so they ask a sentinel again,
    /// and (on the old master) lift our pause.
    static func finishBatch(unpause: Bool, cmd: (String) -> String) -> [[String]] {
        var b: [[String]] = [[cmd("MULTI")], [cmd("CONFIG"), "REWRITE"],
                             [cmd("CLIENT"), "KILL", "TYPE", "normal"], [cmd("CLIENT"), "KILL", "TYPE", "pubsub"]]
        if unpause { b.append([cmd("CLIENT"), "UNPAUSE"]) }
        b.append([cmd("EXEC")])
        return b
    }

    /// Undoes a handover that did not complete: the master is a master again, writes resume.
    static func abortBatch(cmd: (String) -> String) -> [[String]] {
        [[cmd("MULTI")], [cmd("FAILOVER"), "ABORT"], [cmd("CLIENT"), "UNPAUSE"], [cmd("EXEC")]]
    }
}

extension Sentinel {
    /// Whether `m` can be switched over with FAILOVER: reachable, not down, a master by its own
    /// account, and a server version that has the command.
    func canCoordinateFailover(_ m: MonitoredInstance) -> Bool {
        m.link.isUp && m.flags.isDisjoint(with: [.sDown, .oDown]) && m.roleReported == .master
            && CoordinatedFailover.supportsFailoverCommand(version: CoordinatedFailover.version(fromInfo: m.lastInfo?.text))
    }

    /// SENTINEL FAILOVER ... taking the coordinated path: an election first, no forced flag.
    func startCoordinatedFailover(_ m: MonitoredInstance, now: Int64) {
        startFailover(m, now: now)
        m.flags.insert(.coordinatedFailover)
        // No random desync: the operator asked for it, and peers are asked for votes at once.
        m.failoverStartTime = now
        askMasterStateToOtherSentinels(m, now: now, force: true)
    }

    /// send-slaveof-noone, coordinated: asks the master to hand over to `r`.
    func sendCoordinatedHandover(_ m: MonitoredInstance, to r: MonitoredInstance) -> Bool {
        let pause = CoordinatedFailover.pauseMillis(failoverTimeout: m.failoverTimeout)
        let batch = CoordinatedFailover.handoverBatch(target: r.address, pause: pause) { m.command($0) }
        guard m.link.sendBatch(batch) else { return false }
        log.notice("Coordinated failover of '\(m.name)': asked \(m.address.ip):\(m.address.port) to hand over to \(r.address.ip):\(r.address.port) (writes paused up to \(pause) ms)")
        return true
    }

    /// While the master's writes are held, the target's promotion (a few ms after it caught up)
    /// is looked for every 50 ms rather than at the next 1 s INFO.
    func pollCoordinatedPromotion(_ m: MonitoredInstance, now: Int64) {
        guard let r = m.promotedReplica, r.link.isUp, now - m.coordinatedPollTime >= 50 else { return }
        m.coordinatedPollTime = now
        requestInfo(r, thenAdvance: m)
    }

    /// The promoted replica reports role master: finish on both nodes.
    func finishCoordinatedHandover(_ m: MonitoredInstance, promoted r: MonitoredInstance) {
        _ = r.link.sendBatch(CoordinatedFailover.finishBatch(unpause: false) { r.command($0) })
        _ = m.link.sendBatch(CoordinatedFailover.finishBatch(unpause: true) { m.command($0) })
    }

    /// A coordinated failover is abandoned: undo a handover that may have started.
    func abortCoordinatedHandover(_ m: MonitoredInstance) {
        guard m.flags.contains(.coordinatedFailover) else { return }
        m.flags.remove(.coordinatedFailover)
        if m.failoverState == .waitPromotion || m.failoverState == .sendSlaveofNoOne {
            if m.link.sendBatch(CoordinatedFailover.abortBatch { m.command($0) }) {
                event(.notice, "+fix-slave-config", m)
            }
        }
    }

    /// No hello to a master whose writes we paused (the PUBLISH would wait there).
    func helloSuppressed(_ ri: MonitoredInstance) -> Bool {
        ri.isMaster && ri.flags.contains(.coordinatedFailover)
            && (ri.failoverState == .sendSlaveofNoOne || ri.failoverState == .waitPromotion || ri.failoverState == .reconfSlaves)
    }
}

// CLIENT PAUSE as Redis 7.0 (networking.c's pauseClients): each purpose (the CLIENT PAUSE command,
// a shutdown waiting for replicas, later a failover) holds a pause of a kind until a deadline;
// the most restrictive kind in force applies. A paused command is postponed whole (argv kept,
// `BlockKind.postpone`) and runs from the start when the pause ends or gets less restrictive, in
// the order the clients were postponed. While any pause is in force the dataset stays fixed:
// no active or lazy expiry deletes a key, and no GETACK enters the replication stream.
import Shared

/// The pauses in force and the clients they hold.
struct ClientPause {
    /// Who asked for a pause (Redis's pause_purpose).
    enum Purpose: CaseIterable {
        case clientCommand
        case shutdown
        case failover
    }

    /// What a pause holds (Redis's pause_type), ordered by restriction.
    enum Kind: Int, Comparable {
        case off = 0
        /// Commands that write or may replicate (PUBLISH...); reads go on.
        case write = 1
        /// Every command of normal clients.
        case all = 2
        static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    /// The pause of each purpose: its kind and monotonic deadline.
    private(set) var events: [Purpose: (kind: Kind, end: Int64)] = [:]
    /// The most restrictive kind in force, and the furthest deadline among pauses of that kind.
    private(set) var kind: Kind = .off
    private(set) var end: Int64 = 0
    /// Clients whose command waits for the pause to end, in arrival order.
    var postponed: [Client] = []
    /// The timer that ends the pause at its deadline.
    var timer: TimerID? = nil

    /// Whether any pause is in force (as of the last update).
    var isActive: Bool { kind != .off }

    /// Adds or extends the pause of `purpose` (a longer deadline and a stronger kind win, as in
    /// Redis). Returns the previous kind in force.
    mutating func set(_ purpose: Purpose, kind k: Kind, end e: Int64, now: Int64) -> Kind {
        if let old = events[purpose] {
            events[purpose] = (max(old.kind, k), max(old.end, e))
        } else {
            events[purpose] = (k, e)
        }
        return recompute(now: now)
    }

    /// Lifts the pause of `purpose`. Returns the previous kind in force.
    mutating func clear(_ purpose: Purpose, now: Int64) -> Kind {
        events[purpose] = nil
        return recompute(now: now)
    }

    /// Drops expired pauses and recomputes the kind and deadline. Returns the previous kind.
    mutating func recompute(now: Int64) -> Kind {
        let old = kind
        var k = Kind.off
        for (p, ev) in events {
            if ev.end <= now { events[p] = nil } else if ev.kind > k { k = ev.kind }
        }
        var e: Int64 = 0
        for ev in events.values where ev.kind == k && ev.end > e { e = ev.end }
        kind = k
        end = e
        return old
    }

    /// Whether a command with these traits is held by the pause in force.
    func holds(mayReplicate: Bool) -> Bool {
        kind == .all || (kind == .write && mayReplicate)
    }
}

extension Server {
    /// Pauses clients for `purpose` until the monotonic `end` (CLIENT PAUSE, shutdown, failover).
    func pauseClients(_ purpose: ClientPause.Purpose, kind: ClientPause.Kind, until end: Int64) {
        let now = clock.monotonicMillis()
        let old = pause.set(purpose, kind: kind, end: end, now: now)
        pauseChanged(from: old, now: now)
    }

    /// Lifts the pause of `purpose` (CLIENT UNPAUSE, a shutdown that did not happen).
    func unpauseClients(_ purpose: ClientPause.Purpose) {
        let now = clock.monotonicMillis()
        let old = pause.clear(purpose, now: now)
        pauseChanged(from: old, now: now)
    }

    /// Whether a pause is in force now; ends expired ones first (Redis's
    /// checkClientPauseTimeoutAndReturnIfPaused).
    func clientsArePaused(now: Int64? = nil) -> Bool {
        guard pause.isActive else { return false }
        let t = now ?? clock.monotonicMillis()
        if pause.end <= t {
            let old = pause.recompute(now: t)
            pauseChanged(from: old, now: t)
        }
        return pause.isActive
    }

    /// Cron: ends pauses whose deadline passed (the timer usually did already).
    func pauseCron(now: Int64) { _ = clientsArePaused(now: now) }

    /// After the pause changed: a less restrictive pause releases every postponed client (they
    /// run again in before-sleep and may be postponed again); the deadline timer follows `end`.
    private func pauseChanged(from old: ClientPause.Kind, now: Int64) {
        if pause.kind < old {
            let held = pause.postponed
            for c in held { unblock(c) }
        }
        if let t = pause.timer { loop.cancel(t); pause.timer = nil }
        if pause.isActive && pause.end < Int64.max {
            pause.timer = loop.schedule(at: pause.end) { [unowned self] in
                self.pause.timer = nil
                _ = self.clientsArePaused()
            }
        }
    }
}

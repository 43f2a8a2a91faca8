// The failovers this sentinel has seen since it started: every `+switch-master`, whether we led
// the failover or learned the new configuration from a peer's hello, with the epoch and the wall
// time. An operator's `scripts/cluster history` reads it (SENTINEL HISTORY, or GET /history) from
// every sentinel and merges by epoch; Redis keeps no such record (its log is the only trace).
// In memory and bounded: a restart starts a new history, the config file holds only the present.
import Shared

/// One master switch.
struct FailoverRecord: Sendable, Equatable {
    var master: String
    /// The master's config epoch after the switch (the failover's epoch).
    var epoch: UInt64
    var from: String
    var to: String
    /// Unix time in milliseconds.
    var wallMillis: Int64
    /// `leader` when this sentinel ran the failover, `observer` when it learned of it.
    var role: String
    /// The leader handed over with FAILOVER (no acknowledged write lost) rather than promoting.
    var coordinated: Bool?
}

/// A bounded list of switches, oldest first.
struct FailoverHistory: Sendable {
    static let capacity = 256
    private(set) var records: [FailoverRecord] = []
    /// Switches per master since start (the failovers metric).
    private(set) var counts: [String: Int] = [:]

    mutating func append(_ r: FailoverRecord) {
        records.append(r)
        if records.count > Self.capacity { records.removeFirst(records.count - Self.capacity) }
        counts[r.master, default: 0] += 1
    }

    /// Records for `master` (all when nil), oldest first.
    func records(for master: String?) -> [FailoverRecord] {
        guard let master else { return records }
        return records.filter { $0.master == master }
    }
}

extension Sentinel {
    /// Remembers a switch of `m` from `old` to `new` (called where +switch-master is announced).
    func recordSwitch(_ m: MonitoredInstance, from old: InstanceAddress, to new: InstanceAddress, leader: Bool) {
        history.append(FailoverRecord(
            master: m.name, epoch: m.configEpoch, from: InstanceAddress.join(announced(old), old.port),
            to: InstanceAddress.join(announced(new), new.port), wallMillis: clock.wallMillis(),
            role: leader ? "leader" : "observer", coordinated: leader ? m.flags.contains(.coordinatedFailover) : nil))
    }
}

extension FailoverRecord {
    /// Field/value pairs as SENTINEL HISTORY replies them.
    var pairs: [(String, String)] {
        var f: [(String, String)] = [("master", master), ("epoch", String(epoch)), ("from", from), ("to", to),
                                     ("time-ms", String(wallMillis)), ("role", role)]
        if let c = coordinated { f.append(("coordinated", c ? "yes" : "no")) }
        return f
    }

    /// The record as a JSON object (GET /history).
    var json: JSON {
        var o: [(String, JSON)] = [("master", .string(master)), ("epoch", .int(epoch)), ("from", .string(from)),
                                   ("to", .string(to)), ("time_ms", .int(wallMillis)), ("role", .string(role))]
        if let c = coordinated { o.append(("coordinated", .bool(c))) }
        return .object(o)
    }
}

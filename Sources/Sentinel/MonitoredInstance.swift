// One monitored instance: a master (which owns its replicas and the other sentinels watching it),
// a replica, or a peer sentinel. Mirrors Redis's sentinelRedisInstance, minus the C.

/// Flags of an instance, named after Redis's SRI_* flags.
struct InstanceFlags: OptionSet, Sendable {
    let rawValue: UInt32
    static let master = InstanceFlags(rawValue: 1 << 0)
    static let slave = InstanceFlags(rawValue: 1 << 1)
    static let sentinel = InstanceFlags(rawValue: 1 << 2)
    static let sDown = InstanceFlags(rawValue: 1 << 3)
    static let oDown = InstanceFlags(rawValue: 1 << 4)
    /// A peer sentinel said the master is down (from is-master-down-by-addr).
    static let masterDown = InstanceFlags(rawValue: 1 << 5)
    static let failoverInProgress = InstanceFlags(rawValue: 1 << 6)
    static let promoted = InstanceFlags(rawValue: 1 << 7)
    static let reconfSent = InstanceFlags(rawValue: 1 << 8)
    static let reconfInprog = InstanceFlags(rawValue: 1 << 9)
    static let reconfDone = InstanceFlags(rawValue: 1 << 10)
    static let forceFailover = InstanceFlags(rawValue: 1 << 11)
    static let scriptKillSent = InstanceFlags(rawValue: 1 << 12)
    static let masterRebootDown = InstanceFlags(rawValue: 1 << 13)
    /// The failover in progress hands over with FAILOVER (CoordinatedFailover.swift); not shown.
    static let coordinatedFailover = InstanceFlags(rawValue: 1 << 14)

    /// The comma-separated text SENTINEL MASTERS shows (redis-py parses it).
    func text(disconnected: Bool) -> String {
        var out: [String] = []
        if contains(.sDown) { out.append("s_down") }
        if contains(.oDown) { out.append("o_down") }
        if contains(.master) { out.append("master") }
        if contains(.slave) { out.append("slave") }
        if contains(.sentinel) { out.append("sentinel") }
        if disconnected { out.append("disconnected") }
        if contains(.masterDown) { out.append("master_down") }
        if contains(.failoverInProgress) { out.append("failover_in_progress") }
        if contains(.promoted) { out.append("promoted") }
        if contains(.reconfSent) { out.append("reconf_sent") }
        if contains(.reconfInprog) { out.append("reconf_inprog") }
        if contains(.reconfDone) { out.append("reconf_done") }
        if contains(.forceFailover) { out.append("force_failover") }
        if contains(.scriptKillSent) { out.append("script_kill_sent") }
        if contains(.masterRebootDown) { out.append("master_reboot") }
        return out.joined(separator: ",")
    }
}

/// The failover state machine's states, with Redis's names.
enum FailoverState: Int, Sendable {
    case none = 0, waitStart, selectSlave, sendSlaveofNoOne, waitPromotion, reconfSlaves, updateConfig

    /// The name used in `+failover-state-*` events and the `failover-state` field.
    var name: String {
        switch self {
        case .none: return "none"
        case .waitStart: return "wait_start"
        case .selectSlave: return "select_slave"
        case .sendSlaveofNoOne: return "send_slaveof_noone"
        case .waitPromotion: return "wait_promotion"
        case .reconfSlaves: return "reconf_slaves"
        case .updateConfig: return "update_config"
        }
    }
}

/// An instance's address as sentinels hold it (Redis's sentinelAddr): the host as configured or
/// announced (an IP literal, or a hostname with resolve-hostnames), the IP it resolved to when the
/// address was made, and the port.
struct InstanceAddress: Hashable, Sendable {
    /// As configured or announced: what `announce-hostnames yes` reports.
    var host: String
    var port: Int
    /// `host` resolved (itself for an IP literal): what is reported otherwise.
    var ip: String

    /// An address whose host is an IP literal (or is used as is).
    init(ip: String, port: Int) {
        self.host = ip
        self.port = port
        self.ip = ip
    }

    init(host: String, port: Int, ip: String) {
        self.host = host
        self.port = port
        self.ip = ip
    }

    /// `host:port`, the key replicas are stored under (IPv6 in brackets, as Redis announces).
    var key: String { InstanceAddress.join(host, port) }

    /// `ip:port` or `[ip]:port`.
    static func join(_ host: String, _ port: Int) -> String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Same host (case-insensitive, as Redis compares hostnames) and port.
    static func == (a: InstanceAddress, b: InstanceAddress) -> Bool {
        a.port == b.port && a.host.lowercased() == b.host.lowercased()
    }

    func hash(into h: inout Hasher) {
        h.combine(host.lowercased())
        h.combine(port)
    }
}

/// Roles an instance reports in INFO.
enum ReportedRole: Sendable { case master, slave }

/// A master, replica or sentinel being watched.
final class MonitoredInstance {
    var flags: InstanceFlags
    /// Master name; `ip:port` for replicas; run id for sentinels.
    var name: String
    var address: InstanceAddress
    var runID: String?
    /// For replicas and sentinels: the master they belong to.
    weak var master: MonitoredInstance?
    let link: InstanceLink
    /// When the instance was created (a sentinel's last-hello-message counts from it until a hello).
    let createdAt: Int64

    // Master-only configuration.
    var quorum: Int = 2
    var downAfterMillis: Int64 = 30_000
    var failoverTimeout: Int64 = 180_000
    var parallelSyncs: Int = 1
    var authPass: String?
    var authUser: String?
    var notificationScript: String?
    var clientReconfigScript: String?
    var masterRebootDownAfterMillis: Int64 = 0
    /// rename-command mappings: upper-cased original → new name.
    var renamedCommands: [String: String] = [:]
    var configEpoch: UInt64 = 0
    var replicas: [String: MonitoredInstance] = [:]
    /// Peer sentinels, keyed by run id.
    var sentinels: [String: MonitoredInstance] = [:]

    // Failure detection.
    var sDownSince: Int64 = 0
    var oDownSince: Int64 = 0
    /// For sentinels: when they last answered is-master-down-by-addr.
    var lastMasterDownReplyTime: Int64 = 0
    /// The leader a sentinel voted for (or, on a master, the leader we voted for).
    var leader: String?
    var leaderEpoch: UInt64 = 0

    // Failover.
    /// When select-slave asked the replicas for fresh INFO (0: not asked yet).
    var selectRefreshRequested: Int64 = 0
    var failoverState: FailoverState = .none
    var failoverEpoch: UInt64 = 0
    var failoverStartTime: Int64 = 0
    var failoverStateChangeTime: Int64 = 0
    var failoverDelayLogged: Int64 = 0
    weak var promotedReplica: MonitoredInstance?
    var slaveReconfSentTime: Int64 = 0
    /// Coordinated failover: when we last asked the target for INFO (its promotion is awaited).
    var coordinatedPollTime: Int64 = 0

    // From INFO.
    var infoRefresh: Int64 = 0
    var roleReported: ReportedRole
    var roleReportedTime: Int64
    var slaveConfChangeTime: Int64
    var slaveMasterHost: String?
    var slaveMasterPort: Int = 0
    var slaveMasterLinkUp = false
    var masterLinkDownTime: Int64 = 0
    var slavePriority: Int = 100
    var slaveReplOffset: Int64 = 0
    var replicaAnnounced = true
    var lastHelloTime: Int64 = 0
    /// For sentinels: the master address and config epoch their last hello announced.
    var helloMasterAddress: InstanceAddress?
    var helloConfigEpoch: UInt64 = 0
    /// The last INFO text and when it arrived (SENTINEL INFO-CACHE).
    var lastInfo: (text: String, time: Int64)?
    /// When a reboot (new run id) was seen while master-reboot-down-after-period is set.
    var rebootTime: Int64 = 0

    /// Creates an instance; `now` stamps the role-report and config-change times as Redis does.
    init(flags: InstanceFlags, name: String, address: InstanceAddress, master: MonitoredInstance?, now: Int64) {
        self.flags = flags
        self.name = name
        self.address = address
        self.master = master
        self.link = InstanceLink(now: now)
        self.createdAt = now
        self.roleReported = flags.contains(.slave) ? .slave : .master
        self.roleReportedTime = now
        self.slaveConfChangeTime = now
        if let m = master {
            downAfterMillis = m.downAfterMillis
            quorum = m.quorum
        }
    }

    var isMaster: Bool { flags.contains(.master) }
    var isSlave: Bool { flags.contains(.slave) }
    var isSentinel: Bool { flags.contains(.sentinel) }

    /// The kind word Redis prints in events (`master`, `slave`, `sentinel`).
    var kindName: String { isMaster ? "master" : isSlave ? "slave" : "sentinel" }

    /// PING period: min(down-after, the sentinel's ping period), as Redis.
    func pingPeriod(_ t: SentinelTimings) -> Int64 { min(downAfterMillis, t.pingPeriod) }

    /// PING period for masters: down-after / 10, between 50 ms and the Redis period.
    func fastPingPeriod(_ t: SentinelTimings) -> Int64 {
        min(pingPeriod(t), max(SentinelTiming.minFastPingPeriod, downAfterMillis / 10))
    }

    /// True when the instance has been reachable for the last `millis`.
    func noDownFor(_ millis: Int64, now: Int64) -> Bool {
        var since: Int64 = 0
        if flags.contains(.sDown) { since = sDownSince }
        if link.disconnected && link.disconnectedSince > since { since = link.disconnectedSince }
        return since == 0 || now - since > millis
    }

    /// The command name to send, after rename-command on the master.
    func command(_ name: String) -> String {
        let m = isMaster ? self : master
        return m?.renamedCommands[name.uppercased()] ?? name
    }
}

// sentinel.conf: the process-wide settings, the `sentinel ...` directives that build the monitored
// state, and the rewrite that persists that state in Redis's layout.
import Shared

/// Process-wide settings (everything that is not per master).
struct SentinelSettings {
    var port = 26379
    var bind: [String] = []
    var dir = ""
    var logfile = ""
    var loglevel: LogLevel = .notice
    var daemonize = false
    var pidfile = ""
    var requirepass: String?
    /// ACL users clients (and peer sentinels, via sentinel-user) authenticate as.
    var users = SentinelUsers()
    var protectedMode = false
    var announceIP: String?
    var announcePort = 0
    var resolveHostnames = false
    var announceHostnames = false
    /// `sentinel forget-unreachable-after <ms>` (vigil): replicas and peer sentinels that gave no
    /// valid reply for this long are forgotten, as a SENTINEL RESET would; 0 (the default, as
    /// Redis, which never forgets) keeps them. Containers that come back with new addresses
    /// otherwise leave dead entries that count against the quorum's majority.
    var forgetUnreachableAfter: Int64 = 0
    var denyScriptsReconfig = true
    var sentinelUser: String?
    var sentinelPass: String?
    var configFile: String?
    /// The HTTP health and metrics listener (SentinelServer+HTTP.swift): off while 0; on `bind`'s
    /// addresses unless `http-bind` names others.
    var httpPort = 0
    var httpBind: [String] = []
    var httpTimeoutMillis = 5000
    /// `bind-source-addr`: the local address the links to instances bind to.
    var bindSourceAddr: String?
}

/// Redis's atoi: leading spaces, an optional sign and the digits that follow; 0 when none.
func atoi(_ s: String) -> Int {
    var it = s.drop { $0 == " " || $0 == "\t" }[...]
    var neg = false
    if let f = it.first, f == "-" || f == "+" { neg = f == "-"; it = it.dropFirst() }
    var n = 0
    for c in it {
        guard let d = c.wholeNumberValue, c.isASCII else { break }
        let (m, o1) = n.multipliedReportingOverflow(by: 10)
        let (r, o2) = m.addingReportingOverflow(d)
        if o1 || o2 { return neg ? Int.min : Int.max }
        n = r
    }
    return neg ? -n : n
}

/// Parses `yes`/`no` as Redis does.
func parseYesNo(_ s: String) -> Bool? {
    switch s.lowercased() {
    case "yes": return true
    case "no": return false
    default: return nil
    }
}

extension Sentinel {
    // MARK: - Loading

    /// `sentinel` options applied before the `monitor` lines, whatever their place in the file
    /// (Redis's preMonitorCfgName): the rest need their master to exist, so they come after.
    static let preMonitorOptions: Set<String> = [
        "announce-ip", "announce-port", "deny-scripts-reconfig", "sentinel-user", "sentinel-pass",
        "current-epoch", "myid", "resolve-hostnames", "announce-hostnames", "forget-unreachable-after",
    ]

    /// Loads a configuration as Redis does: plain directives take effect in order as they are read
    /// (`dir` changes directory at once, so later relative paths are relative to it), while
    /// `sentinel ...` directives are queued and applied once everything is read: first the
    /// pre-monitor options, then the `monitor` lines, then the options about masters.
    func loadConfig(_ directives: [ConfigDirective], now: Int64) throws {
        var pre: [ConfigDirective] = [], monitor: [ConfigDirective] = [], post: [ConfigDirective] = []
        for d in directives {
            guard d.name == "sentinel", let opt = d.args.first?.lowercased() else {
                try apply(d, now: now)
                continue
            }
            if opt == "monitor" { monitor.append(d) }
            else if Sentinel.preMonitorOptions.contains(opt) { pre.append(d) }
            else { post.append(d) }
        }
        for d in pre + monitor + post {
            if let msg = applySentinelDirective(d.args, now: now) { throw d.error(msg) }
        }
    }

    /// Applies one plain (non-queued) directive from the file or the command line.
    func apply(_ d: ConfigDirective, now: Int64) throws {
        let a = d.args
        func one() throws -> String {
            guard a.count == 1 else { throw d.error("wrong number of arguments") }
            return a[0]
        }
        switch d.name {
        case "port":
            guard let p = Int(try one()), p >= 0, p <= 65535 else { throw d.error("Invalid port") }
            settings.port = p
        case "bind": settings.bind = a
        case "dir":
            let path = try one()
            do { try changeDirectory(path) } catch let e as IOError {
                throw d.error(Posix.strerror(e.errnoCode))
            }
            settings.dir = path
        case "logfile": settings.logfile = try one()
        case "loglevel":
            guard let l = LogLevel(name: try one()) else { throw d.error("argument(s) must be one of the following: debug, verbose, notice, warning, nothing") }
            settings.loglevel = l
        case "daemonize":
            guard let b = parseYesNo(try one()) else { throw d.error("argument must be 'yes' or 'no'") }
            settings.daemonize = b
        case "pidfile": settings.pidfile = try one()
        case "bind-source-addr":
            let v = try one()
            settings.bindSourceAddr = v.isEmpty ? nil : v
        case "requirepass":
            let p = try one()
            settings.requirepass = p.isEmpty ? nil : p
            settings.users.setDefaultPassword(settings.requirepass)
        case "protected-mode":
            guard let b = parseYesNo(try one()) else { throw d.error("argument must be 'yes' or 'no'") }
            settings.protectedMode = b
        case "http-port":
            guard let p = Int(try one()), p >= 0, p <= 65535 else { throw d.error("Invalid port") }
            settings.httpPort = p
        case "http-bind": settings.httpBind = a
        case "http-timeout":
            guard let t = Int(try one()), t > 0 else { throw d.error("argument must be a positive number of milliseconds") }
            settings.httpTimeoutMillis = t
        case "user":
            guard let name = a.first else { throw d.error("wrong number of arguments") }
            if let bad = settings.users.setUser(name, Array(a.dropFirst())) { throw d.error("Error in user declaration '\(bad)'") }
        case "sentinel":
            // `--sentinel` on the command line is a mode flag, harmless here.
            if a.isEmpty { return }
            if let msg = applySentinelDirective(a, now: now) { throw d.error(msg) }
        default:
            // Other redis.conf directives (acllog-max-len, latency-tracking...) are accepted as
            // redis-sentinel does; they are irrelevant to a sentinel and kept verbatim by rewrites.
            break
        }
    }

    /// Applies `sentinel <option> ...` (Redis's sentinelHandleConfiguration); returns Redis's error
    /// text for a bad statement. A wrong argument count is an unrecognized statement, as in Redis.
    func applySentinelDirective(_ a: [String], now: Int64) -> String? {
        guard let first = a.first else { return "Unrecognized sentinel configuration statement." }
        let opt = first.lowercased()
        let n = a.count
        func master() -> MonitoredInstance? { masters[a[1]] }
        let noMaster = "No such master with specified name."
        switch (opt, n) {
        case ("monitor", 5):
            let quorum = atoi(a[4]), port = atoi(a[3])
            guard quorum > 0 else { return "Quorum must be 1 or greater." }
            if masters[a[1]] != nil { return "Duplicate master name." }
            guard port >= 0 && port <= 65535 else { return "Invalid port number" }
            guard let addr = makeAddress(host: a[2], port: port) else { return "Can't resolve instance hostname." }
            masters[a[1]] = makeMaster(name: a[1], address: addr, quorum: quorum, now: now)
        case ("down-after-milliseconds", 3), ("failover-timeout", 3):
            guard let m = master() else { return noMaster }
            let v = Int64(atoi(a[2]))
            guard v > 0 else { return "negative or zero time parameter." }
            if opt == "failover-timeout" { m.failoverTimeout = v } else { setDownAfter(m, v) }
        case ("parallel-syncs", 3):
            guard let m = master() else { return noMaster }
            m.parallelSyncs = atoi(a[2])
        case ("master-reboot-down-after-period", 3), ("primary-reboot-down-after-period", 3):
            guard let m = master() else { return noMaster }
            m.masterRebootDownAfterMillis = Int64(atoi(a[2]))
            if m.masterRebootDownAfterMillis < 0 { return "negative time parameter." }
        case ("notification-script", 3):
            guard let m = master() else { return noMaster }
            guard Posix.isExecutable(a[2]) else { return "Notification script seems non existing or non executable." }
            m.notificationScript = a[2]
        case ("client-reconfig-script", 3):
            guard let m = master() else { return noMaster }
            guard Posix.isExecutable(a[2]) else { return "Client reconfiguration script seems non existing or non executable." }
            m.clientReconfigScript = a[2]
        case ("auth-pass", 3):
            guard let m = master() else { return noMaster }
            m.authPass = a[2]
        case ("auth-user", 3):
            guard let m = master() else { return noMaster }
            m.authUser = a[2]
        case ("current-epoch", 2):
            if let e = UInt64(a[1]), e > currentEpoch { currentEpoch = e }
        case ("myid", 2):
            guard RunID.isValid(a[1]) else { return "Malformed Sentinel id in myid option." }
            myID = a[1].lowercased()
        case ("config-epoch", 3):
            guard let m = master() else { return noMaster }
            m.configEpoch = UInt64(a[2]) ?? 0
            // The config epoch can never exceed the current epoch we learned.
            if m.configEpoch > currentEpoch { currentEpoch = m.configEpoch }
        case ("leader-epoch", 3):
            guard let m = master() else { return noMaster }
            m.leaderEpoch = UInt64(a[2]) ?? 0
        case ("known-slave", 4), ("known-replica", 4):
            guard let m = master() else { return noMaster }
            let port = atoi(a[3])
            guard port >= 0 && port <= 65535 else { return "Invalid port number" }
            guard let addr = makeAddress(host: a[2], port: port) else { return "Can't resolve instance hostname." }
            if addReplica(to: m, address: addr, now: now, announce: false) == nil { return "Duplicate slave name." }
        case ("known-sentinel", 4):
            // The old form without a run id is ignored, as in Redis.
            guard master() != nil else { return noMaster }
        case ("known-sentinel", 5):
            guard let m = master() else { return noMaster }
            let port = atoi(a[3])
            guard port >= 0 && port <= 65535 else { return "Invalid port number" }
            guard let addr = makeAddress(host: a[2], port: port) else { return "Can't resolve instance hostname." }
            if a[4].lowercased() == myID { return nil }
            if m.sentinels[a[4]] != nil { return "Duplicate sentinel name." }
            addSentinel(to: m, address: addr, runID: a[4], now: now)
        case ("rename-command", 4):
            guard let m = master() else { return noMaster }
            if m.renamedCommands[a[2].uppercased()] != nil { return "Same command renamed multiple times with rename-command." }
            m.renamedCommands[a[2].uppercased()] = a[3]
        case ("announce-ip", 2):
            if !a[1].isEmpty { settings.announceIP = a[1] }
        case ("announce-port", 2):
            settings.announcePort = atoi(a[1])
        case ("deny-scripts-reconfig", 2):
            guard let b = parseYesNo(a[1]) else { return "Please specify yes or no for the deny-scripts-reconfig options." }
            settings.denyScriptsReconfig = b
        case ("sentinel-user", 2):
            if !a[1].isEmpty { settings.sentinelUser = a[1] }
        case ("sentinel-pass", 2):
            if !a[1].isEmpty { settings.sentinelPass = a[1] }
        case ("resolve-hostnames", 2):
            guard let b = parseYesNo(a[1]) else { return "Please specify yes or no for the resolve-hostnames option." }
            settings.resolveHostnames = b
        case ("announce-hostnames", 2):
            guard let b = parseYesNo(a[1]) else { return "Please specify yes or no for the announce-hostnames option." }
            settings.announceHostnames = b
        case ("forget-unreachable-after", 2):
            guard let v = Int64(a[1]), v >= 0 else { return "forget-unreachable-after must be 0 (never) or a time in milliseconds." }
            settings.forgetUnreachableAfter = v
        default:
            return "Unrecognized sentinel configuration statement."
        }
        return nil
    }

    /// Sets down-after-milliseconds on a master and its replicas and sentinels (Redis's
    /// sentinelPropagateDownAfterPeriod).
    func setDownAfter(_ m: MonitoredInstance, _ v: Int64) {
        m.downAfterMillis = v
        for r in m.replicas.values { r.downAfterMillis = v }
        for s in m.sentinels.values { s.downAfterMillis = v }
    }
}

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
    /// `user` lines: ACL users clients (and peer sentinels, via sentinel-user) authenticate as.
    var users: [String: SentinelUser] = [:]
    var protectedMode = false
    var announceIP: String?
    var announcePort = 0
    var resolveHostnames = false
    var announceHostnames = false
    var denyScriptsReconfig = true
    var sentinelUser: String?
    var sentinelPass: String?
    var configFile: String?
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

    /// Applies one directive from the file or the command line.
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
        case "dir": settings.dir = try one()
        case "logfile": settings.logfile = try one()
        case "loglevel":
            guard let l = LogLevel(name: try one()) else { throw d.error("argument(s) must be one of the following: debug, verbose, notice, warning, nothing") }
            settings.loglevel = l
        case "daemonize":
            guard let b = parseYesNo(try one()) else { throw d.error("argument must be 'yes' or 'no'") }
            settings.daemonize = b
        case "pidfile": settings.pidfile = try one()
        case "requirepass": let p = try one(); settings.requirepass = p.isEmpty ? nil : p
        case "protected-mode":
            guard let b = parseYesNo(try one()) else { throw d.error("argument must be 'yes' or 'no'") }
            settings.protectedMode = b
        case "user":
            guard let name = a.first else { throw d.error("wrong number of arguments") }
            var u = settings.users[name] ?? SentinelUser()
            if let bad = u.apply(Array(a.dropFirst())) { throw d.error("Error in user declaration '\(bad)'") }
            settings.users[name] = u
        case "sentinel":
            // `--sentinel` on the command line is a mode flag, harmless here.
            if a.isEmpty { return }
            if let msg = try applySentinelDirective(a, now: now) { throw d.error(msg) }
        default:
            // Other redis.conf directives (acllog-max-len, latency-tracking...) are accepted as
            // redis-sentinel does; they are irrelevant to a sentinel and kept verbatim by rewrites.
            break
        }
    }

    /// Applies `sentinel <option> ...`; returns Redis's error text for a bad statement.
    func applySentinelDirective(_ a: [String], now: Int64) throws -> String? {
        guard let first = a.first else { return "Unrecognized sentinel configuration statement." }
        let opt = first.lowercased()
        let n = a.count
        func master(_ name: String) -> MonitoredInstance? { masters[name] }
        switch opt {
        case "monitor":
            guard n == 5 else { return "Wrong number of arguments for sentinel monitor" }
            guard let q = Int(a[4]), q > 0 else { return "Quorum must be 1 or greater." }
            guard let port = Int(a[3]), port > 0, port < 65536 else { return "Invalid port number" }
            if masters[a[1]] != nil { return "Duplicated master name." }
            let m = MonitoredInstance(flags: .master, name: a[1], address: InstanceAddress(ip: a[2], port: port), master: nil, now: now)
            m.quorum = q
            masters[a[1]] = m
        case "down-after-milliseconds", "failover-timeout", "parallel-syncs", "master-reboot-down-after-period":
            guard n == 3 else { return "Wrong number of arguments" }
            guard let m = master(a[1]) else { return "No such master with specified name." }
            guard let v = Int64(a[2]), v >= 0 else { return "Invalid value" }
            switch opt {
            case "down-after-milliseconds":
                guard v > 0 else { return "Invalid value" }
                m.downAfterMillis = v
            case "failover-timeout":
                guard v > 0 else { return "Invalid value" }
                m.failoverTimeout = v
            case "parallel-syncs": m.parallelSyncs = Int(v)
            default: m.masterRebootDownAfterMillis = v
            }
        case "notification-script", "client-reconfig-script":
            guard n == 3 else { return "Wrong number of arguments" }
            guard let m = master(a[1]) else { return "No such master with specified name." }
            guard Posix.isExecutable(a[2]) else {
                return opt == "notification-script" ? "Notification script seems non existing or non executable."
                    : "Client reconfiguration script seems non existing or non executable."
            }
            if opt == "notification-script" { m.notificationScript = a[2] } else { m.clientReconfigScript = a[2] }
        case "auth-pass", "auth-user":
            guard n == 3 else { return "Wrong number of arguments" }
            guard let m = master(a[1]) else { return "No such master with specified name." }
            if opt == "auth-pass" { m.authPass = a[2] } else { m.authUser = a[2] }
        case "current-epoch":
            guard n == 2, let e = UInt64(a[1]) else { return "Wrong number of arguments" }
            if e > currentEpoch { currentEpoch = e }
        case "myid":
            guard n == 2, RunID.isValid(a[1]) else { return "Malformed Sentinel id in myid option." }
            myID = a[1].lowercased()
        case "config-epoch", "leader-epoch":
            guard n == 3, let e = UInt64(a[2]) else { return "Wrong number of arguments" }
            guard let m = master(a[1]) else { return "No such master with specified name." }
            if opt == "config-epoch" {
                m.configEpoch = e
                // The config epoch can never exceed the current epoch we learned.
                if e > currentEpoch { currentEpoch = e }
            } else { m.leaderEpoch = e }
        case "known-slave", "known-replica":
            guard n == 4, let port = Int(a[3]) else { return "Wrong number of arguments" }
            guard let m = master(a[1]) else { return "No such master with specified name." }
            _ = addReplica(to: m, address: InstanceAddress(ip: a[2], port: port), now: now, announce: false)
        case "known-sentinel":
            guard n == 4 || n == 5, let port = Int(a[3]) else { return "Wrong number of arguments" }
            guard let m = master(a[1]) else { return "No such master with specified name." }
            let runid = n == 5 ? a[4] : nil
            if let runid, runid == myID { return nil }
            addSentinel(to: m, address: InstanceAddress(ip: a[2], port: port), runID: runid, now: now)
        case "rename-command":
            guard n == 4 else { return "Wrong number of arguments" }
            guard let m = master(a[1]) else { return "No such master with specified name." }
            m.renamedCommands[a[2].uppercased()] = a[3]
        case "announce-ip":
            guard n == 2 else { return "Wrong number of arguments" }
            settings.announceIP = a[1].isEmpty ? nil : a[1]
        case "announce-port":
            guard n == 2, let p = Int(a[1]), p >= 0, p < 65536 else { return "Wrong number of arguments" }
            settings.announcePort = p
        case "deny-scripts-reconfig", "resolve-hostnames", "announce-hostnames":
            guard n == 2, let b = parseYesNo(a[1]) else { return "Please specify yes or no for the \(opt) option." }
            if opt == "deny-scripts-reconfig" { settings.denyScriptsReconfig = b }
            else if opt == "resolve-hostnames" { settings.resolveHostnames = b }
            else { settings.announceHostnames = b }
        case "sentinel-user", "sentinel-pass":
            guard n == 2 else { return "Wrong number of arguments" }
            if opt == "sentinel-user" { settings.sentinelUser = a[1].isEmpty ? nil : a[1] }
            else { settings.sentinelPass = a[1].isEmpty ? nil : a[1] }
        default:
            return "Unrecognized sentinel configuration statement."
        }
        return nil
    }

    // MARK: - Rewriting

    /// The `sentinel ...` lines describing the current state, in Redis's order.
    func sentinelConfigLines() -> [String] {
        func q(_ s: String) -> String { ArgSplitter.quote(Bytes(s.utf8)) }
        var out: [String] = ["sentinel myid \(myID)"]
        if settings.denyScriptsReconfig == false { out.append("sentinel deny-scripts-reconfig no") }
        if settings.resolveHostnames { out.append("sentinel resolve-hostnames yes") }
        if settings.announceHostnames { out.append("sentinel announce-hostnames yes") }
        if let ip = settings.announceIP { out.append("sentinel announce-ip \(q(ip))") }
        if settings.announcePort != 0 { out.append("sentinel announce-port \(settings.announcePort)") }
        if let u = settings.sentinelUser { out.append("sentinel sentinel-user \(q(u))") }
        if let p = settings.sentinelPass { out.append("sentinel sentinel-pass \(q(p))") }
        for m in masters.values.sorted(by: { $0.name < $1.name }) {
            // Write the address the master had before a failover still in progress: the new one is
            // not ours until the failover completes.
            out.append("sentinel monitor \(m.name) \(m.address.ip) \(m.address.port) \(m.quorum)")
            if m.downAfterMillis != 30_000 { out.append("sentinel down-after-milliseconds \(m.name) \(m.downAfterMillis)") }
            if m.failoverTimeout != 180_000 { out.append("sentinel failover-timeout \(m.name) \(m.failoverTimeout)") }
            if m.parallelSyncs != 1 { out.append("sentinel parallel-syncs \(m.name) \(m.parallelSyncs)") }
            if let s = m.notificationScript { out.append("sentinel notification-script \(m.name) \(q(s))") }
            if let s = m.clientReconfigScript { out.append("sentinel client-reconfig-script \(m.name) \(q(s))") }
            if let s = m.authPass { out.append("sentinel auth-pass \(m.name) \(q(s))") }
            if let s = m.authUser { out.append("sentinel auth-user \(m.name) \(q(s))") }
            if m.masterRebootDownAfterMillis != 0 {
                out.append("sentinel master-reboot-down-after-period \(m.name) \(m.masterRebootDownAfterMillis)")
            }
            for (k, v) in m.renamedCommands.sorted(by: { $0.key < $1.key }) {
                out.append("sentinel rename-command \(m.name) \(k) \(q(v))")
            }
            out.append("sentinel config-epoch \(m.name) \(m.configEpoch)")
            out.append("sentinel leader-epoch \(m.name) \(m.leaderEpoch)")
            for r in m.replicas.values.sorted(by: { $0.name < $1.name }) {
                // During a failover the promoted replica may be listed: it is still a replica of
                // the address we write above until the switch.
                if r.address == m.address { continue }
                out.append("sentinel known-replica \(m.name) \(r.address.ip) \(r.address.port)")
            }
            for s in m.sentinels.values.sorted(by: { $0.name < $1.name }) {
                guard let id = s.runID else { continue }
                out.append("sentinel known-sentinel \(m.name) \(s.address.ip) \(s.address.port) \(id)")
            }
        }
        out.append("sentinel current-epoch \(currentEpoch)")
        return out
    }

    /// Writes the config file now (atomically). Errors are logged, not fatal, as in Redis.
    @discardableResult
    func flushConfig() -> Bool {
        configDirty = false
        guard let path = settings.configFile else { return true }
        let original: [String]
        do {
            if let bytes = try Posix.readFile(path) {
                var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if lines.last == "" { lines.removeLast() }
                original = lines
            } else { original = [] }
        } catch {
            log.warning("WARNING: Sentinel was not able to save the new configuration on disk!!!: \(error)")
            return false
        }
        let text = ConfigRewrite.rewrite(original: original, entries: [("sentinel", sentinelConfigLines())]) { words in
            words.first?.lowercased() == "sentinel" ? "sentinel" : nil
        }
        do {
            let atomic = try ConfigRewrite.write(text, to: path)
            if !atomic { log.notice("Config file \(path) rewritten in place (rename not possible): not atomic") }
            log.debug("Sentinel new configuration saved on disk")
            return true
        } catch {
            log.warning("WARNING: Sentinel was not able to save the new configuration on disk!!!: \(error)")
            return false
        }
    }

    /// Flushes the config if something changed since the last write.
    func flushConfigIfDirty() { if configDirty { flushConfig() } }
}

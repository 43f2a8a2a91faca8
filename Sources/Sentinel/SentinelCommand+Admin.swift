// Administration through SENTINEL: MONITOR, REMOVE, RESET, SET, CONFIG GET/SET, DEBUG, FAILOVER,
// FLUSHCONFIG and SIMULATE-FAILURE, with redis-sentinel's validation order and error texts. Every
// change is persisted before the reply; a failed write is the reply's error.
import Shared

extension SentinelServer {
    /// Writes the config and replies OK, or Redis's error when it could not be saved.
    func flushConfigAndReply(_ c: SentinelClient) {
        if sentinel.flushConfig() { c.conn.output.ok() } else { replyError(c, "ERR Failed to save config file. Check server logs.") }
    }

    func monitor(_ c: SentinelClient, _ a: [String]) throws {
        let s = sentinel
        guard let quorum = Int(a[5]) else { throw CommandError("ERR Invalid quorum") }
        guard let port = Int(a[4]) else { throw CommandError("ERR Invalid port") }
        guard quorum > 0 else { throw CommandError("ERR Quorum must be 1 or greater.") }
        // As Redis: the name must resolve now. A name never looked up before is resolved in the
        // command (the operator asked for it; every periodic lookup runs off the loop).
        let host = a[3]
        let ip = Resolver.isIPLiteral(host) ? host
            : s.settings.resolveHostnames ? (s.resolver?.lastAnswer(host) ?? Resolver.lookup(host)) : nil
        guard let ip else { throw CommandError("ERR Invalid IP address or hostname specified") }
        guard s.masters[a[2]] == nil else { throw CommandError("ERR Duplicate master name.") }
        guard port >= 0 && port <= 65535 else { throw CommandError("ERR Invalid port number") }
        let addr = InstanceAddress(host: host, port: port, ip: ip)
        let m = s.makeMaster(name: a[2], address: addr, quorum: quorum, now: s.clock.monotonicMillis())
        s.masters[m.name] = m
        flushConfigAndReply(c)
        s.event(.warning, "+monitor", m, "quorum \(quorum)")
    }

    func remove(_ c: SentinelClient, _ name: String) throws {
        let m = try master(name)
        sentinel.event(.warning, "-monitor", m)
        sentinel.release(m, now: sentinel.clock.monotonicMillis())
        sentinel.masters[m.name] = nil
        flushConfigAndReply(c)
    }

    func reset(_ c: SentinelClient, _ pattern: String) {
        let now = sentinel.clock.monotonicMillis()
        var n = 0
        for m in sentinel.masters.values.sorted(by: { $0.name < $1.name }) where Glob.match(pattern, m.name) {
            sentinel.resetMaster(m, keepSentinels: false, announce: true, now: now)
            n += 1
        }
        if n > 0 { sentinel.flushConfig() }
        c.conn.output.integer(n)
    }

    /// SENTINEL SET <master> <option> <value> ...: applied one by one, as Redis does (an error
    /// leaves the earlier options applied, and persisted).
    func set(_ c: SentinelClient, _ a: [String]) throws {
        let s = sentinel
        let m = try master(a[2])
        var changes = 0
        var j = 3
        func fail(_ message: String) throws -> Never {
            if changes > 0 { s.flushConfig() }
            throw CommandError(message)
        }
        while j < a.count {
            let option = a[j], opt = option.lowercased(), more = a.count - 1 - j
            let start = j
            func number(min: Int64) throws -> Int64 {
                j += 1
                guard let v = Int64(a[j]), v >= min else { try fail("ERR Invalid argument '\(a[j])' for SENTINEL SET '\(option)'") }
                return v
            }
            var redacted = false
            switch opt {
            case "down-after-milliseconds" where more > 0: s.setDownAfter(m, try number(min: 1))
            case "failover-timeout" where more > 0: m.failoverTimeout = try number(min: 1)
            case "parallel-syncs" where more > 0: m.parallelSyncs = Int(try number(min: 1))
            case "quorum" where more > 0: m.quorum = Int(try number(min: 1))
            case "master-reboot-down-after-period" where more > 0, "primary-reboot-down-after-period" where more > 0:
                m.masterRebootDownAfterMillis = try number(min: 0)
            case "notification-script" where more > 0, "client-reconfig-script" where more > 0:
                j += 1
                let value = a[j]
                if s.settings.denyScriptsReconfig {
                    try fail("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration")
                }
                let notification = opt == "notification-script"
                if !value.isEmpty && !Posix.isExecutable(value) {
                    try fail(notification ? "ERR Notification script seems non existing or non executable"
                                          : "ERR Client reconfiguration script seems non existing or non executable")
                }
                if notification { m.notificationScript = value.isEmpty ? nil : value } else { m.clientReconfigScript = value.isEmpty ? nil : value }
            case "auth-pass" where more > 0, "auth-user" where more > 0:
                j += 1
                let value = a[j]
                if opt == "auth-pass" { m.authPass = value.isEmpty ? nil : value; redacted = true } else { m.authUser = value.isEmpty ? nil : value }
                // Reconnect with the new credentials (the old links may still be authenticated).
                s.dropInstanceConnections(m, now: s.clock.monotonicMillis())
            case "rename-command" where more > 1:
                let old = a[j + 1], new = a[j + 2]
                j += 2
                if old.isEmpty || new.isEmpty { try fail("ERR Invalid argument '\(new.isEmpty ? new : old)' for SENTINEL SET '\(option)'") }
                m.renamedCommands[old.uppercased()] = nil
                if old.uppercased() != new.uppercased() { m.renamedCommands[old.uppercased()] = new }
            default:
                try fail("ERR Unknown option or number of arguments for SENTINEL SET '\(option)'")
            }
            changes += 1
            let shown = a[(start + 1)...j].enumerated().map { i, v in redacted && i == 0 ? "******" : v }
            s.event(.warning, "+set", m, ([option] + shown).joined(separator: " "))
            j += 1
        }
        flushConfigAndReply(c)
    }

    // MARK: - CONFIG

    /// The options SENTINEL CONFIG knows, in the order CONFIG GET lists them.
    static let configOptions = ["resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port", "sentinel-user", "sentinel-pass", "loglevel",
                                 "forget-unreachable-after"]

    func config(_ c: SentinelClient, _ a: [String]) throws {
        switch a[2].lowercased() {
        case "set" where a.count >= 5: try configSet(c, Array(a[3...]))
        case "get" where a.count >= 4: configGet(c, Array(a[3...]))
        default:
            throw CommandError("ERR Only SENTINEL CONFIG GET <param> [<param> <param> ...] / SET <param> <value> [<param> <value> ...] are supported.")
        }
    }

    func configGet(_ c: SentinelClient, _ patterns: [String]) {
        let settings = sentinel.settings
        func value(_ name: String) -> String {
            switch name {
            case "resolve-hostnames": return settings.resolveHostnames ? "yes" : "no"
            case "announce-hostnames": return settings.announceHostnames ? "yes" : "no"
            case "announce-ip": return settings.announceIP ?? ""
            case "announce-port": return String(settings.announcePort)
            case "sentinel-user": return settings.sentinelUser ?? ""
            case "sentinel-pass": return settings.sentinelPass ?? ""
            case "forget-unreachable-after": return String(settings.forgetUnreachableAfter)
            default: return settings.loglevel.name
            }
        }
        var out: [(String, String)] = []
        for p in patterns {
            for name in SentinelServer.configOptions where Glob.match(p, name, nocase: true) && !out.contains(where: { $0.0 == name }) {
                out.append((name, value(name)))
            }
        }
        c.replyPairs(out)
    }

    /// Validates every pair first (unknown, duplicate, missing, bad value), then applies them all.
    func configSet(_ c: SentinelClient, _ kv: [String]) throws {
        var seen: Set<String> = []
        var i = 0
        while i < kv.count {
            let option = kv[i], opt = option.lowercased()
            guard SentinelServer.configOptions.contains(opt) else { throw CommandError("ERR Invalid argument '\(option)' to SENTINEL CONFIG SET") }
            guard seen.insert(opt).inserted else { throw CommandError("ERR Duplicate argument '\(option)' to SENTINEL CONFIG SET") }
            guard i + 1 < kv.count else { throw CommandError("ERR Missing argument '\(option)' value") }
            let v = kv[i + 1]
            let valid: Bool
            switch opt {
            case "resolve-hostnames", "announce-hostnames": valid = parseYesNo(v) != nil
            case "announce-port": valid = Int(v).map { $0 >= 0 && $0 <= 65535 } ?? false
            case "loglevel": valid = LogLevel(name: v) != nil
            case "forget-unreachable-after": valid = Int64(v).map { $0 >= 0 } ?? false
            default: valid = true
            }
            guard valid else { throw CommandError("ERR Invalid value '\(v)' to SENTINEL CONFIG SET '\(option)'") }
            i += 2
        }
        var dropSentinels = false
        i = 0
        while i < kv.count {
            let v = kv[i + 1]
            switch kv[i].lowercased() {
            case "resolve-hostnames": sentinel.settings.resolveHostnames = parseYesNo(v) ?? false
            case "announce-hostnames": sentinel.settings.announceHostnames = parseYesNo(v) ?? false
            case "announce-ip": sentinel.settings.announceIP = v.isEmpty ? nil : v
            case "announce-port": sentinel.settings.announcePort = Int(v) ?? 0
            case "sentinel-user": sentinel.settings.sentinelUser = v.isEmpty ? nil : v; dropSentinels = true
            case "sentinel-pass": sentinel.settings.sentinelPass = v.isEmpty ? nil : v; dropSentinels = true
            case "forget-unreachable-after": sentinel.settings.forgetUnreachableAfter = Int64(v) ?? 0
            default:
                sentinel.settings.loglevel = LogLevel(name: v) ?? sentinel.settings.loglevel
                sentinel.log.level = sentinel.settings.loglevel
            }
            i += 2
        }
        flushConfigAndReply(c)
        if dropSentinels { sentinel.dropSentinelConnections(now: sentinel.clock.monotonicMillis()) }
    }

    // MARK: - DEBUG, FAILOVER, SIMULATE-FAILURE

    /// SENTINEL DEBUG: the timing parameters and their values, or sets some of them.
    func debug(_ c: SentinelClient, _ pairs: [String]) throws {
        if pairs.isEmpty {
            c.replyPairs(SentinelTimings.names.map { ($0, String(sentinel.timings[name: $0] ?? 0)) })
            return
        }
        if let err = sentinel.timings.apply(pairs) { throw CommandError(err) }
        c.conn.output.ok()
    }

    /// SENTINEL FAILOVER <name> [COORDINATED]: coordinated (zero-loss, CoordinatedFailover.swift)
    /// whenever the master can take part, else Redis's forced promotion; COORDINATED insists.
    func failover(_ c: SentinelClient, _ args: [String]) throws {
        let s = sentinel
        guard args.count <= 2 else { throw CommandError("ERR wrong number of arguments for 'sentinel|failover' command") }
        let coordinated = args.count == 2
        if coordinated && args[1].lowercased() != "coordinated" { throw CommandError("ERR syntax error") }
        let m = try master(args[0])
        let now = s.clock.monotonicMillis()
        if m.flags.contains(.failoverInProgress) { throw CommandError("INPROG Failover already in progress") }
        if s.selectReplica(m, now: now) == nil { throw CommandError("NOGOODSLAVE No suitable replica to promote") }
        let canCoordinate = s.canCoordinateFailover(m)
        if coordinated && !canCoordinate {
            throw CommandError("NOGOODPRIMARY The primary is not reachable or does not support FAILOVER: a coordinated failover is not possible")
        }
        if canCoordinate {
            s.log.notice("Executing user requested coordinated FAILOVER of '\(m.name)'")
            s.startCoordinatedFailover(m, now: now)
            // The plain form keeps Redis's contract (no agreement asked, works with one sentinel
            // whatever the quorum); only COORDINATED elects a leader first, as Valkey does.
            if !coordinated { m.flags.insert(.forceFailover) }
        } else {
            s.log.notice("Executing user requested FAILOVER of '\(m.name)'")
            s.startFailover(m, now: now)
            m.flags.insert(.forceFailover)
        }
        c.conn.output.ok()
    }

    func simulateFailure(_ c: SentinelClient, _ flags: [String]) throws {
        let s = sentinel
        s.simulateCrashAfterElection = false
        s.simulateCrashAfterPromotion = false
        for f in flags {
            switch f.lowercased() {
            case "crash-after-election":
                s.simulateCrashAfterElection = true
                s.log.warning("Failure simulation: this Sentinel will crash after being successfully elected as failover leader")
            case "crash-after-promotion":
                s.simulateCrashAfterPromotion = true
                s.log.warning("Failure simulation: this Sentinel will crash after promoting the selected replica to master")
            case "help":
                c.conn.output.bulks(["crash-after-election", "crash-after-promotion"])
                return
            default:
                throw CommandError("ERR Unknown failure simulation specified")
            }
        }
        c.conn.output.ok()
    }
}

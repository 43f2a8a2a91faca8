// The SENTINEL command family: introspection (MASTERS, REPLICAS, SENTINELS, GET-MASTER-ADDR-BY-NAME,
// CKQUORUM, INFO-CACHE), agreement (IS-MASTER-DOWN-BY-ADDR) and administration (MONITOR, REMOVE,
// SET, RESET, FAILOVER, FLUSHCONFIG, CONFIG, SIMULATE-FAILURE, DEBUG).
import Shared

extension SentinelServer {
    /// Dispatches `SENTINEL <subcommand> ...`.
    func sentinelCommand(_ c: SentinelClient, _ args: [String]) {
        let sub = args[1].lowercased()
        let now = Clock.monotonicMillis()
        let s = sentinel
        func wrongArgs() { c.conn.output.error("ERR wrong number of arguments for 'sentinel|\(sub)' command") }
        func master(_ name: String) -> MonitoredInstance? {
            if let m = s.masters[name] { return m }
            c.conn.output.error("ERR No such master with that name")
            return nil
        }
        switch sub {
        case "masters":
            guard args.count == 2 else { return wrongArgs() }
            let ms = s.masters.values.sorted { $0.name < $1.name }
            c.conn.output.arrayHeader(ms.count)
            for m in ms { replyInstance(c, m, now: now) }
        case "master":
            guard args.count == 3 else { return wrongArgs() }
            guard let m = master(args[2]) else { return }
            replyInstance(c, m, now: now)
        case "replicas", "slaves":
            guard args.count == 3 else { return wrongArgs() }
            guard let m = master(args[2]) else { return }
            // Replicas configured with replica-announced no stay hidden, as in Redis.
            let rs = m.replicas.values.filter(\.replicaAnnounced).sorted { $0.name < $1.name }
            c.conn.output.arrayHeader(rs.count)
            for r in rs { replyInstance(c, r, now: now) }
        case "sentinels":
            guard args.count == 3 else { return wrongArgs() }
            guard let m = master(args[2]) else { return }
            let ss = m.sentinels.values.sorted { $0.name < $1.name }
            c.conn.output.arrayHeader(ss.count)
            for x in ss { replyInstance(c, x, now: now) }
        case "get-master-addr-by-name":
            guard args.count == 3 else { return wrongArgs() }
            guard let m = s.masters[args[2]] else { c.conn.output.nullArray(); return }
            let a = s.currentMasterAddress(m)
            c.conn.output.arrayHeader(2)
            c.conn.output.bulk(a.ip)
            c.conn.output.bulk(String(a.port))
        case "myid":
            c.conn.output.bulk(s.myID)
        case "ckquorum":
            guard args.count == 3 else { return wrongArgs() }
            guard let m = master(args[2]) else { return }
            let voters = m.sentinels.count + 1
            let usable = 1 + m.sentinels.values.filter { $0.flags.isDisjoint(with: [.sDown, .oDown]) }.count
            let noQuorum = usable < m.quorum, noAuth = usable < voters / 2 + 1
            if !noQuorum && !noAuth {
                c.conn.output.simple("OK \(usable) usable Sentinels. Quorum and failover authorization can be reached")
            } else {
                var e = "NOQUORUM \(usable) usable Sentinels. "
                if noQuorum { e += "Not enough available Sentinels to reach the specified quorum for this master" }
                if noAuth {
                    if noQuorum { e += ". " }
                    e += "Not enough available Sentinels to reach the majority and authorize a failover"
                }
                c.conn.output.error(e)
            }
        case "is-master-down-by-addr":
            guard args.count == 6 else { return wrongArgs() }
            guard let port = Int(args[3]), let epoch = UInt64(args[4]) else {
                c.conn.output.error("ERR value is not an integer or out of range"); return
            }
            let r = s.isMasterDownByAddr(ip: args[2], port: port, reqEpoch: epoch, runid: args[5], now: now)
            s.flushConfigIfDirty()
            c.conn.output.arrayHeader(3)
            c.conn.output.integer(r.down ? 1 : 0)
            c.conn.output.bulk(r.leader ?? "*")
            c.conn.output.integer(Int(r.epoch))
        case "reset":
            guard args.count == 3 else { return wrongArgs() }
            var n = 0
            for m in s.masters.values where Glob.match(args[2], m.name) {
                s.resetMaster(m, now: now)
                n += 1
            }
            s.flushConfig()
            c.conn.output.integer(n)
        case "monitor":
            guard args.count == 6 else { return wrongArgs() }
            guard let q = Int(args[5]), q > 0 else { c.conn.output.error("ERR Quorum must be 1 or greater."); return }
            guard let port = Int(args[4]), port > 0, port < 65536 else { c.conn.output.error("ERR Invalid port number"); return }
            guard isIPLiteral(args[3]) || s.settings.resolveHostnames else {
                c.conn.output.error("ERR Invalid IP address or hostname specified"); return
            }
            guard s.masters[args[2]] == nil else { c.conn.output.error("ERR Duplicated master name"); return }
            let m = MonitoredInstance(flags: .master, name: args[2], address: InstanceAddress(ip: args[3], port: port), master: nil, now: now)
            m.quorum = q
            s.masters[m.name] = m
            s.flushConfig()
            s.event(.warning, "+monitor", m, "quorum \(q)")
            c.conn.output.ok()
        case "remove":
            guard args.count == 3 else { return wrongArgs() }
            guard let m = master(args[2]) else { return }
            s.event(.warning, "-monitor", m)
            s.release(m, now: now)
            s.masters[m.name] = nil
            s.flushConfig()
            c.conn.output.ok()
        case "set":
            guard args.count >= 5, args.count % 2 == 1 else { return wrongArgs() }
            guard let m = master(args[2]) else { return }
            if let err = s.setMasterOptions(m, Array(args[3...])) { c.conn.output.error(err); return }
            s.flushConfig()
            c.conn.output.ok()
        case "flushconfig":
            s.flushConfig()
            c.conn.output.ok()
        case "failover":
            guard args.count == 3 else { return wrongArgs() }
            guard let m = master(args[2]) else { return }
            if m.flags.contains(.failoverInProgress) { c.conn.output.error("INPROG Failover already in progress"); return }
            if s.selectReplica(m, now: now) == nil { c.conn.output.error("NOGOODSLAVE No suitable replica to promote"); return }
            s.log.warning("Executing user requested FAILOVER of '\(m.name)'")
            s.startFailover(m, now: now)
            m.flags.insert(.forceFailover)
            c.conn.output.ok()
        case "config":
            sentinelConfigCommand(c, args)
        case "info-cache":
            guard args.count >= 2 else { return wrongArgs() }
            let names = args.count > 2 ? Array(args[2...]) : s.masters.keys.sorted()
            let ms = names.compactMap { s.masters[$0] }
            if c.proto >= 3 { c.conn.output.mapHeader(ms.count) } else { c.conn.output.arrayHeader(ms.count * 2) }
            for m in ms {
                c.conn.output.bulk(m.name)
                let all = [m] + m.replicas.values.sorted { $0.name < $1.name }
                c.conn.output.arrayHeader(all.count)
                for ri in all {
                    c.conn.output.arrayHeader(2)
                    if let info = ri.lastInfo {
                        c.conn.output.integer(Int(now - info.time))
                        c.conn.output.bulk(info.text)
                    } else {
                        c.conn.output.null(); c.conn.output.null()
                    }
                }
            }
        case "simulate-failure":
            for a in args.dropFirst(2) {
                switch a.lowercased() {
                case "crash-after-election": s.simulateCrashAfterElection = true
                case "crash-after-promotion": s.simulateCrashAfterPromotion = true
                case "help":
                    c.conn.output.bulks(["crash-after-election", "crash-after-promotion"]); return
                default: c.conn.output.error("ERR Unknown failure simulation specified"); return
                }
            }
            c.conn.output.ok()
        case "pending-scripts":
            s.writePendingScripts(&c.conn.output, proto: c.proto, now: s.clockNow())
        case "debug":
            let params: [(String, Int64)] = [("INFO-PERIOD", SentinelTiming.infoPeriod), ("PING-PERIOD", SentinelTiming.pingPeriod),
                ("ASK-PERIOD", SentinelTiming.askPeriod), ("PUBLISH-PERIOD", SentinelTiming.publishPeriod),
                ("DEFAULT-DOWN-AFTER", 30_000), ("TILT-TRIGGER", SentinelTiming.tiltTrigger), ("TILT-PERIOD", SentinelTiming.tiltPeriod),
                ("SLAVE-RECONF-TIMEOUT", SentinelTiming.slaveReconfTimeout), ("MIN-LINK-RECONNECT-PERIOD", SentinelTiming.minLinkReconnectPeriod),
                ("ELECTION-TIMEOUT", SentinelTiming.electionTimeout), ("SCRIPT-MAX-RUNTIME", 60_000), ("SCRIPT-RETRY-DELAY", 30_000),
                ("DEFAULT-FAILOVER-TIMEOUT", 180_000)]
            if args.count == 2 {
                if c.proto >= 3 { c.conn.output.mapHeader(params.count) } else { c.conn.output.arrayHeader(params.count * 2) }
                for (k, v) in params { c.conn.output.bulk(k); c.conn.output.bulk(String(v)) }
            } else {
                c.conn.output.error("ERR Changing timing parameters is not supported by this sentinel")
            }
        case "help":
            c.conn.output.bulks(["SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                                 "MASTERS", "MASTER <master-name>", "REPLICAS <master-name>", "SENTINELS <master-name>",
                                 "GET-MASTER-ADDR-BY-NAME <master-name>", "MYID", "CKQUORUM <master-name>",
                                 "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>", "RESET <pattern>",
                                 "MONITOR <name> <ip> <port> <quorum>", "REMOVE <master-name>", "SET <master-name> <option> <value> ...",
                                 "FAILOVER <master-name>", "FLUSHCONFIG", "CONFIG SET|GET <param> ...", "INFO-CACHE <master-name>",
                                 "SIMULATE-FAILURE [CRASH-AFTER-ELECTION|CRASH-AFTER-PROMOTION|HELP]", "DEBUG [<param> <value> ...]"])
        default:
            c.conn.output.error("ERR unknown subcommand '\(args[1])'. Try SENTINEL HELP.")
        }
    }

    /// One instance as Redis's addReplySentinelRedisInstance writes it: field/value pairs, all
    /// values as bulk strings; a map in RESP3.
    func replyInstance(_ c: SentinelClient, _ ri: MonitoredInstance, now: Int64) {
        var f: [(String, String)] = [
            ("name", ri.name), ("ip", ri.address.ip), ("port", String(ri.address.port)), ("runid", ri.runID ?? ""),
            ("flags", ri.flags.text(disconnected: ri.link.disconnected && ri.link.simulatedSent == nil)),
            ("link-pending-commands", String(ri.link.pendingCommands)), ("link-refcount", "1"),
        ]
        if ri.failoverState != .none { f.append(("failover-state", ri.failoverState.name)) }
        f.append(("last-ping-sent", String(ri.link.actPingTime != 0 ? now - ri.link.actPingTime : 0)))
        f.append(("last-ok-ping-reply", String(now - ri.link.lastAvailTime)))
        f.append(("last-ping-reply", String(now - ri.link.lastPongTime)))
        if ri.flags.contains(.sDown) { f.append(("s-down-time", String(now - ri.sDownSince))) }
        if ri.flags.contains(.oDown) { f.append(("o-down-time", String(now - ri.oDownSince))) }
        f.append(("down-after-milliseconds", String(ri.downAfterMillis)))
        f.append(("info-refresh", String(ri.infoRefresh != 0 ? now - ri.infoRefresh : 0)))
        f.append(("role-reported", ri.roleReported == .master ? "master" : "slave"))
        f.append(("role-reported-time", String(now - ri.roleReportedTime)))
        if ri.isMaster {
            f += [("config-epoch", String(ri.configEpoch)), ("num-slaves", String(ri.replicas.count)),
                  ("num-other-sentinels", String(ri.sentinels.count)), ("quorum", String(ri.quorum)),
                  ("failover-timeout", String(ri.failoverTimeout)), ("parallel-syncs", String(ri.parallelSyncs))]
            if let sc = ri.notificationScript { f.append(("notification-script", sc)) }
            if let sc = ri.clientReconfigScript { f.append(("client-reconfig-script", sc)) }
        }
        if ri.isSlave {
            f += [("master-link-down-time", String(ri.masterLinkDownTime)),
                  ("master-link-status", ri.slaveMasterLinkUp ? "ok" : "err"),
                  ("master-host", ri.slaveMasterHost ?? "?"), ("master-port", String(ri.slaveMasterPort)),
                  ("slave-priority", String(ri.slavePriority)), ("slave-repl-offset", String(ri.slaveReplOffset)),
                  ("replica-announced", ri.replicaAnnounced ? "1" : "0")]
        }
        if ri.isSentinel {
            f += [("last-hello-message", String(ri.lastHelloTime != 0 ? now - ri.lastHelloTime : now)),
                  ("voted-leader", ri.leader ?? "?"), ("voted-leader-epoch", String(ri.leaderEpoch))]
        }
        if c.proto >= 3 { c.conn.output.mapHeader(f.count) } else { c.conn.output.arrayHeader(f.count * 2) }
        for (k, v) in f { c.conn.output.bulk(k); c.conn.output.bulk(v) }
    }

    /// SENTINEL CONFIG GET <param> / SET <param> <value>.
    func sentinelConfigCommand(_ c: SentinelClient, _ args: [String]) {
        let s = sentinel
        guard args.count >= 4 else { c.conn.output.error("ERR wrong number of arguments for 'sentinel|config' command"); return }
        let op = args[2].lowercased()
        var values: [(String, String)] = [
            ("resolve-hostnames", s.settings.resolveHostnames ? "yes" : "no"),
            ("announce-hostnames", s.settings.announceHostnames ? "yes" : "no"),
            ("announce-ip", s.settings.announceIP ?? ""), ("announce-port", String(s.settings.announcePort)),
            ("sentinel-user", s.settings.sentinelUser ?? ""), ("sentinel-pass", s.settings.sentinelPass ?? ""),
            ("loglevel", s.log.level.name),
        ]
        if op == "get" {
            values = values.filter { Glob.match(args[3].lowercased(), $0.0) }
            if c.proto >= 3 { c.conn.output.mapHeader(values.count) } else { c.conn.output.arrayHeader(values.count * 2) }
            for (k, v) in values { c.conn.output.bulk(k); c.conn.output.bulk(v) }
            return
        }
        guard op == "set", args.count >= 5, args.count % 2 == 1 else {
            c.conn.output.error("ERR Invalid arguments for SENTINEL CONFIG"); return
        }
        var i = 3
        while i + 1 < args.count {
            let k = args[i].lowercased(), v = args[i + 1]
            switch k {
            case "loglevel":
                guard let l = LogLevel(name: v) else { c.conn.output.error("ERR Invalid value for loglevel"); return }
                s.log.level = l
            default:
                let result: String?
                do { result = try s.applySentinelDirective([k, v], now: Clock.monotonicMillis()) } catch { result = "Invalid argument" }
                if let err = result {
                    c.conn.output.error("ERR Invalid argument '\(v)' to SENTINEL CONFIG SET '\(k)': \(err)"); return
                }
            }
            i += 2
        }
        s.flushConfig()
        c.conn.output.ok()
    }

    private func isIPLiteral(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) { return true }
        return s.contains(":") && s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

extension Sentinel {
    /// SENTINEL SET options; returns an error text or nil.
    func setMasterOptions(_ m: MonitoredInstance, _ kv: [String]) -> String? {
        var i = 0
        while i + 1 < kv.count {
            let opt = kv[i].lowercased(), v = kv[i + 1]
            let bad = "ERR Invalid argument '\(v)' for SENTINEL SET '\(kv[i])'"
            switch opt {
            case "down-after-milliseconds", "failover-timeout", "parallel-syncs", "quorum", "master-reboot-down-after-period":
                guard let n = Int64(v), n >= 0 else { return bad }
                switch opt {
                case "down-after-milliseconds": guard n > 0 else { return bad }; m.downAfterMillis = n
                    for r in m.replicas.values { r.downAfterMillis = n }
                    for x in m.sentinels.values { x.downAfterMillis = n }
                case "failover-timeout": guard n > 0 else { return bad }; m.failoverTimeout = n
                case "parallel-syncs": guard n > 0 else { return bad }; m.parallelSyncs = Int(n)
                case "quorum": guard n > 0 else { return bad }; m.quorum = Int(n)
                default: m.masterRebootDownAfterMillis = n
                }
            case "notification-script", "client-reconfig-script":
                if settings.denyScriptsReconfig {
                    return "ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your config file."
                }
                if !v.isEmpty && !Posix.isExecutable(v) { return "ERR \(opt == "notification-script" ? "Notification" : "Client reconfiguration") script seems non existing or non executable" }
                if opt == "notification-script" { m.notificationScript = v.isEmpty ? nil : v } else { m.clientReconfigScript = v.isEmpty ? nil : v }
            case "auth-pass": m.authPass = v.isEmpty ? nil : v; m.link.close(now: clockNow())
            case "auth-user": m.authUser = v.isEmpty ? nil : v; m.link.close(now: clockNow())
            case "rename-command":
                guard i + 2 < kv.count else { return bad }
                m.renamedCommands[v.uppercased()] = kv[i + 2]
                i += 1
            default:
                return "ERR Invalid argument '\(kv[i])' for SENTINEL SET"
            }
            i += 2
        }
        return nil
    }

    /// SENTINEL RESET: forget replicas, sentinels and failover state; rediscover from scratch.
    func resetMaster(_ m: MonitoredInstance, now: Int64) {
        release(m, now: now)
        m.replicas = [:]
        m.sentinels = [:]
        m.flags = .master
        m.failoverState = .none
        m.promotedReplica = nil
        m.leader = nil
        m.runID = nil
        m.infoRefresh = 0
        m.link.reset(now: now)
        event(.warning, "+reset-master", m)
    }
}

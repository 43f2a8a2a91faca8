// The SENTINEL command family as a table of subcommands, with Valkey 8's PRIMARY aliases. This
// file holds the table and the introspection subcommands (MASTERS, REPLICAS, SENTINELS,
// GET-MASTER-ADDR-BY-NAME, CKQUORUM, INFO-CACHE, IS-MASTER-DOWN-BY-ADDR, PENDING-SCRIPTS);
// administration lives in SentinelCommand+Admin.swift.
import Shared

extension SentinelCommandTable {
    private static func sub(_ name: String, _ arity: Int, since: String, _ summary: String, complexity: String = "O(1)",
                            _ flags: CommandFlags = [.admin], _ h: @escaping SentinelHandler) -> SentinelCommandSpec {
        SentinelCommandSpec(name, arity, flags.union(.onlySentinel), flags.contains(.admin) ? ["admin", "slow", "dangerous"] : ["slow"],
                            group: "sentinel", since: since, summary, complexity: complexity, h)
    }

    static let sentinelCommand = SentinelCommandSpec(
        "sentinel", -2, [.admin, .onlySentinel], ["admin", "slow", "dangerous"], group: "sentinel", since: "2.8.4",
        "A container for Redis Sentinel commands.", complexity: "Depends on subcommand.", subcommands: [
            sub("masters", 2, since: "2.8.4", "Returns a list of monitored Redis masters.", complexity: "O(N) where N is the number of masters") { s, c, _ in s.replyMasters(c) },
            sub("primaries", 2, since: "8.0.0", "Returns a list of monitored primaries.", complexity: "O(N) where N is the number of primaries") { s, c, _ in s.replyMasters(c) },
            sub("master", 3, since: "2.8.4", "Returns the state of a master Redis instance.") { s, c, a in try s.replyMaster(c, a[2]) },
            sub("primary", 3, since: "8.0.0", "Returns the state of a primary instance.") { s, c, a in try s.replyMaster(c, a[2]) },
            sub("replicas", 3, since: "5.0.0", "Returns a list of the monitored Redis replicas.", complexity: "O(N) where N is the number of replicas") { s, c, a in try s.replyReplicas(c, a[2]) },
            sub("slaves", 3, since: "2.8.0", "Returns a list of the monitored replicas.", complexity: "O(N) where N is the number of replicas") { s, c, a in try s.replyReplicas(c, a[2]) },
            sub("sentinels", 3, since: "2.8.4", "Returns a list of Sentinel instances.", complexity: "O(N) where N is the number of Sentinels") { s, c, a in
                let m = try s.master(a[2])
                s.replyInstances(c, m.sentinels.values.sorted { $0.name < $1.name })
            },
            sub("get-master-addr-by-name", 3, since: "2.8.4", "Returns the port and address of a master Redis instance.") { s, c, a in s.replyMasterAddress(c, a[2]) },
            sub("get-primary-addr-by-name", 3, since: "8.0.0", "Returns the port and address of a primary instance.") { s, c, a in s.replyMasterAddress(c, a[2]) },
            sub("is-master-down-by-addr", 6, since: "2.8.4", "Determines whether a master Redis instance is down.") { s, c, a in try s.isMasterDown(c, a) },
            sub("is-primary-down-by-addr", 6, since: "8.0.0", "Determines whether a primary instance is down.") { s, c, a in try s.isMasterDown(c, a) },
            sub("myid", 2, since: "6.2.0", "Returns the Redis Sentinel instance ID.") { s, c, _ in c.conn.output.bulk(s.sentinel.myID) },
            sub("ckquorum", 3, since: "2.8.4", "Checks for a Redis Sentinel quorum.") { s, c, a in try s.ckquorum(c, a[2]) },
            sub("info-cache", -3, since: "3.2.0", "Returns the cached `INFO` replies from the deployment's instances.",
                complexity: "O(N) where N is the number of instances") { s, c, a in s.infoCache(c, Array(a[2...])) },
            sub("pending-scripts", 2, since: "2.8.4", "Returns information about pending scripts for Redis Sentinel.") { s, c, _ in
                s.sentinel.writePendingScripts(&c.conn.output, proto: c.proto, now: s.sentinel.clock.monotonicMillis())
            },
            sub("monitor", 6, since: "2.8.4", "Starts monitoring.") { s, c, a in try s.monitor(c, a) },
            sub("remove", 3, since: "2.8.4", "Stops monitoring.") { s, c, a in try s.remove(c, a[2]) },
            sub("reset", 3, since: "2.8.4", "Resets Redis masters by name matching a pattern.", complexity: "O(N) where N is the number of monitored masters") { s, c, a in s.reset(c, a[2]) },
            sub("set", -5, since: "2.8.4", "Changes the configuration of a monitored Redis master.") { s, c, a in try s.set(c, a) },
            sub("config", -4, since: "6.2.0", "Configures Redis Sentinel.") { s, c, a in try s.config(c, a) },
            sub("debug", -2, since: "7.0.0", "Lists or updates the current configurable parameters of Redis Sentinel.",
                complexity: "O(N) where N is the number of configurable parameters") { s, c, a in try s.debug(c, Array(a[2...])) },
            sub("failover", -3, since: "2.8.4", "Forces a Redis Sentinel failover.") { s, c, a in try s.failover(c, Array(a[2...])) },
            // vigil's: the master switches this sentinel saw (Sentinel+History.swift).
            sub("history", -2, since: "7.0.15", "Returns the master switches this Sentinel has seen since it started.",
                complexity: "O(N) where N is the number of switches remembered") { s, c, a in try s.replyHistory(c, Array(a[2...])) },
            sub("flushconfig", 2, since: "2.8.4", "Rewrites the Redis Sentinel configuration file.") { s, c, _ in s.flushConfigAndReply(c) },
            sub("simulate-failure", -3, since: "3.2.0", "Simulates failover scenarios.") { s, c, a in try s.simulateFailure(c, Array(a[2...])) },
            sub("help", 2, since: "6.2.0", "Returns helpful text about the different subcommands.", [.loading, .stale]) { _, c, _ in
                c.replyHelp("SENTINEL", SentinelCommandTable.sentinelHelp)
            },
        ])

    /// SENTINEL HELP, as redis-sentinel prints it.
    static let sentinelHelp = [
        "CKQUORUM <master-name>",
        "    Check if the current Sentinel configuration is able to reach the quorum",
        "    needed to failover a master and the majority needed to authorize the",
        "    failover.",
        "CONFIG SET param value [param value ...]",
        "    Set a global Sentinel configuration parameter.",
        "CONFIG GET <param> [param param param ...]",
        "    Get global Sentinel configuration parameter.",
        "DEBUG [<param> <value> ...]",
        "    Show a list of configurable time parameters and their values (milliseconds).",
        "    Or update current configurable parameters values (one or more).",
        "GET-MASTER-ADDR-BY-NAME <master-name>",
        "    Return the ip and port number of the master with that name.",
        "FAILOVER <master-name>",
        "    Manually failover a master node without asking for agreement from other",
        "    Sentinels",
        "FLUSHCONFIG",
        "    Force Sentinel to rewrite its configuration on disk, including the current",
        "    Sentinel state.",
        "INFO-CACHE <master-name>",
        "    Return last cached INFO output from masters and all its replicas.",
        "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
        "    Check if the master specified by ip:port is down from current Sentinel's",
        "    point of view.",
        "MASTER <master-name>",
        "    Show the state and info of the specified master.",
        "MASTERS",
        "    Show a list of monitored masters and their state.",
        "MONITOR <name> <ip> <port> <quorum>",
        "    Start monitoring a new master with the specified name, ip, port and quorum.",
        "MYID",
        "    Return the ID of the Sentinel instance.",
        "PENDING-SCRIPTS",
        "    Get pending scripts information.",
        "REMOVE <master-name>",
        "    Remove master from Sentinel's monitor list.",
        "REPLICAS <master-name>",
        "    Show a list of replicas for this master and their state.",
        "RESET <pattern>",
        "    Reset masters for specific master name matching this pattern.",
        "SENTINELS <master-name>",
        "    Show a list of Sentinel instances for this master and their state.",
        "SET <master-name> <option> <value> [<option> <value> ...]",
        "    Set configuration parameters for certain masters.",
        "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
        "    Simulate a Sentinel crash.",
    ]
}

extension SentinelServer {
    /// The master named `name`, or Redis's error.
    func master(_ name: String) throws -> MonitoredInstance {
        guard let m = sentinel.masters[name] else { throw CommandError("ERR No such master with that name") }
        return m
    }

    func replyMasters(_ c: SentinelClient) {
        replyInstances(c, sentinel.masters.values.sorted { $0.name < $1.name })
    }

    func replyMaster(_ c: SentinelClient, _ name: String) throws {
        replyInstance(c, try master(name), now: sentinel.clock.monotonicMillis())
    }

    /// Replicas configured with replica-announced no stay hidden, as in Redis.
    func replyReplicas(_ c: SentinelClient, _ name: String) throws {
        let m = try master(name)
        replyInstances(c, m.replicas.values.filter(\.replicaAnnounced).sorted { $0.name < $1.name })
    }

    func replyInstances(_ c: SentinelClient, _ list: [MonitoredInstance]) {
        let now = sentinel.clock.monotonicMillis()
        c.conn.output.arrayHeader(list.count)
        for ri in list { replyInstance(c, ri, now: now) }
    }

    func replyMasterAddress(_ c: SentinelClient, _ name: String) {
        guard let m = sentinel.masters[name] else { c.conn.output.nullArray(); return }
        let a = sentinel.currentMasterAddress(m)
        c.conn.output.arrayHeader(2)
        c.conn.output.bulk(sentinel.announced(a))
        c.conn.output.bulk(String(a.port))
    }

    /// One instance as Redis's addReplySentinelRedisInstance writes it: field/value pairs, all
    /// values as bulk strings, a map in RESP3; fields by kind exactly as Redis sends them.
    func replyInstance(_ c: SentinelClient, _ ri: MonitoredInstance, now: Int64) {
        let s = sentinel
        let link = ri.link
        var f: [(String, String)] = [
            ("name", ri.name), ("ip", s.announced(ri.address)), ("port", String(ri.address.port)), ("runid", ri.runID ?? ""),
            ("flags", ri.flags.text(disconnected: link.disconnected && link.simulatedSent == nil)),
            ("link-pending-commands", String(link.pendingCommands)), ("link-refcount", "1"),
        ]
        if ri.flags.contains(.failoverInProgress) { f.append(("failover-state", ri.failoverState.name)) }
        f.append(("last-ping-sent", String(link.actPingTime != 0 ? now - link.actPingTime : 0)))
        f.append(("last-ok-ping-reply", String(now - link.lastAvailTime)))
        f.append(("last-ping-reply", String(now - link.lastPongTime)))
        if ri.flags.contains(.sDown) { f.append(("s-down-time", String(now - ri.sDownSince))) }
        if ri.flags.contains(.oDown) { f.append(("o-down-time", String(now - ri.oDownSince))) }
        f.append(("down-after-milliseconds", String(ri.downAfterMillis)))
        if !ri.isSentinel {
            f.append(("info-refresh", String(ri.infoRefresh != 0 ? now - ri.infoRefresh : 0)))
            f.append(("role-reported", ri.roleReported == .master ? "master" : "slave"))
            f.append(("role-reported-time", String(now - ri.roleReportedTime)))
        }
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
            f += [("last-hello-message", String(now - (ri.lastHelloTime != 0 ? ri.lastHelloTime : ri.createdAt))),
                  ("voted-leader", ri.leader ?? "?"), ("voted-leader-epoch", String(ri.leaderEpoch))]
        }
        c.replyPairs(f)
    }

    func ckquorum(_ c: SentinelClient, _ name: String) throws {
        let m = try master(name)
        let voters = m.sentinels.count + 1
        let usable = 1 + m.sentinels.values.filter { $0.flags.isDisjoint(with: [.sDown, .oDown]) }.count
        let noQuorum = usable < m.quorum, noAuth = usable < voters / 2 + 1
        if !noQuorum && !noAuth {
            c.conn.output.simple("OK \(usable) usable Sentinels. Quorum and failover authorization can be reached")
            return
        }
        var e = "NOQUORUM \(usable) usable Sentinels. "
        if noQuorum { e += "Not enough available Sentinels to reach the specified quorum for this master" }
        if noAuth {
            if noQuorum { e += ". " }
            e += "Not enough available Sentinels to reach the majority and authorize a failover"
        }
        throw CommandError(e)
    }

    /// SENTINEL IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid|*>: `[down, leader, epoch]`.
    func isMasterDown(_ c: SentinelClient, _ a: [String]) throws {
        guard let port = Int(a[3]), let epoch = Int64(a[4]) else {
            throw CommandError.notInteger
        }
        let r = sentinel.isMasterDownByAddr(ip: a[2], port: port, reqEpoch: UInt64(max(0, epoch)), runid: a[5], now: sentinel.clock.monotonicMillis())
        sentinel.flushConfigIfDirty()
        c.conn.output.arrayHeader(3)
        c.conn.output.integer(r.down ? 1 : 0)
        c.conn.output.bulk(r.leader ?? "*")
        c.conn.output.integer(Int(r.epoch))
    }

    /// SENTINEL INFO-CACHE <name> ...: per master, `[age-ms, INFO text]` for it and each replica
    /// (an array of name/entries pairs in both protocols, as Redis).
    func infoCache(_ c: SentinelClient, _ names: [String]) {
        let now = sentinel.clock.monotonicMillis()
        var seen: Set<String> = []
        let ms = names.compactMap { n -> MonitoredInstance? in
            guard let m = sentinel.masters[n], seen.insert(n).inserted else { return nil }
            return m
        }
        c.conn.output.arrayHeader(ms.count * 2)
        for m in ms {
            c.conn.output.bulk(m.name)
            let all = [m] + m.replicas.values.sorted { $0.name < $1.name }
            c.conn.output.arrayHeader(all.count)
            for ri in all {
                c.conn.output.arrayHeader(2)
                c.conn.output.integer(ri.infoRefresh != 0 ? Int(now - ri.infoRefresh) : 0)
                if let info = ri.lastInfo { c.conn.output.bulk(info.text) } else { c.conn.output.null() }
            }
        }
    }
}

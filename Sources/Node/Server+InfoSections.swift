// INFO: the sections Redis 7.0 reports, with its field names. Persistence and replication lines
// come from their subsystems (infoPersistenceLines / infoReplicationLines); the rest is here.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension Server {
    /// `# Persistence` lines (owned by the RDB/AOF work).
    func infoPersistenceLines() -> [String] { persistenceInfo() }
    /// `# Replication` lines (owned by the replication work).
    func infoReplicationLines() -> [String] { replicationInfo() }

    /// Sections in INFO's order; `default` ones are shown by a bare INFO.
    static let infoSections: [(name: String, inDefault: Bool)] = [
        ("server", true), ("clients", true), ("memory", true), ("persistence", true), ("stats", true),
        ("replication", true), ("fencing", true), ("cpu", true), ("modules", false), ("commandstats", false), ("errorstats", true),
        ("latencystats", false),
        ("cluster", true), ("keyspace", true),
    ]

    /// The INFO text for the requested section names (lower-case; `all`, `everything`, `default`).
    func infoText(_ requested: [String]) -> String {
        var wanted: Set<String> = []
        if requested.isEmpty { wanted = Set(Server.infoSections.filter(\.inDefault).map(\.name)) }
        for r in requested {
            switch r {
            case "default": wanted.formUnion(Server.infoSections.filter(\.inDefault).map(\.name))
            case "all": wanted.formUnion(Server.infoSections.map(\.name).filter { $0 != "modules" })
            case "everything": wanted.formUnion(Server.infoSections.map(\.name))
            default: wanted.insert(r)
            }
        }
        var out = ""
        for (name, _) in Server.infoSections where wanted.contains(name) {
            if !out.isEmpty { out += "\r\n" }
            out += "# " + Server.infoTitle(name) + "\r\n"
            for line in infoLines(name) { out += line + "\r\n" }
        }
        return out
    }

    static func infoTitle(_ name: String) -> String {
        switch name {
        case "cpu": return "CPU"
        case "commandstats": return "Commandstats"
        case "errorstats": return "Errorstats"
        case "latencystats": return "Latencystats"
        default: return name.prefix(1).uppercased() + name.dropFirst()
        }
    }

    /// The lines of one section.
    func infoLines(_ name: String) -> [String] {
        switch name {
        case "server": return infoServer()
        case "clients": return infoClients()
        case "memory": return infoMemory()
        case "persistence": return infoPersistenceLines()
        case "stats": return infoStats()
        case "replication": return infoReplicationLines()
        // vigil's own section (self-fencing, Replication/Server+Fencing.swift): Redis has none.
        case "fencing": return fencingInfoLines()
        case "cpu": return infoCPU()
        case "commandstats": return infoCommandStats()
        case "errorstats": return infoErrorStats()
        case "latencystats": return infoLatencyStats()
        case "cluster": return ["cluster_enabled:0"]
        case "keyspace":
            return databases.filter { $0.count > 0 }.map { db in
                "db\(db.id):keys=\(db.count),expires=\(db.expires.count),avg_ttl=\(averageTTL(db))"
            }
        default: return []
        }
    }

    private func averageTTL(_ db: Database) -> Int {
        guard !db.expires.isEmpty else { return 0 }
        let now = clock.wallMillis()
        var sum: Int64 = 0
        for (_, at) in db.expires { sum += max(0, at - now) }
        return Int(sum / Int64(db.expires.count))
    }

    private func infoServer() -> [String] {
        var uts = utsname()
        uname(&uts)
        func field<T>(_ v: inout T) -> String {
            withUnsafeBytes(of: &v) { p in String(decoding: p.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let os = "\(field(&uts.sysname)) \(field(&uts.release)) \(field(&uts.machine))"
        let uptime = uptimeMillis / 1000
        return [
            "redis_version:\(VigilVersion.redisCompat)",
            "redis_git_sha1:00000000",
            "redis_git_dirty:0",
            "redis_build_id:0",
            "redis_mode:standalone",
            "vigil_version:\(VigilVersion.string)",
            "os:\(os)",
            "arch_bits:64",
            "monotonic_clock:POSIX clock_gettime",
            "multiplexing_api:epoll",
            "atomicvar_api:c11-builtin",
            "gcc_version:0.0.0",
            "process_id:\(getpid())",
            "process_supervised:no",
            "run_id:\(runID)",
            "tcp_port:\(config.port)",
            "server_time_usec:\(Clock.wallMicros())",
            "uptime_in_seconds:\(uptime)",
            "uptime_in_days:\(uptime / 86400)",
            "hz:\(config.hz)",
            "configured_hz:\(config.hz)",
            "lru_clock:\((Clock.wallSeconds()) & ((1 << 24) - 1))",
            "executable:\(Posix.executablePath())",
            "config_file:\(config.configFile ?? "")",
            "io_threads_active:0",
        ]
    }

    private func infoClients() -> [String] {
        var blocked = 0, pubsubClients = 0
        for c in clients.values {
            if c.flags.contains(.blocked) { blocked += 1 }
            if c.flags.contains(.pubsub) { pubsubClients += 1 }
        }
        let normal = clients.values.filter { !$0.flags.contains(.replica) && !$0.flags.contains(.master) }.count
        return [
            "connected_clients:\(normal)",
            "cluster_connections:0",
            "maxclients:\(config.maxclients)",
            "client_recent_max_input_buffer:\(clients.values.map { $0.pendingInput }.max() ?? 0)",
            "client_recent_max_output_buffer:\(clients.values.map { $0.pendingOutput }.max() ?? 0)",
            "blocked_clients:\(blocked)",
            "tracking_clients:\(tracking.clientCount)",
            "clients_in_timeout_table:\(blocked)",
        ]
    }

    /// Resident and total pages from /proc/self/statm, in bytes: (size, rss).
    static func processMemory() -> (size: Int, rss: Int) {
        guard let bytes = try? Posix.readFile("/proc/self/statm") else { return (0, 0) }
        let words = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard words.count >= 2, let size = Int(words[0]), let rss = Int(words[1]) else { return (0, 0) }
        return (size * page, rss * page)
    }

    /// Bytes in Redis's human form: `1.11M`, `0B`, `23.54G`.
    static func humanBytes(_ n: Int) -> String {
        let d = Double(n)
        if n < 1024 { return "\(n)B" }
        if n < 1024 * 1024 { return NumberFormat.printf("%.2fK", d / 1024) }
        if n < 1024 * 1024 * 1024 { return NumberFormat.printf("%.2fM", d / 1024 / 1024) }
        if n < 1024 * 1024 * 1024 * 1024 { return NumberFormat.printf("%.2fG", d / 1024 / 1024 / 1024) }
        return NumberFormat.printf("%.2fT", d / 1024 / 1024 / 1024 / 1024)
    }

    private func infoStats() -> [String] {
        var channels = 0, patterns = 0
        channels = pubsub.channelCount
        patterns = pubsub.patternCount
        return [
            "total_connections_received:\(stats.totalConnections)",
            "total_commands_processed:\(stats.totalCommands)",
            "instantaneous_ops_per_sec:\(instantaneousOps)",
            "total_net_input_bytes:\(stats.netInputBytes)",
            "total_net_output_bytes:\(stats.netOutputBytes)",
            "total_net_repl_input_bytes:\(stats.netReplInputBytes)",
            "total_net_repl_output_bytes:\(stats.netReplOutputBytes)",
            "instantaneous_input_kbps:\(instantaneousKbps(1))",
            "instantaneous_output_kbps:\(instantaneousKbps(2))",
            "instantaneous_input_repl_kbps:\(instantaneousKbps(3))",
            "instantaneous_output_repl_kbps:\(instantaneousKbps(4))",
            "rejected_connections:\(stats.rejectedConnections)",
            "sync_full:\(stats.syncFull)",
            "sync_partial_ok:\(stats.syncPartialOK)",
            "sync_partial_err:\(stats.syncPartialErr)",
            "expired_keys:\(stats.expiredKeys)",
            "expired_stale_perc:0.00",
            "expired_time_cap_reached_count:0",
            "expire_cycle_cpu_milliseconds:\(stats.expireCycleMicros / 1000)",
            "evicted_keys:\(stats.evictedKeys)",
            "evicted_clients:0",
            "keyspace_hits:\(stats.keyspaceHits)",
            "keyspace_misses:\(stats.keyspaceMisses)",
            "pubsub_channels:\(channels)",
            "pubsub_patterns:\(patterns)",
            "pubsubshard_channels:\(pubsub.shardChannelCount)",
            "latest_fork_usec:\(stats.latestForkUsec)",
            "total_forks:\(stats.totalForks)",
            // MIGRATE does not keep connections between calls (MigrateCommands.swift).
            "migrate_cached_sockets:0",
            "slave_expires_tracked_keys:0",
            "active_defrag_hits:0",
            "active_defrag_misses:0",
            "active_defrag_key_hits:0",
            "active_defrag_key_misses:0",
            "total_active_defrag_time:0",
            "current_active_defrag_time:0",
            "tracking_total_keys:\(tracking.keys.count)",
            "tracking_total_items:\(tracking.totalItems)",
            "tracking_total_prefixes:\(tracking.prefixes.count)",
            "unexpected_error_replies:\(stats.unexpectedErrorReplies)",
            "total_error_replies:\(stats.totalErrorReplies)",
            "dump_payload_sanitizations:0",
            "total_reads_processed:\(stats.readsProcessed)",
            "total_writes_processed:\(stats.writesProcessed)",
            "io_threaded_reads_processed:0",
            "io_threaded_writes_processed:0",
            "reply_buffer_shrinks:0",
            "reply_buffer_expands:0",
        ]
    }

    private func infoCPU() -> [String] {
        func seconds(_ t: timeval) -> String { NumberFormat.printf("%.6f", Double(t.tv_sec) + Double(t.tv_usec) / 1e6) }
        var me = rusage(), kids = rusage()
        getrusage(RUSAGE_SELF.rawValue, &me)
        getrusage(RUSAGE_CHILDREN.rawValue, &kids)
        return [
            "used_cpu_sys:\(seconds(me.ru_stime))",
            "used_cpu_user:\(seconds(me.ru_utime))",
            "used_cpu_sys_children:\(seconds(kids.ru_stime))",
            "used_cpu_user_children:\(seconds(kids.ru_utime))",
            "used_cpu_sys_main_thread:\(seconds(me.ru_stime))",
            "used_cpu_user_main_thread:\(seconds(me.ru_utime))",
        ]
    }
}

// INFO on a sentinel: the sections redis-sentinel has (server, clients, stats, cpu, sentinel), with
// its field names and order. Counters a sentinel cannot have (keys, forks, replication bytes) are
// its true value, 0; the rest are measured.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension SentinelServer {
    /// Redis's sentinel sections, in output order.
    static let infoSections = ["server", "clients", "stats", "cpu", "sentinel"]

    /// The INFO text for the requested sections (none, `default`, `all` or `everything`: every one;
    /// unknown names are ignored, as Redis does).
    func infoText(sections requested: [String], now: Int64) -> String {
        let lower = Set(requested.map { $0.lowercased() })
        let everything = lower.isEmpty || !lower.isDisjoint(with: ["default", "all", "everything"])
        var parts: [String] = []
        for name in SentinelServer.infoSections where everything || lower.contains(name) {
            let lines: [String]
            switch name {
            case "server": lines = infoServer(now: now)
            case "clients": lines = infoClients()
            case "stats": lines = infoStats()
            case "cpu": lines = infoCPU()
            default: lines = sentinel.infoSentinel(now: now)
            }
            parts.append("# \(name == "cpu" ? "CPU" : name.prefix(1).uppercased() + name.dropFirst())\r\n" + lines.map { $0 + "\r\n" }.joined())
        }
        return parts.joined(separator: "\r\n")
    }

    private func infoServer(now: Int64) -> [String] {
        var uts = utsname()
        uname(&uts)
        func field<T>(_ v: inout T) -> String {
            withUnsafeBytes(of: &v) { p in String(decoding: p.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let uptime = (now - sentinel.startTime) / 1000
        let wallMicros = clock.wallMicros()
        return [
            "redis_version:\(VigilVersion.redisCompat)",
            "redis_git_sha1:00000000",
            "redis_git_dirty:0",
            "redis_build_id:0",
            "redis_mode:sentinel",
            "vigil_version:\(VigilVersion.string)",
            "os:\(field(&uts.sysname)) \(field(&uts.release)) \(field(&uts.machine))",
            "arch_bits:64",
            "monotonic_clock:POSIX clock_gettime",
            "multiplexing_api:epoll",
            "atomicvar_api:c11-builtin",
            "gcc_version:0.0.0",
            "process_id:\(getpid())",
            "process_supervised:no",
            "run_id:\(runID)",
            "tcp_port:\(sentinel.settings.port)",
            "server_time_usec:\(wallMicros)",
            "uptime_in_seconds:\(uptime)",
            "uptime_in_days:\(uptime / 86400)",
            // Our timer runs at 20-50 Hz (a tick every 20-50 ms).
            "hz:30",
            "configured_hz:30",
            "lru_clock:\((wallMicros / 1_000_000) & ((1 << 24) - 1))",
            "executable:\(Posix.executablePath())",
            "config_file:\(sentinel.settings.configFile ?? "")",
            "io_threads_active:0",
        ]
    }

    private func infoClients() -> [String] {
        [
            "connected_clients:\(clients.count)",
            "cluster_connections:0",
            "maxclients:\(maxClients)",
            "client_recent_max_input_buffer:\(stats.recentMaxInput)",
            "client_recent_max_output_buffer:\(stats.recentMaxOutput)",
            "blocked_clients:0",
            "tracking_clients:0",
            "clients_in_timeout_table:0",
        ]
    }

    private func infoStats() -> [String] {
        let channels = pubsub.channelCount
        let patterns = pubsub.patternCount
        let zero = ["total_net_repl_input_bytes", "total_net_repl_output_bytes"]
        var out = [
            "total_connections_received:\(stats.connectionsReceived)",
            "total_commands_processed:\(stats.commandsProcessed)",
            "instantaneous_ops_per_sec:0",
            "total_net_input_bytes:\(stats.netInputBytes)",
            "total_net_output_bytes:\(stats.netOutputBytes)",
        ]
        out += zero.map { $0 + ":0" }
        out += [
            "instantaneous_input_kbps:0.00", "instantaneous_output_kbps:0.00",
            "instantaneous_input_repl_kbps:0.00", "instantaneous_output_repl_kbps:0.00",
            "rejected_connections:\(stats.rejectedConnections)",
            "sync_full:0", "sync_partial_ok:0", "sync_partial_err:0",
            "expired_keys:0", "expired_stale_perc:0.00", "expired_time_cap_reached_count:0", "expire_cycle_cpu_milliseconds:0",
            "evicted_keys:0", "evicted_clients:0", "total_eviction_exceeded_time:0", "current_eviction_exceeded_time:0",
            "keyspace_hits:0", "keyspace_misses:0",
            "pubsub_channels:\(channels)", "pubsub_patterns:\(patterns)", "pubsubshard_channels:0",
            "latest_fork_usec:0", "total_forks:0", "migrate_cached_sockets:0", "slave_expires_tracked_keys:0",
            "active_defrag_hits:0", "active_defrag_misses:0", "active_defrag_key_hits:0", "active_defrag_key_misses:0",
            "total_active_defrag_time:0", "current_active_defrag_time:0",
            "tracking_total_keys:0", "tracking_total_items:0", "tracking_total_prefixes:0",
            "unexpected_error_replies:0",
            "total_error_replies:\(stats.errorReplies)",
            "dump_payload_sanitizations:0",
            "total_reads_processed:\(stats.readsProcessed)",
            "total_writes_processed:\(stats.writesProcessed)",
            "io_threaded_reads_processed:0", "io_threaded_writes_processed:0",
            "reply_buffer_shrinks:0", "reply_buffer_expands:0",
        ]
        return out
    }

    private func infoCPU() -> [String] {
        func seconds(_ t: timeval) -> String {
            let us = String(t.tv_usec)
            return "\(t.tv_sec).\(String(repeating: "0", count: max(0, 6 - us.count)))\(us)"
        }
        var me = rusage(), kids = rusage(), thread = rusage()
        getrusage(RUSAGE_SELF.rawValue, &me)
        getrusage(RUSAGE_CHILDREN.rawValue, &kids)
        // RUSAGE_THREAD (1): one thread, so it is the process's figure, measured separately as Redis does.
        if getrusage(1, &thread) != 0 { thread = me }
        return [
            "used_cpu_sys:\(seconds(me.ru_stime))",
            "used_cpu_user:\(seconds(me.ru_utime))",
            "used_cpu_sys_children:\(seconds(kids.ru_stime))",
            "used_cpu_user_children:\(seconds(kids.ru_utime))",
            "used_cpu_sys_main_thread:\(seconds(thread.ru_stime))",
            "used_cpu_user_main_thread:\(seconds(thread.ru_utime))",
        ]
    }
}

extension Sentinel {
    /// The `# Sentinel` INFO section's lines.
    func infoSentinel(now: Int64) -> [String] {
        var out = [
            "sentinel_masters:\(masters.count)",
            "sentinel_tilt:\(tilt ? 1 : 0)",
            "sentinel_tilt_since_seconds:\(tilt ? (now - tiltStartTime) / 1000 : -1)",
            "sentinel_running_scripts:\(scripts.runningCount)",
            "sentinel_scripts_queue_length:\(scripts.jobs.count)",
            "sentinel_simulate_failure_flags:\((simulateCrashAfterElection ? 1 : 0) | (simulateCrashAfterPromotion ? 2 : 0))",
        ]
        for (i, m) in masters.values.sorted(by: { $0.name < $1.name }).enumerated() {
            let status = m.flags.contains(.oDown) ? "odown" : m.flags.contains(.sDown) ? "sdown" : "ok"
            out.append("master\(i):name=\(m.name),status=\(status),address=\(announced(m.address)):\(m.address.port),slaves=\(m.replicas.count),sentinels=\(m.sentinels.count + 1)")
        }
        return out
    }
}

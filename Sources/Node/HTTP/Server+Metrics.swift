// GET /metrics: the node in Prometheus's text format. Built from INFO's fields, as
// prometheus-redis-exporter builds its metrics, and named as that exporter names them (redis_*),
// so dashboards made for it work on a scrape of vigil-node directly. What Redis has no field for
// (fencing, writability, the measured replica lag, the HTTP listener itself) is vigil_*.
import Shared

extension Server {
    /// INFO fields exported as they are: field → (metric name, type, help).
    static let exportedInfoFields: [(field: String, name: String, kind: PrometheusText.Kind, help: String)] = [
        ("uptime_in_seconds", "redis_uptime_in_seconds", .gauge, "Seconds since the node started"),
        ("process_id", "redis_process_id", .gauge, "Process id"),
        ("connected_clients", "redis_connected_clients", .gauge, "Connected clients (replicas and the master link excluded)"),
        ("blocked_clients", "redis_blocked_clients", .gauge, "Clients blocked in a blocking command"),
        ("tracking_clients", "redis_tracking_clients", .gauge, "Clients with tracking on"),
        ("maxclients", "redis_max_clients", .gauge, "maxclients"),
        ("client_recent_max_input_buffer", "redis_client_recent_max_input_buffer_bytes", .gauge, "Largest client input buffer"),
        ("client_recent_max_output_buffer", "redis_client_recent_max_output_buffer_bytes", .gauge, "Largest client output buffer"),
        ("used_memory", "redis_memory_used_bytes", .gauge, "Bytes allocated"),
        ("used_memory_rss", "redis_memory_used_rss_bytes", .gauge, "Resident set size"),
        ("used_memory_peak", "redis_memory_used_peak_bytes", .gauge, "Peak of used_memory"),
        ("used_memory_startup", "redis_memory_used_startup_bytes", .gauge, "used_memory at start-up"),
        ("used_memory_dataset", "redis_memory_used_dataset_bytes", .gauge, "Bytes used by the dataset"),
        ("used_memory_lua", "redis_memory_used_lua_bytes", .gauge, "Bytes used by the Lua engine"),
        ("maxmemory", "redis_memory_max_bytes", .gauge, "maxmemory (0: no limit)"),
        ("mem_fragmentation_ratio", "redis_mem_fragmentation_ratio", .gauge, "RSS / used_memory"),
        ("loading", "redis_loading_dump_file", .gauge, "1 while the dataset is loading"),
        ("rdb_changes_since_last_save", "redis_rdb_changes_since_last_save", .gauge, "Changes since the last save"),
        ("rdb_bgsave_in_progress", "redis_rdb_bgsave_in_progress", .gauge, "1 while a BGSAVE runs"),
        ("rdb_last_save_time", "redis_rdb_last_save_timestamp_seconds", .gauge, "Unix time of the last save"),
        ("aof_enabled", "redis_aof_enabled", .gauge, "1 when appendonly is on"),
        ("aof_rewrite_in_progress", "redis_aof_rewrite_in_progress", .gauge, "1 while an AOF rewrite runs"),
        ("total_connections_received", "redis_connections_received_total", .counter, "Connections accepted"),
        ("total_commands_processed", "redis_commands_processed_total", .counter, "Commands processed"),
        ("instantaneous_ops_per_sec", "redis_instantaneous_ops", .gauge, "Commands per second (recent)"),
        ("total_net_input_bytes", "redis_net_input_bytes_total", .counter, "Bytes read from clients"),
        ("total_net_output_bytes", "redis_net_output_bytes_total", .counter, "Bytes written to clients"),
        ("rejected_connections", "redis_rejected_connections_total", .counter, "Connections refused (maxclients)"),
        ("sync_full", "redis_replica_resyncs_full", .gauge, "Full resynchronizations served"),
        ("sync_partial_ok", "redis_replica_partial_resync_accepted", .gauge, "Partial resynchronizations accepted"),
        ("sync_partial_err", "redis_replica_partial_resync_denied", .gauge, "Partial resynchronizations denied"),
        ("expired_keys", "redis_expired_keys_total", .counter, "Keys expired"),
        ("evicted_keys", "redis_evicted_keys_total", .counter, "Keys evicted (maxmemory)"),
        ("keyspace_hits", "redis_keyspace_hits_total", .counter, "Successful key lookups"),
        ("keyspace_misses", "redis_keyspace_misses_total", .counter, "Failed key lookups"),
        ("pubsub_channels", "redis_pubsub_channels", .gauge, "Channels with subscribers"),
        ("pubsub_patterns", "redis_pubsub_patterns", .gauge, "Patterns with subscribers"),
        ("latest_fork_usec", "redis_latest_fork_usec", .gauge, "Duration of the last fork"),
        ("total_error_replies", "redis_total_error_replies", .counter, "Error replies sent"),
        ("connected_slaves", "redis_connected_slaves", .gauge, "Connected replicas"),
        ("master_repl_offset", "redis_master_repl_offset", .gauge, "Replication offset (on a replica: what it applied)"),
        ("second_repl_offset", "redis_second_repl_offset", .gauge, "Offset up to which replid2 is valid"),
        ("repl_backlog_active", "redis_repl_backlog_is_active", .gauge, "1 when the backlog exists"),
        ("repl_backlog_size", "redis_replication_backlog_bytes", .gauge, "repl-backlog-size"),
        ("repl_backlog_first_byte_offset", "redis_repl_backlog_first_byte_offset", .gauge, "First offset in the backlog"),
        ("repl_backlog_histlen", "redis_repl_backlog_history_bytes", .gauge, "Bytes of history in the backlog"),
        ("master_last_io_seconds_ago", "redis_master_last_io_seconds_ago", .gauge, "Seconds since the master last sent anything"),
        ("master_sync_in_progress", "redis_master_sync_in_progress", .gauge, "1 while a full sync is received"),
        ("slave_repl_offset", "redis_slave_repl_offset", .gauge, "Replica: offset applied"),
        ("slave_priority", "redis_slave_priority", .gauge, "replica-priority"),
        ("used_cpu_sys", "redis_cpu_sys_seconds_total", .counter, "System CPU seconds"),
        ("used_cpu_user", "redis_cpu_user_seconds_total", .counter, "User CPU seconds"),
        ("fencing_known_sentinels", "vigil_fencing_known_sentinels", .gauge, "Sentinels this master has heard from"),
        ("fencing_sentinels_in_contact", "vigil_fencing_sentinels_in_contact", .gauge, "Sentinels in contact now"),
        ("fencing_sentinels_confirmed", "vigil_fencing_sentinels_confirmed", .gauge, "Sentinels confirming this master"),
        ("fencing_fenced_count", "vigil_fenced_total", .counter, "Times this master fenced itself"),
    ]

    /// The whole exposition.
    func metricsText() -> String {
        let now = clock.monotonicMillis()
        var fields: [String: String] = [:]
        for section in ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "fencing"] {
            for line in infoLines(section) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
            }
        }
        var p = PrometheusText()
        p.single("redis_up", .gauge, "1: the node answered", 1)
        let role = isReplica ? "slave" : "master"
        p.family("redis_instance_info", .gauge, "Information about the node", [([
            ("role", role), ("redis_version", fields["redis_version"] ?? ""), ("redis_mode", "standalone"),
            ("tcp_port", String(config.port)), ("run_id", runID), ("master_replid", replication.replID),
        ], 1)])
        for f in Self.exportedInfoFields {
            guard let raw = fields[f.field], let v = Double(raw) else { continue }
            p.single(f.name, f.kind, f.help, v)
        }
        if isReplica {
            p.family("redis_slave_info", .gauge, "The master of this replica", [([
                ("master_host", masterHost ?? ""), ("master_port", String(masterPort)),
                ("read_only", config.replicaReadOnly ? "yes" : "no"),
            ], 1)])
            p.single("redis_master_link_up", .gauge, "1 when the link to the master is up", masterLinkUp ? 1 : 0)
            if let lag = lagProbe?.lag(now: now) {
                p.single("vigil_replication_lag_bytes", .gauge, "Bytes the master has that this replica has not applied (measured each second)", Double(lag))
            }
        }
        var offsets: [(labels: [(String, String)], value: Double)] = [], lags = offsets
        for (k, v) in fields where k.hasPrefix("slave") && k.dropFirst(5).allSatisfy(\.isNumber) && k.count > 5 {
            let kv = Self.commaFields(v)
            let labels = [("slave_ip", kv["ip"] ?? ""), ("slave_port", kv["port"] ?? ""), ("slave_state", kv["state"] ?? "")]
            if let o = kv["offset"].flatMap(Double.init) { offsets.append((labels, o)) }
            if let l = kv["lag"].flatMap(Double.init) { lags.append((labels, l)) }
        }
        p.family("redis_connected_slave_offset_bytes", .gauge, "Offset each replica acknowledged", offsets.sorted { $0.labels[1].1 < $1.labels[1].1 })
        p.family("redis_connected_slave_lag_seconds", .gauge, "Seconds since each replica's last acknowledgement", lags.sorted { $0.labels[1].1 < $1.labels[1].1 })
        let writable = primaryRefusal() == nil
        p.single("vigil_writable", .gauge, "1 when this node is a master accepting writes now (GET /primary answers 200)", writable ? 1 : 0)
        p.single("vigil_fenced", .gauge, "1 while this master refuses writes because of self-fencing", fencing.isFenced ? 1 : 0)
        p.family("vigil_fencing_state", .gauge, "The self-fencing state (label)", [([("state", fencing.state.infoName)], 1)])
        p.single("vigil_fencing_fence_after_seconds", .gauge, "Silence after which this master fences", Double(fencing.fenceAfter) / 1000)
        p.family("vigil_master_failover_state", .gauge, "FAILOVER state (label)", [([("state", replication.failover.state.infoName)], 1)])
        commandMetrics(&p)
        keyspaceMetrics(&p)
        if let h = httpListener {
            p.single("vigil_http_requests_total", .counter, "HTTP requests answered", Double(h.stats.requests))
            p.single("vigil_http_bad_requests_total", .counter, "HTTP requests refused as malformed or too large", Double(h.stats.badRequests))
            p.single("vigil_http_timeouts_total", .counter, "HTTP connections closed for sending too slowly", Double(h.stats.timeouts))
        }
        return p.text
    }

    /// Per command and per error: redis_commands_*, redis_errors_total.
    private func commandMetrics(_ p: inout PrometheusText) {
        var calls: [(labels: [(String, String)], value: Double)] = [], usec = calls, rejected = calls, failed = calls, errors = calls
        for line in infoLines("commandstats") {
            guard line.hasPrefix("cmdstat_"), let colon = line.firstIndex(of: ":") else { continue }
            let cmd = String(line[line.index(line.startIndex, offsetBy: 8)..<colon])
            let kv = Self.commaFields(String(line[line.index(after: colon)...]))
            let labels = [("cmd", cmd)]
            if let v = kv["calls"].flatMap(Double.init) { calls.append((labels, v)) }
            if let v = kv["usec"].flatMap(Double.init) { usec.append((labels, v / 1e6)) }
            if let v = kv["rejected_calls"].flatMap(Double.init) { rejected.append((labels, v)) }
            if let v = kv["failed_calls"].flatMap(Double.init) { failed.append((labels, v)) }
        }
        for line in infoLines("errorstats") {
            guard line.hasPrefix("errorstat_"), let colon = line.firstIndex(of: ":") else { continue }
            let err = String(line[line.index(line.startIndex, offsetBy: 10)..<colon])
            if let v = Self.commaFields(String(line[line.index(after: colon)...]))["count"].flatMap(Double.init) { errors.append(([("err", err)], v)) }
        }
        p.family("redis_commands_total", .counter, "Calls per command", calls)
        p.family("redis_commands_duration_seconds_total", .counter, "Seconds spent per command", usec)
        p.family("redis_commands_rejected_calls_total", .counter, "Calls refused before running, per command", rejected)
        p.family("redis_commands_failed_calls_total", .counter, "Calls that failed while running, per command", failed)
        p.family("redis_errors_total", .counter, "Error replies per error prefix", errors)
    }

    /// redis_db_keys, redis_db_keys_expiring per database.
    private func keyspaceMetrics(_ p: inout PrometheusText) {
        var keys: [(labels: [(String, String)], value: Double)] = [], expiring = keys
        for line in infoLines("keyspace") {
            guard line.hasPrefix("db"), let colon = line.firstIndex(of: ":") else { continue }
            let db = String(line[..<colon])
            let kv = Self.commaFields(String(line[line.index(after: colon)...]))
            if let v = kv["keys"].flatMap(Double.init) { keys.append(([("db", db)], v)) }
            if let v = kv["expires"].flatMap(Double.init) { expiring.append(([("db", db)], v)) }
        }
        p.family("redis_db_keys", .gauge, "Keys per database", keys)
        p.family("redis_db_keys_expiring", .gauge, "Keys with a TTL per database", expiring)
    }

    /// `a=1,b=2` → ["a": "1", "b": "2"].
    static func commaFields(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in s.split(separator: ",") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            out[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return out
    }
}

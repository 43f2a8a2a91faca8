// The rows of the config table: first the directives vigil implements (mapped onto ServerConfig),
// then the multi-word ones with their own syntax (save, bind, client-output-buffer-limit, replicaof).
// Defaults are Redis 7.0.15's, as `CONFIG GET *` reports them on a fresh redis-server.
import Shared

extension ConfigTable {
    static let intMax = Int(Int32.max)

    /// Directives with an effect in vigil.
    static var implemented: [ConfigSpec] {
        [
            int("port", \.port, 0, 65535, .immutable),
            bind,
            bool("protected-mode", \.protectedMode),
            bool("daemonize", \.daemonize, .immutable),
            string("pidfile", \.pidfile, .immutable),
            string("logfile", \.logfile, .immutable),
            row("loglevel", [], .enumeration(["debug", "verbose", "notice", "warning"]), .mutable,
                get: { $0.loglevel.name }, set: { c, v in c.loglevel = LogLevel(name: v) ?? .notice }),
            string("dir", \.dir, .protected),
            string("dbfilename", \.dbfilename, .protected),
            // Whether CONFIG SET may change the protected directives (dir, dbfilename): yes, or
            // only from loopback clients with `local`.
            row("enable-protected-configs", [], .enumeration(["no", "yes", "local"]), .immutable,
                get: { $0.enableProtectedConfigs }, set: { c, v in c.enableProtectedConfigs = v }),
            // Redis's hidden test directive: microseconds slept per key loaded at start-up.
            int("key-load-delay", \.keyLoadDelay, Int(Int32.min), intMax),
            // Its saving twin: microseconds slept per key written by a snapshot (BGSAVE, sync).
            int("rdb-key-save-delay", \.rdbKeySaveDelay, Int(Int32.min), intMax),
            // Lazy freeing on the background thread (LazyFree.swift): DEL as UNLINK, FLUSHALL and
            // FLUSHDB without an option as ASYNC, expired keys.
            bool("lazyfree-lazy-user-del", \.lazyfreeLazyUserDel),
            bool("lazyfree-lazy-user-flush", \.lazyfreeLazyUserFlush),
            bool("lazyfree-lazy-expire", \.lazyfreeLazyExpire),
            // While loading, clients are served (with -LOADING) every this many bytes read.
            int("busy-reply-threshold", \.busyReplyThreshold, 0, intMax, aliases: ["lua-time-limit"]),
            int("loading-process-events-interval-bytes", \.loadingProcessEventsIntervalBytes, 1024, intMax),
            int("databases", \.databases, 1, intMax, .immutable),
            int("maxclients", \.maxclients, 1, intMax),
            int("timeout", \.timeout, 0, intMax),
            int("tcp-keepalive", \.tcpKeepalive, 0, intMax),
            int("tcp-backlog", \.tcpBacklog, 0, intMax, .immutable),
            secret("requirepass", \.requirepass),
            save,
            // Append-only file: CONFIG SET appendonly starts or stops it (Server.configChanged).
            bool("appendonly", \.appendonly),
            row("appendfilename", [], .string, .immutable, get: { $0.appendfilename }, set: { c, v throws(ConfigValueError) in
                guard AOF.isValidFileName(v) else { throw ConfigValueError("appendfilename can't be a path, just a filename") }
                c.appendfilename = v
            }),
            row("appenddirname", [], .string, .immutable, get: { $0.appenddirname }, set: { c, v throws(ConfigValueError) in
                guard AOF.isValidFileName(v) else { throw ConfigValueError("appenddirname can't be a path, just a dirname") }
                c.appenddirname = v
            }),
            row("appendfsync", [], .enumeration(["everysec", "always", "no"]), .mutable,
                get: { $0.appendfsync }, set: { c, v in c.appendfsync = v }),
            bool("no-appendfsync-on-rewrite", \.noAppendfsyncOnRewrite),
            int("auto-aof-rewrite-percentage", \.autoAofRewritePercentage, 0, intMax),
            memory("auto-aof-rewrite-min-size", \.autoAofRewriteMinSize, 0, Int.max),
            bool("aof-use-rdb-preamble", \.aofUseRdbPreamble),
            bool("aof-load-truncated", \.aofLoadTruncated),
            bool("aof-timestamp-enabled", \.aofTimestampEnabled),
            memory("proto-max-bulk-len", \.protoMaxBulkLen, 1024 * 1024),
            memory("client-query-buffer-limit", \.clientQueryBufferLimit, 1024 * 1024),
            clientOutputBufferLimit,
            row("hz", [], .int(min: 0, max: intMax), .mutable, get: { String($0.hz) }, set: { c, v in
                // Redis clamps instead of refusing: below 1 is 1, above 500 is 500.
                c.hz = min(500, max(1, Int(v) ?? 10))
            }),
            bool("rdbcompression", \.rdbcompression),
            bool("rdbchecksum", \.rdbchecksum, .immutable),
            bool("stop-writes-on-bgsave-error", \.stopWritesOnBgsaveError),
            int("shutdown-timeout", \.shutdownTimeout, 0, intMax),
            memory("maxmemory", \.maxmemory),
            row("maxmemory-policy", [], .enumeration(["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                                      "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]), .mutable,
                get: { $0.maxmemoryPolicy }, set: { c, v in c.maxmemoryPolicy = v }),

            // Replication: stored here, acted on by the replication layer.
            replicaof,
            secret("masterauth", \.masterauth),
            secret("masteruser", \.masteruser),
            bool("replica-read-only", \.replicaReadOnly, aliases: ["slave-read-only"]),
            bool("replica-serve-stale-data", \.replicaServeStaleData, aliases: ["slave-serve-stale-data"]),
            int("replica-priority", \.replicaPriority, 0, intMax, aliases: ["slave-priority"]),
            row("replica-announce-ip", ["slave-announce-ip"], .string, .mutable, get: { $0.replicaAnnounceIP ?? "" },
                set: { c, v in c.replicaAnnounceIP = v.isEmpty ? nil : v }),
            int("replica-announce-port", \.replicaAnnouncePort, 0, 65535, aliases: ["slave-announce-port"]),
            row("bind-source-addr", [], .string, .mutable, get: { $0.bindSourceAddr ?? "" },
                set: { c, v in c.bindSourceAddr = v.isEmpty ? nil : v }),
            bool("replica-announced", \.replicaAnnounced),
            int("min-replicas-to-write", \.minReplicasToWrite, 0, intMax, aliases: ["min-slaves-to-write"]),
            int("min-replicas-max-lag", \.minReplicasMaxLag, 0, intMax, aliases: ["min-slaves-max-lag"]),
            memory("repl-backlog-size", \.replBacklogSize, 1),
            int("repl-backlog-ttl", \.replBacklogTTL, 0, Int.max),
            bool("repl-diskless-sync", \.replDisklessSync),
            int("repl-diskless-sync-delay", \.replDisklessSyncDelay, 0, intMax),
            int("repl-diskless-sync-max-replicas", \.replDisklessSyncMaxReplicas, 0, intMax),
            row("repl-diskless-load", [], .enumeration(["disabled", "on-empty-db", "swapdb"]), .mutable,
                get: { $0.replDisklessLoad }, set: { c, v in c.replDisklessLoad = v }),
            int("repl-ping-replica-period", \.replPingReplicaPeriod, 1, intMax, aliases: ["repl-ping-slave-period"]),
            int("repl-timeout", \.replTimeout, 1, intMax),
            bool("repl-disable-tcp-nodelay", \.replDisableTCPNoDelay),
            // vigil's self-fencing master (not in Redis): see Replication/MasterFencing.swift.
            bool("self-fencing", \.selfFencing),
            int("fence-after-milliseconds", \.fenceAfterMillis, 0, intMax),

            // Encoding thresholds (OBJECT ENCODING and RDB encodings).
            int("list-max-listpack-size", \.listMaxListpackSize, Int(Int32.min), intMax, aliases: ["list-max-ziplist-size"]),
            memory("hash-max-listpack-entries", \.hashMaxListpackEntries, aliases: ["hash-max-ziplist-entries"]),
            memory("hash-max-listpack-value", \.hashMaxListpackValue, aliases: ["hash-max-ziplist-value"]),
            memory("set-max-intset-entries", \.setMaxIntsetEntries),
            memory("zset-max-listpack-entries", \.zsetMaxListpackEntries, aliases: ["zset-max-ziplist-entries"]),
            memory("zset-max-listpack-value", \.zsetMaxListpackValue, aliases: ["zset-max-ziplist-value"]),
            memory("stream-node-max-bytes", \.streamNodeMaxBytes),
            int("stream-node-max-entries", \.streamNodeMaxEntries, 0, Int.max),

            // Data types (HyperLogLog sparse limit, RESTORE payload checks; the LFU ones are in +Cache).
            memory("hll-sparse-max-bytes", \.hllSparseMaxBytes),
            row("sanitize-dump-payload", [], .enumeration(["no", "yes", "clients"]), .mutable,
                get: { $0.sanitizeDumpPayload }, set: { c, v in c.sanitizeDumpPayload = v }),
        ]
    }

    // MARK: - Multi-word directives

    /// `save <seconds> <changes> [...]`, or `save ""` for no snapshots.
    static var save: ConfigSpec {
        row("save", [], .special, .mutable, get: { c in
            c.saveRules.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ")
        }, set: { c, v throws(ConfigValueError) in
            let words = v.split(separator: " ").map(String.init)
            guard words.count % 2 == 0 else { throw ConfigValueError("Invalid save parameters") }
            var rules: [SaveRule] = []
            var i = 0
            while i < words.count {
                guard let s = Int(words[i]), let n = Int(words[i + 1]), s >= 1, n >= 0 else {
                    throw ConfigValueError("Invalid save parameters")
                }
                rules.append(SaveRule(seconds: s, changes: n))
                i += 2
            }
            c.saveRules = rules
        })
    }

    /// `bind addr [addr ...]` (a leading `-` marks an address that may be unavailable).
    static var bind: ConfigSpec {
        row("bind", [], .special, .immutable, get: { $0.bind.joined(separator: " ") }, set: { c, v throws(ConfigValueError) in
            let words = v.split(separator: " ").map(String.init)
            guard words.count <= 16 else { throw ConfigValueError("Too many bind addresses specified.") }
            c.bind = words
        })
    }

    /// `replicaof <host> <port>` (or `no one`); shown as "host port" or "" on a master.
    static var replicaof: ConfigSpec {
        row("replicaof", ["slaveof"], .special, .immutable, get: { c in
            c.replicaof.map { "\($0.host) \($0.port)" } ?? ""
        }, set: { c, v throws(ConfigValueError) in
            let words = v.split(separator: " ").map(String.init)
            guard words.count == 2 else { throw ConfigValueError("wrong number of arguments") }
            if words[0].lowercased() == "no" && words[1].lowercased() == "one" { c.replicaof = nil; return }
            guard let p = Int(words[1]), p >= 0, p <= 65535 else { throw ConfigValueError("Invalid master port") }
            c.replicaof = (words[0], p)
        })
    }

    /// `client-output-buffer-limit <class> <hard> <soft> <soft-seconds> [...]`; unnamed classes stay.
    static var clientOutputBufferLimit: ConfigSpec {
        row("client-output-buffer-limit", [], .special, .mutable, get: { c in
            func f(_ l: OutputBufferLimit) -> String { "\(l.hard) \(l.soft) \(l.softSeconds)" }
            return "normal \(f(c.outputLimitNormal)) slave \(f(c.outputLimitReplica)) pubsub \(f(c.outputLimitPubsub))"
        }, set: { c, v throws(ConfigValueError) in
            let words = v.split(separator: " ").map(String.init)
            guard words.count % 4 == 0 else { throw ConfigValueError("Wrong number of arguments in buffer limit configuration.") }
            var updates: [(String, OutputBufferLimit)] = []
            var i = 0
            while i < words.count {
                let cls = words[i].lowercased()
                guard ["normal", "replica", "slave", "pubsub"].contains(cls) else {
                    throw ConfigValueError("Invalid client class specified in buffer limit configuration.")
                }
                guard let hard = ConfigType.parseMemory(words[i + 1]), let soft = ConfigType.parseMemory(words[i + 2]),
                      let secs = Int(words[i + 3]), secs >= 0 else {
                    throw ConfigValueError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
                }
                updates.append((cls, OutputBufferLimit(hard: hard, soft: soft, softSeconds: secs)))
                i += 4
            }
            // All groups are validated before any is applied: a bad group changes nothing.
            for (cls, l) in updates {
                switch cls {
                case "normal": c.outputLimitNormal = l
                case "pubsub": c.outputLimitPubsub = l
                default: c.outputLimitReplica = l
                }
            }
        })
    }
}

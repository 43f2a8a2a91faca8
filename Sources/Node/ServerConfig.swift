// The node's typed configuration. Parsing, validation, CONFIG GET/SET/REWRITE and the table of
// every redis.conf directive live in Config/ (ConfigTable); this file is just the values.
import Shared

/// A `save <seconds> <changes>` rule.
struct SaveRule: Equatable {
    var seconds: Int
    var changes: Int
}

/// Output buffer limits for one client class (`client-output-buffer-limit <class> hard soft secs`).
struct OutputBufferLimit: Equatable {
    var hard: Int
    var soft: Int
    var softSeconds: Int
}

/// Every configuration value the node uses, with Redis 7.0's defaults.
final class ServerConfig {
    var configFile: String? = nil
    var port = 6379
    var bind: [String] = ["*", "-::*"]
    var protectedMode = true
    var daemonize = false
    var pidfile = ""
    var logfile = ""
    var loglevel: LogLevel = .notice
    var dir = "."
    var dbfilename = "dump.rdb"
    var enableProtectedConfigs = "no"
    var keyLoadDelay = 0
    var rdbKeySaveDelay = 0
    var lazyfreeLazyUserDel = false
    var lazyfreeLazyUserFlush = false
    var lazyfreeLazyExpire = false
    var loadingProcessEventsIntervalBytes = 2 * 1024 * 1024
    var databases = 16
    var maxclients = 10000
    var timeout = 0
    var tcpKeepalive = 300
    var tcpBacklog = 511
    var requirepass: Bytes? = nil
    var saveRules: [SaveRule] = [SaveRule(seconds: 3600, changes: 1), SaveRule(seconds: 300, changes: 100), SaveRule(seconds: 60, changes: 10000)]
    var appendonly = false
    // Append-only file (Persistence/AOF*.swift).
    var appendfilename = "appendonly.aof"
    var appenddirname = "appendonlydir"
    var appendfsync = "everysec"
    var noAppendfsyncOnRewrite = false
    var autoAofRewritePercentage = 100
    var autoAofRewriteMinSize = 64 * 1024 * 1024
    var aofUseRdbPreamble = true
    var aofLoadTruncated = true
    var aofTimestampEnabled = false
    var protoMaxBulkLen = 512 * 1024 * 1024
    var clientQueryBufferLimit = 1024 * 1024 * 1024
    var outputLimitNormal = OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0)
    var outputLimitReplica = OutputBufferLimit(hard: 256 << 20, soft: 64 << 20, softSeconds: 60)
    var outputLimitPubsub = OutputBufferLimit(hard: 32 << 20, soft: 8 << 20, softSeconds: 60)
    var hz = 10
    /// Milliseconds after which a running script gets others -BUSY replies and may be killed.
    var busyReplyThreshold = 5000
    var rdbcompression = true
    var rdbchecksum = true
    var stopWritesOnBgsaveError = true
    var shutdownTimeout = 10
    var maxmemory = 0
    var maxmemoryPolicy = "noeviction"
    // Eviction, notifications and tracking (Config/ConfigTable+Cache.swift).
    var maxmemorySamples = 5
    var maxmemoryEvictionTenacity = 10
    var lfuLogFactor = 10
    var lfuDecayTime = 1
    var replicaIgnoreMaxmemory = true
    var trackingTableMaxKeys = 1_000_000
    /// Which keyspace event classes are published (`notify-keyspace-events`).
    var notifyKeyspaceEvents: KeyspaceEvents = []

    // Replication (implemented by the replication layer).
    var replicaof: (host: String, port: Int)? = nil
    var masterauth: Bytes? = nil
    var masteruser: Bytes? = nil
    var replicaReadOnly = true
    var replicaServeStaleData = true
    var replicaPriority = 100
    var replicaAnnounceIP: String? = nil
    var replicaAnnouncePort = 0
    /// `bind-source-addr`: the local address outgoing replication connections bind to.
    var bindSourceAddr: String? = nil
    var replicaAnnounced = true
    var minReplicasToWrite = 0
    var minReplicasMaxLag = 10
    var replBacklogSize = 1024 * 1024
    var replBacklogTTL = 3600
    var replDisklessSync = true
    var replDisklessSyncDelay = 5
    var replDisklessSyncMaxReplicas = 0
    var replDisklessLoad = "disabled"
    var replPingReplicaPeriod = 10
    var replTimeout = 60
    var replDisableTCPNoDelay = false
    /// `self-fencing`: a master watched by sentinels refuses writes when it may no longer be the
    /// master they agree on (Replication/MasterFencing.swift). A vigil extension.
    /// Off by default: a master left by its sentinels (SENTINEL REMOVE, all of them stopped) keeps
    /// serving as Redis does; `self-fencing yes` opts into refusing writes (sentinel-examples do).
    var selfFencing = false
    /// `fence-after-milliseconds` (0: half the smallest down-after the sentinels announce).
    var fenceAfterMillis = 0

    /// Encoding thresholds (OBJECT ENCODING, RDB encodings).
    var listMaxListpackSize = -2
    var hashMaxListpackEntries = 512
    var hashMaxListpackValue = 64
    var setMaxIntsetEntries = 512
    var zsetMaxListpackEntries = 128
    var zsetMaxListpackValue = 64
    /// Stream node limits (a new node starts when either is reached; 0 = no limit).
    var streamNodeMaxBytes = 4096
    var streamNodeMaxEntries = 100

    // Introspection (Introspection/, Config/ConfigTable+Introspection.swift).
    var slowlogLogSlowerThan = 10000
    var slowlogMaxLen = 128
    var latencyMonitorThreshold = 0
    var latencyTracking = true
    var latencyPercentiles: [Double] = [50, 99, 99.9]
    var acllogMaxLen = 128
    // The HTTP health and metrics listener (HTTP/Server+HTTP.swift; off while `http-port` is 0).
    var httpPort = 0
    /// Addresses for the HTTP listener; empty: the same as `bind`.
    var httpBind: [String] = []
    /// Milliseconds an HTTP client has to send a complete request (slowloris bound).
    var httpTimeoutMillis = 5000
    /// HyperLogLogs stay sparse up to this many bytes (HyperLogLog.swift).
    var hllSparseMaxBytes = 3000
    /// `no`, `yes` or `clients`: how deeply RESTORE checks a payload (DumpCommands.swift).
    var sanitizeDumpPayload = "no"

    /// `rename-command` pairs from the config (accepted, not implemented).
    var renamedCommands: [(String, String)] = []
    /// Raw values of accepted directives we do not implement, for CONFIG GET and REWRITE.
    var passthrough: [String: String] = [:]
    /// `user` lines from the config, applied by the ACL layer at start.
    var userLines: [[String]] = []

    init() {}
}

import Foundation
import Testing
import TestSupport
import Shared

/// Introspection against the real peers: prometheus-redis-exporter finds on vigil-node every metric
/// name it finds on redis-server (the cache branch's memory and tracking fields aside, listed), and
/// COMMAND INFO / DOCS answer byte for byte what redis-server answers.
@Suite(.serialized) struct IntrospectionProcessTests {
    /// Metric names still missing because their INFO fields belong to work not merged yet
    /// (allocator/memory accounting and client tracking: issue 15's cache part). Shrink as it lands.
    static let allowedMissing: Set<String> = [
        "redis_allocator_active_bytes", "redis_allocator_allocated_bytes", "redis_allocator_frag_bytes",
        "redis_allocator_frag_ratio", "redis_allocator_resident_bytes", "redis_allocator_rss_bytes",
        "redis_allocator_rss_ratio", "redis_mem_clients_normal", "redis_mem_clients_slaves",
        "redis_mem_fragmentation_bytes", "redis_mem_not_counted_for_eviction_bytes",
        "redis_tracking_total_items", "redis_tracking_total_keys", "redis_tracking_total_prefixes",
    ]

    /// The same small workload on both: writes, reads, a wrong-type error and an unknown command,
    /// so the per-command and per-error metrics exist on both.
    static func workload(_ port: Int) throws {
        let c = try TestClient(port: port)
        _ = try c.call("SET", "k", "v")
        _ = try c.call("GET", "k")
        _ = try c.call("LPUSH", "k", "x")
        _ = try c.call("NOSUCHCOMMAND")
        _ = try c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        _ = try c.call("CLIENT", "ID")
    }

    @Test func exporterFindsEveryMetricOfRedisServer() throws {
        guard FileManager.default.isExecutableFile(atPath: Exporter.binary),
              let redis = try ServerProcess.redisServer(args: ["--save", "", "--bind", "127.0.0.1"]) else { return }
        defer { redis.stop() }
        let node = try ServerProcess.vigilNode(args: ["--save", "", "--bind", "127.0.0.1"])
        defer { node.stop() }
        try Self.workload(redis.port)
        try Self.workload(node.port)
        let theirs = try Exporter(target: redis.port).metricNames()
        let mine = try Exporter(target: node.port).metricNames()
        #expect(theirs.contains("redis_up") && mine.contains("redis_up"))
        let missing = theirs.subtracting(mine).subtracting(Self.allowedMissing)
        #expect(missing.isEmpty, "metrics of redis-server missing from vigil-node: \(missing.sorted())")
        for name in ["redis_commands_total", "redis_commands_duration_seconds_total", "redis_errors_total",
                     "redis_commands_failed_calls_total", "redis_commands_rejected_calls_total",
                     "redis_latency_percentiles_usec", "redis_slowlog_length", "redis_slowlog_last_id"] {
            #expect(mine.contains(name), "vigil-node lacks \(name)")
        }
        // The allowed list only names metrics redis-server really has: stale entries must go.
        #expect(Self.allowedMissing.subtracting(theirs).isEmpty, "not exported by redis-server either: \(Self.allowedMissing.subtracting(theirs).sorted())")
        print("exporter metric names: redis-server \(theirs.count), vigil-node \(mine.count), allowed missing \(theirs.subtracting(mine).count)")
    }

    /// Leaf commands compare raw (RESP2 and RESP3); commands with subcommands compare with their
    /// subcommands sorted, since Redis lists them in its dict's (per-process random) order.
    @Test func commandInfoAndDocsMatchRedisServer() throws {
        guard let redis = try ServerProcess.redisServer(args: ["--save", "", "--bind", "127.0.0.1"]) else { return }
        defer { redis.stop() }
        let node = try ServerProcess.vigilNode(args: ["--save", "", "--bind", "127.0.0.1"])
        defer { node.stop() }
        let leaves = ["get", "set", "lpush", "zadd", "hset", "ping", "info", "mset", "blpop", "expire", "lmove"]
        for proto in ["2", "3"] {
            let a = try redis.client(), b = try node.client()
            _ = try a.call("HELLO", proto)
            _ = try b.call("HELLO", proto)
            for sub in ["INFO", "DOCS"] {
                for cmd in leaves {
                    try a.send(["COMMAND", sub, cmd])
                    try b.send(["COMMAND", sub, cmd])
                    let ra = try a.readRaw(), rb = try b.readRaw()
                    #expect(ra == rb, "COMMAND \(sub) \(cmd) differs in RESP\(proto)")
                }
                for cmd in ["config", "slowlog", "latency"] {
                    #expect(Self.sorted(try a.call("COMMAND", sub, cmd)) == Self.sorted(try b.call("COMMAND", sub, cmd)),
                            "COMMAND \(sub) \(cmd) differs in RESP\(proto)")
                }
            }
            for args in [["GETKEYSANDFLAGS", "LMOVE", "a", "b", "left", "right"], ["GETKEYS", "SET", "k", "v"],
                         ["GETKEYS", "MEMORY", "USAGE", "k"], ["INFO", "config|get"], ["COUNT", "x"]] {
                #expect(try a.call(["COMMAND"] + args) == (try b.call(["COMMAND"] + args)), "COMMAND \(args) differs")
            }
        }
    }

    /// Arrays and sets with their elements sorted by their printed form, recursively.
    static func sorted(_ v: RESPValue) -> RESPValue {
        switch v {
        case .array(let a): return .array(a.map(sorted).sorted { "\($0)" < "\($1)" })
        case .set(let a): return .set(a.map(sorted).sorted { "\($0)" < "\($1)" })
        case .map(let p): return .map(p.map { RESPPair(sorted($0.key), sorted($0.value)) }.sorted { "\($0.key)" < "\($1.key)" })
        default: return v
        }
    }
}

// What operators run against a sentinel deployment: discovery speed from a cold start, and the
// Prometheus exporter (prometheus-redis-exporter, Debian's package) scraping vigil-sentinel and
// vigil-node as many metrics as it scrapes from redis-sentinel and redis-server.
import Foundation
import Shared
import Testing
import TestSupport

/// GET http://127.0.0.1:<port><path>; the body, or nil when nothing answers.
func httpGet(port: Int, path: String) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard ok == 0 else { return nil }
    let req = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    guard req.withUnsafeBytes({ send(fd, $0.baseAddress!, $0.count, 0) }) == req.count else { return nil }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    let text = String(decoding: out, as: UTF8.self)
    guard let body = text.range(of: "\r\n\r\n") else { return nil }
    return String(text[body.upperBound...])
}

/// prometheus-redis-exporter scraping one instance.
final class Exporter {
    static let binary = "/usr/bin/prometheus-redis-exporter"
    let process: TestSupport.ChildProcess
    let port: Int
    let dir: String

    init(target: Int) throws {
        port = FreePort.next()
        dir = NSTemporaryDirectory() + "vigil-exporter-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        process = try TestSupport.ChildProcess(path: Exporter.binary, args: ["-redis.addr", "redis://127.0.0.1:\(target)", "-web.listen-address",
                                                                "127.0.0.1:\(port)", "-redis-only-metrics", "-export-client-list"], cwd: dir, output: dir + "/exporter.log")
    }

    /// Metric names of a scrape where the exporter reached the instance (redis_up 1).
    func metricNames() -> Set<String> {
        var names: Set<String> = []
        _ = waitUntil(timeout: 15, interval: 0.2) {
            guard let body = httpGet(port: self.port, path: "/metrics"), body.contains("\nredis_up 1") else { return false }
            names = Set(body.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
                line.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
            })
            return true
        }
        return names
    }

    deinit {
        process.signal(SIGTERM)
        process.wait()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Metric names the exporter derives from a node's replication state and identity (what a
/// sentinel deployment is watched by).
func sentinelRelevant(_ names: Set<String>) -> Set<String> {
    names.filter { n in ["connected_slave", "redis_master_", "repl_", "replica", "replication", "slave_info", "slave_priority",
                         "slave_repl_offset", "instance_info", "redis_up"].contains { n.contains($0) } }
}

@Suite(.serialized) struct SentinelOperatorsTests {
    /// Master, replicas and three sentinels started at the same moment (replicas not yet attached
    /// when the sentinels first ask the master): every sentinel knows the two replicas and the
    /// two other sentinels within 2 s (Redis: 2-10 s, waiting for its 10 s INFO period).
    @Test func coldStartedDeploymentIsDiscoveredQuickly() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", "", "--bind", "127.0.0.1"])
        defer { master.stop() }
        var procs: [ServerProcess] = []
        defer { for p in procs { p.stop() } }
        let ports = (0..<3).map { _ in FreePort.next() }
        let started = Date()
        for _ in 0..<2 {
            procs.append(try ServerProcess(binary: Binaries.vigilNode, args: ["--save", "", "--bind", "127.0.0.1", "--replicaof", "127.0.0.1", String(master.port)], waitReady: false))
        }
        var sentinels: [ServerProcess] = []
        for p in ports {
            let conf = "port \(p)\nsentinel monitor mymaster 127.0.0.1 \(master.port) 2\nsentinel down-after-milliseconds mymaster 5000\n"
            sentinels.append(try ServerProcess(binary: Binaries.vigilSentinel, port: p, config: conf, configName: "sentinel.conf", waitReady: false))
        }
        procs += sentinels
        let discovered = waitUntil(timeout: 10, interval: 0.01) {
            sentinels.allSatisfy { s in
                guard let c = try? TestClient(port: s.port, timeoutMillis: 500), let m = try? fields(c.call("SENTINEL", "MASTER", "mymaster")) else { return false }
                return m["num-other-sentinels"] == "2" && m["num-slaves"] == "2"
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        print("discovery of 2 replicas and 2 sentinels by 3 cold-started sentinels: \(String(format: "%.2f", elapsed)) s")
        #expect(discovered)
        // Generous for a loaded machine and debug builds; a release build on an idle 2-core
        // machine takes 0.2-0.5 s.
        #expect(elapsed < 4, "took \(elapsed) s")
    }

    /// The exporter finds every metric of redis-sentinel on vigil-sentinel, and every
    /// replication metric of redis-server on vigil-node (README, "Monitoring").
    @Test func prometheusExporterScrapesWhatItScrapesFromRedis() throws {
        guard FileManager.default.isExecutableFile(atPath: Exporter.binary), Binaries.redisSentinel != nil else { return }
        // The same deployment twice: a master, a replica and a sentinel.
        func deployment(node: (([String]) throws -> ServerProcess), sentinel: String) throws -> [ServerProcess] {
            let m = try node(["--save", "", "--bind", "127.0.0.1"])
            let r = try node(["--save", "", "--bind", "127.0.0.1", "--replicaof", "127.0.0.1", String(m.port)])
            _ = waitUntil(timeout: 10) { (try? r.client().call("INFO", "replication").string ?? "")?.contains("master_link_status:up") ?? false }
            let sp = FreePort.next()
            let s = try ServerProcess(binary: sentinel, port: sp, config: "port \(sp)\nsentinel monitor mymaster 127.0.0.1 \(m.port) 1\n",
                                      configName: "sentinel.conf")
            _ = waitUntil(timeout: 10) { (try? fields(s.client().call("SENTINEL", "MASTER", "mymaster"))["num-slaves"]) == "1" }
            return [m, r, s]
        }
        let redis = try deployment(node: { args in
            guard let p = try ServerProcess.redisServer(args: args) else { throw TestClientError("redis-server not installed") }
            return p
        }, sentinel: try #require(Binaries.redisSentinel))
        defer { for p in redis { p.stop() } }
        let ours = try deployment(node: { try ServerProcess.vigilNode(args: $0) }, sentinel: Binaries.vigilSentinel)
        defer { for p in ours { p.stop() } }
        var theirs: [Set<String>] = [], mine: [Set<String>] = []
        for (a, b) in zip(redis, ours) {
            let ea = try Exporter(target: a.port), eb = try Exporter(target: b.port)
            theirs.append(ea.metricNames())
            mine.append(eb.metricNames())
        }
        #expect(theirs.allSatisfy { $0.contains("redis_up") } && mine.allSatisfy { $0.contains("redis_up") })
        // Sentinel: every metric name.
        let missing = theirs[2].subtracting(mine[2])
        #expect(missing.isEmpty, "metrics of redis-sentinel missing from vigil-sentinel: \(missing.sorted())")
        #expect(mine[2].contains("redis_sentinel_master_ok_slaves") && mine[2].contains("redis_cpu_user_seconds_total"))
        // Nodes: the replication part, on the master and on the replica.
        for i in 0..<2 {
            let gap = sentinelRelevant(theirs[i]).subtracting(mine[i])
            #expect(gap.isEmpty, "replication metrics of redis-server missing from vigil-node: \(gap.sorted())")
        }
        print("exporter metric names: redis-sentinel \(theirs[2].count), vigil-sentinel \(mine[2].count); "
              + "replication part: redis-server \(sentinelRelevant(theirs[0]).count)+\(sentinelRelevant(theirs[1]).count), "
              + "vigil-node \(sentinelRelevant(mine[0]).count)+\(sentinelRelevant(mine[1]).count)")
    }
}

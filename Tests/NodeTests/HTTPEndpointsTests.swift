import Testing
import Shared
@testable import Node

/// The node's HTTP routes on a server that is never started: which state answers 200 and which
/// 503 (and why), the lag probe's bookkeeping, and a /metrics text with the exporter's names.
struct HTTPEndpointsTests {
    private func makeServer(_ configure: (ServerConfig) -> Void = { _ in }) throws -> Server {
        let config = ServerConfig()
        configure(config)
        let log = Logger()
        log.level = .nothing
        return Server(config: config, loop: try EventLoop(), log: log)
    }

    private func get(_ s: Server, _ target: String) -> (Int, String) {
        let raw = "GET \(target) HTTP/1.1\r\nHost: t\r\n\r\n"
        guard case .request(let req, _) = HTTPRequestParser.parse(Bytes(raw.utf8)) else { return (0, "") }
        let r = s.respond(to: req)
        return (r.status, String(decoding: r.body, as: UTF8.self))
    }

    @Test func aWritableMasterIsThePrimaryAndNoReplica() throws {
        let s = try makeServer()
        #expect(get(s, "/primary").0 == 200)
        #expect(get(s, "/primary").1.contains(#""writable":true"#))
        #expect(get(s, "/master").0 == 200)
        let (code, body) = get(s, "/replica")
        #expect(code == 503 && body.contains("not a replica"))
        #expect(get(s, "/health").0 == 200)
        #expect(get(s, "/nope").0 == 404)
        #expect(get(s, "/replica?lag=-1").0 == 400 && get(s, "/replica?lag=x").0 == 400)
    }

    @Test func pausedOrUnderReplicatedMastersAreNotPrimaries() throws {
        let s = try makeServer()
        s.pauseClients(.clientCommand, kind: .write, until: s.clock.monotonicMillis() + 60_000)
        let (code, body) = get(s, "/primary")
        #expect(code == 503 && body.contains("writes are paused"))
        s.unpauseClients(.clientCommand)
        #expect(get(s, "/primary").0 == 200)
        s.config.minReplicasToWrite = 1
        let (c2, b2) = get(s, "/primary")
        #expect(c2 == 503 && b2.contains("NOREPLICAS"))
    }

    @Test func aReplicaWithoutItsLinkIsNotReady() throws {
        let s = try makeServer()
        s.replication.setMaster(host: "127.0.0.1", port: 1)
        let (code, body) = get(s, "/replica?lag=100")
        #expect(code == 503 && body.contains("link to the master is down") && body.contains(#""role":"replica""#))
        #expect(get(s, "/primary").0 == 503)
    }

    @Test func lagSamplesAgeOut() throws {
        let s = try makeServer()
        let probe = ReplicaLagProbe(server: s)
        #expect(probe.lag(now: 0) == nil)
        probe.record(masterOffset: s.replication.masterReplOffset + 1234, now: 10_000)
        #expect(probe.lag(now: 10_500) == 1234)
        #expect(probe.lag(now: 10_000 + probe.maxAge + 1) == nil)
        // Ahead of the sample (we applied more since): no negative lag.
        probe.record(masterOffset: s.replication.masterReplOffset - 5, now: 20_000)
        #expect(probe.lag(now: 20_000) == 0)
        #expect(ReplicaLagProbe.masterOffset("# Replication\r\nrole:master\r\nmaster_repl_offset:987\r\n") == 987)
        #expect(ReplicaLagProbe.masterOffset("role:master\r\n") == nil)
    }

    @Test func metricsUseTheExportersNames() throws {
        let s = try makeServer()
        let (code, text) = get(s, "/metrics")
        #expect(code == 200)
        for line in ["redis_up 1", "vigil_writable 1", "vigil_fenced 0", "# TYPE redis_commands_processed_total counter",
                     "redis_connected_slaves 0", "vigil_fencing_state{state=\"disabled\"} 1"] {
            #expect(text.contains(line + "\n"), "\(line)")
        }
        #expect(text.contains("redis_instance_info{role=\"master\",redis_version=\""))
        #expect(text.contains("redis_memory_used_bytes "))
        // Each family once, every sample line after its TYPE.
        var typed: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let name = String(line.split(separator: " ")[2])
                #expect(!typed.contains(name), "\(name) twice")
                typed.insert(name)
            } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(typed.contains(name), "\(name) without TYPE")
            }
        }
    }
}

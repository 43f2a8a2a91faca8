import Foundation
import Testing
import TestSupport
import Shared

/// INFO: every section and the fields clients and Sentinel read, checked by rule.
@Suite(.serialized) struct InfoTests {
    static func text(_ v: RESPValue) -> String {
        switch v {
        case .bulkString(let b): return String(decoding: b, as: UTF8.self)
        case .verbatim(_, let b): return String(decoding: b, as: UTF8.self)
        default: return ""
        }
    }

    /// Section name → fields, checking the framing rules on the way.
    static func parse(_ s: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var current = ""
        for line in s.components(separatedBy: "\r\n") where !line.isEmpty {
            if line.hasPrefix("# ") { current = String(line.dropFirst(2)); out[current] = [:]; continue }
            guard let colon = line.firstIndex(of: ":") else { continue }
            out[current, default: [:]][String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return out
    }

    @Test func defaultSectionsAndFields() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let raw = Self.text(try node.client().call("INFO"))
        // Every line ends with CRLF; sections are separated by one blank line.
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(raw.contains("\r\n\r\n# Clients\r\n"))
        let info = Self.parse(raw)
        for s in ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Keyspace"] {
            #expect(info[s] != nil, "missing section \(s)")
        }
        let server = info["Server"] ?? [:]
        #expect(server["redis_version"] == "7.0.15")
        #expect(server["vigil_version"]?.isEmpty == false)
        #expect(server["run_id"].map { RunID.isValid($0) } == true)
        #expect(server["tcp_port"] == String(node.port))
        #expect(server["process_id"] == String(node.pid))
        #expect(server["executable"]?.hasSuffix("vigil-node") == true)
        #expect(server["config_file"] == "")
        #expect(Int(server["uptime_in_seconds"] ?? "x") != nil)
        for f in ["redis_mode", "os", "arch_bits", "multiplexing_api", "hz", "lru_clock"] {
            #expect(server[f] != nil, "missing server field \(f)")
        }
        let clients = info["Clients"] ?? [:]
        #expect(clients["connected_clients"] == "1")
        #expect(clients["maxclients"] == "10000")
        #expect(clients["blocked_clients"] == "0")
        let memory = info["Memory"] ?? [:]
        #expect((Int(memory["used_memory"] ?? "") ?? 0) > 0)
        #expect((Int(memory["used_memory_rss"] ?? "") ?? 0) > 0)
        #expect(memory["used_memory_human"]?.last.map { "BKMGT".contains($0) } == true)
        #expect(memory["maxmemory"] == "0")
        #expect(memory["maxmemory_human"] == "0B")
        #expect(memory["maxmemory_policy"] == "noeviction")
        let stats = info["Stats"] ?? [:]
        for f in ["total_connections_received", "total_commands_processed", "rejected_connections", "expired_keys",
                  "keyspace_hits", "keyspace_misses", "total_error_replies", "sync_full"] {
            #expect(Int(stats[f] ?? "x") != nil, "missing stats field \(f)")
        }
        #expect(info["Replication"]?["role"] == "master")
        let cpu = info["CPU"] ?? [:]
        for f in ["used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children"] {
            #expect(Double(cpu[f] ?? "x") != nil, "missing cpu field \(f)")
        }
        #expect(info["Persistence"]?["loading"] == "0")
    }

    @Test func configFileIsReported() throws {
        let port = FreePort.next()
        let node = try ServerProcess.vigilNode(config: "port \(port)\n", port: port)
        defer { node.stop() }
        let info = Self.parse(Self.text(try node.client().call("INFO", "server")))
        let reported = info["Server"]?["config_file"] ?? ""
        #expect(reported.hasPrefix("/") && reported.hasSuffix("/node.conf"))
    }

    @Test func selectedSectionsAndRESP3() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let c = try node.client()
        let one = Self.parse(Self.text(try c.call("INFO", "server")))
        #expect(Array(one.keys) == ["Server"])
        let two = Self.parse(Self.text(try c.call("INFO", "CPU", "clients")))
        #expect(Set(two.keys) == ["CPU", "Clients"])
        #expect(Self.text(try c.call("INFO", "nosuchsection")) == "")
        let everything = Self.parse(Self.text(try c.call("INFO", "everything")))
        #expect(everything["Commandstats"] != nil && everything["Keyspace"] != nil)
        _ = try c.call("HELLO", "3")
        try c.send(["INFO", "server"])
        let raw = try c.readRaw()
        #expect(raw.first == UInt8(ascii: "="))
        #expect(String(decoding: raw, as: UTF8.self).contains("txt:# Server\r\n"))
    }
}

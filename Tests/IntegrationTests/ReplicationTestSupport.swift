import Foundation
import TestSupport
import Shared

/// Helpers shared by the replication suites: INFO fields, dataset snapshots that compare every
/// key of every type (with whether it carries a TTL), and a writer that covers every data type.
enum Repl {
    /// A client, authenticated when `password` (and maybe `user`) is given.
    static func client(_ p: ServerProcess, password: String? = nil, user: String? = nil) throws -> TestClient {
        let c = try p.client(timeoutMillis: 20000)
        if let password {
            let r = user.map { try? c.call("AUTH", $0, password) } ?? (try? c.call("AUTH", password))
            if r != .simpleString("OK") { throw TestClientError("AUTH failed: \(String(describing: r))") }
        }
        return c
    }

    /// One INFO section as a dictionary.
    static func info(_ p: ServerProcess, _ section: String, password: String? = nil) throws -> [String: String] {
        let v = try client(p, password: password).call("INFO", section)
        var out: [String: String] = [:]
        for line in (v.string ?? "").split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            out[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return out
    }

    /// `master_repl_offset` (-1 when unreadable).
    static func offset(_ p: ServerProcess, password: String? = nil) throws -> Int64 {
        Int64(try info(p, "replication", password: password)["master_repl_offset"] ?? "") ?? -1
    }

    /// Whether a replica reports `master_link_status:up`.
    static func linkUp(_ p: ServerProcess, password: String? = nil) -> Bool {
        (try? info(p, "replication", password: password)["master_link_status"]) == "up"
    }

    /// An INFO stats counter (sync_full, sync_partial_ok...).
    static func stat(_ p: ServerProcess, _ name: String, password: String? = nil) throws -> Int {
        Int(try info(p, "stats", password: password)[name] ?? "") ?? -1
    }

    /// True once every replica's offset equals the master's (and the master has produced some stream).
    static func inSync(_ master: ServerProcess, _ replicas: [ServerProcess], password: String? = nil) -> Bool {
        guard let m = try? offset(master, password: password), m > 0 else { return false }
        return replicas.allSatisfy { (try? offset($0, password: password)) == m }
    }

    /// Every key of dbs 0...`dbs`, rendered as "db:key" → "type value ttl?" (members sorted where
    /// order carries no meaning). Two servers holding the same data give equal snapshots.
    static func snapshot(_ p: ServerProcess, password: String? = nil, dbs: Int = 4) throws -> [String: String] {
        let c = try client(p, password: password)
        var out: [String: String] = [:]
        for db in 0..<dbs {
            _ = try c.call("SELECT", String(db))
            let keys = (try c.call("KEYS", "*").elements ?? []).compactMap { $0.string }
            for key in keys {
                let type = try c.call("TYPE", key).string ?? "?"
                // A key that expired between KEYS and TYPE (the `PX 1` one) is simply gone.
                if type == "none" { continue }
                var value: String
                switch type {
                case "string": value = try c.call("GET", key).string ?? "nil"
                case "list": value = (try c.call("LRANGE", key, "0", "-1").elements ?? []).compactMap { $0.string }.joined(separator: ",")
                case "hash":
                    let flat = (try c.call("HGETALL", key).elements ?? []).compactMap { $0.string }
                    value = stride(from: 0, to: flat.count - 1, by: 2).map { flat[$0] + "=" + flat[$0 + 1] }.sorted().joined(separator: ",")
                case "set": value = (try c.call("SMEMBERS", key).elements ?? []).compactMap { $0.string }.sorted().joined(separator: ",")
                case "zset": value = (try c.call("ZRANGE", key, "0", "-1", "WITHSCORES").elements ?? []).compactMap { $0.string }.joined(separator: ",")
                default: value = "?"
                }
                let ttl: Int64
                if case .integer(let t) = try c.call("PTTL", key) { ttl = t } else { ttl = -3 }
                out["\(db):\(key)"] = "\(type) \(value) \(ttl > 0 ? "ttl" : String(ttl))"
            }
        }
        return out
    }

    /// Writes every data type, small and large encodings, with expiries, in dbs 0 and 2, all
    /// key names starting with `prefix`. Returns the number of keys written.
    @discardableResult
    static func writeAllTypes(_ c: TestClient, prefix: String) throws -> Int {
        var n = 0
        func ok(_ args: [String]) throws {
            let r = try c.call(args)
            if r.isError { throw TestClientError("\(args.prefix(2)) failed: \(r)") }
        }
        func ok(_ args: String...) throws { try ok(args) }
        let bigList: [String] = (0..<300).map { "item-\($0)-" + String(repeating: "x", count: $0 % 50) }
        let bigHash: [String] = (0..<600).flatMap { ["field\($0)", "value\($0)"] }
        let bigSet: [String] = (0..<700).map { "member\($0)" }
        let bigZset: [String] = (0..<300).flatMap { i -> [String] in [String(Double(i) / 4), "m\(i)"] }
        _ = try c.call("SELECT", "0")
        try ok("SET", "\(prefix)str", "hello"); n += 1
        try ok("SET", "\(prefix)int", "12345"); n += 1
        try ok("SET", "\(prefix)long", String(repeating: "abc", count: 3000)); n += 1
        try ok("INCRBY", "\(prefix)counter", "41"); n += 1
        try ok("APPEND", "\(prefix)counter", "0")
        try ok("RPUSH", "\(prefix)list", "a", "b", "c"); n += 1
        try ok("LPUSH", "\(prefix)list", "z")
        try ok(["RPUSH", "\(prefix)biglist"] + bigList); n += 1
        try ok("LPOP", "\(prefix)biglist")
        try ok("HSET", "\(prefix)hash", "f1", "v1", "f2", "2"); n += 1
        try ok("HINCRBY", "\(prefix)hash", "f2", "5")
        try ok(["HSET", "\(prefix)bighash"] + bigHash); n += 1
        try ok("HDEL", "\(prefix)bighash", "field7")
        try ok("SADD", "\(prefix)intset", "1", "2", "3", "100"); n += 1
        try ok("SADD", "\(prefix)set", "x", "y", "z"); n += 1
        try ok(["SADD", "\(prefix)bigset"] + bigSet); n += 1
        try ok("SREM", "\(prefix)bigset", "member3")
        try ok("ZADD", "\(prefix)zset", "1", "one", "2.5", "two", "-3", "minus"); n += 1
        try ok("ZINCRBY", "\(prefix)zset", "10", "one")
        try ok(["ZADD", "\(prefix)bigzset"] + bigZset); n += 1
        try ok("ZREM", "\(prefix)bigzset", "m5")
        try ok("SET", "\(prefix)ttl-ex", "v", "EX", "1000"); n += 1
        try ok("SET", "\(prefix)ttl-px", "v"); n += 1
        try ok("PEXPIRE", "\(prefix)ttl-px", "900000")
        try ok("RPUSH", "\(prefix)ttl-list", "a"); n += 1
        try ok("EXPIRE", "\(prefix)ttl-list", "5000")
        try ok("SET", "\(prefix)short", "gone-soon", "PX", "1"); n += 1
        try ok("SET", "\(prefix)deleted", "x")
        try ok("DEL", "\(prefix)deleted")
        _ = try c.call("SELECT", "2")
        try ok("SET", "\(prefix)db2", "in-two"); n += 1
        try ok("HSET", "\(prefix)db2hash", "a", "b"); n += 1
        try ok("SET", "\(prefix)db2ttl", "t", "EX", "3000"); n += 1
        _ = try c.call("SELECT", "0")
        return n
    }
}

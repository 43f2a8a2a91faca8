// vigil-sentinel side by side with redis-sentinel 7.0.15, in one group over the same vigil-node
// nodes: INFO sections and fields, CLIENT LIST fields, HELLO, the per-instance replies field for
// field, the command table, error texts byte for byte, and Valkey 8's PRIMARY aliases.
import Foundation
import Shared
import Testing
import TestSupport

/// Two vigil-sentinels and a redis-sentinel watching a vigil-node master with two replicas.
final class MixedSentinelGroup {
    let nodes: ACLDeployment
    var ours: ServerProcess { nodes.sentinels[0] }
    var peer: ServerProcess { nodes.sentinels[1] }
    let redis: ServerProcess

    init() throws {
        guard let redisSentinel = Binaries.redisSentinel else { throw TestClientError("redis-sentinel not installed") }
        nodes = try ACLDeployment(replicas: 2)
        try nodes.startSentinel()
        try nodes.startSentinel()
        let port = FreePort.next()
        let conf = "port \(port)\nsentinel monitor mymaster 127.0.0.1 \(nodes.master.port) 2\nsentinel down-after-milliseconds mymaster 2000\n"
        redis = try ServerProcess(binary: redisSentinel, port: port, config: conf, configName: "sentinel.conf")
        nodes.sentinels.append(redis)
        if !nodes.waitDiscovered(timeout: 20) {
            nodes.stopAll()
            throw TestClientError("the mixed group did not discover itself")
        }
    }

    func stop() { nodes.stopAll() }
}

/// `name:value` lines of an INFO text, by section.
func infoSections(_ text: String) -> [(name: String, fields: [String])] {
    var out: [(String, [String])] = []
    // "\r\n" is one Character in Swift: split on scalars.
    for raw in text.unicodeScalars.split(separator: "\n") {
        var line = String(String.UnicodeScalarView(raw))
        if line.unicodeScalars.last == "\r" { line = String(String.UnicodeScalarView(line.unicodeScalars.dropLast())) }
        if line.hasPrefix("# ") { out.append((String(line.dropFirst(2)), [])); continue }
        guard let colon = line.firstIndex(of: ":"), !out.isEmpty else { continue }
        out[out.count - 1].1.append(String(line[..<colon]))
    }
    return out
}

/// True when `sub` appears in `all` in the same relative order.
func isOrderedSubset(_ sub: [String], of all: [String]) -> Bool {
    var it = all.makeIterator()
    return sub.allSatisfy { x in
        while let y = it.next() { if y == x { return true } }
        return false
    }
}

@Suite(.serialized) struct SentinelRedisParityTests {
    @Test func infoClientListHelloAndRepliesAsRedisSentinel() throws {
        let g = try MixedSentinelGroup()
        defer { g.stop() }
        let ours = try g.ours.client(), theirs = try g.redis.client()
        // INFO: the same sections in the same order, Redis's fields present in its order.
        for args in [["INFO"], ["INFO", "all"], ["INFO", "everything"], ["INFO", "default"], ["INFO", "cpu"], ["INFO", "sentinel"],
                     ["INFO", "server", "sentinel", "replication"], ["INFO", "cpu", "all"], ["INFO", "keyspace"]] {
            let a = infoSections(try ours.call(args).string ?? ""), b = infoSections(try theirs.call(args).string ?? "")
            #expect(a.map(\.name) == b.map(\.name), "\(args)")
            for (x, y) in zip(a, b) {
                #expect(isOrderedSubset(y.fields, of: x.fields), "\(args) \(x.name): missing \(Set(y.fields).subtracting(x.fields))")
            }
        }
        // CLIENT LIST / CLIENT INFO: the same fields in the same order.
        func names(_ line: String) -> [String] { line.split(separator: " ").map { String($0.split(separator: "=")[0]) } }
        let ourLine = try ours.call("CLIENT", "INFO").string ?? "", theirLine = try theirs.call("CLIENT", "INFO").string ?? ""
        #expect(names(ourLine.trimmingCharacters(in: .whitespacesAndNewlines)) == names(theirLine.trimmingCharacters(in: .whitespacesAndNewlines)))
        let list = (try ours.call("CLIENT", "LIST").string ?? "").split(separator: "\n")
        #expect(list.count >= 2 && list.allSatisfy { names(String($0)) == names(theirLine.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(ourLine.contains("cmd=client|info"))
        // HELLO: the same keys (a sentinel's has no role).
        let h1 = try TestClient(port: g.ours.port).call("HELLO", "3"), h2 = try TestClient(port: g.redis.port).call("HELLO", "3")
        #expect(fieldNames(mapAsArray(h1)) == fieldNames(mapAsArray(h2)))
        // Per-instance replies: the same fields in the same order, per kind of instance.
        #expect(fieldNames(try ours.call("SENTINEL", "MASTER", "mymaster")) == fieldNames(try theirs.call("SENTINEL", "MASTER", "mymaster")))
        for sub in ["REPLICAS", "SENTINELS"] {
            let a = try ours.call("SENTINEL", sub, "mymaster").elements ?? [], b = try theirs.call("SENTINEL", sub, "mymaster").elements ?? []
            #expect(a.count == 2 && b.count == 2, "\(sub)")
            for (x, y) in zip(a, b) { #expect(fieldNames(x) == fieldNames(y), "\(sub)") }
        }
        // INFO-CACHE: [name, [[age, info], ...]] in both.
        let cache = try ours.call("SENTINEL", "INFO-CACHE", "mymaster").elements ?? []
        #expect(cache.count == 2 && cache[0].string == "mymaster" && cache[1].elements?.count == 3)
        #expect(cache[1].elements?.allSatisfy { $0.elements?.count == 2 && $0.elements?[0].int != nil } == true)
    }

    @Test func commandTableAndErrorsAsRedisSentinel() throws {
        let g = try MixedSentinelGroup()
        defer { g.stop() }
        let ours = try g.ours.client(), theirs = try g.redis.client()
        #expect(try ours.call("COMMAND", "COUNT") == (try theirs.call("COMMAND", "COUNT")))
        let a = Set((try ours.call("COMMAND", "LIST").elements ?? []).compactMap(\.string))
        let b = Set((try theirs.call("COMMAND", "LIST").elements ?? []).compactMap(\.string))
        // Ours adds CLIENT SETINFO (Redis 7.2), Valkey 8's PRIMARY aliases and SENTINEL HISTORY (vigil's).
        #expect(a.subtracting(b) == ["client|setinfo", "sentinel|primary", "sentinel|primaries", "sentinel|get-primary-addr-by-name", "sentinel|is-primary-down-by-addr", "sentinel|history"])
        #expect(b.subtracting(a).isEmpty)
        for cmd in ["ping", "info", "subscribe", "client|setinfo"] {
            #expect(!(try ours.call("COMMAND", "DOCS", cmd).elements ?? []).isEmpty, "\(cmd)")
        }
        // Replies that must be byte for byte redis-sentinel's.
        let same: [[String]] = [
            ["SAVE"], ["BLPOP", "a", "0"], ["REPLICAOF", "NO", "ONE"], ["COMMAND", "DOCS", "save"], ["COMMAND", "INFO", "sentinel|debug"],
            ["CLIENT", "NO-TOUCH", "on"], ["CLIENT"], ["SENTINEL"], ["SENTINEL", "FOO"], ["SENTINEL", "SET", "mymaster", "quorum"],
            ["SENTINEL", "SET", "mymaster", "fakeoption", "x"], ["SENTINEL", "SET", "mymaster", "quorum", "abc"],
            ["SENTINEL", "SET", "mymaster", "down-after-milliseconds", "-20"], ["SENTINEL", "MASTER", "nosuch"],
            ["SENTINEL", "REPLICAS", "nosuch"], ["SENTINEL", "CKQUORUM", "nosuch"], ["SENTINEL", "FAILOVER", "nosuch"],
            ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch"], ["SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "1", "2"],
            ["SENTINEL", "MONITOR", "x", "127.0.0.1", "1", "0"], ["SENTINEL", "MONITOR", "x", "127.0.0.1", "p", "1"],
            ["SENTINEL", "MONITOR", "x", "not-an-ip", "1", "1"], ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "1.2.3.4", "x", "0", "*"],
            ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "1.2.3.4", "1", "0", "*"], ["SENTINEL", "SIMULATE-FAILURE", "HELP"],
            ["SENTINEL", "SIMULATE-FAILURE", "bogus"], ["SENTINEL", "DEBUG", "bogus", "1"], ["SENTINEL", "DEBUG", "info-period", "0"],
            ["SENTINEL", "CONFIG", "GET", "announce-port"], ["SENTINEL", "CONFIG", "SET", "bogus", "1"],
            ["SENTINEL", "INFO-CACHE", "nosuch"], ["SENTINEL", "RESET", "nosuch*"], ["SENTINEL", "REMOVE", "nosuch"],
            ["PUBLISH", "other", "x"], ["AUTH", "pw"], ["AUTH", "u", "p"], ["HELLO", "4"], ["HELLO", "x"], ["PING", "a", "b"],
            ["CLIENT", "KILL", "1.2.3.4:5"], ["CLIENT", "KILL", "ID", "abc"], ["CLIENT", "KILL", "USER", "nosuch"],
            ["CLIENT", "LIST", "TYPE", "bogus"], ["CLIENT", "SETNAME", "a b"], ["CLIENT", "GETREDIR"], ["CLIENT", "CACHING", "yes"],
            ["CLIENT", "PAUSE", "abc"], ["CLIENT", "UNBLOCK", "5"], ["ACL", "SETUSER", "u", "bogus"], ["ACL", "DELUSER", "default"],
            ["ACL", "GETUSER", "nosuch"], ["ACL", "WHOAMI"], ["ACL", "SAVE"], ["ACL", "LOG", "RESET"], ["ACL", "CAT", "nosuch"], ["ROLE"],
        ]
        for args in same {
            try ours.send(args); try theirs.send(args)
            let x = try ours.readRaw(), y = try theirs.readRaw()
            #expect(String(decoding: x, as: UTF8.self).debugDescription == String(decoding: y, as: UTF8.self).debugDescription, "\(args)")
        }
        // The failed AUTH above is in the ACL log with Redis's fields.
        _ = try ours.call("AUTH", "u", "p")
        let log = try ours.call("ACL", "LOG").elements ?? []
        #expect(log.count == 1 && fieldNames(log[0]) == ["count", "reason", "context", "object", "username", "age-seconds", "client-info"])
        #expect(fields(log[0])["count"] == "1" && fields(log[0])["username"] == "u")
    }

    @Test func valkeyPrimaryAliasesAnswerAsValkey() throws {
        let g = try MixedSentinelGroup()
        defer { g.stop() }
        let c = try g.ours.client()
        let m = fields(try c.call("SENTINEL", "MASTER", "mymaster")), p = fields(try c.call("SENTINEL", "PRIMARY", "mymaster"))
        #expect(fieldNames(try c.call("SENTINEL", "PRIMARY", "mymaster")) == fieldNames(try c.call("SENTINEL", "MASTER", "mymaster")))
        for k in ["name", "ip", "port", "runid", "flags", "quorum", "num-slaves", "num-other-sentinels"] { #expect(m[k] == p[k], "\(k)") }
        #expect(try c.call("SENTINEL", "PRIMARIES").elements?.count == 1)
        #expect(try c.call("SENTINEL", "GET-PRIMARY-ADDR-BY-NAME", "mymaster") == (try c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")))
        #expect(try c.call("SENTINEL", "GET-PRIMARY-ADDR-BY-NAME", "nosuch") == .null)
        #expect(try c.call("SENTINEL", "IS-PRIMARY-DOWN-BY-ADDR", "127.0.0.1", String(g.nodes.master.port), "0", "*")
                == .array([.integer(0), .bulkString(Array("*".utf8)), .integer(0)]))
        #expect(try c.call("SENTINEL", "PRIMARY", "nosuch") == .error("ERR No such master with that name"))
        #expect(try c.call("SENTINEL", "SET", "mymaster", "primary-reboot-down-after-period", "5000") == .simpleString("OK"))
        #expect(fileText(g.ours.configPath).contains("sentinel master-reboot-down-after-period mymaster 5000"))
        #expect(try c.call("SENTINEL", "SET", "mymaster", "primary-reboot-down-after-period", "-1")
                == .error("ERR Invalid argument '-1' for SENTINEL SET 'primary-reboot-down-after-period'"))
    }
}

@Suite(.serialized) struct SentinelClientCommandTests {
    /// CLIENT REPLY OFF/SKIP/ON, CLIENT PAUSE, CLIENT KILL of the caller, ACL users on the sentinel.
    @Test func replyModesPauseKillAndUsers() throws {
        let s = try SuiteStyleSentinel(base: monitorFirstConfig)
        let c = try s.client()
        try c.send(["CLIENT", "REPLY", "OFF"]); try c.send(["PING", "a"]); try c.send(["CLIENT", "REPLY", "ON"])
        #expect(try c.read() == .simpleString("OK"))
        try c.send(["CLIENT", "REPLY", "SKIP"]); try c.send(["PING", "b"]); try c.send(["PING", "c"])
        #expect(try c.read() == .bulkString(Array("c".utf8)))
        // PAUSE ALL holds every client's commands until it ends.
        #expect(try c.call("CLIENT", "PAUSE", "400", "ALL") == .simpleString("OK"))
        let other = try s.client()
        let start = Date()
        #expect(try other.call("PING") == .simpleString("PONG"))
        #expect(Date().timeIntervalSince(start) > 0.3)
        // Users: turn default off, authenticate as another, kill the default user's clients.
        #expect(try c.call("ACL", "SETUSER", "ops", "on", ">pw", "+@all") == .simpleString("OK"))
        #expect(try c.call("ACL", "SETUSER", "default", "off") == .simpleString("OK"))
        #expect(try c.call("CLIENT", "KILL", "USER", "default", "SKIPME", "no") == .integer(2))
        #expect(other.isClosedByPeer())
        let fresh = try s.client()
        #expect(try fresh.call("PING") == .error("NOAUTH Authentication required."))
        #expect(try fresh.call("AUTH", "ops", "pw") == .simpleString("OK"))
        #expect(try fresh.call("ACL", "WHOAMI") == .bulkString(Array("ops".utf8)))
        #expect(try fresh.call("ACL", "LIST") == .array([.bulkString(Array("user default off nopass ~* &* +@all".utf8)),
            .bulkString(Array("user ops on #\(SHA256.hex(Array("pw".utf8))) resetchannels +@all".utf8))]))
        #expect(try fresh.call("ACL", "SETUSER", "default", "on") == .simpleString("OK"))
        #expect(try fresh.call("ACL", "DELUSER", "ops") == .integer(1))
        #expect(fresh.isClosedByPeer())
        #expect(try s.client().call("PING") == .simpleString("PONG"))
    }
}

/// A RESP3 map as a flat RESP2-style array (so `fieldNames` reads it).
func mapAsArray(_ v: RESPValue) -> RESPValue {
    guard case .map(let pairs) = v else { return v }
    return .array(pairs.flatMap { [$0.key, $0.value] })
}

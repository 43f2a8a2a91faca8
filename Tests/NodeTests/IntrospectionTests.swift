import Testing
import Shared
@testable import Node

/// Introspection in-process: INFO commandstats/errorstats/latencystats and CONFIG RESETSTAT, the
/// HDR histogram's geometry, SLOWLOG (threshold, trimming, redaction, EXEC), LATENCY (events,
/// reset, graph, doctor, histogram) and COMMAND from the reference catalog (subcommands, key specs).
@Suite(.serialized) struct IntrospectionTests {
    /// INFO <section>'s `field:value` lines as a dictionary.
    static func info(_ n: TxInProcessNode, _ c: Client, _ section: String) -> [String: String] {
        let raw = n.run(c, "INFO", section)
        var out: [String: String] = [:]
        for line in raw.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            out[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return out
    }

    // MARK: - INFO commandstats / errorstats / latencystats

    @Test func commandStatsCountCallsFailuresAndRejections() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "SET", "s", "v")
        n.run(c, "GET", "s")
        n.run(c, "GET", "s")
        #expect(n.run(c, "INCR", "s").hasPrefix("-ERR value is not an integer"))
        #expect(n.run(c, "LPUSH", "s", "x").hasPrefix("-WRONGTYPE"))
        #expect(n.run(c, "GET").hasPrefix("-ERR wrong number of arguments for 'get'"))
        n.run(c, "NOSUCHCOMMAND")
        let stats = Self.info(n, c, "commandstats")
        #expect(stats["cmdstat_get"]?.hasPrefix("calls=2,usec=") == true)
        #expect(stats["cmdstat_get"]?.hasSuffix(",rejected_calls=1,failed_calls=0") == true)
        #expect(stats["cmdstat_incr"]?.hasSuffix("rejected_calls=0,failed_calls=1") == true)
        #expect(stats["cmdstat_incr"]?.hasPrefix("calls=1,") == true)
        #expect(stats["cmdstat_set"]?.contains("usec_per_call=") == true)
        #expect(stats["cmdstat_nosuchcommand"] == nil)
        let errors = Self.info(n, c, "errorstats")
        #expect(errors["errorstat_ERR"] == "count=3")
        #expect(errors["errorstat_WRONGTYPE"] == "count=1")
        #expect(Self.info(n, c, "stats")["total_error_replies"] == "4")
        n.run(c, "CONFIG", "RESETSTAT")
        let after = Self.info(n, c, "commandstats")
        #expect(after["cmdstat_get"] == nil)
        #expect(after["cmdstat_config|resetstat"]?.hasPrefix("calls=1,") == true)
        #expect(Self.info(n, c, "errorstats").isEmpty)
    }

    @Test func errorsInsideExecAreCountedOnTheQueuedCommand() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "SET", "foo", "bar")
        n.run(c, "CONFIG", "RESETSTAT")
        n.run(c, "MULTI")
        n.run(c, "LPUSH", "foo", "x")
        n.run(c, "EXEC")
        let stats = Self.info(n, c, "commandstats")
        #expect(stats["cmdstat_lpush"]?.hasSuffix("failed_calls=1") == true)
        #expect(stats["cmdstat_exec"]?.hasSuffix("rejected_calls=0,failed_calls=0") == true)
        #expect(Self.info(n, c, "errorstats")["errorstat_WRONGTYPE"] == "count=1")
        // A queued command with a wrong arity is rejected, and so is the EXEC that follows.
        n.run(c, "MULTI")
        n.run(c, "SET", "x")
        #expect(n.run(c, "EXEC").hasPrefix("-EXECABORT"))
        let again = Self.info(n, c, "commandstats")
        #expect(again["cmdstat_set"]?.contains("rejected_calls=1") == true)
        #expect(Self.info(n, c, "errorstats")["errorstat_EXECABORT"] == "count=1")
    }

    @Test func latencyStatsFollowTheConfiguredPercentilesAndSubcommands() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "CLIENT", "ID")
        n.run(c, "SET", "a", "b")
        var lat = Self.info(n, c, "latencystats")
        #expect(lat["latency_percentiles_usec_client|id"]?.hasPrefix("p50=") == true)
        #expect(lat["latency_percentiles_usec_set"]?.contains(",p99=") == true)
        #expect(lat["latency_percentiles_usec_set"]?.contains(",p99.9=") == true)
        #expect(n.run(c, "CONFIG", "SET", "latency-tracking-info-percentiles", "0.0 50.0 100.0") == "+OK\r\n")
        #expect(n.run(c, "CONFIG", "GET", "latency-tracking-info-percentiles").contains("0 50 100"))
        lat = Self.info(n, c, "latencystats")
        #expect(lat["latency_percentiles_usec_set"]?.hasPrefix("p0=") == true)
        #expect(lat["latency_percentiles_usec_set"]?.contains(",p100=") == true)
        #expect(n.run(c, "CONFIG", "SET", "latency-tracking-info-percentiles", "10.0 50.0 a").hasPrefix("-ERR CONFIG SET failed"))
        #expect(n.run(c, "CONFIG", "SET", "latency-tracking-info-percentiles", "101").hasPrefix("-ERR CONFIG SET failed"))
        #expect(n.run(c, "CONFIG", "GET", "latency-tracking-info-percentiles").contains("0 50 100"))
        n.run(c, "CONFIG", "SET", "latency-tracking", "no")
        n.run(c, "CONFIG", "RESETSTAT")
        n.run(c, "GET", "a")
        #expect(Self.info(n, c, "latencystats")["latency_percentiles_usec_get"] == nil)
        // Default INFO has errorstats but neither commandstats nor latencystats.
        let all = n.run(c, "INFO")
        #expect(all.contains("# Errorstats"))
        #expect(!all.contains("# Commandstats") && !all.contains("# Latencystats"))
        #expect(n.run(c, "INFO", "everything").contains("# Latencystats"))
    }

    @Test func histogramMatchesRedisHdrGeometry() {
        var h = LatencyHistogram()
        h.record(14_000)
        #expect(h.value(atPercentile: 50) == 14_015)
        var g = LatencyHistogram()
        g.record(9_000)
        #expect(g.value(atPercentile: 99.9) == 9_023)
        #expect(g.value(atPercentile: 0) == 8_960)
        // Buckets at powers of two from 1024 ns, reported in µs by their highest equivalent.
        var b = LatencyHistogram()
        b.record(5_000)
        b.record(5_000)
        b.record(100_000)
        let buckets = b.cumulativeBuckets()
        #expect(buckets.map(\.usec) == [8, 132])
        #expect(buckets.map(\.count) == [2, 3])
        // Values beyond the trackable range are clamped, not lost.
        var big = LatencyHistogram()
        big.record(5_000_000_000)
        #expect(big.totalCount == 1)
    }

    // MARK: - SLOWLOG

    @Test func slowlogRedactsMigrateCredentials() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "CONFIG", "SET", "slowlog-log-slower-than", "0")
        n.run(c, "SLOWLOG", "RESET")
        // No such key: MIGRATE answers NOKEY without connecting, and is logged all the same.
        n.run(c, "MIGRATE", "127.0.0.1", "1", "key", "9", "5000", "AUTH", "pw")
        n.run(c, "MIGRATE", "127.0.0.1", "1", "key", "9", "5000", "AUTH2", "user", "pw")
        let reply = try #require(try RESPParser.parse(Bytes(n.run(c, "SLOWLOG", "GET", "-1").utf8))?.value.elements)
        func argv(_ i: Int) -> [String] { (reply[i].elements?[3].elements ?? []).compactMap(\.string) }
        #expect(argv(0).suffix(4) == ["5000", "AUTH2", "(redacted)", "(redacted)"])
        #expect(argv(1).suffix(3) == ["5000", "AUTH", "(redacted)"])
    }

    @Test func slowlogKeepsSlowCommandsTrimmedAndRedacted() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        c.name = Bytes("foobar".utf8)
        n.run(c, "CONFIG", "SET", "slowlog-log-slower-than", "0")
        n.run(c, "SLOWLOG", "RESET")
        n.run(c, "CONFIG", "SET", "masterauth", "secret")
        n.run(c, "ACL", "SETUSER", "someone", "on", ">pw")
        n.run(c, "SADD", "set", "1", String(repeating: "A", count: 200))
        n.run(c, ["SADD", "set"] + (1...31).map(String.init))
        n.run(c, "MULTI")
        n.run(c, "PING")
        n.run(c, "EXEC")
        let reply = try #require(try RESPParser.parse(Bytes(n.run(c, "SLOWLOG", "GET", "-1").utf8))?.value.elements)
        func argv(_ i: Int) -> [String] { (reply[i].elements?[3].elements ?? []).compactMap(\.string) }
        // Newest first: PING (run by EXEC, which itself is not logged), MULTI, the two SADDs, ACL,
        // CONFIG, RESET.
        #expect(argv(0) == ["PING"])
        #expect(argv(1) == ["MULTI"])
        #expect(argv(2).count == 32)
        #expect(argv(2).last == "... (2 more arguments)")
        #expect(argv(3)[3] == String(repeating: "A", count: 128) + "... (72 more bytes)")
        #expect(argv(4) == ["ACL", "SETUSER", "(redacted)", "(redacted)", "(redacted)"])
        #expect(argv(5) == ["CONFIG", "SET", "masterauth", "(redacted)"])
        #expect(argv(6) == ["SLOWLOG", "RESET"])
        #expect(reply[0].elements?.count == 6)
        #expect(reply[0].elements?[5].string == "foobar")
        #expect(n.run(c, "SLOWLOG", "GET", "2").hasPrefix("*2\r\n"))
        #expect(n.run(c, "SLOWLOG", "GET", "-2") == "-ERR count should be greater than or equal to -1\r\n")
        n.run(c, "CONFIG", "SET", "slowlog-max-len", "3")
        n.run(c, "PING")
        #expect(n.run(c, "SLOWLOG", "LEN") == ":3\r\n")
        n.run(c, "CONFIG", "SET", "slowlog-log-slower-than", "-1")
        n.run(c, "SLOWLOG", "RESET")
        n.run(c, "PING")
        #expect(n.run(c, "SLOWLOG", "LEN") == ":0\r\n")
        #expect(n.run(c, "SLOWLOG", "LEN", "x") == "-ERR wrong number of arguments for 'slowlog|len' command\r\n")
    }

    // MARK: - LATENCY

    @Test func latencyMonitorSamplesEventsOverTheThreshold() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "LATENCY", "DOCTOR").contains("Latency monitoring is disabled"))
        n.run(c, "CONFIG", "SET", "latency-monitor-threshold", "20")
        n.run(c, "PING")
        #expect(n.run(c, "LATENCY", "LATEST") == "*0\r\n")
        n.run(c, "DEBUG", "SLEEP", "0.05")
        let latest = try #require(try RESPParser.parse(Bytes(n.run(c, "LATENCY", "LATEST").utf8))?.value.elements)
        #expect(latest.count == 1)
        let event = latest[0].elements ?? []
        #expect(event.first?.string == "command")
        #expect((event[2].int ?? 0) >= 50 && (event[3].int ?? 0) >= 50)
        #expect(n.run(c, "LATENCY", "HISTORY", "command").hasPrefix("*1\r\n*2\r\n"))
        #expect(n.run(c, "LATENCY", "HISTORY", "nothing") == "*0\r\n")
        let graph = n.run(c, "LATENCY", "GRAPH", "command")
        #expect(graph.contains("command - high "))
        #expect(graph.contains(String(repeating: "-", count: 80)))
        #expect(n.run(c, "LATENCY", "GRAPH", "nothing") == "-ERR No samples available for event 'nothing'\r\n")
        #expect(n.run(c, "LATENCY", "DOCTOR").contains("1. command: 1 latency spikes"))
        #expect(n.run(c, "LATENCY", "RESET", "nothing") == ":0\r\n")
        #expect(n.run(c, "LATENCY", "RESET") == ":1\r\n")
        #expect(n.run(c, "LATENCY", "LATEST") == "*0\r\n")
        #expect(n.run(c, "LATENCY", "HELP", "xxx") == "-ERR wrong number of arguments for 'latency|help' command\r\n")
    }

    @Test func latencyHistogramPerCommandAndSubcommand() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "CONFIG", "RESETSTAT")
        n.run(c, "CLIENT", "ID")
        n.run(c, "CLIENT", "LIST")
        n.run(c, "SET", "a", "b")
        n.run(c, "SET", "a", "c")
        c.out.proto = 3
        let all = try #require(try RESPParser.parse(Bytes(n.run(c, "LATENCY", "HISTOGRAM", "client", "set", "blabla").utf8))?.value)
        guard case .map(let pairs) = all else { Issue.record("not a map"); return }
        #expect(Set(pairs.compactMap(\.key.string)) == ["client|id", "client|list", "set"])
        let set = pairs.first { $0.key.string == "set" }?.value
        #expect(set?.mapValue("calls")?.int == 2)
        #expect(set?.mapValue("histogram_usec")?.elements?.isEmpty == false)
        let one = n.run(c, "LATENCY", "HISTOGRAM", "client|id")
        #expect(one.hasPrefix("%1\r\n$9\r\nclient|id\r\n"))
    }

    // MARK: - COMMAND

    @Test func commandAnswersFromTheReferenceCatalog() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "COMMAND", "COUNT") == ":\(n.server.commandTable.count)\r\n")
        let info = try #require(try RESPParser.parse(Bytes(n.run(c, "COMMAND", "INFO", "config|get", "get|key", "get").utf8))?.value.elements)
        #expect(info[0].elements?.first?.string == "config|get")
        #expect(info[0].elements?[1].int == -3)
        #expect(info[1] == .null)
        #expect(info[2].elements?[1].int == 2)
        let list = n.run(c, "COMMAND", "LIST")
        #expect(list.contains("$11\r\nclient|list\r\n") && list.contains("$3\r\nset\r\n"))
        let re = n.run(c, "COMMAND", "LIST", "FILTERBY", "PATTERN", "config|*re*")
        #expect(re.contains("config|resetstat") && re.contains("config|rewrite") && !re.contains("config|get"))
        #expect(n.run(c, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "non_existing_category") == "*0\r\n")
        #expect(!n.run(c, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash").contains("$3\r\nset\r\n"))
        #expect(n.run(c, "COMMAND", "LIST", "bad").hasPrefix("-ERR syntax error"))
        let keys = (1...260).map { "key\($0)" }
        let union = n.run(c, ["COMMAND", "GETKEYS", "ZUNIONSTORE", "target", "260"] + keys)
        #expect(union.hasPrefix("*261\r\n$6\r\ntarget\r\n$4\r\nkey1\r\n"))
        #expect(n.run(c, "COMMAND", "GETKEYSANDFLAGS", "SET", "k1", "v1") == "*1\r\n*2\r\n$2\r\nk1\r\n*2\r\n+OW\r\n+update\r\n")
        #expect(n.run(c, "COMMAND", "GETKEYSANDFLAGS", "LMOVE", "k1", "k2", "left", "right")
            == "*2\r\n*2\r\n$2\r\nk1\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$2\r\nk2\r\n*2\r\n+RW\r\n+insert\r\n")
        #expect(n.run(c, "COMMAND", "GETKEYS", "MEMORY", "USAGE", "key") == "*1\r\n$3\r\nkey\r\n")
        #expect(n.run(c, "COMMAND", "GETKEYS", "PING", "x") == "-ERR The command has no key arguments\r\n")
        #expect(n.run(c, "COMMAND", "GETKEYS", "GET", "a", "b") == "-ERR Invalid number of arguments specified for command\r\n")
        #expect(n.run(c, "COMMAND", "GETKEYS", "NOPE", "x") == "-ERR Invalid command specified\r\n")
        #expect(n.run(c, "COMMAND", "INFO", "zunionstore").contains("movablekeys"))
        #expect(n.run(c, "CONFIG", "GET") == "-ERR wrong number of arguments for 'config|get' command\r\n")
    }
}

extension TxInProcessNode {
    /// `run` with the arguments as an array.
    @discardableResult
    func run(_ c: Client, _ args: [String]) -> String {
        c.argv = args.map { Bytes($0.utf8) }
        server.processCommand(c)
        if !c.flags.contains(.pendingCommand) { server.commandDone(c) }
        return take(c)
    }
}

/// ACL LOG / DRYRUN, CLIENT NO-EVICT and the DEBUG subcommands of Introspection/Server+Debug.swift.
@Suite(.serialized) struct ACLLogAndDebugTests {
    @Test func aclLogRecordsDeniedCommandsKeysAndAuthFailures() throws {
        let n = try TxInProcessNode()
        let admin = try n.client()
        n.run(admin, "ACL", "SETUSER", "u1", "on", ">p", "~a*", "+get")
        let u = try n.client()
        #expect(n.run(u, "AUTH", "u1", "wrong").hasPrefix("-WRONGPASS"))
        #expect(n.run(u, "AUTH", "u1", "p") == "+OK\r\n")
        #expect(n.run(u, "GET", "b").hasPrefix("-NOPERM"))
        #expect(n.run(u, "GET", "b").hasPrefix("-NOPERM"))
        #expect(n.run(u, "SET", "a", "1").hasPrefix("-NOPERM"))
        admin.out.proto = 3
        let log = try #require(try RESPParser.parse(Bytes(n.run(admin, "ACL", "LOG").utf8))?.value.elements)
        #expect(log.count == 3)
        #expect(log[0].mapValue("reason")?.string == "command")
        #expect(log[0].mapValue("object")?.string == "set")
        #expect(log[1].mapValue("reason")?.string == "key")
        #expect(log[1].mapValue("object")?.string == "b")
        #expect(log[1].mapValue("count")?.int == 2)
        #expect(log[1].mapValue("context")?.string == "toplevel")
        #expect(log[1].mapValue("client-info")?.string?.contains("user=u1") == true)
        #expect(log[2].mapValue("reason")?.string == "auth")
        #expect(log[2].mapValue("object")?.string == "AUTH")
        #expect(log[2].mapValue("username")?.string == "u1")
        #expect(n.run(admin, "ACL", "LOG", "1").hasPrefix("*1\r\n"))
        #expect(n.run(admin, "ACL", "LOG", "RESET") == "+OK\r\n")
        #expect(n.run(admin, "ACL", "LOG") == "*0\r\n")
        n.run(admin, "CONFIG", "SET", "acllog-max-len", "1")
        n.run(u, "SET", "a", "1")
        n.run(u, "GET", "zz")
        #expect(n.run(admin, "ACL", "LOG").hasPrefix("*1\r\n"))
    }

    @Test func aclDryRunAnswersWithoutRunning() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "ACL", "SETUSER", "u1", "on", ">p", "~a*", "+get", "+set")
        #expect(n.run(c, "ACL", "DRYRUN", "u1", "GET", "b") == "$50\r\nThis user has no permissions to access the 'b' key\r\n")
        #expect(n.run(c, "ACL", "DRYRUN", "u1", "LPUSH", "a", "x") == "$55\r\nThis user has no permissions to run the 'lpush' command\r\n")
        #expect(n.run(c, "ACL", "DRYRUN", "u1", "SET", "a", "1") == "+OK\r\n")
        #expect(n.run(c, "GET", "a") == "$-1\r\n")
        #expect(n.run(c, "ACL", "DRYRUN", "nouser", "GET", "a") == "-ERR User 'nouser' not found\r\n")
        #expect(n.run(c, "ACL", "DRYRUN", "u1", "NOPE") == "-ERR Command 'NOPE' not found\r\n")
        #expect(n.run(c, "ACL", "DRYRUN", "u1", "GET") == "-ERR wrong number of arguments for 'get' command\r\n")
    }

    @Test func clientNoEvictShowsInClientInfo() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "CLIENT", "NO-EVICT", "on") == "+OK\r\n")
        #expect(n.run(c, "CLIENT", "INFO").contains(" flags=e "))
        n.run(c, "CLIENT", "NO-EVICT", "off")
        #expect(n.run(c, "CLIENT", "INFO").contains(" flags=N "))
        #expect(n.run(c, "CLIENT", "NO-EVICT", "maybe") == "-ERR syntax error\r\n")
    }

    @Test func debugErrorDigestAndChangeReplID() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "DEBUG", "ERROR", "LOADING fake") == "-LOADING fake\r\n")
        #expect(n.run(c, "DEBUG", "DIGEST") == "+" + String(repeating: "0", count: 40) + "\r\n")
        n.run(c, "SADD", "s", "a", "b", "c")
        n.run(c, "SET", "k", "v")
        let d1 = n.run(c, "DEBUG", "DIGEST")
        n.run(c, "DEL", "s")
        n.run(c, "SADD", "s", "c", "b", "a")
        #expect(n.run(c, "DEBUG", "DIGEST") == d1)
        n.run(c, "SET", "k", "w")
        #expect(n.run(c, "DEBUG", "DIGEST") != d1)
        #expect(n.run(c, "DEBUG", "DIGEST-VALUE", "k", "nokey").hasSuffix("+" + String(repeating: "0", count: 40) + "\r\n"))
        let before = n.server.replication.replID
        #expect(n.run(c, "DEBUG", "CHANGE-REPL-ID") == "+OK\r\n")
        #expect(n.server.replication.replID != before)
    }
}

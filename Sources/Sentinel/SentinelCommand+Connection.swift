// Connection-level commands of a sentinel: PING, AUTH, HELLO, INFO, ROLE, PUBLISH, the SUBSCRIBE
// family and SHUTDOWN, with redis-sentinel's replies in RESP2 and RESP3.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension SentinelCommandTable {
    static let connectionCommands: [SentinelCommandSpec] = [
        SentinelCommandSpec("ping", -1, [.fast, .okInSubscribe], ["fast", "connection"], group: "connection", since: "1.0.0",
                            "Returns the server's liveliness response.") { s, c, a in try s.ping(c, a) },
        SentinelCommandSpec("auth", -2, [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy], ["fast", "connection"],
                            group: "connection", since: "1.0.0", "Authenticates the connection.",
                            complexity: "O(N) where N is the number of passwords defined for the user") { s, c, a in try s.auth(c, a) },
        SentinelCommandSpec("hello", -1, [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy], ["fast", "connection"],
                            group: "connection", since: "6.0.0", "Handshakes with the Redis server.") { s, c, a in try s.hello(c, a) },
        SentinelCommandSpec("info", -1, [.loading, .stale], ["slow", "dangerous"], group: "server", since: "1.0.0",
                            "Returns information and statistics about the server.") { s, c, a in s.info(c, a) },
        SentinelCommandSpec("role", 1, [.noscript, .loading, .stale, .fast], ["admin", "fast", "dangerous"], group: "server",
                            since: "2.8.12", "Returns the replication role.") { s, c, _ in s.role(c) },
        SentinelCommandSpec("publish", 3, [.pubsub, .loading, .stale, .fast, .mayReplicate], ["pubsub", "fast"], group: "pubsub",
                            since: "2.0.0", "Posts a message to a channel.",
                            complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).") { s, c, a in try s.publishCommand(c, a) },
        SentinelCommandSpec("subscribe", -2, [.pubsub, .noscript, .loading, .stale, .okInSubscribe], ["pubsub", "slow"], group: "pubsub",
                            since: "2.0.0", "Listens for messages published to channels.",
                            complexity: "O(N) where N is the number of channels to subscribe to.") { s, c, a in s.subscription(c, "subscribe", Array(a.dropFirst())) },
        SentinelCommandSpec("psubscribe", -2, [.pubsub, .noscript, .loading, .stale, .okInSubscribe], ["pubsub", "slow"], group: "pubsub",
                            since: "2.0.0", "Listens for messages published to channels that match one or more patterns.",
                            complexity: "O(N) where N is the number of patterns to subscribe to.") { s, c, a in s.subscription(c, "psubscribe", Array(a.dropFirst())) },
        SentinelCommandSpec("unsubscribe", -1, [.pubsub, .noscript, .loading, .stale, .okInSubscribe], ["pubsub", "slow"], group: "pubsub",
                            since: "2.0.0", "Stops listening to messages posted to channels.",
                            complexity: "O(N) where N is the number of channels to unsubscribe.") { s, c, a in s.subscription(c, "unsubscribe", Array(a.dropFirst())) },
        SentinelCommandSpec("punsubscribe", -1, [.pubsub, .noscript, .loading, .stale, .okInSubscribe], ["pubsub", "slow"], group: "pubsub",
                            since: "2.0.0", "Stops listening to messages published to channels that match one or more patterns.",
                            complexity: "O(N) where N is the number of patterns to unsubscribe.") { s, c, a in s.subscription(c, "punsubscribe", Array(a.dropFirst())) },
        SentinelCommandSpec("shutdown", -1, [.admin, .noscript, .loading, .stale, .noMulti, .allowBusy], ["admin", "slow", "dangerous"],
                            group: "server", since: "1.0.0", "Synchronously saves the configuration and shuts down the sentinel.",
                            complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)") { s, c, _ in s.shutdown(c) },
    ]
}

extension SentinelServer {
    func ping(_ c: SentinelClient, _ a: [String]) throws {
        guard a.count <= 2 else { throw CommandError.wrongArity("ping") }
        if c.proto == 2 && c.subscriptionCount > 0 {
            c.conn.output.arrayHeader(2)
            c.conn.output.bulk("pong")
            c.conn.output.bulk(a.count == 2 ? a[1] : "")
        } else if a.count == 2 {
            c.conn.output.bulk(a[1])
        } else {
            c.conn.output.simple("PONG")
        }
    }

    func auth(_ c: SentinelClient, _ a: [String]) throws {
        guard a.count <= 3 else { throw CommandError.syntax }
        let users = sentinel.settings.users
        if a.count == 2 && users.defaultUser.nopass {
            throw CommandError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
        }
        let user = a.count == 3 ? a[1] : "default"
        guard users.authenticate(user: user, pass: a[a.count - 1]) else {
            logAuthFailure(c, user: user)
            throw CommandError.wrongPass
        }
        c.authenticated = true
        c.user = user
        c.conn.output.ok()
    }

    func hello(_ c: SentinelClient, _ a: [String]) throws {
        var proto = 0
        var i = 1
        if a.count >= 2 {
            guard let v = Int(a[1]) else { throw CommandError("ERR Protocol version is not an integer or out of range") }
            guard v == 2 || v == 3 else { throw CommandError("NOPROTO unsupported protocol version") }
            proto = v
            i = 2
        }
        while i < a.count {
            let opt = a[i].lowercased(), more = a.count - 1 - i
            if opt == "auth" && more >= 2 {
                guard sentinel.settings.users.authenticate(user: a[i + 1], pass: a[i + 2]) else {
                    logAuthFailure(c, user: a[i + 1])
                    throw CommandError.wrongPass
                }
                c.authenticated = true
                c.user = a[i + 1]
                i += 3
            } else if opt == "setname" && more >= 1 {
                try setName(c, a[i + 1])
                i += 2
            } else {
                throw CommandError("ERR Syntax error in HELLO option '\(a[i])'")
            }
        }
        guard c.authenticated else {
            throw CommandError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        }
        if proto != 0 { c.proto = proto }
        // A sentinel's HELLO has no `role` field.
        c.mapHeader(6)
        c.conn.output.bulk("server"); c.conn.output.bulk("redis")
        c.conn.output.bulk("version"); c.conn.output.bulk(VigilVersion.redisCompat)
        c.conn.output.bulk("proto"); c.conn.output.integer(c.proto)
        c.conn.output.bulk("id"); c.conn.output.integer(c.id)
        c.conn.output.bulk("mode"); c.conn.output.bulk("sentinel")
        c.conn.output.bulk("modules"); c.conn.output.arrayHeader(0)
    }

    func role(_ c: SentinelClient) {
        c.conn.output.arrayHeader(2)
        c.conn.output.bulk("sentinel")
        c.conn.output.bulks(sentinel.masters.keys.sorted())
    }

    func publishCommand(_ c: SentinelClient, _ a: [String]) throws {
        guard a[1] == Sentinel.helloChannel else {
            throw CommandError("ERR Only HELLO messages are accepted by Sentinel instances.")
        }
        sentinel.processHello(a[2], now: clock.monotonicMillis())
        c.conn.output.integer(1)
    }

    func shutdown(_ c: SentinelClient) {
        sentinel.log.warning("User requested shutdown...")
        sentinel.flushConfig()
        shutdownRequested = true
        c.closeAfterReply = true
    }

    /// INFO [section ...]: server, clients, stats, cpu and sentinel, as redis-sentinel answers.
    func info(_ c: SentinelClient, _ a: [String]) {
        c.conn.output.verbatim(infoText(sections: Array(a.dropFirst()), now: clock.monotonicMillis()))
    }
}

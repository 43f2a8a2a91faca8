// Commands a sentinel answers: PING, AUTH, HELLO, INFO, ROLE, CLIENT, PUBLISH, (P)SUBSCRIBE and the
// SENTINEL family. Replies match redis-sentinel's in RESP2 and RESP3.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension SentinelServer {
    /// Runs one command from `c`.
    func execute(_ c: SentinelClient, _ args: [String]) {
        guard let first = args.first else { return }
        let cmd = first.lowercased()
        if !c.authenticated && cmd != "auth" && cmd != "hello" && cmd != "quit" {
            c.conn.output.error("NOAUTH Authentication required.")
            return
        }
        let subscribedContext = c.proto == 2 && c.subscriptionCount > 0
        if subscribedContext && !["subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ping", "quit", "reset"].contains(cmd) {
            c.conn.output.error("ERR Can't execute '\(cmd)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
            return
        }
        func arity(_ n: Int) -> Bool {
            let ok = n >= 0 ? args.count == n : args.count >= -n
            if !ok { c.conn.output.error("ERR wrong number of arguments for '\(cmd)' command") }
            return ok
        }
        switch cmd {
        case "ping":
            guard args.count <= 2 else { c.conn.output.error("ERR wrong number of arguments for 'ping' command"); return }
            if subscribedContext {
                c.conn.output.arrayHeader(2); c.conn.output.bulk("pong"); c.conn.output.bulk(args.count == 2 ? args[1] : "")
            } else if args.count == 2 { c.conn.output.bulk(args[1]) } else { c.conn.output.simple("PONG") }
        case "auth":
            guard args.count == 2 || args.count == 3 else { _ = arity(2); return }
            if args.count == 2 && !sentinel.settings.authRequired {
                c.conn.output.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
                return
            }
            let user = args.count == 3 ? args[1] : "default"
            if sentinel.settings.authenticate(user: user, pass: args[args.count - 1]) {
                c.authenticated = true; c.user = user; c.conn.output.ok()
            } else { c.conn.output.error("WRONGPASS invalid username-password pair or user is disabled.") }
        case "hello": hello(c, args)
        case "quit":
            c.conn.output.ok(); c.closeAfterReply = true
        case "reset":
            c.channels.removeAll(); c.patterns.removeAll(); c.proto = 2; c.name = ""
            c.authenticated = !sentinel.settings.authRequired
            c.user = "default"
            c.conn.output.simple("RESET")
        case "subscribe", "psubscribe":
            guard arity(-2) else { return }
            subscription(c, cmd, Array(args.dropFirst()))
        case "unsubscribe", "punsubscribe":
            subscription(c, cmd, Array(args.dropFirst()))
        case "publish":
            guard arity(3) else { return }
            guard args[1] == Sentinel.helloChannel else {
                c.conn.output.error("ERR Only HELLO messages are accepted by Sentinel instances.")
                return
            }
            sentinel.processHello(args[2], now: Clock.monotonicMillis())
            c.conn.output.integer(1)
        case "info": info(c, args)
        case "role":
            c.conn.output.arrayHeader(2)
            c.conn.output.bulk("sentinel")
            c.conn.output.bulks(sentinel.masters.keys.sorted())
        case "client": client(c, args)
        case "command":
            if args.count >= 2 && args[1].lowercased() == "docs" { c.conn.output.mapHeader(0) } else { c.conn.output.arrayHeader(0) }
        case "shutdown":
            sentinel.flushConfig()
            sentinel.log.warning("User requested shutdown...")
            shutdownRequested = true
            c.closeAfterReply = true
        case "sentinel":
            guard arity(-2) else { return }
            sentinelCommand(c, args)
        default:
            let rest = args.dropFirst().prefix(20).map { "'\($0)' " }.joined()
            c.conn.output.error("ERR unknown command '\(first)', with args beginning with: \(rest)")
        }
    }

    private func hello(_ c: SentinelClient, _ args: [String]) {
        var proto = c.proto
        var i = 1
        if args.count >= 2 {
            guard let v = Int(args[1]) else { c.conn.output.error("ERR Protocol version is not an integer or out of range"); return }
            guard v == 2 || v == 3 else { c.conn.output.error("NOPROTO unsupported protocol version"); return }
            proto = v
            i = 2
        }
        while i < args.count {
            let opt = args[i].lowercased()
            if opt == "auth" && i + 2 < args.count {
                guard sentinel.settings.authenticate(user: args[i + 1], pass: args[i + 2]) else {
                    c.conn.output.error("WRONGPASS invalid username-password pair or user is disabled.")
                    return
                }
                c.authenticated = true
                c.user = args[i + 1]
                i += 3
            } else if opt == "setname" && i + 1 < args.count {
                c.name = args[i + 1]; i += 2
            } else {
                c.conn.output.error("ERR Syntax error in HELLO option '\(args[i])'")
                return
            }
        }
        guard c.authenticated else {
            c.conn.output.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
            return
        }
        c.proto = proto
        c.conn.output.mapHeader(7)
        c.conn.output.bulk("server"); c.conn.output.bulk("redis")
        c.conn.output.bulk("version"); c.conn.output.bulk(VigilVersion.redisCompat)
        c.conn.output.bulk("proto"); c.conn.output.integer(proto)
        c.conn.output.bulk("id"); c.conn.output.integer(c.id)
        c.conn.output.bulk("mode"); c.conn.output.bulk("sentinel")
        c.conn.output.bulk("role"); c.conn.output.bulk("master")
        c.conn.output.bulk("modules"); c.conn.output.arrayHeader(0)
    }

    private func client(_ c: SentinelClient, _ args: [String]) {
        guard args.count >= 2 else { c.conn.output.error("ERR wrong number of arguments for 'client' command"); return }
        switch args[1].lowercased() {
        case "setname" where args.count == 3: c.name = args[2]; c.conn.output.ok()
        case "getname": if c.name.isEmpty { c.conn.output.null() } else { c.conn.output.bulk(c.name) }
        case "id": c.conn.output.integer(c.id)
        case "setinfo": c.conn.output.ok()
        case "list", "info":
            let list = (args[1].lowercased() == "info" ? [c] : clients.values.sorted { $0.id < $1.id }).map { cl -> String in
                let addr = Socket.peerAddress(cl.conn.fd)?.description ?? "?"
                return "id=\(cl.id) addr=\(addr) fd=\(cl.conn.fd) name=\(cl.name) sub=\(cl.channels.count) psub=\(cl.patterns.count) user=\(cl.user) resp=\(cl.proto)\n"
            }.joined()
            c.conn.output.verbatim(list)
        case "kill":
            c.conn.output.integer(0)
        default:
            c.conn.output.error("ERR unknown subcommand '\(args[1])'. Try CLIENT HELP.")
        }
    }

    // MARK: - INFO

    private func info(_ c: SentinelClient, _ args: [String]) {
        let section = args.count >= 2 ? args[1].lowercased() : "default"
        let all = ["default", "all", "everything"].contains(section)
        var s = ""
        if all || section == "server" {
            s += "# Server\r\nredis_version:\(VigilVersion.redisCompat)\r\nvigil_version:\(VigilVersion.string)\r\nredis_mode:sentinel\r\n"
            s += "os:Linux\r\narch_bits:64\r\nprocess_id:\(getpid())\r\nrun_id:\(sentinel.myID)\r\ntcp_port:\(sentinel.settings.port)\r\n"
            s += "uptime_in_seconds:\((Clock.monotonicMillis() - sentinel.startTime) / 1000)\r\n"
            if let f = sentinel.settings.configFile { s += "config_file:\(f)\r\n" }
            s += "\r\n"
        }
        if all || section == "clients" {
            s += "# Clients\r\nconnected_clients:\(clients.count)\r\n"
            s += "pubsub_clients:\(clients.values.filter { $0.subscriptionCount > 0 }.count)\r\n\r\n"
        }
        if all || section == "sentinel" {
            s += sentinel.infoSection(now: Clock.monotonicMillis())
        }
        if s.hasSuffix("\r\n\r\n") { s.removeLast(2) }
        c.conn.output.verbatim(s)
    }
}

extension Sentinel {
    /// The `# Sentinel` INFO section.
    func infoSection(now: Int64) -> String {
        var s = "# Sentinel\r\nsentinel_masters:\(masters.count)\r\nsentinel_tilt:\(tilt ? 1 : 0)\r\n"
        s += "sentinel_tilt_since_seconds:\(tilt ? (now - tiltStartTime) / 1000 : -1)\r\n"
        s += "sentinel_running_scripts:\(scripts.runningCount)\r\nsentinel_scripts_queue_length:\(scripts.jobs.count)\r\n"
        let sim = (simulateCrashAfterElection ? 1 : 0) | (simulateCrashAfterPromotion ? 2 : 0)
        s += "sentinel_simulate_failure_flags:\(sim)\r\n"
        for (i, m) in masters.values.sorted(by: { $0.name < $1.name }).enumerated() {
            let status = m.flags.contains(.oDown) ? "odown" : m.flags.contains(.sDown) ? "sdown" : "ok"
            s += "master\(i):name=\(m.name),status=\(status),address=\(m.address.ip):\(m.address.port),slaves=\(m.replicas.count),sentinels=\(m.sentinels.count + 1)\r\n"
        }
        return s + "\r\n"
    }
}

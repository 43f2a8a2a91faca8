// CLIENT: connection introspection and control (ID, SETNAME, GETNAME, LIST, INFO, KILL, PAUSE,
// UNPAUSE, UNBLOCK, REPLY, NO-EVICT, SETINFO, HELP). Sentinel sends `CLIENT KILL TYPE normal|pubsub` inside
// MULTI and `CLIENT SETNAME`, so those must behave exactly as Redis's.
import Shared

extension CommandTable {
    /// CLIENT is registered with the introspection family.
    static var clientCommand: CommandSpec {
        CommandSpec("client", -2, [.admin, .noscript, .loading, .stale], ["admin", "slow", "dangerous", "connection"],
                    subcommands: ["id", "setname", "getname", "list", "info", "kill", "pause", "unpause", "reply",
                                  "no-evict", "setinfo", "unblock", "tracking", "caching", "getredir", "trackinginfo", "help"]) { s, c in try s.clientCommand(c) }
    }
}

extension Server {
    func clientCommand(_ c: Client) throws {
        let sub = c.option(1)
        switch sub {
        case "ID":
            guard c.argc == 2 else { throw CommandError.wrongArity("client|id") }
            c.out.integer(c.id)
        case "SETNAME":
            guard c.argc == 3 else { throw CommandError.wrongArity("client|setname") }
            guard Server.validClientName(c.arg(2)) else {
                throw CommandError("ERR Client names cannot contain spaces, newlines or special characters.")
            }
            c.name = c.arg(2)
            c.sentinelID8 = Server.sentinelCommandLinkID(c.name)
            c.out.ok()
        case "GETNAME":
            guard c.argc == 2 else { throw CommandError.wrongArity("client|getname") }
            if c.name.isEmpty { c.out.null() } else { c.out.bulk(c.name) }
        case "INFO":
            guard c.argc == 2 else { throw CommandError.wrongArity("client|info") }
            c.out.verbatim(clientInfoLine(c) + "\n")
        case "LIST":
            try clientList(c)
        case "KILL":
            try clientKill(c)
        case "PAUSE":
            guard c.argc == 3 || c.argc == 4 else { throw CommandError.wrongArity("client|pause") }
            var kind = ClientPause.Kind.all
            if c.argc == 4 {
                switch c.option(3) {
                case "WRITE": kind = .write
                case "ALL": kind = .all
                default: throw CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
                }
            }
            guard let ms = NumberFormat.parseInt(c.arg(2)) else {
                throw CommandError("ERR timeout is not an integer or out of range")
            }
            guard ms >= 0 else { throw CommandError("ERR timeout is negative") }
            // A longer or stronger pause already in force wins, as in Redis.
            let (end, overflow) = clock.monotonicMillis().addingReportingOverflow(ms)
            pauseClients(.clientCommand, kind: kind, until: overflow ? Int64.max : end)
            c.out.ok()
        case "UNBLOCK":
            // CLIENT UNBLOCK id [TIMEOUT|ERROR]: a client blocked on keys or in WAIT answers as
            // on timeout or with -UNBLOCKED; 1 if it was blocked.
            guard c.argc == 3 || c.argc == 4 else { throw CommandError.wrongArity("client|unblock") }
            var asError = false
            if c.argc == 4 {
                switch c.option(3) {
                case "TIMEOUT": asError = false
                case "ERROR": asError = true
                default: throw CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
                }
            }
            let id = try integerArgument(c.arg(2))
            guard let target = clients[Int(truncatingIfNeeded: id)] else { c.out.integer(0); return }
            c.out.integer(unblockOnRequest(target, asError: asError) ? 1 : 0)
        case "UNPAUSE":
            guard c.argc == 2 else { throw CommandError.wrongArity("client|unpause") }
            unpauseClients(.clientCommand)
            c.out.ok()
        case "REPLY":
            guard c.argc == 3 else { throw CommandError.wrongArity("client|reply") }
            switch c.option(2) {
            case "ON": c.flags.remove([.replyOff, .replySkip]); c.out.ok()
            case "OFF": c.flags.insert(.replyOff)
            case "SKIP": if !c.flags.contains(.replyOff) { c.flags.insert(.replySkipNext) }
            default: throw CommandError.syntax
            }
        case "NO-EVICT":
            guard c.argc == 3 else { throw CommandError.wrongArity("client|no-evict") }
            switch c.option(2) {
            case "ON": c.flags.insert(.noEvict)
            case "OFF": c.flags.remove(.noEvict)
            default: throw CommandError.syntax
            }
            c.out.ok()
        case "TRACKING":
            guard c.argc >= 3 else { throw CommandError.wrongArity("client|tracking") }
            try clientTrackingCommand(c)
        case "CACHING":
            guard c.argc == 3 else { throw CommandError.wrongArity("client|caching") }
            try clientCachingCommand(c)
        case "GETREDIR":
            guard c.argc == 2 else { throw CommandError.wrongArity("client|getredir") }
            c.out.integer(trackingRedirectField(c))
        case "TRACKINGINFO":
            guard c.argc == 2 else { throw CommandError.wrongArity("client|trackinginfo") }
            clientTrackingInfoCommand(c)
        case "SETINFO":
            guard c.argc == 4 else { throw CommandError.wrongArity("client|setinfo") }
            let value = c.arg(3)
            guard value.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
                throw CommandError("ERR \(c.arg(2).text) cannot contain spaces, newlines or special characters.")
            }
            switch c.option(2) {
            case "LIB-NAME": c.libName = value.text
            case "LIB-VER": c.libVersion = value.text
            default: throw CommandError("ERR Unrecognized option '\(c.arg(2).text)'")
            }
            c.out.ok()
        case "HELP":
            replyHelp(c, "CLIENT", [
                "CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
                "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
                "GETNAME", "    Return the name of the current connection.",
                "ID", "    Return the ID of the current connection.",
                "INFO", "    Return information about the current client connection.",
                "KILL <ip:port>", "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are:",
                "    * ADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made from the specified address",
                "    * LADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made to specified local address",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Kill connections by type.",
                "    * USER <username>", "      Kill connections authenticated by <username>.",
                "    * SKIPME (YES|NO)", "      Skip killing current connection (default: yes).",
                "    * ID <client-id>", "      Kill connections by client id.",
                "LIST [options ...]", "    Return information about client connections. Options:",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
                "UNPAUSE", "    Stop the current client pause, resuming traffic.",
                "PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
                "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
                "SETNAME <name>", "    Assign the name <name> to the current connection.",
                "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
                "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
                "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]", "         [OPTIN] [OPTOUT] [NOLOOP]",
                "    Control server assisted client side caching.",
                "TRACKINGINFO", "    Report tracking status for the current connection.",
                "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
            ])
        default:
            throw CommandError.unknownSubcommand(c.arg(1), "CLIENT")
        }
    }

    /// The client class names CLIENT LIST/KILL TYPE accept.
    private static func clientType(_ s: String) throws -> String {
        switch s.lowercased() {
        case "normal": return "normal"
        case "master": return "master"
        case "replica", "slave": return "replica"
        case "pubsub": return "pubsub"
        default: throw CommandError("ERR Unknown client type '\(s)'")
        }
    }

    /// A client's class: master link, replica, pub/sub subscriber or normal.
    func clientClass(_ c: Client) -> String {
        if c.flags.contains(.master) { return "master" }
        if c.flags.contains(.replica) && !c.flags.contains(.monitor) { return "replica" }
        if c.flags.contains(.pubsub) { return "pubsub" }
        return "normal"
    }

    private func clientList(_ c: Client) throws {
        var type: String? = nil
        var ids: Set<Int>? = nil
        var i = 2
        while i < c.argc {
            let opt = c.option(i)
            if opt == "TYPE" && i + 1 < c.argc {
                type = try Server.clientType(c.arg(i + 1).text)
                i += 2
            } else if opt == "ID" && i + 1 < c.argc {
                var set: Set<Int> = []
                var j = i + 1
                while j < c.argc {
                    guard let id = NumberFormat.parseInt(c.arg(j)), id > 0 else { throw CommandError("ERR Invalid client ID") }
                    set.insert(Int(id))
                    j += 1
                }
                ids = set
                i = j
            } else {
                throw CommandError.syntax
            }
        }
        var text = ""
        for cl in clients.values.sorted(by: { $0.id < $1.id }) {
            if let type, clientClass(cl) != type { continue }
            if let ids, !ids.contains(cl.id) { continue }
            text += clientInfoLine(cl) + "\n"
        }
        c.out.verbatim(text)
    }

    /// One CLIENT LIST line, in Redis 7.0's field order.
    func clientInfoLine(_ c: Client) -> String {
        let now = clock.monotonicMillis()
        var flags = ""
        if c.flags.contains(.replica) { flags += c.flags.contains(.monitor) ? "O" : "S" }
        if c.flags.contains(.master) { flags += "M" }
        if c.flags.contains(.pubsub) { flags += "P" }
        if c.flags.contains(.multi) { flags += "x" }
        if c.flags.contains(.blocked) { flags += "b" }
        if c.flags.contains(.tracking) { flags += "t" }
        if c.tracking.contains(.brokenRedirect) { flags += "R" }
        if c.tracking.contains(.bcast) { flags += "B" }
        if c.flags.contains(.dirtyCAS) { flags += "d" }
        if c.flags.contains(.closeAfterReply) { flags += "c" }
        if c.flags.contains(.closeASAP) { flags += "A" }
        if c.flags.contains(.noEvict) { flags += "e" }
        if c.flags.contains(.monitor) && !c.flags.contains(.replica) { flags += "O" }
        if flags.isEmpty { flags = "N" }
        let cmd = c.argv.isEmpty ? c.lastCommand : currentCommandName(c)
        // Redis keeps the running command in the query buffer until it finished: count it too.
        let qbuf = c.pendingInput + c.querySize
        let omem = c.pendingOutput
        return "id=\(c.id) addr=\(c.addr) laddr=\(c.laddr) fd=\(c.fd) name=\(c.name.text) "
            + "age=\((now - c.createdAt) / 1000) idle=\((now - c.lastInteraction) / 1000) flags=\(flags) db=\(c.db.id) "
            + "sub=\(c.subscriptions.channels.count) psub=\(c.subscriptions.patterns.count) ssub=\(c.subscriptions.shardChannels.count) multi=\(c.flags.contains(.multi) ? c.multiQueue.count : -1) "
            + "qbuf=\(qbuf) qbuf-free=\(max(0, (c.conn?.input.capacity ?? 0) - (c.conn?.input.count ?? 0))) argv-mem=\(c.argv.reduce(0) { $0 + $1.count }) "
            + "multi-mem=0 rbs=\(max(1024, c.out.bytes.capacity)) rbp=\(c.out.count) obl=0 oll=0 omem=\(omem) "
            + "tot-mem=\(qbuf + omem + 1024) events=r cmd=\(cmd) user=\(c.user?.name ?? "default") redir=\(trackingRedirectField(c)) resp=\(c.proto)"
    }

    /// `client|list` style name of the command the client is running.
    private func currentCommandName(_ c: Client) -> String {
        let name = c.argv[0].text.lowercased()
        if let spec = commandTable[name], !spec.subcommands.isEmpty, c.argc > 1 {
            let sub = c.arg(1).text.lowercased()
            if spec.subcommands.contains(sub) { return name + "|" + sub }
        }
        return name
    }

    private func clientKill(_ c: Client) throws {
        if c.argc == 3 {
            // Old form: CLIENT KILL ip:port.
            let addr = c.arg(2).text
            guard let victim = clients.values.first(where: { $0.addr == addr }) else {
                throw CommandError("ERR No such client")
            }
            kill(victim, current: c)
            c.out.ok()
            return
        }
        guard c.argc >= 4, c.argc % 2 == 0 else { throw CommandError.syntax }
        var id: Int? = nil, addr: String? = nil, laddr: String? = nil, type: String? = nil, user: String? = nil
        var skipMe = true
        var i = 2
        while i < c.argc {
            let value = c.arg(i + 1).text
            switch c.option(i) {
            case "ID":
                guard let v = NumberFormat.parseInt(c.arg(i + 1)), v > 0 else {
                    throw CommandError("ERR client-id should be greater than 0")
                }
                id = Int(v)
            case "ADDR": addr = value
            case "LADDR": laddr = value
            case "TYPE": type = try Server.clientType(value)
            case "USER":
                guard acl.users[value] != nil else { throw CommandError("ERR No such user '\(value)'") }
                user = value
            case "SKIPME":
                switch value.lowercased() {
                case "yes": skipMe = true
                case "no": skipMe = false
                default: throw CommandError.syntax
                }
            default: throw CommandError.syntax
            }
            i += 2
        }
        var killed = 0
        for victim in clients.values.sorted(by: { $0.id < $1.id }) {
            if let id, victim.id != id { continue }
            if let addr, victim.addr != addr { continue }
            if let laddr, victim.laddr != laddr { continue }
            if let type, clientClass(victim) != type { continue }
            if let user, victim.user?.name != user { continue }
            if skipMe && victim === c { continue }
            kill(victim, current: c)
            killed += 1
        }
        c.out.integer(killed)
    }

    /// Closes a client: the current one after its reply, others at once (before-sleep).
    private func kill(_ victim: Client, current: Client) {
        if victim === current { closeAfterReply(victim) } else { closeASAP(victim) }
    }
}

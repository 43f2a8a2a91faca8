// CLIENT on a sentinel: names, ids, CLIENT LIST / INFO with redis-sentinel's fields (the Prometheus
// exporter parses them), and CLIENT KILL with both its old and filter forms.
import Shared

extension SentinelCommandTable {
    private static func sub(_ name: String, _ arity: Int, _ flags: CommandFlags, since: String, _ summary: String,
                            complexity: String = "O(1)", _ h: @escaping SentinelHandler) -> SentinelCommandSpec {
        SentinelCommandSpec(name, arity, flags.union([.noscript, .loading, .stale]), ["slow", "connection"], group: "connection",
                            since: since, summary, complexity: complexity, h)
    }

    static let clientCommand = SentinelCommandSpec(
        "client", -2, [], ["slow"], group: "connection", since: "2.4.0", "A container for client connection commands.",
        complexity: "Depends on subcommand.", subcommands: [
            sub("getname", 2, [], since: "2.6.9", "Returns the name of the connection.") { _, c, _ in
                if c.name.isEmpty { c.conn.output.null() } else { c.conn.output.bulk(c.name) }
            },
            sub("setname", 3, [], since: "2.6.9", "Sets the connection name.") { s, c, a in
                try s.setName(c, a[2])
                c.conn.output.ok()
            },
            sub("setinfo", 4, [], since: "7.2.0", "Sets information specific to the client or connection.") { s, c, a in
                try s.setInfo(c, a[2], a[3])
                c.conn.output.ok()
            },
            sub("id", 2, [], since: "5.0.0", "Returns the unique client ID of the connection.") { _, c, _ in
                c.conn.output.integer(c.id)
            },
            sub("info", 2, [], since: "6.2.0", "Returns information about the connection.") { s, c, _ in
                c.conn.output.verbatim(s.clientInfoLine(c, now: s.clock.monotonicMillis()) + "\n")
            },
            sub("list", -2, [.admin], since: "2.4.0", "Lists open connections.", complexity: "O(N) where N is the number of client connections") { s, c, a in
                try s.clientList(c, a)
            },
            sub("kill", -3, [.admin], since: "2.4.0", "Terminates open connections.", complexity: "O(N) where N is the number of client connections") { s, c, a in
                try s.clientKill(c, a)
            },
            sub("reply", 3, [], since: "3.2.0", "Instructs the server whether to reply to commands.") { _, c, a in
                switch a[2].lowercased() {
                case "on": c.replyMode = .on; c.conn.output.ok()
                case "off": c.replyMode = .off
                case "skip": if c.replyMode == .on { c.replyMode = .skipNext }
                default: throw CommandError.syntax
                }
            },
            sub("no-evict", 3, [.admin], since: "7.0.0", "Sets the client eviction mode of the connection.") { _, c, a in
                switch a[2].lowercased() {
                case "on": c.noEvict = true
                case "off": c.noEvict = false
                default: throw CommandError.syntax
                }
                c.conn.output.ok()
            },
            sub("pause", -3, [.admin], since: "3.0.0", "Suspends commands processing.") { s, c, a in
                guard let ms = Int64(a[2]), ms >= 0 else { throw CommandError("ERR timeout is not an integer or out of range") }
                var all = true
                if a.count == 4 {
                    switch a[3].lowercased() {
                    case "write": all = false
                    case "all": all = true
                    default: throw CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
                    }
                } else if a.count > 4 { throw CommandError.syntax }
                s.pause(millis: ms, all: all)
                c.conn.output.ok()
            },
            sub("unpause", 2, [.admin], since: "6.2.0", "Resumes processing commands from paused clients.") { s, c, _ in
                s.unpause()
                c.conn.output.ok()
            },
            sub("unblock", -3, [.admin], since: "5.0.0", "Unblocks a client blocked by a blocking command from a different connection.",
                complexity: "O(log N) where N is the number of client connections") { _, c, a in
                guard Int(a[2]) != nil else { throw CommandError.notInteger }
                if a.count == 4 && !["timeout", "error"].contains(a[3].lowercased()) {
                    throw CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
                }
                // No command of a sentinel blocks.
                c.conn.output.integer(0)
            },
            sub("tracking", -3, [], since: "6.0.0", "Controls server-assisted client-side caching for the connection.",
                complexity: "O(1). Some options may introduce additional complexity.") { s, c, a in
                try s.tracking(c, a)
            },
            sub("caching", 3, [], since: "6.0.0", "Instructs the server whether to track the keys in the next request.") { _, c, a in
                let yes = a[2].lowercased() == "yes"
                guard yes || a[2].lowercased() == "no" else { throw CommandError.syntax }
                guard var t = c.tracking, t.optIn || t.optOut else {
                    throw CommandError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
                }
                if yes && !t.optIn { throw CommandError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.") }
                if !yes && !t.optOut { throw CommandError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.") }
                t.caching = yes
                c.tracking = t
                c.conn.output.ok()
            },
            sub("getredir", 2, [], since: "6.0.0", "Returns the client ID to which the connection's tracking notifications are redirected.") { _, c, _ in
                c.conn.output.integer(c.tracking.map { $0.redirect } ?? -1)
            },
            sub("trackinginfo", 2, [], since: "6.2.0", "Returns information about server-assisted client-side caching for the connection.") { _, c, _ in
                c.mapHeader(3)
                c.conn.output.bulk("flags")
                if let t = c.tracking {
                    var f = ["on"]
                    if t.bcast { f.append("bcast") }
                    if t.optIn { f.append("optin") }
                    if t.optOut { f.append("optout") }
                    if let caching = t.caching { f.append(caching ? "caching-yes" : "caching-no") }
                    if t.noLoop { f.append("noloop") }
                    c.conn.output.setHeader(f.count)
                    for x in f { c.conn.output.bulk(x) }
                } else {
                    c.conn.output.setHeader(1); c.conn.output.bulk("off")
                }
                c.conn.output.bulk("redirect"); c.conn.output.integer(c.tracking.map { $0.redirect } ?? -1)
                c.conn.output.bulk("prefixes"); c.conn.output.bulks(c.tracking?.prefixes ?? [])
            },
            sub("help", 2, [], since: "5.0.0", "Returns helpful text about the different subcommands.") { _, c, _ in
                c.replyHelp("CLIENT", [
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
                    "    * MAXAGE <maxage>", "      Kill connections older than the specified age.",
                    "LIST [options ...]", "    Return information about client connections. Options:",
                    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
                    "SETNAME <name>", "    Assign the name <name> to the current connection.",
                    "SETINFO <option> <value>", "    Set client meta attr. Options are:",
                    "    * LIB-NAME: the client lib name.", "    * LIB-VER: the client lib version.",
                ])
            },
        ])
}

extension SentinelServer {
    /// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]. A
    /// sentinel has no keys, so a tracking client is never sent an invalidation.
    func tracking(_ c: SentinelClient, _ a: [String]) throws {
        let on: Bool
        switch a[2].lowercased() {
        case "on": on = true
        case "off": on = false
        default: throw CommandError.syntax
        }
        var t = TrackingMode()
        var i = 3
        while i < a.count {
            switch a[i].lowercased() {
            case "redirect" where i + 1 < a.count:
                guard let id = Int(a[i + 1]) else { throw CommandError.notInteger }
                guard id == c.id || clients[id] != nil else {
                    throw CommandError("ERR The client ID you want redirect to does not exist")
                }
                t.redirect = id
                i += 1
            case "prefix" where i + 1 < a.count:
                t.prefixes.append(a[i + 1])
                i += 1
            case "bcast": t.bcast = true
            case "optin": t.optIn = true
            case "optout": t.optOut = true
            case "noloop": t.noLoop = true
            default: throw CommandError.syntax
            }
            i += 1
        }
        if t.optIn && t.optOut { throw CommandError("ERR You can't use both OPTIN and OPTOUT") }
        if !t.prefixes.isEmpty && !t.bcast { throw CommandError("ERR PREFIX option requires BCAST mode to be enabled") }
        c.tracking = on ? t : nil
        c.conn.output.ok()
    }

    /// CLIENT SETNAME / HELLO SETNAME: no spaces or newlines, as Redis checks.
    func setName(_ c: SentinelClient, _ name: String) throws {
        guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw CommandError("ERR Client names cannot contain spaces, newlines or special characters.")
        }
        c.name = name
    }

    /// CLIENT SETINFO LIB-NAME|LIB-VER <value>.
    func setInfo(_ c: SentinelClient, _ attr: String, _ value: String) throws {
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) || value.isEmpty else {
            throw CommandError("ERR \(attr) cannot contain spaces, newlines or special characters.")
        }
        switch attr.lowercased() {
        case "lib-name": c.libName = value
        case "lib-ver": c.libVersion = value
        default: throw CommandError("ERR Unrecognized option '\(attr)'")
        }
    }

    /// One CLIENT LIST line, with redis-sentinel 7.0's fields in its order.
    func clientInfoLine(_ cl: SentinelClient, now: Int64) -> String {
        let conn = cl.conn
        let qbuf = conn.pendingInput
        let qfree = max(0, conn.input.capacity - conn.input.count)
        let omem = conn.pendingOutput
        let rbs = max(1024, conn.output.bytes.capacity)
        let totMem = conn.input.capacity + rbs + 2048
        var flags = cl.subscriptionCount > 0 ? "P" : ""
        if cl.tracking != nil { flags += "t" }
        if cl.noEvict { flags += "e" }
        if flags.isEmpty { flags = "N" }
        let events = omem > 0 ? "rw" : "r"
        return "id=\(cl.id) addr=\(cl.addr) laddr=\(cl.laddr) fd=\(conn.fd) name=\(cl.name) age=\((now - cl.createdAt) / 1000) "
            + "idle=\((now - cl.lastInteraction) / 1000) flags=\(flags) db=0 sub=\(cl.subscriptions.channels.count) psub=\(cl.subscriptions.patterns.count) ssub=0 "
            + "multi=-1 qbuf=\(qbuf) qbuf-free=\(qfree) argv-mem=0 multi-mem=0 rbs=\(rbs) rbp=\(rbs) obl=\(omem) oll=0 omem=\(omem) "
            + "tot-mem=\(totMem) events=\(events) cmd=\(cl.lastCommand) user=\(cl.user) redir=\(cl.tracking.map { $0.redirect } ?? -1) resp=\(cl.proto)"
    }

    /// The client type CLIENT LIST/KILL TYPE filter on: sentinel clients are normal or pubsub.
    private func type(of cl: SentinelClient) -> String { cl.subscriptionCount > 0 ? "pubsub" : "normal" }

    private func checkType(_ t: String) throws -> String {
        let lower = t.lowercased()
        switch lower {
        case "normal", "pubsub", "master": return lower
        case "replica", "slave": return "replica"
        default: throw CommandError("ERR Unknown client type '\(t)'")
        }
    }

    func clientList(_ c: SentinelClient, _ a: [String]) throws {
        var list = clients.values.sorted { $0.id < $1.id }
        if a.count > 2 {
            switch a[2].lowercased() {
            case "type" where a.count == 4:
                let t = try checkType(a[3])
                list = list.filter { type(of: $0) == t }
            case "id" where a.count >= 4:
                var ids: Set<Int> = []
                for x in a[3...] {
                    guard let id = Int(x), id > 0 else { throw CommandError("ERR Invalid client ID") }
                    ids.insert(id)
                }
                list = list.filter { ids.contains($0.id) }
            default:
                throw CommandError.syntax
            }
        }
        let now = clock.monotonicMillis()
        c.conn.output.verbatim(list.map { clientInfoLine($0, now: now) + "\n" }.joined())
    }

    /// CLIENT KILL ip:port (old form: +OK or an error) or CLIENT KILL <filter> <value> ... (the
    /// number killed). The caller, when killed, is closed after its reply.
    func clientKill(_ c: SentinelClient, _ a: [String]) throws {
        var id: Int?, addr: String?, laddr: String?, type: String?, user: String?, maxAge: Int64?
        var skipMe = true
        if a.count == 3 {
            addr = a[2]
            skipMe = false
        } else {
            guard a.count % 2 == 0 else { throw CommandError.syntax }
            var i = 2
            while i + 1 < a.count {
                let v = a[i + 1]
                switch a[i].lowercased() {
                case "id":
                    guard let n = Int(v), n > 0 else { throw CommandError("ERR client-id should be greater than 0") }
                    id = n
                case "type": type = try checkType(v)
                case "addr": addr = v
                case "laddr": laddr = v
                case "user":
                    guard sentinel.settings.users[v] != nil else { throw CommandError("ERR No such user '\(v)'") }
                    user = v
                case "skipme":
                    switch v.lowercased() {
                    case "yes": skipMe = true
                    case "no": skipMe = false
                    default: throw CommandError.syntax
                    }
                case "maxage":
                    guard let n = Int64(v) else { throw CommandError.syntax }
                    maxAge = n
                default: throw CommandError.syntax
                }
                i += 2
            }
        }
        let now = clock.monotonicMillis()
        var killed = 0
        for cl in clients.values.sorted(by: { $0.id < $1.id }) {
            if let id, cl.id != id { continue }
            if let addr, cl.addr != addr { continue }
            if let laddr, cl.laddr != laddr { continue }
            if let type, self.type(of: cl) != type { continue }
            if let user, cl.user != user { continue }
            if let maxAge, (now - cl.createdAt) / 1000 < maxAge { continue }
            if cl === c && skipMe { continue }
            killed += 1
            if cl === c { c.closeAfterReply = true } else { pendingKills.append(cl) }
        }
        if a.count == 3 {
            guard killed > 0 else { throw CommandError("ERR No such client") }
            c.conn.output.ok()
        } else {
            c.conn.output.integer(killed)
        }
    }
}

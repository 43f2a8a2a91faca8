// Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET.
import Shared

extension CommandTable {
    static var connection: [CommandSpec] {
        [
            CommandSpec("ping", -1, [.fast, .okInSubscribe], ["fast", "connection"]) { s, c in try s.pingCommand(c) },
            CommandSpec("echo", 2, [.fast, .loading, .stale], ["fast", "connection"]) { s, c in c.out.bulk(c.arg(1)) },
            CommandSpec("quit", -1, [.noAuth, .allowBusy, .stale, .txControl, .okInSubscribe, .loading], ["fast", "connection"]) { s, c in
                c.out.ok(); c.flags.insert(.closeAfterReply)
            },
            CommandSpec("select", 2, [.fast, .loading, .stale], ["fast", "connection"]) { s, c in try s.selectCommand(c) },
            CommandSpec("auth", -2, [.noAuth, .allowBusy, .noscript, .loading, .stale, .fast, .skipMonitor], ["fast", "connection"]) { s, c in try s.authCommand(c) },
            CommandSpec("hello", -1, [.noAuth, .allowBusy, .noscript, .loading, .stale, .fast, .skipMonitor], ["fast", "connection"]) { s, c in try s.helloCommand(c) },
            CommandSpec("reset", 1, [.noAuth, .allowBusy, .noscript, .loading, .stale, .fast, .txControl, .okInSubscribe], ["fast", "connection"]) { s, c in s.resetCommand(c) },
        ]
    }
}

extension Server {
    func pingCommand(_ c: Client) throws {
        guard c.argc <= 2 else { throw CommandError.wrongArity("ping") }
        // Redis refuses PING as it refuses writes when the data cannot be persisted, so that a
        // sentinel sees such a master as down (its own master's PINGs are obeyed).
        if !c.flags.contains(.master), let refusal = writeRefusal(), refusal.hasPrefix("MISCONF") {
            throw CommandError(refusal)
        }
        if c.flags.contains(.pubsub) && c.proto == 2 {
            c.out.arrayHeader(2)
            c.out.bulk("pong")
            c.out.bulk(c.argc == 2 ? c.arg(1) : [])
        } else if c.argc == 2 {
            c.out.bulk(c.arg(1))
        } else {
            c.out.raw("+PONG\r\n")
        }
    }

    func selectCommand(_ c: Client) throws {
        guard let n = NumberFormat.parseInt(c.arg(1)), n <= Int64(Int32.max), n >= Int64(Int32.min) else {
            throw CommandError("ERR value is not an integer or out of range")
        }
        guard n >= 0 && Int(n) < databases.count else { throw CommandError.dbIndexOutOfRange }
        c.db = databases[Int(n)]
        c.out.ok()
    }

    /// Checks credentials; on success binds the client to the user.
    func authenticate(_ c: Client, user: String, pass: Bytes) -> Bool {
        guard let u = acl.users[user], u.enabled, u.checkPassword(pass) else {
            addACLLog(c, reason: "auth", object: "AUTH", username: user)
            return false
        }
        c.user = u
        c.authenticated = true
        c.parser.authenticated = true
        return true
    }

    func authCommand(_ c: Client) throws {
        for i in 1..<c.argc { c.redact(i) }
        guard c.argc <= 3 else { throw CommandError.syntax }
        if c.argc == 2 {
            // The one-argument form is for requirepass (the default user).
            if !acl.defaultUserRequiresAuth || acl.defaultUser.nopass {
                throw CommandError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
            }
            guard authenticate(c, user: "default", pass: c.arg(1)) else {
                log.verbose("AUTH failed for user default from \(c.addr)")
                throw CommandError.wrongPass
            }
        } else {
            guard authenticate(c, user: c.arg(1).text, pass: c.arg(2)) else { throw CommandError.wrongPass }
        }
        c.out.ok()
    }

    func helloCommand(_ c: Client) throws {
        var proto = c.proto
        var i = 1
        if c.argc >= 2 {
            guard let v = NumberFormat.parseInt(c.arg(1)) else {
                throw CommandError("ERR Protocol version is not an integer or out of range")
            }
            guard v == 2 || v == 3 else { throw CommandError("NOPROTO unsupported protocol version") }
            proto = Int(v)
            i = 2
        }
        var setName: Bytes? = nil
        while i < c.argc {
            let opt = c.option(i)
            let more = c.argc - i - 1
            if opt == "AUTH" && more >= 2 {
                c.redact(i + 1)
                c.redact(i + 2)
                guard authenticate(c, user: c.arg(i + 1).text, pass: c.arg(i + 2)) else { throw CommandError.wrongPass }
                i += 3
            } else if opt == "SETNAME" && more >= 1 {
                setName = c.arg(i + 1)
                i += 2
            } else {
                throw CommandError("ERR Syntax error in HELLO option '\(c.arg(i).text)'")
            }
        }
        if !c.authenticated { throw CommandError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time") }
        if let n = setName {
            guard Server.validClientName(n) else { throw CommandError("ERR Client names cannot contain spaces, newlines or special characters.") }
            c.name = n
        }
        c.out.proto = proto
        c.out.mapHeader(7)
        c.out.bulk("server"); c.out.bulk("redis")
        c.out.bulk("version"); c.out.bulk(VigilVersion.redisCompat)
        c.out.bulk("proto"); c.out.integer(proto)
        c.out.bulk("id"); c.out.integer(c.id)
        c.out.bulk("mode"); c.out.bulk("standalone")
        c.out.bulk("role"); c.out.bulk(isReplica ? "replica" : "master")
        c.out.bulk("modules"); c.out.arrayHeader(0)
    }

    /// Names may not contain spaces, newlines or other characters outside '!'..'~'.
    static func validClientName(_ n: Bytes) -> Bool { n.allSatisfy { $0 >= 0x21 && $0 <= 0x7E } }

    func resetCommand(_ c: Client) {
        discardTransaction(c)
        c.flags.remove([.replyOff, .replySkip, .replySkipNext])
        pubsub.unsubscribeAll(c)
        c.flags.remove(.pubsub)
        if c.flags.contains(.monitor) { monitors.removeAll { $0 === c }; c.flags.remove(.monitor) }
        // Redis's clearClientConnectionState also ends client-side caching.
        if c.flags.contains(.tracking) { disableTracking(c) }
        c.db = databases[0]
        c.out.proto = 2
        c.name = []
        if acl.defaultUserRequiresAuth {
            c.authenticated = false
            c.parser.authenticated = false
            c.user = nil
        } else {
            c.user = acl.defaultUser
        }
        c.out.simple("RESET")
    }
}

// ACL on a sentinel: users are created, changed, listed and deleted as in Redis (the Redis suite
// turns the default user off and authenticates peers with sentinel-user/sentinel-pass); deleting a
// user disconnects its clients. Permission rules are recorded, not enforced (see SentinelUsers).
import Shared

extension SentinelCommandTable {
    private static func sub(_ name: String, _ arity: Int, _ flags: CommandFlags, since: String, _ summary: String,
                            complexity: String = "O(1)", _ h: @escaping SentinelHandler) -> SentinelCommandSpec {
        SentinelCommandSpec(name, arity, flags.union([.noscript, .loading, .stale]), ["slow"], group: "server", since: since,
                            summary, complexity: complexity, h)
    }

    /// Redis 7.0's ACL categories (ACL CAT).
    static let aclCategories = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog",
                                "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
                                "transaction", "scripting"]

    static let aclCommand = SentinelCommandSpec(
        "acl", -2, [], ["slow"], group: "server", since: "6.0.0", "A container for Access List Control commands.",
        complexity: "Depends on subcommand.", subcommands: [
            sub("setuser", -3, [.admin], since: "6.0.0", "Creates and modifies an ACL user and its rules.",
                complexity: "O(N). Where N is the number of rules provided.") { s, c, a in
                if let bad = s.sentinel.settings.users.setUser(a[2], Array(a[3...])) {
                    throw CommandError("ERR Error in ACL SETUSER modifier '\(bad)': Syntax error")
                }
                c.conn.output.ok()
            },
            sub("deluser", -3, [.admin], since: "6.0.0", "Deletes ACL users, and terminates their connections.") { s, c, a in
                let names = Array(a[2...])
                if names.contains("default") { throw CommandError("ERR The 'default' user cannot be removed") }
                let existing = Set(names.filter { s.sentinel.settings.users[$0] != nil })
                let n = s.sentinel.settings.users.delete(names)
                for cl in s.clients.values where existing.contains(cl.user) {
                    if cl === c { c.closeAfterReply = true } else { s.pendingKills.append(cl) }
                }
                c.conn.output.integer(n)
            },
            sub("getuser", 3, [.admin], since: "6.0.0", "Lists the ACL rules of a user.",
                complexity: "O(N). Where N is the number of password, command and pattern rules that the user has.") { s, c, a in
                guard let u = s.sentinel.settings.users[a[2]] else { c.conn.output.null(); return }
                c.mapHeader(6)
                var flags = [u.enabled ? "on" : "off"]
                if u.nopass { flags.append("nopass") }
                c.conn.output.bulk("flags"); c.conn.output.bulks(flags)
                c.conn.output.bulk("passwords"); c.conn.output.bulks(u.hashes)
                c.conn.output.bulk("commands"); c.conn.output.bulk(u.commandRules.isEmpty ? "-@all" : u.commandRules.joined(separator: " "))
                c.conn.output.bulk("keys"); c.conn.output.bulk(u.allKeys ? "~*" : u.keyPatterns.joined(separator: " "))
                c.conn.output.bulk("channels"); c.conn.output.bulk(u.allChannels ? "&*" : u.channelPatterns.joined(separator: " "))
                c.conn.output.bulk("selectors"); c.conn.output.arrayHeader(0)
            },
            sub("list", 2, [.admin], since: "6.0.0", "Dumps the effective rules in ACL file format.",
                complexity: "O(N). Where N is the number of configured users.") { s, c, _ in
                let users = s.sentinel.settings.users
                c.conn.output.bulks(users.names.compactMap { n in users[n].map { "user \(n) \($0.ruleText)" } })
            },
            sub("users", 2, [.admin], since: "6.0.0", "Lists all ACL users.",
                complexity: "O(N). Where N is the number of configured users.") { s, c, _ in
                c.conn.output.bulks(s.sentinel.settings.users.names)
            },
            sub("whoami", 2, [], since: "6.0.0", "Returns the authenticated username of the current connection.") { _, c, _ in
                c.conn.output.bulk(c.user)
            },
            sub("cat", -2, [], since: "6.0.0", "Lists the ACL categories, or the commands inside a category.") { _, c, a in
                guard a.count <= 3 else { throw CommandError.wrongArity("acl|cat") }
                if a.count == 2 { c.conn.output.bulks(SentinelCommandTable.aclCategories); return }
                let cat = a[2].lowercased()
                guard SentinelCommandTable.aclCategories.contains(cat) else {
                    throw CommandError("ERR Unknown category '\(a[2])'")
                }
                c.conn.output.bulks(SentinelCommandTable.allNames.filter { SentinelCommandTable.lookup(fullName: $0)?.categories.contains(cat) ?? false })
            },
            sub("genpass", -2, [], since: "6.0.0", "Generates a pseudorandom, secure password that can be used to identify ACL users.") { _, c, a in
                var bits = 256
                if a.count == 3 {
                    guard let b = Int(a[2]), b > 0, b <= 4096 else {
                        throw CommandError("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
                    }
                    bits = b
                }
                let hex = (RunID.make() + RunID.make() + RunID.make() + RunID.make())
                var out = ""
                while out.count * 4 < bits { out += hex }
                c.conn.output.bulk(String(out.prefix((bits + 3) / 4)))
            },
            sub("log", -2, [.admin], since: "6.0.0", "Lists recent security events generated due to ACL rules.",
                complexity: "O(N) with N being the number of entries shown.") { s, c, a in
                guard a.count <= 3 else { throw CommandError.syntax }
                if a.count == 3 && a[2].lowercased() == "reset" { s.aclLog = []; c.conn.output.ok(); return }
                var count = 10
                if a.count == 3 {
                    guard let n = Int(a[2]), n >= 0 else { throw CommandError("ERR value is out of range, must be positive") }
                    count = n
                }
                let now = s.clock.wallMillis()
                let shown = s.aclLog.prefix(count)
                c.conn.output.arrayHeader(shown.count)
                for e in shown {
                    c.mapHeader(7)
                    c.conn.output.bulk("count"); c.conn.output.integer(e.count)
                    c.conn.output.bulk("reason"); c.conn.output.bulk(e.reason)
                    c.conn.output.bulk("context"); c.conn.output.bulk("toplevel")
                    c.conn.output.bulk("object"); c.conn.output.bulk(e.object)
                    c.conn.output.bulk("username"); c.conn.output.bulk(e.username)
                    c.conn.output.bulk("age-seconds"); c.conn.output.double(Double(now - e.time) / 1000)
                    c.conn.output.bulk("client-info"); c.conn.output.bulk(e.clientInfo)
                }
            },
            sub("dryrun", -4, [.admin], since: "7.0.0", "Simulates the execution of a command by a user, without executing the command.") { s, c, a in
                guard s.sentinel.settings.users[a[2]] != nil else { throw CommandError("ERR User '\(a[2])' not found") }
                guard SentinelCommandTable.commands[a[3].lowercased()] != nil else { throw CommandError("ERR Command '\(a[3])' not found") }
                c.conn.output.ok()
            },
            sub("save", 2, [.admin], since: "6.0.0", "Saves the effective ACL rules in the configured ACL file.") { _, _, _ in
                throw CommandError(SentinelCommandTable.noACLFile)
            },
            sub("load", 2, [.admin], since: "6.0.0", "Reloads the rules from the configured ACL file.") { _, _, _ in
                throw CommandError(SentinelCommandTable.noACLFile)
            },
            sub("help", 2, [], since: "6.0.0", "Returns helpful text about the different subcommands.") { _, c, _ in
                c.replyHelp("ACL", [
                    "CAT [<category>]", "    List all commands that belong to <category>, or all command categories",
                    "    when no category is specified.",
                    "DELUSER <username> [<username> ...]", "    Delete a list of users.",
                    "DRYRUN <username> <command> [<arg> ...]", "    Returns whether the user can execute the given command without executing the command.",
                    "GETUSER <username>", "    Get the user's details.",
                    "GENPASS [<bits>]", "    Generate a secure 256-bit user password. The optional `bits` argument can",
                    "    be used to specify a different size.",
                    "LIST", "    Show users details in config file format.",
                    "LOAD", "    Reload users from the ACL file.",
                    "LOG [<count> | RESET]", "    Show the ACL log entries.",
                    "SAVE", "    Save the current config to the ACL file.",
                    "SETUSER <username> <attribute> [<attribute> ...]", "    Create or modify a user with the specified attributes.",
                    "USERS", "    List all the registered usernames.",
                    "WHOAMI", "    Return the current connection username.",
                ])
            },
        ])

    static let noACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."
}

/// One ACL LOG entry: failed authentications, grouped as Redis groups them.
struct ACLLogEntry: Sendable {
    var count = 1
    let reason: String
    let object: String
    let username: String
    /// Wall-clock ms of the latest occurrence.
    var time: Int64
    var clientInfo: String
}

extension SentinelServer {
    /// Redis's acllog-max-len default.
    static let aclLogMaxLen = 128

    /// Records a failed AUTH (or HELLO AUTH) by `c` as `user`: the same failure within 60 s
    /// increments the entry's count, as Redis does.
    func logAuthFailure(_ c: SentinelClient, user: String) {
        let now = clock.wallMillis()
        let info = clientInfoLine(c, now: clock.monotonicMillis())
        if let i = aclLog.firstIndex(where: { $0.username == user && $0.reason == "auth" && now - $0.time < 60_000 }) {
            var e = aclLog.remove(at: i)
            e.count += 1
            e.time = now
            e.clientInfo = info
            aclLog.insert(e, at: 0)
        } else {
            aclLog.insert(ACLLogEntry(reason: "auth", object: "AUTH", username: user, time: now, clientInfo: info), at: 0)
            if aclLog.count > SentinelServer.aclLogMaxLen { aclLog.removeLast() }
        }
    }
}

// ACL: WHOAMI, LIST, USERS, SETUSER, DELUSER, GETUSER, CAT, GENPASS, LOG, HELP.
import Shared

extension CommandTable {
    static var aclCommand: CommandSpec {
        CommandSpec("acl", -2, [.admin, .noscript, .loading, .stale], ["admin", "slow", "dangerous"],
                    subcommands: ["whoami", "list", "users", "setuser", "deluser", "getuser", "cat", "genpass", "log", "dryrun", "help"]) { s, c in
            try s.aclCommand(c)
        }
    }
}

extension Server {
    func aclCommand(_ c: Client) throws {
        switch c.option(1) {
        case "WHOAMI":
            guard c.argc == 2 else { throw CommandError.wrongArity("acl|whoami") }
            c.out.bulk(c.user?.name ?? "default")
        case "LIST":
            guard c.argc == 2 else { throw CommandError.wrongArity("acl|list") }
            let lines = acl.users.keys.sorted().compactMap { n in acl.users[n].map { "user \(n) \($0.description)" } }
            c.out.bulks(lines)
        case "USERS":
            guard c.argc == 2 else { throw CommandError.wrongArity("acl|users") }
            c.out.bulks(acl.users.keys.sorted())
        case "SETUSER":
            guard c.argc >= 3 else { throw CommandError.wrongArity("acl|setuser") }
            for i in 2..<c.argc { c.redact(i) }
            let name = c.arg(2).text
            if ACLSelector.hasSpaces(c.arg(2)[...]) { throw CommandError("ERR Usernames can't contain spaces or null characters") }
            let rules = (3..<max(3, c.argc)).map { c.arg($0).text }
            switch acl.stage(name, rules: rules) {
            case .failure(let e): throw CommandError("ERR " + e.text)
            case .success(let staged):
                if let old = acl.users[name] { killPubSubClientsIfNeeded(staged, old) }
                acl.commit(name, staged)
            }
            c.out.ok()
        case "DELUSER":
            guard c.argc >= 3 else { throw CommandError.wrongArity("acl|deluser") }
            var removed = 0
            for i in 2..<c.argc {
                let name = c.arg(i).text
                if name == "default" { throw CommandError("ERR The 'default' user cannot be removed") }
            }
            for i in 2..<c.argc {
                let name = c.arg(i).text
                guard acl.users.removeValue(forKey: name) != nil else { continue }
                removed += 1
                // Connections authenticated as a deleted user are closed, as in Redis.
                for cl in clients.values where cl.user?.name == name {
                    if cl === c { closeAfterReply(cl) } else { closeASAP(cl) }
                }
            }
            c.out.integer(removed)
        case "GETUSER":
            guard c.argc == 3 else { throw CommandError.wrongArity("acl|getuser") }
            guard let u = acl.users[c.arg(2).text] else { c.out.null(); return }
            c.out.mapHeader(6)
            c.out.bulk("flags")
            let flags = u.flagWords
            c.out.setHeader(flags.count)
            for f in flags { c.out.bulk(f) }
            c.out.bulk("passwords"); c.out.bulks(u.passwords)
            describeSelector(c, u.root)
            c.out.bulk("selectors")
            c.out.arrayHeader(u.selectors.count)
            for s in u.selectors {
                c.out.mapHeader(3)
                describeSelector(c, s)
            }
        case "CAT":
            guard c.argc <= 3 else { throw CommandError.wrongArity("acl|cat") }
            if c.argc == 2 { c.out.bulks(ACL.categories); return }
            let cat = c.arg(2).text.lowercased()
            guard ACL.categories.contains(cat) else { throw CommandError("ERR Unknown category '\(c.arg(2).text)'") }
            c.out.bulks(commandTable.values.filter { $0.categories.contains(cat) }.map(\.name).sorted())
        case "GENPASS":
            guard c.argc <= 3 else { throw CommandError.wrongArity("acl|genpass") }
            var bits = 256
            if c.argc == 3 {
                guard let b = NumberFormat.parseInt(c.arg(2)), b > 0, b <= 4096 else {
                    throw CommandError("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
                }
                bits = Int(b)
            }
            let chars = (bits + 3) / 4
            let hex = Array("0123456789abcdef".utf8)
            var out: [UInt8] = []
            for b in Posix.randomBytes((chars + 1) / 2) { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
            c.out.bulk(Array(out.prefix(chars)))
        case "LOG":
            try aclLogCommand(c)
        case "DRYRUN":
            try aclDryRun(c)
        case "HELP":
            guard c.argc == 2 else { throw CommandError.wrongArity("acl|help") }
            replyHelp(c, "ACL", [
                "CAT [<category>]", "    List all commands that belong to <category>, or all command categories",
                "    when no category is specified.",
                "DELUSER <username> [<username> ...]", "    Delete a list of users.",
                "DRYRUN <username> <command> [<arg> ...]", "    Returns whether the user can execute the given command without executing the command.",
                "GETUSER <username>", "    Get the user's details.",
                "GENPASS [<bits>]", "    Generate a secure 256-bit user password. The optional `bits` argument can",
                "    be used to specify a different size.",
                "LIST", "    Show users details in config file format.",
                "LOG [<count> | RESET]", "    Show the ACL log entries.",
                "SETUSER <username> <attribute> [<attribute> ...]", "    Create or modify a user with the specified attributes.",
                "USERS", "    List all the registered usernames.",
                "WHOAMI", "    Return the current connection username.",
            ])
        default:
            throw CommandError.unknownSubcommand(c.arg(1), "ACL")
        }
    }
}

extension Server {
    /// GETUSER's commands, keys and channels of one selector.
    func describeSelector(_ c: Client, _ s: ACLSelector) {
        c.out.bulk("commands"); c.out.bulk(s.commandRules)
        c.out.bulk("keys"); c.out.bulk(s.keysText)
        c.out.bulk("channels"); c.out.bulk(s.channelsText)
    }

    /// Closes the pub/sub connections of `original` that its new rules no longer allow (Redis's
    /// ACLKillPubsubClientsIfNeeded): nothing to do when the new channels include the old ones.
    func killPubSubClientsIfNeeded(_ new: ACLUser, _ original: ACLUser) {
        let newSelectors = [new.root] + new.selectors
        if newSelectors.contains(where: \.allChannels) { return }
        let upcoming = newSelectors.flatMap(\.channels)
        let oldSelectors = [original.root] + original.selectors
        if !oldSelectors.contains(where: \.allChannels)
            && oldSelectors.allSatisfy({ $0.channels.allSatisfy { upcoming.contains($0) } }) { return }
        var probe = ACLSelector()
        probe.channels = upcoming
        for cl in clients.values where cl.user === original && !cl.subscriptions.isEmpty {
            let s = cl.subscriptions
            let violates = s.patterns.contains { !probe.channelAllowed($0.bytes, isPattern: true) }
                || s.channels.contains { !probe.channelAllowed($0.bytes, isPattern: false) }
                || s.shardChannels.contains { !probe.channelAllowed($0.bytes, isPattern: false) }
            if violates { closeASAP(cl) }
        }
    }
}

extension String {
    /// The string with `prefix` replaced by `replacement` when it starts with it.
    func replacingPrefix(_ prefix: String, _ replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}

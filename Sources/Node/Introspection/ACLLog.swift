// ACL LOG, as Redis 7.0's: denied commands, keys and channels and failed authentications, newest first,
// grouped when the same user is denied the same thing in the same context within 60 seconds,
// at most acllog-max-len entries. ACL DRYRUN asks the same checks without running anything.
import Shared

/// One ACL LOG entry.
struct ACLLogEntry {
    var count: Int
    /// command, key, channel or auth.
    let reason: String
    /// toplevel, multi, lua or module.
    let context: String
    /// The command's full name, the key, the channel, or AUTH.
    let object: String
    let username: String
    /// Wall-clock ms of the last occurrence.
    var updated: Int64
    var clientInfo: String
}

extension Server {
    /// Records a denial (Redis's addACLLogEntry).
    func addACLLog(_ c: Client, reason: String, object: String, username: String, context: String? = nil) {
        let now = clock.wallMillis()
        let context = context ?? (c.flags.contains(.multi) || c.callDepth > 1 ? "multi" : "toplevel")
        let info = clientInfoLine(c)
        if let i = aclLog.firstIndex(where: { $0.reason == reason && $0.context == context && $0.object == object
            && $0.username == username && now - $0.updated < 60_000 }) {
            var e = aclLog.remove(at: i)
            e.count += 1
            e.updated = now
            e.clientInfo = info
            aclLog.insert(e, at: 0)
            return
        }
        aclLog.insert(ACLLogEntry(count: 1, reason: reason, context: context, object: object, username: username,
                                  updated: now, clientInfo: info), at: 0)
        if aclLog.count > config.acllogMaxLen { aclLog.removeLast(aclLog.count - config.acllogMaxLen) }
    }

    /// ACL LOG [count | RESET]
    func aclLogCommand(_ c: Client) throws {
        guard c.argc <= 3 else { throw CommandError.wrongArity("acl|log") }
        var count = 10
        if c.argc == 3 {
            if c.option(2) == "RESET" { aclLog = []; c.out.ok(); return }
            guard let n = NumberFormat.parseInt(c.arg(2)), n >= 0 else { throw CommandError.notInteger }
            count = Int(min(n, Int64(Int32.max)))
        }
        let now = clock.wallMillis()
        let list = aclLog.prefix(count)
        c.out.arrayHeader(list.count)
        for e in list {
            c.out.mapHeader(7)
            c.out.bulk("count"); c.out.integer(e.count)
            c.out.bulk("reason"); c.out.bulk(e.reason)
            c.out.bulk("context"); c.out.bulk(e.context)
            c.out.bulk("object"); c.out.bulk(e.object)
            c.out.bulk("username"); c.out.bulk(e.username)
            c.out.bulk("age-seconds"); c.out.double(Double(now - e.updated) / 1000)
            c.out.bulk("client-info"); c.out.bulk(e.clientInfo)
        }
    }

    /// ACL DRYRUN username command [arg ...]: whether the user could run it, in Redis's words.
    func aclDryRun(_ c: Client) throws {
        guard c.argc >= 4 else { throw CommandError.wrongArity("acl|dryrun") }
        let name = c.arg(2).text
        guard let user = acl.users[name] else { throw CommandError("ERR User '\(name)' not found") }
        let argv = Array(c.argv[3...])
        guard let spec = commandTable[argv[0].text.lowercased()] else {
            throw CommandError("ERR Command '\(argv[0].text)' not found")
        }
        guard CommandReply.arityMatches(spec.arity, argv.count) else { throw CommandError.wrongArity(spec.name) }
        switch user.check(spec, argv) {
        case nil: break
        case .command:
            c.out.bulk("This user has no permissions to run the '\(Server.fullCommandName(spec, argv))' command")
            return
        case .key(let i):
            c.out.bulk("This user has no permissions to access the '\(argv[i].text)' key")
            return
        case .channel(let i):
            c.out.bulk("This user has no permissions to access the '\(argv[i].text)' channel")
            return
        }
        c.out.ok()
    }

    /// `name` or `name|sub` for a command line.
    static func fullCommandName(_ spec: CommandSpec, _ argv: [Bytes]) -> String {
        if argv.count > 1 {
            let sub = argv[1].text.lowercased()
            if spec.subcommands.contains(sub) { return spec.name + "|" + sub }
        }
        return spec.name
    }
}

// ACL users: the subset of Redis's rules the seeds and operators use (`on`/`off`, `>pass`, `<pass`,
// `#hash`, `!hash`, `nopass`, `resetpass`, `~pattern`, `allkeys`, `&pattern`, `allchannels`,
// `+cmd`, `-cmd`, `+@cat`, `-@cat`, `allcommands`, `nocommands`, `reset`). Passwords are kept only
// as SHA-256 hex digests, exactly what ACL LIST shows.
import Shared

/// One ACL user.
final class ACLUser {
    let name: String
    var enabled = false
    var nopass = false
    /// SHA-256 hex digests of the passwords.
    var passwords: [String] = []
    /// Key patterns (`~*` for allkeys), in the order given.
    var keyRules: [String] = []
    /// Channel patterns; `&*` means allchannels. Empty means resetchannels.
    var channelRules: [String] = []
    /// Command rules after the implicit base (`-@all` unless the first is `+@all`), lower-cased.
    var commandRules: [String] = ["-@all"]
    init(name: String) { self.name = name }

    /// Whether this user may run `cmd` (rules applied in order, last match wins).
    func canRun(_ cmd: CommandSpec, _ argv: [Bytes]) -> Bool {
        // Fast path for the default user (`+@all` last wins over everything before it): this runs
        // for every command, and building the `name|sub` string cost a third of a SET's CPU.
        if let last = commandRules.last, last == "+@all" { return true }
        var allowed = false
        let sub = argv.count > 1 ? cmd.name + "|" + String(decoding: argv[1], as: UTF8.self).lowercased() : ""
        for r in commandRules {
            let add = r.hasPrefix("+")
            let body = r.dropFirst()
            if body == "@all" { allowed = add; continue }
            if body.hasPrefix("@") {
                if cmd.categories.contains(String(body.dropFirst())) { allowed = add }
            } else if body == cmd.name || (!sub.isEmpty && body == sub) {
                allowed = add
            }
        }
        return allowed
    }

    /// Whether every key argument of `cmd` matches one of the user's key patterns (`~pattern`;
    /// `%R~`/`%W~` selectors are treated as plain patterns).
    func canAccessKeys(_ cmd: CommandSpec, _ argv: [Bytes]) -> Bool {
        deniedKey(cmd, argv) == nil
    }

    /// The first key argument no pattern of the user allows (ACL LOG names it), or nil.
    func deniedKey(_ cmd: CommandSpec, _ argv: [Bytes]) -> Bytes? {
        if keyRules.contains("~*") { return nil }
        let patterns = keyRules.compactMap { r -> [UInt8]? in
            guard let t = r.firstIndex(of: "~") else { return nil }
            return Array(r[r.index(after: t)...].utf8)
        }
        for i in cmd.keyPositions(argv) where i < argv.count {
            if !patterns.contains(where: { GlobMatch.matches($0, argv[i]) }) { return argv[i] }
        }
        return nil
    }

    /// Constant-time comparison of the password's digest with every stored digest.
    func checkPassword(_ p: Bytes) -> Bool {
        if nopass { return true }
        let digest = Array(SHA256.hex(p).utf8)
        var ok = false
        for stored in passwords {
            let s = Array(stored.utf8)
            guard s.count == digest.count else { continue }
            var diff: UInt8 = 0
            for i in 0..<s.count { diff |= s[i] ^ digest[i] }
            if diff == 0 { ok = true }
        }
        return ok
    }

    /// The rules as ACL LIST / ACL GETUSER show them (Redis 7.0's ACLDescribeUser order).
    var ruleWords: (flags: [String], passwords: [String], keys: [String], channels: String, commands: String) {
        var flags = [enabled ? "on" : "off"]
        if nopass { flags.append("nopass") }
        let channels: String
        if channelRules == ["&*"] { channels = "&*" } else {
            channels = (["resetchannels"] + channelRules).joined(separator: " ")
        }
        return (flags, passwords.map { "#" + $0 }, keyRules, channels, commandRules.joined(separator: " "))
    }

    /// `on nopass ~* &* +@all`: the description after `user <name>`.
    var description: String {
        let r = ruleWords
        return (r.flags + r.passwords + r.keys + [r.channels, r.commands]).joined(separator: " ")
    }
}

/// The user table.
struct ACL {
    var users: [String: ACLUser]

    init() {
        let d = ACLUser(name: "default")
        d.enabled = true
        d.nopass = true
        d.keyRules = ["~*"]
        d.channelRules = ["&*"]
        d.commandRules = ["+@all"]
        users = ["default": d]
    }

    /// The `default` user (always present: DELUSER refuses to remove it).
    var defaultUser: ACLUser { users["default"] ?? ACL.disabledDefault }

    /// Stands in if `default` were ever missing: off, so nobody gets in by accident.
    private static var disabledDefault: ACLUser { ACLUser(name: "default") }

    /// True when new connections must authenticate (default user has a password or is off).
    var defaultUserRequiresAuth: Bool { !(defaultUser.nopass && defaultUser.enabled) }

    /// Applies `requirepass` the way Redis does: it sets the default user's only password.
    mutating func setRequirePass(_ pass: Bytes?) {
        let d = defaultUser
        if let pass, !pass.isEmpty {
            d.nopass = false
            d.passwords = [SHA256.hex(pass)]
        } else {
            d.nopass = true
            d.passwords = []
        }
    }

    /// Applies ACL rules to a user, creating it if needed; nothing changes if a rule is bad.
    /// Returns Redis's error text (`Error in ACL SETUSER modifier '...': ...`) on a bad rule.
    mutating func setUser(_ name: String, rules: [String]) -> String? {
        checkedSetUser(name, rules: rules).map { "Error in ACL SETUSER modifier '\($0.modifier)': \($0.reason)" }
    }

    /// As setUser, returning the bad modifier and the reason separately (config files word it differently).
    mutating func checkedSetUser(_ name: String, rules: [String]) -> (modifier: String, reason: String)? {
        let old = users[name]
        let u = ACLUser(name: name)
        if let old {
            u.enabled = old.enabled; u.nopass = old.nopass; u.passwords = old.passwords
            u.keyRules = old.keyRules; u.channelRules = old.channelRules; u.commandRules = old.commandRules
        }
        for r in rules {
            if let reason = ACL.apply(r, to: u) { return (r, reason) }
        }
        users[name] = u
        return nil
    }

    /// Applies one rule; returns the reason when it is invalid.
    static func apply(_ r: String, to u: ACLUser) -> String? {
        let lower = r.lowercased()
        switch lower {
        case "on": u.enabled = true
        case "off": u.enabled = false
        case "nopass": u.nopass = true; u.passwords = []
        case "resetpass": u.nopass = false; u.passwords = []
        case "allkeys": u.keyRules = ["~*"]
        case "resetkeys": u.keyRules = []
        case "allchannels": u.channelRules = ["&*"]
        case "resetchannels": u.channelRules = []
        case "allcommands": u.commandRules = ["+@all"]
        case "nocommands": u.commandRules = ["-@all"]
        case "reset":
            u.enabled = false; u.nopass = false; u.passwords = []
            u.keyRules = []; u.channelRules = []; u.commandRules = ["-@all"]
        default:
            guard let first = r.first else { return "Syntax error" }
            let rest = String(r.dropFirst())
            switch first {
            case ">":
                let h = SHA256.hex(Array(rest.utf8))
                if !u.passwords.contains(h) { u.passwords.append(h) }
                u.nopass = false
            case "<":
                let h = SHA256.hex(Array(rest.utf8))
                guard u.passwords.contains(h) else { return "The password you are trying to remove from the user does not exist" }
                u.passwords.removeAll { $0 == h }
            case "#", "!":
                guard rest.utf8.count == 64, rest.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
                    return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
                }
                if first == "#" {
                    if !u.passwords.contains(rest) { u.passwords.append(rest) }
                    u.nopass = false
                } else {
                    guard u.passwords.contains(rest) else { return "The password you are trying to remove from the user does not exist" }
                    u.passwords.removeAll { $0 == rest }
                }
            case "~", "%":
                if u.keyRules == ["~*"] { break }
                if r == "~*" { u.keyRules = ["~*"] } else if !u.keyRules.contains(r) { u.keyRules.append(r) }
            case "&":
                if u.channelRules == ["&*"] { break }
                if r == "&*" { u.channelRules = ["&*"] } else if !u.channelRules.contains(r) { u.channelRules.append(r) }
            case "+", "-":
                if lower == "+@all" || lower == "-@all" { u.commandRules = [lower]; break }
                if rest.hasPrefix("@") {
                    guard ACL.categories.contains(String(rest.dropFirst()).lowercased()) else { return "Unknown command or category name in ACL" }
                }
                if u.commandRules.first != "+@all" && u.commandRules.first != "-@all" { u.commandRules.insert("-@all", at: 0) }
                u.commandRules.append(lower)
            default:
                return "Syntax error"
            }
        }
        return nil
    }

    /// Redis 7.0's ACL categories, in ACL CAT order.
    static let categories = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
                             "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
                             "dangerous", "connection", "transaction", "scripting"]
}

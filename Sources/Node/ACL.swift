// ACL users: the subset of Redis's rules the seeds use (`on`/`off`, `>pass`, `nopass`,
// `resetpass`, `~*`, `&*`, `+@all`, ...). Rules are kept as written for ACL LIST.
import Shared

/// One ACL user.
final class ACLUser {
    let name: String
    var enabled = false
    var nopass = false
    /// Passwords as given (compared in constant time); ACL LIST shows their SHA-256.
    var passwords: [Bytes] = []
    /// Key, channel and command rules in the order given, for ACL LIST.
    var keyRules: [String] = []
    var channelRules: [String] = []
    var commandRules: [String] = []
    init(name: String) { self.name = name }

    /// Whether this user may run `cmd` (command rules: +@all, -@all, +cmd, -cmd, allcommands).
    func canRun(_ cmd: CommandSpec, _ argv: [Bytes]) -> Bool {
        if commandRules.isEmpty { return false }
        var allowed = false
        for r in commandRules {
            let add = r.hasPrefix("+")
            let body = r.dropFirst().lowercased()
            if body == "@all" || r == "allcommands" { allowed = add || r == "allcommands"; continue }
            if r == "nocommands" { allowed = false; continue }
            if body.hasPrefix("@") {
                if cmd.categories.contains(String(body.dropFirst())) { allowed = add }
            } else if body == cmd.name || body.hasPrefix(cmd.name + "|") {
                allowed = add
            }
        }
        return allowed
    }

    func checkPassword(_ p: Bytes) -> Bool {
        if nopass { return true }
        var ok = false
        for stored in passwords where stored.count == p.count {
            var diff: UInt8 = 0
            for i in 0..<p.count { diff |= stored[i] ^ p[i] }
            if diff == 0 { ok = true }
        }
        return ok
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

    var defaultUser: ACLUser { users["default"]! }

    /// True when new connections must authenticate (default user has a password or is off).
    var defaultUserRequiresAuth: Bool { !(defaultUser.nopass && defaultUser.enabled) }

    /// Applies `requirepass` the way Redis does: it sets the default user's only password.
    mutating func setRequirePass(_ pass: Bytes?) {
        let d = defaultUser
        if let pass, !pass.isEmpty {
            d.nopass = false
            d.passwords = [pass]
        } else {
            d.nopass = true
            d.passwords = []
        }
    }

    /// Applies ACL rules to a user, creating it if needed. Returns an error text on a bad rule.
    mutating func setUser(_ name: String, rules: [String]) -> String? {
        let u = users[name] ?? ACLUser(name: name)
        for r in rules {
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
                if r.hasPrefix(">") {
                    let p = Bytes(r.utf8.dropFirst())
                    if !u.passwords.contains(p) { u.passwords.append(p) }
                    u.nopass = false
                } else if r.hasPrefix("<") {
                    let p = Bytes(r.utf8.dropFirst())
                    u.passwords.removeAll { $0 == p }
                } else if r.hasPrefix("~") || r.hasPrefix("%") {
                    if r == "~*" { u.keyRules = ["~*"] } else { u.keyRules.append(r) }
                } else if r.hasPrefix("&") {
                    if r == "&*" { u.channelRules = ["&*"] } else { u.channelRules.append(r) }
                } else if r.hasPrefix("+") || r.hasPrefix("-") {
                    if lower == "+@all" || lower == "-@all" { u.commandRules = [lower] } else { u.commandRules.append(lower) }
                } else {
                    return "Error in ACL SETUSER modifier '\(r)': Syntax error"
                }
            }
        }
        users[name] = u
        return nil
    }
}

// ACL users of the sentinel itself: `user` lines in sentinel.conf, ACL SETUSER/DELUSER at run time,
// and `requirepass` as the default user's password, as in Redis. Authentication is modelled fully;
// permission rules are recorded (ACL LIST, GETUSER show them) but not enforced: a sentinel's
// command set is small and all of it is administrative.
import Shared

/// One user: enabled flag, credentials, and the permission rules as given.
struct SentinelUser: Equatable, Sendable {
    /// `on` / `off`.
    var enabled = false
    /// `nopass`: any password opens the user.
    var nopass = false
    /// SHA-256 hex digests of the passwords (`>pass` is stored hashed, as Redis does).
    var hashes: [String] = []
    var allKeys = false
    var allChannels = false
    /// Command rules in order (`+@all`, `-debug`...), after the last reset.
    var commandRules: [String] = []
    var keyPatterns: [String] = []
    var channelPatterns: [String] = []

    /// Redis's default user: on, nopass, every key, channel and command.
    static let initialDefault = SentinelUser(enabled: true, nopass: true, allKeys: true, allChannels: true, commandRules: ["+@all"])

    /// Applies ACL rules; returns the first rule it cannot parse, if any (the user is then unchanged).
    mutating func apply(_ rules: [String]) -> String? {
        var u = self
        for r in rules {
            let lower = r.lowercased()
            switch lower {
            case "on": u.enabled = true
            case "off": u.enabled = false
            case "nopass": u.nopass = true; u.hashes = []
            case "resetpass": u.nopass = false; u.hashes = []
            case "allkeys": u.allKeys = true; u.keyPatterns = []
            case "resetkeys": u.allKeys = false; u.keyPatterns = []
            case "allchannels": u.allChannels = true; u.channelPatterns = []
            case "resetchannels": u.allChannels = false; u.channelPatterns = []
            case "allcommands": u.commandRules = ["+@all"]
            case "nocommands": u.commandRules = []
            case "reset": u = SentinelUser()
            case "sanitize-payload", "skip-sanitize-payload", "clearselectors": break
            default:
                if r.hasPrefix(">") {
                    let h = SHA256.hex(Array(r.utf8.dropFirst()))
                    if !u.hashes.contains(h) { u.hashes.append(h) }
                    u.nopass = false
                } else if r.hasPrefix("<") {
                    let h = SHA256.hex(Array(r.utf8.dropFirst()))
                    u.hashes.removeAll { $0 == h }
                } else if r.hasPrefix("#") {
                    let h = String(r.dropFirst()).lowercased()
                    guard h.utf8.count == 64, h.allSatisfy({ $0.isHexDigit }) else { return r }
                    if !u.hashes.contains(h) { u.hashes.append(h) }
                    u.nopass = false
                } else if r.hasPrefix("!") {
                    let h = String(r.dropFirst()).lowercased()
                    u.hashes.removeAll { $0 == h }
                } else if r.hasPrefix("~") || r.hasPrefix("%") {
                    if r == "~*" { u.allKeys = true; u.keyPatterns = [] } else if !u.allKeys { u.keyPatterns.append(r) }
                } else if r.hasPrefix("&") {
                    if r == "&*" { u.allChannels = true; u.channelPatterns = [] } else if !u.allChannels { u.channelPatterns.append(r) }
                } else if r.hasPrefix("+") || r.hasPrefix("-") {
                    guard r.count > 1 else { return r }
                    if lower == "+@all" || lower == "-@all" { u.commandRules = [] }
                    u.commandRules.append(lower)
                } else if r.hasPrefix("(") && r.hasSuffix(")") {
                    // Selectors are accepted (and, like every permission rule, not enforced).
                    break
                } else {
                    return r
                }
            }
        }
        self = u
        return nil
    }

    /// True when `pass` opens this user.
    func accepts(_ pass: String) -> Bool {
        enabled && (nopass || hashes.contains(SHA256.hex(Array(pass.utf8))))
    }

    /// The rules as ACL LIST shows them (after `user <name> `).
    var ruleText: String {
        var parts = [enabled ? "on" : "off"]
        if nopass { parts.append("nopass") }
        parts += hashes.map { "#" + $0 }
        if allKeys { parts.append("~*") } else { parts += keyPatterns }
        if allChannels { parts.append("&*") } else { parts.append("resetchannels"); parts += channelPatterns }
        parts += commandRules.isEmpty ? ["-@all"] : commandRules
        return parts.joined(separator: " ")
    }
}

/// Every user, with `default` always present.
struct SentinelUsers: Sendable {
    private(set) var users: [String: SentinelUser] = ["default": .initialDefault]

    var defaultUser: SentinelUser { users["default"] ?? .initialDefault }

    /// User names, sorted (ACL USERS).
    var names: [String] { users.keys.sorted() }

    subscript(name: String) -> SentinelUser? { users[name] }

    /// Creates or modifies a user; returns the rule that failed, if any.
    mutating func setUser(_ name: String, _ rules: [String]) -> String? {
        var u = users[name] ?? SentinelUser()
        if let bad = u.apply(rules) { return bad }
        users[name] = u
        return nil
    }

    /// Deletes users other than `default`; returns how many existed.
    mutating func delete(_ names: [String]) -> Int {
        var n = 0
        for name in names where name != "default" && users[name] != nil {
            users[name] = nil
            n += 1
        }
        return n
    }

    /// `requirepass`: the default user's only password (empty: nopass).
    mutating func setDefaultPassword(_ pass: String?) {
        _ = setUser("default", ["resetpass"] + [pass.map { ">" + $0 } ?? "nopass"])
    }

    /// True when new connections start unauthenticated.
    var authRequired: Bool { !defaultUser.nopass || !defaultUser.enabled }

    /// Checks a user name and password (AUTH, HELLO AUTH).
    func authenticate(user: String, pass: String) -> Bool { users[user]?.accepts(pass) ?? false }
}

extension SentinelSettings {
    /// True when clients must authenticate before running commands.
    var authRequired: Bool { users.authRequired }
}

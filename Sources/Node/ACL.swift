// ACL users as Redis 7.0's: flags (`on`/`off`, `nopass`, `sanitize-payload`), passwords kept only
// as SHA-256 hex digests (exactly what ACL LIST shows), a root selector and any number of
// `(...)` selectors (ACLSelector.swift). A line is allowed when one selector allows its command,
// keys and channels; otherwise the denial Redis would report is returned (ACLCheckAllUserCommandPerm).
import Shared

/// One ACL user.
final class ACLUser {
    let name: String
    var enabled = false
    var nopass = false
    /// nil: neither flag; true: `sanitize-payload`; false: `skip-sanitize-payload`.
    var sanitizePayload: Bool? = nil
    /// SHA-256 hex digests of the passwords.
    var passwords: [String] = []
    /// The permissions outside parentheses.
    var root: ACLSelector
    /// The `(...)` selectors, in the order given.
    var selectors: [ACLSelector] = []

    init(name: String, allChannels: Bool = false) {
        self.name = name
        root = ACLSelector(allChannels: allChannels)
    }

    /// Takes every field of `other` (SETUSER stages changes on a copy, then commits them here so
    /// connections authenticated as this user see the new rules at once).
    func assign(_ other: ACLUser) {
        enabled = other.enabled; nopass = other.nopass; sanitizePayload = other.sanitizePayload
        passwords = other.passwords; root = other.root; selectors = other.selectors
    }

    // MARK: - Checks

    /// Nil when the user may run the line; otherwise what Redis reports: the command when no
    /// selector allows it, else the last key or channel no selector could match.
    func check(_ cmd: CommandSpec, _ argv: [Bytes]) -> ACLDenial? {
        // The default user's `+@all ~* &*`: this runs for every command.
        if root.allCommands && root.allKeys && root.allChannels { return nil }
        let id = ACLCommandUniverse.shared.id(cmd, argv)
        var keys: [KeyReference]? = nil
        var relevant = ACLDenial.command
        guard let d = root.check(id, cmd, argv, &keys) else { return nil }
        relevant = d
        for s in selectors {
            guard let d = s.check(id, cmd, argv, &keys) else { return nil }
            if d.rank > relevant.rank || (d.rank == relevant.rank && d.position > relevant.position) { relevant = d }
        }
        return relevant
    }

    /// Whether some selector allows the command itself (keys and channels aside).
    func canRun(_ cmd: CommandSpec, _ argv: [Bytes]) -> Bool {
        guard let d = check(cmd, argv) else { return true }
        return d != .command
    }

    /// Whether the whole line (command, keys, channels) is allowed.
    func canAccessKeys(_ cmd: CommandSpec, _ argv: [Bytes]) -> Bool { check(cmd, argv) == nil }

    /// Whether a selector allowing this line reaches every key with `need` (SORT BY/GET patterns).
    func hasUnrestrictedKeyAccess(_ cmd: CommandSpec, _ argv: [Bytes], _ need: ACLKeyPerm) -> Bool {
        let id = ACLCommandUniverse.shared.id(cmd, argv)
        var keys: [KeyReference]? = nil
        for s in [root] + selectors {
            if s.check(id, cmd, argv, &keys) == nil && s.hasUnrestrictedKeyAccess(need) { return true }
        }
        return false
    }

    /// Whether some selector allows `channel` (a pattern matched literally when `isPattern`).
    func channelAllowed(_ channel: Bytes, isPattern: Bool) -> Bool {
        ([root] + selectors).contains { $0.channelAllowed(channel, isPattern: isPattern) }
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

    // MARK: - Description

    /// The flags in Redis's ACLDescribeUser order.
    var flagWords: [String] {
        var flags = [enabled ? "on" : "off"]
        if nopass { flags.append("nopass") }
        if let s = sanitizePayload { flags.append(s ? "sanitize-payload" : "skip-sanitize-payload") }
        return flags
    }

    /// `on nopass ~* &* +@all`: the description after `user <name>` (ACL LIST, ACL SAVE).
    var description: String {
        var parts = flagWords + passwords.map { "#" + $0 }
        parts.append(root.description)
        parts += selectors.map { "(" + $0.description + ")" }
        return parts.joined(separator: " ")
    }
}

/// The user table.
struct ACL {
    var users: [String: ACLUser]
    /// acl-pubsub-default: whether new users and selectors start with `allchannels`.
    var pubsubDefaultAllChannels = false

    init() {
        let d = ACLUser(name: "default")
        d.enabled = true
        d.nopass = true
        d.root.allKeys = true
        d.root.allChannels = true
        d.root.allCommands = true
        d.root.future = true
        d.root.bits = ACLCommandBits(all: true)
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
        switch stage(name, rules: rules) {
        case .failure(let e): return e.text
        case .success(let staged): commit(name, staged); return nil
        }
    }

    /// As setUser, returning the bad modifier and the reason separately (config files word it differently).
    mutating func checkedSetUser(_ name: String, rules: [String]) -> (modifier: String, reason: String)? {
        switch stage(name, rules: rules) {
        case .failure(let e): return (e.modifier, e.reason)
        case .success(let staged): commit(name, staged); return nil
        }
    }

    /// A rejected SETUSER: the modifier, the reason, and the whole text Redis replies.
    struct SetUserError: Error {
        let modifier: String
        let reason: String
        let text: String
    }

    /// The user as it would be after `rules` (the table is untouched): Redis's ACLStringSetUser.
    func stage(_ name: String, rules: [String]) -> Result<ACLUser, SetUserError> {
        let (merged, openAt) = ACL.mergeSelectorArguments(rules)
        if let start = openAt {
            let text = "Unmatched parenthesis in acl selector starting at '\(start)'."
            return .failure(SetUserError(modifier: start, reason: text, text: text))
        }
        let u = ACLUser(name: name, allChannels: pubsubDefaultAllChannels)
        if let old = users[name] { u.assign(old) }
        for r in merged {
            do { try apply(r, to: u) } catch {
                return .failure(SetUserError(modifier: r, reason: error.message,
                                             text: "Error in ACL SETUSER modifier '\(r)': \(error.message)"))
            }
        }
        return .success(u)
    }

    /// Puts a staged user in the table, into the existing object when there is one.
    mutating func commit(_ name: String, _ staged: ACLUser) {
        if let old = users[name] { old.assign(staged) } else { users[name] = staged }
    }

    /// Redis's ACLMergeSelectorArguments: a selector split over several arguments (`(+get`,
    /// `~k*)`) is joined with spaces. Also returns the argument that opened a parenthesis left open.
    static func mergeSelectorArguments(_ rules: [String]) -> (merged: [String], unmatched: String?) {
        var out: [String] = []
        var open: String? = nil
        var start: String? = nil
        for r in rules {
            if r.hasPrefix("("), !r.hasSuffix(")") { open = r; start = r; continue }
            if let o = open {
                open = o + " " + r
                if r.hasSuffix(")") { out.append(open ?? ""); open = nil; start = nil }
                continue
            }
            out.append(r)
        }
        return (out, start)
    }

    /// Applies one user rule (Redis's ACLSetUser); selector rules go to the root selector.
    func apply(_ r: String, to u: ACLUser) throws(ACLRuleError) {
        if r.isEmpty { return }
        switch r.lowercased() {
        case "on": u.enabled = true
        case "off": u.enabled = false
        case "skip-sanitize-payload": u.sanitizePayload = false
        case "sanitize-payload": u.sanitizePayload = true
        case "nopass": u.nopass = true; u.passwords = []
        case "resetpass": u.nopass = false; u.passwords = []
        case "clearselectors": u.selectors = []
        case "reset":
            u.nopass = false; u.passwords = []
            u.root.allKeys = false; u.root.keyPatterns = []
            u.root.allChannels = pubsubDefaultAllChannels; u.root.channels = []
            u.enabled = false; u.sanitizePayload = true; u.selectors = []
            try u.root.apply("-@all")
        default:
            let rest = String(r.dropFirst())
            switch r.first ?? " " {
            case ">", "#":
                let h: String
                if r.first == ">" { h = SHA256.hex(Array(rest.utf8)) } else {
                    guard ACL.isPasswordHash(rest) else { throw .badHash }
                    h = rest
                }
                if !u.passwords.contains(h) { u.passwords.append(h) }
                u.nopass = false
            case "<", "!":
                let h: String
                if r.first == "<" { h = SHA256.hex(Array(rest.utf8)) } else {
                    guard ACL.isPasswordHash(rest) else { throw .badHash }
                    h = rest
                }
                guard u.passwords.contains(h) else { throw .noSuchPassword }
                u.passwords.removeAll { $0 == h }
            case "(" where r.hasSuffix(")") && r.count >= 2:
                var s = ACLSelector(allChannels: pubsubDefaultAllChannels)
                let inner = String(r.dropFirst().dropLast())
                for op in inner.split(whereSeparator: { $0 == " " || $0 == "\t" }) { try s.apply(String(op)) }
                u.selectors.append(s)
            default:
                try u.root.apply(r)
            }
        }
    }

    /// 64 lowercase hex digits.
    static func isPasswordHash(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Redis 7.0's ACL categories, in ACL CAT order.
    static let categories = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
                             "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
                             "dangerous", "connection", "transaction", "scripting"]
}

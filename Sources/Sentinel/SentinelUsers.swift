// ACL users of the sentinel itself (`user` lines in sentinel.conf, as redis-sentinel accepts) and
// `requirepass` for the default user. Only authentication is modelled: an authenticated user may
// run every sentinel command (a sentinel's command set is small and all of it is administrative).
import Shared

/// One `user <name> rules...` definition: enabled flag and credentials.
struct SentinelUser: Equatable, Sendable {
    /// `on` / `off`.
    var enabled = false
    /// `nopass`: any password opens the user.
    var nopass = false
    /// Clear-text passwords from `>pass` rules.
    var passwords: Set<String> = []
    /// SHA-256 hex digests from `#<hash>` rules.
    var hashes: Set<String> = []

    /// Applies ACL rules; rules about commands, keys and channels are accepted and ignored.
    /// Returns the first rule it cannot parse, if any.
    mutating func apply(_ rules: [String]) -> String? {
        for r in rules {
            let lower = r.lowercased()
            switch lower {
            case "on": enabled = true
            case "off": enabled = false
            case "nopass": nopass = true; passwords = []; hashes = []
            case "resetpass": nopass = false; passwords = []; hashes = []
            case "reset": self = SentinelUser()
            default:
                if r.hasPrefix(">") { passwords.insert(String(r.dropFirst())); nopass = false }
                else if r.hasPrefix("<") { passwords.remove(String(r.dropFirst())) }
                else if r.hasPrefix("#") {
                    let h = String(r.dropFirst()).lowercased()
                    guard h.utf8.count == 64, h.allSatisfy({ $0.isHexDigit }) else { return r }
                    hashes.insert(h); nopass = false
                }
                else if r.hasPrefix("!") { hashes.remove(String(r.dropFirst()).lowercased()) }
                else if !(r.hasPrefix("~") || r.hasPrefix("%") || r.hasPrefix("&") || r.hasPrefix("+") || r.hasPrefix("-") || r.hasPrefix("(")
                          || ["allkeys", "resetkeys", "allchannels", "resetchannels", "allcommands", "nocommands", "sanitize-payload",
                              "skip-sanitize-payload", "clearselectors"].contains(lower)) {
                    return r
                }
            }
        }
        return nil
    }

    /// True when `pass` opens this user.
    func accepts(_ pass: String) -> Bool {
        enabled && (nopass || passwords.contains(pass) || hashes.contains(SHA256.hex(Array(pass.utf8))))
    }
}

extension SentinelSettings {
    /// True when clients must authenticate before running commands.
    var authRequired: Bool {
        if requirepass != nil { return true }
        if let d = users["default"] { return !d.nopass || !d.enabled }
        return false
    }

    /// Checks a user name and password (AUTH, HELLO AUTH).
    func authenticate(user: String, pass: String) -> Bool {
        if user == "default", let p = requirepass { return p == pass }
        if let u = users[user] { return u.accepts(pass) }
        return false
    }
}

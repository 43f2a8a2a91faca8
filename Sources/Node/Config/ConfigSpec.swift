// One configuration directive described as data: its name and aliases, its value type, its
// default, whether vigil implements it and whether CONFIG SET may change it. Values travel as
// canonical strings (what CONFIG GET shows); the type turns user input into that form.
import Shared

/// A directive's value type, which decides parsing, validation and the canonical form.
enum ConfigType: Sendable {
    case bool
    case int(min: Int, max: Int)
    /// Bytes, accepting `1gb 100mb 4k` units.
    case memory(min: Int, max: Int)
    case enumeration([String])
    case string
    /// Several words (save, bind, client-output-buffer-limit...): the setter validates.
    case special

    /// Short description for docs/config-directives.md.
    var label: String {
        switch self {
        case .bool: return "bool"
        case .int(let lo, let hi): return "int [\(lo)..\(hi)]"
        case .memory: return "memory"
        case .enumeration(let v): return "enum (" + v.joined(separator: ", ") + ")"
        case .string: return "string"
        case .special: return "special"
        }
    }

    /// Turns a user-supplied value into the canonical CONFIG GET form, or throws Redis's reason.
    func canonical(_ raw: String) throws(ConfigValueError) -> String {
        switch self {
        case .bool:
            switch raw.lowercased() {
            case "yes": return "yes"
            case "no": return "no"
            default: throw ConfigValueError("argument must be 'yes' or 'no'")
            }
        case .int(let lo, let hi):
            guard let v = Int(raw) else { throw ConfigValueError("argument couldn't be parsed into an integer") }
            guard v >= lo && v <= hi else { throw ConfigValueError("argument must be between \(lo) and \(hi) inclusive") }
            return String(v)
        case .memory(let lo, let hi):
            guard let v = ConfigType.parseMemory(raw) else { throw ConfigValueError("argument must be a memory value") }
            guard v >= lo && v <= hi else { throw ConfigValueError("argument must be between \(lo) and \(hi) inclusive") }
            return String(v)
        case .enumeration(let names):
            let l = raw.lowercased()
            guard names.contains(l) else {
                throw ConfigValueError("argument(s) must be one of the following: " + names.joined(separator: ", "))
            }
            return l
        case .string, .special:
            return raw
        }
    }

    /// Redis's memtoull: an integer with an optional b/k/kb/m/mb/g/gb unit (case-insensitive).
    static func parseMemory(_ s: String) -> Int? {
        let lower = s.lowercased()
        var digits = Substring(lower)
        var mul = 1
        let units: [(String, Int)] = [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024),
                                      ("k", 1000), ("m", 1000 * 1000), ("g", 1000 * 1000 * 1000), ("b", 1)]
        for (u, m) in units where lower.hasSuffix(u) {
            digits = lower.dropLast(u.count)
            mul = m
            break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let n = Int(digits) else { return nil }
        let (r, o) = n.multipliedReportingOverflow(by: mul)
        return o ? nil : r
    }
}

/// Why a value was refused; the text is Redis's reason (after `- ` in CONFIG SET errors).
struct ConfigValueError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// How CONFIG SET treats a directive.
enum ConfigMutability: Sendable {
    case mutable
    /// Only at start-up: `can't set immutable config`.
    case immutable
    /// Protected (dir, dbfilename...): `can't set protected config`, as with enable-protected-configs no.
    case protected
}

/// One directive of redis.conf.
struct ConfigSpec {
    /// Canonical lower-case name.
    let name: String
    /// Old names (slaveof, slave-read-only...); CONFIG GET shows them too when a pattern matches.
    let aliases: [String]
    let type: ConfigType
    /// The canonical default value, as CONFIG GET shows it on a fresh server.
    let defaultValue: String
    /// False for directives accepted, stored and shown, but without effect in vigil.
    let implemented: Bool
    let mutability: ConfigMutability
    /// True when the directive may appear on several lines that accumulate (save, user...).
    let accumulates: Bool
    /// Current canonical value.
    let get: (ServerConfig) -> String
    /// Stores an already canonical value; throws a Redis reason when the value is refused.
    let set: (ServerConfig, String) throws(ConfigValueError) -> Void

    /// Every name the directive answers to.
    var names: [String] { [name] + aliases }
}

/// A directive line for CONFIG REWRITE: quotes a string as Redis's sdscatrepr does.
enum ConfigQuote {
    /// `"value"` with C-style escapes for non-printables, quotes and backslashes.
    static func repr(_ s: String) -> String { "\"" + ArgSplitter.escape(s.utf8) + "\"" }
}

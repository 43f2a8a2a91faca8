// The table of every redis.conf directive (Redis 7.0.15) and the loader that applies config-file
// and command-line directives to a ServerConfig. Directives vigil does not implement are still
// validated by type and kept (CONFIG GET shows them, REWRITE writes them); start-up logs them.
import Shared

/// Every directive, by name and alias.
struct ConfigTable {
    let specs: [ConfigSpec]
    private let index: [String: Int]

    init(_ specs: [ConfigSpec]) {
        self.specs = specs
        var ix: [String: Int] = [:]
        for (i, s) in specs.enumerated() { for n in s.names { ix[n] = i } }
        index = ix
    }

    /// The shared table (immutable after first use).
    nonisolated(unsafe) static let shared = ConfigTable(implemented + cache + introspection + http + ConfigTable.unimplemented)

    /// Looks a directive up by any of its names, case-insensitively.
    func spec(_ name: String) -> ConfigSpec? {
        index[name.lowercased()].map { specs[$0] }
    }

    /// Directives only meaningful in a config file (not in CONFIG GET/SET).
    static let fileOnly = ["user", "rename-command", "include", "loadmodule"]

    // MARK: - Loading

    /// Applies directives in order (file first, then command line); throws the first error.
    /// Returns the names of accepted-but-unimplemented directives that were set, for warnings.
    @discardableResult
    func load(_ directives: [ConfigDirective], into c: ServerConfig) throws -> [String] {
        var unimplementedSeen: [String] = []
        var saveSeen = false
        for d in directives {
            switch d.name {
            case "user":
                guard let name = d.args.first else { throw d.error("Bad directive or wrong number of arguments") }
                // Validated here so the error names the line; applied by the ACL at start-up.
                var scratch = ACL()
                if let bad = scratch.checkedSetUser(name, rules: Array(d.args.dropFirst())) {
                    throw d.error("Error in user declaration '\(name)': \(bad.reason)")
                }
                c.userLines.append(d.args)
                continue
            case "rename-command":
                guard d.args.count == 2 else { throw d.error("wrong number of arguments") }
                c.renamedCommands.append((d.args[0], d.args[1]))
                unimplementedSeen.append("rename-command")
                continue
            case "loadmodule":
                throw d.error("Modules are not supported by vigil-node (loadmodule)")
            default: break
            }
            guard let spec = spec(d.name) else { throw d.error("Bad directive or wrong number of arguments") }
            let value: String
            switch spec.type {
            case .special:
                guard !d.args.isEmpty else { throw d.error("wrong number of arguments") }
                value = d.args.joined(separator: " ")
            default:
                guard d.args.count == 1 else { throw d.error("wrong number of arguments") }
                value = d.args[0]
            }
            do {
                if spec.name == "save" {
                    // The first `save` line replaces the defaults; later ones add rules; `save ""` clears.
                    if !saveSeen { c.saveRules = [] }
                    saveSeen = true
                    let before = c.saveRules
                    try spec.set(c, try spec.type.canonical(value))
                    if value != "" { c.saveRules = before + c.saveRules }
                } else {
                    try spec.set(c, try spec.type.canonical(value))
                }
            } catch {
                throw d.error(error.message)
            }
            if !spec.implemented && !unimplementedSeen.contains(spec.name) { unimplementedSeen.append(spec.name) }
        }
        return unimplementedSeen
    }

    // MARK: - Constructors for table rows

    static func bool(_ name: String, _ kp: ReferenceWritableKeyPath<ServerConfig, Bool>, aliases: [String] = [],
                     _ m: ConfigMutability = .mutable) -> ConfigSpec {
        row(name, aliases, .bool, m, get: { $0[keyPath: kp] ? "yes" : "no" }, set: { c, v in c[keyPath: kp] = v == "yes" })
    }

    static func int(_ name: String, _ kp: ReferenceWritableKeyPath<ServerConfig, Int>, _ lo: Int, _ hi: Int,
                    aliases: [String] = [], _ m: ConfigMutability = .mutable) -> ConfigSpec {
        row(name, aliases, .int(min: lo, max: hi), m, get: { String($0[keyPath: kp]) }, set: { c, v in c[keyPath: kp] = Int(v) ?? 0 })
    }

    static func memory(_ name: String, _ kp: ReferenceWritableKeyPath<ServerConfig, Int>, _ lo: Int = 0, _ hi: Int = Int.max,
                       aliases: [String] = [], _ m: ConfigMutability = .mutable) -> ConfigSpec {
        row(name, aliases, .memory(min: lo, max: hi), m, get: { String($0[keyPath: kp]) }, set: { c, v in c[keyPath: kp] = Int(v) ?? 0 })
    }

    static func string(_ name: String, _ kp: ReferenceWritableKeyPath<ServerConfig, String>, aliases: [String] = [],
                       _ m: ConfigMutability = .mutable) -> ConfigSpec {
        row(name, aliases, .string, m, get: { $0[keyPath: kp] }, set: { c, v in c[keyPath: kp] = v })
    }

    /// A string held as optional bytes (passwords): empty means unset.
    static func secret(_ name: String, _ kp: ReferenceWritableKeyPath<ServerConfig, Bytes?>) -> ConfigSpec {
        row(name, [], .string, .mutable, get: { $0[keyPath: kp].map { String(decoding: $0, as: UTF8.self) } ?? "" },
            set: { c, v in c[keyPath: kp] = v.isEmpty ? nil : Bytes(v.utf8) })
    }

    static func row(_ name: String, _ aliases: [String], _ type: ConfigType, _ m: ConfigMutability, implemented: Bool = true,
                    get: @escaping (ServerConfig) -> String,
                    set: @escaping (ServerConfig, String) throws(ConfigValueError) -> Void) -> ConfigSpec {
        ConfigSpec(name: name, aliases: aliases, type: type, defaultValue: get(ServerConfig()), implemented: implemented,
                   mutability: m, accumulates: name == "save", get: get, set: set)
    }

    /// A directive vigil accepts and shows but does not act on; the value lives in `passthrough`.
    static func stored(_ name: String, _ type: ConfigType, _ def: String, aliases: [String] = [],
                       _ m: ConfigMutability = .mutable) -> ConfigSpec {
        ConfigSpec(name: name, aliases: aliases, type: type, defaultValue: def, implemented: false, mutability: m,
                   accumulates: false, get: { $0.passthrough[name] ?? def }, set: { c, v in c.passthrough[name] = v })
    }
}

extension ConfigTable {
    /// The table as the Markdown rows of docs/config-directives.md (kept in sync by a unit test).
    func markdownRows() -> [String] {
        specs.sorted { $0.name < $1.name }.map { s in
            let def = s.defaultValue.isEmpty ? "\"\"" : s.defaultValue
            let mut: String
            switch s.mutability {
            case .mutable: mut = "yes"
            case .immutable: mut = "no"
            case .protected: mut = "no (protected)"
            }
            return "| `\(s.name)` | \(s.aliases.map { "`\($0)`" }.joined(separator: ", ")) | \(s.type.label) | `\(def)` | \(s.implemented ? "yes" : "**no** (stored only)") | \(mut) |"
        }
    }
}

// Redis's own description of its commands (COMMAND INFO and COMMAND DOCS replies of the reference
// server, generated into CommandCatalog+Data.swift by scripts/gen-command-catalog), parsed when a
// command is first asked about. COMMAND answers from it for the commands vigil implements; the
// key specs in it drive COMMAND GETKEYS / GETKEYSANDFLAGS; subcommand arities come from it.
import Shared

/// Where a key spec starts looking (Redis's begin_search).
enum KeyBeginSearch: Equatable {
    case index(Int)
    case keyword(String, startFrom: Int)
    case unknown
}

/// How a key spec finds the keys once it started (Redis's find_keys).
enum KeyFindKeys: Equatable {
    case range(lastKey: Int, keyStep: Int, limit: Int)
    case keynum(keynumIdx: Int, firstKey: Int, keyStep: Int)
    case unknown
}

/// One key spec of a command.
struct KeySpec: Equatable {
    /// RW, RO, OW, RM, access, update, insert, delete, not_key, incomplete, variable_flags.
    let flags: [String]
    let begin: KeyBeginSearch
    let find: KeyFindKeys
}

/// What the catalog knows about one command or subcommand.
struct CatalogEntry {
    /// `name` or `parent|sub`.
    let fullName: String
    let arity: Int
    let flags: [String]
    let categories: [String]
    let keySpecs: [KeySpec]
    /// COMMAND INFO's entry, as the reference sent it.
    let info: RESPValue
    /// COMMAND DOCS's entry (the map after the name), as the reference sent it.
    let docs: RESPValue
    /// Subcommands, by their name after the `|`.
    let subcommands: [String: CatalogEntry]
    /// Subcommand names in the reference's order.
    let subcommandOrder: [String]
}

/// The reference's command descriptions, parsed lazily, one command at a time.
final class CommandCatalog {
    /// The one catalog (the node is single-threaded; entries are parsed on first use).
    nonisolated(unsafe) static let shared = CommandCatalog()

    private var raw: [String: (info: Substring, docs: Substring)] = [:]
    private var parsed: [String: CatalogEntry?] = [:]

    private init() {
        for line in CommandCatalog.rawEntries {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            raw[String(parts[0])] = (parts[1], parts[2])
        }
    }

    /// The entry of a top-level command (lower-case name), or nil if Redis has no such command.
    func entry(_ name: String) -> CatalogEntry? {
        if let e = parsed[name] { return e }
        var e: CatalogEntry? = nil
        if let r = raw[name], let info = CommandCatalog.decode(r.info), let docs = CommandCatalog.decode(r.docs) {
            e = CommandCatalog.build(info: info, docs: docs)
        }
        parsed[name] = e
        return e
    }

    /// `name` or `parent|sub` (any case).
    func entry(fullName: String) -> CatalogEntry? {
        let parts = fullName.lowercased().split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, let top = entry(first) else { return nil }
        if parts.count == 1 { return top }
        guard parts.count == 2 else { return nil }
        return top.subcommands[parts[1]]
    }

    private static func decode(_ s: Substring) -> RESPValue? {
        var bytes = Bytes()
        bytes.reserveCapacity(s.utf8.count + 64)
        for b in s.utf8 {
            if b == 0x01 { bytes.append(0x0D); bytes.append(0x0A) } else { bytes.append(b) }
        }
        guard let (v, _) = try? RESPParser.parse(bytes), v != .null else { return nil }
        return v
    }

    private static func build(info: RESPValue, docs: RESPValue) -> CatalogEntry? {
        guard case .array(let a) = info, a.count >= 10, let name = a[0].string, let arity = a[1].int else { return nil }
        let subDocs = docs.mapValue("subcommands")
        var subs: [String: CatalogEntry] = [:]
        var order: [String] = []
        for s in a[9].elements ?? [] {
            guard case .array(let sa) = s, let full = sa.first?.string else { continue }
            let short = String(full.split(separator: "|").last ?? "")
            let d = subDocs?.mapValue(full) ?? .map([])
            if let e = build(info: s, docs: d) { subs[short] = e; order.append(short) }
        }
        return CatalogEntry(fullName: name, arity: Int(arity), flags: (a[2].elements ?? []).compactMap(\.string),
                            categories: (a[6].elements ?? []).compactMap { $0.string.map { String($0.dropFirst()) } },
                            keySpecs: (a[8].elements ?? []).map(keySpec), info: info, docs: docs,
                            subcommands: subs, subcommandOrder: order)
    }

    private static func keySpec(_ v: RESPValue) -> KeySpec {
        let flags = (v.mapValue("flags")?.elements ?? []).compactMap(\.string)
        var begin = KeyBeginSearch.unknown
        if let bs = v.mapValue("begin_search"), let type = bs.mapValue("type")?.string, let spec = bs.mapValue("spec") {
            switch type {
            case "index": begin = .index(Int(spec.mapValue("index")?.int ?? 0))
            case "keyword":
                begin = .keyword(spec.mapValue("keyword")?.string ?? "", startFrom: Int(spec.mapValue("startfrom")?.int ?? 0))
            default: break
            }
        }
        var find = KeyFindKeys.unknown
        if let fk = v.mapValue("find_keys"), let type = fk.mapValue("type")?.string, let spec = fk.mapValue("spec") {
            switch type {
            case "range":
                find = .range(lastKey: Int(spec.mapValue("lastkey")?.int ?? 0), keyStep: Int(spec.mapValue("keystep")?.int ?? 1),
                              limit: Int(spec.mapValue("limit")?.int ?? 0))
            case "keynum":
                find = .keynum(keynumIdx: Int(spec.mapValue("keynumidx")?.int ?? 0), firstKey: Int(spec.mapValue("firstkey")?.int ?? 1),
                               keyStep: Int(spec.mapValue("keystep")?.int ?? 1))
            default: break
            }
        }
        return KeySpec(flags: flags, begin: begin, find: find)
    }
}

extension RESPValue {
    /// The value under `key` in a map (or a flat key/value array, as RESP2 sends maps).
    func mapValue(_ key: String) -> RESPValue? {
        switch self {
        case .map(let pairs): return pairs.first { $0.key.string == key }?.value
        case .array(let a):
            var i = 0
            while i + 1 < a.count { if a[i].string == key { return a[i + 1] }; i += 2 }
            return nil
        default: return nil
        }
    }
}

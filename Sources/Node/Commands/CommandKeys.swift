// Finding the keys of a command line from its key specs, as Redis's getKeysFromCommandWithSpecs:
// the specs when they are complete and their flags fixed, otherwise the command's own procedure
// (SORT, SORT_RO, MIGRATE, SET, BITFIELD are the 7.0 commands that need one).
import Shared

/// A key argument: its position in argv and its key-spec flags.
struct KeyReference: Equatable {
    let pos: Int
    let flags: [String]
}

extension CatalogEntry {
    /// The keys of `argv` (argv[0] is the command), or nil when the line does not fit the specs.
    func keys(_ argv: [Bytes]) -> [KeyReference]? {
        let varFlags = keySpecs.contains { $0.flags.contains("variable_flags") }
        if !keySpecs.isEmpty && !varFlags, let found = keysFromSpecs(argv) { return found }
        if let found = keysFromProcedure(argv) { return found }
        return varFlags ? keysFromSpecs(argv) : (keySpecs.isEmpty ? [] : nil)
    }

    /// Whether COMMAND GETKEYS may be asked about it (Redis's doesCommandHaveKeys).
    var hasKeys: Bool {
        ["sort", "sort_ro", "migrate", "set", "bitfield"].contains(fullName) || keySpecs.contains { !$0.flags.contains("not_key") }
    }

    /// getKeysUsingKeySpecs; nil for an invalid or incomplete spec.
    func keysFromSpecs(_ argv: [Bytes]) -> [KeyReference]? {
        let argc = argv.count
        var out: [KeyReference] = []
        for spec in keySpecs where !spec.flags.contains("not_key") {
            var first = 0
            switch spec.begin {
            case .index(let i): first = i
            case .keyword(let kw, let startFrom):
                let start = startFrom > 0 ? startFrom : argc + startFrom
                let end = startFrom > 0 ? argc - 1 : 1
                var i = start
                while i != end {
                    if i >= argc || i < 1 { break }
                    if String(decoding: argv[i], as: UTF8.self).lowercased() == kw.lowercased() { first = i + 1; break }
                    i = start <= end ? i + 1 : i - 1
                }
                if first == 0 { continue }
            case .unknown: return nil
            }
            var last = 0, step = 1
            switch spec.find {
            case .range(let lastKey, let keyStep, let limit):
                step = keyStep
                if lastKey >= 0 { last = first + lastKey }
                else if limit == 0 { last = argc + lastKey }
                else { last = first + ((argc - first) / limit + lastKey) }
            case .keynum(let idx, let firstKey, let keyStep):
                step = keyStep
                guard first + idx < argc, let n = NumberFormat.parseInt(argv[first + idx]), n >= 0, n < Int64(Int32.max) else { return nil }
                first += firstKey
                last = first + Int(n) - 1
            case .unknown: return nil
            }
            if last >= argc || last < first || first >= argc { return nil }
            var i = first
            while i <= last {
                if i < argc { out.append(KeyReference(pos: i, flags: spec.flags)) }
                i += max(1, step)
            }
            if spec.flags.contains("incomplete") { return nil }
        }
        return out
    }

    /// The procedures of the commands whose specs cannot say it all.
    private func keysFromProcedure(_ argv: [Bytes]) -> [KeyReference]? {
        let argc = argv.count
        func word(_ i: Int) -> String { String(decoding: argv[i], as: UTF8.self).lowercased() }
        switch fullName {
        case "sort_ro":
            return [KeyReference(pos: 1, flags: ["RO", "access"])]
        case "sort":
            var keys = [KeyReference(pos: 1, flags: ["RO", "access"])]
            var store: KeyReference? = nil
            var i = 2
            while i < argc {
                switch word(i) {
                case "limit": i += 2
                case "store" where i + 1 < argc: store = KeyReference(pos: i + 1, flags: ["OW", "update"])
                case "get", "by": i += 1
                default: break
                }
                i += 1
            }
            if let store { keys.append(store) }
            return keys
        case "migrate":
            var first = 3, num = 1
            if argc > 6 {
                var i = 6
                while i < argc {
                    let w = word(i)
                    if w == "keys" {
                        if !argv[3].isEmpty { num = 0 } else { first = i + 1; num = argc - first }
                        break
                    }
                    if w == "auth" { i += 1 } else if w == "auth2" { i += 2 }
                    i += 1
                }
            }
            return (0..<max(0, num)).map { KeyReference(pos: first + $0, flags: ["RW", "access", "delete"]) }
        case "set":
            let get = argc > 3 && (3..<argc).contains { word($0) == "get" }
            return [KeyReference(pos: 1, flags: get ? ["RW", "access", "update"] : ["OW", "update"])]
        case "bitfield":
            var readonly = true
            var i = 2
            while i < argc {
                let rem = argc - i - 1
                let w = word(i)
                if w == "get" && rem >= 2 { i += 2 }
                else if (w == "set" || w == "incrby") && rem >= 3 { readonly = false; break }
                else if w == "overflow" && rem >= 1 { i += 1 }
                else { readonly = false; break }
                i += 1
            }
            return [KeyReference(pos: 1, flags: readonly ? ["RO", "access"] : ["RW", "access", "update"])]
        default:
            return nil
        }
    }
}

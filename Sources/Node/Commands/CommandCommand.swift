// COMMAND [COUNT | INFO name... | DOCS name... | LIST [FILTERBY ...] | GETKEYS cmd... |
// GETKEYSANDFLAGS cmd... | HELP], with Redis 7.0's reply shapes. For the commands vigil implements
// the entries are the reference server's own (CommandCatalog), with only the subcommands vigil
// has; a vigil command Redis does not know gets an entry made from the command table.
import Shared

extension CommandTable {
    static var commandCommand: CommandSpec {
        CommandSpec("command", -1, [.loading, .stale], ["slow", "connection"],
                    subcommands: ["count", "info", "docs", "list", "getkeys", "getkeysandflags", "help"]) { s, c in try s.commandCommand(c) }
    }
}

extension Server {
    func commandCommand(_ c: Client) throws {
        let all = commandTable.values.sorted { $0.name < $1.name }
        guard c.argc >= 2 else {
            c.out.arrayHeader(all.count)
            for spec in all { writeCommandInfo(c, spec) }
            return
        }
        switch c.option(1) {
        case "COUNT":
            guard c.argc == 2 else { throw CommandError.wrongArity("command|count") }
            c.out.integer(all.count)
        case "INFO":
            if c.argc == 2 {
                c.out.arrayHeader(all.count)
                for spec in all { writeCommandInfo(c, spec) }
                return
            }
            c.out.arrayHeader(c.argc - 2)
            for i in 2..<c.argc { writeCommandInfo(c, fullName: c.arg(i).text.lowercased()) }
        case "DOCS":
            var found: [(String, CommandSpec, CatalogEntry?)] = []
            if c.argc == 2 {
                found = all.map { ($0.name, $0, CommandCatalog.shared.entry($0.name)) }
            } else {
                for i in 2..<c.argc {
                    let name = c.arg(i).text.lowercased()
                    let parts = name.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                    guard let spec = commandTable[parts[0]] else { continue }
                    if parts.count == 1 { found.append((name, spec, CommandCatalog.shared.entry(name))); continue }
                    guard parts.count == 2, spec.subcommands.contains(parts[1]) else { continue }
                    found.append((name, spec, CommandCatalog.shared.entry(fullName: name)))
                }
            }
            c.out.mapHeader(found.count)
            for (name, spec, entry) in found {
                c.out.bulk(name)
                if let entry { c.out.value(filteredDocs(entry, spec, isSub: name.contains("|"))) } else { writeFallbackDocs(c, spec) }
            }
        case "LIST":
            try commandList(c, all)
        case "GETKEYS", "GETKEYSANDFLAGS":
            let withFlags = c.option(1) == "GETKEYSANDFLAGS"
            guard c.argc >= 3 else { throw CommandError.wrongArity(withFlags ? "command|getkeysandflags" : "command|getkeys") }
            let argv = Array(c.argv[2...])
            guard let spec = commandTable[argv[0].text.lowercased()] else { throw CommandError("ERR Invalid command specified") }
            var entry = CommandCatalog.shared.entry(spec.name)
            if let e = entry, !e.subcommands.isEmpty {
                guard argv.count >= 2, let sub = e.subcommands[argv[1].text.lowercased()] else { throw CommandError("ERR Invalid command specified") }
                entry = sub
            }
            let arity = entry?.arity ?? spec.arity
            var keys: [KeyReference]
            if let entry {
                guard entry.hasKeys else { throw CommandError("ERR The command has no key arguments") }
                guard (arity > 0 && argv.count == arity) || (arity < 0 && argv.count >= -arity) else {
                    throw CommandError("ERR Invalid number of arguments specified for command")
                }
                keys = entry.keys(argv) ?? []
                if keys.isEmpty {
                    guard entry.flags.contains("no_mandatory_keys") else { throw CommandError("ERR Invalid arguments specified for command") }
                }
            } else {
                guard spec.firstKey > 0 || spec.movableKeys != nil || spec.keywordKeys != nil else {
                    throw CommandError("ERR The command has no key arguments")
                }
                guard CommandReply.arityMatches(spec.arity, argv.count) else {
                    throw CommandError("ERR Invalid number of arguments specified for command")
                }
                keys = spec.keyPositions(argv).map { KeyReference(pos: $0, flags: []) }
            }
            c.out.arrayHeader(keys.count)
            for k in keys {
                if withFlags {
                    c.out.arrayHeader(2)
                    c.out.bulk(argv[k.pos])
                    c.out.setHeader(k.flags.count)
                    for f in k.flags { c.out.simple(f) }
                } else {
                    c.out.bulk(argv[k.pos])
                }
            }
        case "HELP":
            guard c.argc == 2 else { throw CommandError.wrongArity("command|help") }
            replyHelp(c, "COMMAND", CommandReply.commandHelp)
        default:
            throw CommandError.unknownSubcommand(c.arg(1), "COMMAND")
        }
    }

    /// COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN glob]: names and `parent|sub`.
    private func commandList(_ c: Client, _ all: [CommandSpec]) throws {
        var names: [(name: String, categories: [String])] = []
        for spec in all {
            names.append((spec.name, spec.categories))
            let entry = CommandCatalog.shared.entry(spec.name)
            for sub in spec.subcommands {
                names.append((spec.name + "|" + sub, entry?.subcommands[sub]?.categories ?? spec.categories))
            }
        }
        if c.argc > 2 {
            guard c.argc == 5, c.option(2) == "FILTERBY" else { throw CommandError.syntax }
            let value = c.arg(4)
            switch c.option(3) {
            case "MODULE": names = []
            case "ACLCAT":
                let cat = value.text.lowercased()
                names = names.filter { $0.categories.contains(cat) }
            case "PATTERN":
                names = names.filter { GlobMatch.matches(value, Bytes($0.name.utf8), nocase: true) }
            default: throw CommandError.syntax
            }
        }
        c.out.bulks(names.map(\.name))
    }

    /// COMMAND INFO for `name` or `parent|sub`; a null for what vigil does not have.
    private func writeCommandInfo(_ c: Client, fullName: String) {
        let parts = fullName.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, let spec = commandTable[parts[0]] else { c.out.nullArray(); return }
        if parts.count == 1 { writeCommandInfo(c, spec); return }
        guard spec.subcommands.contains(parts[1]), let sub = CommandCatalog.shared.entry(fullName: fullName) else {
            c.out.nullArray(); return
        }
        c.out.value(sub.info)
    }

    /// One COMMAND INFO entry: the reference's, with vigil's subcommands only.
    private func writeCommandInfo(_ c: Client, _ spec: CommandSpec) {
        guard let entry = CommandCatalog.shared.entry(spec.name), case .array(var a) = entry.info, a.count >= 10 else {
            writeFallbackInfo(c, spec)
            return
        }
        // Redis sends an empty set for a command without subcommands, an array otherwise.
        if !entry.subcommandOrder.isEmpty {
            a[9] = .array(entry.subcommandOrder.filter { spec.subcommands.contains($0) }.compactMap { entry.subcommands[$0]?.info })
        }
        c.out.value(.array(a))
    }

    /// The reference's COMMAND DOCS entry with only the subcommands vigil has.
    private func filteredDocs(_ entry: CatalogEntry, _ spec: CommandSpec, isSub: Bool) -> RESPValue {
        guard !isSub, case .map(var pairs) = entry.docs, let i = pairs.firstIndex(where: { $0.key.string == "subcommands" }),
              case .map(let subs) = pairs[i].value else { return entry.docs }
        let kept = subs.filter { p in spec.subcommands.contains(String(p.key.string?.split(separator: "|").last ?? "")) }
        pairs[i].value = .map(kept)
        return .map(pairs)
    }

    /// Flag names as COMMAND INFO shows them.
    static func flagNames(_ f: CommandFlags) -> [String] {
        let names: [(CommandFlags, String)] = [
            (.write, "write"), (.readonly, "readonly"), (.denyOOM, "denyoom"), (.admin, "admin"), (.pubsub, "pubsub"),
            (.noscript, "noscript"), (.blocking, "blocking"), (.loading, "loading"), (.stale, "stale"),
            (.skipMonitor, "skip_monitor"), (.skipSlowlog, "skip_slowlog"), (.fast, "fast"), (.noAuth, "no_auth"),
            (.mayReplicate, "may_replicate"), (.noMulti, "no_multi"), (.allowBusy, "allow_busy"),
            (.noMandatoryKeys, "no_mandatory_keys"), (.movableKeys, "movablekeys"),
        ]
        return names.filter { f.contains($0.0) }.map(\.1)
    }

    /// An entry made from our table, for a command the reference does not describe.
    private func writeFallbackInfo(_ c: Client, _ spec: CommandSpec, parent: String? = nil) {
        let name = parent.map { $0 + "|" + spec.name } ?? spec.name
        c.out.arrayHeader(10)
        c.out.bulk(name)
        c.out.integer(parent == nil ? spec.arity : -2)
        let movable = (spec.movableKeys != nil && parent == nil) || spec.keywordKeys != nil
        let flags = Server.flagNames(spec.flags) + (movable ? ["movablekeys"] : [])
        c.out.setHeader(flags.count)
        for f in flags { c.out.simple(f) }
        c.out.integer(spec.firstKey)
        c.out.integer(spec.lastKey)
        c.out.integer(spec.keyStep)
        c.out.setHeader(spec.categories.count)
        for cat in spec.categories { c.out.simple("@" + cat) }
        c.out.setHeader(0)
        if let k = spec.keywordKeys {
            c.out.arrayHeader(1)
            c.out.mapHeader(3)
            c.out.bulk("flags"); c.out.setHeader(0)
            c.out.bulk("begin_search"); c.out.mapHeader(2)
            c.out.bulk("type"); c.out.bulk("keyword")
            c.out.bulk("spec"); c.out.mapHeader(2)
            c.out.bulk("keyword"); c.out.bulk(k.keyword)
            c.out.bulk("startfrom"); c.out.integer(k.startFrom)
            c.out.bulk("find_keys"); c.out.mapHeader(2)
            c.out.bulk("type"); c.out.bulk("range")
            c.out.bulk("spec"); c.out.mapHeader(3)
            c.out.bulk("lastkey"); c.out.integer(-1)
            c.out.bulk("keystep"); c.out.integer(1)
            c.out.bulk("limit"); c.out.integer(k.limit)
        } else if spec.firstKey > 0 {
            c.out.arrayHeader(1)
            c.out.mapHeader(3)
            c.out.bulk("flags"); c.out.setHeader(0)
            c.out.bulk("begin_search"); c.out.mapHeader(2)
            c.out.bulk("type"); c.out.bulk("index")
            c.out.bulk("spec"); c.out.mapHeader(1); c.out.bulk("index"); c.out.integer(spec.firstKey)
            c.out.bulk("find_keys"); c.out.mapHeader(2)
            c.out.bulk("type"); c.out.bulk("range")
            c.out.bulk("spec"); c.out.mapHeader(3)
            c.out.bulk("lastkey"); c.out.integer(spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey)
            c.out.bulk("keystep"); c.out.integer(spec.keyStep)
            c.out.bulk("limit"); c.out.integer(0)
        } else {
            c.out.arrayHeader(0)
        }
        if parent == nil {
            c.out.arrayHeader(spec.subcommands.count)
            for sub in spec.subcommands {
                writeFallbackInfo(c, CommandSpec(sub, -2, spec.flags, spec.categories) { _, _ in }, parent: spec.name)
            }
        } else {
            c.out.arrayHeader(0)
        }
    }

    /// A minimal COMMAND DOCS entry for a command the reference does not describe.
    private func writeFallbackDocs(_ c: Client, _ spec: CommandSpec) {
        c.out.mapHeader(4)
        c.out.bulk("summary"); c.out.bulk("The \(spec.name.uppercased()) command (vigil)")
        c.out.bulk("since"); c.out.bulk(VigilVersion.redisCompat)
        c.out.bulk("group"); c.out.bulk(Server.docGroup(spec))
        c.out.bulk("complexity"); c.out.bulk("O(1)")
    }

    static func docGroup(_ spec: CommandSpec) -> String {
        for (cat, group) in [("string", "string"), ("list", "list"), ("hash", "hash"), ("set", "set"), ("sortedset", "sorted_set"),
                             ("pubsub", "pubsub"), ("transaction", "transactions"), ("connection", "connection"),
                             ("scripting", "scripting"), ("stream", "stream"), ("keyspace", "generic")] where spec.categories.contains(cat) {
            return group
        }
        return "server"
    }
}

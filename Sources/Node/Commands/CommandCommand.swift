// COMMAND [COUNT | INFO name... | DOCS name... | LIST [FILTERBY ...] | GETKEYS cmd... | HELP], with
// Redis 7.0's reply shapes, generated from the command table itself.
import Shared

extension CommandTable {
    static var commandCommand: CommandSpec {
        CommandSpec("command", -1, [.loading, .stale], ["slow", "connection"],
                    subcommands: ["count", "info", "docs", "list", "getkeys", "help"]) { s, c in try s.commandCommand(c) }
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
            for i in 2..<c.argc {
                if let spec = commandTable[c.arg(i).text.lowercased()] { writeCommandInfo(c, spec) } else { c.out.nullArray() }
            }
        case "DOCS":
            let specs = c.argc == 2 ? all : (2..<c.argc).compactMap { commandTable[c.arg($0).text.lowercased()] }
            c.out.mapHeader(specs.count)
            for spec in specs {
                c.out.bulk(spec.name)
                writeCommandDocs(c, spec)
            }
        case "LIST":
            var names = all.map(\.name)
            if c.argc > 2 {
                guard c.argc == 5, c.option(2) == "FILTERBY" else { throw CommandError.syntax }
                let value = c.arg(4).text.lowercased()
                switch c.option(3) {
                case "MODULE": names = []
                case "ACLCAT": names = all.filter { $0.categories.contains(value) }.map(\.name)
                case "PATTERN": names = names.filter { Server.globMatch(value, $0) }
                default: throw CommandError.syntax
                }
            }
            c.out.bulks(names)
        case "GETKEYS":
            guard c.argc >= 3 else { throw CommandError.wrongArity("command|getkeys") }
            let argv = Array(c.argv[2...])
            guard let spec = commandTable[argv[0].text.lowercased()] else { throw CommandError("ERR Invalid command specified") }
            guard (spec.arity > 0 && argv.count == spec.arity) || (spec.arity < 0 && argv.count >= -spec.arity) else {
                throw CommandError("ERR Invalid number of arguments specified for command")
            }
            let keys = spec.keyPositions(argv)
            guard !keys.isEmpty else {
                if spec.firstKey == 0 && spec.movableKeys == nil && spec.keywordKeys == nil {
                    throw CommandError("ERR The command has no key arguments")
                }
                throw CommandError("ERR Invalid arguments specified for command")
            }
            c.out.arrayHeader(keys.count)
            for k in keys { c.out.bulk(argv[k]) }
        case "HELP":
            replyHelp(c, "COMMAND", [
                "(no subcommand)", "    Return details about all Redis commands.",
                "COUNT", "    Return the total number of commands in this Redis server.",
                "LIST", "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
            ])
        default:
            throw CommandError.unknownSubcommand(c.arg(1), "COMMAND")
        }
    }

    /// Flag names as COMMAND INFO shows them.
    static func flagNames(_ f: CommandFlags) -> [String] {
        let names: [(CommandFlags, String)] = [
            (.write, "write"), (.readonly, "readonly"), (.denyOOM, "denyoom"), (.admin, "admin"), (.pubsub, "pubsub"),
            (.noscript, "noscript"), (.blocking, "blocking"), (.loading, "loading"), (.stale, "stale"),
            (.skipMonitor, "skip_monitor"), (.fast, "fast"), (.noAuth, "no_auth"), (.noMulti, "no_multi"),
            (.mayReplicate, "may_replicate"), (.allowBusy, "allow_busy"),
        ]
        return names.filter { f.contains($0.0) }.map(\.1)
    }

    /// One COMMAND INFO entry: name, arity, flags, first, last, step, categories, tips, key specs, subcommands.
    private func writeCommandInfo(_ c: Client, _ spec: CommandSpec, parent: String? = nil) {
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
        c.out.arrayHeader(0)
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
                let s = CommandSpec(sub, -2, spec.flags, spec.categories) { _, _ in }
                writeCommandInfo(c, s, parent: spec.name)
            }
        } else {
            c.out.arrayHeader(0)
        }
    }

    /// A minimal COMMAND DOCS entry (redis-cli builds its hints from these fields).
    private func writeCommandDocs(_ c: Client, _ spec: CommandSpec) {
        c.out.mapHeader(4)
        c.out.bulk("summary"); c.out.bulk("The \(spec.name.uppercased()) command")
        c.out.bulk("since"); c.out.bulk("1.0.0")
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

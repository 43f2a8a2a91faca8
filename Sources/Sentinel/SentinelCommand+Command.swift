// COMMAND on a sentinel: COUNT, INFO, DOCS, LIST, GETKEYS, with Redis 7's reply shapes, all
// generated from the command table (so COMMAND shows exactly what the dispatcher runs).
import Shared

extension SentinelCommandTable {
    private static func sub(_ name: String, _ arity: Int, since: String, _ summary: String, complexity: String = "O(N) where N is the number of commands to look up",
                            _ h: @escaping SentinelHandler) -> SentinelCommandSpec {
        SentinelCommandSpec(name, arity, [.loading, .stale], ["slow", "connection"], group: "server", since: since, summary,
                            complexity: complexity, h)
    }

    static let commandCommand = SentinelCommandSpec(
        "command", -1, [.loading, .stale], ["slow", "connection"], group: "server", since: "2.8.13",
        "Returns detailed information about all commands.", complexity: "O(N) where N is the total number of commands",
        subcommands: [
            sub("count", 2, since: "2.8.13", "Returns a count of commands.", complexity: "O(1)") { _, c, _ in
                c.conn.output.integer(SentinelCommandTable.sorted.count)
            },
            sub("info", -2, since: "2.8.13", "Returns information about one, multiple or all commands.") { s, c, a in
                let names = a.count == 2 ? SentinelCommandTable.sorted.map(\.name) : a[2...].map { $0.lowercased() }
                c.conn.output.arrayHeader(names.count)
                for name in names {
                    if let spec = SentinelCommandTable.lookup(fullName: name) { s.writeCommandInfo(c, spec, fullName: name) } else { c.conn.output.nullArray() }
                }
            },
            sub("docs", -2, since: "7.0.0", "Returns documentary information about one, multiple or all commands.") { s, c, a in
                let specs = a.count == 2 ? SentinelCommandTable.sorted.map { ($0.name, $0) }
                    : a[2...].compactMap { n in SentinelCommandTable.lookup(fullName: n).map { (n.lowercased(), $0) } }
                c.mapHeader(specs.count)
                for (name, spec) in specs {
                    c.conn.output.bulk(name)
                    s.writeCommandDocs(c, spec, parent: name.contains("|") ? String(name.split(separator: "|")[0]) : nil)
                }
            },
            sub("list", -2, since: "7.0.0", "Returns a list of command names.", complexity: "O(N) where N is the total number of Redis commands") { _, c, a in
                var names = SentinelCommandTable.allNames
                if a.count > 2 {
                    guard a.count == 5, a[2].lowercased() == "filterby" else { throw CommandError.syntax }
                    let v = a[4]
                    switch a[3].lowercased() {
                    case "module": names = []
                    case "aclcat": names = names.filter { SentinelCommandTable.lookup(fullName: $0)?.categories.contains(v.lowercased()) ?? false }
                    case "pattern": names = names.filter { Glob.match(v, $0, nocase: true) }
                    default: throw CommandError.syntax
                    }
                }
                c.conn.output.bulks(names)
            },
            sub("getkeys", -3, since: "2.8.13", "Extracts the key names from an arbitrary command.",
                complexity: "O(N) where N is the number of arguments to the command") { _, _, a in
                try SentinelCommandTable.noKeys(Array(a[2...]))
            },
            sub("getkeysandflags", -3, since: "7.0.0", "Extracts the key names and access flags for an arbitrary command.",
                complexity: "O(N) where N is the number of arguments to the command") { _, _, a in
                try SentinelCommandTable.noKeys(Array(a[2...]))
            },
            sub("help", 2, since: "5.0.0", "Returns helpful text about the different subcommands.", complexity: "O(1)") { _, c, _ in
                c.replyHelp("COMMAND", CommandReply.commandHelp)
            },
        ]) { s, c, _ in
            c.conn.output.arrayHeader(SentinelCommandTable.sorted.count)
            for spec in SentinelCommandTable.sorted { s.writeCommandInfo(c, spec, fullName: spec.name) }
        }

    /// Every command and `container|sub` name (COMMAND LIST).
    static var allNames: [String] {
        sorted.flatMap { spec in [spec.name] + spec.subcommands.map { spec.name + "|" + $0.name } }
    }

    /// COMMAND GETKEYS for a sentinel: no command of ours has key arguments.
    static func noKeys(_ argv: [String]) throws {
        guard let first = argv.first, let spec = commands[first.lowercased()] else {
            throw CommandError("ERR Invalid command specified")
        }
        let target = argv.count > 1 ? spec.subcommand(argv[1]) ?? spec : spec
        guard target.accepts(argc: argv.count) else { throw CommandError("ERR Invalid number of arguments specified for command") }
        throw CommandError("ERR The command has no key arguments")
    }
}

extension SentinelServer {
    /// One COMMAND INFO entry: name, arity, flags, first/last/step key, ACL categories, tips, key
    /// specs, subcommands.
    func writeCommandInfo(_ c: SentinelClient, _ spec: SentinelCommandSpec, fullName: String) {
        let out = { (f: (inout RESPWriter) -> Void) in f(&c.conn.output) }
        out { $0.arrayHeader(10); $0.bulk(fullName); $0.integer(spec.arity) }
        let flags = spec.flags.infoNames
        out { $0.setHeader(flags.count) }
        for f in flags { out { $0.simple(f) } }
        out { $0.integer(0); $0.integer(0); $0.integer(0) }
        out { $0.setHeader(spec.categories.count) }
        for cat in spec.categories { out { $0.simple("@" + cat) } }
        out { $0.arrayHeader(0); $0.arrayHeader(0) }
        out { $0.arrayHeader(spec.subcommands.count) }
        for sub in spec.subcommands { writeCommandInfo(c, sub, fullName: fullName + "|" + sub.name) }
    }

    /// One COMMAND DOCS entry: summary, since, group, complexity, and the subcommands' entries.
    func writeCommandDocs(_ c: SentinelClient, _ spec: SentinelCommandSpec, parent: String?) {
        let name = parent.map { $0 + "|" + spec.name } ?? spec.name
        c.mapHeader(spec.subcommands.isEmpty ? 4 : 5)
        c.conn.output.bulk("summary"); c.conn.output.bulk(spec.summary)
        c.conn.output.bulk("since"); c.conn.output.bulk(spec.since)
        c.conn.output.bulk("group"); c.conn.output.bulk(spec.group)
        c.conn.output.bulk("complexity"); c.conn.output.bulk(spec.complexity)
        guard !spec.subcommands.isEmpty else { return }
        c.conn.output.bulk("subcommands")
        c.mapHeader(spec.subcommands.count)
        for sub in spec.subcommands {
            c.conn.output.bulk(name + "|" + sub.name)
            writeCommandDocs(c, sub, parent: name)
        }
    }
}

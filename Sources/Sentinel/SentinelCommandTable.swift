// Commands as data: each command a sentinel answers is a name, an arity, flags (Shared's
// CommandFlags), ACL categories, documentation, and a handler or a table of subcommands. The
// command set is redis-sentinel's (the commands Redis flags SENTINEL / ONLY_SENTINEL); the server
// registers it in Shared's CommandRegistry, and COMMAND describes exactly that table.
import Shared

extension CommandFlags {
    /// The names COMMAND INFO lists, in Redis's order (it does not list sentinel / only_sentinel).
    var infoNames: [String] {
        let all: [(CommandFlags, String)] = [
            (.admin, "admin"), (.pubsub, "pubsub"), (.noscript, "noscript"), (.loading, "loading"), (.stale, "stale"),
            (.fast, "fast"), (.noAuth, "no_auth"), (.mayReplicate, "may_replicate"), (.noMulti, "no_multi"), (.allowBusy, "allow_busy"),
        ]
        return all.filter { contains($0.0) }.map(\.1)
    }
}

/// A handler runs with the server, the client, and the arguments (name included).
typealias SentinelHandler = @Sendable (SentinelServer, SentinelClient, [String]) throws -> Void

/// One command or subcommand; the top-level ones are registered in the server's
/// `CommandRegistry`, the shared dispatcher's table.
struct SentinelCommandSpec: CommandDescriptor, Sendable {
    /// Lower-case name (`set` for SENTINEL SET).
    let name: String
    /// Redis arity, counting the container: positive = exact argc, negative = at least -arity.
    let arity: Int
    let flags: CommandFlags
    /// ACL categories without the `@`.
    let categories: [String]
    /// COMMAND DOCS fields.
    let summary: String
    let since: String
    let group: String
    let complexity: String
    /// Subcommands; a container's handler runs only when it has none.
    var subcommands: [SentinelCommandSpec] = []
    let handler: SentinelHandler?

    init(_ name: String, _ arity: Int, _ flags: CommandFlags, _ categories: [String], group: String, since: String,
         _ summary: String, complexity: String = "O(1)", subcommands: [SentinelCommandSpec] = [], _ handler: SentinelHandler? = nil) {
        self.name = name
        self.arity = arity
        self.flags = flags.union(.sentinel)
        self.categories = categories
        self.summary = summary
        self.since = since
        self.group = group
        self.complexity = complexity
        self.subcommands = subcommands
        self.handler = handler
    }

    /// True when `argc` arguments satisfy the arity.
    func accepts(argc: Int) -> Bool { CommandReply.arityMatches(arity, argc) }

    /// The subcommand named `name` (any case).
    func subcommand(_ name: String) -> SentinelCommandSpec? {
        let lower = name.lowercased()
        return subcommands.first { $0.name == lower }
    }
}

/// The table of every command a sentinel answers.
enum SentinelCommandTable {
    /// Top-level commands by name.
    static let commands: [String: SentinelCommandSpec] = {
        var t: [String: SentinelCommandSpec] = [:]
        for c in connectionCommands + [clientCommand, commandCommand, aclCommand, sentinelCommand] { t[c.name] = c }
        return t
    }()

    /// Commands in name order (COMMAND, COMMAND LIST).
    static let sorted: [SentinelCommandSpec] = commands.values.sorted { $0.name < $1.name }

    /// The command or `container|sub` named `name` (COMMAND INFO/DOCS take both forms).
    static func lookup(fullName name: String) -> SentinelCommandSpec? {
        let lower = name.lowercased()
        guard let bar = lower.firstIndex(of: "|") else { return commands[lower] }
        return commands[String(lower[..<bar])]?.subcommand(String(lower[lower.index(after: bar)...]))
    }
}

/// Redis's glob matching (stringmatchlen) for patterns on strings.
enum Glob {
    /// True when `string` matches `pattern` (`*`, `?`, `[...]`, `\` escapes).
    static func match(_ pattern: String, _ string: String, nocase: Bool = false) -> Bool {
        GlobMatch.matches(Array(pattern.utf8), Array(string.utf8), nocase: nocase)
    }
}

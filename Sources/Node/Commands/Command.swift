// Commands are data: a name, an arity, flags, key positions and a handler. One dispatcher
// (Server+Dispatch) does every check, so handlers only do their own work. The flags, the
// registry, CommandError and the shared wire texts live in Shared/Server (the sentinel uses them
// too); this is the node's spec type.
import Shared

/// A handler runs with the server and the client whose `argv` holds the command.
typealias CommandHandler = (Server, Client) throws -> Void

/// A command's description and implementation.
struct CommandSpec: CommandDescriptor {
    /// Lower-case name.
    let name: String
    /// Redis arity: positive = exact argc, negative = at least -arity.
    let arity: Int
    let flags: CommandFlags
    /// ACL categories without the `@` (for COMMAND INFO and ACL rules).
    let categories: [String]
    let firstKey: Int
    let lastKey: Int
    let keyStep: Int
    let handler: CommandHandler
    /// Subcommands (CONFIG GET, CLIENT LIST...) for COMMAND output; dispatch stays in the handler.
    var subcommands: [String] = []
    /// INFO commandstats counters of the command (shared by every copy of the spec).
    let stat: CommandStat
    /// The counters of each subcommand, by lower-case name.
    let subStats: [String: CommandStat]
    /// Each subcommand's arity, as Redis declares it (processCommand checks it).
    let subArities: [String: Int]
    /// Key positions that depend on the arguments (SORT ... STORE, ZINTERCARD numkeys ...), as
    /// Redis's getkeys_proc; nil when (firstKey, lastKey, keyStep) say it all. COMMAND INFO shows
    /// such commands as `movablekeys`.
    var movableKeys: (([Bytes]) -> [Int])? = nil
    /// Keys found after a keyword rather than at fixed positions (XREAD's STREAMS): movable keys.
    var keywordKeys: KeywordKeySpec? = nil

    init(_ name: String, _ arity: Int, _ flags: CommandFlags, _ categories: [String] = [],
         keys: (Int, Int, Int) = (0, 0, 0), keywordKeys: KeywordKeySpec? = nil, subcommands: [String] = [],
         _ handler: @escaping CommandHandler) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.categories = categories
        self.firstKey = keys.0
        self.lastKey = keys.1
        self.keyStep = keys.2
        self.subcommands = subcommands
        self.keywordKeys = keywordKeys
        self.handler = handler
        self.stat = CommandStat(name)
        var subs: [String: CommandStat] = [:]
        for s in subcommands { subs[s] = CommandStat(name + "|" + s) }
        self.subStats = subs
        var arities: [String: Int] = [:]
        if !subcommands.isEmpty, let entry = CommandCatalog.shared.entry(name) {
            for s in subcommands { if let a = entry.subcommands[s]?.arity { arities[s] = a } }
        }
        self.subArities = arities
    }

    /// Positions of key arguments in `argv`: argument-dependent (movable) ones, those after a
    /// keyword, or the fixed range.
    func keyPositions(_ argv: [Bytes]) -> [Int] {
        if let movableKeys { return movableKeys(argv).filter { $0 > 0 && $0 < argv.count } }
        if let k = keywordKeys { return k.positions(argv) }
        return keyIndexes(argv.count)
    }

    /// Positions of key arguments in `argv`.
    func keyIndexes(_ argc: Int) -> [Int] {
        guard firstKey > 0, keyStep > 0 else { return [] }
        let last = lastKey < 0 ? argc + lastKey : lastKey
        return Array(stride(from: firstKey, through: min(last, argc - 1), by: keyStep))
    }
}

/// A key spec whose keys follow a keyword (begin_search keyword, find_keys range): from the
/// first argument after `keyword` (searched from `startFrom`) to the end, keeping 1/`limit` of
/// them (XREAD ... STREAMS key... id...: the first half).
struct KeywordKeySpec {
    /// The keyword, upper-case.
    let keyword: String
    /// Where the search starts.
    let startFrom: Int
    /// Share of the remaining arguments that are keys.
    let limit: Int

    /// Key positions in `argv` (none if the keyword is absent).
    func positions(_ argv: [Bytes]) -> [Int] {
        let word = Array(keyword.utf8)
        guard startFrom < argv.count else { return [] }
        for i in startFrom..<argv.count where argv[i].count == word.count
            && zip(argv[i], word).allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0) == $1 }) {
            let n = (argv.count - i - 1) / max(1, limit)
            return Array((i + 1)..<(i + 1 + n))
        }
        return []
    }
}

/// A registered node command (the spec in a box, as the dispatcher's cache holds it).
typealias CommandRef = CommandRegistry<CommandSpec>.Entry

extension CommandSpec {
    /// This spec with argument-dependent key positions (see `movableKeys`).
    func movable(_ finder: @escaping ([Bytes]) -> [Int]) -> CommandSpec {
        var s = self
        s.movableKeys = finder
        return s
    }
}

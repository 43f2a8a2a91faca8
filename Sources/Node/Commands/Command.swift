// Commands are data: a name, an arity, flags, key positions and a handler. One dispatcher
// (Server+Dispatch) does every check, so handlers only do their own work.
import Shared

/// Command flags, as Redis's CMD_* flags.
struct CommandFlags: OptionSet {
    let rawValue: UInt32
    static let write = CommandFlags(rawValue: 1 << 0)
    static let readonly = CommandFlags(rawValue: 1 << 1)
    static let denyOOM = CommandFlags(rawValue: 1 << 2)
    static let admin = CommandFlags(rawValue: 1 << 3)
    static let pubsub = CommandFlags(rawValue: 1 << 4)
    static let noscript = CommandFlags(rawValue: 1 << 5)
    static let blocking = CommandFlags(rawValue: 1 << 6)
    static let loading = CommandFlags(rawValue: 1 << 7)
    /// Allowed on a replica whose link is down with replica-serve-stale-data no.
    static let stale = CommandFlags(rawValue: 1 << 8)
    static let skipMonitor = CommandFlags(rawValue: 1 << 9)
    static let fast = CommandFlags(rawValue: 1 << 10)
    /// Allowed before authentication (AUTH, HELLO, QUIT...).
    static let noAuth = CommandFlags(rawValue: 1 << 11)
    /// Not allowed inside MULTI (WATCH, MULTI itself...).
    static let noMulti = CommandFlags(rawValue: 1 << 12)
    /// Executes immediately even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    static let txControl = CommandFlags(rawValue: 1 << 13)
    static let mayReplicate = CommandFlags(rawValue: 1 << 14)
    /// Allowed in RESP2 subscribed context.
    static let okInSubscribe = CommandFlags(rawValue: 1 << 15)
    static let allowBusy = CommandFlags(rawValue: 1 << 16)
}

/// A handler runs with the server and the client whose `argv` holds the command.
typealias CommandHandler = (Server, Client) throws -> Void

/// A command's description and implementation.
struct CommandSpec {
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
    /// Key positions that depend on the arguments (SORT ... STORE, ZINTERCARD numkeys ...), as
    /// Redis's getkeys_proc; nil when (firstKey, lastKey, keyStep) say it all. COMMAND INFO shows
    /// such commands as `movablekeys`.
    var movableKeys: (([Bytes]) -> [Int])? = nil

    init(_ name: String, _ arity: Int, _ flags: CommandFlags, _ categories: [String] = [],
         keys: (Int, Int, Int) = (0, 0, 0), subcommands: [String] = [], _ handler: @escaping CommandHandler) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.categories = categories
        self.firstKey = keys.0
        self.lastKey = keys.1
        self.keyStep = keys.2
        self.subcommands = subcommands
        self.handler = handler
    }

    /// Positions of key arguments in `argv`, movable ones included (ACL checks, COMMAND GETKEYS).
    func keyPositions(_ argv: [Bytes]) -> [Int] {
        if let movableKeys { return movableKeys(argv).filter { $0 > 0 && $0 < argv.count } }
        return keyIndexes(argv.count)
    }

    /// Positions of key arguments in `argv`.
    func keyIndexes(_ argc: Int) -> [Int] {
        guard firstKey > 0, keyStep > 0 else { return [] }
        let last = lastKey < 0 ? argc + lastKey : lastKey
        return Array(stride(from: firstKey, through: min(last, argc - 1), by: keyStep))
    }
}

/// Errors a handler throws; the dispatcher writes `-<message>`.
struct CommandError: Error {
    let message: String
    init(_ message: String) { self.message = message }

    static let wrongType = CommandError("WRONGTYPE Operation against a key holding the wrong kind of value")
    static let syntax = CommandError("ERR syntax error")
    static let notInteger = CommandError("ERR value is not an integer or out of range")
    static let notFloat = CommandError("ERR value is not a valid float")
    static let noSuchKey = CommandError("ERR no such key")
    static let outOfRange = CommandError("ERR index out of range")
    static let invalidExpire = CommandError("ERR invalid expire time in '%s' command")
    static let overflow = CommandError("ERR increment or decrement would overflow")
    static let readonly = CommandError("READONLY You can't write against a read only replica.")
    static let noReplicas = CommandError("NOREPLICAS Not enough good replicas to write.")
    static let noAuth = CommandError("NOAUTH Authentication required.")
    static let wrongPass = CommandError("WRONGPASS invalid username-password pair or user is disabled.")
    static let dbIndexOutOfRange = CommandError("ERR DB index is out of range")

    static func wrongArity(_ name: String) -> CommandError {
        CommandError("ERR wrong number of arguments for '\(name)' command")
    }
    static func invalidExpireTime(_ name: String) -> CommandError {
        CommandError("ERR invalid expire time in '\(name)' command")
    }
}

extension CommandSpec {
    /// This spec with argument-dependent key positions (see `movableKeys`).
    func movable(_ finder: @escaping ([Bytes]) -> [Int]) -> CommandSpec {
        var s = self
        s.movableKeys = finder
        return s
    }
}

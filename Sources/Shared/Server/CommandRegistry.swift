// Commands as data, for both binaries: the flags (Redis's CMD_*), the protocol a command spec
// conforms to, and the registry that finds a spec by the bytes a client sent. Each binary has
// its own spec type (its handler signature differs) and runs the same checks and wire texts
// (CommandReply) in its processCommand, as Redis runs its sentinel commands from the one table.
//
// A second binary registers its table like this (a sketch; the sentinel's real one is
// SentinelCommandSpec, resolved in SentinelServer+Dispatch.swift):
//
//     struct SentinelCommandSpec: CommandDescriptor {
//         let name: String; let arity: Int; let flags: CommandFlags
//         let handler: (SentinelServer, SentinelClient) throws -> Void
//     }
//     let table = CommandRegistry<SentinelCommandSpec>([
//         SentinelCommandSpec(name: "ping", arity: -1, flags: [.sentinel, .fast, .okInSubscribe]) { s, c in ... },
//         SentinelCommandSpec(name: "sentinel", arity: -2, flags: [.sentinel, .admin]) { s, c in ... },
//     ])
//     // per request:
//     switch table.resolve(argv) {
//     case .reject(let text): c.out.error(text)
//     case .run(let entry):
//         if !c.authenticated && !entry.spec.flags.contains(.noAuth) { c.out.error(CommandReply.noAuth) }
//         else { try entry.spec.handler(server, c) }   // errors thrown as CommandError carry the wire text
//     }

/// Command flags, as Redis's CMD_* flags.
public struct CommandFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    public static let denyOOM = CommandFlags(rawValue: 1 << 2)
    public static let admin = CommandFlags(rawValue: 1 << 3)
    public static let pubsub = CommandFlags(rawValue: 1 << 4)
    public static let noscript = CommandFlags(rawValue: 1 << 5)
    public static let blocking = CommandFlags(rawValue: 1 << 6)
    public static let loading = CommandFlags(rawValue: 1 << 7)
    /// Allowed on a replica whose link is down with replica-serve-stale-data no.
    public static let stale = CommandFlags(rawValue: 1 << 8)
    public static let skipMonitor = CommandFlags(rawValue: 1 << 9)
    public static let fast = CommandFlags(rawValue: 1 << 10)
    /// Allowed before authentication (AUTH, HELLO, QUIT...).
    public static let noAuth = CommandFlags(rawValue: 1 << 11)
    /// Refused inside MULTI with "Command not allowed inside a transaction" (SAVE, SHUTDOWN...).
    public static let noMulti = CommandFlags(rawValue: 1 << 12)
    /// Executes immediately even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    public static let txControl = CommandFlags(rawValue: 1 << 13)
    /// Propagated although it changes no key (PUBLISH...): a WRITE pause holds it too.
    public static let mayReplicate = CommandFlags(rawValue: 1 << 14)
    /// Allowed in RESP2 subscribed context.
    public static let okInSubscribe = CommandFlags(rawValue: 1 << 15)
    public static let allowBusy = CommandFlags(rawValue: 1 << 16)
    /// Available in sentinel mode (Redis's CMD_SENTINEL).
    public static let sentinel = CommandFlags(rawValue: 1 << 17)
    /// Only in sentinel mode (Redis's CMD_ONLY_SENTINEL).
    public static let onlySentinel = CommandFlags(rawValue: 1 << 18)
    /// Never logged in the slow log (EXEC: its commands are, one by one).
    public static let skipSlowlog = CommandFlags(rawValue: 1 << 19)
    /// Keys are found by a procedure, not only by the key specs (Redis's movablekeys).
    public static let movableKeys = CommandFlags(rawValue: 1 << 20)
    /// May run with no key at all although it has key specs (EVAL, FCALL).
    public static let noMandatoryKeys = CommandFlags(rawValue: 1 << 21)
}

/// What the registry and the shared checks need to know about a command.
public protocol CommandDescriptor {
    /// Lower-case name.
    var name: String { get }
    /// Redis arity: positive = exact argc, negative = at least -arity.
    var arity: Int { get }
    /// The command's flags.
    var flags: CommandFlags { get }
}

/// The commands of one binary, by name, with a small cache keyed by the exact bytes clients send.
public final class CommandRegistry<Spec: CommandDescriptor> {
    /// A spec in a box, so a cache hit costs one retain instead of copying the struct.
    public final class Entry {
        /// The spec, as registered.
        public let spec: Spec
        /// The name exactly as a client spelled it (the cache key).
        public let rawName: Bytes
        public init(_ spec: Spec, rawName: Bytes) { self.spec = spec; self.rawName = rawName }
    }

    /// What `resolve` decided.
    public enum Resolution {
        /// Known command with a fitting arity.
        case run(Entry)
        /// The error reply to send (unknown command, wrong arity), already in Redis's text.
        case reject(String)
    }

    /// Size of the cache (a power of two).
    public static var slotCount: Int { 256 }

    @usableFromInline var byName: [String: Spec] = [:]
    @usableFromInline var slots: [Entry?]

    /// A registry holding `specs` (a later spec replaces an earlier one of the same name).
    public init(_ specs: [Spec]) {
        slots = Array(repeating: nil, count: Self.slotCount)
        for s in specs { byName[s.name] = s }
    }

    /// The spec registered under `name` (lower case); setting one replaces it and clears the cache.
    public subscript(name: String) -> Spec? {
        get { byName[name] }
        set {
            byName[name] = newValue
            slots = Array(repeating: nil, count: Self.slotCount)
        }
    }

    /// Every registered spec.
    public var values: Dictionary<String, Spec>.Values { byName.values }

    /// Number of registered commands.
    public var count: Int { byName.count }

    /// The command named by `raw` (any case). The cache is direct-mapped: FNV-1a of the name picks
    /// the slot, an exact compare confirms, so the common case neither builds a lower-cased
    /// String nor hashes a dictionary key. Only known names are cached and the cache has a fixed
    /// size, so clients sending random names cannot grow it.
    @inlinable @inline(__always)
    public func lookup(_ raw: Bytes) -> Entry? {
        var h: UInt32 = 2166136261
        for b in raw.prefix(32) { h = (h ^ UInt32(b)) &* 16777619 }
        let slot = Int(h & UInt32(Self.slotCount - 1))
        if let hit = slots[slot], hit.rawName == raw { return hit }
        return lookupSlow(raw, slot: slot)
    }

    @usableFromInline func lookupSlow(_ raw: Bytes, slot: Int) -> Entry? {
        guard let spec = byName[String(decoding: raw, as: UTF8.self).lowercased()] else { return nil }
        let e = Entry(spec, rawName: raw)
        slots[slot] = e
        return e
    }

    /// The first checks of every dispatcher, in Redis's order: the command exists, the arity fits.
    @inlinable
    public func resolve(_ argv: [Bytes]) -> Resolution {
        guard let first = argv.first, let e = lookup(first) else { return .reject(CommandReply.unknownCommand(argv)) }
        guard CommandReply.arityMatches(e.spec.arity, argv.count) else { return .reject(CommandReply.wrongArity(e.spec.name)) }
        return .run(e)
    }
}

/// Errors a handler throws; the dispatcher writes `-<message>`.
public struct CommandError: Error, Sendable {
    /// The error reply's text, without the leading `-`.
    public let message: String
    /// An error with this wire text.
    public init(_ message: String) { self.message = message }

    public static let wrongType = CommandError("WRONGTYPE Operation against a key holding the wrong kind of value")
    public static let syntax = CommandError("ERR syntax error")
    public static let notInteger = CommandError("ERR value is not an integer or out of range")
    public static let notFloat = CommandError("ERR value is not a valid float")
    public static let noSuchKey = CommandError("ERR no such key")
    public static let outOfRange = CommandError("ERR index out of range")
    public static let invalidExpire = CommandError("ERR invalid expire time in '%s' command")
    public static let overflow = CommandError("ERR increment or decrement would overflow")
    public static let readonly = CommandError("READONLY You can't write against a read only replica.")
    public static let noReplicas = CommandError("NOREPLICAS Not enough good replicas to write.")
    public static let noAuth = CommandError(CommandReply.noAuth)
    public static let wrongPass = CommandError("WRONGPASS invalid username-password pair or user is disabled.")
    public static let dbIndexOutOfRange = CommandError("ERR DB index is out of range")

    /// `ERR wrong number of arguments for '<name>' command`.
    public static func wrongArity(_ name: String) -> CommandError { CommandError(CommandReply.wrongArity(name)) }
    /// `ERR invalid expire time in '<name>' command`.
    public static func invalidExpireTime(_ name: String) -> CommandError {
        CommandError("ERR invalid expire time in '\(name)' command")
    }
}

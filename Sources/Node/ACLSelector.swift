// ACL selectors, as Redis 7.0's acl.c: a user's root permissions and each `(...)` selector are
// one ACLSelector. Commands are a bitmap over every command and subcommand (ACLCommandUniverse),
// so `+@all -get +get` and `+get` describe the same way Redis describes them: the shortest run of
// categories that fits, then single commands (Redis's ACLDescribeSelectorCommandRules).
import Shared

/// Every command and subcommand an ACL rule may name, numbered for the selectors' bitmaps:
/// Redis 7.0.15's catalog plus any command vigil adds.
final class ACLCommandUniverse {
    /// The one universe (built on first use: the default user's `+@all` never needs it).
    nonisolated(unsafe) static let shared = ACLCommandUniverse()

    /// One command or subcommand.
    struct Entry {
        /// `name` or `parent|sub`.
        let fullName: String
        /// Ids of the subcommands (a container command's rule covers them).
        var subs: [Int] = []
        /// Whether it is a subcommand.
        let isSub: Bool
    }

    /// Commands and subcommands; a command is followed by its subcommands.
    private(set) var entries: [Entry] = []
    /// Top-level ids in name order (the order single-command rules are described in).
    private(set) var topLevel: [Int] = []
    /// Per category (ACL.categories order), the ids in it.
    private(set) var members: [[Int]] = []
    private var ids: [String: Int] = [:]

    private init() {
        var specs: [String: CommandSpec] = [:]
        for s in CommandTable.all { specs[s.name] = s }
        var names = Set(specs.keys)
        for line in CommandCatalog.rawEntries {
            if let tab = line.firstIndex(of: "\t") { names.insert(String(line[..<tab])) }
        }
        var cats: [Set<String>] = []
        for name in names.sorted() {
            let entry = CommandCatalog.shared.entry(name)
            let spec = specs[name]
            let top = entries.count
            entries.append(Entry(fullName: name, isSub: false))
            cats.append(Set(entry?.categories ?? spec?.categories ?? []))
            ids[name] = top
            topLevel.append(top)
            let subs = entry.map { Array($0.subcommands.keys) } ?? spec?.subcommands ?? []
            for sub in Set(subs).sorted() {
                let full = name + "|" + sub
                let id = entries.count
                entries.append(Entry(fullName: full, isSub: true))
                cats.append(Set(entry?.subcommands[sub]?.categories ?? spec?.categories ?? []))
                ids[full] = id
                entries[top].subs.append(id)
            }
        }
        members = ACL.categories.map { c in cats.indices.filter { cats[$0].contains(c) } }
    }

    /// The id of `name` or `parent|sub` (lower case), or nil when there is no such command.
    func id(_ fullName: String) -> Int? { ids[fullName] }

    /// The id a command line is checked under: `name|sub` for a known subcommand, else `name`.
    func id(_ cmd: CommandSpec, _ argv: [Bytes]) -> Int? {
        if argv.count > 1, !cmd.subcommands.isEmpty, let top = ids[cmd.name], !entries[top].subs.isEmpty {
            let sub = cmd.name + "|" + String(decoding: argv[1], as: UTF8.self).lowercased()
            if let s = ids[sub] { return s }
        }
        return ids[cmd.name]
    }
}

/// A bitmap over command ids; ids past the stored words read as `fill`.
struct ACLCommandBits {
    private var words: [UInt64] = []
    private var fill: UInt64
    /// All clear, or all set (every present and future command).
    init(all: Bool) { fill = all ? ~0 : 0 }

    subscript(id: Int) -> Bool {
        get {
            let w = id >> 6
            return (w < words.count ? words[w] : fill) & (1 << UInt64(id & 63)) != 0
        }
        set {
            let w = id >> 6
            while words.count <= w { words.append(fill) }
            if newValue { words[w] |= 1 << UInt64(id & 63) } else { words[w] &= ~(1 << UInt64(id & 63)) }
        }
    }
}

/// Read/write permission of a key pattern (`~`: both, `%R~`, `%W~`, `%RW~`).
struct ACLKeyPerm: OptionSet {
    let rawValue: UInt8
    static let read = ACLKeyPerm(rawValue: 1)
    static let write = ACLKeyPerm(rawValue: 2)
    static let all: ACLKeyPerm = [.read, .write]

    /// The permission a key reference needs, from its key-spec flags (Redis's ACLSelectorCheckKey).
    init(keySpecFlags f: [String]) {
        var p: ACLKeyPerm = []
        if f.contains("access") { p.insert(.read) }
        if f.contains("insert") || f.contains("delete") || f.contains("update") { p.insert(.write) }
        self = p
    }
    init(rawValue: UInt8) { self.rawValue = rawValue }
}

/// One key pattern of a selector.
struct ACLKeyPattern {
    var perm: ACLKeyPerm
    let pattern: String
    /// As ACL LIST writes it.
    var text: String { (perm == .all ? "~" : perm == .read ? "%R~" : "%W~") + pattern }
}

/// Why a rule is refused (Redis's errno values in ACLSetUser), with Redis's words.
enum ACLRuleError: Error {
    case unknownName, syntax, keysAfterAll, channelsAfterAll, noSuchPassword, badHash, firstArgOfSubcommand

    var message: String {
        switch self {
        case .unknownName: return "Unknown command or category name in ACL"
        case .syntax: return "Syntax error"
        case .keysAfterAll: return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
        case .channelsAfterAll: return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
        case .noSuchPassword: return "The password you are trying to remove from the user does not exist"
        case .badHash: return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
        case .firstArgOfSubcommand: return "Allowing first-arg of a subcommand is not supported"
        }
    }
}

/// Why a command line is refused, with the argv index of the key or channel.
enum ACLDenial: Equatable {
    case command
    case key(Int)
    case channel(Int)

    /// Redis's ACL_DENIED_* order: when no selector allows a line, the highest is reported.
    var rank: Int {
        switch self { case .command: return 1; case .key: return 2; case .channel: return 4 }
    }
    var position: Int {
        switch self { case .command: return 0; case .key(let i), .channel(let i): return i }
    }
    /// ACL LOG's reason.
    var logReason: String {
        switch self { case .command: return "command"; case .key: return "key"; case .channel: return "channel" }
    }
    /// The end of "The user executing the script ..." (Redis's getAclErrorMessage).
    var scriptReason: String {
        switch self {
        case .command: return "can't run this command or subcommand"
        case .key: return "can't access at least one of the keys mentioned in the command arguments"
        case .channel: return "can't publish to the channel mentioned in the command"
        }
    }
    /// The reason EXEC gives when the rules changed after queueing.
    var execReason: String {
        switch self {
        case .command: return "no permission to execute the command or subcommand"
        case .key: return "no permission to touch the specified keys"
        case .channel: return "no permission to access one of the channels used as arguments"
        }
    }
}

/// Permissions of one selector: commands, key patterns, channel patterns.
struct ACLSelector {
    var allKeys = false
    var allChannels = false
    /// Redis's SELECTOR_FLAG_ALLCOMMANDS: set by `+@all`, cleared by any later removal.
    var allCommands = false
    /// Redis's reserved "future commands" bit: `+@all` was the base (kept through removals).
    var future = false
    var bits = ACLCommandBits(all: false)
    /// First arguments allowed for an otherwise denied command (`+select|0`), by command id.
    var firstArgs: [Int: [String]] = [:]
    var keyPatterns: [ACLKeyPattern] = []
    var channels: [String] = []

    /// An empty selector; `allChannels` follows acl-pubsub-default.
    init(allChannels: Bool = false) { self.allChannels = allChannels }

    // MARK: - Rules

    /// Applies one selector rule (Redis's ACLSetSelector).
    mutating func apply(_ op: String) throws(ACLRuleError) {
        switch op.lowercased() {
        case "allkeys", "~*": allKeys = true; keyPatterns = []
        case "resetkeys": allKeys = false; keyPatterns = []
        case "allchannels", "&*": allChannels = true; channels = []
        case "resetchannels": allChannels = false; channels = []
        case "allcommands", "+@all":
            bits = ACLCommandBits(all: true); allCommands = true; future = true; firstArgs = [:]
        case "nocommands", "-@all":
            bits = ACLCommandBits(all: false); allCommands = false; future = false; firstArgs = [:]
        default:
            let b = Array(op.utf8)
            guard let first = b.first else { throw .syntax }
            switch first {
            case UInt8(ascii: "~"), UInt8(ascii: "%"): try addKeyPattern(b)
            case UInt8(ascii: "&"):
                if allChannels { throw .channelsAfterAll }
                let pattern = String(decoding: b.dropFirst(), as: UTF8.self)
                if ACLSelector.hasSpaces(b.dropFirst()) { throw .syntax }
                if !channels.contains(pattern) { channels.append(pattern) }
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                let allow = first == UInt8(ascii: "+")
                let body = String(decoding: b.dropFirst(), as: UTF8.self).lowercased()
                if body.hasPrefix("@") {
                    guard let cat = ACL.categories.firstIndex(of: String(body.dropFirst())) else { throw .unknownName }
                    setCategory(cat, allow)
                } else if allow, let bar = body.lastIndex(of: "|") {
                    try allowFirstArg(String(body[..<bar]), String(body[body.index(after: bar)...]), full: body)
                } else {
                    guard let id = ACLCommandUniverse.shared.id(body) else { throw .unknownName }
                    changePerm(id, allow)
                }
            default: throw .syntax
            }
        }
    }

    /// `~pattern`, `%R~pattern`, `%W~pattern`, `%RW~pattern`.
    private mutating func addKeyPattern(_ b: [UInt8]) throws(ACLRuleError) {
        if allKeys { throw .keysAfterAll }
        var perm: ACLKeyPerm = []
        var offset = 1
        if b[0] == UInt8(ascii: "%") {
            while offset < b.count {
                let ch = b[offset] & ~0x20
                if ch == UInt8(ascii: "R") && !perm.contains(.read) { perm.insert(.read) }
                else if ch == UInt8(ascii: "W") && !perm.contains(.write) { perm.insert(.write) }
                else if b[offset] == UInt8(ascii: "~") { offset += 1; break }
                else { throw .syntax }
                offset += 1
            }
            // `%` with no permission would name nothing; Redis cannot describe it either.
            if perm.isEmpty { throw .syntax }
        } else {
            perm = .all
        }
        if ACLSelector.hasSpaces(b[offset...]) { throw .syntax }
        let pattern = String(decoding: b[offset...], as: UTF8.self)
        if let i = keyPatterns.firstIndex(where: { $0.pattern == pattern }) {
            keyPatterns[i].perm.formUnion(perm)
        } else {
            keyPatterns.append(ACLKeyPattern(perm: perm, pattern: pattern))
        }
        allKeys = false
    }

    /// `+cmd|sub` (a subcommand) or `+cmd|arg` (a first argument of a plain command).
    private mutating func allowFirstArg(_ name: String, _ sub: String, full: String) throws(ACLRuleError) {
        let u = ACLCommandUniverse.shared
        guard let id = u.id(name) else { throw .unknownName }
        if u.entries[id].isSub { throw .firstArgOfSubcommand }
        if sub.isEmpty { throw .syntax }
        if !u.entries[id].subs.isEmpty {
            guard let subID = u.id(full) else { throw .unknownName }
            changePerm(subID, true)
            return
        }
        var list = firstArgs[id] ?? []
        if !list.contains(sub) { list.append(sub) }
        firstArgs[id] = list
    }

    /// Allows or denies one command and, for a container, all its subcommands.
    mutating func changePerm(_ id: Int, _ allow: Bool) {
        setBit(id, allow)
        firstArgs[id] = nil
        for s in ACLCommandUniverse.shared.entries[id].subs { setBit(s, allow) }
    }

    private mutating func setBit(_ id: Int, _ allow: Bool) {
        bits[id] = allow
        if !allow { allCommands = false }
    }

    /// `+@cat` / `-@cat` by index into ACL.categories.
    mutating func setCategory(_ cat: Int, _ allow: Bool) {
        for id in ACLCommandUniverse.shared.members[cat] { changePerm(id, allow) }
    }

    /// Redis's ACLStringHasSpaces: patterns may not hold whitespace or NUL.
    static func hasSpaces(_ b: ArraySlice<UInt8>) -> Bool {
        b.contains { $0 == 0 || $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0d) }
    }

    // MARK: - Checks

    /// Whether this selector allows the line; `keys` is computed once per line for all selectors.
    func check(_ id: Int?, _ cmd: CommandSpec, _ argv: [Bytes], _ keys: inout [KeyReference]?) -> ACLDenial? {
        if !allCommands && !cmd.flags.contains(.noAuth) {
            guard let id else { return .command }
            if !bits[id] {
                guard argv.count >= 2, let allowed = firstArgs[id] else { return .command }
                let arg = String(decoding: argv[1], as: UTF8.self).lowercased()
                if !allowed.contains(arg) { return .command }
            }
        }
        if !allKeys {
            if keys == nil { keys = ACLSelector.keyReferences(cmd, argv) }
            for k in keys ?? [] where !keyAllowed(argv[k.pos], ACLKeyPerm(keySpecFlags: k.flags)) {
                return .key(k.pos)
            }
        }
        if !allChannels, let ch = ACLSelector.channelArguments(cmd.name, argv.count) {
            for i in ch.range where !channelAllowed(argv[i], isPattern: ch.isPattern) { return .channel(i) }
        }
        return nil
    }

    /// Whether a key pattern with at least `need` permits `key`.
    func keyAllowed(_ key: Bytes, _ need: ACLKeyPerm) -> Bool {
        if allKeys { return true }
        return keyPatterns.contains { $0.perm.isSuperset(of: need) && GlobMatch.matches(Array($0.pattern.utf8), key) }
    }

    /// Whether every key is allowed with `need` (`~*`, `%R~*`, allkeys): SORT BY/GET need it.
    func hasUnrestrictedKeyAccess(_ need: ACLKeyPerm) -> Bool {
        allKeys || keyPatterns.contains { $0.perm.isSuperset(of: need) && $0.pattern == "*" }
    }

    /// A channel is matched against the patterns; a PSUBSCRIBE pattern only literally.
    func channelAllowed(_ channel: Bytes, isPattern: Bool) -> Bool {
        if allChannels { return true }
        return channels.contains { p in
            isPattern ? Array(p.utf8) == channel : GlobMatch.matches(Array(p.utf8), channel)
        }
    }

    /// The key arguments of a line with their key-spec flags (Redis's getKeysFromCommandWithSpecs);
    /// vigil's own positions, read+write, when the catalog has no answer.
    static func keyReferences(_ cmd: CommandSpec, _ argv: [Bytes]) -> [KeyReference] {
        var entry = CommandCatalog.shared.entry(cmd.name)
        if argv.count > 1, let e = entry, !e.subcommands.isEmpty {
            entry = e.subcommands[String(decoding: argv[1], as: UTF8.self).lowercased()]
        }
        if let entry, let refs = entry.keys(argv) { return refs.filter { $0.pos < argv.count } }
        return cmd.keyPositions(argv).filter { $0 < argv.count }.map { KeyReference(pos: $0, flags: ["access", "update"]) }
    }

    /// The channel arguments ACLs check (Redis's commands_with_channels, publish and subscribe).
    static func channelArguments(_ name: String, _ argc: Int) -> (range: Range<Int>, isPattern: Bool)? {
        switch name {
        case "subscribe", "ssubscribe": return (1..<argc, false)
        case "psubscribe": return (1..<argc, true)
        case "publish", "spublish": return (1..<min(2, argc), false)
        default: return nil
        }
    }

    // MARK: - Description

    /// `~* &* +@all`, `%R~app* resetchannels &news -@all +get`: what ACL LIST shows for it.
    var description: String {
        var parts: [String] = []
        if allKeys { parts.append("~*") } else { parts += keyPatterns.map(\.text) }
        if allChannels { parts.append("&*") } else { parts.append("resetchannels"); parts += channels.map { "&" + $0 } }
        parts.append(commandRules)
        return parts.joined(separator: " ")
    }

    /// GETUSER's `keys`.
    var keysText: String { allKeys ? "~*" : keyPatterns.map(\.text).joined(separator: " ") }
    /// GETUSER's `channels`.
    var channelsText: String { allChannels ? "&*" : channels.map { "&" + $0 }.joined(separator: " ") }

    /// The command rules that rebuild this bitmap: `+@all` or `-@all`, then the categories that fit
    /// best, then single commands (Redis's ACLDescribeSelectorCommandRules).
    var commandRules: String {
        let u = ACLCommandUniverse.shared
        let additive = !future
        var rules = [additive ? "-@all" : "+@all"]
        var fake = ACLSelector()
        if !additive { fake.bits = ACLCommandBits(all: true) }
        var temp = self
        var applied = [Bool](repeating: false, count: ACL.categories.count)
        while true {
            var best = -1, minDiff = Int.max, maxSame = 0
            for j in ACL.categories.indices where !applied[j] {
                var on = 0, off = 0
                for id in u.members[j] { if temp.bits[id] { on += 1 } else { off += 1 } }
                let diff = additive ? off : on, same = additive ? on : off
                if same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)) {
                    best = j; minDiff = diff; maxSame = same
                }
            }
            if best < 0 { break }
            fake.setCategory(best, additive)
            temp.setCategory(best, !additive)
            rules.append((additive ? "+@" : "-@") + ACL.categories[best])
            applied[best] = true
        }
        for top in u.topLevel { describeSingle(top, &fake, &rules) }
        return rules.joined(separator: " ")
    }

    private func describeSingle(_ id: Int, _ fake: inout ACLSelector, _ rules: inout [String]) {
        let u = ACLCommandUniverse.shared
        let mine = bits[id]
        if mine != fake.bits[id] {
            rules.append((mine ? "+" : "-") + u.entries[id].fullName)
            fake.changePerm(id, mine)
        }
        for s in u.entries[id].subs { describeSingle(s, &fake, &rules) }
        if !mine, let args = firstArgs[id] {
            for a in args { rules.append("+" + u.entries[id].fullName + "|" + a) }
        }
    }
}

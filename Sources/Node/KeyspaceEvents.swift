// Keyspace notifications (Redis's notify.c): commands call `notifyKeyspaceEvent` exactly where
// Redis 7.0 calls notifyKeyspaceEvent, with the same class and event name; when the class is
// enabled by `notify-keyspace-events`, the event is published on `__keyspace@<db>__:<key>`
// (message: the event) and/or `__keyevent@<db>__:<event>` (message: the key), through the same
// pub/sub delivery as PUBLISH (so RESP3 subscribers get pushes, and CLIENT REPLY OFF does not
// silence them). Notifications are not propagated: replicas and the AOF replay the commands,
// which notify there by themselves. When no class is enabled the cost is one load and a test.
import Shared

/// Classes of keyspace events, as Redis's NOTIFY_* bits and `notify-keyspace-events` letters.
struct KeyspaceEvents: OptionSet, Sendable {
    let rawValue: UInt32
    init(rawValue: UInt32) { self.rawValue = rawValue }
    /// K: publish on `__keyspace@<db>__:<key>`.
    static let keyspace = KeyspaceEvents(rawValue: 1 << 0)
    /// E: publish on `__keyevent@<db>__:<event>`.
    static let keyevent = KeyspaceEvents(rawValue: 1 << 1)
    /// g: generic commands (DEL, EXPIRE, RENAME...).
    static let generic = KeyspaceEvents(rawValue: 1 << 2)
    /// $: string commands.
    static let string = KeyspaceEvents(rawValue: 1 << 3)
    /// l: list commands.
    static let list = KeyspaceEvents(rawValue: 1 << 4)
    /// s: set commands.
    static let set = KeyspaceEvents(rawValue: 1 << 5)
    /// h: hash commands.
    static let hash = KeyspaceEvents(rawValue: 1 << 6)
    /// z: sorted set commands.
    static let zset = KeyspaceEvents(rawValue: 1 << 7)
    /// x: a key expired (lazily or by the active cycle).
    static let expired = KeyspaceEvents(rawValue: 1 << 8)
    /// e: a key was evicted for maxmemory.
    static let evicted = KeyspaceEvents(rawValue: 1 << 9)
    /// t: stream commands.
    static let stream = KeyspaceEvents(rawValue: 1 << 10)
    /// m: a read found no key (not part of A, as in Redis).
    static let keyMiss = KeyspaceEvents(rawValue: 1 << 11)
    /// Module-only "loaded" events (no letter).
    static let loaded = KeyspaceEvents(rawValue: 1 << 12)
    /// d: module events (none here; accepted and shown as Redis does).
    static let module = KeyspaceEvents(rawValue: 1 << 13)
    /// n: a new key was created (not part of A).
    static let new = KeyspaceEvents(rawValue: 1 << 14)
    /// A: g$lshzxetd.
    static let all: KeyspaceEvents = [.generic, .string, .list, .set, .hash, .zset, .expired, .evicted, .stream, .module]

    /// Parses the letters of `notify-keyspace-events` (Redis's keyspaceEventsStringToFlags);
    /// nil for an unknown letter.
    init?(letters: String) {
        var f: KeyspaceEvents = []
        for ch in letters.unicodeScalars {
            switch ch {
            case "A": f.formUnion(.all)
            case "g": f.insert(.generic)
            case "$": f.insert(.string)
            case "l": f.insert(.list)
            case "s": f.insert(.set)
            case "h": f.insert(.hash)
            case "z": f.insert(.zset)
            case "x": f.insert(.expired)
            case "e": f.insert(.evicted)
            case "K": f.insert(.keyspace)
            case "E": f.insert(.keyevent)
            case "t": f.insert(.stream)
            case "m": f.insert(.keyMiss)
            case "d": f.insert(.module)
            case "n": f.insert(.new)
            default: return nil
            }
        }
        self = f
    }

    /// The canonical letters CONFIG GET shows (keyspaceEventsFlagsToString).
    var letters: String {
        var s = ""
        if isSuperset(of: .all) {
            s = "A"
        } else {
            let order: [(KeyspaceEvents, String)] = [(.generic, "g"), (.string, "$"), (.list, "l"), (.set, "s"),
                (.hash, "h"), (.zset, "z"), (.expired, "x"), (.evicted, "e"), (.stream, "t"), (.module, "d"), (.new, "n")]
            for (flag, letter) in order where contains(flag) { s += letter }
        }
        if contains(.keyspace) { s += "K" }
        if contains(.keyevent) { s += "E" }
        if contains(.keyMiss) { s += "m" }
        return s
    }

    /// The error CONFIG SET gives for an unknown letter.
    static let invalidMessage = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
}

extension Server {
    /// Raises a keyspace event of class `type` named `event` for `key` in `db` (Redis's
    /// notifyKeyspaceEvent). Every family calls it where Redis does, after the change is made.
    /// Streams: `notifyKeyspaceEvent(.stream, "xadd", db, key)` and so on for each NOTIFY_STREAM
    /// point (`streamEvent` forwards here).
    @inline(__always)
    func notifyKeyspaceEvent(_ type: KeyspaceEvents, _ event: StaticString, _ db: Database, _ key: Key) {
        guard config.notifyKeyspaceEvents.rawValue & type.rawValue != 0 else { return }
        publishKeyspaceEvent(event, db.id, key)
    }

    /// As `notifyKeyspaceEvent(_:_:_:_:)` for a key held as bytes.
    @inline(__always)
    func notifyKeyspaceEvent(_ type: KeyspaceEvents, _ event: StaticString, _ db: Database, _ key: Bytes) {
        guard config.notifyKeyspaceEvents.rawValue & type.rawValue != 0 else { return }
        publishKeyspaceEvent(event, db.id, Key(key))
    }

    /// Installs (or removes) the databases' new-key hook after `notify-keyspace-events` changed.
    func applyKeyspaceEventsConfig() {
        let wantsNew = config.notifyKeyspaceEvents.contains(.new)
            && !config.notifyKeyspaceEvents.isDisjoint(with: [.keyspace, .keyevent])
        for db in databases {
            db.onNewKey = wantsNew ? { [unowned self] db, key in self.notifyKeyspaceEvent(.new, "new", db, key) } : nil
        }
    }

    /// Publishes one event on the keyspace and/or keyevent channels the configuration enables.
    private func publishKeyspaceEvent(_ event: StaticString, _ db: Int, _ key: Key) {
        let flags = config.notifyKeyspaceEvents
        let eventBytes = Bytes(UnsafeBufferPointer(start: event.utf8Start, count: event.utf8CodeUnitCount))
        let dbText = Bytes(String(db).utf8)
        let keyBytes = key.bytes
        if flags.contains(.keyspace) {
            var channel = Bytes("__keyspace@".utf8)
            channel += dbText
            channel += Bytes("__:".utf8)
            channel += keyBytes
            publish(channel: channel, message: eventBytes)
        }
        if flags.contains(.keyevent) {
            var channel = Bytes("__keyevent@".utf8)
            channel += dbText
            channel += Bytes("__:".utf8)
            channel += eventBytes
            publish(channel: channel, message: keyBytes)
        }
    }
}

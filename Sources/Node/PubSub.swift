// Channel and pattern subscriptions, and message delivery.
import Shared

/// The server's subscription tables.
struct PubSub {
    var channels: [Key: [Client]] = [:]
    var patterns: [Key: [Client]] = [:]

    /// Drops every subscription of `c` (on disconnect or RESET).
    mutating func unsubscribeAll(_ c: Client) {
        for ch in c.channels { PubSub.remove(&channels, ch, c) }
        for p in c.patterns { PubSub.remove(&patterns, p, c) }
        c.channels = []
        c.patterns = []
    }

    static func remove(_ table: inout [Key: [Client]], _ k: Key, _ c: Client) {
        guard var list = table[k] else { return }
        list.removeAll { $0 === c }
        table[k] = list.isEmpty ? nil : list
    }
}

/// Keys watched by clients in WATCH, per database.
struct WatchTable {
    var watchers: [Int: [Key: [Client]]] = [:]
    var isEmpty: Bool { watchers.isEmpty }

    mutating func watch(_ c: Client, db: Int, key: Key) {
        if c.watchedKeys.contains(where: { $0.db == db && $0.key == key }) { return }
        c.watchedKeys.append((db, key))
        watchers[db, default: [:]][key, default: []].append(c)
    }

    /// A watched key changed: every watcher's EXEC will fail.
    func touch(db: Int, key: Key) {
        guard let list = watchers[db]?[key] else { return }
        for c in list { c.flags.insert(.dirtyCAS) }
    }

    func touchAll(db: Int) {
        guard let table = watchers[db] else { return }
        for list in table.values { for c in list { c.flags.insert(.dirtyCAS) } }
    }

    mutating func unwatchAll(_ c: Client) {
        for (db, key) in c.watchedKeys {
            guard var list = watchers[db]?[key] else { continue }
            list.removeAll { $0 === c }
            watchers[db]![key] = list.isEmpty ? nil : list
            if watchers[db]!.isEmpty { watchers[db] = nil }
        }
        c.watchedKeys = []
    }
}

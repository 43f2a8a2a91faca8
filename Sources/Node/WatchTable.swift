// WATCH bookkeeping: the keys each client watches, per database, and the touch that dooms the
// watchers' EXEC.
import Shared

/// Keys watched by clients in WATCH, per database.
struct WatchTable {
    var watchers: [Int: [Key: [Client]]] = [:]
    /// Per client id, the watched keys that were already logically expired when watched: their
    /// later deletion is not a change, while any other watched key expiring dooms the EXEC.
    var expiredWhenWatched: [Int: Set<WatchedKey>] = [:]
    var isEmpty: Bool { watchers.isEmpty }

    /// A (database, key) pair.
    struct WatchedKey: Hashable {
        let db: Int
        let key: Key
    }

    mutating func watch(_ c: Client, db: Int, key: Key, expired: Bool = false) {
        if c.watchedKeys.contains(where: { $0.db == db && $0.key == key }) { return }
        c.watchedKeys.append((db, key))
        watchers[db, default: [:]][key, default: []].append(c)
        if expired { expiredWhenWatched[c.id, default: []].insert(WatchedKey(db: db, key: key)) }
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

    /// Before FLUSHDB/FLUSHALL/SWAPDB empties or replaces `db`: dooms the watchers of keys that
    /// exist in it or in its `replacement` (watching an absent key that stays absent is no
    /// conflict, as Redis's touchAllWatchedKeysInDb decides).
    func touchExisting(in db: Database, replacement: Database? = nil) {
        guard let table = watchers[db.id] else { return }
        for (key, list) in table where db.dict[key] != nil || replacement?.dict[key] != nil {
            for c in list { c.flags.insert(.dirtyCAS) }
        }
    }

    /// True if a key `c` watches has expired since WATCH (Redis's isWatchedKeyExpired).
    func watchedKeyExpired(_ c: Client, databases: [Database], now: Int64) -> Bool {
        let before = expiredWhenWatched[c.id]
        for (db, key) in c.watchedKeys where db >= 0 && db < databases.count {
            if before?.contains(WatchedKey(db: db, key: key)) == true { continue }
            if databases[db].dict[key] != nil && databases[db].isExpired(key, now: now) { return true }
        }
        return false
    }

    mutating func unwatchAll(_ c: Client) {
        for (db, key) in c.watchedKeys {
            guard var table = watchers[db], var list = table[key] else { continue }
            list.removeAll { $0 === c }
            table[key] = list.isEmpty ? nil : list
            watchers[db] = table.isEmpty ? nil : table
        }
        c.watchedKeys = []
        expiredWhenWatched[c.id] = nil
    }
}

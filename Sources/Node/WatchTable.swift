// WATCH bookkeeping, as Redis 7.0's multi.c: the keys each client watches, per database, each
// with whether it was already logically expired when watched. Touching a key dooms its watchers'
// EXEC, except that deleting a key that was already stale when watched is no change.
import Shared

/// Keys watched by clients in WATCH, per database.
struct WatchTable {
    /// A (database, key) pair.
    struct WatchedKey: Hashable {
        let db: Int
        let key: Key
    }

    var watchers: [Int: [Key: [Client]]] = [:]
    /// Per client id, the watched keys that were logically expired when watched (and are still
    /// there, stale): their deletion is no change, while any other watched key expiring dooms EXEC.
    var expiredWhenWatched: [Int: Set<WatchedKey>] = [:]
    var isEmpty: Bool { watchers.isEmpty }

    mutating func watch(_ c: Client, db: Int, key: Key, expired: Bool = false) {
        if c.watchedKeys.contains(where: { $0.db == db && $0.key == key }) { return }
        c.watchedKeys.append((db, key))
        watchers[db, default: [:]][key, default: []].append(c)
        if expired { expiredWhenWatched[c.id, default: []].insert(WatchedKey(db: db, key: key)) }
    }

    private func wasStale(_ c: Client, _ k: WatchedKey) -> Bool {
        expiredWhenWatched[c.id]?.contains(k) ?? false
    }

    private mutating func clearStale(_ c: Client, _ k: WatchedKey) {
        expiredWhenWatched[c.id]?.remove(k)
        if expiredWhenWatched[c.id]?.isEmpty == true { expiredWhenWatched[c.id] = nil }
    }

    /// `key` of `db` changed: every watcher's EXEC will fail. A watcher that watched it stale
    /// is spared when the key is now gone (its expiry was merely carried out); if the stale key
    /// is still there, Redis stops at that watcher, and so do we (touchWatchedKey's `break`).
    mutating func touch(_ db: Database, _ key: Key) {
        guard let list = watchers[db.id]?[key] else { return }
        let k = WatchedKey(db: db.id, key: key)
        for c in list {
            if wasStale(c, k) {
                if db.dict[key] == nil { clearStale(c, k); continue }
                break
            }
            c.flags.insert(.dirtyCAS)
        }
    }

    /// Before FLUSHDB/FLUSHALL/SWAPDB empties or replaces `db` (Redis's touchAllWatchedKeysInDb):
    /// dooms the watchers of keys that exist in it or in its `replacement`, except a stale key
    /// that is simply gone, a stale key replaced by another stale key, and an absent key replaced
    /// by a stale one (which is then watched as stale).
    mutating func touchExisting(in db: Database, replacement: Database? = nil, now: Int64) {
        guard let table = watchers[db.id] else { return }
        for (key, list) in table {
            let inEmptied = db.dict[key] != nil
            let inReplacement = replacement?.dict[key] != nil
            guard inEmptied || inReplacement else { continue }
            let k = WatchedKey(db: db.id, key: key)
            for c in list {
                if wasStale(c, k) {
                    if !inReplacement { clearStale(c, k); continue }
                    if let r = replacement, r.isExpired(key, now: now) { continue }
                } else if !inEmptied, let r = replacement, r.isExpired(key, now: now) {
                    expiredWhenWatched[c.id, default: []].insert(k)
                    continue
                }
                c.flags.insert(.dirtyCAS)
            }
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

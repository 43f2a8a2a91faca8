// Channel and pattern subscriptions, and message delivery.
import Shared

/// The server's subscription tables. Subscribers are kept in subscription order, which is the
/// order Redis delivers in.
struct PubSub {
    var channels: [Key: [Client]] = [:]
    var patterns: [Key: [Client]] = [:]
    /// Shard channel → subscribers (SSUBSCRIBE; patterns never match them).
    var shardChannels: [Key: [Client]] = [:]
    /// Per client id, when its output first exceeded the soft limit (monotonic ms).
    var softLimitSince: [Int: Int64] = [:]

    /// Drops every subscription of `c` (on disconnect or RESET).
    mutating func unsubscribeAll(_ c: Client) {
        for ch in c.channels { PubSub.remove(&channels, ch, c) }
        for p in c.patterns { PubSub.remove(&patterns, p, c) }
        for ch in c.shardChannels { PubSub.remove(&shardChannels, ch, c) }
        c.channels = []
        c.patterns = []
        c.shardChannels = []
        softLimitSince[c.id] = nil
    }

    static func remove(_ table: inout [Key: [Client]], _ k: Key, _ c: Client) {
        guard var list = table[k] else { return }
        list.removeAll { $0 === c }
        table[k] = list.isEmpty ? nil : list
    }
}

extension Server {
    // MARK: - Delivery

    /// Sends `message` to the subscribers of `channel` and of matching patterns; returns how
    /// many deliveries were made (PUBLISH's reply).
    @discardableResult
    func publish(channel: Bytes, message: Bytes) -> Int {
        var receivers = 0
        let key = Key(channel)
        if let subscribers = pubsub.channels[key] {
            for c in subscribers where !c.flags.contains(.closeASAP) {
                c.out.pushHeader(3)
                c.out.bulk("message")
                c.out.bulk(channel)
                c.out.bulk(message)
                deliveredTo(c)
                receivers += 1
            }
        }
        if !pubsub.patterns.isEmpty {
            for (pattern, subscribers) in pubsub.patterns where GlobMatch.matches(pattern.bytes, channel) {
                for c in subscribers where !c.flags.contains(.closeASAP) {
                    c.out.pushHeader(4)
                    c.out.bulk("pmessage")
                    c.out.bulk(pattern.bytes)
                    c.out.bulk(channel)
                    c.out.bulk(message)
                    deliveredTo(c)
                    receivers += 1
                }
            }
        }
        return receivers
    }

    private func deliveredTo(_ c: Client) {
        markPendingWrite(c)
        checkOutputLimits(c)
    }

    // MARK: - Output buffer limits

    /// Applies `client-output-buffer-limit` to `c`'s pending output: past the hard limit, or past
    /// the soft limit for longer than its seconds, the client is closed (as Redis's
    /// checkClientOutputBufferLimits). Call after queueing output for a client that is not
    /// the one being served (pub/sub messages, replica streams). Returns true if `c` is closing.
    @discardableResult
    func checkOutputLimits(_ c: Client, now: Int64 = Clock.monotonicMillis()) -> Bool {
        if c.flags.contains(.master) || c.flags.contains(.closeASAP) { return c.flags.contains(.closeASAP) }
        let limit: OutputBufferLimit
        if c.flags.contains(.replica) && !c.flags.contains(.monitor) {
            limit = config.outputLimitReplica
        } else if c.flags.contains(.pubsub) {
            limit = config.outputLimitPubsub
        } else {
            limit = config.outputLimitNormal
        }
        let used = c.conn.pendingOutput
        let hard = limit.hard > 0 && used >= limit.hard
        var soft = false
        if limit.soft > 0 && used >= limit.soft {
            if let since = pubsub.softLimitSince[c.id] {
                soft = (now - since) / 1000 > Int64(limit.softSeconds)
            } else {
                pubsub.softLimitSince[c.id] = now  // first time over: start the clock
            }
        } else if pubsub.softLimitSince[c.id] != nil {
            pubsub.softLimitSince[c.id] = nil
        }
        guard hard || soft else { return false }
        log.warning("Client id=\(c.id) addr=\(c.addr) scheduled to be closed ASAP for overcoming of output buffer limits.")
        closeASAP(c)
        return true
    }
}

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

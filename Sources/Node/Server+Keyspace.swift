// Key lookups with expiry, typed accessors that throw WRONGTYPE, change notification (WATCH,
// blocked clients), and the active expire cycle.
import Shared

extension Server {
    // MARK: - Lookups

    /// Deletes `key` if its time has passed (masters only) and reports whether it is logically gone.
    /// Replicas never delete on their own: they wait for the master's DEL, but hide the key.
    @discardableResult
    func expireIfNeeded(_ db: Database, _ key: Key, now: Int64? = nil) -> Bool {
        // Inside a script time stands still at its start (Redis's scriptTimeSnapshot).
        guard db.isExpired(key, now: now ?? scriptRun?.timeSnapshot ?? clock.wallMillis()) else { return false }
        if masterHost != nil {
            // Our master's stream may still touch the key; only reads hide it.
            return currentClient.map { !$0.flags.contains(.master) } ?? true
        }
        if loading { return false }
        // A pause keeps the dataset fixed: the key reads as gone, its DEL waits for the end.
        if pause.isActive && clientsArePaused() { return true }
        deleteExpired(db, key)
        return true
    }

    /// Removes an expired key and propagates the deletion as DEL, as Redis does.
    func deleteExpired(_ db: Database, _ key: Key) {
        let lazy = config.lazyfreeLazyExpire
        if let old = db.remove(key), lazy { LazyFree.dispose(old) }
        stats.expiredKeys += 1
        notifyKeyspaceEvent(.expired, "expired", db, key)
        // Nobody changed it: a NOLOOP tracking client is told even if its own read expired it.
        signalModifiedKey(db, key, by: nil)
        alsoPropagate(db: db.id, [lazy ? Server.unlinkArgv : Server.delArgv, key.bytes])
    }

    /// The value of `key` for reading, or nil if absent or expired; counts hits and misses.
    @inline(__always)
    func lookupRead(_ db: Database, _ key: Key) -> Value? {
        if !db.expires.isEmpty && expireIfNeeded(db, key) { keyMissed(db, key); return nil }
        if let v = db.dict.lookupTouching(key) { stats.keyspaceHits += 1; return v }
        keyMissed(db, key)
        return nil
    }

    /// A read found no key: counted, and a `keymiss` event when asked for (Redis's lookupKey).
    @inline(__always) private func keyMissed(_ db: Database, _ key: Key) {
        stats.keyspaceMisses += 1
        notifyKeyspaceEvent(.keyMiss, "keymiss", db, key)
    }

    /// The value of `key` for writing (expired keys are removed first); stamps the access.
    @inline(__always)
    func lookupWrite(_ db: Database, _ key: Key) -> Value? {
        if !db.expires.isEmpty && expireIfNeeded(db, key) { return nil }
        return db.dict.lookupTouching(key)
    }

    /// True if `key` exists (not expired), without touching hit/miss stats.
    func exists(_ db: Database, _ key: Key) -> Bool {
        if !db.expires.isEmpty && expireIfNeeded(db, key) { return false }
        return db.dict[key] != nil
    }

    // MARK: - Typed access

    func readString(_ db: Database, _ key: Key) throws -> Bytes? {
        guard let v = lookupRead(db, key) else { return nil }
        guard case .string(let s) = v else { throw CommandError.wrongType }
        return s
    }

    func readList(_ db: Database, _ key: Key) throws -> ListValue? {
        guard let v = lookupRead(db, key) else { return nil }
        guard case .list(let l) = v else { throw CommandError.wrongType }
        return l
    }

    func readHash(_ db: Database, _ key: Key) throws -> HashValue? {
        guard let v = lookupRead(db, key) else { return nil }
        guard case .hash(let h) = v else { throw CommandError.wrongType }
        return h
    }

    func readSet(_ db: Database, _ key: Key) throws -> SetValue? {
        guard let v = lookupRead(db, key) else { return nil }
        guard case .set(let s) = v else { throw CommandError.wrongType }
        return s
    }

    func readZSet(_ db: Database, _ key: Key) throws -> SortedSetValue? {
        guard let v = lookupRead(db, key) else { return nil }
        guard case .zset(let z) = v else { throw CommandError.wrongType }
        return z
    }

    /// The list at `key` for writing; created (and stored) if absent and `create` is true.
    func writeList(_ db: Database, _ key: Key, create: Bool) throws -> ListValue? {
        if let v = lookupWrite(db, key) {
            guard case .list(let l) = v else { throw CommandError.wrongType }
            return l
        }
        guard create else { return nil }
        let l = ListValue()
        db.set(key, .list(l))
        return l
    }

    func writeHash(_ db: Database, _ key: Key, create: Bool) throws -> HashValue? {
        if let v = lookupWrite(db, key) {
            guard case .hash(let h) = v else { throw CommandError.wrongType }
            return h
        }
        guard create else { return nil }
        let h = HashValue()
        db.set(key, .hash(h))
        return h
    }

    func writeSet(_ db: Database, _ key: Key, create: Bool) throws -> SetValue? {
        if let v = lookupWrite(db, key) {
            guard case .set(let s) = v else { throw CommandError.wrongType }
            return s
        }
        guard create else { return nil }
        let s = SetValue()
        db.set(key, .set(s))
        return s
    }

    func writeZSet(_ db: Database, _ key: Key, create: Bool) throws -> SortedSetValue? {
        if let v = lookupWrite(db, key) {
            guard case .zset(let z) = v else { throw CommandError.wrongType }
            return z
        }
        guard create else { return nil }
        let z = SortedSetValue()
        db.set(key, .zset(z))
        return z
    }

    /// Deletes a container key that became empty (Redis never keeps empty aggregates).
    func deleteIfEmpty(_ db: Database, _ key: Key) {
        guard let v = db.dict[key] else { return }
        let empty: Bool
        switch v {
        case .string: empty = false
        case .list(let l): empty = l.count == 0
        case .hash(let h): empty = h.count == 0
        case .set(let s): empty = s.count == 0
        case .zset(let z): empty = z.count == 0
        case .stream: empty = false  // an empty stream is kept (its IDs and groups live on)
        }
        if empty {
            db.remove(key)
            notifyKeyspaceEvent(.generic, "del", db, key)
        }
    }

    // MARK: - Change notification

    /// Called after every change to `key` by the running command: invalidates WATCHes and
    /// client-side caches, wakes blocked clients.
    @inline(__always)
    func signalModifiedKey(_ db: Database, _ key: Key) {
        signalModifiedKey(db, key, by: currentClient)
    }

    /// As `signalModifiedKey(_:_:)`, naming who changed the key (nil: expiry, eviction), which
    /// tracking's NOLOOP mode needs.
    @inline(__always)
    func signalModifiedKey(_ db: Database, _ key: Key, by modifier: Client?) {
        if !watchTable.isEmpty { watchTable.touch(db, key) }
        if tracking.watching { trackingInvalidateKey(key, modifier: modifier) }
        signalKeyAsReady(db, key)
    }

    // MARK: - Active expiry

    /// Removes keys whose time has passed, within a small time budget per cron tick. Instead of
    /// Redis's random sampling, each database keeps a min-heap of deadlines, so exactly the due
    /// keys are found and keys nobody reads never pile up.
    func activeExpireCycle(now: Int64) {
        guard masterHost == nil, !loading, !clientsArePaused() else { return }
        let deadline = Clock.monotonicMicros() + 25_000
        for db in databases where !db.expires.isEmpty {
            var n = 0
            while let key = db.popDueExpiry(now: now) {
                deleteExpired(db, key)
                n += 1
                if n & 63 == 0 && Clock.monotonicMicros() > deadline { return }
            }
        }
    }
}

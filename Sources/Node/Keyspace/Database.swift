// One numbered database: the key → value table (with each key's access metadata, KeyTable) and,
// as in Redis, a second dictionary holding the expiry (unix ms) of keys that have one.
import Shared

/// A logical database (SELECT n).
final class Database {
    let id: Int
    /// The keys, their values and access metadata.
    var dict: KeyTable
    /// Absolute expiry times in unix milliseconds.
    var expires: [Key: Int64] = [:]
    /// Called when `set` creates a key (the `new` keyspace event, Redis's dbAdd); nil when
    /// nobody listens, so the hot path pays one test.
    var onNewKey: ((Database, Key) -> Void)? = nil

    /// A database whose keys are stamped by `aging` (the server's; a private one by default).
    init(id: Int, aging: KeyAging = KeyAging()) {
        self.id = id
        dict = KeyTable(aging: aging)
    }

    var count: Int { dict.count }

    /// The raw entry, ignoring expiry (persistence, DEBUG, SCAN internals).
    @inline(__always) func raw(_ key: Key) -> Value? { dict[key] }

    /// The expiry of `key`, or nil.
    @inline(__always) func expiry(_ key: Key) -> Int64? { expires.isEmpty ? nil : expires[key] }

    /// True if `key` has an expiry in the past at `now`.
    @inline(__always) func isExpired(_ key: Key, now: Int64) -> Bool {
        guard !expires.isEmpty, let t = expires[key] else { return false }
        return t <= now
    }

    /// Stores `value`, clearing any expiry unless `keepTTL` (SET semantics).
    @inline(__always) func set(_ key: Key, _ value: Value, keepTTL: Bool = false) {
        if dict.updateValue(value, forKey: key) == nil, let onNewKey { onNewKey(self, key) }
        if !keepTTL && !expires.isEmpty { expires.removeValue(forKey: key) }
    }

    /// Replaces the value of an existing key without touching its expiry (in-place updates).
    @inline(__always) func update(_ key: Key, _ value: Value) { dict.updateValue(value, forKey: key) }

    @discardableResult
    func remove(_ key: Key) -> Value? {
        guard let v = dict.removeValue(forKey: key) else { return nil }
        if !expires.isEmpty { expires.removeValue(forKey: key) }
        return v
    }

    func setExpiry(_ key: Key, _ at: Int64) {
        expires[key] = at
        heapPush(at, key)
    }

    // MARK: - Expiry heap

    /// Deadlines in a min-heap; entries whose key lost or changed its expiry are skipped lazily.
    private var heap: [(at: Int64, key: Key)] = []

    /// The next key whose expiry is due at `now` (and still current), or nil.
    func popDueExpiry(now: Int64) -> Key? {
        while let top = heap.first, top.at <= now {
            heapPop()
            if let t = expires[top.key], t == top.at, dict[top.key] != nil { return top.key }
        }
        if heap.count > 64 && heap.count > expires.count * 2 { rebuildHeap() }
        return nil
    }

    private func rebuildHeap() {
        heap = expires.map { (at: $0.value, key: $0.key) }
        heap.sort { $0.at < $1.at }  // a sorted array is a valid min-heap
    }

    private func heapPush(_ at: Int64, _ key: Key) {
        heap.append((at, key))
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if heap[p].at <= heap[i].at { break }
            heap.swapAt(p, i)
            i = p
        }
    }

    private func heapPop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].at < heap[m].at { m = l }
            if r < heap.count && heap[r].at < heap[m].at { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
    }
    @discardableResult
    func removeExpiry(_ key: Key) -> Bool { expires.removeValue(forKey: key) != nil }

    /// A uniformly random key that has an expiry (it may be logically expired), or nil. The
    /// deadline heap holds every volatile key at least once (stale entries are skipped), so a
    /// random slot of it is a fair sample of `expires` without a second table.
    func randomVolatileKey(_ rng: inout FastRandom) -> (key: Key, at: Int64)? {
        guard !expires.isEmpty, !heap.isEmpty else { return nil }
        for _ in 0..<16 {
            let e = heap[rng.below(heap.count)]
            if let t = expires[e.key], t == e.at { return (e.key, t) }
        }
        // Mostly stale entries: compact, then the first entry is live.
        rebuildHeap()
        return heap.first.map { ($0.key, $0.at) }
    }

    func clear() {
        dict.removeAll()
        expires = [:]
        heap = []
    }

    /// Empties the database in O(1) and returns what it held, uniquely referenced, for the
    /// lazyfree thread to release (FLUSHALL ASYNC).
    func detachContents() -> Any {
        let old: (KeyTable, [Key: Int64], [(at: Int64, key: Key)]) = (dict, expires, heap)
        dict = KeyTable(aging: dict.aging)
        expires = [:]
        heap = []
        return old
    }
}

// One numbered database: the key → value dictionary and, as in Redis, a second dictionary holding
import Shared
// the expiry (unix ms) of keys that have one.

/// A logical database (SELECT n).
final class Database {
    let id: Int
    var dict: [Key: Value] = [:]
    /// Absolute expiry times in unix milliseconds.
    var expires: [Key: Int64] = [:]
    /// Access data of keys RESTOREd with IDLETIME/FREQ (AccessMeta.swift); dropped when the key
    /// is replaced or deleted.
    var accessMeta: [Key: AccessMeta] = [:]
    /// Keys touched since a WATCH, tracked by the server's watch table (see Server+Transactions).
    init(id: Int) { self.id = id }

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
        dict[key] = value
        if !keepTTL && !expires.isEmpty { expires.removeValue(forKey: key) }
        if !accessMeta.isEmpty { accessMeta.removeValue(forKey: key) }
    }

    /// Replaces the value of an existing key without touching its expiry (in-place updates).
    @inline(__always) func update(_ key: Key, _ value: Value) { dict[key] = value }

    @discardableResult
    func remove(_ key: Key) -> Value? {
        guard let v = dict.removeValue(forKey: key) else { return nil }
        if !expires.isEmpty { expires.removeValue(forKey: key) }
        if !accessMeta.isEmpty { accessMeta.removeValue(forKey: key) }
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

    func clear() {
        dict = [:]
        expires = [:]
        accessMeta = [:]
        heap = []
    }
}

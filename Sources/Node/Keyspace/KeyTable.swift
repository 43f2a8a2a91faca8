// The keyspace's hash table: key → value, plus 32 bits of access metadata per key (Redis's
// robj->lru: a 24-bit LRU clock, or an LFU counter with its decay time). A Swift Dictionary could
// not hold that metadata without a second table, and offers no way to pick a random key in less
// than O(n), which eviction needs several times per evicted key (and RANDOMKEY once).
//
// Layout (a "compact dict"): entries live densely in one array, in no particular order; an
// open-addressing index of 64-bit slots points into it (linear probing, at most 3/4 full, power
// of two). A slot holds the entry's position + 1 in its low half (0 = empty) and the key's 32-bit
// hash in its high half, so a probe compares hashes without touching the entry. Removing moves
// the last entry into the hole (dense, so a uniform random key is `entries[random]`), and slots
// are removed by backward shifting (no tombstones). Memory: 8 bytes per slot plus 32 per entry,
// about what Dictionary<Key, Value> spends (24 per bucket) while also holding the metadata.
//
// Value semantics as Dictionary's: the storage is copied on write when shared (an iteration in
// progress holds it), so code written for `[Key: Value]` keeps its meaning.
import Shared

/// One key of the keyspace: the key, its value and its access metadata.
struct KeyEntry {
    var key: Key
    var value: Value
    /// Redis's 24-bit `lru` field: LRU clock, or (minutes << 8 | counter) under an LFU policy.
    var meta: UInt32
    /// The low 32 bits of the key's hash (home bucket and slot tag).
    var hash: UInt32
}

/// The storage of a KeyTable (shared between copies until one of them is mutated).
final class KeyTableStorage {
    var entries: UnsafeMutablePointer<KeyEntry>
    var count = 0
    var capacity: Int
    var slots: UnsafeMutablePointer<UInt64>
    /// Slot count - 1 (a power of two minus one).
    var mask: Int

    init(capacity: Int) {
        var n = 8
        while n * 3 / 4 < capacity { n <<= 1 }
        mask = n - 1
        slots = .allocate(capacity: n)
        slots.initialize(repeating: 0, count: n)
        self.capacity = Swift.max(4, capacity)
        entries = .allocate(capacity: self.capacity)
    }

    deinit {
        entries.deinitialize(count: count)
        entries.deallocate()
        slots.deallocate()
    }

    /// An independent copy (copy-on-write).
    func copy() -> KeyTableStorage {
        let s = KeyTableStorage(capacity: Swift.max(count, 4))
        s.entries.initialize(from: entries, count: count)
        s.count = count
        s.rebuildSlots(slotCount: s.mask + 1)
        return s
    }

    /// Bytes of the table itself (MEMORY USAGE's and the overhead figures' share per key).
    var bytes: Int { capacity * MemoryLayout<KeyEntry>.stride + (mask + 1) * 8 }

    @inline(__always) static func hash(_ key: Key) -> UInt32 {
        var h = Hasher()
        key.hash(into: &h)
        return UInt32(truncatingIfNeeded: h.finalize())
    }

    /// The entry position of `key`, or -1.
    @inline(__always) func find(_ key: Key, _ h: UInt32) -> Int {
        var b = Int(h) & mask
        while true {
            let s = slots[b]
            if s == 0 { return -1 }
            if UInt32(truncatingIfNeeded: s >> 32) == h {
                let i = Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: s)) - 1
                if entries[i].key == key { return i }
            }
            b = (b + 1) & mask
        }
    }

    /// Appends an entry known to be absent; returns its position.
    @inline(__always) func append(_ key: Key, _ value: Value, meta: UInt32, _ h: UInt32) -> Int {
        if (count + 1) * 4 > (mask + 1) * 3 { rebuildSlots(slotCount: (mask + 1) * 2) }
        if count == capacity { growEntries(to: capacity * 2) }
        let i = count
        (entries + i).initialize(to: KeyEntry(key: key, value: value, meta: meta, hash: h))
        count += 1
        var b = Int(h) & mask
        while slots[b] != 0 { b = (b + 1) & mask }
        slots[b] = UInt64(h) << 32 | UInt64(i + 1)
        return i
    }

    /// Removes the entry at position `i` and returns it; the last entry takes its place.
    func remove(at i: Int) -> KeyEntry {
        let h = entries[i].hash
        // Free the slot pointing at i, shifting the rest of its cluster back.
        var p = Int(h) & mask
        while Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: slots[p])) != i + 1 { p = (p + 1) & mask }
        var j = p
        while true {
            j = (j + 1) & mask
            let s = slots[j]
            if s == 0 { break }
            let home = Int(truncatingIfNeeded: s >> 32) & mask
            // Move s back into the hole unless its home lies cyclically in (p, j].
            let inRange = p <= j ? (home > p && home <= j) : (home > p || home <= j)
            if !inRange {
                slots[p] = s
                p = j
            }
        }
        slots[p] = 0
        let removed = (entries + i).move()
        let last = count - 1
        if i != last {
            (entries + i).moveInitialize(from: entries + last, count: 1)
            let lh = entries[i].hash
            var q = Int(lh) & mask
            while Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: slots[q])) != last + 1 { q = (q + 1) & mask }
            slots[q] = UInt64(lh) << 32 | UInt64(i + 1)
        }
        count = last
        return removed
    }

    /// Empties the table; keeps the allocation only when asked.
    func removeAll(keepingCapacity: Bool) {
        entries.deinitialize(count: count)
        count = 0
        if keepingCapacity {
            slots.update(repeating: 0, count: mask + 1)
        } else {
            entries.deallocate()
            slots.deallocate()
            capacity = 4
            entries = .allocate(capacity: capacity)
            mask = 7
            slots = .allocate(capacity: 8)
            slots.initialize(repeating: 0, count: 8)
        }
    }

    func reserve(_ n: Int) {
        if n > capacity { growEntries(to: n) }
        var slotsNeeded = mask + 1
        while slotsNeeded * 3 / 4 < n { slotsNeeded <<= 1 }
        if slotsNeeded != mask + 1 { rebuildSlots(slotCount: slotsNeeded) }
    }

    private func growEntries(to n: Int) {
        let new = UnsafeMutablePointer<KeyEntry>.allocate(capacity: n)
        new.moveInitialize(from: entries, count: count)
        entries.deallocate()
        entries = new
        capacity = n
    }

    /// Rebuilds the index at `slotCount` slots from the dense entries (no rehashing: each entry
    /// keeps its hash).
    func rebuildSlots(slotCount: Int) {
        slots.deallocate()
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        mask = slotCount - 1
        for i in 0..<count {
            let h = entries[i].hash
            var b = Int(h) & mask
            while slots[b] != 0 { b = (b + 1) & mask }
            slots[b] = UInt64(h) << 32 | UInt64(i + 1)
        }
    }
}

/// The keyspace of one database: a hash table from keys to values with per-key access metadata,
/// with Dictionary's interface where the code used one, plus positions for sampling.
struct KeyTable: Sequence {
    typealias Element = (key: Key, value: Value)
    private(set) var storage: KeyTableStorage
    /// How access metadata is stamped (policy, clocks); shared by every database of a server.
    var aging: KeyAging

    init(aging: KeyAging = KeyAging(), capacity: Int = 0) {
        self.aging = aging
        storage = KeyTableStorage(capacity: capacity)
    }

    @inline(__always) private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }

    /// The value of `key` (no metadata update), or nil. Setting stores (nil removes); a new key
    /// gets fresh metadata, an existing one what an overwrite gets (see `KeyAging.overwritten`).
    subscript(key: Key) -> Value? {
        @inline(__always) get {
            let i = storage.find(key, KeyTableStorage.hash(key))
            return i < 0 ? nil : storage.entries[i].value
        }
        set {
            if let v = newValue { updateValue(v, forKey: key) } else { removeValue(forKey: key) }
        }
    }

    /// Stores `value`; returns the previous value, if any.
    @discardableResult
    mutating func updateValue(_ value: Value, forKey key: Key) -> Value? {
        makeUnique()
        let h = KeyTableStorage.hash(key)
        let i = storage.find(key, h)
        if i >= 0 {
            let e = storage.entries + i
            let old = e.pointee.value
            e.pointee.value = value
            e.pointee.meta = aging.overwritten(e.pointee.meta)
            return old
        }
        _ = storage.append(key, value, meta: aging.fresh(), h)
        return nil
    }

    /// Stores `value` for a key known to be absent, with the given metadata (RENAME, MOVE and
    /// RESTORE keep or set the key's age); an existing key is overwritten.
    mutating func insert(_ key: Key, _ value: Value, meta: UInt32) {
        makeUnique()
        let h = KeyTableStorage.hash(key)
        let i = storage.find(key, h)
        if i >= 0 {
            storage.entries[i].value = value
            storage.entries[i].meta = meta
        } else {
            _ = storage.append(key, value, meta: meta, h)
        }
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        let i = storage.find(key, KeyTableStorage.hash(key))
        guard i >= 0 else { return nil }
        makeUnique()
        return storage.remove(at: i).value
    }

    /// Removes `key` and returns its whole entry (value and metadata), or nil.
    mutating func removeEntry(forKey key: Key) -> KeyEntry? {
        let i = storage.find(key, KeyTableStorage.hash(key))
        guard i >= 0 else { return nil }
        makeUnique()
        return storage.remove(at: i)
    }

    mutating func reserveCapacity(_ n: Int) {
        makeUnique()
        storage.reserve(n)
    }

    mutating func removeAll(keepingCapacity: Bool = false) {
        makeUnique()
        storage.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Runs `body` on the value of `key` in place (no copy of the table; the metadata only gains
    /// `addingMeta` bits); nil if absent.
    @inline(__always)
    mutating func withValue<R>(forKey key: Key, addingMeta bits: UInt32 = 0, _ body: (inout Value) throws -> R) rethrows -> R? {
        let i = storage.find(key, KeyTableStorage.hash(key))
        if i < 0 { return nil }
        makeUnique()
        storage.entries[i].meta |= bits
        return try body(&storage.entries[i].value)
    }

    // MARK: - Access metadata

    /// Looks `key` up for a command and stamps the access (Redis's lookupKey touching `lru`);
    /// nil if absent.
    @inline(__always) func lookupTouching(_ key: Key) -> Value? {
        let i = storage.find(key, KeyTableStorage.hash(key))
        if i < 0 { return nil }
        // Stamped in place even when the storage is shared: ages are not part of the value
        // semantics a copy promises (a snapshot being iterated may see them move on).
        let e = storage.entries + i
        e.pointee.meta = aging.touched(e.pointee.meta)
        return e.pointee.value
    }

    /// The metadata of `key` (OBJECT IDLETIME / FREQ), or nil if absent.
    func meta(_ key: Key) -> UInt32? {
        let i = storage.find(key, KeyTableStorage.hash(key))
        return i < 0 ? nil : storage.entries[i].meta
    }

    /// Sets the metadata of `key` (RESTORE IDLETIME/FREQ, DEBUG); false if absent.
    @discardableResult
    func setMeta(_ key: Key, _ meta: UInt32) -> Bool {
        let i = storage.find(key, KeyTableStorage.hash(key))
        if i < 0 { return false }
        storage.entries[i].meta = meta
        return true
    }

    /// Marks the string at `key` as edited in place (see `KeyAging.rawStringBit`).
    func markRawString(_ key: Key) {
        let i = storage.find(key, KeyTableStorage.hash(key))
        if i >= 0 { storage.entries[i].meta |= KeyAging.rawStringBit }
    }

    /// Whether the string at `key` was edited in place since it was last set.
    func isRawString(_ key: Key) -> Bool {
        let i = storage.find(key, KeyTableStorage.hash(key))
        return i >= 0 && storage.entries[i].meta & KeyAging.rawStringBit != 0
    }

    /// Stamps an access of `key` without reading it (TOUCH); false if absent.
    @discardableResult
    func touch(_ key: Key) -> Bool {
        let i = storage.find(key, KeyTableStorage.hash(key))
        if i < 0 { return false }
        storage.entries[i].meta = aging.touched(storage.entries[i].meta)
        return true
    }

    // MARK: - Positions (sampling)

    /// The entry at position `i` (0 ..< count); positions change when keys are removed.
    @inline(__always) func entry(at i: Int) -> KeyEntry { storage.entries[i] }

    /// A uniformly random position, or nil when empty.
    func randomPosition(_ rng: inout FastRandom) -> Int? {
        storage.count == 0 ? nil : rng.below(storage.count)
    }

    /// Bytes the table's own arrays take.
    var tableBytes: Int { storage.bytes }

    // MARK: - Sequence

    struct Iterator: IteratorProtocol {
        let storage: KeyTableStorage
        var i = 0
        mutating func next() -> (key: Key, value: Value)? {
            guard i < storage.count else { return nil }
            defer { i += 1 }
            let e = storage.entries[i]
            return (e.key, e.value)
        }
    }

    func makeIterator() -> Iterator { Iterator(storage: storage) }
    var underestimatedCount: Int { storage.count }

    /// The keys, as Dictionary's `keys`.
    var keys: Keys { Keys(storage: storage) }

    /// The keys of a table (a snapshot while iterated).
    struct Keys: Sequence {
        let storage: KeyTableStorage
        struct Iterator: IteratorProtocol {
            let storage: KeyTableStorage
            var i = 0
            mutating func next() -> Key? {
                guard i < storage.count else { return nil }
                defer { i += 1 }
                return storage.entries[i].key
            }
        }
        func makeIterator() -> Iterator { Iterator(storage: storage) }
        var underestimatedCount: Int { storage.count }
        var count: Int { storage.count }
        var isEmpty: Bool { storage.count == 0 }
        /// A uniformly random key, in O(1).
        func randomElement() -> Key? {
            guard storage.count > 0 else { return nil }
            return storage.entries[Int.random(in: 0..<storage.count)].key
        }
    }
}

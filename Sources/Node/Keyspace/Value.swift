// The value types a key can hold. Containers are classes so that mutating a list or hash in
import Shared
// place does not copy it out of the database's dictionary.

/// A stored value.
enum Value {
    case string(Bytes)
    case list(ListValue)
    case hash(HashValue)
    case set(SetValue)
    case zset(SortedSetValue)
    case stream(StreamValue)

    /// The name TYPE prints.
    var typeName: String {
        switch self {
        case .string: return "string"
        case .list: return "list"
        case .hash: return "hash"
        case .set: return "set"
        case .zset: return "zset"
        case .stream: return "stream"
        }
    }

    /// A deep copy (COPY command, MULTI snapshots): containers are reference types.
    func deepCopy() -> Value {
        switch self {
        case .string: return self
        case .list(let l): return .list(l.copy())
        case .hash(let h): return .hash(h.copy())
        case .set(let s): return .set(s.copy())
        case .zset(let z): return .zset(z.copy())
        case .stream(let s): return .stream(s.copy())
        }
    }

    /// The name OBJECT ENCODING prints, following Redis 7.0.15's conversion thresholds.
    func encodingName(config: ServerConfig) -> String {
        switch self {
        case .string(let b):
            if b.count <= 20, NumberFormat.parseInt(b) != nil { return "int" }
            return b.count <= 44 ? "embstr" : "raw"
        case .list: return "quicklist"  // 7.0 lists are always quicklists (listpack lists came in 7.2)
        case .hash(let h): return h.isListpack(config) ? "listpack" : "hashtable"
        case .set(let s): return s.isIntset(config) ? "intset" : "hashtable"
        case .zset(let z): return z.isListpack(config) ? "listpack" : "skiplist"
        case .stream: return "stream"
        }
    }
}

// MARK: - List

/// A list: a double-ended sequence of elements, stored with a gap at the front so pushes and pops
/// at both ends are amortized O(1).
final class ListValue {
    /// Backing storage; live elements are `items[head...]`.
    var items: [Bytes] = []
    /// Start of live elements in `items`; slots before it are free.
    var head = 0
    /// An empty container.
    init() {}
    /// A list holding `items` in order.
    init(_ items: [Bytes]) { self.items = items }
    /// Number of elements.
    var count: Int { items.count - head }
    /// An independent copy.
    func copy() -> ListValue { ListValue(Array(items[head...])) }
    /// Live elements, in order.
    var elements: ArraySlice<Bytes> { items[head...] }

    /// The element at logical index `i` (0-based, must be in range).
    @inline(__always) subscript(i: Int) -> Bytes {
        get { items[head + i] }
        set { items[head + i] = newValue }
    }

    /// Prepends an element (LPUSH), opening a gap at the front when none is left.
    func pushFront(_ b: Bytes) {
        if head == 0 {
            let gap = Swift.max(16, count)
            items.insert(contentsOf: repeatElement([], count: gap), at: 0)
            head = gap
        }
        head -= 1
        items[head] = b
    }

    /// Appends an element (RPUSH).
    func pushBack(_ b: Bytes) { items.append(b) }

    /// Removes and returns the first element.
    func popFront() -> Bytes? {
        guard count > 0 else { return nil }
        let v = items[head]
        items[head] = []
        head += 1
        if head == items.count { items.removeAll(keepingCapacity: items.count < 1024); head = 0 }
        return v
    }

    /// Removes and returns the last element.
    func popBack() -> Bytes? {
        guard count > 0 else { return nil }
        let v = items.removeLast()
        if head == items.count { items.removeAll(keepingCapacity: items.count < 1024); head = 0 }
        return v
    }

    /// Replaces the live elements.
    func replace(_ new: [Bytes]) { items = new; head = 0 }

    /// Drops a large free prefix to give memory back.
    func compact() {
        if head > 32 && head * 2 > items.count { items.removeFirst(head); head = 0 }
    }
}

// MARK: - Hash

/// A hash: field → value.
final class HashValue {
    /// Field → value.
    var fields: [Key: Bytes] = [:]
    /// Set once the hash outgrew the listpack limits (Redis never converts back).
    var wasHashtable = false
    /// Cached SCAN order (see ScanCursor); commands that change the container drop it. (No didSet on
    /// the container: an observed property is copied on every in-place mutation.)
    var scanOrder: [(UInt64, Key)]? = nil
    /// An empty container.
    init() {}
    /// A hash holding `fields`.
    init(_ fields: [Key: Bytes]) { self.fields = fields }
    /// Number of fields.
    var count: Int { fields.count }
    /// An independent copy.
    func copy() -> HashValue { let h = HashValue(fields); h.wasHashtable = wasHashtable; return h }

    /// Records a conversion to a hashtable after a write of `field`/`value` (never converted back).
    func noteWrite(_ field: Bytes, _ value: Bytes, _ config: ServerConfig) {
        if !wasHashtable && (count > config.hashMaxListpackEntries || field.count > config.hashMaxListpackValue
            || value.count > config.hashMaxListpackValue) { wasHashtable = true }
    }

    /// Whether Redis 7.0 would still hold this hash as a listpack.
    func isListpack(_ config: ServerConfig) -> Bool {
        if wasHashtable { return false }
        if count > config.hashMaxListpackEntries { return false }
        for (k, v) in fields where k.bytes.count > config.hashMaxListpackValue || v.count > config.hashMaxListpackValue {
            return false
        }
        return true
    }
}

// MARK: - Set

/// A set of members.
final class SetValue {
    /// The members.
    var members: Set<Key> = []
    /// Set once the set became a hashtable (Redis never converts back to an intset).
    var wasHashtable = false
    /// Cached SCAN order (see ScanCursor); commands that change the container drop it. (No didSet on
    /// the container: an observed property is copied on every in-place mutation.)
    var scanOrder: [(UInt64, Key)]? = nil
    /// An empty container.
    init() {}
    /// A set holding `members`.
    init(_ members: Set<Key>) { self.members = members }
    /// Number of members.
    var count: Int { members.count }
    /// An independent copy.
    func copy() -> SetValue { let s = SetValue(members); s.wasHashtable = wasHashtable; return s }

    /// Rehashes into a smaller table after many removals: Swift sets never shrink, and finding
    /// the first element of a mostly empty table costs a scan of its buckets.
    func shrinkIfSparse() {
        if members.capacity > 1024 && members.count * 8 < members.capacity { members = Set(members) }
    }

    /// Records a conversion to a hashtable after adding `member` (never converted back).
    func noteAdd(_ member: Bytes, _ config: ServerConfig) {
        if !wasHashtable && (count > config.setMaxIntsetEntries || SetValue.intsetValue(member) == nil) { wasHashtable = true }
    }

    /// Whether Redis 7.0 keeps this set as an intset: every member an integer, few enough members.
    func isIntset(_ config: ServerConfig) -> Bool {
        if wasHashtable || count > config.setMaxIntsetEntries { return false }
        return members.allSatisfy { SetValue.intsetValue($0.bytes) != nil }
    }

    /// The member as an intset integer (Redis's string2ll: canonical decimal only).
    static func intsetValue(_ b: Bytes) -> Int64? { b.count <= 20 ? NumberFormat.parseInt(b) : nil }

    /// Members in the order Redis lists them when that order is deterministic (intsets are sorted
    /// numerically); otherwise hash order.
    func listed(_ config: ServerConfig) -> [Key] {
        if isIntset(config) {
            return members.sorted { (SetValue.intsetValue($0.bytes) ?? 0) < (SetValue.intsetValue($1.bytes) ?? 0) }
        }
        return Array(members)
    }
}

// MARK: - Sorted set

/// A sorted set: member → score, with an ordered index by (score, member).
final class SortedSetValue {
    private(set) var scores: [Key: Double] = [:]
    /// The ordered index; ranks and ranges are answered here.
    let index = SkipList()
    /// Cached SCAN order (see ScanCursor), dropped on every change.
    var scanOrder: [(UInt64, Key)]? = nil
    /// Set once the zset became a skiplist (Redis never converts back).
    var wasSkiplist = false
    /// An empty container.
    init() {}
    /// A sorted set holding `scores`.
    init(_ scores: [Key: Double]) {
        self.scores = scores
        for (k, v) in scores { index.insert(k.bytes, score: v) }
    }
    /// Number of members.
    var count: Int { scores.count }
    /// An independent copy.
    func copy() -> SortedSetValue { let z = SortedSetValue(scores); z.wasSkiplist = wasSkiplist; return z }

    /// (member, score) pairs in Redis order: score, then member bytes.
    var ordered: [(member: Bytes, score: Double)] { index.all }

    /// The member's score, or nil.
    func score(_ member: Key) -> Double? { scores[member] }

    /// Sets a member's score, inserting it if new; returns the previous score.
    @discardableResult
    func set(_ member: Key, _ score: Double) -> Double? {
        // A listpack stores -0 as the integer 0, so small sorted sets never show "-0".
        let score = score == 0 && !wasSkiplist ? 0.0 : score
        let old = scores.updateValue(score, forKey: member)
        if let old {
            if old != score { index.updateScore(member.bytes, old: old, new: score) }
        } else {
            index.insert(member.bytes, score: score)
        }
        scanOrder = nil
        return old
    }

    /// Removes a member; returns whether it was present.
    @discardableResult
    func remove(_ member: Key) -> Bool {
        guard let old = scores.removeValue(forKey: member) else { return false }
        index.remove(member.bytes, score: old)
        scanOrder = nil
        return true
    }

    /// 0-based rank in ascending order.
    func rank(_ member: Key) -> Int? {
        guard let s = scores[member] else { return nil }
        return index.rank(member.bytes, score: s)
    }

    /// Records a conversion to a skiplist after adding `member` (never converted back).
    func noteAdd(_ member: Bytes, _ config: ServerConfig) {
        if !wasSkiplist && (count > config.zsetMaxListpackEntries || member.count > config.zsetMaxListpackValue) { wasSkiplist = true }
    }

    /// Whether Redis 7.0 would still hold this sorted set as a listpack.
    func isListpack(_ config: ServerConfig) -> Bool {
        if wasSkiplist { return false }
        if count > config.zsetMaxListpackEntries { return false }
        return scores.keys.allSatisfy { $0.bytes.count <= config.zsetMaxListpackValue }
    }
}

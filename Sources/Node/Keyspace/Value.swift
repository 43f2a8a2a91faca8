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

    /// The name TYPE prints.
    var typeName: String {
        switch self {
        case .string: return "string"
        case .list: return "list"
        case .hash: return "hash"
        case .set: return "set"
        case .zset: return "zset"
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
        }
    }
}

/// A list: a double-ended sequence of elements.
final class ListValue {
    var items: [Bytes] = []
    /// Start of live elements in `items`; popping from the head advances it instead of shifting.
    var head = 0
    init() {}
    init(_ items: [Bytes]) { self.items = items }
    var count: Int { items.count - head }
    func copy() -> ListValue { ListValue(Array(items[head...])) }
    /// Live elements.
    var elements: ArraySlice<Bytes> { items[head...] }
    func compact() {
        if head > 32 && head * 2 > items.count { items.removeFirst(head); head = 0 }
    }
}

/// A hash: field → value.
final class HashValue {
    var fields: [Key: Bytes] = [:]
    init() {}
    init(_ fields: [Key: Bytes]) { self.fields = fields }
    var count: Int { fields.count }
    func copy() -> HashValue { HashValue(fields) }
}

/// A set of members.
final class SetValue {
    var members: Set<Key> = []
    init() {}
    init(_ members: Set<Key>) { self.members = members }
    var count: Int { members.count }
    func copy() -> SetValue { SetValue(members) }
}

/// A sorted set: member → score, with an ordered view by (score, member).
final class SortedSetValue {
    var scores: [Key: Double] = [:]
    init() {}
    init(_ scores: [Key: Double]) { self.scores = scores }
    var count: Int { scores.count }
    func copy() -> SortedSetValue { SortedSetValue(scores) }
}

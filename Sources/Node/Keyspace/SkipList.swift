// The ordered index of a sorted set: Redis's skiplist with spans (t_zset.c's zsl*), so inserts,
// deletes, rank lookups and range starts are O(log n). Order is (score, member bytes as memcmp).
// Every query is expressed through ranks: a range by score or lex is the pair of ranks
// [count of elements before the range start, count of elements up to the range end).
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// One level of a node: the next node on that level (not owned: see `SkipListNodeHead.next`)
/// and how many level-0 steps the link skips (ranks are sums of spans).
struct SkipLevel {
    var forward: Unmanaged<SkipListNode>?
    var span: Int
}

/// The fixed part of a node. Only `next` (the level-0 successor) owns a node; every other link,
/// `backward` included, is unowned, so walking the list does no reference counting.
struct SkipListNodeHead {
    let member: Bytes
    var score: Double
    unowned(unsafe) var backward: SkipListNode?
    var next: SkipListNode?
    let levels: Int
}

/// One skiplist node, its levels stored inline after the fixed part (as Redis's zskiplistNode
/// with its flexible array): a search step reads one object, not a node and two arrays.
final class SkipListNode: ManagedBuffer<SkipListNodeHead, SkipLevel> {
    /// A node with `level` levels, all links empty.
    static func make(member: Bytes, score: Double, level: Int) -> SkipListNode {
        let buffer = create(minimumCapacity: level) { _ in
            SkipListNodeHead(member: member, score: score, backward: nil, next: nil, levels: level)
        }
        let node = unsafeDowncast(buffer, to: SkipListNode.self)
        node.withUnsafeMutablePointerToElements { $0.initialize(repeating: SkipLevel(forward: nil, span: 0), count: level) }
        return node
    }

    deinit {
        _ = withUnsafeMutablePointers { h, e in e.deinitialize(count: h.pointee.levels) }
    }

    /// The next node at level `i`, without retaining it (search loops).
    @inline(__always) func nextUnretained(_ i: Int) -> Unmanaged<SkipListNode>? {
        withUnsafeMutablePointerToElements { $0[i].forward }
    }

    /// The member's bytes.
    var member: Bytes { header.member }
    /// The member's score.
    var score: Double {
        get { header.score }
        set { header.score = newValue }
    }
    /// The previous node on level 0 (nil for the first).
    var backward: SkipListNode? {
        get { header.backward }
        set { header.backward = newValue }
    }
    /// Number of levels.
    var levelCount: Int { header.levels }
    /// Next node at each level, subscripted by level.
    var forward: SkipLinks { SkipLinks(node: self) }
    /// Span of each level's link, subscripted by level.
    var span: SkipSpans { SkipSpans(node: self) }
}

/// A node's forward links, read and written in place; writing level 0 also moves the owning
/// reference.
struct SkipLinks {
    unowned(unsafe) let node: SkipListNode
    subscript(i: Int) -> SkipListNode? {
        @inline(__always) get { node.withUnsafeMutablePointerToElements { $0[i].forward?.takeUnretainedValue() } }
        @inline(__always) nonmutating set {
            if i == 0 { node.header.next = newValue }
            node.withUnsafeMutablePointerToElements { $0[i].forward = newValue.map { Unmanaged.passUnretained($0) } }
        }
    }
}

/// A node's link spans, read and written in place.
struct SkipSpans {
    unowned(unsafe) let node: SkipListNode
    subscript(i: Int) -> Int {
        @inline(__always) get { node.withUnsafeMutablePointerToElements { $0[i].span } }
        @inline(__always) nonmutating set { node.withUnsafeMutablePointerToElements { $0[i].span = newValue } }
    }
}

/// Byte-wise comparison with memcmp semantics: negative, zero or positive.
@inline(__always) func compareBytes(_ a: Bytes, _ b: Bytes) -> Int {
    let n = Swift.min(a.count, b.count)
    let r: Int32 = a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            guard n > 0, let x = pa.baseAddress, let y = pb.baseAddress else { return 0 }
            return memcmp(x, y, n)
        }
    }
    if r != 0 { return Int(r) }
    return a.count - b.count
}

/// A skiplist of (member, score) ordered by score then member.
final class SkipList {
    /// Highest level a node may have (ZSKIPLIST_MAXLEVEL).
    static let maxLevel = 32
    /// Sentinel before the first element.
    let header = SkipListNode.make(member: [], score: 0, level: SkipList.maxLevel)
    unowned(unsafe) var tail: SkipListNode?
    private(set) var count = 0
    private var level = 1
    private var rng: UInt64

    /// An empty skiplist.
    init() {
        rng = UInt64(UInt(bitPattern: ObjectIdentifier(header).hashValue)) | 1
    }

    deinit {
        // Release nodes iteratively: a long forward chain released recursively would overflow the stack.
        var x = header.forward[0]
        for i in 0..<header.levelCount { header.forward[i] = nil }
        while let n = x {
            x = n.forward[0]
            for i in 0..<n.levelCount { n.forward[i] = nil }
        }
    }

    private func randomLevel() -> Int {
        var lvl = 1
        while lvl < SkipList.maxLevel {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
            if rng & 0xFFFF >= 0x4000 { break }  // p = 1/4, as ZSKIPLIST_P
            lvl += 1
        }
        return lvl
    }

    /// True if (score, member) sorts strictly before node `n`'s element.
    @inline(__always) private static func precedes(_ n: SkipListNode, _ score: Double, _ member: Bytes) -> Bool {
        n.score < score || (n.score == score && compareBytes(n.member, member) < 0)
    }

    /// Inserts an element that must not already be present.
    func insert(_ member: Bytes, score: Double) {
        // The search path lives in stack buffers (unowned: the forward chain keeps the nodes
        // alive), so an insert allocates only its node.
        withUnsafeTemporaryAllocation(of: Unmanaged<SkipListNode>.self, capacity: SkipList.maxLevel) { update in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: SkipList.maxLevel) { rank in
                unowned(unsafe) var x = header
                for i in stride(from: level - 1, through: 0, by: -1) {
                    rank[i] = i == level - 1 ? 0 : rank[i + 1]
                    while let fu = x.nextUnretained(i) {
                        unowned(unsafe) let f = fu.takeUnretainedValue()
                        guard SkipList.precedes(f, score, member) else { break }
                        rank[i] += x.span[i]
                        x = f
                    }
                    update[i] = Unmanaged.passUnretained(x)
                }
                let lvl = randomLevel()
                if lvl > level {
                    for i in level..<lvl {
                        rank[i] = 0
                        update[i] = Unmanaged.passUnretained(header)
                        header.span[i] = count
                    }
                    level = lvl
                }
                let n = SkipListNode.make(member: member, score: score, level: lvl)
                for i in 0..<lvl {
                    let u = update[i].takeUnretainedValue()
                    n.forward[i] = u.forward[i]
                    u.forward[i] = n
                    n.span[i] = u.span[i] - (rank[0] - rank[i])
                    u.span[i] = (rank[0] - rank[i]) + 1
                }
                if lvl < level { for i in lvl..<level { update[i].takeUnretainedValue().span[i] += 1 } }
                let u0 = update[0].takeUnretainedValue()
                n.backward = u0 === header ? nil : u0
                if let f = n.forward[0] { f.backward = n } else { tail = n }
                count += 1
            }
        }
    }

    /// Removes the element; returns false if it was not present.
    @discardableResult
    func remove(_ member: Bytes, score: Double) -> Bool {
        withUnsafeTemporaryAllocation(of: Unmanaged<SkipListNode>.self, capacity: SkipList.maxLevel) { update in
            let x = searchPath(score, member, update)
            guard let target = x.forward[0], target.score == score, target.member == member else { return false }
            unlink(target, update)
            return true
        }
    }

    /// Changes an element's score (the element must be present with `old`). When the new score
    /// keeps it between its neighbours the node is updated in place, as Redis's zslUpdateScore
    /// does; otherwise it moves.
    func updateScore(_ member: Bytes, old: Double, new: Double) {
        // One search finds the node and the path to it: updated in place, or unlinked through
        // that path and inserted again (two searches in all, as Redis).
        let moved: Bool = withUnsafeTemporaryAllocation(of: Unmanaged<SkipListNode>.self, capacity: SkipList.maxLevel) { update in
            let x = searchPath(old, member, update)
            guard let n = x.forward[0], n.score == old, n.member == member else { return false }
            if n.backward.map({ $0.score < new }) ?? true, n.forward[0].map({ $0.score > new }) ?? true {
                n.score = new
                return false
            }
            unlink(n, update)
            return true
        }
        if moved { insert(member, score: new) }
    }

    /// Fills `update` with the last node before (score, member) on every level and returns the
    /// one on level 0.
    @inline(__always)
    private func searchPath(_ score: Double, _ member: Bytes,
                            _ update: UnsafeMutableBufferPointer<Unmanaged<SkipListNode>>) -> SkipListNode {
        unowned(unsafe) var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let fu = x.nextUnretained(i) {
                unowned(unsafe) let f = fu.takeUnretainedValue()
                guard SkipList.precedes(f, score, member) else { break }
                x = f
            }
            update[i] = Unmanaged.passUnretained(x)
        }
        return x
    }

    /// Removes node `target` whose search path (the last node before it on each level) is `update`.
    private func unlink(_ target: SkipListNode, _ update: UnsafeMutableBufferPointer<Unmanaged<SkipListNode>>) {
        for i in 0..<level {
            let u = update[i].takeUnretainedValue()
            if u.forward[i] === target {
                u.span[i] += target.span[i] - 1
                u.forward[i] = target.forward[i]
            } else {
                u.span[i] -= 1
            }
        }
        if let f = target.forward[0] { f.backward = target.backward } else { tail = target.backward }
        while level > 1 && header.forward[level - 1] == nil { level -= 1 }
        count -= 1
    }

    /// 0-based rank of an element present with `score`, or nil.
    func rank(_ member: Bytes, score: Double) -> Int? {
        var r = 0
        unowned(unsafe) var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let fu = x.nextUnretained(i) {
                unowned(unsafe) let f = fu.takeUnretainedValue()
                guard SkipList.precedes(f, score, member) || (f.score == score && f.member == member) else { break }
                r += x.span[i]
                x = f
            }
            if x !== header && x.score == score && x.member == member { return r - 1 }
        }
        return nil
    }

    /// The node at 0-based `rank`, or nil when out of range.
    func node(atRank rank: Int) -> SkipListNode? {
        guard rank >= 0 && rank < count else { return nil }
        var traversed = 0
        unowned(unsafe) var x = header
        let target = rank + 1
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let fu = x.nextUnretained(i), traversed + x.span[i] <= target {
                traversed += x.span[i]
                x = fu.takeUnretainedValue()
            }
            if traversed == target { return x }
        }
        return nil
    }

    /// How many elements satisfy `before`, which must hold for a prefix of the order.
    func countWhile(_ before: (SkipListNode) -> Bool) -> Int {
        var r = 0
        unowned(unsafe) var x = header
        for i in stride(from: level - 1, through: 0, by: -1) {
            while let fu = x.nextUnretained(i) {
                unowned(unsafe) let f = fu.takeUnretainedValue()
                guard before(f) else { break }
                r += x.span[i]
                x = f
            }
        }
        return r
    }

    /// Elements with ranks in `lo..<hi`, ascending or descending.
    func slice(_ lo: Int, _ hi: Int, reverse: Bool) -> [(member: Bytes, score: Double)] {
        guard lo < hi else { return [] }
        var out: [(member: Bytes, score: Double)] = []
        out.reserveCapacity(hi - lo)
        var n = node(atRank: reverse ? hi - 1 : lo)
        var left = hi - lo
        while left > 0, let x = n {
            out.append((x.member, x.score))
            n = reverse ? x.backward : x.forward[0]
            left -= 1
        }
        return out
    }

    /// Every element in order.
    var all: [(member: Bytes, score: Double)] { slice(0, count, reverse: false) }
}

// Walking a stream's entries in ID order or in reverse (streamIteratorStart/GetID/GetField):
// node by node through the index, entry by entry through each listpack, skipping tombstones
// unless asked not to, stopping outside [start, end].
import Shared

/// An iterator over a stream's entries. Holds a reference to the current node's listpack; call
/// `stop()` before modifying that node.
struct StreamIterator {
    /// A node's place in the stream's index.
    typealias NodePosition = StreamSortedMap<StreamListpack>.Position

    private let stream: StreamValue
    private let startKey: StreamID
    private let endKey: StreamID
    private let reverse: Bool
    /// Whether deleted entries are skipped (the default).
    var skipTombstones = true

    private var seeked = false
    /// The node being walked.
    private(set) var nodePosition: NodePosition?
    /// Its listpack (nil between nodes).
    private(set) var listpack: StreamListpack?
    private var ele: Int? = nil
    private var masterID = StreamID.zero
    private var masterFieldsCount = 0
    private var masterFieldsStart = 0
    private var masterFieldsPtr = 0
    /// Flags of the entry just returned by `nextID`.
    private(set) var entryFlags: Int64 = 0
    /// Offset of that entry's flags element.
    private(set) var flagsPosition = 0
    /// Fields of the current entry not read yet (skipped by the next `nextID`).
    private var unread = 0

    /// Iterates `stream` from `start` to `end` inclusive (nil = unbounded), backwards if `reverse`.
    init(_ stream: StreamValue, start: StreamID?, end: StreamID?, reverse: Bool) {
        self.stream = stream
        self.startKey = start ?? .zero
        self.endKey = end ?? .max
        self.reverse = reverse
    }

    /// Releases the current node.
    mutating func stop() {
        listpack = nil
        ele = nil
        nodePosition = nil
        seeked = true
    }

    /// Moves to the next node in iteration order; false at the end.
    private mutating func advanceNode() -> Bool {
        let nodes = stream.nodes
        var next: NodePosition?
        if !seeked {
            seeked = true
            if !reverse {
                next = startKey.isZero ? nodes.first : (nodes.floor(startKey) ?? nodes.first)
            } else {
                next = endKey.isZero ? nodes.last : (nodes.floor(endKey) ?? nodes.last)
            }
        } else if let p = nodePosition {
            next = reverse ? nodes.before(p) : nodes.after(p)
        }
        guard let p = next else {
            listpack = nil
            nodePosition = nil
            return false
        }
        nodePosition = p
        masterID = nodes.key(p)
        let lp = nodes.value(p)
        listpack = lp
        // count, deleted, num-fields, then the master fields.
        guard let c = lp.first, let d = lp.next(c), let nf = lp.next(d) else { ele = nil; return true }
        masterFieldsCount = Swift.max(0, Int(lp.integer(nf)))
        guard let firstField = lp.next(nf) else { ele = nil; return true }
        masterFieldsStart = firstField
        if !reverse {
            var e = firstField
            for _ in 0..<masterFieldsCount { if let n = lp.next(e) { e = n } }
            ele = e  // the master entry's terminating 0
        } else {
            ele = lp.last
        }
        return true
    }

    /// The next entry's ID and field count, or nil when the range is exhausted.
    mutating func nextID() -> (id: StreamID, fields: Int)? {
        while true {
            if listpack == nil || ele == nil {
                guard advanceNode() else { return nil }
                if ele == nil { continue }
            } else if reverse {
                // Back over the entry just returned, to the previous entry's lp-count.
                guard let lp = listpack, var e = ele else { continue }
                skipUnread(lp, &e)
                var n = lp.integer(e)
                while n > 0, let q = lp.previous(e) { e = q; n -= 1 }
                ele = lp.previous(e)
            } else if unread > 0, let lp = listpack, var e = ele {
                skipUnread(lp, &e)
                ele = e
            }
            guard let lp = listpack else { continue }
            while true {
                guard var e = ele else { break }
                if !reverse {
                    guard let n = lp.next(e) else { ele = nil; break }
                    e = n
                } else {
                    var n = lp.integer(e)
                    if n == 0 { ele = nil; listpack = nil; break }  // the master entry
                    while n > 0, let q = lp.previous(e) { e = q; n -= 1 }
                }
                let flagsAt = e
                let flags = lp.integer(e)
                guard let msAt = lp.next(e), let seqAt = lp.next(msAt) else { ele = nil; break }
                let id = StreamID(masterID.ms &+ UInt64(bitPattern: lp.integer(msAt)),
                                  masterID.seq &+ UInt64(bitPattern: lp.integer(seqAt)))
                var cursor = lp.next(seqAt)
                let same = flags & StreamValue.flagSameFields != 0
                var fields = masterFieldsCount
                if !same, let nf = cursor {
                    fields = Swift.max(0, Int(lp.integer(nf)))
                    cursor = lp.next(nf)
                }
                let live = !skipTombstones || flags & StreamValue.flagDeleted == 0
                if !reverse ? (id >= startKey && live) : (id <= endKey && live) {
                    if !reverse ? id > endKey : id < startKey { return nil }
                    entryFlags = flags
                    flagsPosition = flagsAt
                    if same { masterFieldsPtr = masterFieldsStart }
                    ele = cursor ?? e
                    unread = fields
                    return (id, fields)
                }
                // Not emitted: forward, skip its fields to its lp-count; backward, step to the
                // previous entry's lp-count.
                if !reverse {
                    var c = cursor ?? e
                    for _ in 0..<(same ? fields : fields * 2) { if let n = lp.next(c) { c = n } }
                    ele = c
                } else {
                    ele = lp.previous(flagsAt)
                    if ele == nil { listpack = nil }
                }
            }
        }
    }

    /// Moves `e` past the unread fields of the current entry, onto its lp-count.
    private mutating func skipUnread(_ lp: StreamListpack, _ e: inout Int) {
        let same = entryFlags & StreamValue.flagSameFields != 0
        for _ in 0..<(same ? unread : unread * 2) { if let n = lp.next(e) { e = n } }
        unread = 0
    }

    /// The next field and value positions of the current entry, in `listpack`.
    mutating func nextField() -> (field: Int, value: Int) {
        guard let lp = listpack, let e = ele, unread > 0 else { return (0, 0) }
        unread -= 1
        if entryFlags & StreamValue.flagSameFields != 0 {
            let f = masterFieldsPtr
            masterFieldsPtr = lp.next(masterFieldsPtr) ?? masterFieldsPtr
            ele = lp.next(e) ?? e
            return (f, e)
        }
        let v = lp.next(e) ?? e
        ele = lp.next(v) ?? v
        return (e, v)
    }

    /// The current entry's field/value pairs as bytes (copies; for AOF rewriting and tests).
    mutating func fieldPairs(_ n: Int) -> [Bytes] {
        var out: [Bytes] = []
        out.reserveCapacity(n * 2)
        for _ in 0..<n {
            let (f, v) = nextField()
            guard let lp = listpack else { break }
            out.append(lp.element(f))
            out.append(lp.element(v))
        }
        return out
    }
}

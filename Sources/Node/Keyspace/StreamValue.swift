// The stream type (t_stream.c's low-level layer): entries live in listpack nodes, each keyed by
// its master entry ID, in ID order. A node starts with a master entry
//   count | deleted | num-fields | field_1 ... field_N | 0
// and then holds entries
//   flags | ms-delta | seq-delta | [num-fields | field_1] value_1 ... | lp-count
// where SAMEFIELDS entries (same field names as the master entry) omit the field names and
// deleted entries stay as tombstones flagged DELETED until their node goes.
import Shared

/// A stream: entries, bookkeeping IDs and counters, consumer groups.
final class StreamValue {
    /// Listpack nodes by master entry ID (Redis's rax of listpacks).
    var nodes = StreamSortedMap<StreamListpack>()
    /// Live (not deleted) entries.
    var length: UInt64 = 0
    /// The last ID ever added (or set by XSETID): new IDs must be greater.
    var lastID = StreamID.zero
    /// The first live entry's ID, 0-0 when empty (recorded-first-entry-id).
    var firstID = StreamID.zero
    /// The largest ID ever deleted (max-deleted-entry-id).
    var maxDeletedID = StreamID.zero
    /// Every entry ever added (entries-added).
    var entriesAdded: UInt64 = 0
    /// Consumer groups, sorted by name (byte order, as Redis's rax).
    var groups: [StreamGroup] = []

    /// Entry flag: a tombstone.
    static let flagDeleted: Int64 = 1
    /// Entry flag: field names are the master entry's, only values are stored.
    static let flagSameFields: Int64 = 2

    /// Don't let a listpack grow past this (STREAM_LISTPACK_MAX_SIZE).
    static let listpackMaxSize = 1 << 30
    /// Upper bound of a new node's preallocation (STREAM_LISTPACK_MAX_PRE_ALLOCATE).
    static let maxPreallocate = 4096

    /// An empty stream.
    init() {}

    // MARK: - Adding

    /// Why an append failed.
    enum AppendError: Error {
        /// The ID is not greater than the last one (EDOM).
        case idTooSmall
        /// The elements are too large for a listpack (ERANGE).
        case tooLarge
        /// `ms-*` with the last ID at that millisecond's largest sequence (Redis fails without
        /// errno, so XADD answers with the ERANGE text).
        case sequenceExhausted
    }

    /// Appends an entry of field/value pairs (streamAppendItem). `id` nil generates one from
    /// `nowMillis`; `seqGiven` false takes `id.ms` and generates the sequence.
    func append(_ pairs: ArraySlice<Bytes>, id given: StreamID?, seqGiven: Bool, nowMillis: UInt64,
                nodeMaxBytes: Int, nodeMaxEntries: Int) throws(AppendError) -> StreamID {
        let id: StreamID
        if let given {
            if seqGiven {
                id = given
            } else if lastID.ms == given.ms {
                guard lastID.seq != UInt64.max else { throw .sequenceExhausted }
                id = StreamID(lastID.ms, lastID.seq + 1)
            } else {
                id = given
            }
        } else if nowMillis > lastID.ms {
            id = StreamID(nowMillis, 0)
        } else {
            // The clock went back or we are in the same millisecond: never go backwards.
            id = lastID.successor ?? .zero
        }
        guard id > lastID else { throw .idTooSmall }
        var total = 0
        for b in pairs { total += b.count }
        guard total <= Self.listpackMaxSize else { throw .tooLarge }
        let numFields = pairs.count / 2

        var maxBytes = nodeMaxBytes
        if maxBytes == 0 || maxBytes > Self.listpackMaxSize { maxBytes = Self.listpackMaxSize }
        var tail = nodes.last
        if let p = tail {
            let lp = nodes.value(p)
            var full = lp.totalBytes + total >= maxBytes
            if !full && nodeMaxEntries > 0, let c = lp.first, let d = lp.next(c) {
                full = lp.integer(c) + lp.integer(d) >= Int64(nodeMaxEntries)
            }
            if full {
                nodes.modify(p) { $0.shrinkToFit() }
                tail = nil
            }
        }

        var flags: Int64 = 0
        let masterID: StreamID
        let pos: StreamSortedMap<StreamListpack>.Position
        if let p = tail {
            masterID = nodes.key(p)
            pos = p
            flags = nodes.modify(p) { lp -> Int64 in
                // count + 1, then see whether the fields match the master entry's.
                guard let c = lp.first else { return 0 }
                lp.replaceInteger(c, lp.integer(c) + 1)
                guard let d = lp.next(c), let nf = lp.next(d) else { return 0 }
                let masterFields = lp.integer(nf)
                guard masterFields == Int64(numFields) else { return 0 }
                var e = lp.next(nf)
                var i = pairs.startIndex
                for _ in 0..<masterFields {
                    guard let q = e, lp.elementEquals(q, pairs[i]) else { return 0 }
                    e = lp.next(q)
                    i += 2
                }
                return Self.flagSameFields
            }
        } else {
            masterID = id
            var prealloc = Self.maxPreallocate
            if nodeMaxBytes > 0 && nodeMaxBytes < prealloc { prealloc = nodeMaxBytes }
            var lp = StreamListpack(capacity: prealloc)
            lp.append { w in
                w.integer(1)  // one live entry: the one being added
                w.integer(0)  // none deleted
                w.integer(Int64(numFields))
                var i = pairs.startIndex
                while i < pairs.endIndex { w.string(pairs[i]); i += 2 }
                w.integer(0)  // master entry terminator
            }
            nodes.set(id, lp)
            guard let p = nodes.find(id) else { throw .tooLarge }
            pos = p
            flags = Self.flagSameFields
        }
        let same = flags & Self.flagSameFields != 0
        nodes.modify(pos) { lp in
            lp.append { w in
                w.integer(flags)
                w.integer(Int64(bitPattern: id.ms &- masterID.ms))
                w.integer(Int64(bitPattern: id.seq &- masterID.seq))
                if !same { w.integer(Int64(numFields)) }
                var i = pairs.startIndex
                while i < pairs.endIndex {
                    if !same { w.string(pairs[i]) }
                    w.string(pairs[i + 1])
                    i += 2
                }
                w.integer(Int64(numFields + 3 + (same ? 0 : numFields + 1)))
            }
        }
        length += 1
        entriesAdded &+= 1  // any value an RDB or XSETID gave, wrapping as Redis's uint64 does
        lastID = id
        if length == 1 { firstID = id }
        return id
    }

    // MARK: - Deleting

    /// Marks the live entry `id` deleted (streamDeleteItem); a node whose last live entry goes is
    /// removed. Returns whether an entry was deleted.
    func delete(_ id: StreamID) -> Bool {
        var it = StreamIterator(self, start: id, end: id, reverse: false)
        guard it.nextID() != nil, let node = it.nodePosition else { return false }
        let flagsPos = it.flagsPosition
        it.stop()  // drop the iterator's reference to the node before writing it
        nodes.modify(node) { lp in
            lp.replaceInteger(flagsPos, lp.integer(flagsPos) | Self.flagDeleted)
        }
        let live = nodes.value(node).integer(StreamListpack.headerSize)
        if live == 1 {
            nodes.remove(at: node)
        } else {
            nodes.modify(node) { lp in
                let c = StreamListpack.headerSize
                lp.replaceInteger(c, live - 1)
                if let d = lp.next(c) { lp.replaceInteger(d, lp.integer(d) + 1) }
            }
        }
        length -= 1
        return true
    }

    // MARK: - Edges

    /// The first (or last) entry's ID, tombstones included or not (streamGetEdgeID); when there
    /// is none, the largest ID for `first` and 0-0 otherwise.
    func edgeID(first: Bool, skipTombstones: Bool) -> StreamID {
        var it = StreamIterator(self, start: nil, end: nil, reverse: !first)
        it.skipTombstones = skipTombstones
        if let (id, _) = it.nextID() { return id }
        return first ? .max : .zero
    }

    /// The last live entry's ID (streamLastValidID); 0-0 for an empty stream.
    var lastValidID: StreamID {
        var it = StreamIterator(self, start: nil, end: nil, reverse: true)
        return it.nextID()?.id ?? .zero
    }

    /// Whether `id` is a live entry (streamEntryExists).
    func contains(_ id: StreamID) -> Bool {
        var it = StreamIterator(self, start: id, end: id, reverse: false)
        return it.nextID() != nil
    }

    /// The ID of the last entry of the node at `p`, tombstone or not (lpGetEdgeStreamID).
    func lastEntryID(ofNode p: StreamSortedMap<StreamListpack>.Position) -> StreamID? {
        let lp = nodes.value(p)
        guard var e = lp.last else { return nil }
        var n = lp.integer(e)
        if n == 0 { return nil }  // only the master entry
        while n > 0, let q = lp.previous(e) { e = q; n -= 1 }
        guard let msPos = lp.next(e), let seqPos = lp.next(msPos) else { return nil }
        let master = nodes.key(p)
        return StreamID(master.ms &+ UInt64(bitPattern: lp.integer(msPos)), master.seq &+ UInt64(bitPattern: lp.integer(seqPos)))
    }

    // MARK: - Consumer-group arithmetic

    /// Whether [start, end] may hold a deleted entry (streamRangeHasTombstones).
    func rangeHasTombstones(from start: StreamID?, to end: StreamID?) -> Bool {
        if length == 0 || maxDeletedID.isZero { return false }
        if firstID > maxDeletedID { return false }
        return (start ?? .zero) <= maxDeletedID && maxDeletedID <= (end ?? .max)
    }

    /// The logical read counter of `id` (streamEstimateDistanceFromFirstEverEntry), or nil when it
    /// cannot be known.
    func estimateDistance(to id: StreamID) -> Int64? {
        if entriesAdded == 0 { return 0 }
        if length == 0 && id <= lastID { return Int64(bitPattern: entriesAdded) }
        if id == lastID { return Int64(bitPattern: entriesAdded) }
        if id > lastID { return nil }
        if maxDeletedID.isZero || maxDeletedID < firstID {
            if id < firstID { return Int64(bitPattern: entriesAdded &- length) }
            if id == firstID { return Int64(bitPattern: entriesAdded &- length &+ 1) }
        }
        return nil
    }

    /// A group's lag (streamReplyWithCGLag), or nil when unknown.
    func lag(of g: StreamGroup) -> Int64? {
        if entriesAdded == 0 { return 0 }
        if g.entriesRead != StreamGroup.invalidEntriesRead && !rangeHasTombstones(from: g.lastID, to: nil) {
            return Int64(bitPattern: entriesAdded) &- g.entriesRead
        }
        guard let read = estimateDistance(to: g.lastID) else { return nil }
        return Int64(bitPattern: entriesAdded) &- read
    }

    // MARK: - Groups

    /// Index where a group named `name` is or would go.
    private func groupIndex(_ name: Bytes) -> (Int, Bool) {
        var lo = 0, hi = groups.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = StreamGroup.compare(groups[mid].name, name)
            if c == 0 { return (mid, true) }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return (lo, false)
    }

    /// The group named `name` (streamLookupCG).
    func group(_ name: Bytes) -> StreamGroup? {
        let (i, found) = groupIndex(name)
        return found ? groups[i] : nil
    }

    /// Creates a group (streamCreateCG); nil if the name is taken.
    @discardableResult
    func createGroup(_ name: Bytes, lastID: StreamID, entriesRead: Int64) -> StreamGroup? {
        let (i, found) = groupIndex(name)
        if found { return nil }
        let g = StreamGroup(name: name, lastID: lastID, entriesRead: entriesRead)
        groups.insert(g, at: i)
        return g
    }

    /// Removes a group; returns whether it existed.
    func destroyGroup(_ name: Bytes) -> Bool {
        let (i, found) = groupIndex(name)
        if found { groups.remove(at: i) }
        return found
    }

    // MARK: - Copies

    /// An independent copy with the same groups, consumers and PELs (streamDup).
    func copy() -> StreamValue {
        let s = StreamValue()
        s.nodes = nodes.clone()
        s.length = length
        s.lastID = lastID
        s.firstID = firstID
        s.maxDeletedID = maxDeletedID
        s.entriesAdded = entriesAdded
        s.groups = groups.map { $0.copy() }
        return s
    }
}

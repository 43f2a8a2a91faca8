// An ordered map keyed by stream ID, standing in for Redis's radix trees (the node index of a
// stream, group and consumer PELs). Two levels: a sorted array of chunks of at most `chunkSize`
// sorted entries. Lookups are two binary searches; appends at the end (the common case: new
// entries, new deliveries) are O(1); removals at the front (trimming, acking in order) shift
// one chunk at most; other inserts and removals shift one chunk plus, when a chunk splits or
// empties, the chunk array (1/chunkSize of the entries).
//
// A struct holding class chunks: copying it shares the chunks, so copies are made only with
// `clone()`. Positions are invalidated by any mutation.
/// An ordered map from stream IDs to values.
struct StreamSortedMap<Value> {
    /// One run of consecutive entries.
    final class Chunk {
        var keys: [StreamID]
        var values: [Value]
        /// A chunk holding these sorted entries.
        init(keys: [StreamID], values: [Value]) { self.keys = keys; self.values = values }
    }

    /// A position: chunk index, index in the chunk.
    struct Position: Equatable {
        var chunk: Int
        var index: Int
    }

    private(set) var chunks: [Chunk] = []
    /// Number of entries.
    private(set) var count = 0
    /// Entries per chunk before appends open a new one (inserts split at twice this).
    static var chunkSize: Int { 128 }

    /// An empty map.
    init() {}

    /// Whether the map is empty.
    var isEmpty: Bool { count == 0 }

    /// An independent copy (the chunks are duplicated).
    func clone() -> StreamSortedMap {
        var m = StreamSortedMap()
        m.chunks = chunks.map { Chunk(keys: $0.keys, values: $0.values) }
        m.count = count
        return m
    }

    // MARK: - Reading

    /// The key at `p`.
    @inline(__always) func key(_ p: Position) -> StreamID { chunks[p.chunk].keys[p.index] }
    /// The value at `p`.
    @inline(__always) func value(_ p: Position) -> Value { chunks[p.chunk].values[p.index] }
    /// Mutates the value at `p` in place.
    @inline(__always) func modify<R>(_ p: Position, _ body: (inout Value) -> R) -> R {
        body(&chunks[p.chunk].values[p.index])
    }

    /// The first entry's position.
    var first: Position? { chunks.isEmpty ? nil : Position(chunk: 0, index: 0) }
    /// The last entry's position.
    var last: Position? { chunks.isEmpty ? nil : Position(chunk: chunks.count - 1, index: chunks[chunks.count - 1].keys.count - 1) }

    /// The position after `p`.
    @inline(__always) func after(_ p: Position) -> Position? {
        if p.index + 1 < chunks[p.chunk].keys.count { return Position(chunk: p.chunk, index: p.index + 1) }
        return p.chunk + 1 < chunks.count ? Position(chunk: p.chunk + 1, index: 0) : nil
    }

    /// The position before `p`.
    @inline(__always) func before(_ p: Position) -> Position? {
        if p.index > 0 { return Position(chunk: p.chunk, index: p.index - 1) }
        return p.chunk > 0 ? Position(chunk: p.chunk - 1, index: chunks[p.chunk - 1].keys.count - 1) : nil
    }

    /// Index of the last chunk whose first key is <= `k` (0 when `k` precedes everything).
    private func chunkFor(_ k: StreamID) -> Int {
        var lo = 0, hi = chunks.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if chunks[mid].keys[0] <= k { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// First index in `keys` whose key is >= `k`.
    @inline(__always) private static func lowerIndex(_ keys: [StreamID], _ k: StreamID) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < k { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The position of `k`, if present.
    func find(_ k: StreamID) -> Position? {
        guard !chunks.isEmpty else { return nil }
        let c = chunkFor(k)
        let keys = chunks[c].keys
        let i = Self.lowerIndex(keys, k)
        return i < keys.count && keys[i] == k ? Position(chunk: c, index: i) : nil
    }

    /// The value stored under `k`.
    func get(_ k: StreamID) -> Value? { find(k).map { value($0) } }

    /// The first position whose key is >= `k` (raxSeek ">=").
    func lowerBound(_ k: StreamID) -> Position? {
        guard !chunks.isEmpty else { return nil }
        let c = chunkFor(k)
        let i = Self.lowerIndex(chunks[c].keys, k)
        if i < chunks[c].keys.count { return Position(chunk: c, index: i) }
        return c + 1 < chunks.count ? Position(chunk: c + 1, index: 0) : nil
    }

    /// The last position whose key is <= `k` (raxSeek "<=").
    func floor(_ k: StreamID) -> Position? {
        guard !chunks.isEmpty else { return nil }
        let c = chunkFor(k)
        let keys = chunks[c].keys
        let i = Self.lowerIndex(keys, k)
        if i < keys.count && keys[i] == k { return Position(chunk: c, index: i) }
        if i > 0 { return Position(chunk: c, index: i - 1) }
        return nil  // only possible in chunk 0: every key is greater
    }

    // MARK: - Writing

    /// Inserts `v` under `k` unless present (raxTryInsert); returns whether it was inserted.
    @discardableResult
    mutating func insert(_ k: StreamID, _ v: Value) -> Bool {
        if let lastChunk = chunks.last, let lastKey = lastChunk.keys.last, k > lastKey {
            if lastChunk.keys.count < Self.chunkSize {
                lastChunk.keys.append(k)
                lastChunk.values.append(v)
            } else {
                chunks.append(Chunk(keys: [k], values: [v]))
            }
            count += 1
            return true
        }
        if chunks.isEmpty {
            chunks.append(Chunk(keys: [k], values: [v]))
            count = 1
            return true
        }
        let c = chunkFor(k)
        let chunk = chunks[c]
        let i = Self.lowerIndex(chunk.keys, k)
        if i < chunk.keys.count && chunk.keys[i] == k { return false }
        chunk.keys.insert(k, at: i)
        chunk.values.insert(v, at: i)
        count += 1
        if chunk.keys.count > Self.chunkSize * 2 {
            let half = chunk.keys.count / 2
            let tail = Chunk(keys: Array(chunk.keys[half...]), values: Array(chunk.values[half...]))
            chunk.keys.removeSubrange(half...)
            chunk.values.removeSubrange(half...)
            chunks.insert(tail, at: c + 1)
        }
        return true
    }

    /// Stores `v` under `k`, replacing any value there (raxInsert).
    mutating func set(_ k: StreamID, _ v: Value) {
        if let p = find(k) { chunks[p.chunk].values[p.index] = v } else { insert(k, v) }
    }

    /// Removes the entry at `p`; returns its value.
    @discardableResult
    mutating func remove(at p: Position) -> Value {
        let chunk = chunks[p.chunk]
        chunk.keys.remove(at: p.index)
        let v = chunk.values.remove(at: p.index)
        if chunk.keys.isEmpty { chunks.remove(at: p.chunk) }
        count -= 1
        return v
    }

    /// Removes `k`; returns its value if it was present.
    @discardableResult
    mutating func remove(_ k: StreamID) -> Value? {
        guard let p = find(k) else { return nil }
        return remove(at: p)
    }

    /// Removes everything.
    mutating func removeAll() { chunks = []; count = 0 }

    /// Every entry in order (RDB writing, copies, tests).
    func forEach(_ body: (StreamID, Value) throws -> Void) rethrows {
        for c in chunks { for i in 0..<c.keys.count { try body(c.keys[i], c.values[i]) } }
    }
}

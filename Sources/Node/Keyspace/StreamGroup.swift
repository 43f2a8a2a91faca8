// Consumer groups (stream.h's streamCG, streamConsumer, streamNACK). A group's PEL maps every
// delivered-but-unacknowledged ID to its NACK; each consumer's PEL holds the IDs it owns, so
// the NACK (delivery time, count, owner) lives once, in the group.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// A pending entry: delivered, not yet acknowledged.
struct StreamNACK {
    /// Unix ms of the last delivery.
    var deliveryTime: Int64
    /// Deliveries so far.
    var deliveryCount: UInt64
    /// The consumer it was last delivered to (nil only while loading or FORCE-claiming).
    var consumer: StreamConsumer?
}

/// A consumer of a group.
final class StreamConsumer {
    /// The consumer's name (case-sensitive bytes).
    let name: Bytes
    /// Unix ms the consumer was last active.
    var seenTime: Int64
    /// IDs pending for this consumer (values live in the group's PEL).
    var pel = StreamSortedMap<Void>()

    /// A consumer with an empty PEL.
    init(name: Bytes, seenTime: Int64) { self.name = name; self.seenTime = seenTime }
}

/// A consumer group.
final class StreamGroup {
    /// entries_read when unknown (SCG_INVALID_ENTRIES_READ).
    static let invalidEntriesRead: Int64 = -1

    /// The group's name.
    let name: Bytes
    /// Last delivered ID: `>` reads start after it.
    var lastID: StreamID
    /// The logical read counter of `lastID`, or -1 when unknown.
    var entriesRead: Int64
    /// Every pending entry of the group.
    var pel = StreamSortedMap<StreamNACK>()
    /// Consumers, sorted by name.
    private(set) var consumers: [StreamConsumer] = []

    /// A group without consumers.
    init(name: Bytes, lastID: StreamID, entriesRead: Int64) {
        self.name = name
        self.lastID = lastID
        self.entriesRead = entriesRead
    }

    /// Byte-wise order, shorter first on a common prefix (the rax's order).
    static func compare(_ a: Bytes, _ b: Bytes) -> Int {
        let n = Swift.min(a.count, b.count)
        let r = n == 0 ? 0 : a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in memcmp(x.baseAddress!, y.baseAddress!, n) } }
        if r != 0 { return Int(r) }
        return a.count < b.count ? -1 : a.count > b.count ? 1 : 0
    }

    private func consumerIndex(_ name: Bytes) -> (Int, Bool) {
        var lo = 0, hi = consumers.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = Self.compare(consumers[mid].name, name)
            if c == 0 { return (mid, true) }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return (lo, false)
    }

    /// The consumer named `name`; `refresh` updates its seen time (streamLookupConsumer).
    func consumer(_ name: Bytes, refresh: Bool = false, now: Int64 = 0) -> StreamConsumer? {
        let (i, found) = consumerIndex(name)
        guard found else { return nil }
        if refresh { consumers[i].seenTime = now }
        return consumers[i]
    }

    /// Creates a consumer (streamCreateConsumer); nil if it exists.
    func createConsumer(_ name: Bytes, now: Int64) -> StreamConsumer? {
        let (i, found) = consumerIndex(name)
        if found { return nil }
        let c = StreamConsumer(name: name, seenTime: now)
        consumers.insert(c, at: i)
        return c
    }

    /// The consumer, created if missing; `created` says which (XREADGROUP, XCLAIM).
    func lookupOrCreate(_ name: Bytes, now: Int64) -> (consumer: StreamConsumer, created: Bool) {
        let (i, found) = consumerIndex(name)
        if found {
            consumers[i].seenTime = now
            return (consumers[i], false)
        }
        let c = StreamConsumer(name: name, seenTime: now)
        consumers.insert(c, at: i)
        return (c, true)
    }

    /// Deletes a consumer and its pending entries from the group PEL (streamDelConsumer);
    /// returns how many were pending.
    func deleteConsumer(_ c: StreamConsumer) -> Int {
        let pending = c.pel.count
        c.pel.forEach { id, _ in pel.remove(id) }
        let (i, found) = consumerIndex(c.name)
        if found { consumers.remove(at: i) }
        return pending
    }

    /// Acknowledges `id`: removes it from the group and owner PELs. Returns whether it was pending.
    @discardableResult
    func acknowledge(_ id: StreamID) -> Bool {
        guard let nack = pel.remove(id) else { return false }
        nack.consumer?.pel.remove(id)
        return true
    }

    /// Appends a consumer while loading an RDB in saved (sorted) order; nil for a duplicate.
    func addLoadedConsumer(_ name: Bytes, seenTime: Int64) -> StreamConsumer? {
        createConsumer(name, now: seenTime)
    }

    /// An independent copy: PEL entries point at the copy's consumers.
    func copy() -> StreamGroup {
        let g = StreamGroup(name: name, lastID: lastID, entriesRead: entriesRead)
        g.pel = pel.clone()
        for c in consumers {
            let n = StreamConsumer(name: c.name, seenTime: c.seenTime)
            n.pel = c.pel.clone()
            g.consumers.append(n)
            n.pel.forEach { id, _ in
                if let p = g.pel.find(id) { g.pel.modify(p) { $0.consumer = n } }
            }
        }
        return g
    }
}

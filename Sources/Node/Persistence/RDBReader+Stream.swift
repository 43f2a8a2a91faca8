// Loading a stream value (rdbLoadObject's stream branch) in the three layouts Redis writes:
// STREAM_LISTPACKS (Redis 5-6.2: no first/max-deleted IDs, no entries-added, no group read
// counters, which are then derived as Redis derives them), STREAM_LISTPACKS_2 (7.0) and
// STREAM_LISTPACKS_3 (7.2: consumers also carry an active time, dropped here). Every node is
// validated before it is adopted, and the PELs must agree with the consumers that own them.
import Shared

extension RDBReader {
    /// A full 64-bit RDB length (stream IDs and counters use the whole range).
    mutating func length64() throws -> UInt64 {
        let at = pos
        let b = try byte()
        switch b >> 6 {
        case 0: return UInt64(b & 0x3F)
        case 1: return UInt64(b & 0x3F) << 8 | UInt64(try byte())
        default:
            let wide: Int
            if b == 0x80 { wide = 4 } else if b == 0x81 { wide = 8 } else {
                throw RDBError(message: "Unknown length encoding \(b)", offset: at)
            }
            var v: UInt64 = 0
            for x in try take(wide) { v = v << 8 | UInt64(x) }
            return v
        }
    }

    /// A count of things that follow in the payload: bounded by the bytes left (each takes one).
    private mutating func count(_ what: String) throws -> Int {
        let at = pos
        let n = try length64()
        guard n <= UInt64(bytes.count - pos) else { throw RDBError(message: "\(what) count \(n) out of range", offset: at) }
        return Int(n)
    }

    private mutating func rawID() throws -> StreamID {
        let at = pos
        guard let id = StreamID(encoded: try take(16)) else { throw RDBError(message: "Stream PEL ID loading failed", offset: at) }
        return id
    }

    /// The stream payload after the type byte and key.
    mutating func stream(type: UInt8, at start: Int) throws -> StreamValue {
        let s = StreamValue()
        var live: UInt64 = 0
        let listpacks = try count("Stream listpacks")
        for _ in 0..<listpacks {
            let keyAt = pos
            let key = try string()
            guard let master = StreamID(encoded: key) else {
                throw RDBError(message: "Stream node key entry is not the size of a stream ID", offset: keyAt)
            }
            let lpAt = pos
            let lp = try string()
            guard let summary = StreamListpack.validateNode(lp) else {
                throw RDBError(message: "Stream listpack integrity check failed.", offset: lpAt)
            }
            guard s.nodes.insert(master, StreamListpack(validated: lp)) else {
                throw RDBError(message: "Listpack re-added with existing key", offset: keyAt)
            }
            live += UInt64(summary.live)
        }
        let lengthAt = pos
        s.length = try length64()
        guard s.length == live else {
            throw RDBError(message: "Stream length inconsistent with rax entries", offset: lengthAt)
        }
        s.lastID = StreamID(try length64(), try length64())
        if type == RDB.typeStreamListpacks {
            // Redis 5-6.2 kept none of these: derive them as its loader does (an empty stream
            // gets the largest ID as its first, exactly as streamGetEdgeID reports "none").
            s.entriesAdded = s.length
            s.firstID = s.edgeID(first: true, skipTombstones: true)
        } else {
            s.firstID = StreamID(try length64(), try length64())
            s.maxDeletedID = StreamID(try length64(), try length64())
            s.entriesAdded = try length64()
        }
        let groups = try count("Stream cgroup")
        for _ in 0..<groups {
            try readGroup(into: s, type: type)
        }
        return s
    }

    private mutating func readGroup(into s: StreamValue, type: UInt8) throws {
        let nameAt = pos
        let name = try string()
        let lastID = StreamID(try length64(), try length64())
        let entriesRead: Int64
        if type == RDB.typeStreamListpacks {
            entriesRead = s.estimateDistance(to: lastID) ?? StreamGroup.invalidEntriesRead
        } else {
            entriesRead = Int64(bitPattern: try length64())
        }
        guard let g = s.createGroup(name, lastID: lastID, entriesRead: entriesRead) else {
            throw RDBError(message: "Duplicated consumer group name \(name.text)", offset: nameAt)
        }
        let pelSize = try count("Stream PEL")
        for _ in 0..<pelSize {
            let at = pos
            let id = try rawID()
            let time = try intLE(8, signed: true)
            let deliveries = try length64()
            guard g.pel.insert(id, StreamNACK(deliveryTime: time, deliveryCount: deliveries, consumer: nil)) else {
                throw RDBError(message: "Duplicated global PEL entry loading stream consumer group", offset: at)
            }
        }
        let consumers = try count("Stream consumers")
        for _ in 0..<consumers {
            let cAt = pos
            let cname = try string()
            let seen = try intLE(8, signed: true)
            if type == RDB.typeStreamListpacks3 { _ = try intLE(8, signed: true) }  // active-time (7.2)
            guard let consumer = g.addLoadedConsumer(cname, seenTime: seen) else {
                throw RDBError(message: "Duplicate stream consumer detected.", offset: cAt)
            }
            let owned = try count("Stream consumer PEL")
            for _ in 0..<owned {
                let at = pos
                let id = try rawID()
                guard let p = g.pel.find(id) else {
                    throw RDBError(message: "Consumer entry not found in group global PEL", offset: at)
                }
                guard g.pel.value(p).consumer == nil, consumer.pel.insert(id, ()) else {
                    throw RDBError(message: "Duplicated consumer PEL entry  loading a stream consumer group", offset: at)
                }
                g.pel.modify(p) { $0.consumer = consumer }
            }
        }
        // Our commands assume every pending entry has an owner (Redis checks this only when
        // sanitizing payloads, and would crash later otherwise).
        var orphan = false
        g.pel.forEach { _, nack in if nack.consumer == nil { orphan = true } }
        if orphan { throw RDBError(message: "Stream CG PEL entry without consumer", offset: nameAt) }
    }
}

// A stream value as RDB_TYPE_STREAM_LISTPACKS_2 (rdbSaveObject's OBJ_STREAM branch): the nodes
// as (16-byte master ID, listpack) string pairs, the bookkeeping IDs and counters, then every
// group with its PEL (raw IDs, delivery time and count) and its consumers (name, seen time,
// the IDs they own).
import Shared

extension RDBWriter {
    /// The stream payload after the type byte and key.
    mutating func writeStream(_ s: StreamValue) {
        length(s.nodes.count)
        s.nodes.forEach { id, lp in
            string(id.encoded)
            string(lp.bytes)
        }
        length(s.length)
        length(s.lastID.ms); length(s.lastID.seq)
        length(s.firstID.ms); length(s.firstID.seq)
        length(s.maxDeletedID.ms); length(s.maxDeletedID.seq)
        length(s.entriesAdded)
        length(s.groups.count)
        for g in s.groups {
            string(g.name)
            length(g.lastID.ms); length(g.lastID.seq)
            length(UInt64(bitPattern: g.entriesRead))
            length(g.pel.count)
            g.pel.forEach { id, nack in
                raw(id.encoded)
                le(UInt64(bitPattern: nack.deliveryTime), 8)
                length(nack.deliveryCount)
            }
            length(g.consumers.count)
            for c in g.consumers {
                string(c.name)
                le(UInt64(bitPattern: c.seenTime), 8)
                length(c.pel.count)
                c.pel.forEach { id, _ in raw(id.encoded) }
            }
        }
    }

    /// A length over the full 64-bit range (IDs and counters are saved with rdbSaveLen too).
    mutating func length(_ n: UInt64) {
        if n <= UInt64(UInt32.max) { length(Int(n)); return }
        raw([0x81])
        for s in stride(from: 56, through: 0, by: -8) { raw([UInt8(truncatingIfNeeded: n >> UInt64(s))]) }
    }
}

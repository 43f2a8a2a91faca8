// A stream as AOF commands (rewriteStreamObject): one XADD per entry (or `XADD key MAXLEN 0
// 0-1 x y` for an empty stream, which still exists), XSETID restoring the last ID, entries-added
// and max-deleted ID, then per group an XGROUP CREATE with its read counter, an XCLAIM per
// pending entry (owner, delivery time and count) and XGROUP CREATECONSUMER for consumers that
// own nothing.
import Shared

extension AOFBaseWriter {
    /// Emits the commands rebuilding `s` at `key`.
    static func rewriteStream(_ key: Bytes, _ s: StreamValue, emit: ([Bytes]) throws -> Void) throws {
        let xadd = Bytes("XADD".utf8)
        if s.length > 0 {
            var it = StreamIterator(s, start: nil, end: nil, reverse: false)
            while let (id, fields) = it.nextID() {
                try emit([xadd, key, id.bytes] + it.fieldPairs(fields))
            }
        } else {
            try emit([xadd, key, Bytes("MAXLEN".utf8), Bytes("0".utf8), StreamID(0, 1).bytes, Bytes("x".utf8), Bytes("y".utf8)])
        }
        try emit([Bytes("XSETID".utf8), key, s.lastID.bytes, Bytes("ENTRIESADDED".utf8), Bytes(String(s.entriesAdded).utf8),
                  Bytes("MAXDELETEDID".utf8), s.maxDeletedID.bytes])
        for g in s.groups {
            try emit([Bytes("XGROUP".utf8), Bytes("CREATE".utf8), key, g.name, g.lastID.bytes,
                      Bytes("ENTRIESREAD".utf8), Bytes(String(g.entriesRead).utf8)])
            for c in g.consumers {
                if c.pel.isEmpty {
                    try emit([Bytes("XGROUP".utf8), Bytes("CREATECONSUMER".utf8), key, g.name, c.name])
                    continue
                }
                try c.pel.forEach { id, _ in
                    let nack = g.pel.get(id)
                    try emit([Bytes("XCLAIM".utf8), key, g.name, c.name, Bytes("0".utf8), id.bytes,
                              Bytes("TIME".utf8), Bytes(String(nack?.deliveryTime ?? 0).utf8),
                              Bytes("RETRYCOUNT".utf8), Bytes(String(nack?.deliveryCount ?? 0).utf8),
                              Bytes("JUSTID".utf8), Bytes("FORCE".utf8)])
                }
            }
        }
    }
}

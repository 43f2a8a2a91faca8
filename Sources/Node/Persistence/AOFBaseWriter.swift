// The dataset as commands, for a base file written with `aof-use-rdb-preamble no`
// (rewriteAppendOnlyFileRio): the FUNCTION libraries as FUNCTION LOAD, then SELECT per
// database, one command per key with at most 64 elements each, then PEXPIREAT for keys with a
// TTL. Keys already expired are left out.
import Shared

/// Writes a `.base.aof` body.
enum AOFBaseWriter {
    /// Elements per emitted command (Redis's AOF_REWRITE_ITEMS_PER_CMD).
    static let itemsPerCommand = 64

    /// Streams the commands for `databases` to `sink` in chunks.
    /// `functions`: the FUNCTION libraries' codes, written first as FUNCTION LOAD (rewriteFunctions).
    static func write(_ databases: [Database], functions: [Bytes] = [], now: Int64, sink: (Bytes) throws -> Void) throws {
        var out = Bytes()
        func emit(_ argv: [Bytes]) throws {
            out += RESPWriter.command(argv)
            if out.count >= 64 * 1024 { try sink(out); out.removeAll(keepingCapacity: true) }
        }
        for code in functions { try emit([Bytes("FUNCTION".utf8), Bytes("LOAD".utf8), code]) }
        func batched(_ name: String, _ key: Bytes, _ items: [Bytes], stride step: Int) throws {
            var i = 0
            while i < items.count {
                let end = min(items.count, i + itemsPerCommand * step)
                try emit([Bytes(name.utf8), key] + items[i..<end])
                i = end
            }
        }
        for db in databases where db.count > 0 {
            try emit([Bytes("SELECT".utf8), Bytes(String(db.id).utf8)])
            for (key, value) in db.dict {
                let expiry = db.expiry(key)
                if let e = expiry, e < now { continue }
                switch value {
                case .string(let b):
                    try emit([Bytes("SET".utf8), key.bytes, b])
                case .list(let l):
                    try batched("RPUSH", key.bytes, Array(l.elements), stride: 1)
                case .set(let s):
                    try batched("SADD", key.bytes, s.members.map { $0.bytes }, stride: 1)
                case .hash(let h):
                    var items: [Bytes] = []
                    items.reserveCapacity(h.fields.count * 2)
                    for (f, v) in h.fields { items.append(f.bytes); items.append(v) }
                    try batched("HMSET", key.bytes, items, stride: 2)
                case .zset(let z):
                    var items: [Bytes] = []
                    items.reserveCapacity(z.scores.count * 2)
                    for (m, s) in z.ordered { items.append(Bytes(NumberFormat.double17g(s).utf8)); items.append(m) }
                    try batched("ZADD", key.bytes, items, stride: 2)
                case .stream(let s):
                    try AOFBaseWriter.rewriteStream(key.bytes, s, emit: emit)
                }
                if let e = expiry {
                    try emit([Bytes("PEXPIREAT".utf8), key.bytes, Bytes(String(e).utf8)])
                }
            }
        }
        if !out.isEmpty { try sink(out) }
    }
}

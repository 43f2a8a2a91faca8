// Serializes databases as an RDB version 10 image that Redis 7.0 loads. Aggregates use the
// simple encodings (plain hash/set/zset, quicklist of listpacks): Redis re-encodes on load.
import Shared

/// Writes an RDB image into a buffer, optionally streaming full chunks to a sink (a file).
struct RDBWriter {
    /// Options that shape the output.
    struct Options {
        var compression = true
        var checksum = true
        /// `repl-id` / `repl-offset` AUX values, when replication has them.
        var replication: (id: String, offset: Int64)? = nil
        /// Value of the `used-mem` AUX field.
        var usedMemory = 0
        /// The `repl-stream-db` AUX value.
        var replStreamDB = 0
        /// Function libraries' codes, written after the AUX fields as Redis does.
        var functions: [Bytes] = []
        /// rdb-key-save-delay: microseconds slept per key written (a test directive).
        var keySaveDelay = 0
    }

    private(set) var buffer: [UInt8] = []
    private var crc: UInt64 = 0
    private let options: Options
    private var lzf = LZF.Compressor()
    private var keysWritten = 0
    /// Receives full chunks when set; the rest stays in `buffer` until `finish()`.
    private let sink: (([UInt8]) throws -> Void)?
    static let chunkSize = 1 << 20
    /// Quicklist node limits: Redis's default list-max-listpack-size -2 is 8 KB per node.
    static let listpackNodeBytes = 8 * 1024

    /// Creates a writer; `sink` receives the image in chunks (nil keeps it all in `buffer`).
    init(options: Options, sink: (([UInt8]) throws -> Void)? = nil) {
        self.options = options
        self.sink = sink
        buffer.reserveCapacity(sink == nil ? 4096 : Self.chunkSize + 65536)
    }

    /// Serializes `databases` completely (header, AUX, data, EOF, checksum); returns the image
    /// when no sink was given (otherwise the tail has been flushed to the sink).
    static func snapshot(_ databases: [Database], options: Options, now: Int64,
                         sink: (([UInt8]) throws -> Void)? = nil) throws -> [UInt8] {
        var w = RDBWriter(options: options, sink: sink)
        try w.writeHeader(now: now)
        for code in options.functions { w.writeFunction(code) }
        for db in databases where db.count > 0 { try w.writeDatabase(db) }
        return try w.finish()
    }

    // MARK: - Sections

    /// `REDIS0010` and the AUX fields Redis 7.0 writes.
    mutating func writeHeader(now: Int64) throws {
        raw(Array("REDIS00\(RDB.version)".utf8))
        aux("redis-ver", VigilVersion.redisCompat)
        aux("redis-bits", "64")
        aux("ctime", String(now / 1000))
        aux("used-mem", String(options.usedMemory))
        aux("repl-stream-db", String(options.replStreamDB))
        aux("repl-id", options.replication?.id ?? String(repeating: "0", count: 40))
        aux("repl-offset", String(options.replication?.offset ?? 0))
        aux("aof-base", "0")
        try flushIfFull()
    }

    /// One function library (RDB_OPCODE_FUNCTION2 and its code).
    mutating func writeFunction(_ code: Bytes) {
        raw([RDB.opFunction2])
        string(code)
    }

    private mutating func aux(_ k: String, _ v: String) {
        raw([RDB.opAux])
        string(Array(k.utf8))
        string(Array(v.utf8))
    }

    /// SELECTDB, RESIZEDB and every key of `db`.
    mutating func writeDatabase(_ db: Database) throws {
        raw([RDB.opSelectDB]); length(db.id)
        raw([RDB.opResizeDB]); length(db.dict.count); length(db.expires.count)
        for (key, value) in db.dict {
            if let t = db.expiry(key) {
                raw([RDB.opExpireTimeMs])
                le(UInt64(bitPattern: t), 8)
            }
            writeObject(key: key, value: value)
            try flushIfFull()
            if options.keySaveDelay != 0 {
                keysWritten += 1
                RDB.debugDelay(options.keySaveDelay, count: keysWritten)
            }
        }
    }

    /// EOF, then the CRC64 of everything before it (zeros with rdbchecksum no).
    mutating func finish() throws -> [UInt8] {
        raw([RDB.opEOF])
        crc = CRC64.update(crc, buffer)
        le(options.checksum ? crc : 0, 8)
        if let sink {
            try sink(buffer)
            buffer = []
        }
        return buffer
    }

    private mutating func flushIfFull() throws {
        guard let sink, buffer.count >= Self.chunkSize else { return }
        crc = CRC64.update(crc, buffer)
        try sink(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    // MARK: - Objects

    /// One key/value pair (type byte, key, value).
    mutating func writeObject(key: Key, value: Value) {
        raw([RDBWriter.objectType(value)]); string(key)
        writeValueBody(value)
    }

    /// A value without a key, type byte first: the body of a DUMP payload.
    mutating func writeValue(_ value: Value) {
        raw([RDBWriter.objectType(value)])
        writeValueBody(value)
    }

    /// The RDB type byte each value is written with.
    static func objectType(_ value: Value) -> UInt8 {
        switch value {
        case .string: return RDB.typeString
        case .list: return RDB.typeListQuicklist2
        case .set: return RDB.typeSet
        case .hash: return RDB.typeHash
        case .zset: return RDB.typeZset2
        case .stream: return RDB.typeStreamListpacks2
        }
    }

    private mutating func writeValueBody(_ value: Value) {
        switch value {
        case .string(let b):
            string(b)
        case .list(let l):
            writeQuicklist(l.elements)
        case .set(let s):
            length(s.members.count)
            for m in s.members { string(m) }
        case .hash(let h):
            length(h.fields.count)
            for (f, v) in h.fields { string(f); string(v) }
        case .zset(let z):
            length(z.scores.count)
            for (m, s) in z.scores { string(m); le(s.bitPattern, 8) }
        case .stream(let s):
            writeStream(s)
        }
    }

    /// A quicklist of listpack nodes of at most 8 KB (as list-max-listpack-size -2); elements
    /// too large for a node go in PLAIN nodes, as Redis does for big elements.
    private mutating func writeQuicklist(_ items: ArraySlice<Bytes>) {
        var nodes: [(Int, [UInt8])] = []
        var lp = ListpackBuilder()
        for item in items {
            if item.count >= Self.listpackNodeBytes {
                if lp.count > 0 { nodes.append((RDB.quicklistNodePacked, lp.finish())); lp = ListpackBuilder() }
                nodes.append((RDB.quicklistNodePlain, item))
                continue
            }
            if lp.count > 0 && lp.byteCount + item.count + 11 > Self.listpackNodeBytes {
                nodes.append((RDB.quicklistNodePacked, lp.finish())); lp = ListpackBuilder()
            }
            lp.append(item)
        }
        if lp.count > 0 { nodes.append((RDB.quicklistNodePacked, lp.finish())) }
        length(nodes.count)
        for (container, blob) in nodes { length(container); string(blob) }
    }

    // MARK: - Primitives

    /// Appends bytes as they are.
    mutating func raw(_ b: [UInt8]) { buffer.append(contentsOf: b) }

    /// `n` bytes of `v`, little-endian.
    mutating func le(_ v: UInt64, _ n: Int) {
        for i in 0..<n { buffer.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    /// RDB length encoding: 6, 14, 32 or 64 bits.
    mutating func length(_ n: Int) {
        if n < 1 << 6 {
            buffer.append(UInt8(n))
        } else if n < 1 << 14 {
            buffer.append(UInt8(0x40 | n >> 8)); buffer.append(UInt8(n & 0xff))
        } else if n <= Int(UInt32.max) {
            buffer.append(0x80)
            for s in stride(from: 24, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: n >> s)) }
        } else {
            buffer.append(0x81)
            for s in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: n >> s)) }
        }
    }

    /// A key, field or member: written from its inline bytes when it cannot be an integer or LZF
    /// candidate, so saving does not allocate an array per short key.
    mutating func string(_ k: Key) {
        let n = k.count
        if n > 20 { string(k.bytes); return }
        k.withUnsafeBytes { p in
            if n > 0 && n <= 11, (p[0] >= 0x30 && p[0] <= 0x39) || p[0] == 0x2D {
                string(Bytes(p))
            } else {
                length(n)
                buffer.append(contentsOf: p)
            }
        }
    }

    /// A string: integer encoding when it is a canonical integer that fits 32 bits, LZF when
    /// enabled, longer than 20 bytes and smaller, else raw.
    mutating func string(_ s: [UInt8]) {
        if s.count <= 11, let v = NumberFormat.parseInt(s), v >= Int64(Int32.min), v <= Int64(Int32.max) {
            if v >= -128 && v <= 127 {
                buffer.append(0xc0 | UInt8(RDB.encInt8)); le(UInt64(bitPattern: v), 1)
            } else if v >= -32768 && v <= 32767 {
                buffer.append(0xc0 | UInt8(RDB.encInt16)); le(UInt64(bitPattern: v), 2)
            } else {
                buffer.append(0xc0 | UInt8(RDB.encInt32)); le(UInt64(bitPattern: v), 4)
            }
            return
        }
        if options.compression && s.count > 20, let c = lzf.compress(s, limit: s.count - 4) {
            buffer.append(0xc0 | UInt8(RDB.encLZF))
            length(c.count)
            length(s.count)
            raw(c)
            return
        }
        length(s.count)
        raw(s)
    }
}

/// Builds a listpack (listpack.c format): integers in their compact encodings, strings otherwise.
struct ListpackBuilder {
    private var body: [UInt8] = []
    /// Number of entries so far.
    private(set) var count = 0
    /// Approximate size so far.
    var byteCount: Int { body.count + 7 }

    /// Appends one element, encoded as an integer when it is a canonical integer string.
    mutating func append(_ e: [UInt8]) {
        let start = body.count
        if let v = NumberFormat.parseInt(e) {
            if v >= 0 && v <= 127 {
                body.append(UInt8(v))
            } else if v >= -4096 && v <= 4095 {
                let u = UInt64(bitPattern: v) & 0x1fff
                body.append(0xc0 | UInt8(u >> 8)); body.append(UInt8(u & 0xff))
            } else if v >= -32768 && v <= 32767 {
                body.append(0xf1); put(UInt64(bitPattern: v), 2)
            } else if v >= -(1 << 23) && v < 1 << 23 {
                body.append(0xf2); put(UInt64(bitPattern: v), 3)
            } else if v >= Int64(Int32.min) && v <= Int64(Int32.max) {
                body.append(0xf3); put(UInt64(bitPattern: v), 4)
            } else {
                body.append(0xf4); put(UInt64(bitPattern: v), 8)
            }
        } else if e.count < 64 {
            body.append(0x80 | UInt8(e.count)); body.append(contentsOf: e)
        } else if e.count < 4096 {
            body.append(0xe0 | UInt8(e.count >> 8)); body.append(UInt8(e.count & 0xff)); body.append(contentsOf: e)
        } else {
            body.append(0xf0); put(UInt64(e.count), 4); body.append(contentsOf: e)
        }
        appendBacklen(body.count - start)
        count += 1
    }

    private mutating func put(_ v: UInt64, _ n: Int) {
        for i in 0..<n { body.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    /// The entry length in 7-bit groups, most significant first; every byte after the first has
    /// the high bit set, so it can be read right to left (lpEncodeBacklen's sizes and layout).
    private mutating func appendBacklen(_ l: Int) {
        let size = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5
        for k in 0..<size {
            let g = UInt8((l >> (7 * (size - 1 - k))) & 127)
            body.append(k == 0 ? g : g | 0x80)
        }
    }

    /// The complete listpack bytes.
    func finish() -> [UInt8] {
        var out: [UInt8] = []
        let total = body.count + 7
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: total >> (8 * i))) }
        let n = min(count, 0xffff)
        out.append(UInt8(n & 0xff)); out.append(UInt8(n >> 8))
        out.append(contentsOf: body)
        out.append(0xff)
        return out
    }
}

// Parses an RDB image (a file or a replication payload) into databases. Pure: bytes in, contents
// out. Every read is bounds-checked so a truncated or corrupt image is an RDBError with its
// byte offset, never a crash and never a partial result.
import Shared

/// Reads RDB versions 1–11 as Redis 7.0 (and 7.2) write them.
struct RDBReader {
    let bytes: [UInt8]
    /// Offset of the next byte to read.
    private(set) var pos = 0
    /// Called every `progressInterval` keys with (keys so far, bytes read, total bytes).
    var progress: ((Int, Int, Int) -> Void)? = nil
    var progressInterval = 100_000

    /// Creates a reader over a whole RDB image.
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    // MARK: - Top level

    /// Reads the whole image. `now` (unix ms) drops keys already expired, as a master does;
    /// nil keeps them (a replica loading its master's payload).
    mutating func read(now: Int64?) throws -> RDBContents {
        var out = RDBContents()
        let magic = try take(9)
        guard magic.starts(with: Array("REDIS".utf8)),
              let v = Int(String(decoding: magic[5...], as: UTF8.self)) else {
            throw RDBError(message: "Wrong signature trying to load DB from file", offset: 0)
        }
        guard v >= 1 && v <= RDB.maxReadVersion else {
            throw RDBError(message: "Can't handle RDB format version \(v)", offset: 5)
        }
        out.version = v
        var db = 0
        // The database being filled lives outside `out.databases` until another SELECTDB or the
        // end: a `databases[db, default:]` access per key cost a hash probe (~6% of a load).
        var cur = RDBContents.LoadedDB()
        var touched = false  // RESIZEDB or a key seen: the database is reported even if empty
        func park() {
            if touched { out.databases[db] = cur }
            cur = RDBContents.LoadedDB()
            touched = false
        }
        var expiresAt: Int64? = nil
        var keys = 0
        while true {
            let opStart = pos
            let type = try byte()
            switch type {
            case RDB.opExpireTime:
                expiresAt = Int64(try intLE(4, signed: true)) * 1000
                continue
            case RDB.opExpireTimeMs:
                expiresAt = try intLE(8, signed: true)
                continue
            case RDB.opFreq:
                _ = try byte()
                continue
            case RDB.opIdle:
                _ = try length()
                continue
            case RDB.opEOF:
                try verifyChecksum(version: v, eofAt: opStart)
                park()
                return out
            case RDB.opSelectDB:
                let n = try length()
                guard n < 1 << 24 else { throw RDBError(message: "Bad DB index \(n)", offset: opStart) }
                park()
                db = n
                if let earlier = out.databases.removeValue(forKey: n) { cur = earlier; touched = true }
                continue
            case RDB.opResizeDB:
                let size = try length(), expires = try length()
                // A hint only: a key takes at least 8 bytes of file in practice, so cap by that
                // and a corrupt value cannot make us reserve absurd memory.
                let cap = min(bytes.count / 8, 1 << 24)
                touched = true
                cur.dict.reserveCapacity(min(size, cap))
                cur.expires.reserveCapacity(min(expires, cap))
                continue
            case RDB.opAux:
                let k = try string(), value = try string()
                out.aux[String(decoding: k, as: UTF8.self)] = value
                continue
            case RDB.opModuleAux:
                throw RDBError(message: "Module auxiliary data found in RDB; modules are not supported", offset: opStart)
            case RDB.opFunction2, RDB.opFunctionPreGA:
                // Function libraries need a Lua engine we do not have: skip the code, say so.
                if type == RDB.opFunctionPreGA {
                    _ = try string(); _ = try string(); _ = try string(); _ = try string()
                    let n = try length()
                    for _ in 0..<n { _ = try string() }
                } else { _ = try string() }
                out.warnings.append("Skipped a function library at offset \(opStart): functions are not supported")
                continue
            default:
                break
            }
            // A key/value pair.
            let key = try keyString()
            let value = try object(type: type, at: opStart)
            let expiry = expiresAt
            expiresAt = nil
            guard let value else { continue }  // empty aggregates are dropped, as Redis does
            if let now, let e = expiry, e < now {
                out.expiredSkipped += 1
                continue
            }
            touched = true
            if cur.dict.updateValue(value, forKey: key) != nil {
                throw RDBError(message: "Duplicate key '\(key.string)' found in RDB file", offset: opStart)
            }
            if let e = expiry { cur.expires[key] = e }
            keys += 1
            if let progress, keys % progressInterval == 0 { progress(keys, pos, bytes.count) }
        }
    }

    private mutating func verifyChecksum(version: Int, eofAt: Int) throws {
        guard version >= 5 else { return }
        let end = pos
        let stored = UInt64(bitPattern: try intLE(8, signed: false))
        guard stored != 0 else { return }  // written with rdbchecksum no
        let actual = bytes.withUnsafeBytes { CRC64.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
        if actual != stored {
            throw RDBError(message: "Wrong RDB checksum expected: (\(hex(stored))) got: (\(hex(actual)))", offset: end)
        }
    }

    private func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }

    /// Reads one value, type byte first, as a DUMP payload holds it (RESTORE); nil for an empty
    /// aggregate, which RESTORE refuses like any bad payload. Bytes after the value are ignored.
    mutating func readValue() throws -> Value? {
        let at = pos
        let type = try byte()
        return try object(type: type, at: at)
    }

    // MARK: - Objects

    /// Reads one value of `type`; nil for an empty aggregate.
    private mutating func object(type: UInt8, at start: Int) throws -> Value? {
        switch type {
        case RDB.typeString:
            return .string(try string())
        case RDB.typeList:
            let n = try length()
            var items: [Bytes] = []
            items.reserveCapacity(min(n, 1 << 20))
            for _ in 0..<n { items.append(try string()) }
            return items.isEmpty ? nil : .list(ListValue(items))
        case RDB.typeSet:
            let n = try length()
            var members = Set<Key>(minimumCapacity: min(n, 1 << 20))
            for _ in 0..<n {
                guard members.insert(Key(try string())).inserted else {
                    throw RDBError(message: "Duplicate set members detected", offset: start)
                }
            }
            return members.isEmpty ? nil : .set(SetValue(members))
        case RDB.typeZset, RDB.typeZset2:
            let n = try length()
            var scores: [Key: Double] = [:]
            scores.reserveCapacity(min(n, 1 << 20))
            for _ in 0..<n {
                let m = Key(try string())
                let at = pos
                let s = type == RDB.typeZset2 ? Double(bitPattern: UInt64(bitPattern: try intLE(8, signed: false))) : try oldScore()
                if s.isNaN { throw RDBError(message: "Zset with NAN score detected", offset: at) }
                guard scores.updateValue(s, forKey: m) == nil else {
                    throw RDBError(message: "Duplicate zset fields detected", offset: start)
                }
            }
            return scores.isEmpty ? nil : .zset(SortedSetValue(scores))
        case RDB.typeHash:
            let n = try length()
            var fields: [Key: Bytes] = [:]
            fields.reserveCapacity(min(n, 1 << 20))
            for _ in 0..<n {
                let f = Key(try string())
                guard fields.updateValue(try string(), forKey: f) == nil else {
                    throw RDBError(message: "Duplicate hash fields detected", offset: start)
                }
            }
            return fields.isEmpty ? nil : .hash(HashValue(fields))
        case RDB.typeListQuicklist, RDB.typeListQuicklist2:
            let nodes = try length()
            var items: [Bytes] = []
            for _ in 0..<nodes {
                var container = RDB.quicklistNodePacked
                if type == RDB.typeListQuicklist2 {
                    let at = pos
                    container = try length()
                    guard container == RDB.quicklistNodePlain || container == RDB.quicklistNodePacked else {
                        throw RDBError(message: "Quicklist integrity check failed (bad container \(container))", offset: at)
                    }
                }
                let blobAt = pos
                let blob = try string()
                if container == RDB.quicklistNodePlain { items.append(blob); continue }
                var r = BlobReader(blob, base: blobAt)
                let entries = type == RDB.typeListQuicklist2 ? try r.listpack() : try r.ziplist()
                // Redis skips empty nodes rather than failing.
                items.append(contentsOf: entries)
            }
            return items.isEmpty ? nil : .list(ListValue(items))
        case RDB.typeListZiplist:
            let entries = try blob { try $0.ziplist() }
            return entries.isEmpty ? nil : .list(ListValue(entries))
        case RDB.typeSetIntset:
            let members = try blob { try $0.intset() }
            return members.isEmpty ? nil : .set(SetValue(Set(members.map(Key.init))))
        case RDB.typeSetListpack:
            let members = try blob { try $0.listpack() }
            return members.isEmpty ? nil : .set(SetValue(Set(members.map(Key.init))))
        case RDB.typeHashZipmap:
            let pairs = try blob { try $0.zipmap() }
            return try hash(pairs, at: start)
        case RDB.typeHashZiplist, RDB.typeHashListpack:
            let flat = try blob { type == RDB.typeHashZiplist ? try $0.ziplist() : try $0.listpack() }
            guard flat.count % 2 == 0 else { throw RDBError(message: "Hash with an odd number of entries", offset: start) }
            return try hash(stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }, at: start)
        case RDB.typeZsetZiplist, RDB.typeZsetListpack:
            let flat = try blob { type == RDB.typeZsetZiplist ? try $0.ziplist() : try $0.listpack() }
            guard flat.count % 2 == 0 else { throw RDBError(message: "Zset with an odd number of entries", offset: start) }
            var scores: [Key: Double] = [:]
            for i in stride(from: 0, to: flat.count, by: 2) {
                guard let s = NumberFormat.parseDouble(flat[i + 1]), !s.isNaN else {
                    throw RDBError(message: "Zset entry with an invalid score", offset: start)
                }
                guard scores.updateValue(s, forKey: Key(flat[i])) == nil else {
                    throw RDBError(message: "Zset with duplicate elements", offset: start)
                }
            }
            return scores.isEmpty ? nil : .zset(SortedSetValue(scores))
        case RDB.typeStreamListpacks, RDB.typeStreamListpacks2, RDB.typeStreamListpacks3:
            return .stream(try stream(type: type, at: start))
        case RDB.typeModule, RDB.typeModule2:
            throw RDBError(message: "Module data types are not supported", offset: start)
        default:
            throw RDBError(message: "Unknown RDB encoding type \(type)", offset: start)
        }
    }

    private func hash(_ pairs: [(Bytes, Bytes)], at start: Int) throws -> Value? {
        var fields: [Key: Bytes] = [:]
        for (f, v) in pairs {
            guard fields.updateValue(v, forKey: Key(f)) == nil else {
                throw RDBError(message: "Hash with duplicate fields", offset: start)
            }
        }
        return fields.isEmpty ? nil : .hash(HashValue(fields))
    }

    /// Reads a string holding an encoded blob and parses it with `body`.
    private mutating func blob<T>(_ body: (inout BlobReader) throws -> T) throws -> T {
        let at = pos
        var r = BlobReader(try string(), base: at)
        return try body(&r)
    }

    /// A ZSET (type 3) score: length byte then ASCII, or 253/254/255 for nan/+inf/-inf.
    private mutating func oldScore() throws -> Double {
        let at = pos
        let n = try byte()
        switch n {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            let s = try take(Int(n))
            guard let d = NumberFormat.parseDouble(Array(s)) ?? Double(String(decoding: s, as: UTF8.self)) else {
                throw RDBError(message: "Invalid double score", offset: at)
            }
            return d
        }
    }

    // MARK: - Primitives

    /// One byte.
    mutating func byte() throws -> UInt8 {
        guard pos < bytes.count else { throw truncated() }
        defer { pos += 1 }
        return bytes[pos]
    }

    /// The next `n` bytes.
    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - pos else { throw truncated() }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    private func truncated() -> RDBError {
        RDBError(message: "Unexpected EOF reading RDB file (truncated)", offset: pos)
    }

    /// An `n`-byte little-endian integer.
    mutating func intLE(_ n: Int, signed: Bool) throws -> Int64 {
        let b = try take(n)
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        if signed && n < 8 && v & (1 << (UInt64(n) * 8 - 1)) != 0 { v |= ~0 << (UInt64(n) * 8) }
        return Int64(bitPattern: v)
    }

    /// A length, or the special-encoding marker (`encoded` true, value = encoding).
    private mutating func lengthOrEncoding() throws -> (value: Int, encoded: Bool) {
        let at = pos
        let b = try byte()
        switch b >> 6 {
        case 0: return (Int(b & 0x3f), false)
        case 1: return (Int(b & 0x3f) << 8 | Int(try byte()), false)
        case 3: return (Int(b & 0x3f), true)
        default:
            let wide: Int
            if b == 0x80 { wide = 4 } else if b == 0x81 { wide = 8 } else {
                throw RDBError(message: "Unknown length encoding \(b)", offset: at)
            }
            var v: UInt64 = 0
            for x in try take(wide) { v = v << 8 | UInt64(x) }
            // Anything this large cannot fit in the remaining bytes anyway.
            guard v <= UInt64(Int32.max) * 1024 else { throw RDBError(message: "Length \(v) out of range", offset: at) }
            return (Int(v), false)
        }
    }

    /// A plain length.
    mutating func length() throws -> Int {
        let at = pos
        let (v, enc) = try lengthOrEncoding()
        if enc { throw RDBError(message: "Unexpected encoded length", offset: at) }
        return v
    }

    /// A string read as a key: a raw one goes straight from the file buffer into the key (inline
    /// for short keys, so no temporary array); encoded ones go through `string()`.
    mutating func keyString() throws -> Key {
        let at = pos
        let (v, enc) = try lengthOrEncoding()
        if enc { pos = at; return Key(try string()) }
        guard v >= 0, v <= bytes.count - pos else { throw truncated() }
        let start = pos
        pos += v
        return bytes.withUnsafeBytes { Key(UnsafeRawBufferPointer(rebasing: $0[start..<(start + v)])) }
    }

    /// A string in any encoding (raw, int8/16/32, LZF).
    mutating func string() throws -> Bytes {
        let at = pos
        let (v, enc) = try lengthOrEncoding()
        if !enc { return Array(try take(v)) }
        switch v {
        case RDB.encInt8: return Array(String(try intLE(1, signed: true)).utf8)
        case RDB.encInt16: return Array(String(try intLE(2, signed: true)).utf8)
        case RDB.encInt32: return Array(String(try intLE(4, signed: true)).utf8)
        case RDB.encLZF:
            let clen = try length(), len = try length()
            let data = try take(clen)
            guard let out = LZF.decompress(data, expectedLength: len) else {
                throw RDBError(message: "Invalid LZF compressed string", offset: at)
            }
            return out
        default:
            throw RDBError(message: "Unknown RDB string encoding type \(v)", offset: at)
        }
    }
}

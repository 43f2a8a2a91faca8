// The packed encodings an RDB embeds as strings: ziplist, listpack, intset and zipmap
// (ziplist.c, listpack.c, intset.c, zipmap.c). Each entry becomes its string form.
import Shared

/// Bounds-checked parsing of one embedded blob; errors report file offsets (`base` + position).
struct BlobReader {
    let data: [UInt8]
    /// File offset of the blob's string header, for error messages.
    let base: Int
    private var pos = 0

    /// A reader over `data`, which started at file offset `base`.
    init(_ data: [UInt8], base: Int) { self.data = data; self.base = base }

    private func fail(_ what: String) -> RDBError {
        RDBError(message: "\(what) integrity check failed", offset: base)
    }

    private mutating func u8(_ what: String) throws -> UInt8 {
        guard pos < data.count else { throw fail(what) }
        defer { pos += 1 }
        return data[pos]
    }

    private mutating func le(_ n: Int, _ what: String) throws -> UInt64 {
        guard n <= data.count - pos else { throw fail(what) }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(data[pos + i]) << (8 * UInt64(i)) }
        pos += n
        return v
    }

    private mutating func signedLE(_ n: Int, _ what: String) throws -> Int64 {
        var v = try le(n, what)
        if n < 8 && v & (1 << (UInt64(n) * 8 - 1)) != 0 { v |= ~0 << (UInt64(n) * 8) }
        return Int64(bitPattern: v)
    }

    private mutating func bytes(_ n: Int, _ what: String) throws -> Bytes {
        guard n >= 0, n <= data.count - pos else { throw fail(what) }
        defer { pos += n }
        return Array(data[pos..<(pos + n)])
    }

    private static func text(_ v: Int64) -> Bytes { Array(String(v).utf8) }

    // MARK: - Ziplist

    /// Entries of a ziplist: `<zlbytes><zltail><zllen><entry>...<0xff>`.
    mutating func ziplist() throws -> [Bytes] {
        let w = "Ziplist"
        guard data.count >= 11, try le(4, w) == UInt64(data.count) else { throw fail(w) }
        _ = try le(4, w)
        let declared = Int(try le(2, w))
        var out: [Bytes] = []
        while true {
            guard pos < data.count else { throw fail(w) }
            if data[pos] == 0xff { pos += 1; break }
            // prevlen: one byte, or 0xfe and four more.
            if try u8(w) == 0xfe { _ = try le(4, w) }
            let enc = try u8(w)
            switch enc >> 6 {
            case 0: out.append(try bytes(Int(enc & 0x3f), w))
            case 1: let n = Int(enc & 0x3f) << 8 | Int(try u8(w)); out.append(try bytes(n, w))
            case 2:
                guard enc == 0x80 else { throw fail(w) }
                var n = 0
                for _ in 0..<4 { n = n << 8 | Int(try u8(w)) }
                out.append(try bytes(n, w))
            default:
                switch enc {
                case 0xc0: out.append(Self.text(try signedLE(2, w)))
                case 0xd0: out.append(Self.text(try signedLE(4, w)))
                case 0xe0: out.append(Self.text(try signedLE(8, w)))
                case 0xf0: out.append(Self.text(try signedLE(3, w)))
                case 0xfe: out.append(Self.text(try signedLE(1, w)))
                case 0xf1...0xfd: out.append(Self.text(Int64(enc & 0x0f) - 1))
                default: throw fail(w)
                }
            }
        }
        // zllen saturates at 65535 for long ziplists.
        guard pos == data.count, declared == 0xffff || declared == out.count else { throw fail(w) }
        return out
    }

    // MARK: - Listpack

    /// Entries of a listpack: `<total bytes><num elements><entry>...<0xff>`, each entry followed by
    /// its back-length, which forward reading skips.
    mutating func listpack() throws -> [Bytes] {
        let w = "Listpack"
        guard data.count >= 7, try le(4, w) == UInt64(data.count) else { throw fail(w) }
        let declared = Int(try le(2, w))
        var out: [Bytes] = []
        while true {
            let start = pos
            let enc = try u8(w)
            if enc == 0xff { break }
            if enc & 0x80 == 0 {
                out.append(Self.text(Int64(enc & 0x7f)))
            } else if enc & 0xc0 == 0x80 {
                out.append(try bytes(Int(enc & 0x3f), w))
            } else if enc & 0xe0 == 0xc0 {
                var v = Int64(enc & 0x1f) << 8 | Int64(try u8(w))
                if v >= 1 << 12 { v -= 1 << 13 }
                out.append(Self.text(v))
            } else if enc & 0xf0 == 0xe0 {
                let n = Int(enc & 0x0f) << 8 | Int(try u8(w))
                out.append(try bytes(n, w))
            } else {
                switch enc {
                case 0xf0: let n = Int(try le(4, w)); out.append(try bytes(n, w))
                case 0xf1: out.append(Self.text(try signedLE(2, w)))
                case 0xf2: out.append(Self.text(try signedLE(3, w)))
                case 0xf3: out.append(Self.text(try signedLE(4, w)))
                case 0xf4: out.append(Self.text(try signedLE(8, w)))
                default: throw fail(w)
                }
            }
            let entryLen = pos - start
            let backlen = entryLen <= 127 ? 1 : entryLen < 16383 ? 2 : entryLen < 2097151 ? 3 : entryLen < 268435455 ? 4 : 5
            guard backlen <= data.count - pos else { throw fail(w) }
            pos += backlen
        }
        // The element count saturates at 65535 for long listpacks.
        guard pos == data.count, declared == 0xffff || declared == out.count else { throw fail(w) }
        return out
    }

    // MARK: - Intset and zipmap

    /// Members of an intset: `<encoding 2|4|8><length><sorted little-endian integers>`.
    mutating func intset() throws -> [Bytes] {
        let w = "Intset"
        let width = Int(try le(4, w))
        let n = Int(try le(4, w))
        guard width == 2 || width == 4 || width == 8, n <= (data.count - pos) / width,
              data.count - pos == n * width else { throw fail(w) }
        var out: [Bytes] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(Self.text(try signedLE(width, w))) }
        return out
    }

    /// Field/value pairs of a zipmap (Redis < 2.6 small hashes).
    mutating func zipmap() throws -> [(Bytes, Bytes)] {
        let w = "Zipmap"
        _ = try u8(w)  // element count, unreliable past 253
        var out: [(Bytes, Bytes)] = []
        func len(_ r: inout BlobReader) throws -> Int? {
            let b = try r.u8(w)
            if b == 0xff { return nil }
            if b == 254 { return Int(try r.le(4, w)) }
            return Int(b)
        }
        while true {
            guard let kl = try len(&self) else { break }
            let k = try bytes(kl, w)
            guard let vl = try len(&self) else { throw fail(w) }
            let free = Int(try u8(w))
            let v = try bytes(vl, w)
            _ = try bytes(free, w)
            out.append((k, v))
        }
        return out
    }
}

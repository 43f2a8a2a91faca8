// The listpack a stream node lives in, byte for byte as listpack.c lays it out, so an RDB node
// is written and read as is and node sizes (stream-node-max-bytes) match redis-server's:
//   <total bytes u32 LE><element count u16 LE><element>...<0xFF>
// where each element is an encoding byte (integer or string), its payload and a back-length
// that lets it be walked right to left. Positions are byte offsets into `bytes`.
//
// Reads assume a well-formed listpack: every one we build is, and RDB payloads are checked by
// StreamValidation before a node is adopted.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// One stream node's listpack.
struct StreamListpack {
    /// The whole listpack, header and terminator included.
    var bytes: [UInt8]

    /// Total bytes (4) and element count (2).
    static let headerSize = 6
    /// The terminator byte.
    static let eof: UInt8 = 0xFF
    /// The element count saturates here (LP_HDR_NUMELE_UNKNOWN).
    static let unknownCount = 0xFFFF

    /// An empty listpack with room for `capacity` bytes (lpNew's preallocation).
    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(Swift.max(7, capacity))
        bytes.append(contentsOf: [7, 0, 0, 0, 0, 0, StreamListpack.eof])
    }

    /// Adopts bytes that were already validated.
    init(validated bytes: [UInt8]) { self.bytes = bytes }

    /// lpBytes.
    @inline(__always) var totalBytes: Int { bytes.count }

    // MARK: - Walking

    /// The first element, or nil when empty.
    @inline(__always) var first: Int? { bytes[Self.headerSize] == Self.eof ? nil : Self.headerSize }

    /// The last element, or nil when empty.
    var last: Int? {
        let end = bytes.count - 1
        return end == Self.headerSize ? nil : previous(end)
    }

    /// Encoding plus payload length of the element at `p` (lpCurrentEncodedSizeUnsafe).
    @inline(__always) func encodedSize(_ p: Int) -> Int {
        let b = bytes[p]
        if b & 0x80 == 0 { return 1 }
        if b & 0xC0 == 0x80 { return 1 + Int(b & 0x3F) }
        if b & 0xE0 == 0xC0 { return 2 }
        switch b {
        case 0xF1: return 3
        case 0xF2: return 4
        case 0xF3: return 5
        case 0xF4: return 9
        case 0xF0: return 5 + Int(le32(p + 1))
        default: return 2 + (Int(b & 0x0F) << 8 | Int(bytes[p + 1]))  // 0xE0...0xEF
        }
    }

    /// Bytes taken by the back-length of an element of `l` bytes (lpEncodeBacklen).
    @inline(__always) static func backlenSize(_ l: Int) -> Int {
        l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5
    }

    /// The element after `p`, or nil at the end.
    @inline(__always) func next(_ p: Int) -> Int? {
        let l = encodedSize(p)
        let n = p + l + Self.backlenSize(l)
        return bytes[n] == Self.eof ? nil : n
    }

    /// The element before `p`, or nil when `p` is the first one (lpPrev).
    @inline(__always) func previous(_ p: Int) -> Int? {
        guard p > Self.headerSize else { return nil }
        var q = p - 1
        var val = 0, shift = 0
        while true {
            let b = bytes[q]
            val |= Int(b & 127) << shift
            if b & 128 == 0 { break }
            shift += 7
            q -= 1
        }
        return p - val - Self.backlenSize(val)
    }

    @inline(__always) private func le32(_ p: Int) -> UInt32 {
        UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }

    // MARK: - Reading elements

    /// Whether the element at `p` is integer-encoded.
    @inline(__always) func isInteger(_ p: Int) -> Bool {
        let b = bytes[p]
        return b & 0x80 == 0 || b & 0xE0 == 0xC0 || (b >= 0xF1 && b <= 0xF4)
    }

    /// The integer at `p` (integer-encoded elements only).
    @inline(__always) func rawInteger(_ p: Int) -> Int64 {
        let b = bytes[p]
        if b & 0x80 == 0 { return Int64(b) }
        if b & 0xE0 == 0xC0 {
            let u = Int64(b & 0x1F) << 8 | Int64(bytes[p + 1])
            return u >= 1 << 12 ? u - (1 << 13) : u
        }
        var n = 0
        switch b {
        case 0xF1: n = 2
        case 0xF2: n = 3
        case 0xF3: n = 4
        default: n = 8
        }
        var u: UInt64 = 0
        for i in 0..<n { u |= UInt64(bytes[p + 1 + i]) << (8 * UInt64(i)) }
        if n < 8 && u & (1 << (UInt64(n) * 8 - 1)) != 0 { u |= ~0 << (UInt64(n) * 8) }
        return Int64(bitPattern: u)
    }

    /// The payload range of the string element at `p`.
    @inline(__always) func stringRange(_ p: Int) -> Range<Int> {
        let b = bytes[p]
        if b & 0xC0 == 0x80 { return (p + 1)..<(p + 1 + Int(b & 0x3F)) }
        if b == 0xF0 { return (p + 5)..<(p + 5 + Int(le32(p + 1))) }
        return (p + 2)..<(p + 2 + (Int(b & 0x0F) << 8 | Int(bytes[p + 1])))
    }

    /// lpGetInteger: an integer element, or a string one holding a decimal (validation makes sure
    /// the stream's bookkeeping fields are one or the other).
    @inline(__always) func integer(_ p: Int) -> Int64 {
        if isInteger(p) { return rawInteger(p) }
        return NumberFormat.parseInt(bytes[stringRange(p)]) ?? 0
    }

    /// The element at `p` as bytes (integers in decimal), as lpGet returns it.
    func element(_ p: Int) -> Bytes {
        if isInteger(p) { return Bytes(String(rawInteger(p)).utf8) }
        return Array(bytes[stringRange(p)])
    }

    /// Whether the element at `p` equals `s` byte for byte (integers compared in decimal form).
    func elementEquals(_ p: Int, _ s: Bytes) -> Bool {
        if isInteger(p) {
            guard s.count <= 20, let v = NumberFormat.parseInt(s) else { return false }
            return v == rawInteger(p)
        }
        let r = stringRange(p)
        guard r.count == s.count else { return false }
        return bytes.withUnsafeBufferPointer { b in
            s.withUnsafeBufferPointer { x in
                r.count == 0 || memcmp(b.baseAddress! + r.lowerBound, x.baseAddress!, r.count) == 0
            }
        }
    }

    /// Writes the element at `p` as a bulk string reply, straight from the listpack.
    func writeBulk(_ p: Int, into out: inout RESPWriter) {
        if isInteger(p) {
            let v = rawInteger(p)
            out.bytes.append(UInt8(ascii: "$"))
            out.decimal(v < 0 ? StreamID.digits(v.magnitude) + 1 : StreamID.digits(UInt64(v)))
            out.lineEnd()
            out.decimal(Int(v))
            out.lineEnd()
            return
        }
        let r = stringRange(p)
        out.bytes.append(UInt8(ascii: "$"))
        out.decimal(r.count)
        out.lineEnd()
        bytes.withUnsafeBufferPointer { b in
            out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[r]))
        }
        out.lineEnd()
    }

    // MARK: - Writing

    /// The element count in the header (saturated at 65535).
    var headerCount: Int { Int(bytes[4]) | Int(bytes[5]) << 8 }

    /// Appends encoded elements built by `body` before the terminator, then fixes the header.
    @inline(__always) mutating func append(_ body: (inout ElementWriter) -> Void) {
        bytes.removeLast()
        var w = ElementWriter(bytes: bytes, added: 0)
        bytes = []
        body(&w)
        bytes = w.bytes
        bytes.append(Self.eof)
        let n = headerCount
        if n != Self.unknownCount { setHeaderCount(Swift.min(n + w.added, Self.unknownCount)) }
        setTotal()
    }

    @inline(__always) private mutating func setHeaderCount(_ n: Int) {
        bytes[4] = UInt8(n & 0xFF)
        bytes[5] = UInt8(n >> 8)
    }

    @inline(__always) private mutating func setTotal() {
        let t = bytes.count
        bytes[0] = UInt8(truncatingIfNeeded: t)
        bytes[1] = UInt8(truncatingIfNeeded: t >> 8)
        bytes[2] = UInt8(truncatingIfNeeded: t >> 16)
        bytes[3] = UInt8(truncatingIfNeeded: t >> 24)
    }

    /// Replaces the element at `p` with the integer `v` (lpReplaceInteger); `p` stays valid.
    mutating func replaceInteger(_ p: Int, _ v: Int64) {
        let old = encodedSize(p)
        let oldTotal = old + Self.backlenSize(old)
        ElementWriter.withInteger(v) { enc in
            if enc.count == oldTotal {
                // The common case (a counter that keeps its width): rewrite in place.
                bytes.withUnsafeMutableBytes { b in
                    for i in 0..<oldTotal { b[p + i] = enc[i] }
                }
            } else {
                bytes.replaceSubrange(p..<(p + oldTotal), with: enc)
                setTotal()
            }
        }
    }

    /// Gives back spare capacity (lpShrinkToFit) once a node is full. (`Array(bytes)` would
    /// share the buffer: copying through a buffer pointer allocates just what is used.)
    mutating func shrinkToFit() {
        if bytes.capacity > bytes.count + 16 { bytes = bytes.withUnsafeBufferPointer { Array($0) } }
    }
}

/// Encodes listpack elements (lpEncodeIntegerGetType / lpEncodeString + lpEncodeBacklen).
struct ElementWriter {
    /// The bytes written so far.
    var bytes: [UInt8]
    /// Elements written.
    var added: Int

    /// An integer in its smallest encoding.
    @inline(__always) mutating func integer(_ v: Int64) {
        if v >= 0 && v <= 127 {
            bytes.append(UInt8(v)); bytes.append(1)
        } else {
            Self.withInteger(v) { bytes.append(contentsOf: $0) }
        }
        added += 1
    }

    /// Calls `body` with the encoding of `v` plus its back-length, built on the stack.
    @inline(__always)
    static func withInteger<R>(_ v: Int64, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var buf: (UInt64, UInt16) = (0, 0)
        return withUnsafeMutableBytes(of: &buf) { p in
            let u = UInt64(bitPattern: v)
            var n: Int
            if v >= 0 && v <= 127 {
                p[0] = UInt8(v); n = 1
            } else if v >= -4096 && v <= 4095 {
                let x = u & 0x1FFF
                p[0] = 0xC0 | UInt8(x >> 8); p[1] = UInt8(x & 0xFF); n = 2
            } else {
                let width: Int
                if v >= -32768 && v <= 32767 { p[0] = 0xF1; width = 2 }
                else if v >= -8388608 && v <= 8388607 { p[0] = 0xF2; width = 3 }
                else if v >= -2147483648 && v <= 2147483647 { p[0] = 0xF3; width = 4 }
                else { p[0] = 0xF4; width = 8 }
                for i in 0..<width { p[1 + i] = UInt8(truncatingIfNeeded: u >> (8 * UInt64(i))) }
                n = 1 + width
            }
            p[n] = UInt8(n)  // integer entries are at most 9 bytes: a one-byte back-length
            return body(UnsafeRawBufferPointer(rebasing: p[0...n]))
        }
    }

    @inline(__always) private mutating func little(_ v: UInt64, _ n: Int) {
        for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    /// A string, stored as an integer when it is a canonical decimal (lpStringToInt64).
    @inline(__always) mutating func string(_ s: Bytes) {
        if s.count <= 20, let v = NumberFormat.parseInt(s) { integer(v); return }
        let n = s.count
        let start = bytes.count
        if n < 64 {
            bytes.append(0x80 | UInt8(n))
        } else if n < 4096 {
            bytes.append(0xE0 | UInt8(n >> 8)); bytes.append(UInt8(n & 0xFF))
        } else {
            bytes.append(0xF0); little(UInt64(n), 4)
        }
        bytes.append(contentsOf: s)
        backlen(bytes.count - start)
        added += 1
    }

    /// The back-length, most significant 7-bit group first; every byte but the first has the
    /// high bit set so it reads right to left.
    @inline(__always) private mutating func backlen(_ l: Int) {
        let size = StreamListpack.backlenSize(l)
        if size == 1 { bytes.append(UInt8(l)); return }
        for k in 0..<size {
            let g = UInt8((l >> (7 * (size - 1 - k))) & 127)
            bytes.append(k == 0 ? g : g | 0x80)
        }
    }
}

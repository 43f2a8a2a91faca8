// Encodes replies straight into an output buffer. RESP3-only types degrade to their RESP2 forms
// exactly as Redis does (maps become flat arrays, doubles become bulk strings, booleans integers).
#if canImport(Glibc)
import Glibc
#endif

/// An append-only RESP encoder over a byte buffer, aware of the peer's protocol version.
public struct RESPWriter {
    public var bytes: Bytes = []
    /// 2 or 3, as negotiated with HELLO.
    public var proto: Int = 2

    public init(proto: Int = 2) { self.proto = proto }

    public var isEmpty: Bool { bytes.isEmpty }
    public var count: Int { bytes.count }

    @inline(__always) public mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
    @inline(__always) public mutating func raw(_ b: Bytes) { bytes.append(contentsOf: b) }
    @inline(__always) public mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    @inline(__always) mutating func crlf() { bytes.append(0x0D); bytes.append(0x0A) }

    /// Appends a decimal integer without going through String.
    @inline(__always) public mutating func decimal(_ v: Int) {
        if v >= 0 && v < 10 { bytes.append(UInt8(0x30 + v)); return }
        var x = v.magnitude
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { p in
            while x > 0 { p[19 - n] = UInt8(0x30 + x % 10); x /= 10; n += 1 }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[(20 - n)...]))
        }
    }

    // MARK: - Replies

    public mutating func ok() { raw("+OK\r\n") }
    public mutating func simple(_ s: String) { bytes.append(0x2B); raw(s); crlf() }
    /// An error reply; `message` includes the code (`ERR ...`, `WRONGTYPE ...`).
    public mutating func error(_ message: String) { bytes.append(0x2D); raw(message); crlf() }
    public mutating func integer(_ v: Int) { bytes.append(0x3A); decimal(v); crlf() }
    public mutating func integer(_ v: Int64) { integer(Int(v)) }

    public mutating func bulk(_ b: Bytes) {
        bytes.append(0x24); decimal(b.count); crlf(); bytes.append(contentsOf: b); crlf()
    }
    public mutating func bulk(_ b: ArraySlice<UInt8>) {
        bytes.append(0x24); decimal(b.count); crlf(); bytes.append(contentsOf: b); crlf()
    }
    public mutating func bulk(_ s: String) {
        let u = s.utf8
        bytes.append(0x24); decimal(u.count); crlf(); bytes.append(contentsOf: u); crlf()
    }
    /// An integer sent as a bulk string (Redis does this for INCRBYFLOAT results and CONFIG values).
    public mutating func bulk(int v: Int) {
        var t = RESPWriter(); t.decimal(v)
        bulk(t.bytes)
    }
    public mutating func bulkOrNull(_ b: Bytes?) { if let b { bulk(b) } else { null() } }

    /// The null bulk string (`$-1` in RESP2, `_` in RESP3).
    public mutating func null() { if proto >= 3 { raw("_\r\n") } else { raw("$-1\r\n") } }
    /// The null array (`*-1` in RESP2, `_` in RESP3).
    public mutating func nullArray() { if proto >= 3 { raw("_\r\n") } else { raw("*-1\r\n") } }

    public mutating func arrayHeader(_ n: Int) { bytes.append(0x2A); decimal(n); crlf() }
    /// A map of `n` pairs: `%n` in RESP3, a flat array of 2n in RESP2.
    public mutating func mapHeader(_ n: Int) {
        if proto >= 3 { bytes.append(0x25); decimal(n) } else { bytes.append(0x2A); decimal(n * 2) }
        crlf()
    }
    public mutating func setHeader(_ n: Int) {
        if proto >= 3 { bytes.append(0x7E) } else { bytes.append(0x2A) }
        decimal(n); crlf()
    }
    /// Out-of-band pushes (pub/sub messages): `>` in RESP3, arrays in RESP2.
    public mutating func pushHeader(_ n: Int) {
        if proto >= 3 { bytes.append(0x3E) } else { bytes.append(0x2A) }
        decimal(n); crlf()
    }
    /// A double as Redis 7.0's addReplyDouble writes it (`%.17g`; `inf`/`-inf`).
    public mutating func double(_ d: Double) {
        let s = NumberFormat.double17g(d)
        if proto >= 3 { bytes.append(0x2C); raw(s); crlf() } else { bulk(s) }
    }
    /// A RESP3 attribute map header (`|n`); RESP2 has no attributes, so nothing is written.
    public mutating func attributeHeader(_ n: Int) {
        guard proto >= 3 else { return }
        bytes.append(0x7C); decimal(n); crlf()
    }
    /// A big number given as its decimal digits: `(` in RESP3, a bulk string in RESP2.
    public mutating func bigNumber(_ digits: String) {
        if proto >= 3 { bytes.append(0x28); raw(digits); crlf() } else { bulk(digits) }
    }
    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    public mutating func boolean(_ b: Bool) {
        if proto >= 3 { raw(b ? "#t\r\n" : "#f\r\n") } else { raw(b ? ":1\r\n" : ":0\r\n") }
    }
    /// Verbatim text (INFO, CLIENT LIST): `=len\r\ntxt:...` in RESP3, a bulk string in RESP2.
    public mutating func verbatim(_ s: String) {
        if proto >= 3 {
            let u = s.utf8
            bytes.append(0x3D); decimal(u.count + 4); crlf(); raw("txt:"); bytes.append(contentsOf: u); crlf()
        } else { bulk(s) }
    }
    public mutating func bulks(_ items: [Bytes]) { arrayHeader(items.count); for i in items { bulk(i) } }
    public mutating func bulks(_ items: [String]) { arrayHeader(items.count); for i in items { bulk(i) } }

    /// Writes a decoded value back (used to relay replies and by tests).
    public mutating func value(_ v: RESPValue) {
        switch v {
        case .simpleString(let s): simple(s)
        case .error(let e): error(e)
        case .integer(let i): integer(i)
        case .bulkString(let b): bulk(b)
        case .array(let a): arrayHeader(a.count); for x in a { value(x) }
        case .null: null()
        case .double(let d): double(d)
        case .boolean(let b): boolean(b)
        case .bigNumber(let s): if proto >= 3 { raw("(" + s + "\r\n") } else { bulk(s) }
        case .verbatim(_, let t): verbatim(String(decoding: t, as: UTF8.self))
        case .map(let pairs): mapHeader(pairs.count); for p in pairs { value(p.key); value(p.value) }
        case .set(let a): setHeader(a.count); for x in a { value(x) }
        case .push(let a): pushHeader(a.count); for x in a { value(x) }
        }
    }

    /// Encodes a command as a multibulk of bulk strings (what clients and replicas send).
    public static func command(_ args: [Bytes]) -> Bytes {
        var w = RESPWriter()
        w.arrayHeader(args.count)
        for a in args { w.bulk(a) }
        return w.bytes
    }

    public static func command(_ args: [String]) -> Bytes { command(args.map { Bytes($0.utf8) }) }
}

/// Number formatting with C's printf semantics, which Redis's replies follow.
public enum NumberFormat {
    /// `%.17g`, with `inf`/`-inf`/`nan` spelled as Redis spells them.
    public static func double17g(_ d: Double) -> String {
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d.isNaN { return "nan" }
        return printf("%.17g", d)
    }

    /// printf-style formatting of one double (the stdlib has `withVaList`; Foundation is not needed).
    public static func printf(_ format: String, _ d: Double) -> String {
        var buf = [CChar](repeating: 0, count: 512)
        let n = withVaList([d]) { vsnprintf(&buf, buf.count, format, $0) }
        guard n > 0 else { return "" }
        return String(decoding: buf[0..<min(Int(n), buf.count - 1)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Parses a double the way Redis's string2d/strtod does for arguments: no trailing garbage,
    /// no leading spaces, `inf`/`-inf` accepted, NaN rejected.
    public static func parseDouble(_ b: Bytes) -> Double? {
        guard !b.isEmpty, b.count < 512 else { return nil }
        let c0 = b[0]
        if c0 == 0x20 || c0 == 0x09 || c0 == 0x0A || c0 == 0x0D || c0 == 0x0B || c0 == 0x0C { return nil }
        // A NUL-terminated copy on the stack: no heap allocation per parsed argument (GEOADD and
        // ZADD parse thousands per command).
        let v: Double = withUnsafeTemporaryAllocation(of: CChar.self, capacity: b.count + 1) { p in
            guard let base = p.baseAddress else { return .nan }
            b.withUnsafeBytes { src in
                for i in 0..<b.count { p[i] = CChar(bitPattern: src[i]) }
            }
            p[b.count] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let r = strtod(base, &end)
            let consumed = end.map { $0 - base } ?? 0
            return consumed == b.count ? r : .nan
        }
        if v.isNaN { return nil }
        return v
    }

    /// Parses a signed 64-bit decimal exactly as Redis's string2ll: no spaces, no `+`, no leading zeros.
    public static func parseInt(_ b: Bytes) -> Int64? {
        parseInt(b[...])
    }

    public static func parseInt(_ b: ArraySlice<UInt8>) -> Int64? {
        let n = b.count
        guard n > 0, n <= 20 else { return nil }
        var i = b.startIndex
        if n == 1 && b[i] == 0x30 { return 0 }
        var neg = false
        if b[i] == 0x2D { neg = true; i += 1; if i == b.endIndex { return nil } }
        guard b[i] >= 0x31 && b[i] <= 0x39 else { return nil }
        var v: UInt64 = 0
        while i < b.endIndex {
            let c = b[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        if neg {
            if v > UInt64(Int64.max) + 1 { return nil }
            return v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
        }
        if v > UInt64(Int64.max) { return nil }
        return Int64(v)
    }
}

// Stream entry IDs: a 128-bit number, milliseconds then a sequence, ordered as one big-endian
// number (stream.h's streamID). Parsing follows t_stream.c's streamGenericParseIDOrReply and
// util.c's string2ull exactly, including what strtoull tolerates (leading blanks, a sign).
import Shared

/// A stream entry ID `<ms>-<seq>`.
struct StreamID: Comparable, Hashable {
    /// Unix time in milliseconds (any 64-bit value once set by a client).
    var ms: UInt64
    /// Sequence within the millisecond.
    var seq: UInt64

    /// An ID from its two parts.
    @inline(__always) init(_ ms: UInt64, _ seq: UInt64) { self.ms = ms; self.seq = seq }

    /// 0-0: the smallest ID, and "none" for a stream's last/first/max-deleted IDs.
    static let zero = StreamID(0, 0)
    /// The largest ID (`+`).
    static let max = StreamID(UInt64.max, UInt64.max)

    /// Whether this is 0-0.
    var isZero: Bool { ms == 0 && seq == 0 }

    /// Milliseconds first, then the sequence (the 128-bit big-endian order).
    @inline(__always) static func < (a: StreamID, b: StreamID) -> Bool {
        a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq
    }

    /// The next ID, or nil when this is the largest one (streamIncrID's C_ERR).
    var successor: StreamID? {
        if seq == UInt64.max { return ms == UInt64.max ? nil : StreamID(ms + 1, 0) }
        return StreamID(ms, seq + 1)
    }

    /// The previous ID, or nil when this is 0-0 (streamDecrID's C_ERR).
    var predecessor: StreamID? {
        if seq == 0 { return ms == 0 ? nil : StreamID(ms - 1, UInt64.max) }
        return StreamID(ms, seq - 1)
    }

    /// `<ms>-<seq>` as text.
    var text: String { "\(ms)-\(seq)" }
    /// `<ms>-<seq>` as bytes (propagation arguments, AOF rewrite), without going through String.
    var bytes: Bytes { withText { Bytes($0) } }

    /// The 16-byte big-endian form: radix-tree keys in RDB files and PEL entries.
    var encoded: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: ms >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: seq >> (56 - 8 * UInt64(i)))
        }
        return out
    }

    /// Decodes the 16-byte big-endian form; nil for any other length.
    init?<C: Collection>(encoded b: C) where C.Element == UInt8 {
        guard b.count == 16 else { return nil }
        var ms: UInt64 = 0, seq: UInt64 = 0
        for (i, x) in b.enumerated() {
            if i < 8 { ms = ms << 8 | UInt64(x) } else { seq = seq << 8 | UInt64(x) }
        }
        self.init(ms, seq)
    }
}

// MARK: - Parsing

extension StreamID {
    /// Why an ID argument was refused; every case answers Redis's one wire text.
    static let invalidError = CommandError("ERR Invalid stream ID specified as stream command argument")

    /// Parses `<ms>-<seq>`, `<ms>` (seq = `missingSeq`), `-` and `+` (unless `strict`).
    /// With `allowAutoSeq`, `<ms>-*` is accepted and reported by `seqGiven == false`.
    static func parse(_ arg: Bytes, missingSeq: UInt64 = 0, strict: Bool = false,
                      allowAutoSeq: Bool = false) -> (id: StreamID, seqGiven: Bool)? {
        guard arg.count <= 127 else { return nil }
        // Redis copies the argument into a C string: everything after a NUL is ignored.
        let s = arg.firstIndex(of: 0).map { arg[..<$0] } ?? arg[...]
        if s.count == 1 && (s.first == UInt8(ascii: "-") || s.first == UInt8(ascii: "+")) {
            if strict { return nil }
            return (s.first == UInt8(ascii: "-") ? .zero : .max, true)
        }
        guard let dash = s.firstIndex(of: UInt8(ascii: "-")) else {
            guard let ms = parseULL(s) else { return nil }
            return (StreamID(ms, missingSeq), true)
        }
        guard let ms = parseULL(s[s.startIndex..<dash]) else { return nil }
        let rest = s[(dash + 1)...]
        if allowAutoSeq && rest.count == 1 && rest.first == UInt8(ascii: "*") {
            return (StreamID(ms, 0), false)
        }
        guard let seq = parseULL(rest) else { return nil }
        return (StreamID(ms, seq), true)
    }

    /// A strict ID (no `-`/`+`), or Redis's error.
    static func parseStrict(_ arg: Bytes, missingSeq: UInt64 = 0) throws -> StreamID {
        guard let r = parse(arg, missingSeq: missingSeq, strict: true) else { throw invalidError }
        return r.id
    }

    /// Redis's string2ull: string2ll for canonical decimals (negative refused), else strtoull,
    /// which skips leading blanks, takes an optional sign (a `-` negates modulo 2^64) and fails
    /// on overflow, on no digits and on trailing bytes.
    static func parseULL(_ s: ArraySlice<UInt8>) -> UInt64? {
        if let v = NumberFormat.parseInt(s) { return v < 0 ? nil : UInt64(v) }
        var i = s.startIndex
        while i < s.endIndex, s[i] == 0x20 || (s[i] >= 0x09 && s[i] <= 0x0D) { i += 1 }
        var negative = false
        if i < s.endIndex, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < s.endIndex else { return nil }
        var v: UInt64 = 0
        while i < s.endIndex {
            let c = s[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return negative ? 0 &- v : v
    }
}

// MARK: - Replies

extension StreamID {
    /// Calls `body` with `<ms>-<seq>` formatted in a stack buffer (every reply and propagated ID
    /// goes through here, so no String, no heap, one pass of divisions per part).
    @inline(__always)
    func withText<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var buf: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)  // 48 bytes
        return withUnsafeMutableBytes(of: &buf) { p in
            // seq's digits end the buffer, then '-', then ms's digits before them.
            var i = 48
            var x = seq
            repeat { i -= 1; p[i] = UInt8(0x30 + x % 10); x /= 10 } while x > 0
            i -= 1
            p[i] = UInt8(ascii: "-")
            x = ms
            repeat { i -= 1; p[i] = UInt8(0x30 + x % 10); x /= 10 } while x > 0
            return body(UnsafeRawBufferPointer(rebasing: p[i..<48]))
        }
    }

    /// Number of decimal digits of `v`.
    @inline(__always) static func digits(_ v: UInt64) -> Int {
        var n = 1
        var x = v
        while x >= 10 { x /= 10; n += 1 }
        return n
    }
}

extension RESPWriter {
    /// A stream ID as a bulk string, formatted straight into the buffer (addReplyStreamID).
    mutating func streamID(_ id: StreamID) {
        id.withText { t in
            bytes.append(UInt8(ascii: "$"))
            decimal(t.count)
            lineEnd()
            bytes.append(contentsOf: t)
            lineEnd()
        }
    }

    /// CR LF as two byte appends (`raw("\r\n")` resolves to the String overload, which copies
    /// through the string's UTF-8 view).
    @inline(__always) mutating func lineEnd() {
        bytes.append(0x0D)
        bytes.append(0x0A)
    }

    /// A UInt64 in decimal (the full range: `decimal` takes an Int).
    @inline(__always) mutating func unsignedDecimal(_ v: UInt64) {
        if v <= UInt64(Int.max) { decimal(Int(v)); return }
        var x = v
        var digits: [UInt8] = []
        while x > 0 { digits.append(UInt8(0x30 + x % 10)); x /= 10 }
        bytes.append(contentsOf: digits.reversed())
    }
}

// Argument parsing shared by the list, hash, set and sorted-set commands, with Redis's exact
// error texts, and the SCAN-family cursor over hash-ordered containers.
import Shared

/// Parsers for the arguments of the container commands.
enum CollectionArgs {
    /// A signed 64-bit integer argument (`ERR value is not an integer or out of range`).
    static func long(_ b: Bytes) throws -> Int {
        guard let v = NumberFormat.parseInt(b) else { throw CommandError.notInteger }
        return Int(v)
    }

    /// A positive count (`ERR value is out of range, must be positive`), as LPOP/SPOP count.
    static func positiveCount(_ b: Bytes) throws -> Int {
        guard let v = NumberFormat.parseInt(b) else { throw CommandError("ERR value is out of range, must be positive") }
        guard v >= 0 else { throw CommandError("ERR value is out of range, must be positive") }
        return Int(v)
    }

    /// A float argument (`ERR value is not a valid float`).
    static func double(_ b: Bytes) throws -> Double {
        guard let v = NumberFormat.parseDouble(b) else { throw CommandError.notFloat }
        return v
    }

    /// A blocking timeout in seconds (float), as milliseconds; 0 means forever.
    static func timeoutMillis(_ b: Bytes) throws -> Int64 {
        guard let v = NumberFormat.parseDouble(b), v.isFinite, v * 1000 < Double(Int64.max / 2) else {
            throw CommandError("ERR timeout is not a float or out of range")
        }
        guard v >= 0 else { throw CommandError("ERR timeout is negative") }
        return Int64((v * 1000).rounded(.up))
    }

    /// A SCAN cursor, parsed like strtoull (a leading `-` wraps around).
    static func cursor(_ b: Bytes) throws -> UInt64 {
        var i = 0
        var neg = false
        if let f = b.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { neg = f == UInt8(ascii: "-"); i = 1 }
        var v: UInt64 = 0
        while i < b.count {
            let c = b[i]
            guard c >= 0x30 && c <= 0x39 else { throw CommandError("ERR invalid cursor") }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            if o1 || o2 { throw CommandError("ERR invalid cursor") }
            v = a
            i += 1
        }
        return neg ? 0 &- v : v
    }
}

/// A bound of a score range: `1.5`, `(1.5`, `-inf`, `+inf`.
struct ScoreRange {
    /// Lower bound.
    var min: Double
    /// Upper bound.
    var max: Double
    /// `(min`.
    var minExclusive = false
    /// `(max`.
    var maxExclusive = false

    /// Parses min and max; `ERR min or max is not a float` on failure.
    init(_ minArg: Bytes, _ maxArg: Bytes) throws {
        func bound(_ b: Bytes) throws -> (Double, Bool) {
            if b.first == UInt8(ascii: "(") {
                guard let v = NumberFormat.parseDouble(Array(b.dropFirst())), !v.isNaN else {
                    throw CommandError("ERR min or max is not a float")
                }
                return (v, true)
            }
            guard let v = NumberFormat.parseDouble(b), !v.isNaN else { throw CommandError("ERR min or max is not a float") }
            return (v, false)
        }
        (min, minExclusive) = try bound(minArg)
        (max, maxExclusive) = try bound(maxArg)
    }

    /// True if `s` is below the range's start.
    @inline(__always) func isBelow(_ s: Double) -> Bool { minExclusive ? s <= min : s < min }
    /// True if `s` is not above the range's end.
    @inline(__always) func isWithinMax(_ s: Double) -> Bool { maxExclusive ? s < max : s <= max }
    /// True if no score can be in the range.
    var isEmpty: Bool { min > max || (min == max && (minExclusive || maxExclusive)) }
}

/// A lexicographic range: `[a`, `(a`, `-`, `+`.
struct LexRange {
    /// One end of a lex range.
    enum Bound { case minusInf, plusInf, inclusive(Bytes), exclusive(Bytes) }
    /// Start of the range.
    var min: Bound
    /// End of the range.
    var max: Bound

    /// Parses min and max; `ERR min or max not valid string range item` on failure.
    init(_ minArg: Bytes, _ maxArg: Bytes) throws {
        func bound(_ b: Bytes) throws -> Bound {
            guard let f = b.first else { throw CommandError("ERR min or max not valid string range item") }
            switch f {
            case UInt8(ascii: "+") where b.count == 1: return .plusInf
            case UInt8(ascii: "-") where b.count == 1: return .minusInf
            case UInt8(ascii: "["): return .inclusive(Array(b.dropFirst()))
            case UInt8(ascii: "("): return .exclusive(Array(b.dropFirst()))
            default: throw CommandError("ERR min or max not valid string range item")
            }
        }
        min = try bound(minArg)
        max = try bound(maxArg)
    }

    /// True if `m` sorts before the range's start.
    func isBelow(_ m: Bytes) -> Bool {
        switch min {
        case .minusInf: return false
        case .plusInf: return true
        case .inclusive(let b): return compareBytes(m, b) < 0
        case .exclusive(let b): return compareBytes(m, b) <= 0
        }
    }

    /// True if `m` does not sort after the range's end.
    func isWithinMax(_ m: Bytes) -> Bool {
        switch max {
        case .minusInf: return false
        case .plusInf: return true
        case .inclusive(let b): return compareBytes(m, b) <= 0
        case .exclusive(let b): return compareBytes(m, b) < 0
        }
    }
}

// MARK: - SCAN cursors

/// The SCAN-family cursor for hash-ordered containers. Elements are visited in order of their
/// (per-process) hash value and the cursor is the next hash to visit, so every element present
/// for the whole iteration is returned whatever is added or removed between calls. The sorted
/// order is cached on the container until it changes.
enum ScanCursor {
    /// Parsed MATCH / COUNT options starting at argument `from`.
    struct Options {
        var pattern: Bytes? = nil
        var count = 10
    }

    /// Parses MATCH and COUNT (`ERR syntax error` on anything else or COUNT < 1).
    static func options(_ c: Client, from: Int) throws -> Options {
        var o = Options()
        var i = from
        while i < c.argc {
            let opt = c.option(i)
            guard i + 1 < c.argc else { throw CommandError.syntax }
            if opt == "COUNT" {
                let n = try CollectionArgs.long(c.arg(i + 1))
                guard n >= 1 else { throw CommandError.syntax }
                o.count = n
            } else if opt == "MATCH" {
                let p = c.arg(i + 1)
                o.pattern = p == [UInt8(ascii: "*")] ? nil : p
            } else {
                throw CommandError.syntax
            }
            i += 2
        }
        return o
    }

    /// Keys sorted by hash value.
    static func order<S: Sequence>(_ keys: S) -> [(UInt64, Key)] where S.Element == Key {
        var a = keys.map { (UInt64(UInt(bitPattern: $0.hashValue)), $0) }
        a.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        return a
    }

    /// One step: up to `count` keys from `cursor` on, and the next cursor (0 when done).
    static func step(_ order: [(UInt64, Key)], cursor: UInt64, count: Int) -> ([Key], UInt64) {
        var lo = 0, hi = order.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if order[mid].0 < cursor { lo = mid + 1 } else { hi = mid }
        }
        var out: [Key] = []
        var i = lo
        while i < order.count && (out.count < count || order[i].0 == order[i - 1].0) {
            out.append(order[i].1)
            i += 1
        }
        if i >= order.count { return (out, 0) }
        let next = order[i].0
        // A hash of exactly 0 cannot be resumed from (0 means done): it was visited first anyway.
        return (out, next == 0 ? 1 : next)
    }

    /// SCAN-family MATCH: Redis skips filtering for a lone `*` (so even "" matches); otherwise
    /// stringmatchlen, through the one matcher in Shared/GlobMatch.
    static func matches(_ pattern: Bytes, _ s: Bytes) -> Bool {
        pattern == [UInt8(ascii: "*")] || GlobMatch.matches(pattern, s)
    }
}

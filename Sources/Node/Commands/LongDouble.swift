// INCRBYFLOAT computes in C's long double and prints with `%.17Lf`; doing the same here (Float80
// on x86) makes results such as 10.5 + 0.1 print "10.6" exactly as Redis does. Other
// architectures fall back to Double, which matches on most common values.
import Shared
#if canImport(Glibc)
import Glibc
#endif

#if arch(x86_64) || arch(i386)
/// The widest float C offers here, as Redis's `long double`.
typealias LongDouble = Float80
#else
/// The widest float C offers here, as Redis's `long double`.
typealias LongDouble = Double
#endif

extension LongDouble {
    /// Parses like Redis's string2ld: no leading space, no trailing bytes, no NaN, and out of
    /// range only when it overflows to infinity or underflows to zero (denormals are fine).
    static func parse(_ b: Bytes) -> LongDouble? {
        guard !b.isEmpty, b.count < 5120 else { return nil }
        let c0 = b[0]
        if c0 == 0x20 || (c0 >= 0x09 && c0 <= 0x0D) { return nil }
        let p = Posix.strtold(b)
        let v = LongDouble(p.value)
        let ok = p.consumed == b.count && !(p.outOfRange && (v.isInfinite || v == 0))
        guard ok, !v.isNaN else { return nil }
        return v
    }

    /// `%.17Lf` with trailing zeros (and a bare trailing dot) removed; "-0" becomes "0".
    static func humanString(_ v: LongDouble) -> String {
        var buf = [CChar](repeating: 0, count: 5200)
        #if arch(x86_64) || arch(i386)
        let n = withVaList([v]) { vsnprintf(&buf, buf.count, "%.17Lf", $0) }
        #else
        let n = withVaList([v]) { vsnprintf(&buf, buf.count, "%.17f", $0) }
        #endif
        guard n > 0 else { return "0" }
        var s = Array(buf[0..<min(Int(n), buf.count - 1)].map { UInt8(bitPattern: $0) })
        if s.contains(0x2E) {
            while s.last == 0x30 { s.removeLast() }
            if s.last == 0x2E { s.removeLast() }
        }
        if s == Array("-0".utf8) { s = Array("0".utf8) }
        return String(decoding: s, as: UTF8.self)
    }
}

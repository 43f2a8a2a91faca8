// Number ⇄ text as Lua 5.1 does it: "%.14g" (LUA_NUMBER_FMT) through libc, with a fast path for
// integers, which are most numbers scripts print.

import Glibc

/// Formats with a printf format taking one double (e.g. "%.14g", "%.17g").
func cFormat(_ format: String, _ d: Double) -> [UInt8] {
    var buf = [CChar](repeating: 0, count: 512)
    let n = withVaList([d]) { va in
        buf.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, 512, format, va) }
    }
    if n >= 512 {
        var big = [CChar](repeating: 0, count: Int(n) + 1)
        _ = withVaList([d]) { va in big.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, Int(n) + 1, format, va) } }
        return big.prefix(Int(n)).map { UInt8(bitPattern: $0) }
    }
    return buf.prefix(Int(max(0, n))).map { UInt8(bitPattern: $0) }
}

/// Appends the decimal digits of `v`.
@inline(__always) func appendInteger(_ v: Int64, to out: inout [UInt8]) {
    if v == 0 {
        out.append(48)
        return
    }
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    var m = v.magnitude
    withUnsafeMutableBytes(of: &digits) { d in
        while m > 0 {
            d[n] = UInt8(48 + m % 10)
            m /= 10
            n += 1
        }
        if v < 0 { out.append(45) }
        while n > 0 {
            n -= 1
            out.append(d[n])
        }
    }
}

/// The text Lua 5.1 gives a number (tostring, concatenation, string coercion).
func formatLuaNumber(_ d: Double) -> [UInt8] {
    var out: [UInt8] = []
    appendLuaNumber(d, to: &out)
    return out
}

/// Appends `d` as "%.14g" would print it.
func appendLuaNumber(_ d: Double, to out: inout [UInt8]) {
    if d == d.rounded(.towardZero) && abs(d) < 1e14 {
        if d == 0 && d.sign == .minus {
            out.append(45)
            out.append(48)
            return
        }
        appendInteger(Int64(d), to: &out)
        return
    }
    out += cFormat("%.14g", d)
}

// string.format with Lua 5.1's directives and C's printf for each item (same texts as the
// reference, including its quirks: "%c" of 0 adds nothing, "%s" stops at a NUL unless the string
// is long and has no precision).

import Glibc

extension LuaState {
    /// `(unsigned long long)d` as x86-64 code compiled by gcc converts it.
    static func cUnsigned(_ d: Double) -> UInt64 {
        if d < 9223372036854775808.0 { return UInt64(bitPattern: luaNumberToInt64(d)) }
        if d < 18446744073709551616.0 { return UInt64(d) }
        return 0x8000_0000_0000_0000
    }

    static func snprintf(_ form: [UInt8], _ args: [CVarArg]) -> [UInt8] {
        var f = form.map { CChar(bitPattern: $0) }
        f.append(0)
        var buf = [CChar](repeating: 0, count: 600)
        let n = f.withUnsafeBufferPointer { fp in
            withVaList(args) { va in buf.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, 600, fp.baseAddress!, va) } }
        }
        // sprintf + strlen in the reference: the item ends at its first NUL.
        let len = min(Int(max(n, 0)), 599)
        var out: [UInt8] = []
        out.reserveCapacity(len)
        for i in 0..<len {
            if buf[i] == 0 { break }
            out.append(UInt8(bitPattern: buf[i]))
        }
        return out
    }

    static func strFormat(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let fmtStr = try args.checkString(1)
        let fmt = fmtStr.buffer
        var out: [UInt8] = []
        var arg = 1
        var i = 0
        let n = fmt.count
        // The format is read as C's strchr/isdigit would: past the end is NUL.
        @inline(__always) func at(_ j: Int) -> UInt8 { j < n ? fmt[j] : 0 }
        while i < n {
            if fmt[i] != 37 {
                out.append(fmt[i])
                i += 1
                continue
            }
            i += 1
            if at(i) == 37 {
                out.append(37)
                i += 1
                continue
            }
            arg += 1
            if arg > args.count { throw L.argError(arg, "no value") }
            // scanformat
            let start = i
            while at(i) != 0, "-+ #0".utf8.contains(at(i)) { i += 1 }
            if i - start >= 6 { throw L.error("invalid format (repeated flags)") }
            if CType.isDigit(Int(at(i))) { i += 1 }
            if CType.isDigit(Int(at(i))) { i += 1 }
            if at(i) == 46 {
                i += 1
                if CType.isDigit(Int(at(i))) { i += 1 }
                if CType.isDigit(Int(at(i))) { i += 1 }
            }
            if CType.isDigit(Int(at(i))) { throw L.error("invalid format (width or precision too long)") }
            var form: [UInt8] = [37]
            form += fmt[start..<min(i + 1, n)]
            let conv = at(i)
            i += 1
            switch conv {
            case 99:  // c
                let d = try args.checkNumber(arg)
                out += snprintf(form, [Int32(truncatingIfNeeded: luaNumberToInt64(d))])
            case 100, 105:  // d i
                let d = try args.checkNumber(arg)
                form.insert(contentsOf: [108, 108], at: form.count - 1)
                out += snprintf(form, [luaNumberToInt64(d)])
            case 111, 117, 120, 88:  // o u x X
                let d = try args.checkNumber(arg)
                form.insert(contentsOf: [108, 108], at: form.count - 1)
                out += snprintf(form, [cUnsigned(d)])
            case 101, 69, 102, 103, 71:  // e E f g G
                let d = try args.checkNumber(arg)
                out += snprintf(form, [d])
            case 113:  // q
                let s = try args.checkString(arg)
                out.append(34)
                for c in s.buffer {
                    switch c {
                    case 34, 92, 10:
                        out.append(92)
                        out.append(c)
                    case 13: out += [92, 114]
                    case 0: out += [92, 48, 48, 48]
                    default: out.append(c)
                    }
                }
                out.append(34)
            case 115:  // s
                let s = try args.checkString(arg)
                if !form.contains(46) && s.count >= 100 {
                    out += s.buffer
                } else {
                    let cs = UnsafeRawPointer(s.bytes).assumingMemoryBound(to: CChar.self)
                    out += snprintf(form, [cs])
                }
            default:
                var m = Array("invalid option '%".utf8)
                if conv != 0 { m.append(conv) }
                m += Array("' to 'format'".utf8)
                throw L.error(m)
            }
            if out.count > LuaState.maxStringBytes { throw L.memoryError() }
        }
        try L.reserve(out.count)
        L.push(.string(L.newString(out)))
        return 1
    }
}

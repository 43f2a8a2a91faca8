// The struct library (Roberto Ierusalimschy's lua_struct.c 0.2 with Redis's fixes): pack, unpack
// and size of binary records with x86-64 sizes (long = 8) and alignment rules.

extension LuaState {
    func openStruct() {
        registerLibrary("struct", [("pack", LuaState.structPack), ("unpack", LuaState.structUnpack), ("size", LuaState.structSize)])
    }

    private struct StructHeader {
        var little = true
        var align = 1
    }

    private struct FormatReader {
        let fmt: UnsafePointer<UInt8>  // NUL-terminated
        var i = 0
        var current: UInt8 { fmt[i] }
    }

    private static func getnum(_ L: LuaState, _ f: inout FormatReader, _ df: Int) throws(LuaError) -> Int {
        if !CType.isDigit(Int(f.current)) { return df }
        var a = 0
        repeat {
            let d = Int(f.current) - 48
            if a > Int(Int32.max) / 10 || a * 10 > Int(Int32.max) - d { throw L.error("integral size overflow") }
            a = a * 10 + d
            f.i += 1
        } while CType.isDigit(Int(f.current))
        return a
    }

    private static func optsize(_ L: LuaState, _ opt: UInt8, _ f: inout FormatReader) throws(LuaError) -> Int {
        switch opt {
        case 66, 98: return 1              // B b
        case 72, 104: return 2             // H h
        case 76, 108: return 8             // L l
        case 84: return 8                  // T
        case 102: return 4                 // f
        case 100: return 8                 // d
        case 120: return 1                 // x
        case 99: return try getnum(L, &f, 1)  // c
        case 105, 73:                      // i I
            let sz = try getnum(L, &f, 4)
            if sz > 32 { throw L.error("integral size \(sz) is larger than limit of 32") }
            return sz
        default: return 0
        }
    }

    private static func toAlign(_ len: Int, _ h: StructHeader, _ opt: UInt8, _ size0: Int) -> Int {
        var size = size0
        if size == 0 || opt == 99 { return 0 }
        if size > h.align { size = h.align }
        return (size - (len & (size - 1))) & (size - 1)
    }

    private static func controlOptions(_ L: LuaState, _ opt: UInt8, _ f: inout FormatReader, _ h: inout StructHeader) throws(LuaError) {
        switch opt {
        case 32: return
        case 62: h.little = false
        case 60: h.little = true
        case 33:
            let a = try getnum(L, &f, 8)
            if !(a > 0 && (a & (a - 1)) == 0) { throw L.error("alignment \(a) is not a power of 2") }
            h.align = a
        default:
            var m = Array("invalid format option '".utf8)
            m.append(opt)
            m.append(39)
            throw L.argError(1, m)
        }
    }

    static func structPack(_ L: LuaState, _ args0: LuaArgs) throws(LuaError) -> Int {
        let fmtS = try args0.checkString(1)
        // The reference pushes a nil after the arguments (a marker for its buffer): a missing
        // argument right after the last one reads as "got nil".
        L.push(.nil)
        let args = LuaArgs(state: L, base: args0.base, count: args0.count + 1)
        var f = FormatReader(fmt: fmtS.bytes)
        var h = StructHeader()
        var arg = 2
        var total = 0
        var out: [UInt8] = []
        while f.current != 0 {
            let opt = f.current
            f.i += 1
            var size = try optsize(L, opt, &f)
            var pad = toAlign(total, h, opt, size)
            total += pad
            while pad > 0 {
                out.append(0)
                pad -= 1
            }
            switch opt {
            case 98, 66, 104, 72, 108, 76, 84, 105, 73:
                let n = try args.checkNumber(arg)
                arg += 1
                var value: UInt64 = n < 0 ? UInt64(bitPattern: luaNumberToInt64(n)) : cUnsigned(n)
                var bytes = [UInt8](repeating: 0, count: size)
                if h.little {
                    for i in 0..<size { bytes[i] = UInt8(value & 0xff); value >>= 8 }
                } else {
                    var i = size - 1
                    while i >= 0 { bytes[i] = UInt8(value & 0xff); value >>= 8; i -= 1 }
                }
                out += bytes
            case 120:
                out.append(0)
            case 102:
                let fl = Float(try args.checkNumber(arg))
                arg += 1
                var bits = fl.bitPattern
                if !h.little { bits = bits.byteSwapped }
                withUnsafeBytes(of: bits) { out += $0 }
            case 100:
                let d = try args.checkNumber(arg)
                arg += 1
                var bits = d.bitPattern
                if !h.little { bits = bits.byteSwapped }
                withUnsafeBytes(of: bits) { out += $0 }
            case 99, 115:
                let s = try args.checkString(arg)
                arg += 1
                let l = s.count
                if size == 0 { size = l }
                try args.argCheck(l >= size, arg, "string too short")
                out.append(contentsOf: UnsafeBufferPointer(start: s.bytes, count: size))
                if opt == 115 {
                    out.append(0)
                    size += 1
                }
            default:
                try controlOptions(L, opt, &f, &h)
            }
            total += size
            if out.count > LuaState.maxStringBytes { throw L.memoryError() }
        }
        try L.reserve(out.count)
        L.push(.string(L.newString(out)))
        return 1
    }

    private static func getInteger(_ p: UnsafePointer<UInt8>, _ little: Bool, _ signed: Bool, _ size: Int) -> Double {
        var l: UInt64 = 0
        if !little {
            for i in 0..<size { l = (l << 8) | UInt64(p[i]) }
        } else {
            var i = size - 1
            while i >= 0 { l = (l << 8) | UInt64(p[i]); i -= 1 }
        }
        if !signed { return Double(l) }
        // (~0) << (size*8 - 1) with x86's shift-count masking.
        let mask: UInt64 = size == 0 ? 0 : ~UInt64(0) << UInt64((size * 8 - 1) & 63)
        if l & mask != 0 { l |= mask }
        return Double(Int64(bitPattern: l))
    }

    static func structUnpack(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let fmtS = try args.checkString(1)
        let data = try args.checkString(2)
        let ld = data.count
        var pos = UInt(bitPattern: try args.optInteger(3, 1))
        try args.argCheck(pos > 0, 3, "offset must be 1 or greater")
        pos -= 1
        var f = FormatReader(fmt: fmtS.bytes)
        var h = StructHeader()
        var results: [LuaValue] = []
        while f.current != 0 {
            let opt = f.current
            f.i += 1
            var size = UInt(try optsize(L, opt, &f))
            pos &+= UInt(toAlign(Int(truncatingIfNeeded: pos), h, opt, Int(size)))
            try args.argCheck(size <= UInt(ld) && pos <= UInt(ld) - size, 2, "data string too short")
            if results.count > 8000 { throw L.error("stack overflow (too many results)") }
            let p = data.bytes + Int(pos)
            switch opt {
            case 98, 66, 104, 72, 108, 76, 84, 105, 73:
                results.append(.number(getInteger(p, h.little, CType.isLower(Int(opt)), Int(size))))
            case 120:
                break
            case 102:
                var bits: UInt32 = 0
                withUnsafeMutableBytes(of: &bits) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: 4)) }
                if !h.little { bits = bits.byteSwapped }
                results.append(.number(Double(Float(bitPattern: bits))))
            case 100:
                var bits: UInt64 = 0
                withUnsafeMutableBytes(of: &bits) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: 8)) }
                if !h.little { bits = bits.byteSwapped }
                results.append(.number(Double(bitPattern: bits)))
            case 99:
                if size == 0 {
                    guard let last = results.last, let n = L.toNumber(last) else {
                        throw L.error("format 'c0' needs a previous size")
                    }
                    size = UInt(bitPattern: Int(luaNumberToInt64(n)))
                    results.removeLast()
                    try args.argCheck(size <= UInt(ld) && pos <= UInt(ld) - size, 2, "data string too short")
                }
                results.append(.string(L.newString(UnsafeBufferPointer(start: p, count: Int(size)))))
            case 115:
                let rest = UnsafeBufferPointer(start: p, count: ld - Int(pos))
                guard let z = rest.firstIndex(of: 0) else { throw L.error("unfinished string in data") }
                size = UInt(z + 1)
                results.append(.string(L.newString(UnsafeBufferPointer(start: p, count: z))))
            default:
                try controlOptions(L, opt, &f, &h)
            }
            pos &+= size
        }
        L.checkStack(L.current, results.count + 1)
        for r in results { L.push(r) }
        L.push(.number(Double(Int64(bitPattern: UInt64(pos &+ 1)))))
        return results.count + 1
    }

    static func structSize(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let fmtS = try args.checkString(1)
        var f = FormatReader(fmt: fmtS.bytes)
        var h = StructHeader()
        var pos = 0
        while f.current != 0 {
            let opt = f.current
            f.i += 1
            let size = try optsize(L, opt, &f)
            pos += toAlign(pos, h, opt, size)
            if opt == 115 {
                throw L.argError(1, "option 's' has no fixed size")
            } else if opt == 99 && size == 0 {
                throw L.argError(1, "option 'c0' has no fixed size")
            }
            if !CType.isAlnum(Int(opt)) { try controlOptions(L, opt, &f, &h) }
            pos += size
        }
        L.push(.number(Double(pos)))
        return 1
    }
}

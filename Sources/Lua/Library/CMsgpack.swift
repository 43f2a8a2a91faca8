// cmsgpack as Redis bundles it (lua_cmsgpack.c 0.4.0 with Redis's fixes): same encodings (arrays
// only for keys 1..n without holes, floats when a double fits in 32 bits, tables nested deeper
// than 16 as nil) and the same error texts.

extension LuaState {
    func openCMsgpack() {
        let t = registerLibrary("cmsgpack", [
            ("pack", LuaState.mpPack), ("unpack", LuaState.mpUnpack),
            ("unpack_one", LuaState.mpUnpackOne), ("unpack_limit", LuaState.mpUnpackLimit),
        ])
        rawSet(t, "_NAME", .string(newString("cmsgpack")))
        rawSet(t, "_VERSION", .string(newString("lua-cmsgpack 0.4.0")))
        rawSet(t, "_COPYRIGHT", .string(newString("Copyright (C) 2012, Salvatore Sanfilippo")))
        rawSet(t, "_DESCRIPTION", .string(newString("MessagePack C implementation for Lua")))
    }

    static let mpMaxNesting = 16

    // MARK: - Encoding

    static func mpAppendBE(_ out: inout [UInt8], _ v: UInt64, _ bytes: Int) {
        var i = bytes - 1
        while i >= 0 {
            out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))))
            i -= 1
        }
    }

    static func mpEncodeBytes(_ out: inout [UInt8], _ s: LuaString) {
        let len = s.count
        if len < 32 {
            out.append(0xa0 | UInt8(len))
        } else if len <= 0xff {
            out += [0xd9, UInt8(len)]
        } else if len <= 0xffff {
            out.append(0xda)
            mpAppendBE(&out, UInt64(len), 2)
        } else {
            out.append(0xdb)
            mpAppendBE(&out, UInt64(len), 4)
        }
        out.append(contentsOf: s.buffer)
    }

    static func mpEncodeInt(_ out: inout [UInt8], _ n: Int64) {
        if n >= 0 {
            if n <= 127 { out.append(UInt8(n)) }
            else if n <= 0xff { out += [0xcc, UInt8(n)] }
            else if n <= 0xffff { out.append(0xcd); mpAppendBE(&out, UInt64(n), 2) }
            else if n <= 0xffff_ffff { out.append(0xce); mpAppendBE(&out, UInt64(n), 4) }
            else { out.append(0xcf); mpAppendBE(&out, UInt64(n), 8) }
        } else {
            if n >= -32 { out.append(UInt8(bitPattern: Int8(n))) }
            else if n >= -128 { out += [0xd0, UInt8(bitPattern: Int8(n))] }
            else if n >= -32768 { out.append(0xd1); mpAppendBE(&out, UInt64(bitPattern: n), 2) }
            else if n >= -2147483648 { out.append(0xd2); mpAppendBE(&out, UInt64(bitPattern: n), 4) }
            else { out.append(0xd3); mpAppendBE(&out, UInt64(bitPattern: n), 8) }
        }
    }

    static func mpEncodeNumber(_ out: inout [UInt8], _ d: Double) {
        if !d.isInfinite && Double(luaNumberToInt64(d)) == d {
            mpEncodeInt(&out, luaNumberToInt64(d))
            return
        }
        let f = Float(d)
        if d == Double(f) {
            out.append(0xca)
            mpAppendBE(&out, UInt64(f.bitPattern), 4)
        } else {
            out.append(0xcb)
            mpAppendBE(&out, d.bitPattern, 8)
        }
    }

    static func mpHeader(_ out: inout [UInt8], _ n: Int, fix: UInt8, b16: UInt8, b32: UInt8) {
        if n <= 15 { out.append(fix | UInt8(n)) }
        else if n <= 65535 { out.append(b16); mpAppendBE(&out, UInt64(n), 2) }
        else { out.append(b32); mpAppendBE(&out, UInt64(n), 4) }
    }

    /// table_is_an_array: only keys 1..n, no holes.
    func mpIsArray(_ t: LuaTable) throws(LuaError) -> Bool {
        var count = 0
        var mx = 0
        var key = LuaValue.nil
        while let (k, _) = try next(t, after: key) {
            guard case .number(let n) = k, n > 0, Double(luaNumberToInt32(n)) == n else { return false }
            mx = max(mx, Int(n))
            count += 1
            key = k
        }
        return mx == count
    }

    func mpEncode(_ v: LuaValue, _ level: Int, _ out: inout [UInt8]) throws(LuaError) {
        if out.count > LuaState.maxStringBytes { throw memoryError() }
        switch v {
        case .string(let s): LuaState.mpEncodeBytes(&out, s)
        case .bool(let b): out.append(b ? 0xc3 : 0xc2)
        case .number(let d): LuaState.mpEncodeNumber(&out, d)
        case .table(let t) where level < LuaState.mpMaxNesting:
            // Keep the table on the stack: reading elements may run __index.
            push(v)
            defer { top -= 1 }
            if try mpIsArray(t) {
                let len = t.length
                LuaState.mpHeader(&out, len, fix: 0x90, b16: 0xdc, b32: 0xdd)
                if len > 0 {
                    for j in 1...len { try mpEncode(try index(v, .number(Double(j))), level + 1, &out) }
                }
            } else {
                var n = 0
                var key = LuaValue.nil
                while let (k, _) = try next(t, after: key) {
                    n += 1
                    key = k
                }
                LuaState.mpHeader(&out, n, fix: 0x80, b16: 0xde, b32: 0xdf)
                key = .nil
                while let (k, val) = try next(t, after: key) {
                    try mpEncode(k, level + 1, &out)
                    try mpEncode(val, level + 1, &out)
                    key = k
                }
            }
        default:
            out.append(0xc0)
        }
    }

    static func mpPack(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        if args.count == 0 { throw L.argError(0, "MessagePack pack needs input.") }
        var out: [UInt8] = []
        for i in 1...args.count { try L.mpEncode(args[i], 0, &out) }
        try L.reserve(out.count)
        L.push(.string(L.newString(out)))
        return 1
    }

    // MARK: - Decoding

    struct MPCursor {
        let p: UnsafePointer<UInt8>
        var pos: Int
        let end: Int
        /// 1: not enough data, 2: bad format.
        var err = 0
        /// Values the reference would hold on its stack at this point (bounded like lua_checkstack).
        var virtualStack: Int

        var left: Int { end - pos }
        func byte(_ i: Int) -> UInt64 { UInt64(p[pos + i]) }
        func be(_ from: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n { v = v << 8 | byte(from + i) }
            return v
        }
    }

    static let mpStackMessage = "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"

    func mpDecode(_ c: inout MPCursor) throws(LuaError) -> LuaValue {
        if c.left < 1 { c.err = 1; return .nil }
        if c.virtualStack + 1 > 8000 || nativeStackExhausted() { throw error(LuaState.mpStackMessage) }
        let b0 = c.p[c.pos]
        func need(_ n: Int, _ c: inout MPCursor) -> Bool {
            if c.left < n { c.err = 1; return false }
            return true
        }
        func str(_ c: inout MPCursor, _ hdr: Int, _ len: Int) -> LuaValue {
            if !need(hdr + len, &c) { return .nil }
            let s = newString(UnsafeBufferPointer(start: c.p + c.pos + hdr, count: len))
            c.pos += hdr + len
            return .string(s)
        }
        switch b0 {
        case 0xcc:
            if !need(2, &c) { return .nil }
            defer { c.pos += 2 }
            return .number(Double(c.byte(1)))
        case 0xd0:
            if !need(2, &c) { return .nil }
            defer { c.pos += 2 }
            return .number(Double(Int8(bitPattern: UInt8(c.byte(1)))))
        case 0xcd:
            if !need(3, &c) { return .nil }
            defer { c.pos += 3 }
            return .number(Double(c.be(1, 2)))
        case 0xd1:
            if !need(3, &c) { return .nil }
            defer { c.pos += 3 }
            return .number(Double(Int16(bitPattern: UInt16(c.be(1, 2)))))
        case 0xce:
            if !need(5, &c) { return .nil }
            defer { c.pos += 5 }
            return .number(Double(c.be(1, 4)))
        case 0xd2:
            if !need(5, &c) { return .nil }
            defer { c.pos += 5 }
            return .number(Double(Int32(bitPattern: UInt32(c.be(1, 4)))))
        case 0xcf, 0xd3:
            if !need(9, &c) { return .nil }
            defer { c.pos += 9 }
            return .number(Double(Int64(bitPattern: c.be(1, 8))))
        case 0xc0:
            c.pos += 1
            return .nil
        case 0xc3:
            c.pos += 1
            return .bool(true)
        case 0xc2:
            c.pos += 1
            return .bool(false)
        case 0xca:
            if !need(5, &c) { return .nil }
            defer { c.pos += 5 }
            return .number(Double(Float(bitPattern: UInt32(c.be(1, 4)))))
        case 0xcb:
            if !need(9, &c) { return .nil }
            defer { c.pos += 9 }
            return .number(Double(bitPattern: c.be(1, 8)))
        case 0xd9:
            if !need(2, &c) { return .nil }
            return str(&c, 2, Int(c.byte(1)))
        case 0xda:
            if !need(3, &c) { return .nil }
            return str(&c, 3, Int(c.be(1, 2)))
        case 0xdb:
            if !need(5, &c) { return .nil }
            let l = Int(c.be(1, 4))
            c.pos += 5
            return str(&c, 0, l)
        case 0xdc, 0xdd:
            let h = b0 == 0xdc ? 3 : 5
            if !need(h, &c) { return .nil }
            let l = Int(c.be(1, h - 1))
            c.pos += h
            return try mpDecodeArray(&c, l)
        case 0xde, 0xdf:
            let h = b0 == 0xde ? 3 : 5
            if !need(h, &c) { return .nil }
            let l = Int(c.be(1, h - 1))
            c.pos += h
            return try mpDecodeMap(&c, l)
        default:
            if b0 & 0x80 == 0 {
                c.pos += 1
                return .number(Double(b0))
            } else if b0 & 0xe0 == 0xe0 {
                c.pos += 1
                return .number(Double(Int8(bitPattern: b0)))
            } else if b0 & 0xe0 == 0xa0 {
                return str(&c, 1, Int(b0 & 0x1f))
            } else if b0 & 0xf0 == 0x90 {
                c.pos += 1
                return try mpDecodeArray(&c, Int(b0 & 0xf))
            } else if b0 & 0xf0 == 0x80 {
                c.pos += 1
                return try mpDecodeMap(&c, Int(b0 & 0xf))
            }
            c.err = 2
            return .nil
        }
    }

    func mpDecodeArray(_ c: inout MPCursor, _ len: Int) throws(LuaError) -> LuaValue {
        let t = newTable()
        c.virtualStack += 2  // the table and the index
        defer { c.virtualStack -= 2 }
        var i = 1
        var n = len
        while n > 0 {
            let v = try mpDecode(&c)
            if c.err != 0 { return .table(t) }
            try rawSet(t, .number(Double(i)), v)
            i += 1
            n -= 1
        }
        return .table(t)
    }

    func mpDecodeMap(_ c: inout MPCursor, _ len: Int) throws(LuaError) -> LuaValue {
        let t = newTable()
        c.virtualStack += 1
        defer { c.virtualStack -= 1 }
        var n = len
        while n > 0 {
            let k = try mpDecode(&c)
            if c.err != 0 { return .table(t) }
            c.virtualStack += 1
            let v = try mpDecode(&c)
            c.virtualStack -= 1
            if c.err != 0 { return .table(t) }
            try rawSet(t, k, v)
            n -= 1
        }
        return .table(t)
    }

    static func mpUnpackFull(_ L: LuaState, _ args: LuaArgs, limit: Int, offset: Int) throws(LuaError) -> Int {
        let s = try args.checkString(1)
        let len = s.count
        let decodeAll = limit == 0 && offset == 0
        if offset < 0 || limit < 0 {
            throw L.error("Invalid request to unpack with offset of \(Int32(truncatingIfNeeded: offset)) and limit of \(Int32(truncatingIfNeeded: len)).")
        } else if offset > len {
            throw L.error("Start offset \(Int32(truncatingIfNeeded: offset)) greater than input length \(Int32(truncatingIfNeeded: len)).")
        }
        let lim = decodeAll ? Int(Int32.max) : limit
        var c = MPCursor(p: s.bytes, pos: offset, end: len, virtualStack: 1)
        var values: [LuaValue] = []
        var cnt = 0
        while c.left > 0 && cnt < lim {
            c.virtualStack = 1 + cnt
            let v = try L.mpDecode(&c)
            if c.err == 1 { throw L.error("Missing bytes in input.") }
            if c.err == 2 { throw L.error("Bad data format in input.") }
            values.append(v)
            cnt += 1
        }
        L.checkStack(L.current, values.count + 1)
        if !decodeAll { L.push(.number(c.left == 0 ? -1 : Double(len - c.left))) }
        for v in values { L.push(v) }
        return values.count + (decodeAll ? 0 : 1)
    }

    static func mpUnpack(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try mpUnpackFull(L, args, limit: 0, offset: 0)
    }

    static func mpUnpackOne(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let offset = try args.optInteger(2, 0)
        return try mpUnpackFull(L, args, limit: 1, offset: offset)
    }

    static func mpUnpackLimit(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let limit = try args.checkInteger(2)
        let offset = try args.optInteger(3, 0)
        return try mpUnpackFull(L, args, limit: limit, offset: offset)
    }
}

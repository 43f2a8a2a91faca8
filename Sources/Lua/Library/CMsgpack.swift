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
        /// Values the reference holds on its stack outside the value being decoded (the argument
        /// and the values already unpacked), to bound nesting as its lua_checkstack does.
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

    /// A container being filled while decoding (the reference recurses; this loop keeps its
    /// nesting on the heap, so deep inputs cannot exhaust the native stack).
    struct MPFrame {
        let table: LuaTable
        let isMap: Bool
        var remaining: Int
        var index = 1
        var key: LuaValue? = nil
    }

    /// Values the reference holds on the Lua stack for the open containers.
    static func mpStackUse(_ frames: [MPFrame]) -> Int {
        var n = 0
        for f in frames { n += f.isMap ? (f.key == nil ? 1 : 2) : 2 }
        return n
    }

    /// Decodes one top-level value (mp_decode_to_lua_type); sets `c.err` on truncated or bad input.
    func mpDecode(_ c: inout MPCursor) throws(LuaError) -> LuaValue {
        var frames: [MPFrame] = []
        while true {
            // The reference's luaL_checkstack(L, 1, ...) on entry, against its Lua stack size.
            if c.virtualStack + LuaState.mpStackUse(frames) + 1 > 8000 { throw error(LuaState.mpStackMessage) }
            var item = try mpDecodeItem(&c)
            if c.err != 0 { return .nil }
            if case .container(let isMap, let n) = item {
                let t = newTable()
                if !isMap && c.virtualStack + LuaState.mpStackUse(frames) + 2 > 8000 {
                    throw error("stack overflow (in function mp_decode_to_lua_array)")
                }
                if n > 0 {
                    frames.append(MPFrame(table: t, isMap: isMap, remaining: n))
                    continue
                }
                item = .value(.table(t))
            }
            guard case .value(var v) = item else { return .nil }
            // Deliver the value to the innermost open container, closing those that are full.
            while !frames.isEmpty {
                let last = frames.count - 1
                if frames[last].isMap {
                    if let k = frames[last].key {
                        try rawSet(frames[last].table, k, v)
                        frames[last].key = nil
                        frames[last].remaining -= 1
                    } else {
                        frames[last].key = v
                        break
                    }
                } else {
                    try rawSet(frames[last].table, .number(Double(frames[last].index)), v)
                    frames[last].index += 1
                    frames[last].remaining -= 1
                }
                if frames[last].remaining > 0 { break }
                v = .table(frames[last].table)
                frames.removeLast()
            }
            if frames.isEmpty { return v }
        }
    }

    enum MPItem {
        case value(LuaValue)
        case container(isMap: Bool, count: Int)
    }

    func mpDecodeItem(_ c: inout MPCursor) throws(LuaError) -> MPItem {
        if c.left < 1 { c.err = 1; return .value(.nil) }
        let b0 = c.p[c.pos]
        func need(_ n: Int, _ c: inout MPCursor) -> Bool {
            if c.left < n { c.err = 1; return false }
            return true
        }
        func str(_ c: inout MPCursor, _ hdr: Int, _ len: Int) -> MPItem {
            if !need(hdr + len, &c) { return .value(.nil) }
            let s = newString(UnsafeBufferPointer(start: c.p + c.pos + hdr, count: len))
            c.pos += hdr + len
            return .value(.string(s))
        }
        func num(_ c: inout MPCursor, _ size: Int, _ v: (MPCursor) -> Double) -> MPItem {
            if !need(size, &c) { return .value(.nil) }
            let d = v(c)
            c.pos += size
            return .value(.number(d))
        }
        switch b0 {
        case 0xcc: return num(&c, 2) { Double($0.byte(1)) }
        case 0xd0: return num(&c, 2) { Double(Int8(bitPattern: UInt8($0.byte(1)))) }
        case 0xcd: return num(&c, 3) { Double($0.be(1, 2)) }
        case 0xd1: return num(&c, 3) { Double(Int16(bitPattern: UInt16($0.be(1, 2)))) }
        case 0xce: return num(&c, 5) { Double($0.be(1, 4)) }
        case 0xd2: return num(&c, 5) { Double(Int32(bitPattern: UInt32($0.be(1, 4)))) }
        case 0xcf, 0xd3: return num(&c, 9) { Double(Int64(bitPattern: $0.be(1, 8))) }
        case 0xca: return num(&c, 5) { Double(Float(bitPattern: UInt32($0.be(1, 4)))) }
        case 0xcb: return num(&c, 9) { Double(bitPattern: $0.be(1, 8)) }
        case 0xc0:
            c.pos += 1
            return .value(.nil)
        case 0xc3:
            c.pos += 1
            return .value(.bool(true))
        case 0xc2:
            c.pos += 1
            return .value(.bool(false))
        case 0xd9:
            if !need(2, &c) { return .value(.nil) }
            return str(&c, 2, Int(c.byte(1)))
        case 0xda:
            if !need(3, &c) { return .value(.nil) }
            return str(&c, 3, Int(c.be(1, 2)))
        case 0xdb:
            if !need(5, &c) { return .value(.nil) }
            let l = Int(c.be(1, 4))
            c.pos += 5
            return str(&c, 0, l)
        case 0xdc, 0xdd, 0xde, 0xdf:
            let h = (b0 == 0xdc || b0 == 0xde) ? 3 : 5
            if !need(h, &c) { return .value(.nil) }
            let l = Int(c.be(1, h - 1))
            c.pos += h
            return .container(isMap: b0 >= 0xde, count: l)
        default:
            if b0 & 0x80 == 0 {
                c.pos += 1
                return .value(.number(Double(b0)))
            } else if b0 & 0xe0 == 0xe0 {
                c.pos += 1
                return .value(.number(Double(Int8(bitPattern: b0))))
            } else if b0 & 0xe0 == 0xa0 {
                return str(&c, 1, Int(b0 & 0x1f))
            } else if b0 & 0xf0 == 0x90 || b0 & 0xf0 == 0x80 {
                c.pos += 1
                return .container(isMap: b0 & 0xf0 == 0x80, count: Int(b0 & 0xf))
            }
            c.err = 2
            return .value(.nil)
        }
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

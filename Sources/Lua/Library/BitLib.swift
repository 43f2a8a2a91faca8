// The bit library (LuaBitOp 1.0.2, lua_bit.c): 32-bit operations on numbers, results as signed
// 32-bit numbers, arguments converted by adding 2^52+2^51 (rounding like the reference).

extension LuaState {
    func openBit() {
        func op(_ f: @escaping (UInt32, UInt32) -> UInt32) -> LuaNativeFunction {
            return { (L: LuaState, args: LuaArgs) throws(LuaError) -> Int in
                var b = try LuaState.bitArg(L, args, 1)
                var i = args.count
                while i > 1 {
                    b = f(b, try LuaState.bitArg(L, args, i))
                    i -= 1
                }
                return LuaState.bitReturn(L, b)
            }
        }
        func shift(_ f: @escaping (UInt32, UInt32) -> UInt32) -> LuaNativeFunction {
            return { (L: LuaState, args: LuaArgs) throws(LuaError) -> Int in
                let b = try LuaState.bitArg(L, args, 1)
                let n = try LuaState.bitArg(L, args, 2) & 31
                return LuaState.bitReturn(L, f(b, n))
            }
        }
        registerLibrary("bit", [
            ("tobit", { (L, args) throws(LuaError) in LuaState.bitReturn(L, try LuaState.bitArg(L, args, 1)) }),
            ("bnot", { (L, args) throws(LuaError) in LuaState.bitReturn(L, ~(try LuaState.bitArg(L, args, 1))) }),
            ("band", op { $0 & $1 }), ("bor", op { $0 | $1 }), ("bxor", op { $0 ^ $1 }),
            ("lshift", shift { $0 << $1 }), ("rshift", shift { $0 >> $1 }),
            ("arshift", shift { UInt32(bitPattern: Int32(bitPattern: $0) >> Int32($1)) }),
            ("rol", shift { ($0 << $1) | ($0 >> (32 - $1)) }), ("ror", shift { ($0 << (32 - $1)) | ($0 >> $1) }),
            ("bswap", { (L, args) throws(LuaError) in
                let b = try LuaState.bitArg(L, args, 1)
                return LuaState.bitReturn(L, b.byteSwapped)
            }),
            ("tohex", LuaState.bitTohex),
        ])
    }

    /// barg: the low 32 bits of the number after adding 2^52+2^51 (round to nearest).
    static func bitArg(_ L: LuaState, _ args: LuaArgs, _ i: Int) throws(LuaError) -> UInt32 {
        let v = args[i]
        let n = L.toNumber(v)
        let b = UInt32(truncatingIfNeeded: ((n ?? 0) + 6755399441055744.0).bitPattern)
        if b == 0 && n == nil { throw L.typeArgError(args, i, "number") }
        return b
    }

    static func bitReturn(_ L: LuaState, _ b: UInt32) -> Int {
        L.push(.number(Double(Int32(bitPattern: b))))
        return 1
    }

    static func bitTohex(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        var b = try bitArg(L, args, 1)
        var n = args.isNone(2) ? 8 : Int(Int32(bitPattern: try bitArg(L, args, 2)))
        var digits = Array("0123456789abcdef".utf8)
        if n < 0 {
            n = -n
            digits = Array("0123456789ABCDEF".utf8)
        }
        if n > 8 { n = 8 }
        var buf = [UInt8](repeating: 0, count: max(n, 0))
        var i = n - 1
        while i >= 0 {
            buf[i] = digits[Int(b & 15)]
            b >>= 4
            i -= 1
        }
        L.push(.string(L.newString(buf)))
        return 1
    }
}

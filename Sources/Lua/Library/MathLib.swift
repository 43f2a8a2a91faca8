// The math library (lmathlib.c) with Redis's math.random/randomseed: the 48-bit LCG of rand.c
// (redisLrand48), so sequences match redis-server's for the same seed.

import Glibc

extension LuaState {
    func openMath() {
        func unary(_ f: @escaping (Double) -> Double) -> LuaNativeFunction {
            return { (L: LuaState, args: LuaArgs) throws(LuaError) -> Int in
                L.push(.number(f(try args.checkNumber(1))))
                return 1
            }
        }
        func binary(_ f: @escaping (Double, Double) -> Double) -> LuaNativeFunction {
            return { (L: LuaState, args: LuaArgs) throws(LuaError) -> Int in
                let a = try args.checkNumber(1)
                L.push(.number(f(a, try args.checkNumber(2))))
                return 1
            }
        }
        let radians = 3.14159265358979323846 / 180.0
        let t = registerLibrary("math", [
            ("abs", unary { Glibc.fabs($0) }), ("acos", unary { Glibc.acos($0) }), ("asin", unary { Glibc.asin($0) }),
            ("atan2", binary { Glibc.atan2($0, $1) }), ("atan", unary { Glibc.atan($0) }), ("ceil", unary { Glibc.ceil($0) }),
            ("cosh", unary { Glibc.cosh($0) }), ("cos", unary { Glibc.cos($0) }), ("deg", unary { $0 / radians }),
            ("exp", unary { Glibc.exp($0) }), ("floor", unary { Glibc.floor($0) }), ("fmod", binary { Glibc.fmod($0, $1) }),
            ("frexp", LuaState.mathFrexp), ("ldexp", LuaState.mathLdexp), ("log10", unary { Glibc.log10($0) }),
            ("log", unary { Glibc.log($0) }), ("max", LuaState.mathMax), ("min", LuaState.mathMin),
            ("modf", LuaState.mathModf), ("pow", binary { Glibc.pow($0, $1) }), ("rad", unary { $0 * radians }),
            ("random", LuaState.mathRandom), ("randomseed", LuaState.mathRandomseed), ("sinh", unary { Glibc.sinh($0) }),
            ("sin", unary { Glibc.sin($0) }), ("sqrt", unary { Glibc.sqrt($0) }), ("tanh", unary { Glibc.tanh($0) }),
            ("tan", unary { Glibc.tan($0) }),
        ])
        rawSet(t, "pi", .number(3.14159265358979323846))
        rawSet(t, "huge", .number(Double.infinity))
        rawSet(t, "mod", t.get(string: newString("fmod")))
    }

    static func mathFrexp(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        var e: Int32 = 0
        let m = Glibc.frexp(try args.checkNumber(1), &e)
        L.push(.number(m))
        L.push(.number(Double(e)))
        return 2
    }

    static func mathLdexp(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let m = try args.checkNumber(1)
        L.push(.number(Glibc.ldexp(m, Int32(truncatingIfNeeded: try args.checkInt(2)))))
        return 1
    }

    static func mathModf(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        var ip = 0.0
        let fp = Glibc.modf(try args.checkNumber(1), &ip)
        L.push(.number(ip))
        L.push(.number(fp))
        return 2
    }

    static func mathMin(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        var m = try args.checkNumber(1)
        if args.count >= 2 {
            for i in 2...args.count {
                let d = try args.checkNumber(i)
                if d < m { m = d }
            }
        }
        L.push(.number(m))
        return 1
    }

    static func mathMax(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        var m = try args.checkNumber(1)
        if args.count >= 2 {
            for i in 2...args.count {
                let d = try args.checkNumber(i)
                if d > m { m = d }
            }
        }
        L.push(.number(m))
        return 1
    }

    // MARK: - Redis's random

    /// redisLrand48: the next 31 bits of the 48-bit LCG (a = 0x5DEECE66D, c = 0xB).
    public func lrand48() -> Int32 {
        randomState = (randomState &* 0x5DEECE66D &+ 0xB) & 0xFFFF_FFFF_FFFF
        return Int32(truncatingIfNeeded: randomState >> 17)
    }

    /// redisSrand48.
    public func srand48(_ seed: Int32) {
        randomState = (UInt64(UInt32(bitPattern: seed)) << 16) | 0x330E
    }

    static func mathRandom(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let maxValue = Double(Int32.max)
        let r = Double(L.lrand48() % Int32.max) / maxValue
        switch args.count {
        case 0:
            L.push(.number(r))
        case 1:
            let u = try args.checkInt(1)
            try args.argCheck(1 <= u, 1, "interval is empty")
            L.push(.number(Glibc.floor(r * Double(u)) + 1))
        case 2:
            let l = try args.checkInt(1)
            let u = try args.checkInt(2)
            try args.argCheck(l <= u, 2, "interval is empty")
            L.push(.number(Glibc.floor(r * Double(u - l + 1)) + Double(l)))
        default:
            throw L.error("wrong number of arguments")
        }
        return 1
    }

    static func mathRandomseed(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        L.srand48(Int32(truncatingIfNeeded: try args.checkInt(1)))
        return 0
    }
}

// Lua 5.1's instruction set and encoding (lopcodes.h): 32-bit instructions, 6-bit opcode, 8-bit A,
// 9-bit B and C (bit 8 of B/C selects a constant), 18-bit Bx / signed sBx.

/// The 38 opcodes of Lua 5.1, in its order.
enum OpCode: UInt8 {
    case move, loadk, loadbool, loadnil, getupval, getglobal, gettable, setglobal, setupval, settable,
         newtable, `self`, add, sub, mul, div, mod, pow, unm, not, len, concat, jmp, eq, lt, le, test,
         testset, call, tailcall, `return`, forloop, forprep, tforloop, setlist, close, closure, vararg
}

/// Argument usage of an opcode (for the debug symbolic execution and the code checker).
enum OpArgMode { case n, u, r, k }
enum OpMode { case abc, abx, asbx }

struct OpInfo {
    let mode: OpMode
    let b: OpArgMode
    let c: OpArgMode
    /// Instruction sets register A.
    let setsA: Bool
    /// Instruction is a test (the next one is a jump).
    let isTest: Bool
}

enum Instruction {
    static let sizeOp = 6, sizeA = 8, sizeB = 9, sizeC = 9
    static let posA = 6, posC = 14, posB = 23, posBx = 14
    static let maxA = 255, maxB = 511, maxC = 511
    static let maxBx = (1 << 18) - 1
    static let maxSBx = maxBx >> 1
    static let bitRK = 1 << 8
    static let maxIndexRK = bitRK - 1
    static let noReg = 255
    /// Items a SETLIST flushes at most (LFIELDS_PER_FLUSH).
    static let fieldsPerFlush = 50

    @inline(__always) static func op(_ i: UInt32) -> OpCode { unsafeBitCast(UInt8(truncatingIfNeeded: i & 0x3F), to: OpCode.self) }
    @inline(__always) static func a(_ i: UInt32) -> Int { Int((i >> 6) & 0xFF) }
    @inline(__always) static func b(_ i: UInt32) -> Int { Int(i >> 23) }
    @inline(__always) static func c(_ i: UInt32) -> Int { Int((i >> 14) & 0x1FF) }
    @inline(__always) static func bx(_ i: UInt32) -> Int { Int(i >> 14) }
    @inline(__always) static func sbx(_ i: UInt32) -> Int { Int(i >> 14) - maxSBx }
    @inline(__always) static func isK(_ x: Int) -> Bool { x & bitRK != 0 }
    @inline(__always) static func indexK(_ x: Int) -> Int { x & ~bitRK }
    @inline(__always) static func rkAsK(_ x: Int) -> Int { x | bitRK }

    static func abc(_ o: OpCode, _ a: Int, _ b: Int, _ c: Int) -> UInt32 {
        UInt32(o.rawValue) | UInt32(a) << 6 | UInt32(b) << 23 | UInt32(c) << 14
    }

    static func abx(_ o: OpCode, _ a: Int, _ bx: Int) -> UInt32 {
        UInt32(o.rawValue) | UInt32(a) << 6 | UInt32(bx) << 14
    }

    static func setA(_ i: inout UInt32, _ v: Int) { i = (i & ~(0xFF << 6)) | UInt32(v) << 6 }
    static func setB(_ i: inout UInt32, _ v: Int) { i = (i & ~(0x1FF << 23)) | UInt32(v) << 23 }
    static func setC(_ i: inout UInt32, _ v: Int) { i = (i & ~(0x1FF << 14)) | UInt32(v) << 14 }
    static func setBx(_ i: inout UInt32, _ v: Int) { i = (i & 0x3FFF) | UInt32(v) << 14 }
    static func setSBx(_ i: inout UInt32, _ v: Int) { setBx(&i, v + maxSBx) }
    static func setOp(_ i: inout UInt32, _ o: OpCode) { i = (i & ~0x3F) | UInt32(o.rawValue) }

    static let info: [OpInfo] = [
        OpInfo(mode: .abc, b: .r, c: .n, setsA: true, isTest: false),   // move
        OpInfo(mode: .abx, b: .k, c: .n, setsA: true, isTest: false),   // loadk
        OpInfo(mode: .abc, b: .u, c: .u, setsA: true, isTest: false),   // loadbool
        OpInfo(mode: .abc, b: .r, c: .n, setsA: true, isTest: false),   // loadnil
        OpInfo(mode: .abc, b: .u, c: .n, setsA: true, isTest: false),   // getupval
        OpInfo(mode: .abx, b: .k, c: .n, setsA: true, isTest: false),   // getglobal
        OpInfo(mode: .abc, b: .r, c: .k, setsA: true, isTest: false),   // gettable
        OpInfo(mode: .abx, b: .k, c: .n, setsA: false, isTest: false),  // setglobal
        OpInfo(mode: .abc, b: .u, c: .n, setsA: false, isTest: false),  // setupval
        OpInfo(mode: .abc, b: .k, c: .k, setsA: false, isTest: false),  // settable
        OpInfo(mode: .abc, b: .u, c: .u, setsA: true, isTest: false),   // newtable
        OpInfo(mode: .abc, b: .r, c: .k, setsA: true, isTest: false),   // self
        OpInfo(mode: .abc, b: .k, c: .k, setsA: true, isTest: false),   // add
        OpInfo(mode: .abc, b: .k, c: .k, setsA: true, isTest: false),   // sub
        OpInfo(mode: .abc, b: .k, c: .k, setsA: true, isTest: false),   // mul
        OpInfo(mode: .abc, b: .k, c: .k, setsA: true, isTest: false),   // div
        OpInfo(mode: .abc, b: .k, c: .k, setsA: true, isTest: false),   // mod
        OpInfo(mode: .abc, b: .k, c: .k, setsA: true, isTest: false),   // pow
        OpInfo(mode: .abc, b: .r, c: .n, setsA: true, isTest: false),   // unm
        OpInfo(mode: .abc, b: .r, c: .n, setsA: true, isTest: false),   // not
        OpInfo(mode: .abc, b: .r, c: .n, setsA: true, isTest: false),   // len
        OpInfo(mode: .abc, b: .r, c: .r, setsA: true, isTest: false),   // concat
        OpInfo(mode: .asbx, b: .r, c: .n, setsA: false, isTest: false), // jmp
        OpInfo(mode: .abc, b: .k, c: .k, setsA: false, isTest: true),   // eq
        OpInfo(mode: .abc, b: .k, c: .k, setsA: false, isTest: true),   // lt
        OpInfo(mode: .abc, b: .k, c: .k, setsA: false, isTest: true),   // le
        OpInfo(mode: .abc, b: .r, c: .u, setsA: true, isTest: true),    // test
        OpInfo(mode: .abc, b: .r, c: .u, setsA: true, isTest: true),    // testset
        OpInfo(mode: .abc, b: .u, c: .u, setsA: true, isTest: false),   // call
        OpInfo(mode: .abc, b: .u, c: .u, setsA: true, isTest: false),   // tailcall
        OpInfo(mode: .abc, b: .u, c: .n, setsA: false, isTest: false),  // return
        OpInfo(mode: .asbx, b: .r, c: .n, setsA: true, isTest: false),  // forloop
        OpInfo(mode: .asbx, b: .r, c: .n, setsA: true, isTest: false),  // forprep
        OpInfo(mode: .abc, b: .n, c: .u, setsA: false, isTest: true),   // tforloop
        OpInfo(mode: .abc, b: .u, c: .u, setsA: false, isTest: false),  // setlist
        OpInfo(mode: .abc, b: .n, c: .n, setsA: false, isTest: false),  // close
        OpInfo(mode: .abx, b: .u, c: .n, setsA: true, isTest: false),   // closure
        OpInfo(mode: .abc, b: .u, c: .n, setsA: true, isTest: false),   // vararg
    ]
}

/// "Floating point byte" sizes of NEWTABLE (luaO_int2fb / luaO_fb2int).
enum FloatByte {
    static func encode(_ x0: Int) -> Int {
        var x = UInt(x0)
        var e = 0
        while x >= 16 {
            x = (x + 1) >> 1
            e += 1
        }
        if x < 8 { return Int(x) }
        return ((e + 1) << 3) | (Int(x) - 8)
    }

    static func decode(_ x: Int) -> Int {
        let e = (x >> 3) & 31
        if e == 0 { return x }
        return ((x & 7) + 8) << (e - 1)
    }
}

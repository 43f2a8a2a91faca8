// Per-function compiler state and expression descriptors (lparser.h / lcode.h).

/// What an expression descriptor denotes (lparser.h's expkind).
enum ExpKind {
    case void, `nil`, `true`, `false`
    /// A constant; info = index in the constant table.
    case k
    /// A numeric constant not yet in the table; nval = value.
    case knum
    /// A local variable; info = register.
    case local
    /// An upvalue; info = upvalue index.
    case upval
    /// A global; info = constant index of the name.
    case global
    /// t[k]; info = table register, aux = key RK.
    case indexed
    /// A comparison; info = pc of its jump.
    case jmp
    /// A result that can go in any register; info = pc of the instruction.
    case relocable
    /// A result in a fixed register; info = register.
    case nonreloc
    /// An open call; info = pc of the CALL.
    case call
    /// An open vararg; info = pc of the VARARG.
    case vararg
}

let noJump = -1

/// An expression being compiled.
struct ExpDesc {
    var k: ExpKind = .void
    var info = 0
    var aux = 0
    var nval: Double = 0
    /// Patch list of "exit when true".
    var t = noJump
    /// Patch list of "exit when false".
    var f = noJump

    init() {}
    init(_ k: ExpKind, _ info: Int) {
        self.k = k
        self.info = info
    }

    var hasJumps: Bool { t != f }
    var hasMultRet: Bool { k == .call || k == .vararg }
}

/// Key for deduplicating constants (numbers by value, strings by identity).
enum ConstantKey: Hashable {
    case number(Double)
    case string(LuaString)
    case bool(Bool)
    case `nil`
}

/// A block (loop or scope) being compiled.
final class BlockCnt {
    let previous: BlockCnt?
    var breakList = noJump
    let nactvar: Int
    var upval = false
    let isBreakable: Bool

    init(previous: BlockCnt?, nactvar: Int, isBreakable: Bool) {
        self.previous = previous
        self.nactvar = nactvar
        self.isBreakable = isBreakable
    }
}

/// State of one function being compiled.
final class FuncState {
    let prev: FuncState?
    var code: [UInt32] = []
    var lineInfo: [Int32] = []
    var constants: [LuaValue] = []
    var constantIndex: [ConstantKey: Int] = [:]
    var protos: [UnsafeMutablePointer<ProtoObject>] = []
    var localVars: [LocalVariableInfo] = []
    var upvalueNames: [LuaString] = []
    var upvalues: [(kind: ExpKind, info: Int)] = []
    /// Registered local variable of each active slot (Lua's actvar), grown on demand.
    var actvar: [Int] = []
    var nactvar = 0
    var freereg = 0
    /// pc of the last jump target (no peephole across it).
    var lasttarget = -1
    /// Pending jumps to the current pc.
    var jpc = noJump
    var bl: BlockCnt?
    var numParams = 0
    var isVararg: UInt8 = 0
    var maxStackSize = 2
    var lineDefined = 0
    var lastLineDefined = 0

    init(prev: FuncState?) {
        self.prev = prev
        code.reserveCapacity(16)
        lineInfo.reserveCapacity(16)
    }

    var pc: Int { code.count }

    /// Constants are the same entry when they are equal as table keys (numbers by value).
    static func sameConstant(_ a: LuaValue, _ b: LuaValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x == y
        default: return LuaValue.rawEquals(a, b)
        }
    }

    static func key(_ v: LuaValue) -> ConstantKey {
        switch v {
        case .number(let d): return .number(d)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        default: return .nil
        }
    }
}

/// Limits of Lua 5.1 (luaconf.h / llimits.h).
enum CompilerLimits {
    static let maxVars = 200
    static let maxUpvalues = 60
    static let maxStack = 250
    static let maxCCalls = 200
}

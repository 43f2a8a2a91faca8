// Heap object layouts. Every object is allocated by LuaState, linked into one list per kind, and
// freed by the collector's sweep; handles (`LuaTable`, `LuaString`, ...) are bare pointers.

/// Collector mark bits shared by all objects.
enum GCMark {
    static let marked: UInt8 = 1
    /// Never collected (reserved words, metamethod names).
    static let fixed: UInt8 = 2
}

// MARK: - Strings

/// A string's header; `count + 1` bytes follow it in the same allocation (NUL-terminated so that
/// libc's strtod can read it in place). Strings are interned: equal contents, same object.
struct StringObject {
    var chain: UnsafeMutablePointer<StringObject>?
    var count: Int
    var hash: UInt32
    var marked: UInt8
    /// 1-based index of the reserved word this string spells, 0 otherwise (the lexer's lookup).
    var reserved: UInt8
}

/// An interned, 8-bit clean Lua string.
public struct LuaString: Hashable {
    let p: UnsafeMutablePointer<StringObject>

    init(_ p: UnsafeMutablePointer<StringObject>) { self.p = p }

    /// Length in bytes.
    @inline(__always) public var count: Int { p.pointee.count }

    @inline(__always) var hash: UInt32 { p.pointee.hash }

    /// The bytes (valid while the string is reachable); followed by a NUL byte.
    @inline(__always) public var bytes: UnsafePointer<UInt8> {
        UnsafeRawPointer(p + 1).assumingMemoryBound(to: UInt8.self)
    }

    /// The bytes as a buffer.
    @inline(__always) public var buffer: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bytes, count: count)
    }

    /// A copy of the bytes.
    public var array: [UInt8] { Array(buffer) }

    /// The bytes decoded as UTF-8 (invalid sequences repaired), for messages and tests.
    public var string: String { String(decoding: buffer, as: UTF8.self) }

    @inline(__always) subscript(i: Int) -> UInt8 { bytes[i] }

    public static func == (a: LuaString, b: LuaString) -> Bool { a.p == b.p }
    public func hash(into h: inout Hasher) { h.combine(p) }
}

// MARK: - Tables

/// One slot of a table's hash part (Lua 5.1's chained scatter table with Brent's variation).
struct Node {
    var value: LuaValue
    var key: LuaValue
    /// Index of the next node in this chain, -1 at the end.
    var next: Int32
    /// The key's object was collected while its value was nil; kept only so `next` can continue.
    var deadKey: Bool
}

/// A table's storage: an array part for keys 1...sizeArray and a hash part of 2^lsizenode nodes.
struct TableObject {
    var gcNext: UnsafeMutablePointer<TableObject>?
    var array: UnsafeMutablePointer<LuaValue>?
    var node: UnsafeMutablePointer<Node>
    var metatable: LuaTable?
    var sizeArray: Int32
    /// All nodes at or above this index are known to be taken (getfreepos scans downwards).
    var lastFree: Int32
    var lsizenode: UInt8
    /// True when `node` is the shared empty node (no hash part allocated).
    var dummy: Bool
    var marked: UInt8
    /// Bit i set: metamethod i (of the first 6 events) known absent. Cleared on every raw write.
    var flags: UInt8
    /// Redis's read-only tables: every write raises "Attempt to modify a readonly table".
    var readonly: Bool
}

/// A Lua table.
public struct LuaTable: Hashable {
    let p: UnsafeMutablePointer<TableObject>
    init(_ p: UnsafeMutablePointer<TableObject>) { self.p = p }
    public static func == (a: LuaTable, b: LuaTable) -> Bool { a.p == b.p }
    public func hash(into h: inout Hasher) { h.combine(p) }
}

// MARK: - Functions

/// A native function's signature: `args` are the call's arguments; the function pushes its results
/// on `state`'s stack (`state.push`) and returns how many it pushed. Errors are thrown.
public typealias LuaNativeFunction = (LuaState, LuaArgs) throws(LuaError) -> Int

/// A closure: a Lua prototype with upvalues, or a native function with Lua-visible upvalues.
struct FunctionObject {
    var gcNext: UnsafeMutablePointer<FunctionObject>?
    var proto: UnsafeMutablePointer<ProtoObject>?
    /// Lua closures: one upvalue object per upvalue of the prototype.
    var upvalues: UnsafeMutablePointer<UnsafeMutablePointer<UpvalueObject>>?
    /// Native closures: values the collector can see (a Swift capture would be invisible to it).
    var nativeUpvalues: UnsafeMutablePointer<LuaValue>?
    var upvalueCount: Int32
    var marked: UInt8
    var env: LuaTable
    var native: LuaNativeFunction?
}

/// A Lua function (Lua closure or native).
public struct LuaFunction: Hashable {
    let p: UnsafeMutablePointer<FunctionObject>
    init(_ p: UnsafeMutablePointer<FunctionObject>) { self.p = p }
    /// True for native (Swift) functions.
    public var isNative: Bool { p.pointee.proto == nil }
    public static func == (a: LuaFunction, b: LuaFunction) -> Bool { a.p == b.p }
    public func hash(into h: inout Hasher) { h.combine(p) }
}

/// A captured variable: open while its frame runs (`v` points into the stack), closed after.
struct UpvalueObject {
    var gcNext: UnsafeMutablePointer<UpvalueObject>?
    var v: UnsafeMutablePointer<LuaValue>
    var closed: LuaValue
    /// Next open upvalue of the same thread (sorted by decreasing stack index).
    var openNext: UnsafeMutablePointer<UpvalueObject>?
    var stackIndex: Int
    var marked: UInt8
    var isOpen: Bool
}

/// Debug information for a local variable: live for pc in startPC..<endPC.
struct LocalVariableInfo {
    var name: LuaString
    var startPC: Int32
    var endPC: Int32
}

/// A compiled function body.
struct ProtoObject {
    var gcNext: UnsafeMutablePointer<ProtoObject>?
    var code: UnsafeMutablePointer<UInt32>
    var codeCount: Int
    var constants: UnsafeMutablePointer<LuaValue>
    var constantCount: Int
    var protos: UnsafeMutablePointer<UnsafeMutablePointer<ProtoObject>>
    var protoCount: Int
    var lineInfo: UnsafeMutablePointer<Int32>
    var localVars: [LocalVariableInfo]
    var upvalueNames: [LuaString]
    var source: LuaString
    var lineDefined: Int32
    var lastLineDefined: Int32
    var numParams: UInt8
    var isVararg: UInt8
    var maxStackSize: UInt8
    var upvalueCount: UInt8
    var marked: UInt8
}

/// `isVararg` bits, as Lua 5.1 (the compat `arg` table included).
enum VarargFlags {
    static let hasArg: UInt8 = 1
    static let isVararg: UInt8 = 2
    static let needsArg: UInt8 = 4
}

// MARK: - Userdata and threads

/// A full userdata (Lua's newproxy, or a host object).
struct UserdataObject {
    var gcNext: UnsafeMutablePointer<UserdataObject>?
    var metatable: LuaTable?
    var env: LuaTable
    var payload: AnyObject?
    var marked: UInt8
}

/// A full userdata.
public struct LuaUserdata: Hashable {
    let p: UnsafeMutablePointer<UserdataObject>
    init(_ p: UnsafeMutablePointer<UserdataObject>) { self.p = p }
    /// The host object attached at creation, if any.
    public var payload: AnyObject? { p.pointee.payload }
    public static func == (a: LuaUserdata, b: LuaUserdata) -> Bool { a.p == b.p }
    public func hash(into h: inout Hasher) { h.combine(p) }
}

/// One activation record.
struct CallInfo {
    /// Stack index of the called function; results go here.
    var funcIndex: Int
    /// Stack index of the first register (fixed parameters for Lua functions, arguments for natives).
    var base: Int
    /// One past the last register this frame may use.
    var top: Int
    /// Lua frames: index of the next instruction (saved when the frame is not running).
    var savedPC: Int
    /// Results wanted by the caller, -1 for all.
    var nresults: Int32
    /// Tail calls this frame has absorbed (debug information only).
    var tailcalls: Int32
}

/// Coroutine status, as `coroutine.status` reports it once combined with the call stack.
enum ThreadStatus: UInt8 {
    case ok, yielded, dead
}

/// A thread: its own value stack and call stack (the main thread or a coroutine).
struct ThreadObject {
    var gcNext: UnsafeMutablePointer<ThreadObject>?
    var stack: UnsafeMutablePointer<LuaValue>
    var stackSize: Int
    var top: Int
    /// Highest stack index ever written since the last collection (slots above `top` are cleared).
    var highWater: Int
    var cis: UnsafeMutablePointer<CallInfo>
    var ciSize: Int
    /// Index of the current activation record; 0 is the base record (no function).
    var ci: Int
    var openUpvalues: UnsafeMutablePointer<UpvalueObject>?
    var status: ThreadStatus
    /// State's native-call depth when this coroutine was last resumed (yield may not cross natives).
    var baseCcalls: Int
    var env: LuaTable
    var marked: UInt8
}

/// A coroutine.
public struct LuaThread: Hashable {
    let p: UnsafeMutablePointer<ThreadObject>
    init(_ p: UnsafeMutablePointer<ThreadObject>) { self.p = p }
    public static func == (a: LuaThread, b: LuaThread) -> Bool { a.p == b.p }
    public func hash(into h: inout Hasher) { h.combine(p) }
}

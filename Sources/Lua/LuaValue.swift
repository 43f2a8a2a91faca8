// Lua values. A value is 16 bytes and trivially copyable: heap objects are referenced through plain
// pointers, never retained, so copying a register costs no reference counting. The collector
// (LuaState+Collector.swift) owns every object and frees the unreachable ones.

/// A Lua 5.1 value.
public enum LuaValue {
    case `nil`
    case bool(Bool)
    case number(Double)
    case string(LuaString)
    case table(LuaTable)
    case function(LuaFunction)
    case userdata(LuaUserdata)
    case thread(LuaThread)
    /// A light userdata (a bare pointer-sized value); cjson.null is the light userdata 0.
    case lightUserdata(UInt)
}

/// The basic type of a value, as `type()` names it.
public enum LuaType: UInt8 {
    case none, `nil`, boolean, lightUserdata, number, string, table, function, userdata, thread

    /// The name Lua's `type()` and error messages use.
    public var name: String { String(decoding: nameBytes, as: UTF8.self) }

    /// The name as bytes ("no value" for a missing argument).
    public var nameBytes: [UInt8] {
        switch self {
        case .none: return Array("no value".utf8)
        case .nil: return Array("nil".utf8)
        case .boolean: return Array("boolean".utf8)
        case .lightUserdata, .userdata: return Array("userdata".utf8)
        case .number: return Array("number".utf8)
        case .string: return Array("string".utf8)
        case .table: return Array("table".utf8)
        case .function: return Array("function".utf8)
        case .thread: return Array("thread".utf8)
        }
    }
}

extension LuaValue {
    /// The value's type.
    @inline(__always) public var type: LuaType {
        switch self {
        case .nil: return .nil
        case .bool: return .boolean
        case .number: return .number
        case .string: return .string
        case .table: return .table
        case .function: return .function
        case .userdata: return .userdata
        case .thread: return .thread
        case .lightUserdata: return .lightUserdata
        }
    }

    /// `nil` and `false` are false; everything else is true.
    @inline(__always) public var isFalsy: Bool {
        switch self {
        case .nil: return true
        case .bool(let b): return !b
        default: return false
        }
    }

    /// True for `nil`.
    @inline(__always) public var isNil: Bool {
        if case .nil = self { return true }
        return false
    }

    /// Raw equality (no `__eq`): same type and same number, boolean, or object.
    @inline(__always) public static func rawEquals(_ a: LuaValue, _ b: LuaValue) -> Bool {
        switch a {
        case .nil: if case .nil = b { return true }
        case .bool(let x): if case .bool(let y) = b { return x == y }
        case .number(let x): if case .number(let y) = b { return x == y }
        case .string(let x): if case .string(let y) = b { return x.p == y.p }
        case .table(let x): if case .table(let y) = b { return x.p == y.p }
        case .function(let x): if case .function(let y) = b { return x.p == y.p }
        case .userdata(let x): if case .userdata(let y) = b { return x.p == y.p }
        case .thread(let x): if case .thread(let y) = b { return x.p == y.p }
        case .lightUserdata(let x): if case .lightUserdata(let y) = b { return x == y }
        }
        return false
    }

    /// The object's address (for `%p`-style printing and pointer hashing); 0 for non-objects.
    public var objectAddress: UInt {
        switch self {
        case .string(let s): return UInt(bitPattern: s.p)
        case .table(let t): return UInt(bitPattern: t.p)
        case .function(let f): return UInt(bitPattern: f.p)
        case .userdata(let u): return UInt(bitPattern: u.p)
        case .thread(let t): return UInt(bitPattern: t.p)
        case .lightUserdata(let p): return p
        default: return 0
        }
    }

    /// The string payload, if the value is a string.
    @inline(__always) public var stringValue: LuaString? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The table payload, if the value is a table.
    @inline(__always) public var tableValue: LuaTable? {
        if case .table(let t) = self { return t }
        return nil
    }

    /// The number, if the value is a number (no string coercion).
    @inline(__always) public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }
}

// MARK: - Number conversions with C's semantics

/// `(int)d` as C on x86-64 computes it: truncation, INT_MIN when out of range or NaN.
@inline(__always) func luaNumberToInt32(_ d: Double) -> Int32 {
    if d > -2147483649.0 && d < 2147483648.0 { return Int32(d) }
    return Int32.min
}

/// `(long long)d` as C on x86-64 computes it: truncation, LLONG_MIN when out of range or NaN.
@inline(__always) func luaNumberToInt64(_ d: Double) -> Int64 {
    if d >= -9223372036854775808.0 && d < 9223372036854775808.0 { return Int64(d) }
    return Int64.min
}

/// The integer a number denotes when it is integral and fits in an Int32, for array indexing.
@inline(__always) func luaArrayIndex(_ d: Double) -> Int? {
    let k = luaNumberToInt32(d)
    return Double(k) == d ? Int(k) : nil
}

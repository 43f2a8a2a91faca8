// Errors thrown through the interpreter and out to the host.

/// A Lua error: the error value (usually a string, possibly a table) and how it arose.
public struct LuaError: Error, @unchecked Sendable {
    /// Why the error was raised.
    public enum Kind: Sendable {
        /// A runtime error (`error()`, a failed operation, a host function's error).
        case runtime
        /// A compile error (the message has Lua's "chunk:line: ... near '...'" form).
        case syntax
        /// The memory limit was reached ("not enough memory").
        case memory
        /// An error inside an error handler (Lua's LUA_ERRERR).
        case errorHandler
        /// The host's instruction hook aborted the script: `pcall` does not catch this kind.
        case aborted
    }

    /// What kind of error this is.
    public var kind: Kind
    /// The error value. Valid while the state has not collected since the error was caught.
    public var value: LuaValue

    /// An error carrying `value`.
    public init(_ kind: Kind = .runtime, _ value: LuaValue) {
        self.kind = kind
        self.value = value
    }

    /// The error value as text: strings and numbers as Lua prints them, other values by type.
    public var message: String {
        switch value {
        case .string(let s): return s.string
        case .number(let n): return String(decoding: formatLuaNumber(n), as: UTF8.self)
        case .nil: return "nil"
        default: return "(error object is a \(value.type.name) value)"
        }
    }
}

/// The arguments of a native call: a window of the running thread's stack (1-based, as in Lua).
public struct LuaArgs {
    unowned(unsafe) let state: LuaState
    /// Stack index of argument 1.
    public let base: Int
    /// Number of arguments passed.
    public let count: Int

    init(state: LuaState, base: Int, count: Int) {
        self.state = state
        self.base = base
        self.count = count
    }

    /// Argument `i` (1-based); `nil` past the end.
    @inline(__always) public subscript(i: Int) -> LuaValue {
        i >= 1 && i <= count ? state.current.pointee.stack[base + i - 1] : .nil
    }

    /// True when argument `i` was not passed at all (Lua's "no value").
    @inline(__always) public func isNone(_ i: Int) -> Bool { i > count || i < 1 }

    /// True when argument `i` is absent or nil.
    @inline(__always) public func isNoneOrNil(_ i: Int) -> Bool { self[i].isNil }

    /// The type of argument `i`, `.none` when absent.
    public func type(_ i: Int) -> LuaType { isNone(i) ? .none : self[i].type }
}

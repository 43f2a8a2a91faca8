// Opening the standard libraries.

/// Which libraries `openLibraries` installs.
public struct LuaLibraries: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Base functions and the coroutine table (no dofile/loadfile).
    public static let base = LuaLibraries(rawValue: 1)
    /// `print` (writes to `LuaState.output`); Redis has none.
    public static let print = LuaLibraries(rawValue: 2)
    public static let table = LuaLibraries(rawValue: 4)
    public static let string = LuaLibraries(rawValue: 8)
    /// math, with Redis's deterministic random/randomseed.
    public static let math = LuaLibraries(rawValue: 16)
    /// debug (getinfo, traceback, ...); Redis loads it and removes the global after setup.
    public static let debug = LuaLibraries(rawValue: 32)
    public static let cjson = LuaLibraries(rawValue: 64)
    public static let cmsgpack = LuaLibraries(rawValue: 128)
    public static let bit = LuaLibraries(rawValue: 256)
    public static let `struct` = LuaLibraries(rawValue: 512)

    /// What Redis 7.0 loads.
    public static let redis: LuaLibraries = [.base, .table, .string, .math, .debug, .cjson, .cmsgpack, .bit, .struct]
    /// Everything, print included (tests and tools).
    public static let all: LuaLibraries = [.redis, .print]
}

extension LuaState {
    /// Installs the chosen libraries in the globals.
    public func openLibraries(_ libs: LuaLibraries = .redis) {
        if libs.contains(.base) { openBase(print: libs.contains(.print)) }
        if libs.contains(.table) { openTable() }
        if libs.contains(.string) { openString() }
        if libs.contains(.math) { openMath() }
        if libs.contains(.debug) { openDebug() }
        if libs.contains(.cjson) { openCJSON() }
        if libs.contains(.struct) { openStruct() }
        if libs.contains(.cmsgpack) { openCMsgpack() }
        if libs.contains(.bit) { openBit() }
    }
}

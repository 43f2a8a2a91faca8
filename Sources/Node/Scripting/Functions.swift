// FUNCTION's libraries (functions.c, function_lua.c): a library is Lua code whose first line is
// `#!lua name=<lib>`; loading it runs the code once with only `redis.register_function` (and
// logging) visible, and each registered callback becomes a function FCALL runs with (KEYS, ARGV).
// Libraries are data: FUNCTION DUMP/RESTORE and the RDB carry their code, loading replays it.
import Lua
import Shared

/// A registered function.
struct FunctionInfo {
    let name: String
    let library: String
    /// The callback (a registry ref of the function engine).
    let ref: Int
    let description: Bytes?
    let flags: ScriptFlags
}

/// A library: its code and its functions, in registration order.
final class FunctionLibrary {
    let name: String
    let code: Bytes
    var functions: [FunctionInfo] = []
    init(name: String, code: Bytes) {
        self.name = name
        self.code = code
    }
}

/// Every library and function.
struct FunctionStore {
    /// Library name -> library (names are case-sensitive, as Redis's dict).
    var libraries: [String: FunctionLibrary] = [:]
    /// Function name (lower-cased: FCALL's names are case-insensitive) -> function.
    var functions: [String: FunctionInfo] = [:]
    /// Library names in load order (FUNCTION LIST, DUMP).
    var order: [String] = []

    mutating func link(_ lib: FunctionLibrary) {
        libraries[lib.name] = lib
        if !order.contains(lib.name) { order.append(lib.name) }
        for f in lib.functions { functions[f.name.lowercased()] = f }
    }

    mutating func unlink(_ name: String) -> FunctionLibrary? {
        guard let lib = libraries.removeValue(forKey: name) else { return nil }
        order.removeAll { $0 == name }
        for f in lib.functions { functions[f.name.lowercased()] = nil }
        return lib
    }

    var functionCount: Int { functions.count }
}

extension Scripting {
    /// Whether `name` is a valid library or function name (letters, digits, underscores).
    static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }
    }

    /// Parses `#!<engine> name=<lib>` (functionExtractLibMetaData): engine, name, the code after it.
    static func libraryMetadata(_ code: Bytes) -> Result<(engine: String, name: String, body: Bytes), CommandError> {
        guard code.count >= 2, code[0] == UInt8(ascii: "#"), code[1] == UInt8(ascii: "!") else {
            return .failure(CommandError("ERR Missing library metadata"))
        }
        guard let end = code.firstIndex(of: 10) else { return .failure(CommandError("ERR Invalid library metadata")) }
        guard let parts = ArgSplitter.split(code[..<end]), !parts.isEmpty else {
            return .failure(CommandError("ERR Invalid library metadata"))
        }
        let engine = String(decoding: parts[0].dropFirst(2), as: UTF8.self)
        var name: String? = nil
        for p in parts.dropFirst() {
            let text = String(decoding: p, as: UTF8.self)
            if text.lowercased().hasPrefix("name=") {
                if name != nil {
                    return .failure(CommandError("ERR Invalid metadata value, name argument was given multiple times"))
                }
                name = String(text.dropFirst(5))
                continue
            }
            return .failure(CommandError("ERR Invalid metadata value given: \(text)"))
        }
        guard let name else { return .failure(CommandError("ERR Library name was not given")) }
        return .success((engine, name, Array(code[end...])))
    }

    /// FUNCTION LOAD's work (functionsCreateWithLibraryCtx): returns the library name.
    func loadLibrary(_ code: Bytes, replace: Bool, timeoutMillis: Int64) -> Result<String, CommandError> {
        let md: (engine: String, name: String, body: Bytes)
        switch Scripting.libraryMetadata(code) {
        case .failure(let e): return .failure(e)
        case .success(let m): md = m
        }
        guard Scripting.validName(md.name) else {
            return .failure(CommandError("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"))
        }
        guard md.engine.lowercased() == "lua" else { return .failure(CommandError("ERR Engine '\(md.engine)' not found")) }
        if functions.libraries[md.name] != nil && !replace {
            return .failure(CommandError("ERR Library '\(md.name)' already exists"))
        }
        let engine = functionEngine
        let lib = FunctionLibrary(name: md.name, code: code)
        let failed = { (e: CommandError) -> Result<String, CommandError> in
            for f in lib.functions { engine.L.unref(f.ref) }
            return .failure(e)
        }
        let chunk: LuaFunction
        do {
            chunk = try engine.L.load(md.body, chunkName: "@user_function")
        } catch {
            return .failure(CommandError("ERR Error compiling function: \(error.message)"))
        }
        engine.loadingLibrary = lib
        engine.loadDeadline = timeoutMillis > 0 ? server.clock.monotonicMillis() + timeoutMillis : 0
        engine.setLoadingGlobals(true)
        engine.L.setInstructionHook(every: 1000) { [unowned engine] L throws(LuaError) in try engine.loadTick(L) }
        var loadError: LuaError? = nil
        do { try engine.L.call(.function(chunk), nresults: 0) } catch { loadError = error }
        engine.L.removeInstructionHook()
        engine.setLoadingGlobals(false)
        engine.loadingLibrary = nil
        engine.loadDeadline = 0
        if let e = loadError {
            var msg = e.message
            if case .table(let t) = e.value, case .string(let s) = t.get(string: engine.L.newString("err")) { msg = s.string } else {
                msg = "ERR " + msg
            }
            return failed(CommandError("ERR Error registering functions: \(msg)"))
        }
        if lib.functions.isEmpty { return failed(CommandError("ERR No functions registered")) }
        for f in lib.functions {
            if let existing = functions.functions[f.name.lowercased()], existing.library != lib.name || !replace {
                return failed(CommandError("ERR Function \(f.name) already exists"))
            }
        }
        if let old = functions.unlink(md.name) {
            for f in old.functions { engine.L.unref(f.ref) }
            // Keep the library's place in the listing.
        }
        functions.link(lib)
        return .success(md.name)
    }

    /// Removes a library (FUNCTION DELETE).
    func deleteLibrary(_ name: String) -> Bool {
        guard let lib = functions.unlink(name) else { return false }
        for f in lib.functions { functionEngine.L.unref(f.ref) }
        return true
    }

    /// Removes every library and starts a new interpreter (FUNCTION FLUSH).
    func flushFunctions() {
        functions = FunctionStore()
        resetFunctionEngine()
    }

    /// The libraries' codes in load order (FUNCTION DUMP, the RDB).
    var libraryCodes: [Bytes] { functions.order.compactMap { functions.libraries[$0]?.code } }
}

extension LuaEngine {
    /// redis.register_function(name, callback) or redis.register_function{function_name=,
    /// callback=, flags=, description=} while a library loads.
    func registerFunction(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        guard let lib = loadingLibrary else {
            throw L.error(value: errorTable("redis.register_function can only be called on FUNCTION LOAD command"))
        }
        guard args.count >= 1 && args.count <= 2 else {
            throw L.error(value: errorTable("wrong number of arguments to redis.register_function"))
        }
        var name: String? = nil, desc: Bytes? = nil, callback: LuaValue = .nil
        var flags: ScriptFlags = []
        if args.count == 1 {
            guard case .table(let t) = args[1] else {
                throw L.error(value: errorTable("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."))
            }
            var key = LuaValue.nil
            while let (k, v) = try L.next(t, after: key) {
                key = k
                guard let ks = LuaEngine.stringOf(k) else {
                    throw L.error(value: errorTable("named argument key given to redis.register_function is not a string"))
                }
                switch ks.lowercased() {
                case "function_name":
                    guard let s = LuaEngine.stringOf(v) else {
                        throw L.error(value: errorTable("function_name argument given to redis.register_function must be a string"))
                    }
                    name = s
                case "description":
                    guard let s = LuaEngine.stringOf(v) else {
                        throw L.error(value: errorTable("description argument given to redis.register_function must be a string"))
                    }
                    desc = Bytes(s.utf8)
                case "callback":
                    guard case .function = v else {
                        throw L.error(value: errorTable("callback argument given to redis.register_function must be a function"))
                    }
                    callback = v
                case "flags":
                    guard case .table(let ft) = v else {
                        throw L.error(value: errorTable("flags argument to redis.register_function must be a table representing function flags"))
                    }
                    var j = 1
                    while true {
                        let fv = ft.get(int: j)
                        if fv.isNil { break }
                        guard let fs = LuaEngine.stringOf(fv),
                              let f = ScriptFlags.names.first(where: { $0.0 == fs.lowercased() }) else {
                            throw L.error(value: errorTable("unknown flag given"))
                        }
                        flags.insert(f.1)
                        j += 1
                    }
                default:
                    throw L.error(value: errorTable("unknown argument given to redis.register_function"))
                }
            }
            guard name != nil else { throw L.error(value: errorTable("redis.register_function must get a function name argument")) }
            guard !callback.isNil else { throw L.error(value: errorTable("redis.register_function must get a callback argument")) }
        } else {
            guard let s = LuaEngine.stringOf(args[1]) else {
                throw L.error(value: errorTable("first argument to redis.register_function must be a string"))
            }
            guard case .function = args[2] else {
                throw L.error(value: errorTable("second argument to redis.register_function must be a function"))
            }
            name = s
            callback = args[2]
        }
        guard let fname = name, Scripting.validName(fname) else {
            throw L.error(value: errorTable("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"))
        }
        if lib.functions.contains(where: { $0.name.lowercased() == fname.lowercased() }) {
            throw L.error(value: errorTable("Function already exists in the library"))
        }
        lib.functions.append(FunctionInfo(name: fname, library: lib.name, ref: L.ref(callback), description: desc, flags: flags))
        return 0
    }

    /// lua_isstring + lua_tostring: strings and numbers.
    static func stringOf(_ v: LuaValue) -> String? {
        switch v {
        case .string(let s): return s.string
        case .number(let n): return numberText(n)
        default: return nil
        }
    }
}

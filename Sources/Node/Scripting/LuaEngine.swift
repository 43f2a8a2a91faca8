// One Lua interpreter with Redis's scripting API (script_lua.c, eval.c's scriptingInit,
// function_lua.c's luaEngineInitEngine). EVAL has one, FUNCTION another: the same libraries and
// `redis` table, the same protected globals and error handler; the function engine adds a layer
// of globals so a library's code sees only `redis.register_function` (and logging) while it loads.
// Scripts run their commands through one socket-less client and the server's one `call()`.
import Lua
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// An interpreter and the client its scripts run commands through.
final class LuaEngine {
    unowned let server: Server
    let L: LuaState
    /// Redis's lua_client: commands of scripts run as this client, with the caller's user and db.
    let client: Client
    /// The function engine (FUNCTION LOAD / FCALL) rather than EVAL's.
    let forFunctions: Bool
    /// The error handler that turns an error into {err=, source=, line=} (a registry ref).
    private(set) var errorHandler: LuaValue = .nil
    private var errorHandlerRef = 0
    /// Function engine: the globals scripts see, the real globals behind them, and the table
    /// seen while a library loads (registry refs).
    private var userGlobalsRef = 0, realGlobalsRef = 0, libraryAPIRef = 0
    /// Set while FUNCTION LOAD runs a library's code: what `register_function` adds to.
    var loadingLibrary: FunctionLibrary? = nil
    /// When the library load started (FUNCTION LOAD's 500 ms timeout), 0 = no timeout.
    var loadDeadline: Int64 = 0
    /// Scripts run so far (the collector is stepped every 50).
    var runs = 0
    /// Guards redis.call against re-entry (a hook calling it).
    private var inCall = false

    /// The "Script killed" error; the VM raises it at every tick until the script returns.
    static let killedMessage = "ERR Script killed by user with SCRIPT KILL..."

    init(server: Server, forFunctions: Bool) {
        self.server = server
        self.forFunctions = forFunctions
        L = LuaState()
        L.memoryLimit = LuaEngine.memoryLimit
        client = server.makeLocalClient(flags: [.script, .denyBlocking])
        setUp()
    }

    /// No script may grow the interpreter past this (allocation fails with "not enough memory").
    static let memoryLimit = 512 << 20

    /// Bytes the interpreter uses (INFO used_memory_lua, FUNCTION STATS).
    var usedMemory: Int { L.totalBytes }

    // MARK: - Set-up

    private func setUp() {
        L.openLibraries(.redis)
        // Redis's pcall: an error table's `err` string is what the script sees.
        L.registerGlobal("pcall") { L, args throws(LuaError) -> Int in try LuaEngine.redisPcall(L, args) }
        let redis = L.newTable()
        registerRedisAPI(redis)
        if !forFunctions {
            L.register("breakpoint", in: redis) { L, _ in L.push(.bool(false)); return 1 }
            L.register("debug", in: redis) { _, _ in 0 }
            L.register("replicate_commands", in: redis) { L, _ in L.push(.bool(true)); return 1 }
        }
        L.setGlobal("redis", .table(redis))
        let handler = L.newFunction { L, args throws(LuaError) -> Int in LuaEngine.errorHandlerFunction(L, args) }
        errorHandler = .function(handler)
        errorHandlerRef = L.ref(errorHandler)
        if !forFunctions { L.setGlobal("__redis__err__handler", errorHandler) }
        L.setGlobal("debug", .nil)
        let globals = L.globals
        L.setMetatable(globals, errorMetatable())
        if forFunctions {
            // What a library's code sees while it loads: redis.register_function and logging.
            let api = L.newTable()
            let apiRedis = L.newTable()
            L.register("register_function", in: apiRedis) { [unowned self] L, args throws(LuaError) -> Int in
                try self.registerFunction(L, args)
            }
            registerLog(apiRedis)
            registerVersion(apiRedis)
            L.setMetatable(apiRedis, errorMetatable())
            L.rawSet(api, "redis", .table(apiRedis))
            L.setMetatable(api, errorMetatable())
            L.makeReadonlyRecursively(api)
            libraryAPIRef = L.ref(.table(api))
        }
        L.makeReadonlyRecursively(globals)
        if forFunctions {
            realGlobalsRef = L.ref(.table(globals))
            // Scripts get an empty, read-only globals table that reads through to the real one.
            let user = L.newTable()
            let mt = L.newTable()
            L.rawSet(mt, "__index", .table(globals))
            L.setMetatable(user, mt)
            mt.isReadonly = true
            user.isReadonly = true
            userGlobalsRef = L.ref(.table(user))
            L.replaceGlobals(user)
        }
    }

    /// A metatable whose __index raises "Script attempted to access nonexistent global variable".
    private func errorMetatable() -> LuaTable {
        let mt = L.newTable()
        L.register("__index", in: mt) { L, args throws(LuaError) -> Int in
            guard args.count == 2 else { throw L.error("Wrong number of arguments to luaProtectedTableError") }
            let k = args[2]
            guard k.type == .string || k.type == .number else {
                throw L.error("Second argument to luaProtectedTableError must be a string or number")
            }
            let name = k.stringValue.map { $0.array } ?? Array(LuaEngine.numberText(k.numberValue ?? 0).utf8)
            throw L.error(Array("Script attempted to access nonexistent global variable '".utf8) + name + [0x27])
        }
        return mt
    }

    /// The function engine's globals while a library loads (the registration API) or runs.
    func setLoadingGlobals(_ loading: Bool) {
        guard forFunctions, case .table(let user) = L.value(ref: userGlobalsRef), let mt = user.metatable else { return }
        mt.isReadonly = false
        L.rawSet(mt, "__index", L.value(ref: loading ? libraryAPIRef : realGlobalsRef))
        mt.isReadonly = true
    }

    // MARK: - The error handler

    /// Runs where the error was raised: a string error becomes {err='ERR ' .. msg}, and the
    /// position of the Lua code that raised it is added (the caller of a Swift function).
    static func errorHandlerFunction(_ L: LuaState, _ args: LuaArgs) -> Int {
        var err = args[1]
        var info = L.frameInfo(level: 1)
        if let i = info, i.isNative { info = L.frameInfo(level: 2) }
        if err.tableValue == nil {
            let t = L.newTable()
            let text: [UInt8]
            switch err {
            case .string(let s): text = s.array
            case .number(let n): text = Array(numberText(n).utf8)
            case .nil: text = Array("nil".utf8)
            case .bool(let b): text = Array((b ? "true" : "false").utf8)
            default: text = Array("\(err.type.name): 0x0".utf8)
            }
            L.rawSet(t, "err", .string(L.newString(Array("ERR ".utf8) + text)))
            err = .table(t)
        }
        if let i = info, let t = err.tableValue, !t.isReadonly {
            L.rawSet(t, "source", .string(L.newString(i.source)))
            L.rawSet(t, "line", .number(Double(i.line)))
        }
        L.push(err)
        return 1
    }

    /// Lua's number-to-string (%.14g).
    static func numberText(_ n: Double) -> String {
        if n == n.rounded(), abs(n) < 1e15 { return String(Int(n)) }
        return NumberFormat.printf("%.14g", n)
    }

    /// Redis's pcall: like Lua's, but an error table with a string `err` gives that string.
    static func redisPcall(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.checkAny(1)
        let fn = args.base
        if let err = try L.protectedCallFromNative(fn, nresults: -1) {
            var v = err.value
            if let t = v.tableValue, case .string(let s) = t.get(string: L.newString("err")) { v = .string(s) }
            L.push(.bool(false))
            L.push(v)
            return 2
        }
        let n = L.stackTop - fn
        L.insertBelowResults(fn, .bool(true))
        return n + 1
    }

    // MARK: - Running

    /// Calls `f` with the run context set: returns the result or the error value (as the error
    /// handler shaped it). The hook serves clients once the script is past busy-reply-threshold
    /// and stops it when killed.
    func invoke(_ f: LuaValue, _ args: [LuaValue], run: ScriptRun) -> Result<LuaValue, LuaError> {
        let threshold = Int64(server.config.busyReplyThreshold)
        L.setInstructionHook(every: 1000) { [unowned self, unowned run] L throws(LuaError) in
            try self.tick(L, run, threshold)
        }
        defer { L.removeInstructionHook() }
        do {
            let r = try L.call(f, args, nresults: 1, errorHandler: errorHandler)
            return .success(r.first ?? .nil)
        } catch {
            return .failure(error)
        }
    }

    private func tick(_ L: LuaState, _ run: ScriptRun, _ threshold: Int64) throws(LuaError) {
        if !run.timedOut {
            guard threshold > 0 else { return }
            let elapsed = server.clock.monotonicMillis() - run.startedAt
            guard elapsed >= threshold else { return }
            server.log.warning("Slow script detected: still in execution after \(elapsed) milliseconds. You can try killing the script using the \(run.isEval ? "SCRIPT KILL" : "FUNCTION KILL") command. Script name is: \(run.name).")
            run.timedOut = true
        }
        server.loop.processReadyEvents()
        // SHUTDOWN NOSAVE while the script runs: the process ends here, as Redis's does.
        if server.shuttingDown {
            if !server.config.pidfile.isEmpty { Posix.unlink(server.config.pidfile) }
            exit(server.exitStatus)
        }
        if run.killed {
            server.log.warning("Lua script killed by user with SCRIPT KILL.")
            let t = L.newTable()
            L.rawSet(t, "err", .string(L.newString(LuaEngine.killedMessage)))
            if let i = L.frameInfo(level: 0), !i.isNative {
                L.rawSet(t, "source", .string(L.newString(i.source)))
                L.rawSet(t, "line", .number(Double(i.line)))
            }
            throw L.abortError(value: .table(t))
        }
    }

    /// The FUNCTION LOAD hook: a library's top-level code has 500 ms.
    func loadTick(_ L: LuaState) throws(LuaError) {
        if loadDeadline > 0 && server.clock.monotonicMillis() > loadDeadline {
            let t = L.newTable()
            L.rawSet(t, "err", .string(L.newString("ERR FUNCTION LOAD timeout")))
            throw L.abortError(value: .table(t))
        }
    }

    /// An array of strings (KEYS, ARGV).
    func array(_ items: ArraySlice<Bytes>) -> LuaValue {
        let t = L.newTable(narray: items.count)
        var i = 1
        for b in items {
            L.rawSet(t, int: i, .string(L.newString(b)))
            i += 1
        }
        return .table(t)
    }

    /// Sets KEYS and ARGV (EVAL's globals).
    func setKeysAndArgv(_ keys: ArraySlice<Bytes>, _ argv: ArraySlice<Bytes>) {
        L.setGlobal("KEYS", array(keys))
        L.setGlobal("ARGV", array(argv))
    }

    // MARK: - redis.call

    /// redis.call / redis.pcall: runs a command through `call()` and converts its reply.
    func redisCommand(_ L: LuaState, _ args: LuaArgs, raise: Bool) throws(LuaError) -> Int {
        guard let run = server.scriptRun, !inCall else {
            throw L.error(value: errorTable("redis.call/pcall can only be called inside a script invocation"))
        }
        guard args.count > 0 else {
            return try fail(errorTable("Please specify at least one argument for this redis lib call"), raise)
        }
        var argv: [Bytes] = []
        argv.reserveCapacity(args.count)
        for i in 1...args.count {
            switch args[i] {
            case .string(let s): argv.append(Array(s.buffer))
            case .number(let n): argv.append(LuaEngine.argumentBytes(n))
            default:
                return try fail(errorTable("Lua redis lib command arguments must be strings or integers"), raise)
            }
        }
        inCall = true
        defer { inCall = false }
        let sc = client
        sc.argv = argv
        sc.user = run.caller.user
        // A refusal is an error reply of the script's client (scriptCall's afterErrorReply): it
        // counts in total_error_replies and errorstats (by its code, ERR when it has none), the
        // refused command counts a rejected call, and the error the script sees is marked as
        // counted so that the caller's reply does not count it again.
        guard let ref = server.lookupCommand(argv[0]) else {
            server.countErrorReply(sc, "ERR Unknown Redis command called from script")
            server.errorMark = server.stats.totalErrorReplies
            return try fail(errorTable("Unknown Redis command called from script", ignoreStats: true), raise)
        }
        if let refusal = server.scriptCommandRefusal(run, sc, ref.spec) {
            server.countErrorReply(sc, refusal.hasPrefix("-") ? String(refusal.dropFirst()) : "ERR " + refusal)
            server.countRejected(sc, ref)
            return try fail(errorTable(refusal, ignoreStats: true), raise)
        }
        if ref.spec.flags.contains(.write) { run.writeDirty = true }
        let flags: CallFlags = run.replFlags == 0 ? [.stats, .monitor] : .full
        server.call(sc, ref, flags)
        var reply: Bytes = []
        swap(&reply, &sc.out.bytes)
        sc.argv = []
        let isError = reply.first == UInt8(ascii: "-")
        let v = reply.withUnsafeBufferPointer { buf -> LuaValue in
            var pos = 0
            return LuaReply.toLua(L, buf, &pos)
        }
        sc.out.bytes = reply
        sc.out.bytes.removeAll(keepingCapacity: true)
        if raise && isError { throw L.error(value: v) }
        L.push(v)
        return 1
    }

    private func fail(_ err: LuaValue, _ raise: Bool) throws(LuaError) -> Int {
        if raise { throw L.error(value: err) }
        L.push(err)
        return 1
    }

    /// A number argument as Redis sends it (%.17g: integers print without a fraction).
    static func argumentBytes(_ n: Double) -> Bytes {
        if n == n.rounded(.towardZero), abs(n) < 9.007199254740992e15 { return Bytes(String(Int(n)).utf8) }
        return Bytes(NumberFormat.printf("%.17g", n).utf8)
    }

    /// {err="CODE message"} from "-CODE message" or "message" (luaPushErrorBuff).
    func errorTable(_ text: String, ignoreStats: Bool = false) -> LuaValue {
        LuaReply.errorTable(L, Array(text.utf8), ignoreStats: ignoreStats)
    }
}

// EVAL's script cache and the running of EVAL/EVALSHA scripts and FCALL functions (eval.c,
// script.c): a script compiles once per body (keyed by its SHA-1), runs with KEYS/ARGV, its
// commands go through `call()` as the engine's client, and what they change propagates as their
// own commands (effects replication: wrapped in MULTI/EXEC when more than one), never as the EVAL.
import Lua
import Shared

/// A script in EVAL's cache.
struct EvalScript {
    let body: Bytes
    let flags: ScriptFlags
    /// The compiled function (a registry ref of the EVAL engine).
    let ref: Int
}

/// The scripting subsystem: EVAL's engine and cache, FUNCTION's engine and libraries.
final class Scripting {
    unowned let server: Server
    private var evalEngineStorage: LuaEngine? = nil
    private var functionEngineStorage: LuaEngine? = nil
    /// sha (40 lower-case hex digits) -> script.
    private(set) var scripts: [Bytes: EvalScript] = [:]
    /// Bytes of the cached bodies (INFO used_memory_scripts_eval).
    private(set) var scriptsMemory = 0
    /// FUNCTION's libraries and functions.
    var functions = FunctionStore()

    init(server: Server) { self.server = server }

    /// EVAL's interpreter, made on first use (SCRIPT FLUSH drops it).
    var evalEngine: LuaEngine {
        if let e = evalEngineStorage { return e }
        let e = LuaEngine(server: server, forFunctions: false)
        evalEngineStorage = e
        return e
    }

    /// FUNCTION's interpreter, made on first use (FUNCTION FLUSH drops it).
    var functionEngine: LuaEngine {
        if let e = functionEngineStorage { return e }
        let e = LuaEngine(server: server, forFunctions: true)
        functionEngineStorage = e
        return e
    }

    /// Memory of the EVAL interpreter (0 before its first use, as a fresh Lua's is small).
    var evalEngineMemory: Int { evalEngineStorage?.usedMemory ?? 0 }
    var functionEngineMemory: Int { functionEngineStorage?.usedMemory ?? 0 }

    // MARK: - EVAL's cache

    /// SCRIPT FLUSH: a new interpreter, an empty cache.
    func flushScripts() {
        evalEngineStorage = nil
        scripts = [:]
        scriptsMemory = 0
    }

    /// Drops FUNCTION's interpreter (after FUNCTION FLUSH or a failed restore).
    func resetFunctionEngine() {
        functionEngineStorage = nil
    }

    /// Takes FUNCTION's interpreter out (a new one is made on next use): FUNCTION RESTORE loads
    /// into a fresh one and puts the old one back if the payload fails.
    func takeFunctionEngine() -> LuaEngine? {
        defer { functionEngineStorage = nil }
        return functionEngineStorage
    }

    func restoreFunctionEngine(_ e: LuaEngine?) { functionEngineStorage = e }

    func script(sha: Bytes) -> EvalScript? { scripts[LuaEngineText.lower(sha)] }

    /// Compiles and caches `body` (luaCreateFunction): returns its sha, or the error text.
    func createScript(_ body: Bytes) -> Result<Bytes, CommandError> {
        let sha = SHA1.hex(body)
        if scripts[sha] != nil { return .success(sha) }
        let shebang: (flags: ScriptFlags, length: Int)
        switch Scripting.shebangFlags(body) {
        case .failure(let e): return .failure(e)
        case .success(let s): shebang = s
        }
        let engine = evalEngine
        // The shebang line is skipped but its newline kept, so line numbers stay the user's.
        let source = Array(body[shebang.length...])
        let fn: LuaFunction
        do {
            fn = try engine.L.load(source, chunkName: "@user_script")
        } catch {
            return .failure(CommandError("ERR Error compiling script (new function): \(error.message)"))
        }
        let ref = engine.L.ref(.function(fn))
        scripts[sha] = EvalScript(body: body, flags: shebang.flags, ref: ref)
        scriptsMemory += body.count + 40
        return .success(sha)
    }

    /// The flags of a `#!lua flags=...` first line and its length (evalExtractShebangFlags);
    /// no shebang: Redis 6 compatibility.
    static func shebangFlags(_ body: Bytes) -> Result<(flags: ScriptFlags, length: Int), CommandError> {
        guard body.count >= 2, body[0] == UInt8(ascii: "#"), body[1] == UInt8(ascii: "!") else {
            return .success((.evalCompat, 0))
        }
        guard let end = body.firstIndex(of: 10) else { return .failure(CommandError("ERR Invalid script shebang")) }
        guard let parts = ArgSplitter.split(body[..<end]), !parts.isEmpty else {
            return .failure(CommandError("ERR Invalid engine in script shebang"))
        }
        let engine = String(decoding: parts[0], as: UTF8.self)
        guard engine == "#!lua" else { return .failure(CommandError("ERR Unexpected engine in script shebang: \(engine)")) }
        var flags: ScriptFlags = []
        for p in parts.dropFirst() {
            let text = String(decoding: p, as: UTF8.self)
            guard text.hasPrefix("flags=") else {
                return .failure(CommandError("ERR Unknown lua shebang option: \(text)"))
            }
            // `flags=` alone declares no flags (sdssplitlen of nothing is no parts).
            let list = text.dropFirst(6)
            for name in list.split(separator: ",", omittingEmptySubsequences: false) where !list.isEmpty {
                guard let f = ScriptFlags.names.first(where: { $0.0 == name }) else {
                    return .failure(CommandError("ERR Unexpected flag in script shebang: \(name)"))
                }
                flags.insert(f.1)
            }
        }
        return .success((flags, end))
    }

    // MARK: - The command flags of EVAL and FCALL

    /// EVAL/EVALSHA/FCALL(_RO) take their write, deny-oom and stale traits from the script's
    /// flags (evalGetCommandFlags, fcallGetCommandFlags, scriptFlagsToCmdFlags), so processCommand
    /// refuses a writing script on a read-only replica or under OOM with the plain command's
    /// error. A script without a shebang (Redis 6 mode), an unknown sha or function, or a bad
    /// shebang keeps the command's own flags (the error comes from the command itself).
    func commandFlags(_ c: Client, _ name: String, _ cmdFlags: CommandFlags) -> CommandFlags {
        guard c.argc >= 2 else { return cmdFlags }
        let scriptFlags: ScriptFlags
        switch name {
        case "eval", "eval_ro":
            let body = c.arg(1)
            // No shebang: compatibility mode, nothing to look up (and no SHA-1 to compute).
            guard body.count >= 2, body[0] == UInt8(ascii: "#"), body[1] == UInt8(ascii: "!"),
                  case .success(let s) = Scripting.shebangFlags(body) else { return cmdFlags }
            scriptFlags = s.flags
        case "evalsha", "evalsha_ro":
            guard c.arg(1).count == 40, let s = script(sha: c.arg(1)) else { return cmdFlags }
            scriptFlags = s.flags
        case "fcall", "fcall_ro":
            guard let f = functions.functions[String(decoding: c.arg(1), as: UTF8.self).lowercased()] else { return cmdFlags }
            scriptFlags = f.flags
        case "function":
            // Redis's function|load and function|restore are deny-oom: a library takes memory.
            let sub = c.option(1)
            return sub == "LOAD" || sub == "RESTORE" ? cmdFlags.union(.denyOOM) : cmdFlags
        default:
            return cmdFlags
        }
        if scriptFlags.contains(.evalCompat) { return cmdFlags }
        var flags = cmdFlags
        flags.remove([.stale, .denyOOM, .write, .mayReplicate])
        if scriptFlags.isDisjoint(with: [.allowOOM, .noWrites]) { flags.insert(.denyOOM) }
        if !scriptFlags.contains(.noWrites) { flags.insert(.write) }
        if scriptFlags.contains(.allowStale) { flags.insert(.stale) }
        return flags
    }

    // MARK: - Running

    /// Runs a compiled function for `c`: the checks of scriptPrepareForRun, the run, the reply.
    /// `eval` selects the run's kind (SCRIPT KILL vs FUNCTION KILL, KEYS/ARGV as globals).
    func run(_ c: Client, engine: LuaEngine, function: LuaValue, flags: ScriptFlags, name: String, eval: Bool,
             readOnlyCommand: Bool, keys: ArraySlice<Bytes>, args: ArraySlice<Bytes>) {
        if let refusal = server.scriptPrepareRefusal(c, flags: flags, readOnlyCommand: readOnlyCommand) {
            server.replyError(c, refusal)
            return
        }
        let compat = flags.contains(.evalCompat)
        let run = ScriptRun(caller: c, isEval: eval, name: name,
                            readOnly: readOnlyCommand || (!compat && flags.contains(.noWrites)),
                            allowOOM: !compat && flags.contains(.allowOOM),
                            obey: !c.flags.isDisjoint(with: [.master, .aofLoader]),
                            startedAt: server.clock.monotonicMillis(), timeSnapshot: server.clock.wallMillis())
        let sc = engine.client
        sc.db = c.db
        sc.out.proto = 2
        server.scriptRun = run
        let result: Result<LuaValue, LuaError>
        if eval {
            engine.setKeysAndArgv(keys, args)
            result = engine.invoke(function, [], run: run)
        } else {
            result = engine.invoke(function, [engine.array(keys), engine.array(args)], run: run)
        }
        switch result {
        case .success(let v):
            LuaReply.write(engine.L, v, to: &c.out, scriptResp: sc.out.proto) { [unowned self] message, counted in
                self.countScriptError(c, message, alreadyCounted: counted)
            }
        case .failure(let e):
            replyError(c, e, name: name, engine: engine)
        }
        server.scriptRun = nil
        sc.out.bytes.removeAll(keepingCapacity: true)
        // Scripts' garbage does not outlive them for long: a small collection every 50 runs
        // (Redis steps its collector as often), a full one past the collector's threshold.
        engine.runs &+= 1
        if engine.runs % 50 == 0 && engine.L.totalBytes > 48 * 1024 { engine.L.collectGarbage() } else { engine.L.collectIfNeeded() }
        if run.timedOut { server.scriptBusyEnded() }
        // The script's commands propagated themselves; the EVAL/FCALL never does.
        server.propagateAs(commands: [])
    }

    /// The error reply of a failed run (luaCallFunction): the error table's `err`, then
    /// " script: <name>, on <source>:<line>." when the handler found where.
    private func replyError(_ c: Client, _ e: LuaError, name: String, engine: LuaEngine) {
        let L = engine.L
        guard case .table(let t) = e.value else {
            let msg = e.value.stringValue?.string ?? "execution failure"
            server.replyError(c, "ERR Error running script \(name), \(String(msg.prefix(100)))")
            return
        }
        var text: [UInt8] = []
        var source: [UInt8]? = nil, line: [UInt8]? = nil
        if case .string(let s) = t.get(string: L.newString("err")) { text = Array(s.buffer) }
        switch t.get(string: L.newString("source")) {
        case .string(let s): source = Array(s.buffer)
        case .number(let n): source = Array(LuaEngine.numberText(n).utf8)
        default: break
        }
        switch t.get(string: L.newString("line")) {
        case .string(let s): line = Array(s.buffer)
        case .number(let n): line = Array(LuaEngine.numberText(n).utf8)
        default: break
        }
        if let source, let line {
            text += Array(" script: \(name), on ".utf8) + source + [UInt8(ascii: ":")] + line + [UInt8(ascii: ".")]
        }
        for i in text.indices where text[i] == 13 || text[i] == 10 { text[i] = 32 }
        let counted = !t.get(string: L.newString("ignore_error_stats_update")).isFalsy
        countScriptError(c, text, alreadyCounted: counted)
        c.out.raw([UInt8(ascii: "-")] + text + [13, 10])
    }

    /// An error the script ends with (raised or returned) goes to the caller. One that came from
    /// a command the script ran was counted then; it only marks the EVAL/FCALL as failed
    /// (ERR_REPLY_FLAG_NO_STATS_UPDATE). Any other is counted by its code as a normal error.
    func countScriptError(_ c: Client, _ message: [UInt8], alreadyCounted: Bool) {
        if alreadyCounted {
            server.lookupCommand(c.argv[0])?.spec.stat(for: c.argv).failedCalls += 1
        } else {
            server.countErrorReply(c, String(decoding: message, as: UTF8.self))
        }
    }
}

extension Server {
    /// A script that passed busy-reply-threshold ended: the master's stream, held meanwhile,
    /// is read again.
    func scriptBusyEnded() {
        if let m = replication.link?.masterClient, m.conn != nil, !m.flags.contains(.unblocked) {
            m.flags.insert(.unblocked)
            unblockedClients.append(m)
        }
    }

    /// Which SCRIPT/FUNCTION subcommands run while a script is busy (Redis's ALLOW_BUSY on
    /// SCRIPT KILL, FUNCTION KILL and FUNCTION STATS).
    func scriptCommandAllowedWhileBusy(_ c: Client, _ name: String) -> Bool {
        guard c.argc >= 2 else { return false }
        switch name {
        case "script": return c.option(1) == "KILL"
        case "function": return c.option(1) == "KILL" || c.option(1) == "STATS"
        default: return false
        }
    }

    static let busyEvalError = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    static let busyFunctionError = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
}

/// Small text helpers.
enum LuaEngineText {
    /// ASCII lower case.
    static func lower(_ b: Bytes) -> Bytes { b.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } }
}

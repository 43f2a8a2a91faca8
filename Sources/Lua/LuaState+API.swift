// The embedding API: compile, call, globals, host functions, references, hooks.
//
// Lifetime rule for the host: a `LuaValue` returned by the API stays valid until the next call
// into Lua code or the next `collectGarbage()`. Keep values needed longer in the registry
// (`ref(_:)`) or in a table reachable from the globals.

extension LuaState {
    // MARK: - Compiling

    /// Compiles `source` into a function whose environment is the globals. The chunk name follows
    /// Lua's conventions: "@name" prints as "name:1:", "=name" as "name:1:", anything else as
    /// `[string "..."]:1:`. Syntax errors are thrown with kind `.syntax`.
    public func load(_ source: [UInt8], chunkName: String) throws(LuaError) -> LuaFunction {
        try source.withUnsafeBufferPointer { (buf) throws(LuaError) -> LuaFunction in
            try load(buf, chunkName: newString(chunkName))
        }
    }

    /// Compiles a chunk given as text.
    public func load(_ source: String, chunkName: String) throws(LuaError) -> LuaFunction {
        try load(Array(source.utf8), chunkName: chunkName)
    }

    func load(_ source: UnsafeBufferPointer<UInt8>, chunkName: LuaString) throws(LuaError) -> LuaFunction {
        let savedNC = nCcalls
        let entered = enterNative()
        defer {
            nCcalls = savedNC
            leaveNative(entered)
        }
        // A precompiled chunk starts with ESC: Redis refuses bytecode, so the parser sees it as text.
        let parser = Parser(state: self, source: source, chunkName: chunkName)
        let proto = try parser.parseChunk()
        return newLuaClosure(proto, env: current.pointee.env)
    }

    // MARK: - Calling

    /// Calls `f` with `args` in protected mode and returns its results (`nresults`, or all for -1).
    /// On error the stack is restored and the error thrown; `errorHandler` (a function) is called
    /// with the error value before unwinding, and its result becomes the error value.
    @discardableResult
    public func call(_ f: LuaValue, _ args: [LuaValue] = [], nresults: Int = -1,
                     errorHandler: LuaValue? = nil) throws(LuaError) -> [LuaValue] {
        let th = current
        let entered = enterNative()
        let outermost = entered
        defer {
            leaveNative(entered)
            if outermost {
                aborting = nil
                hookCounter = hookInterval > 0 ? hookInterval : Int.max
                shrinkStacks(th)
            }
        }
        checkStack(th, args.count + 1)
        let fn = th.pointee.top
        push(f)
        for a in args { push(a) }
        if let err = try protectedCall(fn, nresults, handler: errorHandler) { throw err }
        let results = Array(UnsafeBufferPointer(start: th.pointee.stack + fn, count: th.pointee.top - fn))
        th.pointee.top = fn
        return results
    }

    /// Compiles and runs `source`, returning its results (a convenience for tests and tools).
    @discardableResult
    public func run(_ source: String, chunkName: String = "=(run)") throws(LuaError) -> [LuaValue] {
        let f = try load(source, chunkName: chunkName)
        return try call(.function(f))
    }

    /// Calls the value at stack index `fn` from a native (arguments above it), unprotected:
    /// errors propagate to the native's caller. Leaves `nresults` results from `fn`.
    public func callFromNative(_ fn: Int, nresults: Int) throws(LuaError) {
        try call(fn, nresults)
    }

    /// Calls the value at stack index `fn` from a native, protected (lua_pcall); returns the error
    /// or nil. Host aborts are not caught. On error the stack top is `fn`.
    public func protectedCallFromNative(_ fn: Int, nresults: Int, handler: LuaValue? = nil) throws(LuaError) -> LuaError? {
        try protectedCall(fn, nresults, handler: handler)
    }

    /// The running thread's stack top (one past the last value), for natives that call back.
    public var stackTop: Int { top }

    /// Inserts `v` at stack index `fn`, moving the values from `fn` to the top up by one
    /// (a pcall's `true` before its results).
    public func insertBelowResults(_ fn: Int, _ v: LuaValue) {
        push(.nil)
        let stack = current.pointee.stack
        var j = top - 1
        while j > fn {
            stack[j] = stack[j - 1]
            j -= 1
        }
        stack[fn] = v
    }

    // MARK: - Globals and host functions

    /// Reads a global (raw).
    public func global(_ name: String) -> LuaValue {
        globals.get(string: newString(name))
    }

    /// Sets a global (raw: ignores metatables and read-only protection; the host's privilege).
    public func setGlobal(_ name: String, _ v: LuaValue) {
        tableSlot(globals, string: newString(name)).pointee = v
    }

    /// Makes `t` the globals of the main thread (Redis's `lua_replace(L, LUA_GLOBALSINDEX)`):
    /// chunks loaded from now on run with it as their environment.
    public func replaceGlobals(_ t: LuaTable) {
        globals = t
        mainThread.pointee.env = t
    }

    /// Registers a native function as `table[name]` (raw).
    @discardableResult
    public func register(_ name: String, in table: LuaTable, _ fn: @escaping LuaNativeFunction) -> LuaFunction {
        let f = newFunction(fn)
        tableSlot(table, string: newString(name)).pointee = .function(f)
        return f
    }

    /// Registers a native function as a global.
    @discardableResult
    public func registerGlobal(_ name: String, _ fn: @escaping LuaNativeFunction) -> LuaFunction {
        register(name, in: globals, fn)
    }

    /// Sets (or removes) a table's metatable (raw; the host's privilege).
    public func setMetatable(_ t: LuaTable, _ mt: LuaTable?) {
        t.p.pointee.metatable = mt
    }

    /// Sets a userdata's metatable.
    public func setMetatable(_ u: LuaUserdata, _ mt: LuaTable?) {
        u.p.pointee.metatable = mt
    }

    /// Makes `t`, every table reachable from it and their metatables read-only (Redis's
    /// luaSetTableProtectionRecursively).
    public func makeReadonlyRecursively(_ t: LuaTable) {
        var work = [t]
        while let x = work.popLast() {
            if x.isReadonly { continue }
            x.isReadonly = true
            var key = LuaValue.nil
            while let (k, v) = try? next(x, after: key) {
                if case .table(let sub) = v { work.append(sub) }
                key = k
            }
            if let mt = x.metatable { work.append(mt) }
        }
    }

    // MARK: - References (values the host keeps across calls)

    /// Stores `v` in the registry and returns a handle for it (luaL_ref); nil is not stored (0).
    public func ref(_ v: LuaValue) -> Int {
        if v.isNil { return 0 }
        let free = registry.get(int: 0)
        let r: Int
        if case .number(let n) = free, n > 0 {
            r = Int(n)
            rawSet(registry, int: 0, registry.get(int: r))
        } else {
            r = registry.length + 1
        }
        rawSet(registry, int: r, v)
        return r
    }

    /// Releases a handle from `ref(_:)`.
    public func unref(_ r: Int) {
        guard r > 0 else { return }
        rawSet(registry, int: r, registry.get(int: 0))
        rawSet(registry, int: 0, .number(Double(r)))
    }

    /// The value behind a handle from `ref(_:)`.
    public func value(ref r: Int) -> LuaValue {
        r > 0 ? registry.get(int: r) : .nil
    }

    // MARK: - Hooks

    /// Calls `hook` every `instructions` ticks, a tick being a backward jump (each loop iteration)
    /// or a Lua function call: every unbounded computation ticks, and straight-line code, whose
    /// length the script bounds, does not pay for counting. The hook may run the host's event loop
    /// and may throw `abortError(...)` to stop the script: that error is not caught by `pcall`,
    /// and every further tick raises it again until the outermost `call` returns.
    public func setInstructionHook(every instructions: Int, _ hook: @escaping (LuaState) throws(LuaError) -> Void) {
        hookInterval = max(1, instructions)
        hookCounter = hookInterval
        self.hook = hook
    }

    /// Removes the instruction hook.
    public func removeInstructionHook() {
        hook = nil
        hookInterval = 0
        hookCounter = aborting == nil ? Int.max : 0
    }

    /// An error that aborts the running script (not catchable by `pcall`).
    public func abortError(_ message: String) -> LuaError {
        LuaError(.aborted, .string(newString(message)))
    }

    /// An aborting error carrying any value (for example a table the host understands).
    public func abortError(value: LuaValue) -> LuaError {
        LuaError(.aborted, value)
    }

    /// Collects when the heap passed the collector's threshold: a host calling many short chunks
    /// that never reach a safe point (no loop, no table store) still frees their garbage.
    public func collectIfNeeded() {
        if totalBytes > gcThreshold && !gcStopped { collectGarbage() }
    }

    /// Stops or restarts automatic collection (collectgarbage("stop"/"restart")).
    public var isCollectorStopped: Bool {
        get { gcStopped }
        set { gcStopped = newValue }
    }
}

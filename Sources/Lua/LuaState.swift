// The interpreter state: heap, threads, globals, registry, hooks and limits. One long-lived state
// per host; every allocation goes through it so the collector sees every object.

/// Metamethod events, in Lua 5.1's order (the first five are cached per table in `flags`).
enum TagMethod: Int {
    case index, newindex, gc, mode, eq, add, sub, mul, div, mod, pow, unm, len, lt, le, concat, call

    static let names = ["__index", "__newindex", "__gc", "__mode", "__eq", "__add", "__sub", "__mul",
                        "__div", "__mod", "__pow", "__unm", "__len", "__lt", "__le", "__concat", "__call"]
}

/// A Lua 5.1 interpreter state.
public final class LuaState {
    // MARK: Heap lists (one per object kind; strings live in the intern table)
    var allTables: UnsafeMutablePointer<TableObject>?
    var allFunctions: UnsafeMutablePointer<FunctionObject>?
    var allUpvalues: UnsafeMutablePointer<UpvalueObject>?
    var allProtos: UnsafeMutablePointer<ProtoObject>?
    var allUserdata: UnsafeMutablePointer<UserdataObject>?
    var allThreads: UnsafeMutablePointer<ThreadObject>?

    // MARK: Intern table
    var stringBuckets: UnsafeMutablePointer<UnsafeMutablePointer<StringObject>?>
    var stringBucketCount: Int
    var stringCount = 0

    // MARK: Accounting
    /// Bytes held by live and not yet collected objects (an estimate of what C Lua would allocate).
    public internal(set) var totalBytes = 0
    /// A collection runs at the next safe point once `totalBytes` passes this.
    var gcThreshold = 1 << 20
    /// Collections performed so far.
    public internal(set) var collections = 0
    /// Bytes the script may use; 0 means unlimited. Past it, allocations raise "not enough memory".
    public var memoryLimit = 0
    var gcStopped = false
    /// Testing aid: collect at every safe point (finds values the collector cannot see).
    public var collectAtEverySafePoint = false {
        didSet { if collectAtEverySafePoint { gcThreshold = 0 } }
    }

    // MARK: Threads and calls
    let mainThread: UnsafeMutablePointer<ThreadObject>
    /// The running thread.
    var current: UnsafeMutablePointer<ThreadObject>
    /// Nesting of native → Lua calls (Lua's nCcalls): bounded so deep recursion through natives,
    /// metamethods or the parser raises an error instead of overflowing the native stack.
    var nCcalls = 0
    /// Maximum nesting of native calls (Lua's LUAI_MAXCCALLS).
    public var maxNativeDepth = 200
    /// Maximum number of active Lua frames per thread before "stack overflow" (Lua: ~16k).
    public var maxCallDepth = 16000
    /// Native stack bytes the interpreter may use below the outermost entry (parser nesting and
    /// native → Lua recursion raise "C stack overflow" / "too many syntax levels" past it).
    public var nativeStackBudget = 4 << 20
    var nativeStackFloor: UInt = 0

    // MARK: Roots
    /// The global table (`_G`).
    public internal(set) var globals: LuaTable
    /// A table only the host sees (Lua's registry): keep values the host needs across calls here.
    public internal(set) var registry: LuaTable
    /// Metatable shared by all strings (the string library sets `__index`).
    var stringMetatable: LuaTable?
    /// Interned metamethod names, indexed by `TagMethod`.
    var tmNames: [LuaString] = []
    /// Interned "n" for the compat `arg` table and "__metatable", "__tostring", "__mode" lookups.
    var nameN: LuaString! = nil
    var nameMetatable: LuaString! = nil
    var nameTostring: LuaString! = nil
    /// `type()` results, indexed by `LuaType.rawValue`.
    var typeNames: [LuaString] = []
    /// Where `print` writes (stdout when nil); Redis exposes no print.
    public var output: (([UInt8]) -> Void)?
    /// collectgarbage("setpause"/"setstepmul") values, reported back as Lua does.
    var gcPause = 200
    var gcStepMul = 200

    // MARK: Hooks
    /// Instructions between two calls of the instruction hook.
    var hookInterval = 0
    var hookCounter = Int.max
    var hook: ((LuaState) throws(LuaError) -> Void)?
    /// True once the hook aborted the running script: every further instruction aborts again, so
    /// `pcall` loops cannot swallow the abort (Redis re-arms its hook on every line for the same reason).
    var aborting: LuaError?

    /// Random state of `math.random` (Redis's deterministic redisLrand48).
    var randomState: UInt64 = 0x1234ABCD330E

    /// Creates a state with empty globals; open libraries with `openLibraries()`.
    public init() {
        stringBucketCount = 64
        stringBuckets = .allocate(capacity: 64)
        stringBuckets.initialize(repeating: nil, count: 64)
        // The globals and registry tables need the state to exist: build them with placeholders first.
        let placeholder = UnsafeMutablePointer<TableObject>.allocate(capacity: 1)
        globals = LuaTable(placeholder)
        registry = LuaTable(placeholder)
        mainThread = UnsafeMutablePointer<ThreadObject>.allocate(capacity: 1)
        current = mainThread
        placeholder.deallocate()
        let g = rawNewTable(narray: 0, nhash: 0)
        globals = g
        registry = rawNewTable(narray: 0, nhash: 0)
        initThread(mainThread, env: g)
        for name in TagMethod.names { tmNames.append(fixedString(name)) }
        for (i, word) in Token.reservedWords.enumerated() {
            let s = fixedString(word)
            s.p.pointee.reserved = UInt8(i + 1)
        }
        nameN = fixedString("n")
        nameMetatable = fixedString("__metatable")
        nameTostring = fixedString("__tostring")
        for t in ["no value", "nil", "boolean", "userdata", "number", "string", "table", "function", "userdata", "thread"] {
            typeNames.append(fixedString(t))
        }
    }

    deinit {
        freeAll()
    }

    /// A string that is never collected.
    func fixedString(_ s: String) -> LuaString {
        let str = newString(s)
        str.p.pointee.marked |= GCMark.fixed
        return str
    }

    // MARK: - Accounting

    /// Records `bytes` more (or fewer, when negative) bytes in use.
    @inline(__always) func account(_ bytes: Int) {
        totalBytes &+= bytes
    }

    /// Fails with "not enough memory" when allocating `bytes` more would pass the memory limit
    /// even after a collection. Natives call this before building large results (string.rep,
    /// table.concat, ...); it may collect, so the caller's Lua values must be on the stack.
    public func reserve(_ bytes: Int) throws(LuaError) {
        if memoryLimit > 0 && (bytes > memoryLimit || totalBytes + bytes > memoryLimit) {
            if !gcStopped { collectGarbage() }
            if totalBytes + bytes > memoryLimit { throw memoryError() }
        }
    }

    /// The error Lua raises when an allocation fails.
    func memoryError() -> LuaError {
        LuaError(.memory, .string(newString("not enough memory")))
    }

    /// Safe point: collects when the threshold is passed, then enforces the memory limit.
    /// Called only where every live value is reachable from a root (see the collector's notes).
    @inline(__always) func checkGC() throws(LuaError) {
        if totalBytes > gcThreshold { try collectAtSafePoint() }
    }

    @inline(never) func collectAtSafePoint() throws(LuaError) {
        if !gcStopped { collectGarbage() } else { gcThreshold = totalBytes + (1 << 20) }
        if memoryLimit > 0 && totalBytes > memoryLimit { throw memoryError() }
    }

    // MARK: - Threads

    func initThread(_ th: UnsafeMutablePointer<ThreadObject>, env: LuaTable) {
        let size = 45
        let stack = UnsafeMutablePointer<LuaValue>.allocate(capacity: size)
        stack.initialize(repeating: .nil, count: size)
        let cis = UnsafeMutablePointer<CallInfo>.allocate(capacity: 8)
        cis[0] = CallInfo(funcIndex: 0, base: 1, top: 1 + 20, savedPC: 0, nresults: 0, tailcalls: 0)
        th.initialize(to: ThreadObject(gcNext: nil, stack: stack, stackSize: size, top: 1, highWater: 1,
                                       cis: cis, ciSize: 8, ci: 0, openUpvalues: nil, status: .ok,
                                       baseCcalls: 0, env: env, marked: 0))
        account(MemoryLayout<ThreadObject>.stride + size * 16 + 8 * MemoryLayout<CallInfo>.stride)
    }

    /// A new coroutine with its own stacks, sharing the globals.
    func newThread() -> LuaThread {
        let th = UnsafeMutablePointer<ThreadObject>.allocate(capacity: 1)
        initThread(th, env: current.pointee.env)
        th.pointee.gcNext = allThreads
        allThreads = th
        return LuaThread(th)
    }

    func freeThreadStorage(_ th: UnsafeMutablePointer<ThreadObject>) {
        account(-(MemoryLayout<ThreadObject>.stride + th.pointee.stackSize * 16 + th.pointee.ciSize * MemoryLayout<CallInfo>.stride))
        th.pointee.stack.deallocate()
        th.pointee.cis.deallocate()
    }

    /// Makes room for `n` more values above the thread's top (Lua's luaD_checkstack).
    @inline(__always) func checkStack(_ th: UnsafeMutablePointer<ThreadObject>, _ n: Int) {
        if th.pointee.top + n + 5 > th.pointee.stackSize { growStack(th, n) }
    }

    @inline(never) func growStack(_ th: UnsafeMutablePointer<ThreadObject>, _ n: Int) {
        let old = th.pointee.stack
        let oldSize = th.pointee.stackSize
        let newSize = max(oldSize * 2, th.pointee.top + n + 45)
        let stack = UnsafeMutablePointer<LuaValue>.allocate(capacity: newSize)
        stack.moveInitialize(from: old, count: oldSize)
        (stack + oldSize).initialize(repeating: .nil, count: newSize - oldSize)
        old.deallocate()
        th.pointee.stack = stack
        th.pointee.stackSize = newSize
        account((newSize - oldSize) * 16)
        var uv = th.pointee.openUpvalues
        while let u = uv {
            u.pointee.v = stack + u.pointee.stackIndex
            uv = u.pointee.openNext
        }
    }

    /// Pushes a new activation record, failing with "stack overflow" past `maxCallDepth`.
    @inline(__always) func pushCallInfo(_ th: UnsafeMutablePointer<ThreadObject>) throws(LuaError) -> Int {
        let ci = th.pointee.ci + 1
        if ci >= th.pointee.ciSize { try growCallInfo(th) }
        th.pointee.ci = ci
        return ci
    }

    @inline(never) func growCallInfo(_ th: UnsafeMutablePointer<ThreadObject>) throws(LuaError) {
        // As Lua's growCI: past the limit plus the handler's room is an error in error handling;
        // reaching the limit grows once more (room for handlers) and raises "stack overflow".
        if th.pointee.ciSize > maxCallDepth {
            throw LuaError(.errorHandler, .string(newString("error in error handling")))
        }
        if th.pointee.ciSize == maxCallDepth {
            reallocCallInfo(th, maxCallDepth + 200)
            throw runtimeError("stack overflow")
        }
        reallocCallInfo(th, min(th.pointee.ciSize * 2, maxCallDepth))
    }

    /// After an error is caught or the outermost call returns: give back the room a stack
    /// overflow took, so the next overflow is detected again (Lua's restore_stack_limit).
    func restoreStackLimit(_ th: UnsafeMutablePointer<ThreadObject>) {
        if th.pointee.ciSize > maxCallDepth && th.pointee.ci + 1 < maxCallDepth {
            let cis = UnsafeMutablePointer<CallInfo>.allocate(capacity: maxCallDepth)
            cis.moveInitialize(from: th.pointee.cis, count: th.pointee.ci + 1)
            th.pointee.cis.deallocate()
            account((maxCallDepth - th.pointee.ciSize) * MemoryLayout<CallInfo>.stride)
            th.pointee.cis = cis
            th.pointee.ciSize = maxCallDepth
        }
    }

    /// Shrinks a thread's stacks after deep recursion (only when nothing runs on them).
    func shrinkStacks(_ th: UnsafeMutablePointer<ThreadObject>) {
        guard th.pointee.ci == 0 else { return }
        if th.pointee.ciSize > 64 {
            let cis = UnsafeMutablePointer<CallInfo>.allocate(capacity: 8)
            cis.moveInitialize(from: th.pointee.cis, count: 1)
            th.pointee.cis.deallocate()
            account((8 - th.pointee.ciSize) * MemoryLayout<CallInfo>.stride)
            th.pointee.cis = cis
            th.pointee.ciSize = 8
        }
        let used = th.pointee.top
        if th.pointee.stackSize > 4096 && used < 1024 && th.pointee.openUpvalues == nil {
            let size = 1024 + 45
            let stack = UnsafeMutablePointer<LuaValue>.allocate(capacity: size)
            stack.moveInitialize(from: th.pointee.stack, count: used)
            (stack + used).initialize(repeating: .nil, count: size - used)
            th.pointee.stack.deallocate()
            account((size - th.pointee.stackSize) * 16)
            th.pointee.stack = stack
            th.pointee.stackSize = size
            th.pointee.highWater = min(th.pointee.highWater, used)
        }
    }

    func reallocCallInfo(_ th: UnsafeMutablePointer<ThreadObject>, _ size: Int) {
        guard size > th.pointee.ciSize else { return }
        let cis = UnsafeMutablePointer<CallInfo>.allocate(capacity: size)
        cis.moveInitialize(from: th.pointee.cis, count: th.pointee.ciSize)
        th.pointee.cis.deallocate()
        account((size - th.pointee.ciSize) * MemoryLayout<CallInfo>.stride)
        th.pointee.cis = cis
        th.pointee.ciSize = size
    }

    // MARK: - Stack access for natives and the host

    /// Pushes a value on the running thread's stack.
    @inline(__always) public func push(_ v: LuaValue) {
        let th = current
        if th.pointee.top + 1 >= th.pointee.stackSize { growStack(th, 1) }
        th.pointee.stack[th.pointee.top] = v
        th.pointee.top += 1
        if th.pointee.top > th.pointee.highWater { th.pointee.highWater = th.pointee.top }
    }

    /// Index one past the last value of the running thread's stack.
    @inline(__always) var top: Int {
        get { current.pointee.top }
        set {
            current.pointee.top = newValue
            if newValue > current.pointee.highWater { current.pointee.highWater = newValue }
        }
    }

    /// Value at an absolute stack index of the running thread.
    @inline(__always) subscript(stack i: Int) -> LuaValue {
        get { current.pointee.stack[i] }
        set { current.pointee.stack[i] = newValue }
    }
}

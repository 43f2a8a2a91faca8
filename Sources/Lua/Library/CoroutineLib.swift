// The coroutine library (part of lbaselib.c). Coroutines are stackless: a yield returns from the
// interpreter loop with the coroutine's frames kept in its own call stack, so, as in Lua 5.1,
// a yield may not cross a native call (pcall, metamethods, sort comparators...).

extension LuaState {
    func openCoroutine() {
        registerLibrary("coroutine", [
            ("create", LuaState.cocreate), ("resume", LuaState.coresume), ("running", LuaState.corunning),
            ("status", LuaState.costatusLib), ("wrap", LuaState.cowrap), ("yield", LuaState.coyield),
        ])
    }

    enum CoroutineStatus: Int {
        case running, suspended, normal, dead
        var name: String { ["running", "suspended", "normal", "dead"][rawValue] }
    }

    func coroutineStatus(_ co: UnsafeMutablePointer<ThreadObject>) -> CoroutineStatus {
        if current == co { return .running }
        switch co.pointee.status {
        case .yielded: return .suspended
        case .ok:
            if co.pointee.ci > 0 { return .normal }
            if co.pointee.top == co.pointee.cis[0].base { return .dead }
            return .suspended
        case .dead: return .dead
        }
    }

    /// Resumes `co` with `nargs` values taken from the top of the running thread. On success the
    /// yielded or returned values are pushed on the running thread and their count returned; on
    /// error the error value is pushed and nil returned (auxresume).
    func resumeCoroutine(_ co: UnsafeMutablePointer<ThreadObject>, nargs: Int) throws(LuaError) -> Int? {
        let L = current
        let status = coroutineStatus(co)
        if status != .suspended {
            L.pointee.top -= nargs
            push(.string(newString("cannot resume \(status.name) coroutine")))
            return nil
        }
        // Move the arguments.
        checkStack(co, nargs + 1)
        let from = L.pointee.top - nargs
        for i in 0..<nargs { co.pointee.stack[co.pointee.top + i] = L.pointee.stack[from + i] }
        co.pointee.top += nargs
        if co.pointee.top > co.pointee.highWater { co.pointee.highWater = co.pointee.top }
        L.pointee.top = from
        if nCcalls >= maxNativeDepth {
            push(.string(newString("C stack overflow")))
            return nil
        }
        let savedNC = nCcalls
        nCcalls += 1
        co.pointee.baseCcalls = nCcalls
        current = co
        do {
            let firstArg = co.pointee.top - nargs
            if co.pointee.status == .ok {
                if try precall(firstArg - 1, -1) == .lua { try execute(entry: 1) }
            } else {
                co.pointee.status = .ok
                if postcall(co, firstArg) { co.pointee.top = co.pointee.cis[co.pointee.ci].top }
                if co.pointee.ci > 0 { try execute(entry: 1) }
            }
        } catch {
            current = L
            nCcalls = savedNC
            if error.kind == .aborted { throw error }
            co.pointee.status = .dead
            push(error.value)
            return nil
        }
        current = L
        nCcalls = savedNC
        // Yielded values sit above the yield's frame base; returned values above the base record.
        let first = co.pointee.status == .yielded ? co.pointee.cis[co.pointee.ci].base : co.pointee.cis[0].base
        let nres = co.pointee.top - first
        checkStack(L, nres + 1)
        for i in 0..<nres { push(co.pointee.stack[first + i]) }
        co.pointee.top = first
        return nres
    }

    static func cocreate(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        guard case .function(let f) = args[1], !f.isNative else { throw L.argError(1, "Lua function expected") }
        let co = L.newThread()
        co.p.pointee.stack[co.p.pointee.top] = args[1]
        co.p.pointee.top += 1
        co.p.pointee.highWater = max(co.p.pointee.highWater, co.p.pointee.top)
        L.push(.thread(co))
        return 1
    }

    static func coresume(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        guard case .thread(let co) = args[1] else { throw L.argError(1, "coroutine expected") }
        if let n = try L.resumeCoroutine(co.p, nargs: args.count - 1) {
            // Insert true before the n results.
            let stack = L.current.pointee.stack
            L.push(.nil)
            var j = L.top - 1
            while j > L.top - 1 - n {
                stack[j] = stack[j - 1]
                j -= 1
            }
            stack[L.top - 1 - n] = .bool(true)
            return n + 1
        }
        let err = L[stack: L.top - 1]
        L[stack: L.top - 1] = .bool(false)
        L.push(err)
        return 2
    }

    static func auxwrap(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        guard case .thread(let co) = L.nativeUpvalue(1) else { return 0 }
        if let n = try L.resumeCoroutine(co.p, nargs: args.count) { return n }
        var err = L[stack: L.top - 1]
        if case .string(let s) = err {
            err = .string(L.newString(L.whereBytes(1) + s.buffer))
        }
        throw LuaError(.runtime, err)
    }

    static func cowrap(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        _ = try cocreate(L, args)
        let co = L[stack: L.top - 1]
        L[stack: L.top - 1] = .function(L.newFunction(upvalues: [co], LuaState.auxwrap))
        return 1
    }

    static func coyield(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let th = L.current
        if L.nCcalls > th.pointee.baseCcalls { throw L.runtimeError("attempt to yield across metamethod/C-call boundary") }
        th.pointee.status = .yielded
        return LuaState.yieldSentinel
    }

    static func corunning(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        if L.current == L.mainThread { L.push(.nil) } else { L.push(.thread(LuaThread(L.current))) }
        return 1
    }

    static func costatusLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        guard case .thread(let co) = args[1] else { throw L.argError(1, "coroutine expected") }
        L.push(.string(L.newString(L.coroutineStatus(co.p).name)))
        return 1
    }
}

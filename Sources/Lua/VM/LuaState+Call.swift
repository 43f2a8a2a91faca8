// Calls (ldo.c): entering Lua and native functions, returning results, varargs, `__call`,
// protected calls, and the bounds that turn runaway recursion into Lua errors.

extension LuaState {
    enum PrecallResult { case lua, native, yielded }

    /// Sentinel a native returns to yield (only `coroutine.yield` does).
    static let yieldSentinel = -1

    // MARK: - Native stack guard

    /// Marks the native stack position of the outermost entry into the state; nested entries keep
    /// it. Deep recursion through natives is then bounded by `nativeStackBudget` bytes.
    @inline(__always) func enterNative() -> Bool {
        if nativeStackFloor != 0 { return false }
        var marker: UInt8 = 0
        let sp = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        nativeStackFloor = sp > UInt(nativeStackBudget) ? sp - UInt(nativeStackBudget) : 1
        return true
    }

    @inline(__always) func leaveNative(_ entered: Bool) {
        if entered { nativeStackFloor = 0 }
    }

    /// True when the native stack used since the outermost entry passed the budget.
    @inline(__always) func nativeStackExhausted() -> Bool {
        var marker: UInt8 = 0
        let sp = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        return nativeStackFloor != 0 && sp < nativeStackFloor
    }

    // MARK: - Calls

    /// Calls the function at stack index `fn` with the values above it as arguments, leaving
    /// `nresults` results (all for -1) from `fn` on (luaD_call). Counts native nesting.
    func call(_ fn: Int, _ nresults: Int) throws(LuaError) {
        nCcalls += 1
        if nCcalls >= maxNativeDepth || nativeStackExhausted() {
            if nCcalls >= maxNativeDepth + (maxNativeDepth >> 3) {
                throw LuaError(.errorHandler, .string(newString("error in error handling")))
            }
            if nCcalls == maxNativeDepth || nativeStackExhausted() { throw runtimeError("C stack overflow") }
        }
        if try precall(fn, nresults) == .lua {
            // A call from a native is a tick too (a native looping over Lua callbacks).
            hookCounter &-= 1
            if hookCounter < 0 { try hookTick() }
            try execute()
        }
        nCcalls -= 1
    }

    /// Replaces a non-function at `fn` by its `__call` metamethod, shifting the arguments up.
    func tryFuncTM(_ fn: Int) throws(LuaError) -> Int {
        let th = current
        let f = th.pointee.stack[fn]
        let tm = tagMethod(f, .call)
        guard case .function = tm else { throw typeError(f, "call", reg: fn - th.pointee.cis[th.pointee.ci].base) }
        checkStack(th, 1)
        let stack = th.pointee.stack
        var p = th.pointee.top
        while p > fn {
            stack[p] = stack[p - 1]
            p -= 1
        }
        top = th.pointee.top + 1
        stack[fn] = tm
        return fn
    }

    /// Sets up a call of the function at `fn0` (luaD_precall): Lua functions get a frame (run by
    /// `execute`), natives run here.
    @inline(__always)
    func precall(_ fn0: Int, _ nresults: Int) throws(LuaError) -> PrecallResult {
        let th = current
        var fn = fn0
        var fv = th.pointee.stack[fn]
        if case .function = fv {} else {
            fn = try tryFuncTM(fn)
            fv = th.pointee.stack[fn]
        }
        guard case .function(let f) = fv else { return .native }
        if let p = f.p.pointee.proto {
            let maxStack = Int(p.pointee.maxStackSize)
            checkStack(th, maxStack + Int(p.pointee.numParams))
            let base: Int
            if p.pointee.isVararg == 0 {
                base = fn + 1
                let limit = base + Int(p.pointee.numParams)
                if th.pointee.top > limit { th.pointee.top = limit }
            } else {
                base = adjustVarargs(th, p, th.pointee.top - fn - 1)
            }
            let ci = try pushCallInfo(th)
            let ciTop = base + maxStack
            th.pointee.cis[ci] = CallInfo(funcIndex: fn, base: base, top: ciTop, savedPC: 0,
                                          nresults: Int32(nresults), tailcalls: 0)
            let stack = th.pointee.stack
            var st = th.pointee.top
            while st < ciTop {
                stack[st] = .nil
                st += 1
            }
            th.pointee.top = ciTop
            if ciTop > th.pointee.highWater { th.pointee.highWater = ciTop }
            return .lua
        }
        checkStack(th, 20)
        let ci = try pushCallInfo(th)
        th.pointee.cis[ci] = CallInfo(funcIndex: fn, base: fn + 1, top: th.pointee.top + 20, savedPC: 0,
                                      nresults: Int32(nresults), tailcalls: 0)
        let native = f.p.pointee.native!
        let n = try native(self, LuaArgs(state: self, base: fn + 1, count: th.pointee.top - fn - 1))
        if n < 0 { return .yielded }
        // Safe point: the results are on the stack below top.
        if totalBytes > gcThreshold { try collectAtSafePoint() }
        _ = postcall(th, th.pointee.top - n)
        return .native
    }

    /// Moves results to where the function was and pops its frame (luaD_poscall).
    /// Returns false when the caller wanted all results (top marks their end).
    @inline(__always)
    func postcall(_ th: UnsafeMutablePointer<ThreadObject>, _ firstResult0: Int) -> Bool {
        let ci = th.pointee.ci
        th.pointee.ci = ci - 1
        var res = th.pointee.cis[ci].funcIndex
        let wanted = Int(th.pointee.cis[ci].nresults)
        let stack = th.pointee.stack
        var firstResult = firstResult0
        let top = th.pointee.top
        var i = wanted
        while i != 0 && firstResult < top {
            stack[res] = stack[firstResult]
            res += 1
            firstResult += 1
            i -= 1
        }
        while i > 0 {
            stack[res] = .nil
            res += 1
            i -= 1
        }
        th.pointee.top = res
        return wanted != -1
    }

    /// Moves fixed parameters above the varargs and builds the compat `arg` table (adjust_varargs).
    func adjustVarargs(_ th: UnsafeMutablePointer<ThreadObject>, _ p: UnsafeMutablePointer<ProtoObject>, _ actual0: Int) -> Int {
        let nfix = Int(p.pointee.numParams)
        var actual = actual0
        let stack = th.pointee.stack
        while actual < nfix {
            stack[th.pointee.top] = .nil
            th.pointee.top += 1
            actual += 1
        }
        var htab: LuaTable? = nil
        if p.pointee.isVararg & VarargFlags.needsArg != 0 {
            let nvar = actual - nfix
            let t = rawNewTable(narray: nvar, nhash: 1)
            for i in 0..<nvar { rawSet(t, int: i + 1, stack[th.pointee.top - nvar + i]) }
            tableSlot(t, string: nameN).pointee = .number(Double(nvar))
            htab = t
        }
        let fixed = th.pointee.top - actual
        let base = th.pointee.top
        for i in 0..<nfix {
            stack[th.pointee.top] = stack[fixed + i]
            th.pointee.top += 1
            stack[fixed + i] = .nil
        }
        if let htab {
            stack[th.pointee.top] = .table(htab)
            th.pointee.top += 1
        }
        if th.pointee.top > th.pointee.highWater { th.pointee.highWater = th.pointee.top }
        return base
    }

    // MARK: - Protected calls

    /// Calls the function at `fn` protected (lua_pcall). On error the stack is unwound to `fn`,
    /// frames are popped, open upvalues closed, and the error (passed through `handler`, called
    /// before unwinding so it can inspect the failing frame) is returned. Aborts are rethrown.
    func protectedCall(_ fn: Int, _ nresults: Int, handler: LuaValue? = nil) throws(LuaError) -> LuaError? {
        let th = current
        let savedCI = th.pointee.ci
        let savedNC = nCcalls
        do {
            try call(fn, nresults)
            return nil
        } catch {
            var err = error
            if err.kind == .aborted {
                restoreAfterError(th, savedCI, savedNC, fn)
                throw err
            }
            if let h = handler, err.kind != .errorHandler {
                err = callErrorHandler(th, h, err)
                if err.kind == .aborted {
                    restoreAfterError(th, savedCI, savedNC, fn)
                    throw err
                }
            }
            restoreAfterError(th, savedCI, savedNC, fn)
            return err
        }
    }

    /// Runs an xpcall handler on the error value at the point of the error (luaG_errormsg).
    func callErrorHandler(_ th: UnsafeMutablePointer<ThreadObject>, _ h: LuaValue, _ err: LuaError) -> LuaError {
        current = th
        let ci = th.pointee.ci
        if ci > 0 && th.pointee.top < th.pointee.cis[ci].top { top = th.pointee.cis[ci].top }
        checkStack(th, 2)
        let f = th.pointee.top
        push(h)
        push(err.value)
        do {
            try call(f, 1)
            return LuaError(err.kind, th.pointee.stack[th.pointee.top - 1])
        } catch {
            if error.kind == .aborted { return error }
            return LuaError(.errorHandler, .string(newString("error in error handling")))
        }
    }

    func restoreAfterError(_ th: UnsafeMutablePointer<ThreadObject>, _ ci: Int, _ nc: Int, _ fn: Int) {
        current = th
        closeUpvalues(th, fn)
        th.pointee.ci = ci
        nCcalls = nc
        th.pointee.top = fn
        restoreStackLimit(th)
    }
}

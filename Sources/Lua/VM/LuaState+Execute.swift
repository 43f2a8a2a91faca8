// The interpreter loop (lvm.c's luaV_execute). Lua-to-Lua calls and returns stay in this loop
// (no native recursion), so Lua recursion depth is bounded only by `maxCallDepth`. Registers are
// reached through a raw pointer re-derived after anything that may grow the stack.

@inline(__always) private func rk(_ base: UnsafeMutablePointer<LuaValue>, _ k: UnsafeMutablePointer<LuaValue>, _ x: Int) -> LuaValue {
    x & 256 != 0 ? k[x & 255] : base[x]
}

@inline(__always) private func num(_ v: LuaValue) -> Double {
    if case .number(let d) = v { return d }
    return 0
}

extension LuaState {
    /// Called when the instruction counter runs out: runs the host's hook (which may abort).
    @inline(never) func hookTick() throws(LuaError) {
        if let e = aborting {
            hookCounter = 0
            throw e
        }
        hookCounter = hookInterval > 0 ? hookInterval : Int.max
        if let h = hook {
            do {
                try h(self)
            } catch {
                if error.kind == .aborted {
                    aborting = error
                    hookCounter = 0
                }
                throw error
            }
        }
    }

    /// Runs the Lua frame on top of the running thread until the frame at `entry` (default: the
    /// top one) returns, or the thread yields.
    func execute(entry: Int? = nil) throws(LuaError) {
        let th = current
        let entryCI = entry ?? th.pointee.ci
        newFrame: while true {
            let ciIdx = th.pointee.ci
            var ci = th.pointee.cis + ciIdx
            guard case .function(let cl) = th.pointee.stack[ci.pointee.funcIndex], let proto = cl.p.pointee.proto else { return }
            let k = proto.pointee.constants
            let code = proto.pointee.code
            let ciBase = ci.pointee.base
            var base = th.pointee.stack + ciBase
            var pc = ci.pointee.savedPC
            while true {
                let i = code[pc]
                pc &+= 1
                let a = Int((i >> 6) & 0xFF)
                switch Instruction.op(i) {
                case .move:
                    base[a] = base[Int(i >> 23)]
                case .loadk:
                    base[a] = k[Int(i >> 14)]
                case .loadbool:
                    base[a] = .bool(i >> 23 != 0)
                    if (i >> 14) & 0x1FF != 0 { pc += 1 }
                case .loadnil:
                    var r = Int(i >> 23)
                    while r >= a {
                        base[r] = .nil
                        r -= 1
                    }
                case .getupval:
                    base[a] = cl.p.pointee.upvalues![Int(i >> 23)].pointee.v.pointee
                case .getglobal:
                    let key = k[Int(i >> 14)]
                    let env = cl.p.pointee.env
                    if case .string(let s) = key {
                        let v = env.get(string: s)
                        if !v.isNil || env.p.pointee.metatable == nil {
                            base[a] = v
                            continue
                        }
                    }
                    ci.pointee.savedPC = pc
                    let v = try index(.table(env), key)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .gettable:
                    let b = Int(i >> 23)
                    let t = base[b]
                    let key = rk(base, k, Int((i >> 14) & 0x1FF))
                    if case .table(let h) = t {
                        let v = h.get(key)
                        if !v.isNil || h.p.pointee.metatable == nil {
                            base[a] = v
                            continue
                        }
                    }
                    ci.pointee.savedPC = pc
                    let v = try index(t, key, reg: b)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .setglobal:
                    let env = cl.p.pointee.env
                    let key = k[Int(i >> 14)]
                    let v = base[a]
                    if !env.p.pointee.readonly, let slot = env.existingSlot(key), !slot.pointee.isNil {
                        slot.pointee = v
                        env.p.pointee.flags = 0
                        continue
                    }
                    ci.pointee.savedPC = pc
                    try setIndex(.table(env), key, v)
                    if totalBytes > gcThreshold { try collectAtSafePoint() }
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                case .setupval:
                    cl.p.pointee.upvalues![Int(i >> 23)].pointee.v.pointee = base[a]
                case .settable:
                    let t = base[a]
                    let key = rk(base, k, Int(i >> 23))
                    let v = rk(base, k, Int((i >> 14) & 0x1FF))
                    if case .table(let h) = t, !h.p.pointee.readonly {
                        if let slot = h.existingSlot(key), !slot.pointee.isNil {
                            slot.pointee = v
                            h.p.pointee.flags = 0
                            continue
                        }
                        if h.p.pointee.metatable == nil {
                            ci.pointee.savedPC = pc
                            try tableSlot(h, key).pointee = v
                            // A new key may have grown the table: a safe point (loops that only
                            // fill tables must still meet the collector and the memory limit).
                            if totalBytes > gcThreshold {
                                try collectAtSafePoint()
                                base = th.pointee.stack + ciBase
                            }
                            continue
                        }
                    }
                    ci.pointee.savedPC = pc
                    try setIndex(t, key, v, reg: a)
                    if totalBytes > gcThreshold { try collectAtSafePoint() }
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                case .newtable:
                    let b = Int(i >> 23), c = Int((i >> 14) & 0x1FF)
                    base[a] = .table(rawNewTable(narray: FloatByte.decode(b), nhash: FloatByte.decode(c)))
                    if totalBytes > gcThreshold {
                        ci.pointee.savedPC = pc
                        try collectAtSafePoint()
                        base = th.pointee.stack + ciBase
                    }
                case .self:
                    let b = Int(i >> 23)
                    let t = base[b]
                    let key = rk(base, k, Int((i >> 14) & 0x1FF))
                    base[a + 1] = t
                    if case .table(let h) = t {
                        let v = h.get(key)
                        if !v.isNil || h.p.pointee.metatable == nil {
                            base[a] = v
                            continue
                        }
                    }
                    ci.pointee.savedPC = pc
                    let v = try index(t, key, reg: b)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .add:
                    let b = Int(i >> 23), c = Int((i >> 14) & 0x1FF)
                    let rb = rk(base, k, b), rc = rk(base, k, c)
                    if case .number(let x) = rb, case .number(let y) = rc {
                        base[a] = .number(x + y)
                        continue
                    }
                    ci.pointee.savedPC = pc
                    let v = try arith(.add, rb, rc, b & 256 != 0 ? -1 : b, c & 256 != 0 ? -1 : c)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .sub:
                    let b = Int(i >> 23), c = Int((i >> 14) & 0x1FF)
                    let rb = rk(base, k, b), rc = rk(base, k, c)
                    if case .number(let x) = rb, case .number(let y) = rc {
                        base[a] = .number(x - y)
                        continue
                    }
                    ci.pointee.savedPC = pc
                    let v = try arith(.sub, rb, rc, b & 256 != 0 ? -1 : b, c & 256 != 0 ? -1 : c)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .mul:
                    let b = Int(i >> 23), c = Int((i >> 14) & 0x1FF)
                    let rb = rk(base, k, b), rc = rk(base, k, c)
                    if case .number(let x) = rb, case .number(let y) = rc {
                        base[a] = .number(x * y)
                        continue
                    }
                    ci.pointee.savedPC = pc
                    let v = try arith(.mul, rb, rc, b & 256 != 0 ? -1 : b, c & 256 != 0 ? -1 : c)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .div:
                    let b = Int(i >> 23), c = Int((i >> 14) & 0x1FF)
                    let rb = rk(base, k, b), rc = rk(base, k, c)
                    if case .number(let x) = rb, case .number(let y) = rc {
                        base[a] = .number(x / y)
                        continue
                    }
                    ci.pointee.savedPC = pc
                    let v = try arith(.div, rb, rc, b & 256 != 0 ? -1 : b, c & 256 != 0 ? -1 : c)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .mod:
                    let b = Int(i >> 23), c = Int((i >> 14) & 0x1FF)
                    let rb = rk(base, k, b), rc = rk(base, k, c)
                    if case .number(let x) = rb, case .number(let y) = rc {
                        base[a] = .number(luaMod(x, y))
                        continue
                    }
                    ci.pointee.savedPC = pc
                    let v = try arith(.mod, rb, rc, b & 256 != 0 ? -1 : b, c & 256 != 0 ? -1 : c)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .pow:
                    let b = Int(i >> 23), c = Int((i >> 14) & 0x1FF)
                    let rb = rk(base, k, b), rc = rk(base, k, c)
                    if case .number(let x) = rb, case .number(let y) = rc {
                        base[a] = .number(luaPow(x, y))
                        continue
                    }
                    ci.pointee.savedPC = pc
                    let v = try arith(.pow, rb, rc, b & 256 != 0 ? -1 : b, c & 256 != 0 ? -1 : c)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .unm:
                    let b = Int(i >> 23)
                    let rb = base[b]
                    if case .number(let x) = rb {
                        base[a] = .number(-x)
                        continue
                    }
                    ci.pointee.savedPC = pc
                    let v = try arith(.unm, rb, rb, b, b)
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = v
                case .not:
                    base[a] = .bool(base[Int(i >> 23)].isFalsy)
                case .len:
                    let b = Int(i >> 23)
                    let rb = base[b]
                    switch rb {
                    case .table(let t): base[a] = .number(Double(t.length))
                    case .string(let s): base[a] = .number(Double(s.count))
                    default:
                        ci.pointee.savedPC = pc
                        let v = try length(rb, reg: b)
                        base = th.pointee.stack + ciBase
                        ci = th.pointee.cis + ciIdx
                        base[a] = v
                    }
                case .concat:
                    let b = Int(i >> 23), c = Int((i >> 14) & 0x1FF)
                    ci.pointee.savedPC = pc
                    try concat(first: ciBase + b, last: ciBase + c, regBase: ciBase)
                    if totalBytes > gcThreshold { try collectAtSafePoint() }
                    base = th.pointee.stack + ciBase
                    ci = th.pointee.cis + ciIdx
                    base[a] = base[b]
                case .jmp:
                    let offset = Int(i >> 14) - Instruction.maxSBx
                    pc &+= offset
                    if offset < 0 {
                        hookCounter &-= 1
                        if hookCounter < 0 {
                            ci.pointee.savedPC = pc
                            try hookTick()
                        }
                    }
                case .eq:
                    let rb = rk(base, k, Int(i >> 23)), rc = rk(base, k, Int((i >> 14) & 0x1FF))
                    let r: Bool
                    switch (rb, rc) {
                    case (.number(let x), .number(let y)): r = x == y
                    case (.string(let x), .string(let y)): r = x.p == y.p
                    default:
                        ci.pointee.savedPC = pc
                        r = try equals(rb, rc)
                        base = th.pointee.stack + ciBase
                        ci = th.pointee.cis + ciIdx
                    }
                    if r == (a != 0) {
                        let offset = Int(code[pc] >> 14) - Instruction.maxSBx
                        pc &+= offset
                        if offset < 0 {
                            hookCounter &-= 1
                            if hookCounter < 0 {
                                ci.pointee.savedPC = pc &+ 1
                                try hookTick()
                            }
                        }
                    }
                    pc += 1
                case .lt:
                    let rb = rk(base, k, Int(i >> 23)), rc = rk(base, k, Int((i >> 14) & 0x1FF))
                    let r: Bool
                    if case .number(let x) = rb, case .number(let y) = rc {
                        r = x < y
                    } else {
                        ci.pointee.savedPC = pc
                        r = try lessThan(rb, rc)
                        base = th.pointee.stack + ciBase
                        ci = th.pointee.cis + ciIdx
                    }
                    if r == (a != 0) {
                        let offset = Int(code[pc] >> 14) - Instruction.maxSBx
                        pc &+= offset
                        if offset < 0 {
                            hookCounter &-= 1
                            if hookCounter < 0 {
                                ci.pointee.savedPC = pc &+ 1
                                try hookTick()
                            }
                        }
                    }
                    pc += 1
                case .le:
                    let rb = rk(base, k, Int(i >> 23)), rc = rk(base, k, Int((i >> 14) & 0x1FF))
                    let r: Bool
                    if case .number(let x) = rb, case .number(let y) = rc {
                        r = x <= y
                    } else {
                        ci.pointee.savedPC = pc
                        r = try lessEqual(rb, rc)
                        base = th.pointee.stack + ciBase
                        ci = th.pointee.cis + ciIdx
                    }
                    if r == (a != 0) {
                        let offset = Int(code[pc] >> 14) - Instruction.maxSBx
                        pc &+= offset
                        if offset < 0 {
                            hookCounter &-= 1
                            if hookCounter < 0 {
                                ci.pointee.savedPC = pc &+ 1
                                try hookTick()
                            }
                        }
                    }
                    pc += 1
                case .test:
                    if base[a].isFalsy != ((i >> 14) & 0x1FF != 0) {
                        let offset = Int(code[pc] >> 14) - Instruction.maxSBx
                        pc &+= offset
                        if offset < 0 {
                            hookCounter &-= 1
                            if hookCounter < 0 {
                                ci.pointee.savedPC = pc &+ 1
                                try hookTick()
                            }
                        }
                    }
                    pc += 1
                case .testset:
                    let rb = base[Int(i >> 23)]
                    if rb.isFalsy != ((i >> 14) & 0x1FF != 0) {
                        base[a] = rb
                        let offset = Int(code[pc] >> 14) - Instruction.maxSBx
                        pc &+= offset
                        if offset < 0 {
                            hookCounter &-= 1
                            if hookCounter < 0 {
                                ci.pointee.savedPC = pc &+ 1
                                try hookTick()
                            }
                        }
                    }
                    pc += 1
                case .call:
                    let b = Int(i >> 23)
                    let nresults = Int((i >> 14) & 0x1FF) - 1
                    let fn = ciBase + a
                    if b != 0 { th.pointee.top = fn + b }
                    ci.pointee.savedPC = pc
                    if case .function(let f) = base[a], let p = f.p.pointee.proto, p.pointee.isVararg == 0 {
                        // Fixed-parameter Lua function: set up its frame here (precall's common case).
                        let maxStack = Int(p.pointee.maxStackSize)
                        let numParams = Int(p.pointee.numParams)
                        if th.pointee.top + maxStack + numParams + 5 > th.pointee.stackSize { growStack(th, maxStack + numParams) }
                        let newBase = fn + 1
                        if th.pointee.top > newBase + numParams { th.pointee.top = newBase + numParams }
                        let nci = th.pointee.ci + 1
                        if nci >= th.pointee.ciSize { try growCallInfo(th) }
                        th.pointee.ci = nci
                        let ciTop = newBase + maxStack
                        th.pointee.cis[nci] = CallInfo(funcIndex: fn, base: newBase, top: ciTop, savedPC: 0,
                                                       nresults: Int32(nresults), tailcalls: 0)
                        let stack = th.pointee.stack
                        var st = th.pointee.top
                        while st < ciTop {
                            stack[st] = .nil
                            st &+= 1
                        }
                        th.pointee.top = ciTop
                        if ciTop > th.pointee.highWater { th.pointee.highWater = ciTop }
                        hookCounter &-= 1
                        if hookCounter < 0 { try hookTick() }
                        continue newFrame
                    }
                    switch try precall(fn, nresults) {
                    case .lua:
                        continue newFrame
                    case .native:
                        ci = th.pointee.cis + ciIdx
                        if nresults >= 0 { th.pointee.top = ci.pointee.top }
                        base = th.pointee.stack + ciBase
                    case .yielded:
                        return
                    }
                case .tailcall:
                    let b = Int(i >> 23)
                    if b != 0 { th.pointee.top = ciBase + a + b }
                    ci.pointee.savedPC = pc
                    switch try precall(ciBase + a, -1) {
                    case .lua:
                        // Put the new frame in place of this one.
                        let cis = th.pointee.cis
                        let newCI = th.pointee.ci
                        if th.pointee.openUpvalues != nil { closeUpvalues(th, ciBase) }
                        let fn = cis[ciIdx].funcIndex
                        let pfunc = cis[newCI].funcIndex
                        cis[ciIdx].base = fn + (cis[newCI].base - pfunc)
                        let stack = th.pointee.stack
                        var aux = 0
                        while pfunc + aux < th.pointee.top {
                            stack[fn + aux] = stack[pfunc + aux]
                            aux += 1
                        }
                        cis[ciIdx].top = fn + aux
                        th.pointee.top = fn + aux
                        cis[ciIdx].savedPC = cis[newCI].savedPC
                        cis[ciIdx].tailcalls += 1
                        th.pointee.ci = ciIdx
                        hookCounter &-= 1
                        if hookCounter < 0 { try hookTick() }
                        continue newFrame
                    case .native:
                        ci = th.pointee.cis + ciIdx
                        base = th.pointee.stack + ciBase
                    case .yielded:
                        return
                    }
                case .return:
                    ci.pointee.savedPC = pc
                    let b = Int(i >> 23)
                    if b != 0 { th.pointee.top = ciBase + a + b - 1 }
                    if th.pointee.openUpvalues != nil { closeUpvalues(th, ciBase) }
                    let fixed = postcall(th, ciBase + a)
                    if ciIdx <= entryCI { return }
                    if fixed { th.pointee.top = th.pointee.cis[th.pointee.ci].top }
                    continue newFrame
                case .forloop:
                    let step = num(base[a + 2])
                    let idx = num(base[a]) + step
                    let limit = num(base[a + 1])
                    if 0 < step ? idx <= limit : limit <= idx {
                        pc &+= Int(i >> 14) - Instruction.maxSBx
                        base[a] = .number(idx)
                        base[a + 3] = .number(idx)
                        hookCounter &-= 1
                        if hookCounter < 0 {
                            ci.pointee.savedPC = pc
                            try hookTick()
                        }
                    }
                case .forprep:
                    ci.pointee.savedPC = pc
                    guard let initial = toNumber(base[a]) else { throw runtimeError("'for' initial value must be a number") }
                    guard let limit = toNumber(base[a + 1]) else { throw runtimeError("'for' limit must be a number") }
                    guard let step = toNumber(base[a + 2]) else { throw runtimeError("'for' step must be a number") }
                    base[a + 1] = .number(limit)
                    base[a + 2] = .number(step)
                    base[a] = .number(initial - step)
                    pc += Int(i >> 14) - Instruction.maxSBx
                case .tforloop:
                    let cb = a + 3
                    base[cb + 2] = base[a + 2]
                    base[cb + 1] = base[a + 1]
                    base[cb] = base[a]
                    th.pointee.top = ciBase + cb + 3
                    ci.pointee.savedPC = pc
                    try call(ciBase + cb, Int((i >> 14) & 0x1FF))
                    ci = th.pointee.cis + ciIdx
                    th.pointee.top = ci.pointee.top
                    base = th.pointee.stack + ciBase
                    if !base[cb].isNil {
                        base[cb - 1] = base[cb]
                        pc += Int(code[pc] >> 14) - Instruction.maxSBx
                        hookCounter &-= 1
                        if hookCounter < 0 {
                            ci.pointee.savedPC = pc
                            try hookTick()
                        }
                    }
                    pc += 1
                case .setlist:
                    ci.pointee.savedPC = pc
                    var n = Int(i >> 23)
                    var c = Int((i >> 14) & 0x1FF)
                    if n == 0 {
                        n = th.pointee.top - (ciBase + a) - 1
                        th.pointee.top = ci.pointee.top
                    }
                    if c == 0 {
                        c = Int(code[pc])
                        pc += 1
                    }
                    guard case .table(let h) = base[a] else { break }
                    var last = (c - 1) * Instruction.fieldsPerFlush + n
                    if last > h.arraySize { resizeArray(h, last) }
                    while n > 0 {
                        tableSlot(h, int: last).pointee = base[a + n]
                        last -= 1
                        n -= 1
                    }
                    if totalBytes > gcThreshold {
                        try collectAtSafePoint()
                        base = th.pointee.stack + ciBase
                    }
                case .close:
                    closeUpvalues(th, ciBase + a)
                case .closure:
                    let p = proto.pointee.protos[Int(i >> 14)]
                    let ncl = newLuaClosure(p, env: cl.p.pointee.env)
                    let nup = Int(p.pointee.upvalueCount)
                    for j in 0..<nup {
                        let u = code[pc]
                        if Instruction.op(u) == .getupval {
                            ncl.p.pointee.upvalues![j] = cl.p.pointee.upvalues![Int(u >> 23)]
                        } else {
                            ncl.p.pointee.upvalues![j] = findUpvalue(th, ciBase + Int(u >> 23))
                        }
                        pc += 1
                    }
                    base[a] = .function(ncl)
                    if totalBytes > gcThreshold {
                        ci.pointee.savedPC = pc
                        try collectAtSafePoint()
                        base = th.pointee.stack + ciBase
                    }
                case .vararg:
                    ci.pointee.savedPC = pc
                    var b = Int(i >> 23) - 1
                    let n = ciBase - ci.pointee.funcIndex - Int(proto.pointee.numParams) - 1
                    if b == -1 {
                        checkStack(th, n)
                        base = th.pointee.stack + ciBase
                        b = n
                        th.pointee.top = ciBase + a + n
                        if th.pointee.top > th.pointee.highWater { th.pointee.highWater = th.pointee.top }
                    }
                    let stack = th.pointee.stack
                    for j in 0..<b {
                        base[a + j] = j < n ? stack[ciBase - n + j] : .nil
                    }
                }
            }
        }
    }
}

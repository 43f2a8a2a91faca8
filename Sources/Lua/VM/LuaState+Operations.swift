import Glibc

// Operations with metamethods (lvm.c's slow paths, ltm.c): indexing, arithmetic, comparison,
// concatenation, length, coercions. Metamethod arguments always go on the stack, so a collection
// inside a metamethod sees them.

extension LuaState {
    // MARK: - Metatables

    /// The metatable of any value (tables, userdata, and strings through the string metatable).
    @inline(__always) public func metatable(of v: LuaValue) -> LuaTable? {
        switch v {
        case .table(let t): return t.p.pointee.metatable
        case .userdata(let u): return u.p.pointee.metatable
        case .string: return stringMetatable
        default: return nil
        }
    }

    /// Metamethod `e` of metatable `mt`, caching absence for the first five events (fasttm).
    @inline(__always) func fastTM(_ mt: LuaTable?, _ e: TagMethod) -> LuaValue? {
        guard let mt else { return nil }
        if mt.p.pointee.flags & (1 << UInt8(e.rawValue)) != 0 { return nil }
        let v = mt.get(string: tmNames[e.rawValue])
        if v.isNil {
            mt.p.pointee.flags |= 1 << UInt8(e.rawValue)
            return nil
        }
        return v
    }

    /// Metamethod `e` of value `v`, nil when absent (luaT_gettmbyobj).
    @inline(__always) func tagMethod(_ v: LuaValue, _ e: TagMethod) -> LuaValue {
        guard let mt = metatable(of: v) else { return .nil }
        if e.rawValue <= TagMethod.eq.rawValue { return fastTM(mt, e) ?? .nil }
        return mt.get(string: tmNames[e.rawValue])
    }

    /// Calls `f(a, b)` and returns its first result (callTMres).
    func callMeta(_ f: LuaValue, _ a: LuaValue, _ b: LuaValue) throws(LuaError) -> LuaValue {
        let th = current
        checkStack(th, 3)
        let fn = th.pointee.top
        push(f)
        push(a)
        push(b)
        try call(fn, 1)
        let r = th.pointee.stack[th.pointee.top - 1]
        th.pointee.top -= 1
        return r
    }

    /// Calls `f(a, b, c)` discarding results (callTM).
    func callMeta3(_ f: LuaValue, _ a: LuaValue, _ b: LuaValue, _ c: LuaValue) throws(LuaError) {
        let th = current
        checkStack(th, 4)
        let fn = th.pointee.top
        push(f)
        push(a)
        push(b)
        push(c)
        try call(fn, 0)
    }

    // MARK: - Indexing

    /// `t[key]` with `__index` (luaV_gettable). `reg` is t's register in the running Lua frame,
    /// -1 if t is not in one (names the variable in "attempt to index ...").
    func index(_ t0: LuaValue, _ key: LuaValue, reg: Int = -1) throws(LuaError) -> LuaValue {
        var t = t0
        var r = reg
        for _ in 0..<100 {
            let tm: LuaValue
            if case .table(let h) = t {
                let res = h.get(key)
                if !res.isNil { return res }
                guard let m = fastTM(h.p.pointee.metatable, .index) else { return .nil }
                tm = m
            } else {
                tm = tagMethod(t, .index)
                if tm.isNil { throw typeError(t, "index", reg: r) }
            }
            if case .function = tm { return try callMeta(tm, t, key) }
            t = tm
            r = -1
        }
        throw runtimeError("loop in gettable")
    }

    /// `t[key] = v` with `__newindex` and read-only tables (luaV_settable).
    func setIndex(_ t0: LuaValue, _ key: LuaValue, _ v: LuaValue, reg: Int = -1) throws(LuaError) {
        var t = t0
        var r = reg
        for _ in 0..<100 {
            let tm: LuaValue
            if case .table(let h) = t {
                if h.p.pointee.readonly { throw runtimeError("Attempt to modify a readonly table") }
                if let slot = h.existingSlot(key), !slot.pointee.isNil {
                    slot.pointee = v
                    h.p.pointee.flags = 0
                    return
                }
                guard let m = fastTM(h.p.pointee.metatable, .newindex) else {
                    try tableSlot(h, key).pointee = v
                    return
                }
                // luaH_set would have created the key first: nil and NaN keys fail even here.
                if key.isNil { throw runtimeError("table index is nil") }
                if case .number(let d) = key, d.isNaN { throw runtimeError("table index is NaN") }
                tm = m
            } else {
                tm = tagMethod(t, .newindex)
                if tm.isNil { throw typeError(t, "index", reg: r) }
            }
            if case .function = tm {
                try callMeta3(tm, t, key, v)
                return
            }
            t = tm
            r = -1
        }
        throw runtimeError("loop in settable")
    }

    // MARK: - Coercions

    /// A number, or a string convertible to one (luaV_tonumber).
    @inline(__always) public func toNumber(_ v: LuaValue) -> Double? {
        switch v {
        case .number(let d): return d
        case .string(let s): return LuaNumberParser.parse(s)
        default: return nil
        }
    }

    /// A string, or a number converted to one (lua_tolstring's coercion).
    @inline(__always) public func toStringCoerced(_ v: LuaValue) -> LuaString? {
        switch v {
        case .string(let s): return s
        case .number(let d): return numberToString(d)
        default: return nil
        }
    }

    /// The interned string for a number's text.
    func numberToString(_ d: Double) -> LuaString {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        appendLuaNumber(d, to: &out)
        return newString(out)
    }

    // MARK: - Arithmetic

    /// Arithmetic with coercion and metamethods (Arith). `regB`/`regC` name the operands' registers.
    func arith(_ op: TagMethod, _ b: LuaValue, _ c: LuaValue, _ regB: Int, _ regC: Int) throws(LuaError) -> LuaValue {
        if let nb = toNumber(b), let nc = toNumber(c) {
            switch op {
            case .add: return .number(nb + nc)
            case .sub: return .number(nb - nc)
            case .mul: return .number(nb * nc)
            case .div: return .number(nb / nc)
            case .mod: return .number(luaMod(nb, nc))
            case .pow: return .number(luaPow(nb, nc))
            case .unm: return .number(-nb)
            default: break
            }
        }
        var tm = tagMethod(b, op)
        if tm.isNil { tm = tagMethod(c, op) }
        if tm.isNil { throw arithError(b, regB, c, regC) }
        return try callMeta(tm, b, c)
    }

    // MARK: - Comparison

    /// Lua 5.1's l_strcmp: strcoll in pieces separated by embedded NULs (C locale: byte order).
    static func compareStrings(_ a: LuaString, _ b: LuaString) -> Int {
        let la = a.count, lb = b.count
        let n = min(la, lb)
        if n > 0 {
            let r = memcmp(a.bytes, b.bytes, n)
            if r != 0 { return r < 0 ? -1 : 1 }
        }
        return la == lb ? 0 : (la < lb ? -1 : 1)
    }

    /// `a == b` with `__eq` (luaV_equalval for same-typed values).
    @inline(__always) func equals(_ a: LuaValue, _ b: LuaValue) throws(LuaError) -> Bool {
        switch (a, b) {
        case (.table(let x), .table(let y)):
            if x.p == y.p { return true }
            return try equalsTM(a, b, x.p.pointee.metatable, y.p.pointee.metatable)
        case (.userdata(let x), .userdata(let y)):
            if x.p == y.p { return true }
            return try equalsTM(a, b, x.p.pointee.metatable, y.p.pointee.metatable)
        default:
            return LuaValue.rawEquals(a, b)
        }
    }

    private func equalsTM(_ a: LuaValue, _ b: LuaValue, _ mt1: LuaTable?, _ mt2: LuaTable?) throws(LuaError) -> Bool {
        guard let tm1 = fastTM(mt1, .eq) else { return false }
        var tm = tm1
        if mt1 != mt2 {
            guard let tm2 = fastTM(mt2, .eq), LuaValue.rawEquals(tm1, tm2) else { return false }
            tm = tm1
        }
        return !(try callMeta(tm, a, b).isFalsy)
    }

    private func orderTM(_ a: LuaValue, _ b: LuaValue, _ e: TagMethod) throws(LuaError) -> Bool? {
        let tm1 = tagMethod(a, e)
        if tm1.isNil { return nil }
        let tm2 = tagMethod(b, e)
        if !LuaValue.rawEquals(tm1, tm2) { return nil }
        return !(try callMeta(tm1, a, b).isFalsy)
    }

    /// `a < b` (luaV_lessthan).
    func lessThan(_ a: LuaValue, _ b: LuaValue) throws(LuaError) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x < y
        case (.string(let x), .string(let y)): return LuaState.compareStrings(x, y) < 0
        default:
            if a.type != b.type { throw orderError(a, b) }
            if let r = try orderTM(a, b, .lt) { return r }
            throw orderError(a, b)
        }
    }

    /// `a <= b` (lessequal: `__le`, else not `__lt(b, a)`).
    func lessEqual(_ a: LuaValue, _ b: LuaValue) throws(LuaError) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x <= y
        case (.string(let x), .string(let y)): return LuaState.compareStrings(x, y) <= 0
        default:
            if a.type != b.type { throw orderError(a, b) }
            if let r = try orderTM(a, b, .le) { return r }
            if let r = try orderTM(b, a, .lt) { return !r }
            throw orderError(a, b)
        }
    }

    // MARK: - Length and concatenation

    /// `#v` (OP_LEN): strings, tables, or `__len` (userdata, and tables do not consult it in 5.1).
    func length(_ v: LuaValue, reg: Int) throws(LuaError) -> LuaValue {
        switch v {
        case .table(let t): return .number(Double(t.length))
        case .string(let s): return .number(Double(s.count))
        default:
            var tm = tagMethod(v, .len)
            if tm.isNil { tm = tagMethod(LuaValue.nil, .len) }
            if tm.isNil { throw typeError(v, "get length of", reg: reg) }
            return try callMeta(tm, v, .nil)
        }
    }

    /// Concatenates stack slots [first, last] of the running thread into slot `first` (luaV_concat).
    /// `regBase` maps slots back to registers for error messages.
    func concat(first: Int, last lastIn: Int, regBase: Int) throws(LuaError) {
        let th = current
        var total = lastIn - first + 1
        var last = lastIn
        repeat {
            let stack = th.pointee.stack
            let top = last + 1
            var n = 2
            let a = stack[top - 2], b = stack[top - 1]
            let aOK: Bool
            switch a { case .string, .number: aOK = true; default: aOK = false }
            let bStr = toStringCoerced(b)
            if !aOK || bStr == nil {
                var tm = tagMethod(a, .concat)
                if tm.isNil { tm = tagMethod(b, .concat) }
                if tm.isNil { throw concatError(a, top - 2 - regBase, b, top - 1 - regBase) }
                let r = try callMeta(tm, a, b)
                th.pointee.stack[top - 2] = r
            } else if bStr!.count == 0 {
                th.pointee.stack[top - 2] = .string(toStringCoerced(a)!)
            } else {
                th.pointee.stack[top - 1] = .string(bStr!)
                var tl = bStr!.count
                n = 1
                while n < total, let s = toStringCoerced(stack[top - n - 1]) {
                    stack[top - n - 1] = .string(s)
                    tl += s.count
                    n += 1
                }
                try reserve(tl)
                let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: max(tl, 1))
                var off = 0
                for i in stride(from: n, to: 0, by: -1) {
                    if case .string(let s) = stack[top - i] {
                        (buf + off).update(from: s.bytes, count: s.count)
                        off += s.count
                    }
                }
                let r = newString(UnsafeBufferPointer(start: buf, count: tl))
                buf.deallocate()
                th.pointee.stack[top - n] = .string(r)
            }
            total -= n - 1
            last -= n - 1
        } while total > 1
    }
}

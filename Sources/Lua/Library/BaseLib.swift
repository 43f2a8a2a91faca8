// The base library (lbaselib.c) as Redis ships it: no dofile/loadfile; print only when the host
// asks for it (Redis has none).

import Glibc

extension LuaState {
    func openBase(print: Bool) {
        setGlobal("_G", .table(globals))
        var fns: [(String, LuaNativeFunction)] = [
            ("assert", LuaState.assert), ("collectgarbage", LuaState.collectgarbageLib), ("error", LuaState.errorLib),
            ("gcinfo", LuaState.gcinfo), ("getfenv", LuaState.getfenv), ("getmetatable", LuaState.getmetatableLib),
            ("load", LuaState.loadLib), ("loadstring", LuaState.loadstring), ("next", LuaState.nextLib),
            ("pcall", LuaState.pcallLib), ("rawequal", LuaState.rawequal), ("rawget", LuaState.rawget),
            ("rawset", LuaState.rawsetLib), ("select", LuaState.select), ("setfenv", LuaState.setfenv),
            ("setmetatable", LuaState.setmetatableLib), ("tonumber", LuaState.tonumber),
            ("tostring", LuaState.tostringLib), ("type", LuaState.typeLib), ("unpack", LuaState.unpack),
            ("xpcall", LuaState.xpcall),
        ]
        if print { fns.append(("print", LuaState.printLib)) }
        registerLibrary(nil, fns)
        setGlobal("_VERSION", .string(newString("Lua 5.1")))
        let next = newFunction(LuaState.nextLib)
        setGlobal("pairs", .function(newFunction(upvalues: [.function(next)], LuaState.pairs)))
        let ipairsAux = newFunction(LuaState.ipairsAux)
        setGlobal("ipairs", .function(newFunction(upvalues: [.function(ipairsAux)], LuaState.ipairs)))
        // newproxy's weak table of valid proxy metatables.
        let w = newTable(nhash: 1)
        setMetatable(w, w)
        rawSet(w, "__mode", .string(newString("kv")))
        setGlobal("newproxy", .function(newFunction(upvalues: [.table(w)], LuaState.newproxy)))
        openCoroutine()
    }

    // MARK: - Functions

    static func printLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        var out: [UInt8] = []
        let tostring = L.global("tostring")
        for i in 1...max(1, args.count) where i <= args.count {
            let fn = L.top
            L.push(tostring)
            L.push(args[i])
            try L.call(fn, 1)
            guard let s = L.toStringCoerced(L[stack: L.top - 1]) else {
                throw L.error("'tostring' must return a string to 'print'")
            }
            if i > 1 { out.append(9) }
            // fputs: each value is written as a C string.
            out += s.buffer.prefix(while: { $0 != 0 })
            L.top -= 1
        }
        out.append(10)
        if let o = L.output { o(out) } else { out.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) } }
        return 0
    }

    static func tonumber(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let base = try args.optInt(2, 10)
        if base == 10 {
            try args.checkAny(1)
            if let d = L.toNumber(args[1]) {
                L.push(.number(d))
                return 1
            }
        } else {
            let s = try args.checkString(1)
            try args.argCheck(base >= 2 && base <= 36, 2, "base out of range")
            let p = UnsafeMutableRawPointer(mutating: s.bytes).assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>? = nil
            let n = strtoul(p, &end, Int32(base))
            if var e = end, e != p {
                while e.pointee != 0 && Lexer.isSpace(Int32(UInt8(bitPattern: e.pointee))) { e += 1 }
                if e.pointee == 0 {
                    L.push(.number(Double(n)))
                    return 1
                }
            }
        }
        L.push(.nil)
        return 1
    }

    static func errorLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let level = try args.optInt(2, 1)
        let v = args[1]
        if level > 0, let s = L.toStringCoerced(v) {
            throw LuaError(.runtime, .string(L.newString(L.whereBytes(level) + s.buffer)))
        }
        throw LuaError(.runtime, v)
    }

    static func getmetatableLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.checkAny(1)
        guard let mt = L.metatable(of: args[1]) else {
            L.push(.nil)
            return 1
        }
        let protected = mt.get(string: L.nameMetatable)
        L.push(protected.isNil ? .table(mt) : protected)
        return 1
    }

    static func setmetatableLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        let mtType = args.type(2)
        try args.argCheck(mtType == .nil || mtType == .table, 2, "nil or table expected")
        if let mt = t.metatable, !mt.get(string: L.nameMetatable).isNil {
            throw L.error("cannot change a protected metatable")
        }
        if t.isReadonly { throw L.runtimeError("Attempt to modify a readonly table") }
        t.p.pointee.metatable = args[2].tableValue
        L.push(args[1])
        return 1
    }

    /// The function at `level` (getfenv/setfenv's argument), or nil for a native / tail call.
    private static func functionArg(_ L: LuaState, _ args: LuaArgs, optional: Bool) throws(LuaError) -> LuaValue {
        if case .function = args[1] { return args[1] }
        let level = optional ? try args.optInt(1, 1) : try args.checkInt(1)
        try args.argCheck(level >= 0, 1, "level must be non-negative")
        let th = L.current
        let ci = th.pointee.ci - level
        if ci <= 0 { throw L.argError(1, "invalid level") }
        if level == 0 { return .nil }
        return th.pointee.stack[th.pointee.cis[ci].funcIndex]
    }

    static func getfenv(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let f = try functionArg(L, args, optional: true)
        if case .function(let fn) = f, !fn.isNative {
            L.push(.table(fn.p.pointee.env))
        } else {
            L.push(.table(L.current.pointee.env))
        }
        return 1
    }

    static func setfenv(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(2)
        let f = try functionArg(L, args, optional: false)
        if case .number(let n) = args[1], n == 0 {
            L.current.pointee.env = t
            return 0
        }
        guard case .function(let fn) = f, !fn.isNative else {
            throw L.error("'setfenv' cannot change environment of given object")
        }
        fn.p.pointee.env = t
        L.push(f)
        return 1
    }

    static func rawequal(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.checkAny(1)
        try args.checkAny(2)
        L.push(.bool(LuaValue.rawEquals(args[1], args[2])))
        return 1
    }

    static func rawget(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        try args.checkAny(2)
        L.push(t.get(args[2]))
        return 1
    }

    static func rawsetLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        try args.checkAny(2)
        try args.checkAny(3)
        if t.isReadonly { throw L.runtimeError("Attempt to modify a readonly table") }
        try L.rawSet(t, args[2], args[3])
        L.push(args[1])
        return 1
    }

    static func gcinfo(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        L.push(.number(Double(L.totalBytes >> 10)))
        return 1
    }

    static func collectgarbageLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let o = try args.checkOption(1, "collect", ["stop", "restart", "collect", "count", "step", "setpause", "setstepmul"])
        let ex = try args.optInt(2, 0)
        switch o {
        case 0:
            L.gcStopped = true
            L.push(.number(0))
        case 1:
            L.gcStopped = false
            L.push(.number(0))
        case 2:
            L.collectGarbage()
            L.push(.number(0))
        case 3:
            L.push(.number(Double(L.totalBytes) / 1024))
        case 4:
            // Collections here are whole cycles, so every step finishes one.
            L.collectGarbage()
            L.push(.bool(true))
        case 5:
            L.push(.number(Double(L.gcPause)))
            L.gcPause = ex
        default:
            L.push(.number(Double(L.gcStepMul)))
            L.gcStepMul = ex
        }
        return 1
    }

    static func typeLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.checkAny(1)
        L.push(.string(L.typeNames[Int(args[1].type.rawValue)]))
        return 1
    }

    static func nextLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        if let (k, v) = try L.next(t, after: args[2]) {
            L.push(k)
            L.push(v)
            return 2
        }
        L.push(.nil)
        return 1
    }

    static func pairs(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        _ = try args.checkTable(1)
        L.push(L.nativeUpvalue(1))
        L.push(args[1])
        L.push(.nil)
        return 3
    }

    static func ipairsAux(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let i = try args.checkInt(2) + 1
        let t = try args.checkTable(1)
        let v = t.get(int: i)
        if v.isNil { return 0 }
        L.push(.number(Double(i)))
        L.push(v)
        return 2
    }

    static func ipairs(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        _ = try args.checkTable(1)
        L.push(L.nativeUpvalue(1))
        L.push(args[1])
        L.push(.number(0))
        return 3
    }

    /// Pushes nil and the message of a failed load (load_aux).
    private static func loadResult(_ L: LuaState, _ r: Result<LuaFunction, LuaError>) -> Int {
        switch r {
        case .success(let f):
            L.push(.function(f))
            return 1
        case .failure(let e):
            L.push(.nil)
            L.push(e.value)
            return 2
        }
    }

    static func loadstring(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let s = try args.checkString(1)
        let name = try args.optString(2) ?? s
        do {
            let f = try L.load(s.buffer, chunkName: name)
            return loadResult(L, .success(f))
        } catch {
            if error.kind == .memory || error.kind == .aborted { throw error }
            return loadResult(L, .failure(error))
        }
    }

    static func loadLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let name = try args.optString(2) ?? L.newString("=(load)")
        _ = try args.checkFunction(1)
        // Collect the reader's pieces; each is kept on the stack until the chunk is compiled.
        var source: [UInt8] = []
        let reader = args[1]
        while true {
            let fn = L.top
            L.push(reader)
            try L.call(fn, 1)
            let piece = L[stack: L.top - 1]
            L.top -= 1
            if piece.isNil { break }
            guard case .string(let s) = piece else {
                if case .number = piece, let s = L.toStringCoerced(piece) {
                    if s.count == 0 { break }
                    source += s.buffer
                    if source.count > LuaState.maxStringBytes { throw L.memoryError() }
                    try L.reserve(source.count)
                    continue
                }
                return loadResult(L, .failure(L.error("reader function must return a string")))
            }
            if s.count == 0 { break }
            source += s.buffer
            if source.count > LuaState.maxStringBytes { throw L.memoryError() }
            try L.reserve(source.count)
        }
        do {
            let f = try source.withUnsafeBufferPointer { (b) throws(LuaError) in try L.load(b, chunkName: name) }
            return loadResult(L, .success(f))
        } catch {
            if error.kind == .memory || error.kind == .aborted { throw error }
            return loadResult(L, .failure(error))
        }
    }

    static func assert(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.checkAny(1)
        if args[1].isFalsy {
            let msg = try args.optString(2)
            throw L.error(msg.map { Array($0.buffer.prefix(while: { $0 != 0 })) } ?? Array("assertion failed!".utf8))
        }
        return args.count
    }

    static func unpack(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        var i = try args.optInt(2, 1)
        let e = args.isNoneOrNil(3) ? t.length : try args.checkInt(3)
        if i > e { return 0 }
        let n = e - i + 1
        // lua_checkstack: at most LUAI_MAXCSTACK (8000) values in this frame.
        if n <= 0 || args.count + n > 8000 { throw L.error("too many results to unpack") }
        L.checkStack(L.current, n)
        L.push(t.get(int: i))
        while i < e {
            i += 1
            L.push(t.get(int: i))
        }
        return n
    }

    static func select(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let n = args.count
        if case .string(let s) = args[1], s.count > 0, s[0] == UInt8(ascii: "#") {
            L.push(.number(Double(n - 1)))
            return 1
        }
        var i = try args.checkInt(1)
        if i < 0 { i = n + i } else if i > n { i = n }
        try args.argCheck(1 <= i, 1, "index out of range")
        return n - i
    }

    static func pcallLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.checkAny(1)
        let fn = args.base
        if let err = try L.protectedCall(fn, -1) {
            L.push(.bool(false))
            L.push(err.value)
            return 2
        }
        // Results are at fn...top-1: insert `true` before them.
        let n = L.top - fn
        L.push(.nil)
        let stack = L.current.pointee.stack
        var j = L.top - 1
        while j > fn {
            stack[j] = stack[j - 1]
            j -= 1
        }
        stack[fn] = .bool(true)
        return n + 1
    }

    static func xpcall(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.checkAny(2)
        let handler = args[2]
        let fn = args.base
        L.top = fn + 1  // just the function, no arguments (Lua 5.1)
        // Keep the handler on the stack below the call so the collector sees it.
        L.push(L[stack: fn])
        L[stack: fn] = handler
        if let err = try L.protectedCall(fn + 1, -1, handler: handler) {
            L.push(.bool(false))
            L.push(err.value)
            return 2
        }
        L[stack: fn] = .bool(true)
        return L.top - fn
    }

    static func tostringLib(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.checkAny(1)
        L.push(.string(try L.tostring(args[1])))
        return 1
    }

    /// `tostring(v)`: `__tostring`, else Lua's default texts ("table: 0x...").
    public func tostring(_ v: LuaValue) throws(LuaError) -> LuaString {
        if let mt = metatable(of: v) {
            let tm = mt.get(string: nameTostring)
            if !tm.isNil {
                let fn = top
                push(tm)
                push(v)
                try call(fn, 1)
                let r = self[stack: top - 1]
                top -= 1
                if case .string(let s) = r { return s }
                if let s = toStringCoerced(r) { return s }
                return newString([UInt8]())
            }
        }
        switch v {
        case .number(let d): return numberToString(d)
        case .string(let s): return s
        case .bool(let b): return newString(b ? "true" : "false")
        case .nil: return newString("nil")
        default:
            return newString(Array("\(v.type.name): ".utf8) + cFormatPointer(v.objectAddress))
        }
    }

    static func newproxy(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let u = L.newUserdata()
        L.push(.userdata(u))
        let arg = args[1]
        if arg.isFalsy { return 1 }
        let weak = L.nativeUpvalue(1).tableValue!
        if case .bool = arg {
            let mt = L.newTable()
            try L.rawSet(weak, .table(mt), .bool(true))
            u.p.pointee.metatable = mt
        } else {
            var valid = false
            if let mt = L.metatable(of: arg) { valid = !weak.get(.table(mt)).isFalsy }
            try args.argCheck(valid, 1, "boolean or proxy expected")
            u.p.pointee.metatable = L.metatable(of: arg)
        }
        return 1
    }
}

/// "%p" as glibc prints it.
func cFormatPointer(_ p: UInt) -> [UInt8] {
    if p == 0 { return Array("(nil)".utf8) }
    return Array("0x".utf8) + Array(String(p, radix: 16).utf8)
}

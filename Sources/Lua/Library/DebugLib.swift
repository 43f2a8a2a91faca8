// A subset of the debug library (ldblib.c): getinfo, traceback, getmetatable, setmetatable.
// Redis loads debug only to build its error handler and then removes the global.

extension LuaState {
    func openDebug() {
        registerLibrary("debug", [
            ("getinfo", LuaState.dbGetinfo), ("traceback", LuaState.dbTraceback),
            ("getmetatable", LuaState.dbGetmetatable), ("setmetatable", LuaState.dbSetmetatable),
        ])
    }

    /// Fills a getinfo table for frame `ci` (or a function value when `ci` is nil).
    func debugInfo(_ what: [UInt8], ci: Int?, function: LuaValue) -> LuaTable {
        let th = current
        let t = newTable(nhash: 8)
        var proto: UnsafeMutablePointer<ProtoObject>? = nil
        if case .function(let f) = function { proto = f.p.pointee.proto }
        for c in what {
            switch c {
            case UInt8(ascii: "S"):
                if let p = proto {
                    rawSet(t, "source", .string(p.pointee.source))
                    rawSet(t, "short_src", .string(newString(Lexer.chunkID(p.pointee.source.buffer, 60))))
                    rawSet(t, "linedefined", .number(Double(p.pointee.lineDefined)))
                    rawSet(t, "lastlinedefined", .number(Double(p.pointee.lastLineDefined)))
                    rawSet(t, "what", .string(newString(p.pointee.lineDefined == 0 ? "main" : "Lua")))
                } else {
                    rawSet(t, "source", .string(newString("=[C]")))
                    rawSet(t, "short_src", .string(newString("[C]")))
                    rawSet(t, "linedefined", .number(-1))
                    rawSet(t, "lastlinedefined", .number(-1))
                    rawSet(t, "what", .string(newString("C")))
                }
            case UInt8(ascii: "l"):
                rawSet(t, "currentline", .number(Double(ci.map { currentLine(th, $0) } ?? -1)))
            case UInt8(ascii: "u"):
                if case .function(let f) = function { rawSet(t, "nups", .number(Double(f.p.pointee.upvalueCount))) }
            case UInt8(ascii: "n"):
                if let ci, let (kind, name) = functionName(th, ci) {
                    rawSet(t, "name", .string(newString(name)))
                    rawSet(t, "namewhat", .string(newString(kind)))
                } else {
                    rawSet(t, "namewhat", .string(newString("")))
                }
            case UInt8(ascii: "f"):
                rawSet(t, "func", function)
            default:
                break
            }
        }
        return t
    }

    static func dbGetinfo(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let what = try args.optString(2).map { Array($0.buffer) } ?? Array("flnSu".utf8)
        if case .function = args[1] {
            L.push(.table(L.debugInfo(what, ci: nil, function: args[1])))
            return 1
        }
        let level = try args.checkInt(1)
        let th = L.current
        let ci = th.pointee.ci - level
        if level < 0 || ci <= 0 {
            L.push(.nil)
            return 1
        }
        let fn = th.pointee.stack[th.pointee.cis[ci].funcIndex]
        L.push(.table(L.debugInfo(what, ci: ci, function: fn)))
        return 1
    }

    static func dbTraceback(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        if !args.isNoneOrNil(1), L.toStringCoerced(args[1]) == nil {
            L.push(args[1])
            return 1
        }
        var out: [UInt8] = []
        if let m = L.toStringCoerced(args[1]) { out += m.buffer; out.append(10) }
        out += Array("stack traceback:".utf8)
        let th = L.current
        var ci = th.pointee.ci - (try args.optInt(2, 1))
        while ci > 0 {
            out += Array("\n\t".utf8)
            if let p = L.proto(th, ci) {
                out += Lexer.chunkID(p.pointee.source.buffer, 60) + Array(":\(L.currentLine(th, ci)):".utf8)
                if p.pointee.lineDefined == 0 {
                    out += Array(" in main chunk".utf8)
                } else if let (_, name) = L.functionName(th, ci) {
                    out += Array(" in function '".utf8) + name + [39]
                } else {
                    out += Array(" in function <".utf8) + Lexer.chunkID(p.pointee.source.buffer, 60) + Array(":\(p.pointee.lineDefined)>".utf8)
                }
            } else {
                out += Array("[C]: ".utf8)
                if let (_, name) = L.functionName(th, ci) { out += Array("in function '".utf8) + name + [39] } else { out += [63] }
            }
            ci -= 1
        }
        L.push(.string(L.newString(out)))
        return 1
    }

    static func dbGetmetatable(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.checkAny(1)
        if let mt = L.metatable(of: args[1]) { L.push(.table(mt)) } else { L.push(.nil) }
        return 1
    }

    static func dbSetmetatable(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = args.type(2)
        try args.argCheck(t == .nil || t == .table, 2, "nil or table expected")
        let mt = args[2].tableValue
        switch args[1] {
        case .table(let x):
            if x.isReadonly { throw L.runtimeError("Attempt to modify a readonly table") }
            x.p.pointee.metatable = mt
        case .userdata(let u): u.p.pointee.metatable = mt
        case .string: L.stringMetatable = mt
        default: break
        }
        L.push(.bool(true))
        return 1
    }
}

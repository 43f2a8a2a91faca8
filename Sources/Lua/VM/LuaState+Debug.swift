// Error messages with Lua 5.1's texts and positions (ldebug.c): "chunk:line:" prefixes, variable
// names found by symbolic execution ("attempt to index field 'x' (a nil value)"), function names
// for "bad argument #1 to 'x'".

extension LuaState {
    // MARK: - Frames

    /// The Lua prototype running in activation record `ci` of `th`, nil for natives.
    @inline(__always) func proto(_ th: UnsafeMutablePointer<ThreadObject>, _ ci: Int) -> UnsafeMutablePointer<ProtoObject>? {
        guard ci > 0, case .function(let f) = th.pointee.stack[th.pointee.cis[ci].funcIndex] else { return nil }
        return f.p.pointee.proto
    }

    /// pc of the instruction running in a Lua frame.
    func currentPC(_ th: UnsafeMutablePointer<ThreadObject>, _ ci: Int) -> Int {
        th.pointee.cis[ci].savedPC - 1
    }

    /// Source line running in a frame, -1 for natives.
    func currentLine(_ th: UnsafeMutablePointer<ThreadObject>, _ ci: Int) -> Int {
        guard let p = proto(th, ci) else { return -1 }
        let pc = currentPC(th, ci)
        guard pc >= 0 && pc < p.pointee.codeCount else { return -1 }
        return Int(p.pointee.lineInfo[pc])
    }

    /// "chunk:line: " of the frame `level` levels up (0 = the running function), or "" (luaL_where).
    public func whereBytes(_ level: Int) -> [UInt8] {
        let th = current
        let ci = th.pointee.ci - level
        guard ci > 0, let p = proto(th, ci) else { return [] }
        let line = currentLine(th, ci)
        if line <= 0 { return [] }
        return Lexer.chunkID(p.pointee.source.buffer, 60) + Array(":\(line): ".utf8)
    }

    /// Source and line of the frame `level` levels up (0 = running function): what Redis's error
    /// handler reads with debug.getinfo. `isNative` is true for Swift functions.
    public func frameInfo(level: Int) -> (source: [UInt8], line: Int, isNative: Bool)? {
        let th = current
        let ci = th.pointee.ci - level
        guard ci > 0 else { return nil }
        guard let p = proto(th, ci) else { return (Array("=[C]".utf8), -1, true) }
        return (p.pointee.source.array, currentLine(th, ci), false)
    }

    // MARK: - Errors

    /// A runtime error with the position of the running Lua function (luaG_runerror).
    func runtimeError(_ msg: [UInt8]) -> LuaError {
        let th = current
        var m = msg
        let ci = th.pointee.ci
        if let p = proto(th, ci) {
            m = Lexer.chunkID(p.pointee.source.buffer, 60) + Array(":\(currentLine(th, ci)): ".utf8) + msg
        }
        return LuaError(.runtime, .string(newString(m)))
    }

    func runtimeError(_ msg: String) -> LuaError { runtimeError(Array(msg.utf8)) }

    /// An error raised by a native (luaL_error): position of the calling Lua code, if any.
    public func error(_ msg: String) -> LuaError { error(Array(msg.utf8)) }

    /// An error raised by a native (luaL_error): position of the calling Lua code, if any.
    public func error(_ msg: [UInt8]) -> LuaError {
        LuaError(.runtime, .string(newString(whereBytes(1) + msg)))
    }

    /// An error with this value, unchanged (lua_error).
    public func error(value: LuaValue) -> LuaError { LuaError(.runtime, value) }

    func typeName(_ v: LuaValue) -> String { v.type.name }

    /// "attempt to <op> <kind> '<name>' (a <type> value)" when `reg` names a register of the running
    /// Lua frame, else "attempt to <op> a <type> value" (luaG_typeerror).
    func typeError(_ v: LuaValue, _ op: String, reg: Int) -> LuaError {
        let t = typeName(v)
        if reg >= 0, let (kind, name) = objectName(current, current.pointee.ci, reg) {
            return runtimeError(Array("attempt to \(op) \(kind) '".utf8) + name + Array("' (a \(t) value)".utf8))
        }
        return runtimeError("attempt to \(op) a \(t) value")
    }

    func arithError(_ a: LuaValue, _ regA: Int, _ b: LuaValue, _ regB: Int) -> LuaError {
        if toNumber(a) == nil { return typeError(a, "perform arithmetic on", reg: regA) }
        return typeError(b, "perform arithmetic on", reg: regB)
    }

    func concatError(_ a: LuaValue, _ regA: Int, _ b: LuaValue, _ regB: Int) -> LuaError {
        switch a {
        case .string, .number: return typeError(b, "concatenate", reg: regB)
        default: return typeError(a, "concatenate", reg: regA)
        }
    }

    func orderError(_ a: LuaValue, _ b: LuaValue) -> LuaError {
        let t1 = typeName(a), t2 = typeName(b)
        if t1 == t2 { return runtimeError("attempt to compare two \(t1) values") }
        return runtimeError("attempt to compare \(t1) with \(t2)")
    }

    // MARK: - Names by symbolic execution

    /// Name of local number `n` (1-based) active at `pc` (luaF_getlocalname).
    func localName(_ p: UnsafeMutablePointer<ProtoObject>, _ n0: Int, _ pc: Int) -> LuaString? {
        var n = n0
        for lv in p.pointee.localVars {
            if Int(lv.startPC) > pc { break }
            if pc < Int(lv.endPC) {
                n -= 1
                if n == 0 { return lv.name }
            }
        }
        return nil
    }

    /// The instruction that last set register `reg` before `lastpc` (ldebug.c's symbexec).
    func symbolicExecution(_ p: UnsafeMutablePointer<ProtoObject>, _ lastpc: Int, _ reg: Int) -> UInt32 {
        let code = p.pointee.code
        var last = p.pointee.codeCount - 1
        var pc = 0
        while pc < lastpc {
            let i = code[pc]
            let op = Instruction.op(i)
            let a = Instruction.a(i)
            let info = Instruction.info[Int(op.rawValue)]
            var b = 0
            var c = 0
            switch info.mode {
            case .abc:
                b = Instruction.b(i)
                c = Instruction.c(i)
            case .abx:
                b = Instruction.bx(i)
            case .asbx:
                b = Instruction.sbx(i)
            }
            if info.setsA && a == reg { last = pc }
            switch op {
            case .loadnil:
                if a <= reg && reg <= b { last = pc }
            case .self:
                if reg == a + 1 { last = pc }
            case .tforloop:
                if reg >= a + 2 { last = pc }
            case .forloop, .forprep, .jmp:
                let dest = pc + 1 + b
                if pc < dest && dest <= lastpc { pc += b }
            case .call, .tailcall:
                if reg >= a { last = pc }
            case .setlist:
                if c == 0 { pc += 1 }
            case .closure:
                pc += Int(p.pointee.protos[b].pointee.upvalueCount)
            default:
                break
            }
            pc += 1
        }
        return code[last]
    }

    private func constantName(_ p: UnsafeMutablePointer<ProtoObject>, _ c: Int) -> [UInt8] {
        if Instruction.isK(c), case .string(let s) = p.pointee.constants[Instruction.indexK(c)] {
            return Array(s.buffer.prefix(while: { $0 != 0 }))
        }
        return [UInt8(ascii: "?")]
    }

    /// Kind ("local", "global", "field", "upvalue", "method") and name of the value in register
    /// `reg` of Lua frame `ci` (getobjname).
    func objectName(_ th: UnsafeMutablePointer<ThreadObject>, _ ci: Int, _ reg: Int) -> (String, [UInt8])? {
        guard let p = proto(th, ci) else { return nil }
        let pc = currentPC(th, ci)
        if let n = localName(p, reg + 1, pc) { return ("local", Array(n.buffer.prefix(while: { $0 != 0 }))) }
        let i = symbolicExecution(p, pc, reg)
        switch Instruction.op(i) {
        case .getglobal:
            if case .string(let s) = p.pointee.constants[Instruction.bx(i)] {
                return ("global", Array(s.buffer.prefix(while: { $0 != 0 })))
            }
        case .move:
            let a = Instruction.a(i), b = Instruction.b(i)
            if b < a { return objectName(th, ci, b) }
        case .gettable:
            return ("field", constantName(p, Instruction.c(i)))
        case .getupval:
            let u = Instruction.b(i)
            if u < p.pointee.upvalueNames.count {
                return ("upvalue", Array(p.pointee.upvalueNames[u].buffer.prefix(while: { $0 != 0 })))
            }
            return ("upvalue", [UInt8(ascii: "?")])
        case .self:
            return ("method", constantName(p, Instruction.c(i)))
        default:
            break
        }
        return nil
    }

    /// Kind and name under which the function of frame `ci` was called (getfuncname).
    func functionName(_ th: UnsafeMutablePointer<ThreadObject>, _ ci: Int) -> (String, [UInt8])? {
        if ci <= 1 { return nil }
        if proto(th, ci) != nil && th.pointee.cis[ci].tailcalls > 0 { return nil }
        let caller = ci - 1
        guard let p = proto(th, caller) else { return nil }
        let pc = currentPC(th, caller)
        guard pc >= 0 && pc < p.pointee.codeCount else { return nil }
        let i = p.pointee.code[pc]
        switch Instruction.op(i) {
        case .call, .tailcall, .tforloop: return objectName(th, caller, Instruction.a(i))
        default: return nil
        }
    }

    /// luaL_argerror: "bad argument #n to 'f' (msg)", with Lua's method adjustment.
    public func argError(_ narg0: Int, _ extra: String) -> LuaError {
        argError(narg0, Array(extra.utf8))
    }

    /// luaL_argerror with a byte message.
    public func argError(_ narg0: Int, _ extra: [UInt8]) -> LuaError {
        var narg = narg0
        let th = current
        let name = functionName(th, th.pointee.ci)
        if let (kind, n) = name, kind == "method" {
            narg -= 1
            if narg == 0 {
                return error(Array("calling '".utf8) + n + Array("' on bad self (".utf8) + extra + Array(")".utf8))
            }
        }
        let fname = name?.1 ?? [UInt8(ascii: "?")]
        return error(Array("bad argument #\(narg) to '".utf8) + fname + Array("' (".utf8) + extra + Array(")".utf8))
    }

    /// luaL_typerror: "bad argument #n to 'f' (T expected, got U)".
    public func typeArgError(_ args: LuaArgs, _ narg: Int, _ expected: String) -> LuaError {
        argError(narg, "\(expected) expected, got \(args.type(narg).name)")
    }
}

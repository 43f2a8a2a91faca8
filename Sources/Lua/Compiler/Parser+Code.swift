// The code generator (Lua 5.1's lcode.c): register allocation, jump lists, constant folding and
// RK operands, producing exactly the bytecode luac 5.1 produces.

extension Parser {
    // MARK: - Emitting

    @discardableResult
    func code(_ i: UInt32, _ line: Int) -> Int {
        dischargeJpc()
        fs.code.append(i)
        fs.lineInfo.append(Int32(truncatingIfNeeded: line))
        return fs.pc - 1
    }

    @discardableResult
    func codeABC(_ o: OpCode, _ a: Int, _ b: Int, _ c: Int) -> Int {
        code(Instruction.abc(o, a, b, c), lex.lastLine)
    }

    @discardableResult
    func codeABx(_ o: OpCode, _ a: Int, _ bx: Int) -> Int {
        code(Instruction.abx(o, a, bx), lex.lastLine)
    }

    @discardableResult
    func codeAsBx(_ o: OpCode, _ a: Int, _ sbx: Int) -> Int {
        codeABx(o, a, sbx + Instruction.maxSBx)
    }

    func fixLine(_ line: Int) {
        fs.lineInfo[fs.pc - 1] = Int32(truncatingIfNeeded: line)
    }

    func codeNil(_ from: Int, _ n: Int) {
        if fs.pc > fs.lasttarget {
            if fs.pc == 0 {
                if from >= fs.nactvar { return }
            } else {
                let previous = fs.code[fs.pc - 1]
                if Instruction.op(previous) == .loadnil {
                    let pfrom = Instruction.a(previous)
                    let pto = Instruction.b(previous)
                    if pfrom <= from && from <= pto + 1 {
                        if from + n - 1 > pto { Instruction.setB(&fs.code[fs.pc - 1], from + n - 1) }
                        return
                    }
                }
            }
        }
        codeABC(.loadnil, from, from + n - 1, 0)
    }

    func jump() throws(LuaError) -> Int {
        let jpc = fs.jpc
        fs.jpc = noJump
        var j = codeAsBx(.jmp, 0, noJump)
        try concat(&j, jpc)
        return j
    }

    func ret(_ first: Int, _ nret: Int) {
        codeABC(.return, first, nret + 1, 0)
    }

    func condJump(_ op: OpCode, _ a: Int, _ b: Int, _ c: Int) throws(LuaError) -> Int {
        codeABC(op, a, b, c)
        return try jump()
    }

    func fixJump(_ pc: Int, _ dest: Int) throws(LuaError) {
        let offset = dest - (pc + 1)
        if abs(offset) > Instruction.maxSBx { throw lex.syntaxError("control structure too long") }
        Instruction.setSBx(&fs.code[pc], offset)
    }

    @discardableResult
    func getLabel() -> Int {
        fs.lasttarget = fs.pc
        return fs.pc
    }

    func getJump(_ pc: Int) -> Int {
        let offset = Instruction.sbx(fs.code[pc])
        return offset == noJump ? noJump : pc + 1 + offset
    }

    /// Index of the instruction controlling the jump at `pc` (the test before it, if any).
    func jumpControl(_ pc: Int) -> Int {
        if pc >= 1 && Instruction.info[Int(Instruction.op(fs.code[pc - 1]).rawValue)].isTest { return pc - 1 }
        return pc
    }

    func needValue(_ list0: Int) -> Bool {
        var list = list0
        while list != noJump {
            if Instruction.op(fs.code[jumpControl(list)]) != .testset { return true }
            list = getJump(list)
        }
        return false
    }

    func patchTestReg(_ node: Int, _ reg: Int) -> Bool {
        let ic = jumpControl(node)
        let i = fs.code[ic]
        if Instruction.op(i) != .testset { return false }
        if reg != Instruction.noReg && reg != Instruction.b(i) {
            Instruction.setA(&fs.code[ic], reg)
        } else {
            fs.code[ic] = Instruction.abc(.test, Instruction.b(i), 0, Instruction.c(i))
        }
        return true
    }

    func removeValues(_ list0: Int) {
        var list = list0
        while list != noJump {
            _ = patchTestReg(list, Instruction.noReg)
            list = getJump(list)
        }
    }

    func patchListAux(_ list0: Int, _ vtarget: Int, _ reg: Int, _ dtarget: Int) throws(LuaError) {
        var list = list0
        while list != noJump {
            let next = getJump(list)
            if patchTestReg(list, reg) {
                try fixJump(list, vtarget)
            } else {
                try fixJump(list, dtarget)
            }
            list = next
        }
    }

    func dischargeJpc() {
        // A jump too long to encode is reported when the function is closed.
        do { try patchListAux(fs.jpc, fs.pc, Instruction.noReg, fs.pc) } catch { deferredError = deferredError ?? error }
        fs.jpc = noJump
    }

    func patchList(_ list: Int, _ target: Int) throws(LuaError) {
        if target == fs.pc {
            try patchToHere(list)
        } else {
            try patchListAux(list, target, Instruction.noReg, target)
        }
    }

    func patchToHere(_ list: Int) throws(LuaError) {
        getLabel()
        try concat(&fs.jpc, list)
    }

    func concat(_ l1: inout Int, _ l2: Int) throws(LuaError) {
        if l2 == noJump { return }
        if l1 == noJump {
            l1 = l2
        } else {
            var list = l1
            var next = getJump(list)
            while next != noJump {
                list = next
                next = getJump(list)
            }
            try fixJump(list, l2)
        }
    }

    // MARK: - Registers

    func checkStack(_ n: Int) throws(LuaError) {
        let newstack = fs.freereg + n
        if newstack > fs.maxStackSize {
            if newstack >= CompilerLimits.maxStack { throw lex.syntaxError("function or expression too complex") }
            fs.maxStackSize = newstack
        }
    }

    func reserveRegs(_ n: Int) throws(LuaError) {
        try checkStack(n)
        fs.freereg += n
    }

    func freeReg(_ reg: Int) {
        if !Instruction.isK(reg) && reg >= fs.nactvar { fs.freereg -= 1 }
    }

    func freeExp(_ e: ExpDesc) {
        if e.k == .nonreloc { freeReg(e.info) }
    }

    // MARK: - Constants

    func addConstant(_ key: ConstantKey, _ v: LuaValue) throws(LuaError) -> Int {
        // Most functions have a handful of constants: a scan beats hashing (Lua uses a table).
        let n = fs.constants.count
        if n <= 32 {
            for i in 0..<n where FuncState.sameConstant(fs.constants[i], v) { return i }
        } else {
            if fs.constantIndex.isEmpty {
                for i in 0..<n { fs.constantIndex[FuncState.key(fs.constants[i])] = i }
            }
            if let i = fs.constantIndex[key] { return i }
        }
        if n >= Instruction.maxBx { throw lex.syntaxError("constant table overflow") }
        fs.constants.append(v)
        if n + 1 > 33 { fs.constantIndex[key] = n }
        return n
    }

    func stringK(_ s: LuaString) throws(LuaError) -> Int { try addConstant(.string(s), .string(s)) }
    func numberK(_ r: Double) throws(LuaError) -> Int { try addConstant(.number(r), .number(r)) }
    func boolK(_ b: Bool) throws(LuaError) -> Int { try addConstant(.bool(b), .bool(b)) }
    func nilK() throws(LuaError) -> Int { try addConstant(.nil, .nil) }

    // MARK: - Expressions

    func setReturns(_ e: inout ExpDesc, _ nresults: Int) throws(LuaError) {
        if e.k == .call {
            Instruction.setC(&fs.code[e.info], nresults + 1)
        } else if e.k == .vararg {
            Instruction.setB(&fs.code[e.info], nresults + 1)
            Instruction.setA(&fs.code[e.info], fs.freereg)
            try reserveRegs(1)
        }
    }

    func setMultRet(_ e: inout ExpDesc) throws(LuaError) { try setReturns(&e, -1) }

    func setOneRet(_ e: inout ExpDesc) {
        if e.k == .call {
            e.k = .nonreloc
            e.info = Instruction.a(fs.code[e.info])
        } else if e.k == .vararg {
            Instruction.setB(&fs.code[e.info], 2)
            e.k = .relocable
        }
    }

    func dischargeVars(_ e: inout ExpDesc) {
        switch e.k {
        case .local:
            e.k = .nonreloc
        case .upval:
            e.info = codeABC(.getupval, 0, e.info, 0)
            e.k = .relocable
        case .global:
            e.info = codeABx(.getglobal, 0, e.info)
            e.k = .relocable
        case .indexed:
            freeReg(e.aux)
            freeReg(e.info)
            e.info = codeABC(.gettable, 0, e.info, e.aux)
            e.k = .relocable
        case .vararg, .call:
            setOneRet(&e)
        default:
            break
        }
    }

    func codeLabel(_ a: Int, _ b: Int, _ jump: Int) -> Int {
        getLabel()
        return codeABC(.loadbool, a, b, jump)
    }

    func discharge2Reg(_ e: inout ExpDesc, _ reg: Int) throws(LuaError) {
        dischargeVars(&e)
        switch e.k {
        case .nil: codeNil(reg, 1)
        case .false, .true: codeABC(.loadbool, reg, e.k == .true ? 1 : 0, 0)
        case .k: codeABx(.loadk, reg, e.info)
        case .knum: codeABx(.loadk, reg, try numberK(e.nval))
        case .relocable: Instruction.setA(&fs.code[e.info], reg)
        case .nonreloc:
            if reg != e.info { codeABC(.move, reg, e.info, 0) }
        default:
            return  // void or jmp: nothing to do
        }
        e.info = reg
        e.k = .nonreloc
    }

    func discharge2AnyReg(_ e: inout ExpDesc) throws(LuaError) {
        if e.k != .nonreloc {
            try reserveRegs(1)
            try discharge2Reg(&e, fs.freereg - 1)
        }
    }

    func exp2Reg(_ e: inout ExpDesc, _ reg: Int) throws(LuaError) {
        try discharge2Reg(&e, reg)
        if e.k == .jmp { try concat(&e.t, e.info) }
        if e.hasJumps {
            var pf = noJump
            var pt = noJump
            if needValue(e.t) || needValue(e.f) {
                let fj = e.k == .jmp ? noJump : try jump()
                pf = codeLabel(reg, 0, 1)
                pt = codeLabel(reg, 1, 0)
                try patchToHere(fj)
            }
            let final = getLabel()
            try patchListAux(e.f, final, reg, pf)
            try patchListAux(e.t, final, reg, pt)
        }
        e.f = noJump
        e.t = noJump
        e.info = reg
        e.k = .nonreloc
    }

    func exp2NextReg(_ e: inout ExpDesc) throws(LuaError) {
        dischargeVars(&e)
        freeExp(e)
        try reserveRegs(1)
        try exp2Reg(&e, fs.freereg - 1)
    }

    @discardableResult
    func exp2AnyReg(_ e: inout ExpDesc) throws(LuaError) -> Int {
        dischargeVars(&e)
        if e.k == .nonreloc {
            if !e.hasJumps { return e.info }
            if e.info >= fs.nactvar {
                try exp2Reg(&e, e.info)
                return e.info
            }
        }
        try exp2NextReg(&e)
        return e.info
    }

    func exp2Val(_ e: inout ExpDesc) throws(LuaError) {
        if e.hasJumps { try exp2AnyReg(&e) } else { dischargeVars(&e) }
    }

    func exp2RK(_ e: inout ExpDesc) throws(LuaError) -> Int {
        try exp2Val(&e)
        switch e.k {
        case .knum, .true, .false, .nil:
            if fs.constants.count <= Instruction.maxIndexRK {
                e.info = e.k == .nil ? try nilK() : e.k == .knum ? try numberK(e.nval) : try boolK(e.k == .true)
                e.k = .k
                return Instruction.rkAsK(e.info)
            }
        case .k:
            if e.info <= Instruction.maxIndexRK { return Instruction.rkAsK(e.info) }
        default:
            break
        }
        return try exp2AnyReg(&e)
    }

    func storeVar(_ v: ExpDesc, _ ex: inout ExpDesc) throws(LuaError) {
        switch v.k {
        case .local:
            freeExp(ex)
            try exp2Reg(&ex, v.info)
            return
        case .upval:
            let e = try exp2AnyReg(&ex)
            codeABC(.setupval, e, v.info, 0)
        case .global:
            let e = try exp2AnyReg(&ex)
            codeABx(.setglobal, e, v.info)
        case .indexed:
            let e = try exp2RK(&ex)
            codeABC(.settable, v.info, v.aux, e)
        default:
            break
        }
        freeExp(ex)
    }

    func codeSelf(_ e: inout ExpDesc, _ key: inout ExpDesc) throws(LuaError) {
        try exp2AnyReg(&e)
        freeExp(e)
        let fn = fs.freereg
        try reserveRegs(2)
        codeABC(.self, fn, e.info, try exp2RK(&key))
        freeExp(key)
        e.info = fn
        e.k = .nonreloc
    }

    func invertJump(_ e: ExpDesc) {
        let pc = jumpControl(e.info)
        Instruction.setA(&fs.code[pc], Instruction.a(fs.code[pc]) == 0 ? 1 : 0)
    }

    func jumpOnCond(_ e: inout ExpDesc, _ cond: Int) throws(LuaError) -> Int {
        if e.k == .relocable {
            let ie = fs.code[e.info]
            if Instruction.op(ie) == .not {
                fs.code.removeLast()
                fs.lineInfo.removeLast()
                return try condJump(.test, Instruction.b(ie), 0, cond == 0 ? 1 : 0)
            }
        }
        try discharge2AnyReg(&e)
        freeExp(e)
        return try condJump(.testset, Instruction.noReg, e.info, cond)
    }

    func goIfTrue(_ e: inout ExpDesc) throws(LuaError) {
        dischargeVars(&e)
        let pc: Int
        switch e.k {
        case .k, .knum, .true: pc = noJump
        case .jmp:
            invertJump(e)
            pc = e.info
        default:
            pc = try jumpOnCond(&e, 0)
        }
        try concat(&e.f, pc)
        try patchToHere(e.t)
        e.t = noJump
    }

    func goIfFalse(_ e: inout ExpDesc) throws(LuaError) {
        dischargeVars(&e)
        let pc: Int
        switch e.k {
        case .nil, .false: pc = noJump
        case .jmp: pc = e.info
        default: pc = try jumpOnCond(&e, 1)
        }
        try concat(&e.t, pc)
        try patchToHere(e.f)
        e.f = noJump
    }

    func codeNot(_ e: inout ExpDesc) throws(LuaError) {
        dischargeVars(&e)
        switch e.k {
        case .nil, .false: e.k = .true
        case .k, .knum, .true: e.k = .false
        case .jmp: invertJump(e)
        case .relocable, .nonreloc:
            try discharge2AnyReg(&e)
            freeExp(e)
            e.info = codeABC(.not, 0, e.info, 0)
            e.k = .relocable
        default: break
        }
        swap(&e.f, &e.t)
        removeValues(e.f)
        removeValues(e.t)
    }

    func indexed(_ t: inout ExpDesc, _ k: inout ExpDesc) throws(LuaError) {
        t.aux = try exp2RK(&k)
        t.k = .indexed
    }

    func isNumeral(_ e: ExpDesc) -> Bool { e.k == .knum && e.t == noJump && e.f == noJump }

    func constFolding(_ op: OpCode, _ e1: inout ExpDesc, _ e2: ExpDesc) -> Bool {
        if !isNumeral(e1) || !isNumeral(e2) { return false }
        let v1 = e1.nval, v2 = e2.nval
        let r: Double
        switch op {
        case .add: r = v1 + v2
        case .sub: r = v1 - v2
        case .mul: r = v1 * v2
        case .div:
            if v2 == 0 { return false }
            r = v1 / v2
        case .mod:
            if v2 == 0 { return false }
            r = luaMod(v1, v2)
        case .pow: r = luaPow(v1, v2)
        case .unm: r = -v1
        default: return false
        }
        if r.isNaN { return false }
        e1.nval = r
        return true
    }

    func codeArith(_ op: OpCode, _ e1: inout ExpDesc, _ e2: inout ExpDesc) throws(LuaError) {
        if constFolding(op, &e1, e2) { return }
        let o2 = (op != .unm && op != .len) ? try exp2RK(&e2) : 0
        let o1 = try exp2RK(&e1)
        if o1 > o2 {
            freeExp(e1)
            freeExp(e2)
        } else {
            freeExp(e2)
            freeExp(e1)
        }
        e1.info = codeABC(op, 0, o1, o2)
        e1.k = .relocable
    }

    func codeComp(_ op: OpCode, _ cond0: Int, _ e1: inout ExpDesc, _ e2: inout ExpDesc) throws(LuaError) {
        var o1 = try exp2RK(&e1)
        var o2 = try exp2RK(&e2)
        var cond = cond0
        freeExp(e2)
        freeExp(e1)
        if cond == 0 && op != .eq {
            swap(&o1, &o2)
            cond = 1
        }
        e1.info = try condJump(op, cond, o1, o2)
        e1.k = .jmp
    }

    func prefix(_ op: UnaryOperator, _ e: inout ExpDesc) throws(LuaError) {
        var e2 = ExpDesc(.knum, 0)
        e2.nval = 0
        switch op {
        case .minus:
            if !isNumeral(e) { try exp2AnyReg(&e) }
            try codeArith(.unm, &e, &e2)
        case .not:
            try codeNot(&e)
        case .len:
            try exp2AnyReg(&e)
            try codeArith(.len, &e, &e2)
        }
    }

    func infix(_ op: BinaryOperator, _ v: inout ExpDesc) throws(LuaError) {
        switch op {
        case .and: try goIfTrue(&v)
        case .or: try goIfFalse(&v)
        case .concat: try exp2NextReg(&v)
        case .add, .sub, .mul, .div, .mod, .pow:
            if !isNumeral(v) { _ = try exp2RK(&v) }
        default:
            _ = try exp2RK(&v)
        }
    }

    func posfix(_ op: BinaryOperator, _ e1: inout ExpDesc, _ e2: inout ExpDesc) throws(LuaError) {
        switch op {
        case .and:
            dischargeVars(&e2)
            try concat(&e2.f, e1.f)
            e1 = e2
        case .or:
            dischargeVars(&e2)
            try concat(&e2.t, e1.t)
            e1 = e2
        case .concat:
            try exp2Val(&e2)
            if e2.k == .relocable && Instruction.op(fs.code[e2.info]) == .concat {
                freeExp(e1)
                Instruction.setB(&fs.code[e2.info], e1.info)
                e1.k = .relocable
                e1.info = e2.info
            } else {
                try exp2NextReg(&e2)
                try codeArith(.concat, &e1, &e2)
            }
        case .add: try codeArith(.add, &e1, &e2)
        case .sub: try codeArith(.sub, &e1, &e2)
        case .mul: try codeArith(.mul, &e1, &e2)
        case .div: try codeArith(.div, &e1, &e2)
        case .mod: try codeArith(.mod, &e1, &e2)
        case .pow: try codeArith(.pow, &e1, &e2)
        case .eq: try codeComp(.eq, 1, &e1, &e2)
        case .ne: try codeComp(.eq, 0, &e1, &e2)
        case .lt: try codeComp(.lt, 1, &e1, &e2)
        case .le: try codeComp(.le, 1, &e1, &e2)
        case .gt: try codeComp(.lt, 0, &e1, &e2)
        case .ge: try codeComp(.le, 0, &e1, &e2)
        }
    }

    func setList(_ base: Int, _ nelems: Int, _ tostore: Int) {
        let c = (nelems - 1) / Instruction.fieldsPerFlush + 1
        let b = tostore == -1 ? 0 : tostore
        if c <= Instruction.maxC {
            codeABC(.setlist, base, b, c)
        } else {
            codeABC(.setlist, base, b, 0)
            code(UInt32(truncatingIfNeeded: c), lex.lastLine)
        }
        fs.freereg = base + 1
    }
}

/// Lua's `%`: a - floor(a/b)*b.
@inline(__always) func luaMod(_ a: Double, _ b: Double) -> Double {
    a - (a / b).rounded(.down) * b
}

/// Lua's `^` (C's pow).
@inline(__always) func luaPow(_ a: Double, _ b: Double) -> Double {
    Glibc.pow(a, b)
}

import Glibc

// Statements (the second half of lparser.c).

extension Parser {
    func blockFollow(_ token: Int) -> Bool {
        switch token {
        case Token.else, Token.elseif, Token.end, Token.until, Token.eos: return true
        default: return false
        }
    }

    func block() throws(LuaError) {
        enterBlock(false)
        try chunk()
        try leaveBlock()
    }

    /// One variable of the left-hand side of a multiple assignment.
    final class LHSAssign {
        let prev: LHSAssign?
        var v: ExpDesc
        init(prev: LHSAssign?, v: ExpDesc) {
            self.prev = prev
            self.v = v
        }
    }

    func checkConflict(_ lh0: LHSAssign?, _ v: ExpDesc) throws(LuaError) {
        let extra = fs.freereg
        var conflict = false
        var lh = lh0
        while let l = lh {
            if l.v.k == .indexed {
                if l.v.info == v.info {
                    conflict = true
                    l.v.info = extra
                }
                if l.v.aux == v.info {
                    conflict = true
                    l.v.aux = extra
                }
            }
            lh = l.prev
        }
        if conflict {
            codeABC(.move, fs.freereg, v.info, 0)
            try reserveRegs(1)
        }
    }

    func assignment(_ lh: LHSAssign, _ nvars: Int) throws(LuaError) {
        var e = ExpDesc()
        switch lh.v.k {
        case .local, .upval, .global, .indexed: break
        default: throw lex.syntaxError("syntax error")
        }
        if try testNext(44) {
            let nv = LHSAssign(prev: lh, v: ExpDesc())
            try primaryExp(&nv.v)
            if nv.v.k == .local { try checkConflict(lh, nv.v) }
            try checkLimit(nvars, CompilerLimits.maxCCalls - state.nCcalls, "variables in assignment")
            try assignment(nv, nvars + 1)
        } else {
            try checkNext(61)
            let nexps = try expList1(&e)
            if nexps != nvars {
                try adjustAssign(nvars, nexps, &e)
                if nexps > nvars { fs.freereg -= nexps - nvars }
            } else {
                setOneRet(&e)
                try storeVar(lh.v, &e)
                return
            }
        }
        e = ExpDesc(.nonreloc, fs.freereg - 1)
        try storeVar(lh.v, &e)
    }

    func cond() throws(LuaError) -> Int {
        var v = ExpDesc()
        try expr(&v)
        if v.k == .nil { v.k = .false }
        try goIfTrue(&v)
        return v.f
    }

    func breakStat() throws(LuaError) {
        var bl = fs.bl
        var upval = false
        while let b = bl, !b.isBreakable {
            upval = upval || b.upval
            bl = b.previous
        }
        guard let target = bl else { throw lex.syntaxError("no loop to break") }
        if upval { codeABC(.close, target.nactvar, 0, 0) }
        let j = try jump()
        try concat(&target.breakList, j)
    }

    func whileStat(_ line: Int) throws(LuaError) {
        try lex.nextToken()
        let whileInit = getLabel()
        let condExit = try cond()
        enterBlock(true)
        try checkNext(Token.do)
        try block()
        try patchList(try jump(), whileInit)
        try checkMatch(Token.end, Token.while, line)
        try leaveBlock()
        try patchToHere(condExit)
    }

    func repeatStat(_ line: Int) throws(LuaError) {
        let repeatInit = getLabel()
        enterBlock(true)   // loop block
        enterBlock(false)  // scope block
        let bl2 = fs.bl!
        try lex.nextToken()
        try chunk()
        try checkMatch(Token.until, Token.repeat, line)
        let condExit = try cond()
        if !bl2.upval {
            try leaveBlock()
            try patchList(condExit, repeatInit)
        } else {
            try breakStat()
            try patchToHere(condExit)
            try leaveBlock()
            try patchList(try jump(), repeatInit)
        }
        try leaveBlock()
    }

    func exp1() throws(LuaError) {
        var e = ExpDesc()
        try expr(&e)
        try exp2NextReg(&e)
    }

    func forBody(_ base: Int, _ line: Int, _ nvars: Int, _ isNum: Bool) throws(LuaError) {
        adjustLocalVars(3)
        try checkNext(Token.do)
        let prep = isNum ? codeAsBx(.forprep, base, noJump) : try jump()
        enterBlock(false)
        adjustLocalVars(nvars)
        try reserveRegs(nvars)
        try block()
        try leaveBlock()
        try patchToHere(prep)
        let endfor = isNum ? codeAsBx(.forloop, base, noJump) : codeABC(.tforloop, base, 0, nvars)
        fixLine(line)
        try patchList(isNum ? endfor : try jump(), prep + 1)
    }

    func forNum(_ varname: LuaString, _ line: Int) throws(LuaError) {
        let base = fs.freereg
        try newLocalVarLiteral("(for index)", 0)
        try newLocalVarLiteral("(for limit)", 1)
        try newLocalVarLiteral("(for step)", 2)
        try newLocalVar(varname, 3)
        try checkNext(61)
        try exp1()
        try checkNext(44)
        try exp1()
        if try testNext(44) {
            try exp1()
        } else {
            codeABx(.loadk, fs.freereg, try numberK(1))
            try reserveRegs(1)
        }
        try forBody(base, line, 1, true)
    }

    func forList(_ indexName: LuaString) throws(LuaError) {
        var e = ExpDesc()
        var nvars = 0
        let base = fs.freereg
        try newLocalVarLiteral("(for generator)", nvars); nvars += 1
        try newLocalVarLiteral("(for state)", nvars); nvars += 1
        try newLocalVarLiteral("(for control)", nvars); nvars += 1
        try newLocalVar(indexName, nvars); nvars += 1
        while try testNext(44) {
            try newLocalVar(try strCheckName(), nvars)
            nvars += 1
        }
        try checkNext(Token.in)
        let line = lex.lineNumber
        try adjustAssign(3, try expList1(&e), &e)
        try checkStack(3)
        try forBody(base, line, nvars - 3, false)
    }

    func forStat(_ line: Int) throws(LuaError) {
        enterBlock(true)
        try lex.nextToken()
        let varname = try strCheckName()
        switch lex.t.token {
        case 61: try forNum(varname, line)
        case 44, Token.in: try forList(varname)
        default: throw lex.syntaxError("'=' or 'in' expected")
        }
        try checkMatch(Token.end, Token.for, line)
        try leaveBlock()
    }

    func testThenBlock() throws(LuaError) -> Int {
        try lex.nextToken()
        let condExit = try cond()
        try checkNext(Token.then)
        try block()
        return condExit
    }

    func ifStat(_ line: Int) throws(LuaError) {
        var escapeList = noJump
        var flist = try testThenBlock()
        while lex.t.token == Token.elseif {
            try concat(&escapeList, try jump())
            try patchToHere(flist)
            flist = try testThenBlock()
        }
        if lex.t.token == Token.else {
            try concat(&escapeList, try jump())
            try patchToHere(flist)
            try lex.nextToken()
            try block()
        } else {
            try concat(&escapeList, flist)
        }
        try patchToHere(escapeList)
        try checkMatch(Token.end, Token.if, line)
    }

    func localFunc() throws(LuaError) {
        var b = ExpDesc()
        try newLocalVar(try strCheckName(), 0)
        let v = ExpDesc(.local, fs.freereg)
        try reserveRegs(1)
        adjustLocalVars(1)
        try body(&b, false, lex.lineNumber)
        try storeVar(v, &b)
        fs.localVars[fs.actvar[fs.nactvar - 1]].startPC = Int32(fs.pc)
    }

    func localStat() throws(LuaError) {
        var nvars = 0
        var e = ExpDesc()
        let nexps: Int
        repeat {
            try newLocalVar(try strCheckName(), nvars)
            nvars += 1
        } while try testNext(44)
        if try testNext(61) {
            nexps = try expList1(&e)
        } else {
            e.k = .void
            nexps = 0
        }
        try adjustAssign(nvars, nexps, &e)
        adjustLocalVars(nvars)
    }

    func funcName(_ v: inout ExpDesc) throws(LuaError) -> Bool {
        var needSelf = false
        try singleVar(&v)
        while lex.t.token == 46 { try field(&v) }
        if lex.t.token == 58 {
            needSelf = true
            try field(&v)
        }
        return needSelf
    }

    func funcStat(_ line: Int) throws(LuaError) {
        var v = ExpDesc()
        var b = ExpDesc()
        try lex.nextToken()
        let needSelf = try funcName(&v)
        try body(&b, needSelf, line)
        try storeVar(v, &b)
        fixLine(line)
    }

    func exprStat() throws(LuaError) {
        let v = LHSAssign(prev: nil, v: ExpDesc())
        try primaryExp(&v.v)
        if v.v.k == .call {
            Instruction.setC(&fs.code[v.v.info], 1)
        } else {
            try assignment(v, 1)
        }
    }

    func retStat() throws(LuaError) {
        var e = ExpDesc()
        var first: Int
        var nret: Int
        try lex.nextToken()
        if blockFollow(lex.t.token) || lex.t.token == 59 {
            first = 0
            nret = 0
        } else {
            nret = try expList1(&e)
            if e.hasMultRet {
                try setMultRet(&e)
                if e.k == .call && nret == 1 {
                    Instruction.setOp(&fs.code[e.info], .tailcall)
                }
                first = fs.nactvar
                nret = -1
            } else if nret == 1 {
                first = try exp2AnyReg(&e)
            } else {
                try exp2NextReg(&e)
                first = fs.nactvar
            }
        }
        ret(first, nret)
    }

    func statement() throws(LuaError) -> Bool {
        let line = lex.lineNumber
        switch lex.t.token {
        case Token.if:
            try ifStat(line)
        case Token.while:
            try whileStat(line)
        case Token.do:
            try lex.nextToken()
            try block()
            try checkMatch(Token.end, Token.do, line)
        case Token.for:
            try forStat(line)
        case Token.repeat:
            try repeatStat(line)
        case Token.function:
            try funcStat(line)
        case Token.local:
            try lex.nextToken()
            if try testNext(Token.function) { try localFunc() } else { try localStat() }
        case Token.return:
            try retStat()
            return true
        case Token.break:
            try lex.nextToken()
            try breakStat()
            return true
        default:
            try exprStat()
        }
        return false
    }

    func chunk() throws(LuaError) {
        var isLast = false
        try enterLevel()
        while !isLast && !blockFollow(lex.t.token) {
            isLast = try statement()
            _ = try testNext(59)
            fs.freereg = fs.nactvar
        }
        leaveLevel()
    }
}

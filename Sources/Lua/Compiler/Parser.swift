// The parser (Lua 5.1's lparser.c): one pass, emitting code through Parser+Code as it reads.

enum UnaryOperator { case minus, not, len }

enum BinaryOperator: Int {
    case add, sub, mul, div, mod, pow, concat, ne, eq, lt, le, gt, ge, and, or

    /// Left and right priorities (lparser.c's priority table).
    static let priority: [(left: Int, right: Int)] = [
        (6, 6), (6, 6), (7, 7), (7, 7), (7, 7), (10, 9), (5, 4),
        (3, 3), (3, 3), (3, 3), (3, 3), (3, 3), (3, 3), (2, 2), (1, 1),
    ]
}

let unaryPriority = 8

/// Compiles one chunk to a prototype.
final class Parser {
    var lex: Lexer
    var fs: FuncState
    let state: LuaState
    /// A jump that could not be encoded, reported at the end (see dischargeJpc).
    var deferredError: LuaError?

    init(state: LuaState, source: UnsafeBufferPointer<UInt8>, chunkName: LuaString) {
        self.state = state
        lex = Lexer(state: state, source: source, chunkName: chunkName)
        fs = FuncState(prev: nil)
    }

    /// Parses the whole chunk; returns the main function's prototype.
    func parseChunk() throws(LuaError) -> UnsafeMutablePointer<ProtoObject> {
        fs.isVararg = VarargFlags.isVararg
        try lex.nextToken()
        try chunk()
        try check(Token.eos)
        let p = try closeFunc()
        if let e = deferredError { throw e }
        return p
    }

    // MARK: - Helpers

    func errorExpected(_ token: Int) -> LuaError {
        lex.syntaxError(Array("'".utf8) + lex.tokenText(token) + Array("' expected".utf8))
    }

    func testNext(_ c: Int) throws(LuaError) -> Bool {
        if lex.t.token == c {
            try lex.nextToken()
            return true
        }
        return false
    }

    func check(_ c: Int) throws(LuaError) {
        if lex.t.token != c { throw errorExpected(c) }
    }

    func checkNext(_ c: Int) throws(LuaError) {
        try check(c)
        try lex.nextToken()
    }

    func checkCondition(_ c: Bool, _ msg: String) throws(LuaError) {
        if !c { throw lex.syntaxError(msg) }
    }

    func checkMatch(_ what: Int, _ who: Int, _ where_: Int) throws(LuaError) {
        if try !testNext(what) {
            if where_ == lex.lineNumber { throw errorExpected(what) }
            throw lex.syntaxError(Array("'".utf8) + lex.tokenText(what) + Array("' expected (to close '".utf8)
                                  + lex.tokenText(who) + Array("' at line \(where_))".utf8))
        }
    }

    func strCheckName() throws(LuaError) -> LuaString {
        try check(Token.name)
        let s = lex.t.string!
        try lex.nextToken()
        return s
    }

    func codeString(_ e: inout ExpDesc, _ s: LuaString) throws(LuaError) {
        e = ExpDesc(.k, try stringK(s))
    }

    func checkName(_ e: inout ExpDesc) throws(LuaError) {
        try codeString(&e, try strCheckName())
    }

    func errorLimit(_ limit: Int, _ what: String) -> LuaError {
        let msg = fs.lineDefined == 0 ? "main function has more than \(limit) \(what)"
            : "function at line \(fs.lineDefined) has more than \(limit) \(what)"
        return lex.error(msg, 0)
    }

    func checkLimit(_ v: Int, _ l: Int, _ what: String) throws(LuaError) {
        if v > l { throw errorLimit(l, what) }
    }

    func enterLevel() throws(LuaError) {
        lex.level += 1
        state.nCcalls += 1
        if state.nCcalls > state.maxNativeDepth || lex.level > CompilerLimits.maxCCalls || state.nativeStackExhausted() {
            throw lex.error("chunk has too many syntax levels", 0)
        }
    }

    func leaveLevel() {
        lex.level -= 1
        state.nCcalls -= 1
    }

    // MARK: - Variables

    func registerLocalVar(_ name: LuaString) throws(LuaError) -> Int {
        if fs.localVars.count >= Int(Int16.max) { throw lex.syntaxError("too many local variables") }
        fs.localVars.append(LocalVariableInfo(name: name, startPC: 0, endPC: 0))
        return fs.localVars.count - 1
    }

    func newLocalVar(_ name: LuaString, _ n: Int) throws(LuaError) {
        try checkLimit(fs.nactvar + n + 1, CompilerLimits.maxVars, "local variables")
        let slot = fs.nactvar + n
        while fs.actvar.count <= slot { fs.actvar.append(0) }
        fs.actvar[slot] = try registerLocalVar(name)
    }

    func newLocalVarLiteral(_ name: String, _ n: Int) throws(LuaError) {
        try newLocalVar(state.newString(name), n)
    }

    func adjustLocalVars(_ nvars: Int) {
        fs.nactvar += nvars
        var n = nvars
        while n > 0 {
            fs.localVars[fs.actvar[fs.nactvar - n]].startPC = Int32(fs.pc)
            n -= 1
        }
    }

    func removeVars(_ tolevel: Int) {
        while fs.nactvar > tolevel {
            fs.nactvar -= 1
            fs.localVars[fs.actvar[fs.nactvar]].endPC = Int32(fs.pc)
        }
    }

    func indexUpvalue(_ f: FuncState, _ name: LuaString, _ v: ExpDesc) throws(LuaError) -> Int {
        for (i, u) in f.upvalues.enumerated() where u.kind == v.k && u.info == v.info { return i }
        if f.upvalues.count + 1 > CompilerLimits.maxUpvalues {
            let msg = f.lineDefined == 0 ? "main function has more than \(CompilerLimits.maxUpvalues) upvalues"
                : "function at line \(f.lineDefined) has more than \(CompilerLimits.maxUpvalues) upvalues"
            throw lex.error(msg, 0)
        }
        f.upvalueNames.append(name)
        f.upvalues.append((v.k, v.info))
        return f.upvalues.count - 1
    }

    func searchVar(_ f: FuncState, _ n: LuaString) -> Int {
        var i = f.nactvar - 1
        while i >= 0 {
            if f.localVars[f.actvar[i]].name == n { return i }
            i -= 1
        }
        return -1
    }

    func markUpval(_ f: FuncState, _ level: Int) {
        var bl = f.bl
        while let b = bl, b.nactvar > level { bl = b.previous }
        bl?.upval = true
    }

    func singleVarAux(_ f: FuncState?, _ n: LuaString, _ v: inout ExpDesc, _ base: Bool) throws(LuaError) -> ExpKind {
        guard let f else {
            v = ExpDesc(.global, Instruction.noReg)
            return .global
        }
        let i = searchVar(f, n)
        if i >= 0 {
            v = ExpDesc(.local, i)
            if !base { markUpval(f, i) }
            return .local
        }
        if try singleVarAux(f.prev, n, &v, false) == .global { return .global }
        v.info = try indexUpvalue(f, n, v)
        v.k = .upval
        return .upval
    }

    func singleVar(_ v: inout ExpDesc) throws(LuaError) {
        let name = try strCheckName()
        if try singleVarAux(fs, name, &v, true) == .global { v.info = try stringK(name) }
    }

    func adjustAssign(_ nvars: Int, _ nexps: Int, _ e: inout ExpDesc) throws(LuaError) {
        var extra = nvars - nexps
        if e.hasMultRet {
            extra += 1
            if extra < 0 { extra = 0 }
            try setReturns(&e, extra)
            if extra > 1 { try reserveRegs(extra - 1) }
        } else {
            if e.k != .void { try exp2NextReg(&e) }
            if extra > 0 {
                let reg = fs.freereg
                try reserveRegs(extra)
                codeNil(reg, extra)
            }
        }
    }

    // MARK: - Blocks and functions

    func enterBlock(_ isBreakable: Bool) {
        fs.bl = BlockCnt(previous: fs.bl, nactvar: fs.nactvar, isBreakable: isBreakable)
    }

    func leaveBlock() throws(LuaError) {
        guard let bl = fs.bl else { return }
        fs.bl = bl.previous
        removeVars(bl.nactvar)
        if bl.upval { codeABC(.close, bl.nactvar, 0, 0) }
        fs.freereg = fs.nactvar
        try patchToHere(bl.breakList)
    }

    func openFunc() {
        let nfs = FuncState(prev: fs)
        fs = nfs
    }

    /// Finishes the current function: builds its prototype and returns to the enclosing one.
    func closeFunc() throws(LuaError) -> UnsafeMutablePointer<ProtoObject> {
        removeVars(0)
        ret(0, 0)
        if let e = deferredError { throw e }
        let f = fs
        func buffer<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
            let b = UnsafeMutablePointer<T>.allocate(capacity: max(1, a.count))
            b.initialize(from: a, count: a.count)
            return b
        }
        let p = state.newProto(ProtoObject(
            gcNext: nil, code: buffer(f.code), codeCount: f.code.count,
            constants: buffer(f.constants), constantCount: f.constants.count,
            protos: buffer(f.protos), protoCount: f.protos.count, lineInfo: buffer(f.lineInfo),
            localVars: f.localVars, upvalueNames: f.upvalueNames, source: lex.source,
            lineDefined: Int32(truncatingIfNeeded: f.lineDefined), lastLineDefined: Int32(truncatingIfNeeded: f.lastLineDefined),
            numParams: UInt8(f.numParams), isVararg: f.isVararg, maxStackSize: UInt8(f.maxStackSize),
            upvalueCount: UInt8(f.upvalues.count), marked: 0))
        if let prev = f.prev { fs = prev }
        return p
    }

    func pushClosure(_ child: FuncState, _ proto: UnsafeMutablePointer<ProtoObject>, _ v: inout ExpDesc) throws(LuaError) {
        if fs.protos.count >= Instruction.maxBx { throw lex.syntaxError("constant table overflow") }
        fs.protos.append(proto)
        v = ExpDesc(.relocable, codeABx(.closure, 0, fs.protos.count - 1))
        for u in child.upvalues {
            codeABC(u.kind == .local ? .move : .getupval, 0, u.info, 0)
        }
    }

    // MARK: - Grammar: expressions

    func field(_ v: inout ExpDesc) throws(LuaError) {
        var key = ExpDesc()
        try exp2AnyReg(&v)
        try lex.nextToken()
        try checkName(&key)
        try indexed(&v, &key)
    }

    func yindex(_ v: inout ExpDesc) throws(LuaError) {
        try lex.nextToken()
        try expr(&v)
        try exp2Val(&v)
        try checkNext(93)  // ']'
    }

    struct ConsControl {
        var v = ExpDesc()
        var t: ExpDesc
        var nh = 0
        var na = 0
        var tostore = 0
    }

    func recField(_ cc: inout ConsControl) throws(LuaError) {
        let reg = fs.freereg
        var key = ExpDesc()
        var val = ExpDesc()
        if lex.t.token == Token.name {
            try checkLimit(cc.nh, Int(Int32.max), "items in a constructor")
            try checkName(&key)
        } else {
            try yindex(&key)
        }
        cc.nh += 1
        try checkNext(61)  // '='
        let rkkey = try exp2RK(&key)
        try expr(&val)
        codeABC(.settable, cc.t.info, rkkey, try exp2RK(&val))
        fs.freereg = reg
    }

    func closeListField(_ cc: inout ConsControl) throws(LuaError) {
        if cc.v.k == .void { return }
        try exp2NextReg(&cc.v)
        cc.v.k = .void
        if cc.tostore == Instruction.fieldsPerFlush {
            setList(cc.t.info, cc.na, cc.tostore)
            cc.tostore = 0
        }
    }

    func lastListField(_ cc: inout ConsControl) throws(LuaError) {
        if cc.tostore == 0 { return }
        if cc.v.hasMultRet {
            try setMultRet(&cc.v)
            setList(cc.t.info, cc.na, -1)
            cc.na -= 1
        } else {
            if cc.v.k != .void { try exp2NextReg(&cc.v) }
            setList(cc.t.info, cc.na, cc.tostore)
        }
    }

    func listField(_ cc: inout ConsControl) throws(LuaError) {
        try expr(&cc.v)
        try checkLimit(cc.na, Int(Int32.max), "items in a constructor")
        cc.na += 1
        cc.tostore += 1
    }

    func constructor(_ t: inout ExpDesc) throws(LuaError) {
        let line = lex.lineNumber
        let pc = codeABC(.newtable, 0, 0, 0)
        t = ExpDesc(.relocable, pc)
        var cc = ConsControl(t: t)
        try exp2NextReg(&cc.t)
        try checkNext(123)  // '{'
        repeat {
            if lex.t.token == 125 { break }  // '}'
            try closeListField(&cc)
            switch lex.t.token {
            case Token.name:
                try lex.lookAhead()
                if lex.lookahead.token != 61 { try listField(&cc) } else { try recField(&cc) }
            case 91:  // '['
                try recField(&cc)
            default:
                try listField(&cc)
            }
            if try testNext(44) { continue }  // ','
            if try testNext(59) { continue }  // ';'
            break
        } while true
        try checkMatch(125, 123, line)
        try lastListField(&cc)
        Instruction.setB(&fs.code[pc], FloatByte.encode(cc.na))
        Instruction.setC(&fs.code[pc], FloatByte.encode(cc.nh))
        t = cc.t
    }

    func parList() throws(LuaError) {
        var nparams = 0
        fs.isVararg = 0
        if lex.t.token != 41 {  // ')'
            repeat {
                switch lex.t.token {
                case Token.name:
                    try newLocalVar(try strCheckName(), nparams)
                    nparams += 1
                case Token.dots:
                    try lex.nextToken()
                    try newLocalVarLiteral("arg", nparams)
                    nparams += 1
                    fs.isVararg = VarargFlags.hasArg | VarargFlags.needsArg | VarargFlags.isVararg
                default:
                    throw lex.syntaxError("<name> or '...' expected")
                }
                if fs.isVararg != 0 { break }
            } while try testNext(44)
        }
        adjustLocalVars(nparams)
        fs.numParams = fs.nactvar - Int(fs.isVararg & VarargFlags.hasArg)
        try reserveRegs(fs.nactvar)
    }

    func body(_ e: inout ExpDesc, _ needSelf: Bool, _ line: Int) throws(LuaError) {
        openFunc()
        fs.lineDefined = line
        try checkNext(40)  // '('
        if needSelf {
            try newLocalVarLiteral("self", 0)
            adjustLocalVars(1)
        }
        try parList()
        try checkNext(41)
        try chunk()
        fs.lastLineDefined = lex.lineNumber
        try checkMatch(Token.end, Token.function, line)
        let child = fs
        let p = try closeFunc()
        try pushClosure(child, p, &e)
    }

    func expList1(_ v: inout ExpDesc) throws(LuaError) -> Int {
        var n = 1
        try expr(&v)
        while try testNext(44) {
            try exp2NextReg(&v)
            try expr(&v)
            n += 1
        }
        return n
    }

    func funcArgs(_ f: inout ExpDesc) throws(LuaError) {
        var args = ExpDesc()
        let line = lex.lineNumber
        switch lex.t.token {
        case 40:  // '('
            if line != lex.lastLine { throw lex.syntaxError("ambiguous syntax (function call x new statement)") }
            try lex.nextToken()
            if lex.t.token == 41 {
                args.k = .void
            } else {
                _ = try expList1(&args)
                try setMultRet(&args)
            }
            try checkMatch(41, 40, line)
        case 123:
            try constructor(&args)
        case Token.string:
            try codeString(&args, lex.t.string!)
            try lex.nextToken()
        default:
            throw lex.syntaxError("function arguments expected")
        }
        let base = f.info
        let nparams: Int
        if args.hasMultRet {
            nparams = -1
        } else {
            if args.k != .void { try exp2NextReg(&args) }
            nparams = fs.freereg - (base + 1)
        }
        f = ExpDesc(.call, codeABC(.call, base, nparams + 1, 2))
        fixLine(line)
        fs.freereg = base + 1
    }

    func prefixExp(_ v: inout ExpDesc) throws(LuaError) {
        switch lex.t.token {
        case 40:
            let line = lex.lineNumber
            try lex.nextToken()
            try expr(&v)
            try checkMatch(41, 40, line)
            dischargeVars(&v)
        case Token.name:
            try singleVar(&v)
        default:
            throw lex.syntaxError("unexpected symbol")
        }
    }

    func primaryExp(_ v: inout ExpDesc) throws(LuaError) {
        try prefixExp(&v)
        while true {
            switch lex.t.token {
            case 46:  // '.'
                try field(&v)
            case 91:  // '['
                var key = ExpDesc()
                try exp2AnyReg(&v)
                try yindex(&key)
                try indexed(&v, &key)
            case 58:  // ':'
                var key = ExpDesc()
                try lex.nextToken()
                try checkName(&key)
                try codeSelf(&v, &key)
                try funcArgs(&v)
            case 40, Token.string, 123:
                try exp2NextReg(&v)
                try funcArgs(&v)
            default:
                return
            }
        }
    }

    func simpleExp(_ v: inout ExpDesc) throws(LuaError) {
        switch lex.t.token {
        case Token.number:
            v = ExpDesc(.knum, 0)
            v.nval = lex.t.number
        case Token.string:
            try codeString(&v, lex.t.string!)
        case Token.nil:
            v = ExpDesc(.nil, 0)
        case Token.true:
            v = ExpDesc(.true, 0)
        case Token.false:
            v = ExpDesc(.false, 0)
        case Token.dots:
            try checkCondition(fs.isVararg != 0, "cannot use '...' outside a vararg function")
            fs.isVararg &= ~VarargFlags.needsArg
            v = ExpDesc(.vararg, codeABC(.vararg, 0, 1, 0))
        case 123:
            try constructor(&v)
            return
        case Token.function:
            try lex.nextToken()
            try body(&v, false, lex.lineNumber)
            return
        default:
            try primaryExp(&v)
            return
        }
        try lex.nextToken()
    }

    func unaryOperator(_ t: Int) -> UnaryOperator? {
        switch t {
        case Token.not: return .not
        case 45: return .minus
        case 35: return .len
        default: return nil
        }
    }

    func binaryOperator(_ t: Int) -> BinaryOperator? {
        switch t {
        case 43: return .add
        case 45: return .sub
        case 42: return .mul
        case 47: return .div
        case 37: return .mod
        case 94: return .pow
        case Token.concat: return .concat
        case Token.ne: return .ne
        case Token.eq: return .eq
        case 60: return .lt
        case Token.le: return .le
        case 62: return .gt
        case Token.ge: return .ge
        case Token.and: return .and
        case Token.or: return .or
        default: return nil
        }
    }

    func subExpr(_ v: inout ExpDesc, _ limit: Int) throws(LuaError) -> BinaryOperator? {
        try enterLevel()
        if let uop = unaryOperator(lex.t.token) {
            try lex.nextToken()
            _ = try subExpr(&v, unaryPriority)
            try prefix(uop, &v)
        } else {
            try simpleExp(&v)
        }
        var op = binaryOperator(lex.t.token)
        while let o = op, BinaryOperator.priority[o.rawValue].left > limit {
            var v2 = ExpDesc()
            try lex.nextToken()
            try infix(o, &v)
            let nextop = try subExpr(&v2, BinaryOperator.priority[o.rawValue].right)
            try posfix(o, &v, &v2)
            op = nextop
        }
        leaveLevel()
        return op
    }

    func expr(_ v: inout ExpDesc) throws(LuaError) {
        _ = try subExpr(&v, 0)
    }
}

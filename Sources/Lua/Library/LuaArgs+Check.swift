// Argument checks with lauxlib's error texts ("bad argument #1 to 'sub' (string expected, got nil)").

extension LuaArgs {
    /// luaL_checkany.
    public func checkAny(_ i: Int) throws(LuaError) {
        if isNone(i) { throw state.argError(i, "value expected") }
    }

    /// luaL_checktype for tables.
    public func checkTable(_ i: Int) throws(LuaError) -> LuaTable {
        if case .table(let t) = self[i] { return t }
        throw state.typeArgError(self, i, "table")
    }

    /// luaL_checklstring: strings, or numbers converted to strings.
    public func checkString(_ i: Int) throws(LuaError) -> LuaString {
        if let s = state.toStringCoerced(self[i]) { return s }
        throw state.typeArgError(self, i, "string")
    }

    /// luaL_optlstring.
    public func optString(_ i: Int) throws(LuaError) -> LuaString? {
        if isNoneOrNil(i) { return nil }
        return try checkString(i)
    }

    /// luaL_checknumber: numbers, or strings convertible to numbers.
    public func checkNumber(_ i: Int) throws(LuaError) -> Double {
        if let d = state.toNumber(self[i]) { return d }
        throw state.typeArgError(self, i, "number")
    }

    /// luaL_optnumber.
    public func optNumber(_ i: Int, _ def: Double) throws(LuaError) -> Double {
        if isNoneOrNil(i) { return def }
        return try checkNumber(i)
    }

    /// luaL_checkinteger: the number truncated to a 64-bit integer, as C casts it.
    public func checkInteger(_ i: Int) throws(LuaError) -> Int {
        Int(luaNumberToInt64(try checkNumber(i)))
    }

    /// luaL_optinteger.
    public func optInteger(_ i: Int, _ def: Int) throws(LuaError) -> Int {
        if isNoneOrNil(i) { return def }
        return try checkInteger(i)
    }

    /// luaL_checkint: the 64-bit integer then truncated to C's int.
    public func checkInt(_ i: Int) throws(LuaError) -> Int {
        Int(Int32(truncatingIfNeeded: luaNumberToInt64(try checkNumber(i))))
    }

    /// luaL_optint.
    public func optInt(_ i: Int, _ def: Int) throws(LuaError) -> Int {
        if isNoneOrNil(i) { return def }
        return try checkInt(i)
    }

    /// luaL_checktype for functions.
    public func checkFunction(_ i: Int) throws(LuaError) -> LuaFunction {
        if case .function(let f) = self[i] { return f }
        throw state.typeArgError(self, i, "function")
    }

    /// luaL_argcheck.
    public func argCheck(_ cond: Bool, _ i: Int, _ msg: String) throws(LuaError) {
        if !cond { throw state.argError(i, msg) }
    }

    /// luaL_checkoption: the index of the argument in `options`.
    public func checkOption(_ i: Int, _ def: String?, _ options: [String]) throws(LuaError) -> Int {
        let name: [UInt8]
        if let def, isNoneOrNil(i) {
            name = Array(def.utf8)
        } else {
            // The option is a C string: compare up to an embedded NUL.
            name = Array(try checkString(i).buffer.prefix(while: { $0 != 0 }))
        }
        for (n, o) in options.enumerated() where Array(o.utf8) == name { return n }
        throw state.argError(i, Array("invalid option '".utf8) + name + Array("'".utf8))
    }
}

extension LuaState {
    /// Pushes a string made of these bytes.
    public func push(bytes: [UInt8]) { push(.string(newString(bytes))) }

    /// Pushes a string made of this text.
    public func push(string: String) { push(.string(newString(string))) }

    /// Pushes a number.
    public func push(number: Double) { push(.number(number)) }

    /// A library table of native functions stored under `name` in the globals (luaL_register).
    @discardableResult
    func registerLibrary(_ name: String?, _ functions: [(String, LuaNativeFunction)]) -> LuaTable {
        let t: LuaTable
        if let name {
            if case .table(let existing) = global(name) {
                t = existing
            } else {
                t = newTable(nhash: functions.count)
                setGlobal(name, .table(t))
            }
        } else {
            t = globals
        }
        for (n, f) in functions { register(n, in: t, f) }
        return t
    }
}

// The table library (ltablib.c). Sort is the reference's quicksort, element for element, with its
// working values kept on the stack (the comparator may run the collector).

extension LuaState {
    func openTable() {
        registerLibrary("table", [
            ("concat", LuaState.tconcat), ("foreach", LuaState.foreach), ("foreachi", LuaState.foreachi),
            ("getn", LuaState.getn), ("maxn", LuaState.maxn), ("insert", LuaState.tinsert),
            ("remove", LuaState.tremove), ("setn", LuaState.setn), ("sort", LuaState.sort),
        ])
    }

    /// lua_rawseti as Redis patched it: read-only tables refuse the write.
    func rawSetChecked(_ t: LuaTable, int k: Int, _ v: LuaValue) throws(LuaError) {
        if t.isReadonly { throw runtimeError("Attempt to modify a readonly table") }
        tableSlot(t, int: k).pointee = v
    }

    static func foreachi(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        let n = t.length
        _ = try args.checkFunction(2)
        if n < 1 { return 0 }
        for i in 1...n {
            let fn = L.top
            L.push(args[2])
            L.push(.number(Double(i)))
            L.push(t.get(int: i))
            try L.call(fn, 1)
            if !L[stack: L.top - 1].isNil { return 1 }
            L.top -= 1
        }
        return 0
    }

    static func foreach(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        _ = try args.checkFunction(2)
        var key = LuaValue.nil
        while let (k, v) = try L.next(t, after: key) {
            // The key stays on the stack across the call (the collector must see it).
            L.push(k)
            let fn = L.top
            L.push(args[2])
            L.push(k)
            L.push(v)
            try L.call(fn, 1)
            if !L[stack: L.top - 1].isNil { return 1 }
            L.top -= 2
            key = k
        }
        return 0
    }

    static func maxn(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        var mx = 0.0
        var key = LuaValue.nil
        while let (k, _) = try L.next(t, after: key) {
            if case .number(let v) = k, v > mx { mx = v }
            key = k
        }
        L.push(.number(mx))
        return 1
    }

    static func getn(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        L.push(.number(Double(try args.checkTable(1).length)))
        return 1
    }

    static func setn(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        _ = try args.checkTable(1)
        throw L.error("'setn' is obsolete")
    }

    static func tinsert(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        var e = Int(Int32(truncatingIfNeeded: t.length)) + 1
        let pos: Int
        switch args.count {
        case 2:
            pos = e
        case 3:
            pos = try args.checkInt(2)
            if pos > e { e = pos }
            var i = e
            while i > pos {
                try L.rawSetChecked(t, int: i, t.get(int: i - 1))
                i -= 1
            }
        default:
            throw L.error("wrong number of arguments to 'insert'")
        }
        try L.rawSetChecked(t, int: pos, args[args.count])
        return 0
    }

    static func tremove(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        let e = Int(Int32(truncatingIfNeeded: t.length))
        var pos = try args.optInt(2, e)
        if !(1 <= pos && pos <= e) { return 0 }
        L.push(t.get(int: pos))
        while pos < e {
            try L.rawSetChecked(t, int: pos, t.get(int: pos + 1))
            pos += 1
        }
        try L.rawSetChecked(t, int: e, .nil)
        return 1
    }

    static func tconcat(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let sep = try args.optString(2)
        let t = try args.checkTable(1)
        var i = try args.optInt(3, 1)
        let last = args.isNoneOrNil(4) ? Int(Int32(truncatingIfNeeded: t.length)) : try args.checkInt(4)
        var out: [UInt8] = []
        func addField(_ i: Int) throws(LuaError) {
            let v = t.get(int: i)
            guard let s = L.toStringCoerced(v) else {
                throw L.error("invalid value (\(v.type.name)) at index \(i) in table for 'concat'")
            }
            out.append(contentsOf: s.buffer)
            if out.count > LuaState.maxStringBytes { throw L.memoryError() }
            if i & 0x3FF == 0 { try L.reserve(out.count) }
        }
        while i < last {
            try addField(i)
            if let sep { out.append(contentsOf: sep.buffer) }
            i += 1
        }
        if i == last { try addField(i) }
        try L.reserve(out.count)
        L.push(.string(L.newString(out)))
        return 1
    }

    // MARK: - sort

    private struct Sorter {
        let L: LuaState
        let t: LuaTable
        let comparator: LuaValue

        func rawgeti(_ i: Int) { L.push(t.get(int: i)) }

        func set2(_ i: Int, _ j: Int) throws(LuaError) {
            try L.rawSetChecked(t, int: i, L[stack: L.top - 1])
            try L.rawSetChecked(t, int: j, L[stack: L.top - 2])
            L.top -= 2
        }

        func pop(_ n: Int) { L.top -= n }

        /// a < b for stack positions relative to the top (-1 = top).
        func less(_ a: Int, _ b: Int) throws(LuaError) -> Bool {
            let va = L[stack: L.top + a], vb = L[stack: L.top + b]
            if !comparator.isNil {
                let fn = L.top
                L.push(comparator)
                L.push(va)
                L.push(vb)
                try L.call(fn, 1)
                let r = !L[stack: L.top - 1].isFalsy
                L.top -= 1
                return r
            }
            return try L.lessThan(va, vb)
        }

        func auxsort(_ l0: Int, _ u0: Int) throws(LuaError) {
            var l = l0, u = u0
            while l < u {
                rawgeti(l)
                rawgeti(u)
                if try less(-1, -2) { try set2(l, u) } else { pop(2) }
                if u - l == 1 { break }
                var i = (l + u) / 2
                rawgeti(i)
                rawgeti(l)
                if try less(-2, -1) {
                    try set2(i, l)
                } else {
                    pop(1)
                    rawgeti(u)
                    if try less(-1, -2) { try set2(i, u) } else { pop(2) }
                }
                if u - l == 2 { break }
                rawgeti(i)
                L.push(L[stack: L.top - 1])
                rawgeti(u - 1)
                try set2(i, u - 1)
                i = l
                var j = u - 1
                while true {
                    i += 1
                    rawgeti(i)
                    while try less(-1, -2) {
                        if i > u { throw L.error("invalid order function for sorting") }
                        pop(1)
                        i += 1
                        rawgeti(i)
                    }
                    j -= 1
                    rawgeti(j)
                    while try less(-3, -1) {
                        if j < l { throw L.error("invalid order function for sorting") }
                        pop(1)
                        j -= 1
                        rawgeti(j)
                    }
                    if j < i {
                        pop(3)
                        break
                    }
                    try set2(i, j)
                }
                rawgeti(u - 1)
                rawgeti(i)
                try set2(u - 1, i)
                if i - l < u - i {
                    j = l
                    i = i - 1
                    l = i + 2
                } else {
                    j = i + 1
                    i = u
                    u = j - 2
                }
                try auxsort(j, i)
            }
        }
    }

    static func sort(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let t = try args.checkTable(1)
        let n = Int(Int32(truncatingIfNeeded: t.length))
        if !args.isNoneOrNil(2) { _ = try args.checkFunction(2) }
        if args.count < 2 { L[stack: args.base + 1] = .nil }
        L.top = args.base + 2  // exactly two arguments (the comparator stays rooted on the stack)
        L.checkStack(L.current, 40)
        try Sorter(L: L, t: t, comparator: args[2]).auxsort(1, n)
        return 0
    }
}

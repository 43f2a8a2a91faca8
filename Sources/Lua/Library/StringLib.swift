// The string library (lstrlib.c): byte strings, Lua patterns, format with 5.1's directives.

import Glibc

extension LuaState {
    func openString() {
        let t = registerLibrary("string", [
            ("byte", LuaState.strByte), ("char", LuaState.strChar), ("dump", LuaState.strDump),
            ("find", LuaState.strFind), ("format", LuaState.strFormat), ("gmatch", LuaState.strGmatch),
            ("gsub", LuaState.strGsub), ("len", LuaState.strLen), ("lower", LuaState.strLower),
            ("match", LuaState.strMatch), ("rep", LuaState.strRep), ("reverse", LuaState.strReverse),
            ("sub", LuaState.strSub), ("upper", LuaState.strUpper),
        ])
        rawSet(t, "gfind", t.get(string: newString("gmatch")))
        let mt = newTable(nhash: 1)
        rawSet(mt, "__index", .table(t))
        stringMetatable = mt
    }

    /// Largest string a single operation may build (C Lua would fail its allocation).
    static let maxStringBytes = 1 << 30

    /// Checks a result size before building it: the memory limit and the absolute maximum.
    func reserveString(_ n: Int) throws(LuaError) {
        if n < 0 || n > LuaState.maxStringBytes { throw memoryError() }
        try reserve(n)
    }

    static func posRelative(_ pos: Int, _ len: Int) -> Int {
        var p = pos
        if p < 0 { p += len + 1 }
        return p >= 0 ? p : 0
    }

    static func strLen(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        L.push(.number(Double(try args.checkString(1).count)))
        return 1
    }

    static func strSub(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let s = try args.checkString(1)
        let l = s.count
        var start = posRelative(try args.checkInteger(2), l)
        var end = posRelative(try args.optInteger(3, -1), l)
        if start < 1 { start = 1 }
        if end > l { end = l }
        if start <= end {
            if start == 1 && end == l { L.push(.string(s)); return 1 }
            L.push(.string(L.newString(UnsafeBufferPointer(start: s.bytes + start - 1, count: end - start + 1))))
        } else {
            L.push(.string(L.newString([UInt8]())))
        }
        return 1
    }

    static func mapBytes(_ L: LuaState, _ args: LuaArgs, _ f: (UnsafeBufferPointer<UInt8>, UnsafeMutablePointer<UInt8>) -> Void) throws(LuaError) -> Int {
        let s = try args.checkString(1)
        let n = s.count
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
        defer { buf.deallocate() }
        f(s.buffer, buf)
        L.push(.string(L.newString(UnsafeBufferPointer(start: buf, count: n))))
        return 1
    }

    static func strReverse(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try mapBytes(L, args) { s, out in for i in 0..<s.count { out[i] = s[s.count - 1 - i] } }
    }

    static func strLower(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try mapBytes(L, args) { s, out in for i in 0..<s.count { out[i] = CType.toLower(s[i]) } }
    }

    static func strUpper(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        try mapBytes(L, args) { s, out in for i in 0..<s.count { out[i] = CType.toUpper(s[i]) } }
    }

    static func strRep(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let s = try args.checkString(1)
        let n = try args.checkInt(2)
        if n <= 0 || s.count == 0 {
            L.push(.string(L.newString([UInt8]())))
            return 1
        }
        let (total, overflow) = s.count.multipliedReportingOverflow(by: n)
        if overflow { throw L.memoryError() }
        try L.reserveString(total)
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: total)
        defer { buf.deallocate() }
        var off = 0
        for _ in 0..<n {
            (buf + off).update(from: s.bytes, count: s.count)
            off += s.count
        }
        L.push(.string(L.newString(UnsafeBufferPointer(start: buf, count: total))))
        return 1
    }

    static func strByte(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let s = try args.checkString(1)
        let l = s.count
        var posi = posRelative(try args.optInteger(2, 1), l)
        var pose = posRelative(try args.optInteger(3, posi), l)
        if posi <= 0 { posi = 1 }
        if pose > l { pose = l }
        if posi > pose { return 0 }
        let n = pose - posi + 1
        if n >= 8000 { throw L.error("string slice too long") }
        L.checkStack(L.current, n)
        for i in 0..<n { L.push(.number(Double(s[posi + i - 1]))) }
        return n
    }

    static func strChar(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        var out: [UInt8] = []
        out.reserveCapacity(args.count)
        if args.count > 0 {
            for i in 1...args.count {
                let c = try args.checkInt(i)
                try args.argCheck(c >= 0 && c <= 255, i, "invalid value")
                out.append(UInt8(c))
            }
        }
        L.push(.string(L.newString(out)))
        return 1
    }

    /// string.dump: Lua functions give a binary chunk header (ESC "Lua" 0x51...) that no loader
    /// here accepts (Redis refuses bytecode: loading it is a syntax error), natives an error.
    static func strDump(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let f = try args.checkFunction(1)
        if f.isNative { throw L.error("unable to dump given function") }
        L.push(.string(L.newString([27, 76, 117, 97, 0x51, 0, 1, 4, 8, 4, 8, 0])))
        return 1
    }

    // MARK: - find / match / gmatch / gsub

    /// True when the (C string) pattern has no special characters (strpbrk with SPECIALS).
    static func isPlain(_ p: LuaString) -> Bool {
        for c in p.buffer {
            if c == 0 { return true }
            switch c {
            case 94, 36, 42, 43, 63, 46, 40, 91, 37, 45: return false  // ^$*+?.([%-
            default: continue
            }
        }
        return true
    }

    static func findAux(_ L: LuaState, _ args: LuaArgs, find: Bool) throws(LuaError) -> Int {
        let s = try args.checkString(1)
        let p = try args.checkString(2)
        let l1 = s.count
        var initial = posRelative(try args.optInteger(3, 1), l1) - 1
        if initial < 0 { initial = 0 } else if initial > l1 { initial = l1 }
        if find && (!args[4].isFalsy || isPlain(p)) {
            // Plain search uses the whole pattern (only the special-character check reads a C string).
            let pl = p.count
            if let r = memFind(s.bytes + initial, l1 - initial, p.bytes, pl) {
                let start = initial + r
                L.push(.number(Double(start + 1)))
                L.push(.number(Double(start + pl)))
                return 2
            }
        } else {
            var pat = p.bytes
            let anchor = pat[0] == 94
            if anchor { pat += 1 }
            var ms = PatternMatcher(state: L, src: s.bytes, count: l1, pattern: pat)
            var s1 = initial
            repeat {
                ms.level = 0
                if let e = try ms.match(s1, 0) {
                    if find {
                        L.push(.number(Double(s1 + 1)))
                        L.push(.number(Double(e)))
                        return try ms.pushCaptures(nil, 0) + 2
                    }
                    return try ms.pushCaptures(s1, e)
                }
                s1 += 1
            } while s1 <= l1 && !anchor
        }
        L.push(.nil)
        return 1
    }

    static func memFind(_ s1: UnsafePointer<UInt8>, _ l1: Int, _ s2: UnsafePointer<UInt8>, _ l2: Int) -> Int? {
        if l2 == 0 { return 0 }
        if l2 > l1 { return nil }
        var i = 0
        let first = s2[0]
        while i <= l1 - l2 {
            if s1[i] == first && (l2 == 1 || memcmp(s1 + i + 1, s2 + 1, l2 - 1) == 0) { return i }
            i += 1
        }
        return nil
    }

    static func strFind(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int { try findAux(L, args, find: true) }
    static func strMatch(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int { try findAux(L, args, find: false) }

    static func strGmatch(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let s = try args.checkString(1)
        let p = try args.checkString(2)
        L.push(.function(L.newFunction(upvalues: [.string(s), .string(p), .number(0)], LuaState.gmatchAux)))
        return 1
    }

    static func gmatchAux(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        guard case .string(let s) = L.nativeUpvalue(1), case .string(let p) = L.nativeUpvalue(2),
              case .number(let startD) = L.nativeUpvalue(3) else { return 0 }
        var ms = PatternMatcher(state: L, src: s.bytes, count: s.count, pattern: p.bytes)
        var src = Int(startD)
        while src <= s.count {
            ms.level = 0
            if let e = try ms.match(src, 0) {
                var newStart = e
                if e == src { newStart += 1 }
                setNativeUpvalue(L, 3, .number(Double(newStart)))
                return try ms.pushCaptures(src, e)
            }
            src += 1
        }
        return 0
    }

    static func setNativeUpvalue(_ L: LuaState, _ i: Int, _ v: LuaValue) {
        let th = L.current
        if case .function(let f) = th.pointee.stack[th.pointee.cis[th.pointee.ci].funcIndex], let u = f.p.pointee.nativeUpvalues {
            u[i - 1] = v
        }
    }

    static func strGsub(_ L: LuaState, _ args: LuaArgs) throws(LuaError) -> Int {
        let srcStr = try args.checkString(1)
        let p = try args.checkString(2)
        let tr = args.type(3)
        let srcl = srcStr.count
        let maxS = try args.optInt(4, srcl + 1)
        try args.argCheck(tr == .number || tr == .string || tr == .function || tr == .table, 3,
                          "string/function/table expected")
        var pat = p.bytes
        let anchor = pat[0] == 94
        if anchor { pat += 1 }
        var ms = PatternMatcher(state: L, src: srcStr.bytes, count: srcl, pattern: pat)
        var out: [UInt8] = []
        var src = 0
        var n = 0
        let repl = args[3]
        while n < maxS {
            ms.level = 0
            let e = try ms.match(src, 0)
            if let e {
                n += 1
                try addValue(L, &ms, &out, src, e, repl, tr)
                if out.count > LuaState.maxStringBytes { throw L.memoryError() }
                if n & 0x3FF == 0 { try L.reserve(out.count) }
            }
            if let e, e > src {
                src = e
            } else if src < srcl {
                out.append(srcStr[src])
                src += 1
            } else {
                break
            }
            if anchor { break }
        }
        out.append(contentsOf: UnsafeBufferPointer(start: srcStr.bytes + src, count: srcl - src))
        try L.reserve(out.count)
        L.push(.string(L.newString(out)))
        L.push(.number(Double(n)))
        return 2
    }

    private static func addValue(_ L: LuaState, _ ms: inout PatternMatcher, _ out: inout [UInt8], _ s: Int, _ e: Int,
                                 _ repl: LuaValue, _ tr: LuaType) throws(LuaError) {
        let result: LuaValue
        switch tr {
        case .number, .string:
            let news = L.toStringCoerced(repl)!
            var i = 0
            let l = news.count
            while i < l {
                let c = news[i]
                if c != 37 {
                    out.append(c)
                } else {
                    i += 1
                    let d = i < l ? news[i] : 0
                    if !CType.isDigit(Int(d)) {
                        out.append(d)
                    } else if d == 48 {
                        out.append(contentsOf: UnsafeBufferPointer(start: ms.src + s, count: e - s))
                    } else {
                        let v = try ms.captureValue(Int(d) - 49, s, e)
                        if let str = L.toStringCoerced(v) { out.append(contentsOf: str.buffer) }
                    }
                }
                i += 1
            }
            return
        case .function:
            let fn = L.top
            L.push(repl)
            let n = try ms.pushCaptures(s, e)
            try L.call(fn, 1)
            result = L[stack: L.top - 1]
            L.top -= 1
            _ = n
        default:
            let key = try ms.captureValue(0, s, e)
            // Keep the key on the stack while __index may run.
            L.push(key)
            result = try L.index(repl, key)
            L.top -= 1
        }
        if result.isFalsy {
            out.append(contentsOf: UnsafeBufferPointer(start: ms.src + s, count: e - s))
        } else if let str = L.toStringCoerced(result) {
            out.append(contentsOf: str.buffer)
        } else {
            throw L.error("invalid replacement value (a \(result.type.name))")
        }
    }
}

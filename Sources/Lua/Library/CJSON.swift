// cjson as Redis bundles it (lua_cjson.c 2.1.0 with Redis's fixes): same encodings ("{}" for an
// empty table, "\/" escapes, %.14g numbers, cjson.null as the light userdata 0), same errors.

import Glibc

/// cjson's per-module configuration (C keeps it in a userdata upvalue).
final class CJSONConfig {
    var sparseConvert = false
    var sparseRatio = 2
    var sparseSafe = 10
    var encodeMaxDepth = 1000
    var decodeMaxDepth = 1000
    /// 0 off, 1 on, 2 "null".
    var encodeInvalidNumbers = 0
    var decodeInvalidNumbers = true
    var encodeKeepBuffer = true
    var numberPrecision = 14
}

extension LuaState {
    func openCJSON() {
        setGlobal("cjson", .table(newCJSON()))
    }

    func newCJSON() -> LuaTable {
        let cfg = CJSONConfig()
        let t = newTable(nhash: 16)
        register("encode", in: t) { (L, args) throws(LuaError) in try L.jsonEncode(cfg, args) }
        register("decode", in: t) { (L, args) throws(LuaError) in try L.jsonDecode(cfg, args) }
        register("encode_sparse_array", in: t) { (L, args) throws(LuaError) in
            try LuaState.jsonArgInit(L, args, 3)
            try LuaState.jsonBoolOption(L, args, 1, { cfg.sparseConvert }, { cfg.sparseConvert = $0 })
            try LuaState.jsonIntOption(L, args, 2, 0, Int(Int32.max), { cfg.sparseRatio }, { cfg.sparseRatio = $0 })
            try LuaState.jsonIntOption(L, args, 3, 0, Int(Int32.max), { cfg.sparseSafe }, { cfg.sparseSafe = $0 })
            return 3
        }
        register("encode_max_depth", in: t) { (L, args) throws(LuaError) in
            try LuaState.jsonArgInit(L, args, 1)
            try LuaState.jsonIntOption(L, args, 1, 1, Int(Int32.max), { cfg.encodeMaxDepth }, { cfg.encodeMaxDepth = $0 })
            return 1
        }
        register("decode_max_depth", in: t) { (L, args) throws(LuaError) in
            try LuaState.jsonArgInit(L, args, 1)
            try LuaState.jsonIntOption(L, args, 1, 1, Int(Int32.max), { cfg.decodeMaxDepth }, { cfg.decodeMaxDepth = $0 })
            return 1
        }
        register("encode_number_precision", in: t) { (L, args) throws(LuaError) in
            try LuaState.jsonArgInit(L, args, 1)
            try LuaState.jsonIntOption(L, args, 1, 1, 14, { cfg.numberPrecision }, { cfg.numberPrecision = $0 })
            return 1
        }
        register("encode_keep_buffer", in: t) { (L, args) throws(LuaError) in
            try LuaState.jsonArgInit(L, args, 1)
            try LuaState.jsonBoolOption(L, args, 1, { cfg.encodeKeepBuffer }, { cfg.encodeKeepBuffer = $0 })
            return 1
        }
        register("encode_invalid_numbers", in: t) { (L, args) throws(LuaError) in
            try LuaState.jsonArgInit(L, args, 1)
            let v = args[1]
            if !v.isNil {
                if case .bool(let b) = v { cfg.encodeInvalidNumbers = b ? 1 : 0 } else {
                    cfg.encodeInvalidNumbers = try args.checkOption(1, nil, ["off", "on", "null"])
                }
            }
            if cfg.encodeInvalidNumbers <= 1 { L.push(.bool(cfg.encodeInvalidNumbers == 1)) } else { L.push(string: "null") }
            return 1
        }
        register("decode_invalid_numbers", in: t) { (L, args) throws(LuaError) in
            try LuaState.jsonArgInit(L, args, 1)
            try LuaState.jsonBoolOption(L, args, 1, { cfg.decodeInvalidNumbers }, { cfg.decodeInvalidNumbers = $0 })
            return 1
        }
        register("new", in: t) { (L, _) throws(LuaError) in
            L.push(.table(L.newCJSON()))
            return 1
        }
        rawSet(t, "null", .lightUserdata(0))
        rawSet(t, "_NAME", .string(newString("cjson")))
        rawSet(t, "_VERSION", .string(newString("2.1.0")))
        return t
    }

    static func jsonArgInit(_ L: LuaState, _ args: LuaArgs, _ n: Int) throws(LuaError) {
        try args.argCheck(args.count <= n, n + 1, "found too many arguments")
    }

    static func jsonIntOption(_ L: LuaState, _ args: LuaArgs, _ i: Int, _ mn: Int, _ mx: Int,
                              _ get: () -> Int, _ set: (Int) -> Void) throws(LuaError) {
        if !args[i].isNil {
            let v = Int(Int32(truncatingIfNeeded: try args.checkInteger(i)))
            try args.argCheck(mn <= v && v <= mx, 1, "expected integer between \(mn) and \(mx)")
            set(v)
        }
        L.push(.number(Double(get())))
    }

    static func jsonBoolOption(_ L: LuaState, _ args: LuaArgs, _ i: Int, _ get: () -> Bool, _ set: (Bool) -> Void) throws(LuaError) {
        if !args[i].isNil {
            if case .bool(let b) = args[i] { set(b) } else { set(try args.checkOption(i, nil, ["off", "on"]) == 1) }
        }
        L.push(.bool(get()))
    }

    // MARK: - Encode

    static let jsonEscapes: [[UInt8]?] = {
        var t = [[UInt8]?](repeating: nil, count: 256)
        for c in 0..<32 {
            t[c] = Array(String(format4: c).utf8)
        }
        t[8] = Array("\\b".utf8)
        t[9] = Array("\\t".utf8)
        t[10] = Array("\\n".utf8)
        t[12] = Array("\\f".utf8)
        t[13] = Array("\\r".utf8)
        t[34] = Array("\\\"".utf8)
        t[47] = Array("\\/".utf8)
        t[92] = Array("\\\\".utf8)
        t[127] = Array("\\u007f".utf8)
        return t
    }()

    func jsonEncode(_ cfg: CJSONConfig, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.argCheck(args.count == 1, 1, "expected 1 argument")
        var out: [UInt8] = []
        try jsonAppend(cfg, args[1], 0, &out)
        try reserve(out.count)
        push(.string(newString(out)))
        return 1
    }

    private func jsonAppendString(_ s: LuaString, _ out: inout [UInt8]) {
        out.append(34)
        for c in s.buffer {
            if let e = LuaState.jsonEscapes[Int(c)] { out += e } else { out.append(c) }
        }
        out.append(34)
    }

    private func jsonAppendNumber(_ cfg: CJSONConfig, _ d: Double, _ out: inout [UInt8], _ type: String) throws(LuaError) {
        if cfg.encodeInvalidNumbers == 0 {
            if d.isInfinite || d.isNaN { throw error("Cannot serialise \(type): must not be NaN or Inf") }
        } else if cfg.encodeInvalidNumbers == 1 {
            if d.isNaN {
                out += Array("nan".utf8)
                return
            }
        } else if d.isInfinite || d.isNaN {
            out += Array("null".utf8)
            return
        }
        if cfg.numberPrecision == 14 { appendLuaNumber(d, to: &out) } else { out += cFormat("%.\(cfg.numberPrecision)g", d) }
    }

    /// Array length of a table, -1 when it is an object (lua_array_length).
    private func jsonArrayLength(_ cfg: CJSONConfig, _ t: LuaTable) throws(LuaError) -> Int {
        var mx = 0.0
        var items = 0
        var key = LuaValue.nil
        while let (k, _) = try next(t, after: key) {
            if case .number(let d) = k, d != 0, d.rounded(.down) == d && d >= 1 {
                if d > mx { mx = d }
                items += 1
                key = k
                continue
            }
            return -1
        }
        if cfg.sparseRatio > 0 && mx > Double(items * cfg.sparseRatio) && mx > Double(cfg.sparseSafe) {
            if !cfg.sparseConvert { throw error("Cannot serialise table: excessively sparse array") }
            return -1
        }
        return Int(luaNumberToInt32(mx))
    }

    private func jsonAppend(_ cfg: CJSONConfig, _ v: LuaValue, _ depth0: Int, _ out: inout [UInt8]) throws(LuaError) {
        switch v {
        case .string(let s): jsonAppendString(s, &out)
        case .number(let d): try jsonAppendNumber(cfg, d, &out, "number")
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .nil: out += Array("null".utf8)
        case .lightUserdata(let p) where p == 0: out += Array("null".utf8)
        case .table(let t):
            let depth = depth0 + 1
            if depth > cfg.encodeMaxDepth || nativeStackExhausted() {
                throw error("Cannot serialise, excessive nesting (\(depth))")
            }
            if out.count > LuaState.maxStringBytes { throw memoryError() }
            try reserve(out.count)
            let len = try jsonArrayLength(cfg, t)
            if len > 0 {
                out.append(91)
                for i in 1...len {
                    if i > 1 { out.append(44) }
                    if i & 0xFFFF == 0 && out.count > LuaState.maxStringBytes { throw memoryError() }
                    try jsonAppend(cfg, t.get(int: i), depth, &out)
                }
                out.append(93)
            } else {
                out.append(123)
                var comma = false
                var key = LuaValue.nil
                while let (k, val) = try next(t, after: key) {
                    if comma { out.append(44) } else { comma = true }
                    switch k {
                    case .number(let d):
                        out.append(34)
                        try jsonAppendNumber(cfg, d, &out, "number")
                        out += [34, 58]
                    case .string(let s):
                        jsonAppendString(s, &out)
                        out.append(58)
                    default:
                        throw error("Cannot serialise \(k.type.name): table key must be a number or string")
                    }
                    try jsonAppend(cfg, val, depth, &out)
                    key = k
                }
                out.append(125)
            }
        default:
            throw error("Cannot serialise \(v.type.name): type not supported")
        }
    }
}

// MARK: - Decode

/// A JSON token (json_token_t).
private enum JSONToken {
    case objBegin, objEnd, arrBegin, arrEnd, string([UInt8]), number(Double), boolean(Bool), null, colon, comma, end
    case error(String)

    var name: String {
        switch self {
        case .objBegin: return "T_OBJ_BEGIN"
        case .objEnd: return "T_OBJ_END"
        case .arrBegin: return "T_ARR_BEGIN"
        case .arrEnd: return "T_ARR_END"
        case .string: return "T_STRING"
        case .number: return "T_NUMBER"
        case .boolean: return "T_BOOLEAN"
        case .null: return "T_NULL"
        case .colon: return "T_COLON"
        case .comma: return "T_COMMA"
        case .end: return "T_END"
        case .error(let e): return e
        }
    }
}

/// The JSON parser over a NUL-terminated buffer (the reference reads a C string).
private struct JSONParser {
    let L: LuaState
    let cfg: CJSONConfig
    let data: UnsafePointer<UInt8>
    var ptr = 0
    var depth = 0

    func at(_ i: Int) -> UInt8 { data[i] }

    func hexDigit(_ c: UInt8) -> Int {
        if c >= 48 && c <= 57 { return Int(c) - 48 }
        let l = c | 0x20
        if l >= 97 && l <= 102 { return 10 + Int(l) - 97 }
        return -1
    }

    func decodeHex4(_ p: Int) -> Int {
        var v = 0
        for i in 0..<4 {
            // Stops at the NUL terminator: it is not a hex digit.
            let d = hexDigit(at(p + i))
            if d < 0 { return -1 }
            v = (v << 4) + d
        }
        return v
    }

    mutating func unicodeEscape(_ out: inout [UInt8]) -> Bool {
        var cp = decodeHex4(ptr + 2)
        if cp < 0 { return false }
        var escapeLen = 6
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 { return false }
            if at(ptr + 6) != 92 || at(ptr + 7) != 117 { return false }
            var low = decodeHex4(ptr + 8)
            if low < 0 || low & 0xFC00 != 0xDC00 { return false }
            cp = (cp & 0x3FF) << 10
            low &= 0x3FF
            cp = (cp | low) + 0x10000
            escapeLen = 12
        }
        if cp <= 0x7F {
            out.append(UInt8(cp))
        } else if cp <= 0x7FF {
            out += [UInt8((cp >> 6) | 0xC0), UInt8((cp & 0x3F) | 0x80)]
        } else if cp <= 0xFFFF {
            out += [UInt8((cp >> 12) | 0xE0), UInt8(((cp >> 6) & 0x3F) | 0x80), UInt8((cp & 0x3F) | 0x80)]
        } else {
            out += [UInt8((cp >> 18) | 0xF0), UInt8(((cp >> 12) & 0x3F) | 0x80), UInt8(((cp >> 6) & 0x3F) | 0x80), UInt8((cp & 0x3F) | 0x80)]
        }
        ptr += escapeLen
        return true
    }

    static func escapeChar(_ c: UInt8) -> UInt8 {
        switch c {
        case 34: return 34
        case 92: return 92
        case 47: return 47
        case 98: return 8
        case 116: return 9
        case 110: return 10
        case 102: return 12
        case 114: return 13
        case 117: return 117
        default: return 0
        }
    }

    mutating func stringToken() -> (JSONToken, Int) {
        ptr += 1
        var out: [UInt8] = []
        while at(ptr) != 34 {
            var ch = at(ptr)
            if ch == 0 { return (.error("unexpected end of string"), ptr) }
            if ch == 92 {
                ch = JSONParser.escapeChar(at(ptr + 1))
                if ch == 117 {
                    if unicodeEscape(&out) { continue }
                    return (.error("invalid unicode escape code"), ptr)
                }
                if ch == 0 { return (.error("invalid escape code"), ptr) }
                ptr += 1
            }
            out.append(ch)
            ptr += 1
        }
        ptr += 1
        return (.string(out), 0)
    }

    func isInvalidNumber() -> Bool {
        var p = ptr
        if at(p) == 43 { return true }
        if at(p) == 45 { p += 1 }
        if at(p) == 48 {
            let c2 = at(p + 1)
            return (c2 | 0x20) == 120 || (c2 >= 48 && c2 <= 57)
        }
        if at(p) <= 57 { return false }
        func caseEq(_ w: String) -> Bool {
            for (i, c) in w.utf8.enumerated() where (at(p + i) | 0x20) != c { return false }
            return true
        }
        return caseEq("inf") || caseEq("nan")
    }

    mutating func numberToken() -> (JSONToken, Int) {
        let start = UnsafeMutableRawPointer(mutating: data + ptr).assumingMemoryBound(to: CChar.self)
        var end: UnsafeMutablePointer<CChar>? = nil
        let d = strtod(start, &end)
        guard let e = end, e != start else { return (.error("invalid number"), ptr) }
        ptr += e - start
        return (.number(d), 0)
    }

    func startsWith(_ w: String) -> Bool {
        for (i, c) in w.utf8.enumerated() where at(ptr + i) != c { return false }
        return true
    }

    /// The next token and its (0-based) position.
    mutating func next() -> (JSONToken, Int) {
        while true {
            let c = at(ptr)
            if c == 32 || c == 9 || c == 10 || c == 13 { ptr += 1 } else { break }
        }
        let index = ptr
        let ch = at(ptr)
        switch ch {
        case 123: ptr += 1; return (.objBegin, index)
        case 125: ptr += 1; return (.objEnd, index)
        case 91: ptr += 1; return (.arrBegin, index)
        case 93: ptr += 1; return (.arrEnd, index)
        case 44: ptr += 1; return (.comma, index)
        case 58: ptr += 1; return (.colon, index)
        case 0: return (.end, index)
        case 34:
            let (t, errIndex) = stringToken()
            if case .error = t { return (t, errIndex) }
            return (t, index)
        case 45, 48...57:
            if !cfg.decodeInvalidNumbers && isInvalidNumber() { return (.error("invalid number"), ptr) }
            let (t, errIndex) = numberToken()
            if case .error = t { return (t, errIndex) }
            return (t, index)
        case 102, 105, 73, 110, 78, 116, 43:
            if startsWith("true") { ptr += 4; return (.boolean(true), index) }
            if startsWith("false") { ptr += 5; return (.boolean(false), index) }
            if startsWith("null") { ptr += 4; return (.null, index) }
            if cfg.decodeInvalidNumbers && isInvalidNumber() {
                let (t, errIndex) = numberToken()
                if case .error = t { return (t, errIndex) }
                return (t, index)
            }
            return (.error("invalid token"), ptr)
        default:
            return (.error("invalid token"), ptr)
        }
    }

    func parseError(_ expected: String, _ tok: (JSONToken, Int)) -> LuaError {
        L.error("Expected \(expected) but found \(tok.0.name) at character \(tok.1 + 1)")
    }

    mutating func descend() throws(LuaError) {
        depth += 1
        if depth > cfg.decodeMaxDepth || L.nativeStackExhausted() {
            throw L.error("Found too many nested data structures (\(depth)) at character \(ptr)")
        }
    }

    mutating func value(_ tok: (JSONToken, Int)) throws(LuaError) -> LuaValue {
        switch tok.0 {
        case .string(let s): return .string(L.newString(s))
        case .number(let d): return .number(d)
        case .boolean(let b): return .bool(b)
        case .null: return .lightUserdata(0)
        case .objBegin:
            try descend()
            let t = L.newTable()
            var tk = next()
            if case .objEnd = tk.0 {
                depth -= 1
                return .table(t)
            }
            while true {
                guard case .string(let ks) = tk.0 else { throw parseError("object key string", tk) }
                let key = LuaValue.string(L.newString(ks))
                tk = next()
                guard case .colon = tk.0 else { throw parseError("colon", tk) }
                let v = try value(next())
                try L.rawSet(t, key, v)
                tk = next()
                if case .objEnd = tk.0 {
                    depth -= 1
                    return .table(t)
                }
                guard case .comma = tk.0 else { throw parseError("comma or object end", tk) }
                tk = next()
            }
        case .arrBegin:
            try descend()
            let t = L.newTable()
            var tk = next()
            if case .arrEnd = tk.0 {
                depth -= 1
                return .table(t)
            }
            var i = 1
            while true {
                L.rawSet(t, int: i, try value(tk))
                tk = next()
                if case .arrEnd = tk.0 {
                    depth -= 1
                    return .table(t)
                }
                guard case .comma = tk.0 else { throw parseError("comma or array end", tk) }
                tk = next()
                i += 1
            }
        default:
            throw parseError("value", tok)
        }
    }
}

extension LuaState {
    func jsonDecode(_ cfg: CJSONConfig, _ args: LuaArgs) throws(LuaError) -> Int {
        try args.argCheck(args.count == 1, 1, "expected 1 argument")
        let s = try args.checkString(1)
        if s.count >= 2 && (s[0] == 0 || s[1] == 0) { throw error("JSON parser does not support UTF-16 or UTF-32") }
        try reserve(s.count * 2)
        var p = JSONParser(L: self, cfg: cfg, data: s.bytes)
        let v = try p.value(p.next())
        let end = p.next()
        guard case .end = end.0 else { throw p.parseError("the end", end) }
        push(v)
        return 1
    }
}

extension String {
    /// "\u00XX" for a control character.
    init(format4 c: Int) {
        let hex = Array("0123456789abcdef".utf8)
        self = "\\u00" + String(decoding: [hex[c >> 4], hex[c & 15]], as: UTF8.self)
    }
}

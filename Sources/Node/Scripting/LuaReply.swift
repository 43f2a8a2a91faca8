// The RESP2/RESP3 <-> Lua conversions of Redis 7.0 (script_lua.c): a command's reply becomes a Lua
// value (redisProtocolToLuaType) and a script's result becomes the caller's reply
// (luaReplyToRedisReply), rule for rule: nil bulk -> false, status -> {ok=}, error -> {err=},
// RESP3 map/set/double/big number/verbatim -> tagged tables; back again the same way.
import Lua
import Shared

/// The conversions.
enum LuaReply {
    // MARK: - RESP -> Lua

    /// Converts the reply at `pos` (advanced past it). The bytes are a reply our own command
    /// wrote, so a malformed one cannot occur; a truncated one still ends as nil.
    static func toLua(_ L: LuaState, _ b: UnsafeBufferPointer<UInt8>, _ pos: inout Int) -> LuaValue {
        guard pos < b.count else { return .nil }
        let type = b[pos]
        pos += 1
        let lineStart = pos
        while pos + 1 < b.count && !(b[pos] == 13 && b[pos + 1] == 10) { pos += 1 }
        let line = UnsafeBufferPointer(rebasing: b[lineStart..<min(pos, b.count)])
        pos += 2
        switch type {
        case UInt8(ascii: "+"):
            let t = L.newTable(nhash: 1)
            L.rawSet(t, "ok", .string(L.newString(line)))
            return .table(t)
        case UInt8(ascii: "-"):
            return errorTable(L, [UInt8(ascii: "-")] + Array(line), ignoreStats: true)
        case UInt8(ascii: ":"):
            return .number(Double(integer(line)))
        case UInt8(ascii: "$"), UInt8(ascii: "="):
            let n = integer(line)
            if n < 0 { return .bool(false) }
            let start = pos
            pos = min(b.count, pos + n + 2)
            let body = UnsafeBufferPointer(rebasing: b[start..<min(start + n, b.count)])
            if type == UInt8(ascii: "$") { return .string(L.newString(body)) }
            // Verbatim: "fmt:text".
            let t = L.newTable(nhash: 1)
            let v = L.newTable(nhash: 2)
            let split = min(4, body.count)
            L.rawSet(v, "string", .string(L.newString(UnsafeBufferPointer(rebasing: body[split...]))))
            L.rawSet(v, "format", .string(L.newString(UnsafeBufferPointer(rebasing: body[..<min(3, body.count)]))))
            L.rawSet(t, "verbatim_string", .table(v))
            return .table(t)
        case UInt8(ascii: "*"), UInt8(ascii: ">"):
            let n = integer(line)
            if n < 0 { return .bool(false) }
            let t = L.newTable(narray: n)
            for i in 0..<n { L.rawSet(t, int: i + 1, toLua(L, b, &pos)) }
            return .table(t)
        case UInt8(ascii: "%"):
            let n = integer(line)
            let t = L.newTable(nhash: 1)
            let m = L.newTable(nhash: n)
            for _ in 0..<n {
                let k = toLua(L, b, &pos)
                let v = toLua(L, b, &pos)
                try? L.rawSet(m, k, v)
            }
            L.rawSet(t, "map", .table(m))
            return .table(t)
        case UInt8(ascii: "~"):
            let n = integer(line)
            let t = L.newTable(nhash: 1)
            let s = L.newTable(nhash: n)
            for _ in 0..<n {
                let k = toLua(L, b, &pos)
                try? L.rawSet(s, k, .bool(true))
            }
            L.rawSet(t, "set", .table(s))
            return .table(t)
        case UInt8(ascii: "|"):
            // Attributes are not shown to scripts: skip them, convert what follows.
            let n = integer(line)
            for _ in 0..<(2 * n) { skip(b, &pos) }
            return toLua(L, b, &pos)
        case UInt8(ascii: "_"):
            return .nil
        case UInt8(ascii: "#"):
            return .bool(line.first == UInt8(ascii: "t"))
        case UInt8(ascii: ","):
            let t = L.newTable(nhash: 1)
            L.rawSet(t, "double", .number(double(line)))
            return .table(t)
        case UInt8(ascii: "("):
            let t = L.newTable(nhash: 1)
            L.rawSet(t, "big_number", .string(L.newString(line)))
            return .table(t)
        default:
            return .nil
        }
    }

    /// Moves `pos` past one reply.
    private static func skip(_ b: UnsafeBufferPointer<UInt8>, _ pos: inout Int) {
        guard pos < b.count else { return }
        let type = b[pos]
        pos += 1
        let lineStart = pos
        while pos + 1 < b.count && !(b[pos] == 13 && b[pos + 1] == 10) { pos += 1 }
        let n = integer(UnsafeBufferPointer(rebasing: b[lineStart..<min(pos, b.count)]))
        pos += 2
        switch type {
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"): if n > 0 { pos += n + 2 }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"): for _ in 0..<max(0, n) { skip(b, &pos) }
        case UInt8(ascii: "%"), UInt8(ascii: "|"): for _ in 0..<max(0, 2 * n) { skip(b, &pos) }
        default: break
        }
    }

    private static func integer(_ line: UnsafeBufferPointer<UInt8>) -> Int {
        var v = 0, neg = false
        for (i, ch) in line.enumerated() {
            if i == 0 && ch == UInt8(ascii: "-") { neg = true; continue }
            guard ch >= 48 && ch <= 57 else { break }
            v = v &* 10 &+ Int(ch - 48)
        }
        return neg ? -v : v
    }

    private static func double(_ line: UnsafeBufferPointer<UInt8>) -> Double {
        let s = String(decoding: line, as: UTF8.self)
        switch s {
        case "inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default: return NumberFormat.parseDouble(Array(line)) ?? 0
        }
    }

    /// {err="CODE message"}: "-CODE message" keeps its code, a bare message gets ERR; trailing
    /// CR/LF trimmed (luaPushErrorBuff). `ignoreStats` marks errors already counted.
    static func errorTable(_ L: LuaState, _ text: [UInt8], ignoreStats: Bool) -> LuaValue {
        var code: [UInt8] = Array("ERR".utf8)
        var msg = text
        if text.first == UInt8(ascii: "-") {
            if let sp = text.firstIndex(of: 32) {
                code = Array(text[1..<sp])
                msg = Array(text[(sp + 1)...])
            } else {
                msg = Array(text.dropFirst())
            }
        }
        while let l = msg.last, l == 13 || l == 10 { msg.removeLast() }
        while let f = msg.first, f == 13 || f == 10 { msg.removeFirst() }
        let t = L.newTable(nhash: 2)
        L.rawSet(t, "err", .string(L.newString(code + [32] + msg)))
        if ignoreStats { L.rawSet(t, "ignore_error_stats_update", .bool(true)) }
        return .table(t)
    }

    // MARK: - Lua -> RESP

    /// Writes a script's result as the caller's reply. `scriptResp` is the protocol the script
    /// chose with redis.setresp (booleans follow it).
    /// `onError` is told of every error reply written (its text without the '-', and whether it
    /// was already counted: an error a command of the script returned), for the error stats.
    static func write(_ L: LuaState, _ v: LuaValue, to out: inout RESPWriter, scriptResp: Int, depth: Int = 0,
                      onError: ((_ message: [UInt8], _ alreadyCounted: Bool) -> Void)? = nil) {
        if depth > 1000 {
            out.error("ERR reached lua stack limit")
            return
        }
        switch v {
        case .string(let s):
            out.bulk(Array(s.buffer))
        case .bool(let b):
            if scriptResp == 2 {
                if b { out.integer(1) } else { out.null() }
            } else {
                out.boolean(b)
            }
        case .number(let n):
            out.integer(LuaReply.int64(n))
        case .table(let t):
            writeTable(L, t, to: &out, scriptResp: scriptResp, depth: depth, onError: onError)
        default:
            out.null()
        }
    }

    /// C's (long long) cast of a double, as x86 does it for out-of-range values.
    static func int64(_ n: Double) -> Int {
        guard n.isFinite, n >= -9.223372036854775808e18, n < 9.223372036854775808e18 else { return Int.min }
        return Int(n)
    }

    private static func writeTable(_ L: LuaState, _ t: LuaTable, to out: inout RESPWriter, scriptResp: Int, depth: Int,
                                   onError: ((_ message: [UInt8], _ alreadyCounted: Bool) -> Void)?) {
        func field(_ name: String) -> LuaValue { t.get(string: L.newString(name)) }
        if case .string(let e) = field("err") {
            var msg = Array(e.buffer)
            for i in msg.indices where msg[i] == 13 || msg[i] == 10 { msg[i] = 32 }
            // "-%s": the message carries its own code.
            onError?(msg, !field("ignore_error_stats_update").isFalsy)
            out.raw([UInt8(ascii: "-")] + msg + [13, 10])
            return
        }
        if case .string(let s) = field("ok") {
            var msg = Array(s.buffer)
            for i in msg.indices where msg[i] == 13 || msg[i] == 10 { msg[i] = 32 }
            out.raw([UInt8(ascii: "+")] + msg + [13, 10])
            return
        }
        if case .number(let d) = field("double") {
            out.double(d)
            return
        }
        if case .string(let s) = field("big_number") {
            var digits = Array(s.buffer)
            for i in digits.indices where digits[i] == 13 || digits[i] == 10 { digits[i] = 32 }
            if out.proto >= 3 { out.raw([UInt8(ascii: "(")] + digits + [13, 10]) } else { out.bulk(digits) }
            return
        }
        if case .table(let vt) = field("verbatim_string"),
           case .string(let format) = vt.get(string: L.newString("format")),
           case .string(let str) = vt.get(string: L.newString("string")) {
            if out.proto >= 3 {
                var f = Array(format.buffer.prefix(3))
                while f.count < 3 { f.append(32) }
                out.raw("=")
                out.raw(Bytes(String(str.count + 4).utf8))
                out.raw([13, 10] + f + [UInt8(ascii: ":")] + Array(str.buffer) + [13, 10])
            } else {
                out.bulk(Array(str.buffer))
            }
            return
        }
        if case .table(let m) = field("map") {
            var body = RESPWriter()
            body.proto = out.proto
            var n = 0
            var key = LuaValue.nil
            while let (k, v) = try? L.next(m, after: key) {
                write(L, k, to: &body, scriptResp: scriptResp, depth: depth + 1, onError: onError)
                write(L, v, to: &body, scriptResp: scriptResp, depth: depth + 1, onError: onError)
                n += 1
                key = k
            }
            out.mapHeader(n)
            out.raw(body.bytes)
            return
        }
        if case .table(let s) = field("set") {
            var body = RESPWriter()
            body.proto = out.proto
            var n = 0
            var key = LuaValue.nil
            while let (k, _) = try? L.next(s, after: key) {
                write(L, k, to: &body, scriptResp: scriptResp, depth: depth + 1, onError: onError)
                n += 1
                key = k
            }
            out.setHeader(n)
            out.raw(body.bytes)
            return
        }
        var body = RESPWriter()
        body.proto = out.proto
        var j = 1
        while true {
            let v = t.get(int: j)
            if v.isNil { break }
            write(L, v, to: &body, scriptResp: scriptResp, depth: depth + 1, onError: onError)
            j += 1
        }
        out.arrayHeader(j - 1)
        out.raw(body.bytes)
    }
}

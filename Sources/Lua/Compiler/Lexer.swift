// The lexer (Lua 5.1's llex.c): same tokens, same escapes, same error texts.

import Glibc

/// Token codes: single characters are their byte value; reserved words and multi-char tokens follow.
enum Token {
    static let firstReserved = 257
    static let reservedWords = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function",
                                "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
                                "true", "until", "while"]
    static let and = 257, `break` = 258, `do` = 259, `else` = 260, elseif = 261, end = 262, `false` = 263,
               `for` = 264, function = 265, `if` = 266, `in` = 267, local = 268, `nil` = 269, not = 270,
               or = 271, `repeat` = 272, `return` = 273, then = 274, `true` = 275, until = 276, `while` = 277,
               concat = 278, dots = 279, eq = 280, ge = 281, le = 282, ne = 283, number = 284, name = 285,
               string = 286, eos = 287
    static let names = reservedWords + ["..", "...", "==", ">=", "<=", "~=", "<number>", "<name>", "<string>", "<eof>"]
}

/// A token with its semantic value.
struct TokenValue {
    var token: Int = Token.eos
    var number: Double = 0
    var string: LuaString? = nil
}

/// Lua's lexer over a byte buffer.
struct Lexer {
    let state: LuaState
    let src: UnsafeBufferPointer<UInt8>
    var pos = 0
    /// The current character, -1 at the end (EOZ).
    var current: Int32 = -1
    var lineNumber = 1
    var lastLine = 1
    var t = TokenValue()
    var lookahead = TokenValue()
    /// Raw text of the token being read (for "near '...'" in messages): `storage[0..<count]`.
    var storage: [UInt8] = []
    var count = 0
    let source: LuaString
    /// The chunk name as error messages show it (luaO_chunkid with the lexer's 80 bytes).
    var chunkID: [UInt8] { Lexer.chunkID(source.buffer, 80) }
    /// Parser nesting (enterlevel), bounded like Lua's LUAI_MAXCCALLS.
    var level = 0

    init(state: LuaState, source src: UnsafeBufferPointer<UInt8>, chunkName: LuaString) {
        self.state = state
        self.src = src
        self.source = chunkName
        storage.reserveCapacity(64)
        next()
    }

    /// luaO_chunkid: "=name" → name, "@file" → file (tail kept), else [string "first line..."].
    static func chunkID(_ source: UnsafeBufferPointer<UInt8>, _ bufflen0: Int) -> [UInt8] {
        let s = Array(source)
        // The name is a C string in Lua: it ends at the first NUL.
        let cstr = Array(s.prefix(while: { $0 != 0 }))
        if cstr.first == UInt8(ascii: "=") {
            return Array(cstr.dropFirst().prefix(bufflen0 - 1))
        }
        if cstr.first == UInt8(ascii: "@") {
            let name = cstr.dropFirst()
            let bufflen = bufflen0 - 8  // sizeof(" '...' ")
            if name.count > bufflen { return Array("...".utf8) + Array(name.suffix(bufflen)) }
            return Array(name)
        }
        var len = cstr.firstIndex(where: { $0 == 10 || $0 == 13 }) ?? cstr.count
        let bufflen = bufflen0 - 17  // sizeof(" [string \"...\"] ")
        if len > bufflen { len = bufflen }
        var out = Array("[string \"".utf8)
        if len < cstr.count {
            out += cstr[0..<len]
            out += Array("...".utf8)
        } else {
            out += cstr
        }
        out += Array("\"]".utf8)
        return out
    }

    // MARK: - Characters

    @inline(__always) mutating func next() {
        if pos < src.count {
            current = Int32(src[pos])
            pos += 1
        } else {
            current = -1
        }
    }

    @inline(__always) mutating func save(_ c: Int32) {
        let b = UInt8(truncatingIfNeeded: c)
        if count < storage.count { storage[count] = b } else { storage.append(b) }
        count += 1
    }

    @inline(__always) mutating func resetBuffer() { count = 0 }

    /// The saved bytes of the current token.
    var buffer: ArraySlice<UInt8> { storage[0..<count] }

    /// An interned string of saved bytes start..<end.
    func bufferString(_ start: Int, _ end: Int) -> LuaString {
        storage.withUnsafeBufferPointer { b in state.newString(UnsafeBufferPointer(rebasing: b[start..<max(start, end)])) }
    }
    @inline(__always) mutating func saveAndNext() { save(current); next() }
    @inline(__always) var currentIsNewline: Bool { current == 10 || current == 13 }

    static func isDigit(_ c: Int32) -> Bool { c >= 48 && c <= 57 }
    static func isAlpha(_ c: Int32) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
    static func isAlnum(_ c: Int32) -> Bool { isDigit(c) || isAlpha(c) }
    static func isSpace(_ c: Int32) -> Bool { c == 32 || (c >= 9 && c <= 13) }

    // MARK: - Errors

    func tokenText(_ token: Int) -> [UInt8] {
        if token < Token.firstReserved {
            if token < 32 || token == 127 { return Array("char(\(token))".utf8) }
            return [UInt8(token)]
        }
        return Array(Token.names[token - Token.firstReserved].utf8)
    }

    func txtToken(_ token: Int) -> [UInt8] {
        switch token {
        case Token.name, Token.string, Token.number:
            // Lua saves a NUL and prints the buffer as a C string.
            return Array(buffer.prefix(while: { $0 != 0 }))
        default: return tokenText(token)
        }
    }

    /// luaX_lexerror: "chunk:line: msg near 'token'".
    func error(_ msg: [UInt8], _ token: Int) -> LuaError {
        var m = chunkID + Array(":\(lineNumber): ".utf8) + msg
        if token != 0 { m += Array(" near '".utf8) + txtToken(token) + [UInt8(ascii: "'")] }
        return LuaError(.syntax, .string(state.newString(m)))
    }

    func error(_ msg: String, _ token: Int) -> LuaError { error(Array(msg.utf8), token) }

    /// luaX_syntaxerror: the message near the current token.
    func syntaxError(_ msg: String) -> LuaError { error(msg, t.token) }
    func syntaxError(_ msg: [UInt8]) -> LuaError { error(msg, t.token) }

    // MARK: - Tokens

    mutating func nextToken() throws(LuaError) {
        lastLine = lineNumber
        if lookahead.token != Token.eos {
            t = lookahead
            lookahead.token = Token.eos
        } else {
            var nt = TokenValue()
            nt.token = try lex(&nt)
            t = nt
        }
    }

    mutating func lookAhead() throws(LuaError) {
        var la = TokenValue()
        la.token = try lex(&la)
        lookahead = la
    }

    mutating func incLineNumber() throws(LuaError) {
        let old = current
        next()
        if currentIsNewline && current != old { next() }
        lineNumber += 1
        if lineNumber >= Int(Int32.max) { throw syntaxError("chunk has too many lines") }
    }

    mutating func checkNext(_ set: String) -> Bool {
        for c in set.utf8 where Int32(c) == current {
            saveAndNext()
            return true
        }
        return false
    }

    mutating func readNumeral(_ sem: inout TokenValue) throws(LuaError) {
        repeat { saveAndNext() } while Lexer.isDigit(current) || current == 46
        if checkNext("Ee") { _ = checkNext("+-") }
        while Lexer.isAlnum(current) || current == 95 { saveAndNext() }
        guard let d = LuaNumberParser.parse(buffer) else {
            throw error("malformed number", Token.number)
        }
        sem.number = d
    }

    mutating func skipSep() -> Int {
        var count = 0
        let s = current
        saveAndNext()
        while current == 61 {
            saveAndNext()
            count += 1
        }
        return current == s ? count : (-count) - 1
    }

    mutating func readLongString(_ sem: UnsafeMutablePointer<TokenValue>?, _ sep: Int) throws(LuaError) {
        saveAndNext()  // skip 2nd '['
        if currentIsNewline { try incLineNumber() }
        loop: while true {
            switch current {
            case -1:
                throw error(sem != nil ? "unfinished long string" : "unfinished long comment", Token.eos)
            case 91:  // '['
                if skipSep() == sep {
                    saveAndNext()
                    if sep == 0 { throw error("nesting of [[...]] is deprecated", 91) }
                }
            case 93:  // ']'
                if skipSep() == sep {
                    saveAndNext()
                    break loop
                }
            case 10, 13:
                save(10)
                try incLineNumber()
                if sem == nil { resetBuffer() }
            default:
                if sem != nil { saveAndNext() } else { next() }
            }
        }
        if let sem {
            let start = 2 + sep
            let end = count - (2 + sep)
            sem.pointee.string = bufferString(start, end)
        }
    }

    mutating func readString(_ del: Int32, _ sem: inout TokenValue) throws(LuaError) {
        saveAndNext()
        while current != del {
            switch current {
            case -1:
                throw error("unfinished string", Token.eos)
            case 10, 13:
                throw error("unfinished string", Token.string)
            case 92:  // '\\'
                next()
                var c: Int32
                switch current {
                case 97: c = 7
                case 98: c = 8
                case 102: c = 12
                case 110: c = 10
                case 114: c = 13
                case 116: c = 9
                case 118: c = 11
                case 10, 13:
                    save(10)
                    try incLineNumber()
                    continue
                case -1: continue  // raises "unfinished string" on the next loop
                default:
                    if !Lexer.isDigit(current) {
                        saveAndNext()  // \\, \", \', \?
                    } else {
                        var i = 0
                        c = 0
                        repeat {
                            c = 10 * c + (current - 48)
                            next()
                            i += 1
                        } while i < 3 && Lexer.isDigit(current)
                        if c > 255 { throw error("escape sequence too large", Token.string) }
                        save(c)
                    }
                    continue
                }
                save(c)
                next()
            default:
                saveAndNext()
            }
        }
        saveAndNext()  // skip the delimiter
        sem.string = bufferString(1, count - 1)
    }

    mutating func lex(_ sem: inout TokenValue) throws(LuaError) -> Int {
        resetBuffer()
        while true {
            switch current {
            case 10, 13:
                try incLineNumber()
            case 45:  // '-'
                next()
                if current != 45 { return 45 }
                next()
                if current == 91 {
                    let sep = skipSep()
                    resetBuffer()
                    if sep >= 0 {
                        try readLongString(nil, sep)
                        resetBuffer()
                        continue
                    }
                }
                while !currentIsNewline && current != -1 { next() }
            case 91:  // '['
                let sep = skipSep()
                if sep >= 0 {
                    try withUnsafeMutablePointer(to: &sem) { (p) throws(LuaError) in try readLongString(p, sep) }
                    return Token.string
                } else if sep == -1 {
                    return 91
                }
                throw error("invalid long string delimiter", Token.string)
            case 61:  // '='
                next()
                if current != 61 { return 61 }
                next()
                return Token.eq
            case 60:  // '<'
                next()
                if current != 61 { return 60 }
                next()
                return Token.le
            case 62:  // '>'
                next()
                if current != 61 { return 62 }
                next()
                return Token.ge
            case 126:  // '~'
                next()
                if current != 61 { return 126 }
                next()
                return Token.ne
            case 34, 39:
                try readString(current, &sem)
                return Token.string
            case 46:  // '.'
                saveAndNext()
                if checkNext(".") {
                    if checkNext(".") { return Token.dots }
                    return Token.concat
                } else if !Lexer.isDigit(current) {
                    return 46
                }
                try readNumeral(&sem)
                return Token.number
            case -1:
                return Token.eos
            default:
                if Lexer.isSpace(current) {
                    next()
                    continue
                } else if Lexer.isDigit(current) {
                    try readNumeral(&sem)
                    return Token.number
                } else if Lexer.isAlpha(current) || current == 95 {
                    repeat { saveAndNext() } while Lexer.isAlnum(current) || current == 95
                    let s = bufferString(0, count)
                    let r = s.p.pointee.reserved
                    if r > 0 { return Int(r) - 1 + Token.firstReserved }
                    sem.string = s
                    return Token.name
                } else {
                    let c = current
                    next()
                    return Int(c)
                }
            }
        }
    }
}

/// Lua's luaO_str2d: strtod (decimal, and hex through strtoul), trailing spaces allowed.
enum LuaNumberParser {
    static func parse(_ bytes: ArraySlice<UInt8>) -> Double? {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    static func parse(_ bytes: [UInt8]) -> Double? {
        bytes.withUnsafeBufferPointer { parse($0) }
    }

    /// Short runs of decimal digits (most literals and numeric strings) convert exactly without strtod.
    @inline(__always) static func parseDigits(_ p: UnsafePointer<UInt8>, _ n: Int) -> Double? {
        if n == 0 || n > 15 { return nil }
        var v = 0
        for i in 0..<n {
            let d = Int(p[i]) &- 48
            if d < 0 || d > 9 { return nil }
            v = v * 10 + d
        }
        return Double(v)
    }

    /// Converts a byte string as `tonumber` and arithmetic coercion do.
    static func parse(_ buf: UnsafeBufferPointer<UInt8>) -> Double? {
        if let base = buf.baseAddress, let d = parseDigits(base, buf.count) { return d }
        // strtod needs a NUL-terminated C string; an embedded NUL ends the number (as in C).
        var tmp = [CChar](repeating: 0, count: buf.count + 1)
        for i in 0..<buf.count { tmp[i] = CChar(bitPattern: buf[i]) }
        return tmp.withUnsafeMutableBufferPointer { (p) -> Double? in
            let s = p.baseAddress!
            var end: UnsafeMutablePointer<CChar>? = nil
            var r = strtod(s, &end)
            guard var e = end, e != s else { return nil }
            if e.pointee == 0x78 || e.pointee == 0x58 {  // 'x' / 'X'
                r = Double(strtoul(s, &end, 16))
                e = end!
            }
            while e.pointee != 0 && Lexer.isSpace(Int32(UInt8(bitPattern: e.pointee))) { e += 1 }
            if e.pointee != 0 { return nil }
            // A NUL inside the Lua string also ends the C string: Lua then accepts the prefix.
            return r
        }
    }

    /// Same as `parse` for a string held by the state (already NUL-terminated).
    static func parse(_ s: LuaString) -> Double? {
        if let d = parseDigits(s.bytes, s.count) { return d }
        let p = UnsafeMutableRawPointer(mutating: s.bytes).assumingMemoryBound(to: CChar.self)
        var end: UnsafeMutablePointer<CChar>? = nil
        var r = strtod(p, &end)
        guard var e = end, e != p else { return nil }
        if e.pointee == 0x78 || e.pointee == 0x58 {
            r = Double(strtoul(p, &end, 16))
            e = end!
        }
        while e.pointee != 0 && Lexer.isSpace(Int32(UInt8(bitPattern: e.pointee))) { e += 1 }
        if e.pointee != 0 { return nil }
        return r
    }
}

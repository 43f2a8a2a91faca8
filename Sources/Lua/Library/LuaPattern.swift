// Lua 5.1 pattern matching (lstrlib.c's matcher). The pattern is a C string (it ends at the first
// NUL); the subject may contain any byte. Character classes use the C locale.

/// C-locale character classes.
enum CType {
    static func isAlpha(_ c: Int) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
    static func isDigit(_ c: Int) -> Bool { c >= 48 && c <= 57 }
    static func isLower(_ c: Int) -> Bool { c >= 97 && c <= 122 }
    static func isUpper(_ c: Int) -> Bool { c >= 65 && c <= 90 }
    static func isSpace(_ c: Int) -> Bool { c == 32 || (c >= 9 && c <= 13) }
    static func isCntrl(_ c: Int) -> Bool { c < 32 || c == 127 }
    static func isPunct(_ c: Int) -> Bool { (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126) }
    static func isAlnum(_ c: Int) -> Bool { isAlpha(c) || isDigit(c) }
    static func isXDigit(_ c: Int) -> Bool { isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) }
    static func toLower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
    static func toUpper(_ c: UInt8) -> UInt8 { c >= 97 && c <= 122 ? c - 32 : c }
}

/// One match attempt's state (MatchState).
struct PatternMatcher {
    static let maxCaptures = 32
    static let capUnfinished = -1
    static let capPosition = -2
    /// Recursion bound: a pattern this deep is "pattern too complex" instead of a native stack overflow.
    static let maxDepth = 200

    let state: LuaState
    let src: UnsafePointer<UInt8>
    let srcEnd: Int
    /// The pattern, NUL-terminated.
    let pat: UnsafePointer<UInt8>
    var level = 0
    var captureInit = [Int](repeating: 0, count: maxCaptures)
    var captureLen = [Int](repeating: 0, count: maxCaptures)
    var depth = 0

    init(state: LuaState, src: UnsafePointer<UInt8>, count: Int, pattern: UnsafePointer<UInt8>) {
        self.state = state
        self.src = src
        self.srcEnd = count
        self.pat = pattern
    }

    @inline(__always) func p(_ i: Int) -> Int { Int(pat[i]) }

    func checkCapture(_ l0: Int) throws(LuaError) -> Int {
        let l = l0 - 49  // '1'
        if l < 0 || l >= level || captureLen[l] == PatternMatcher.capUnfinished {
            throw state.error("invalid capture index")
        }
        return l
    }

    func captureToClose() throws(LuaError) -> Int {
        var l = level - 1
        while l >= 0 {
            if captureLen[l] == PatternMatcher.capUnfinished { return l }
            l -= 1
        }
        throw state.error("invalid pattern capture")
    }

    func classEnd(_ pi0: Int) throws(LuaError) -> Int {
        var pi = pi0
        let c = p(pi)
        pi += 1
        if c == 37 {  // '%'
            if p(pi) == 0 { throw state.error("malformed pattern (ends with '%')") }
            return pi + 1
        }
        if c == 91 {  // '['
            if p(pi) == 94 { pi += 1 }
            repeat {
                if p(pi) == 0 { throw state.error("malformed pattern (missing ']')") }
                let x = p(pi)
                pi += 1
                if x == 37 && p(pi) != 0 { pi += 1 }
            } while p(pi) != 93
            return pi + 1
        }
        return pi
    }

    static func matchClass(_ c: Int, _ cl: Int) -> Bool {
        let res: Bool
        switch Int(CType.toLower(UInt8(cl))) {
        case 97: res = CType.isAlpha(c)
        case 99: res = CType.isCntrl(c)
        case 100: res = CType.isDigit(c)
        case 108: res = CType.isLower(c)
        case 112: res = CType.isPunct(c)
        case 115: res = CType.isSpace(c)
        case 117: res = CType.isUpper(c)
        case 119: res = CType.isAlnum(c)
        case 120: res = CType.isXDigit(c)
        case 122: res = c == 0
        default: return cl == c
        }
        return CType.isLower(cl) ? res : !res
    }

    /// `pi` at '[', `ec` at the closing ']'.
    func matchBracketClass(_ c: Int, _ pi0: Int, _ ec: Int) -> Bool {
        var pi = pi0
        var sig = true
        if p(pi + 1) == 94 {
            sig = false
            pi += 1
        }
        pi += 1
        while pi < ec {
            if p(pi) == 37 {
                pi += 1
                if PatternMatcher.matchClass(c, p(pi)) { return sig }
            } else if p(pi + 1) == 45 && pi + 2 < ec {  // range a-z
                pi += 2
                if p(pi - 2) <= c && c <= p(pi) { return sig }
            } else if p(pi) == c {
                return sig
            }
            pi += 1
        }
        return !sig
    }

    func singleMatch(_ c: Int, _ pi: Int, _ ep: Int) -> Bool {
        switch p(pi) {
        case 46: return true
        case 37: return PatternMatcher.matchClass(c, p(pi + 1))
        case 91: return matchBracketClass(c, pi, ep - 1)
        default: return p(pi) == c
        }
    }

    func matchBalance(_ s: Int, _ pi: Int) throws(LuaError) -> Int? {
        if p(pi) == 0 || p(pi + 1) == 0 { throw state.error("unbalanced pattern") }
        if s >= srcEnd || Int(src[s]) != p(pi) { return nil }
        let b = p(pi), e = p(pi + 1)
        var cont = 1
        var i = s + 1
        while i < srcEnd {
            let c = Int(src[i])
            if c == e {
                cont -= 1
                if cont == 0 { return i + 1 }
            } else if c == b {
                cont += 1
            }
            i += 1
        }
        return nil
    }

    mutating func maxExpand(_ s: Int, _ pi: Int, _ ep: Int) throws(LuaError) -> Int? {
        var i = 0
        while s + i < srcEnd && singleMatch(Int(src[s + i]), pi, ep) { i += 1 }
        while i >= 0 {
            if let r = try match(s + i, ep + 1) { return r }
            i -= 1
        }
        return nil
    }

    mutating func minExpand(_ s0: Int, _ pi: Int, _ ep: Int) throws(LuaError) -> Int? {
        var s = s0
        while true {
            if let r = try match(s, ep + 1) { return r }
            if s < srcEnd && singleMatch(Int(src[s]), pi, ep) { s += 1 } else { return nil }
        }
    }

    mutating func startCapture(_ s: Int, _ pi: Int, _ what: Int) throws(LuaError) -> Int? {
        if level >= PatternMatcher.maxCaptures { throw state.error("too many captures") }
        captureInit[level] = s
        captureLen[level] = what
        level += 1
        let r = try match(s, pi)
        if r == nil { level -= 1 }
        return r
    }

    mutating func endCapture(_ s: Int, _ pi: Int) throws(LuaError) -> Int? {
        let l = try captureToClose()
        captureLen[l] = s - captureInit[l]
        let r = try match(s, pi)
        if r == nil { captureLen[l] = PatternMatcher.capUnfinished }
        return r
    }

    func matchCapture(_ s: Int, _ l0: Int) throws(LuaError) -> Int? {
        let l = try checkCapture(l0)
        let len = captureLen[l]
        if srcEnd - s >= len && memcmp(src + captureInit[l], src + s, len) == 0 { return s + len }
        return nil
    }

    /// Matches the pattern from index `pi` at subject index `s`; returns the end of the match.
    mutating func match(_ s0: Int, _ pi0: Int) throws(LuaError) -> Int? {
        depth += 1
        defer { depth -= 1 }
        if depth > PatternMatcher.maxDepth || state.nativeStackExhausted() { throw state.error("pattern too complex") }
        var s = s0
        var pi = pi0
        while true {
            switch p(pi) {
            case 40:  // '('
                if p(pi + 1) == 41 { return try startCapture(s, pi + 2, PatternMatcher.capPosition) }
                return try startCapture(s, pi + 1, PatternMatcher.capUnfinished)
            case 41:  // ')'
                return try endCapture(s, pi + 1)
            case 0:
                return s
            case 36 where p(pi + 1) == 0:  // '$' at the end
                return s == srcEnd ? s : nil
            case 37 where p(pi + 1) == 98:  // %b
                guard let ns = try matchBalance(s, pi + 2) else { return nil }
                s = ns
                pi += 4
                continue
            case 37 where p(pi + 1) == 102:  // %f
                pi += 2
                if p(pi) != 91 { throw state.error("missing '[' after '%f' in pattern") }
                let ep = try classEnd(pi)
                let previous = s == 0 ? 0 : Int(src[s - 1])
                let current = s < srcEnd ? Int(src[s]) : 0
                if matchBracketClass(previous, pi, ep - 1) || !matchBracketClass(current, pi, ep - 1) { return nil }
                pi = ep
                continue
            case 37 where CType.isDigit(p(pi + 1)):  // %0-%9
                guard let ns = try matchCapture(s, p(pi + 1)) else { return nil }
                s = ns
                pi += 2
                continue
            default:
                break
            }
            let ep = try classEnd(pi)
            let m = s < srcEnd && singleMatch(Int(src[s]), pi, ep)
            switch p(ep) {
            case 63:  // '?'
                if m, let r = try match(s + 1, ep + 1) { return r }
                pi = ep + 1
            case 42:  // '*'
                return try maxExpand(s, pi, ep)
            case 43:  // '+'
                return m ? try maxExpand(s + 1, pi, ep) : nil
            case 45:  // '-'
                return try minExpand(s, pi, ep)
            default:
                if !m { return nil }
                s += 1
                pi = ep
            }
        }
    }

    /// Pushes capture `i` (or the whole match s..<e when there are no captures).
    func pushCapture(_ i: Int, _ s: Int, _ e: Int) throws(LuaError) {
        state.push(try captureValue(i, s, e))
    }

    func captureValue(_ i: Int, _ s: Int, _ e: Int) throws(LuaError) -> LuaValue {
        if i >= level {
            if i == 0 { return .string(state.newString(UnsafeBufferPointer(start: src + s, count: e - s))) }
            throw state.error("invalid capture index")
        }
        let l = captureLen[i]
        if l == PatternMatcher.capUnfinished { throw state.error("unfinished capture") }
        if l == PatternMatcher.capPosition { return .number(Double(captureInit[i] + 1)) }
        return .string(state.newString(UnsafeBufferPointer(start: src + captureInit[i], count: l)))
    }

    /// Pushes all captures (or the whole match); returns how many.
    func pushCaptures(_ s: Int?, _ e: Int) throws(LuaError) -> Int {
        let n = (level == 0 && s != nil) ? 1 : level
        state.checkStack(state.current, n)
        for i in 0..<n { try pushCapture(i, s ?? 0, e) }
        return n
    }
}

import Glibc

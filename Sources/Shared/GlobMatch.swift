// Glob-style matching with exactly the semantics of Redis's stringmatchlen (util.c): `*`, `?`,
// `[...]` sets with ranges and `^` negation, and `\` escapes. KEYS, SCAN MATCH, PSUBSCRIBE,
// PUBSUB CHANNELS and CONFIG GET all match through this one function so they agree with Redis on
// odd patterns (an unterminated `[`, a trailing `\`, reversed ranges).

/// Redis-compatible glob matching over bytes.
public enum GlobMatch {
    /// True if `string` matches `pattern`; `nocase` folds ASCII letters (CONFIG GET does).
    /// Note that, as in Redis, `*` does not match the empty string here: KEYS and SCAN treat a
    /// bare `*` as "everything" before calling the matcher.
    public static func matches(_ pattern: [UInt8], _ string: [UInt8], nocase: Bool = false) -> Bool {
        var skipLonger = false
        return match(pattern, 0, string, 0, nocase, &skipLonger, 0)
    }

    @inline(__always) private static func fold(_ c: UInt8, _ nocase: Bool) -> UInt8 {
        nocase && c >= 0x41 && c <= 0x5A ? c + 32 : c
    }

    /// One level of the recursive matcher; `skipLonger` ends the search early once a `*` has
    /// proved that the rest of the pattern matches nowhere in the rest of the string (this is
    /// what keeps `*a*a*a*...b` patterns from exploding, as in Redis 7.0.10+).
    private static func match(_ p: [UInt8], _ pi0: Int, _ s: [UInt8], _ si0: Int, _ nocase: Bool,
                              _ skipLonger: inout Bool, _ nesting: Int) -> Bool {
        if nesting > 1000 { return false }
        var pi = pi0, si = si0
        // Reading past the end yields 0, as C's NUL terminator does in Redis's loop.
        func pat(_ i: Int) -> UInt8 { i < p.count ? p[i] : 0 }
        while pi < p.count && si < s.count {
            switch p[pi] {
            case 0x2A: // '*'
                while pi + 1 < p.count && p[pi + 1] == 0x2A { pi += 1 }
                if pi + 1 == p.count { return true }
                while si < s.count {
                    if match(p, pi + 1, s, si, nocase, &skipLonger, nesting + 1) { return true }
                    if skipLonger { return false }
                    si += 1
                }
                skipLonger = true
                return false
            case 0x3F: // '?'
                si += 1
            case 0x5B: // '['
                pi += 1
                let negate = pat(pi) == 0x5E
                if negate { pi += 1 }
                var matched = false
                let c = fold(s[si], nocase)
                while true {
                    let left = p.count - pi
                    if pat(pi) == 0x5C && left >= 2 {
                        pi += 1
                        if fold(p[pi], nocase) == c { matched = true }
                    } else if pat(pi) == 0x5D && left > 0 {
                        break
                    } else if left <= 0 {
                        pi -= 1  // an unterminated set: the outer step moves back to the end
                        break
                    } else if left >= 3 && p[pi + 1] == 0x2D {
                        var lo = fold(p[pi], nocase), hi = fold(p[pi + 2], nocase)
                        if lo > hi { swap(&lo, &hi) }
                        pi += 2
                        if c >= lo && c <= hi { matched = true }
                    } else if fold(p[pi], nocase) == c {
                        matched = true
                    }
                    pi += 1
                }
                if negate { matched = !matched }
                if !matched { return false }
                si += 1
            case 0x5C: // '\'
                if p.count - pi >= 2 { pi += 1 }
                if fold(p[pi], nocase) != fold(s[si], nocase) { return false }
                si += 1
            default:
                if fold(p[pi], nocase) != fold(s[si], nocase) { return false }
                si += 1
            }
            pi += 1
            if si == s.count {
                while pi < p.count && p[pi] == 0x2A { pi += 1 }
                break
            }
        }
        return pi >= p.count && si == s.count
    }
}

import Testing
import Shared

/// GlobMatch follows Redis's stringmatchlen, including its odd corners (results checked
/// against redis-server's KEYS; keys.redis/keys-rename.redis compare them on the wire too).
@Suite struct GlobMatchTests {
    func m(_ p: String, _ s: String, nocase: Bool = false) -> Bool {
        GlobMatch.matches(Array(p.utf8), Array(s.utf8), nocase: nocase)
    }

    @Test func wildcards() {
        #expect(m("h?llo", "hello"))
        #expect(!m("h?llo", "hllo"))
        #expect(m("h*llo", "hllo"))
        #expect(m("h*llo", "heeeello"))
        #expect(m("*", "anything"))
        #expect(!m("*", ""))  // KEYS special-cases a bare `*`; the matcher does not
        #expect(m("**", "x"))
        #expect(m("h*l*l*o", "hello"))
        #expect(!m("h*l*l*o", "helo"))
        #expect(!m("", "x"))
        #expect(m("", ""))
    }

    @Test func sets() {
        #expect(m("h[ae]llo", "hallo"))
        #expect(!m("h[ae]llo", "hillo"))
        #expect(m("h[^e]llo", "hallo"))
        #expect(!m("h[^e]llo", "hello"))
        #expect(m("h[a-b]llo", "hbllo"))
        #expect(m("h[b-a]llo", "hallo"))  // reversed ranges are swapped
        #expect(m("h[\\]]llo", "h]llo"))
        // An unterminated set is a set of what follows and ends the pattern (as redis-server's
        // KEYS h[llo returns "hl" and "ho", not "hllo").
        #expect(m("h[llo", "hl"))
        #expect(m("h[llo", "ho"))
        #expect(!m("h[llo", "hllo"))
        #expect(m("[", "[") == false)
    }

    @Test func escapes() {
        #expect(m("h\\*llo", "h*llo"))
        #expect(!m("h\\*llo", "hello"))
        #expect(m("a\\?b", "a?b"))
        #expect(!m("a\\?b", "axb"))
        #expect(m("h\\", "h\\"))  // a trailing backslash matches itself
    }

    @Test func caseFolding() {
        #expect(m("MaxMemory*", "maxmemory-policy", nocase: true))
        #expect(!m("MaxMemory*", "maxmemory-policy"))
        #expect(m("[A-C]x", "bx", nocase: true))
    }

    @Test func pathologicalPatternsTerminate() {
        let p = String(repeating: "*a", count: 40) + "b"
        let s = String(repeating: "a", count: 60)
        #expect(!m(p, s))
    }
}

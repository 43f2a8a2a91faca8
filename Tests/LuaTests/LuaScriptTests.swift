import Foundation
import Lua
import Testing

/// Differential scripts: Scripts/*.lua must print exactly what the reference lua5.1 printed
/// (Scripts/*.out, from scripts/lua-expected), and Scripts/redis/*.lua must return exactly what
/// redis-server 7.0.15 returned for `EVAL <script> 0`.
@Suite struct LuaScriptTests {
    static let plain = LuaTest.scripts(in: "")
    static let redis = LuaTest.scripts(in: "redis")

    @Test func scriptsArePresent() {
        #expect(LuaScriptTests.plain.count >= 9, "differential scripts missing under \(LuaTest.scriptsDir.path)")
        #expect(LuaScriptTests.redis.count >= 4)
    }

    @Test(arguments: LuaScriptTests.plain)
    func printsWhatLua51Prints(_ name: String) throws {
        let s = LuaTest.Session()
        let src = try #require(LuaTest.file(name + ".lua"))
        let expected = try #require(LuaTest.file(name + ".out"))
        let f = try s.L.load(src, chunkName: "@\(name).lua")
        try s.L.call(.function(f))
        if s.output != expected {
            let got = s.text.split(separator: "\n", omittingEmptySubsequences: false)
            let want = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let line = Array(zip(got, want)).firstIndex(where: { $0 != $1 }) ?? min(got.count, want.count)
            Issue.record("\(name).lua differs at line \(line + 1):\n  got:  \(line < got.count ? got[line] : "<end>")\n  want: \(line < want.count ? want[line] : "<end>")")
        }
    }

    /// The same scripts with a collection at every safe point: a value the collector cannot see
    /// would be freed while in use and change the output (or crash).
    @Test(arguments: ["functions", "metatables", "coroutines", "tables", "strings"])
    func sameOutputWhenCollectingAtEverySafePoint(_ name: String) throws {
        let s = LuaTest.Session()
        s.L.collectAtEverySafePoint = true
        let src = try #require(LuaTest.file(name + ".lua"))
        let expected = try #require(LuaTest.file(name + ".out"))
        try s.L.call(.function(try s.L.load(src, chunkName: "@\(name).lua")))
        #expect(s.output == expected)
    }

    /// A Redis-like environment: Redis's libraries, no print, no debug global, KEYS/ARGV.
    static func redisSession() -> LuaTest.Session {
        let s = LuaTest.Session(libraries: .redis)
        s.L.setGlobal("debug", .nil)
        s.L.setGlobal("KEYS", .table(s.L.newTable()))
        s.L.setGlobal("ARGV", .table(s.L.newTable()))
        return s
    }

    @Test(arguments: LuaScriptTests.redis)
    func returnsWhatRedisReturns(_ name: String) throws {
        let s = LuaScriptTests.redisSession()
        let src = try #require(LuaTest.file("redis/" + name + ".lua"))
        let expected = try #require(LuaTest.file("redis/" + name + ".out"))
        let r = try s.L.call(.function(try s.L.load(src, chunkName: "@user_script")))
        let got = try #require(r.first?.stringValue).array
        if got != expected {
            let g = String(decoding: got, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let w = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let line = Array(zip(g, w)).firstIndex(where: { $0 != $1 }) ?? min(g.count, w.count)
            Issue.record("redis/\(name).lua differs at line \(line + 1):\n  got:  \(line < g.count ? g[line] : "<end>")\n  want: \(line < w.count ? w[line] : "<end>")")
        }
    }

    /// When the reference interpreter is installed, the committed outputs must still be its outputs.
    @Test func committedOutputsMatchLua51WhenInstalled() throws {
        let lua = ["/usr/bin/lua5.1", "/usr/local/bin/lua5.1"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let lua else { return }
        for name in LuaScriptTests.plain {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: lua)
            p.arguments = [name + ".lua"]
            p.currentDirectoryURL = LuaTest.scriptsDir
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect([UInt8](data) == LuaTest.file(name + ".out"), "\(name).out is stale: rerun scripts/lua-expected")
        }
    }
}

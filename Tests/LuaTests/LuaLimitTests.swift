import Lua
import Testing

/// What a hostile or buggy script cannot do: run forever, allocate without bound, recurse until
/// the native stack overflows.
@Suite struct LuaLimitTests {
    /// A session whose hook aborts after `ticks` hook calls.
    static func aborting(after calls: Int, every n: Int = 100) -> (LuaTest.Session, () -> Int) {
        let s = LuaTest.Session()
        var count = 0
        s.L.setInstructionHook(every: n) { (L) throws(LuaError) in
            count += 1
            if count >= calls { throw L.abortError("Script killed by user with SCRIPT KILL...") }
        }
        return (s, { count })
    }

    @Test(arguments: [
        "while true do end",
        "repeat local x = 1 until false",
        "for i = 1, math.huge do end",
        "local function f() return f() end return f()",
        "local function f() f() end f()",
        "for k in function() return 1 end do end",
        "local t = setmetatable({}, {__index = function(t, k) while true do end end}) return t.x",
        "while true do pcall(function() while true do end end) end",
        "while true do xpcall(function() while true do end end, function(e) return e end) end",
        "local co = coroutine.wrap(function() while true do end end) co()",
        "while true do local ok = pcall(error, 'x') end",
        "table.sort({3, 2, 1, 5, 4}, function(a, b) while true do end end)",
        "string.gsub('aaaa', 'a', function() while true do end end)",
        "load(function() return 'x' end)",
        "local i = 0 repeat i = i + 1 until i < 0",
    ])
    func infiniteLoopsAreStoppedByTheHook(_ code: String) throws {
        let (s, calls) = LuaLimitTests.aborting(after: 5)
        do throws(LuaError) {
            try s.run(code)
            Issue.record("script returned")
        } catch {
            #expect(error.kind == .aborted)
            #expect(error.message == "Script killed by user with SCRIPT KILL...")
        }
        #expect(calls() >= 5)
        // The state is usable afterwards and the abort does not leak into the next call.
        #expect(try s.eval("return 1 + 1") == "2")
    }

    @Test func hookRunsAboutEveryNTicks() throws {
        let s = LuaTest.Session()
        var calls = 0
        s.L.setInstructionHook(every: 1000) { _ in calls += 1 }
        try s.run("local n = 0 for i = 1, 100000 do n = n + i end")
        #expect(calls >= 99 && calls <= 101)
        s.L.removeInstructionHook()
        calls = 0
        try s.run("for i = 1, 100000 do end")
        #expect(calls == 0)
    }

    @Test func hookThatDoesNotAbortLetsTheScriptFinish() throws {
        let s = LuaTest.Session()
        var calls = 0
        s.L.setInstructionHook(every: 10) { _ in calls += 1 }
        #expect(try s.eval("local s = 0 for i = 1, 1000 do s = s + i end return s") == "500500")
        #expect(calls > 50)
    }

    @Test func abortCannotBeCaughtByPcallAndRearmsUntilTheCallReturns() throws {
        let (s, _) = LuaLimitTests.aborting(after: 3, every: 10)
        do throws(LuaError) {
            try s.run("""
                local caught = 0
                for i = 1, 100 do
                  local ok, err = pcall(function() while true do end end)
                  caught = caught + 1
                end
                return caught
                """)
            Issue.record("abort was swallowed")
        } catch {
            #expect(error.kind == .aborted)
        }
    }

    @Test(arguments: [
        "local t = {} while true do t[#t + 1] = string.rep('x', 10000) .. #t end",
        "local s = 'x' while true do s = s .. s end",
        "return string.rep('x', 2^30)",
        "return string.rep('abc', 1e8)",
        "local t = {} for i = 1, 1e8 do t[i] = i end",
        "local t = {} local i = 0 while true do i = i + 1; t['k' .. i] = {} end",
        "local t = {} for i = 1, 500 do t[i] = string.rep('y', 1e4) end return table.concat(t) .. table.concat(t)",
        "local t = {} while true do t[#t + 1] = function() return t end end",
        "return string.format('%s%s', string.rep('x', 3e6), string.rep('x', 3e6))",
        "local t = {} for i = 1, 1e5 do t[i] = 'item' end return cjson.encode(t) .. cjson.encode(t)",
        "local s = string.rep('a', 1e6) return (s:gsub('a', 'bbbbb'))",
    ])
    func unboundedAllocationRaisesNotEnoughMemory(_ code: String) throws {
        let s = LuaTest.Session()
        s.L.memoryLimit = 4 << 20
        let baseline = s.L.totalBytes
        let msg = s.error(code)
        #expect(msg == "not enough memory")
        s.L.collectGarbage()
        #expect(s.L.totalBytes < baseline + (1 << 20), "garbage of the failed script stays: \(s.L.totalBytes - baseline) bytes")
        #expect(try s.eval("return #string.rep('x', 1000)") == "1000")
    }

    @Test func notEnoughMemoryIsCatchableAndTheStateRecovers() throws {
        let s = LuaTest.Session()
        s.L.memoryLimit = 8 << 20
        #expect(try s.eval("""
            local ok, err = pcall(function() local t = {} while true do t[#t + 1] = string.rep('z', 1000) .. #t end end)
            collectgarbage()
            return tostring(ok) .. ' ' .. err .. ' ' .. #string.rep('q', 100)
            """) == "false not enough memory 100")
    }

    @Test func allocationsUnderTheLimitSucceedThanksToCollection() throws {
        let s = LuaTest.Session()
        s.L.memoryLimit = 4 << 20
        // 100 MB of short-lived garbage under a 4 MB limit.
        #expect(try s.eval("local n = 0 for i = 1, 10000 do local s = string.rep('g', 10000) .. i n = n + #s end return n") == "100038894")
    }

    @Test func deepLuaRecursionIsStackOverflow() throws {
        let s = LuaTest.Session()
        #expect(s.error("local function f(n) return 1 + f(n + 1) end return f(1)", name: "@user_script")
                == "user_script:1: stack overflow")
        #expect(try s.eval("local function f(n) return 1 + f(n + 1) end return select(2, pcall(f, 1))") == "test:1: stack overflow")
        // The error handler of xpcall still runs (Lua leaves room for it).
        #expect(try s.eval("local function f() return f() + 1 end return select(2, xpcall(f, function(m) return 'handled: ' .. m end))")
                == "handled: test:1: stack overflow")
        // A tail-recursive loop is not recursion.
        #expect(try s.eval("local function f(n) if n == 0 then return 'done' end return f(n - 1) end return f(1000000)") == "done")
        #expect(try s.eval("return 1 + 1") == "2")
    }

    @Test(arguments: [
        "local function f() return pcall(f) end return f()",
        "local t = setmetatable({}, {}) getmetatable(t).__index = function(t, k) return t[k] end return t.x",
        "local t = setmetatable({}, {}) getmetatable(t).__newindex = function(t, k, v) t[k] = v end t.x = 1",
        "local mt = {} mt.__add = function(a, b) return a + b end local x = setmetatable({}, mt) return x + 1",
        "local mt = {} mt.__tostring = function(x) return tostring(x) end return tostring(setmetatable({}, mt))",
        "local function f() return string.gsub('a', 'a', f) end return f()",
        "local function f() table.sort({2, 1}, function(a, b) f() return a < b end) end f()",
        "local function f() local co = coroutine.create(f) return coroutine.resume(co) end return f()",
        "local function f() return coroutine.wrap(f)() end return f()",
        "local mt = {} mt.__call = function(self) return (self()) end return setmetatable({}, mt)()",
        "local mt = {} mt.__index = function(t, k) return setmetatable({}, mt)[k] end return setmetatable({}, mt).x",
        "local mt = {} mt.__eq = function(a, b) return a == b end local a, b = setmetatable({}, mt), setmetatable({}, mt) return a == b",
        "local mt = {} mt.__lt = function(a, b) return a < b end local a, b = setmetatable({}, mt), setmetatable({}, mt) return a < b",
        "local mt = {} mt.__concat = function(a, b) return a .. b end return setmetatable({}, mt) .. 'x'",
        "local function f() return loadstring('return ...')(f()) end return f()",
        "local function f() return select(2, xpcall(f, f)) end return f()",
    ])
    func deepNativeRecursionIsAnErrorNotACrash(_ code: String) throws {
        let s = LuaTest.Session()
        // Completing or failing with a Lua error are both fine; crashing the process is not.
        _ = s.error(code)
        #expect(try s.eval("return 'alive'") == "alive")
    }

    @Test func cStackOverflowHasLuasMessage() throws {
        let s = LuaTest.Session()
        let msg = s.error("local t = setmetatable({}, {}) getmetatable(t).__index = function(t, k) return t[k] end return t.x")
        #expect(msg?.hasSuffix("C stack overflow") == true, "\(msg ?? "nil")")
    }

    @Test(arguments: [
        String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000),
        "return " + String(repeating: "{", count: 100_000) + String(repeating: "}", count: 100_000),
        "return " + String(repeating: "-", count: 100_000) + "1",
        "return " + String(repeating: "not ", count: 100_000) + "nil",
        String(repeating: "do ", count: 100_000) + String(repeating: "end ", count: 100_000),
        String(repeating: "if true then ", count: 100_000) + String(repeating: "end ", count: 100_000),
        "return " + String(repeating: "function() return ", count: 50_000) + "1" + String(repeating: " end", count: 50_000),
        "local x = " + String(repeating: "a.", count: 200_000) + "b",
        "return " + String(repeating: "1 .. ", count: 100_000) + "1",
        "return " + String(repeating: "2 ^ ", count: 100_000) + "1",
    ])
    func deeplyNestedSourceIsASyntaxError(_ code: String) throws {
        let s = LuaTest.Session()
        do throws(LuaError) {
            _ = try s.L.load(code, chunkName: "=deep")
        } catch {
            #expect(error.kind == .syntax || error.kind == .memory)
        }
        #expect(try s.eval("return 'alive'") == "alive")
    }

    @Test func syntaxLevelsMessage() {
        let s = LuaTest.Session()
        let code = String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300)
        #expect(throws: LuaError.self) { _ = try s.L.load(code, chunkName: "=x") }
        do throws(LuaError) { _ = try s.L.load(code, chunkName: "=x") } catch {
            #expect(error.message == "x:1: chunk has too many syntax levels")
        }
    }
}

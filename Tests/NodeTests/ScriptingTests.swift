import Testing
import Shared
@testable import Node

/// EVAL/EVALSHA/SCRIPT/FUNCTION/FCALL in-process: replies and error texts as redis-server 7.0.15
/// gives them (each expected string was read from redis-server), the conversions both ways,
/// shebang flags, read-only rules, and what scripts propagate (their writes, wrapped in
/// MULTI/EXEC when more than one; never the EVAL).
@Suite(.serialized) struct ScriptingTests {
    @Test func evalConvertsLuaValuesAsRedis() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "EVAL", "return 'hello'", "0") == "$5\r\nhello\r\n")
        #expect(n.run(c, "EVAL", "return 100.5", "0") == ":100\r\n")
        #expect(n.run(c, "EVAL", "return true", "0") == ":1\r\n")
        #expect(n.run(c, "EVAL", "return false", "0") == "$-1\r\n")
        #expect(n.run(c, "EVAL", "return {1,2,3,'ciao',{1,2}}", "0") == "*5\r\n:1\r\n:2\r\n:3\r\n$4\r\nciao\r\n*2\r\n:1\r\n:2\r\n")
        #expect(n.run(c, "EVAL", "return {1,2,nil,4}", "0") == "*2\r\n:1\r\n:2\r\n")
        #expect(n.run(c, "EVAL", "return redis.status_reply('FINE')", "0") == "+FINE\r\n")
        #expect(n.run(c, "EVAL", "return redis.error_reply('My Error')", "0") == "-My Error\r\n")
        #expect(n.run(c, "EVAL", "return {err='My Error'}", "0") == "-My Error\r\n")
        #expect(n.run(c, "EVAL", "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", "2", "a", "b", "c", "d")
                == "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n")
        #expect(n.run(c, "EVAL", "return _G", "0") == "*0\r\n")
    }

    @Test func redisCallRepliesBecomeLuaValues() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "SET", "x", "5")
        #expect(n.run(c, "EVAL", "return redis.call('incr', KEYS[1])", "1", "x") == ":6\r\n")
        #expect(n.run(c, "EVAL", "return type(redis.call('get', 'nokey'))", "0") == "$7\r\nboolean\r\n")
        #expect(n.run(c, "EVAL", "local t = redis.call('set', 'y', 1) return t.ok", "0") == "$2\r\nOK\r\n")
        #expect(n.run(c, "EVAL", "local r = redis.pcall('incr', 'nonint') return r", "0") == ":1\r\n")
        n.run(c, "SET", "s", "abc")
        #expect(n.run(c, "EVAL", "return redis.pcall('incr', 's')", "0") == "-ERR value is not an integer or out of range\r\n")
        #expect(n.run(c, "EVAL", "return redis.call('incr', 's')", "0")
                .hasPrefix("-ERR value is not an integer or out of range script: "))
        #expect(n.run(c, "EVAL", "redis.setresp(3) return redis.call('hgetall', 'nohash')", "0") == "*0\r\n")
        n.run(c, "HSET", "h", "f", "v")
        #expect(n.run(c, "EVAL", "redis.setresp(3) local t = redis.call('hgetall', 'h') return t.map.f", "0") == "$1\r\nv\r\n")
        #expect(n.run(c, "EVAL", "return redis.call('nosuchcommand')", "0").hasPrefix("-ERR Unknown Redis command called from script script: "))
        #expect(n.run(c, "EVAL", "return redis.call()", "0").hasPrefix("-ERR Please specify at least one argument for this redis lib call script: "))
        #expect(n.run(c, "EVAL", "return redis.call('get', {})", "0").hasPrefix("-ERR Lua redis lib command arguments must be strings or integers script: "))
        #expect(n.run(c, "EVAL", "return redis.call('eval', 'return 1', 0)", "0").hasPrefix("-ERR This Redis command is not allowed from script script: "))
    }

    @Test func errorsCarryRedisTexts() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"  // sha1("return 1")
        #expect(n.run(c, "EVAL", "a = 5", "0").hasPrefix("-ERR user_script:1: Attempt to modify a readonly table script: "))
        #expect(n.run(c, "EVAL", "return a", "0").contains("Script attempted to access nonexistent global variable 'a'"))
        #expect(n.run(c, "EVAL", "return 1 +", "0").hasPrefix("-ERR Error compiling script (new function): user_script:1: "))
        #expect(n.run(c, "EVALSHA", sha, "0") == "-NOSCRIPT No matching script. Please use EVAL.\r\n")
        #expect(n.run(c, "EVALSHA", "abc", "0") == "-NOSCRIPT No matching script. Please use EVAL.\r\n")
        #expect(n.run(c, "SCRIPT", "LOAD", "return 1") == "$40\r\n\(sha)\r\n")
        #expect(n.run(c, "EVALSHA", sha.uppercased(), "0") == ":1\r\n")
        #expect(n.run(c, "SCRIPT", "EXISTS", sha, "ffff") == "*2\r\n:1\r\n:0\r\n")
        #expect(n.run(c, "EVAL", "return 1", "2", "a") == "-ERR Number of keys can't be greater than number of args\r\n")
        #expect(n.run(c, "EVAL", "return 1", "-1") == "-ERR Number of keys can't be negative\r\n")
        #expect(n.run(c, "EVAL", "return 1", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(n.run(c, "SCRIPT", "FLUSH") == "+OK\r\n")
        #expect(n.run(c, "SCRIPT", "EXISTS", sha) == "*1\r\n:0\r\n")
        #expect(n.run(c, "SCRIPT", "KILL") == "-NOTBUSY No scripts in execution right now.\r\n")
    }

    @Test func shebangFlagsAndReadOnlyRules() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'x', 1)", "0")
                .hasPrefix("-ERR Write commands are not allowed from read-only scripts. script: "))
        #expect(n.run(c, "EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'x')", "0") == "$-1\r\n")
        #expect(n.run(c, "EVAL", "#!lua flags=bad-flag\nreturn 1", "0") == "-ERR Unexpected flag in script shebang: bad-flag\r\n")
        #expect(n.run(c, "EVAL", "#!luajit\nreturn 1", "0") == "-ERR Unexpected engine in script shebang: #!luajit\r\n")
        #expect(n.run(c, "EVAL", "#!lua name=x\nreturn 1", "0") == "-ERR Unknown lua shebang option: name=x\r\n")
        #expect(n.run(c, "EVAL_RO", "#!lua\nreturn 1", "0") == "-ERR Can not execute a script with write flag using *_ro command.\r\n")
        #expect(n.run(c, "EVAL_RO", "return redis.call('set', 'x', 1)", "0")
                .hasPrefix("-ERR Write commands are not allowed from read-only scripts. script: "))
        // The shebang line is skipped, its newline kept: errors keep the user's line numbers.
        #expect(n.run(c, "EVAL", "#!lua\nreturn b", "0").contains("user_script:2: Script attempted to access nonexistent global variable 'b'"))
    }

    @Test func scriptWritesPropagateAsEffectsNotAsTheEval() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.propagated = []
        n.run(c, "EVAL", "redis.call('set', KEYS[1], 'a') redis.call('incr', 'n') return 1", "1", "k")
        #expect(n.propagated.map(\.argv) == [["MULTI"], ["set", "k", "a"], ["incr", "n"], ["EXEC"]])
        n.propagated = []
        n.run(c, "EVAL", "return redis.call('set', 'one', 'x')", "0")
        #expect(n.propagated.map(\.argv) == [["set", "one", "x"]])
        n.propagated = []
        n.run(c, "EVAL", "return redis.call('get', 'one')", "0")
        #expect(n.propagated.isEmpty)
        n.propagated = []
        n.run(c, "EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'hidden', 1) redis.set_repl(redis.REPL_ALL) redis.call('set', 'shown', 2)", "0")
        #expect(n.propagated.map(\.argv) == [["set", "shown", "2"]])
    }

    @Test func functionsLoadCallListDeleteAndDumpRestore() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        let lib = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return redis.call('set', keys[1], args[1]) end)\nredis.register_function{function_name='ro', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}"
        #expect(n.run(c, "FUNCTION", "LOAD", lib) == "$5\r\nmylib\r\n")
        #expect(n.run(c, "FUNCTION", "LOAD", lib) == "-ERR Library 'mylib' already exists\r\n")
        #expect(n.run(c, "FCALL", "myfunc", "1", "k", "v") == "+OK\r\n")
        #expect(n.run(c, "FCALL_RO", "ro", "1", "k") == "$1\r\nv\r\n")
        #expect(n.run(c, "FCALL_RO", "myfunc", "1", "k", "v") == "-ERR Can not execute a script with write flag using *_ro command.\r\n")
        #expect(n.run(c, "FCALL", "nosuch", "0") == "-ERR Function not found\r\n")
        #expect(n.run(c, "FUNCTION", "LIST") == "*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n*6\r\n$4\r\nname\r\n$6\r\nmyfunc\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n*6\r\n$4\r\nname\r\n$2\r\nro\r\n$11\r\ndescription\r\n$5\r\nreads\r\n$5\r\nflags\r\n*1\r\n+no-writes\r\n")
        #expect(n.run(c, "FUNCTION", "LOAD", "#!lua name=bad\nreturn 1") == "-ERR No functions registered\r\n")
        #expect(n.run(c, "FUNCTION", "LOAD", "#!lua name=bad\nfoo()").hasPrefix("-ERR Error registering functions: "))
        #expect(n.run(c, "FUNCTION", "LOAD", "#!lua name=bad-name\nredis.register_function('f', function() end)")
                == "-ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n")
        c.argv = ["FUNCTION", "DUMP"].map { Bytes($0.utf8) }
        n.server.processCommand(c)
        let dump = try #require(RESPTestValue.bulk(c.takeReplies()))
        #expect(n.run(c, "FUNCTION", "DELETE", "mylib") == "+OK\r\n")
        #expect(n.run(c, "FUNCTION", "DELETE", "mylib") == "-ERR Library not found\r\n")
        #expect(n.run(c, "FCALL", "myfunc", "1", "k", "v") == "-ERR Function not found\r\n")
        c.argv = ["FUNCTION", "RESTORE"].map { Bytes($0.utf8) } + [dump]
        n.server.processCommand(c)
        #expect(n.take(c) == "+OK\r\n")
        #expect(n.run(c, "FCALL", "ro", "1", "k") == "$1\r\nv\r\n")
        #expect(n.run(c, "FUNCTION", "RESTORE", "garbage") == "-ERR DUMP payload version or checksum are wrong\r\n")
        #expect(n.run(c, "FUNCTION", "FLUSH") == "+OK\r\n")
        #expect(n.run(c, "FUNCTION", "LIST") == "*0\r\n")
    }

    @Test func hostileScriptsErrorAndTheNodeKeepsServing() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "EVAL", "local function f() return f() + 1 end return f()", "0").contains("stack overflow"))
        #expect(n.run(c, "EVAL", "local s = 'x' while true do s = s .. s end", "0").contains("not enough memory"))
        #expect(n.run(c, "EVAL", "local t = setmetatable({}, {}) t[1] = t return t", "0").hasPrefix("*1\r\n"))
        #expect(n.run(c, "EVAL", "return 1", "0") == ":1\r\n")
    }
}

/// Reads a bulk string reply.
enum RESPTestValue {
    static func bulk(_ b: Bytes) -> Bytes? {
        guard b.first == UInt8(ascii: "$"), let nl = b.firstIndex(of: 10), let len = Int(String(decoding: b[1..<(nl - 1)], as: UTF8.self)) else { return nil }
        return Array(b[(nl + 1)..<(nl + 1 + len)])
    }
}

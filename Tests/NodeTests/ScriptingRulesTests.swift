import Testing
import Shared
@testable import Node

/// The server rules scripts obey, in-process: maxmemory (Redis 7.0's OOM rules for EVAL and
/// FCALL, with and without shebang flags), the error statistics of errors raised or returned
/// by scripts, time frozen at the script's start for key expiry, redis.set_repl's partial
/// targets, and FUNCTION libraries in an AOF base written as commands. Expected texts and
/// counters are redis-server 7.0.15's (tests/unit/scripting.tcl, functions.tcl, info.tcl).
@Suite(.serialized) struct ScriptingRulesTests {
    static func info(_ n: TxInProcessNode, _ c: Client, _ section: String) -> [String: String] {
        IntrospectionTests.info(n, c, section)
    }

    @Test func scriptsUnderMaxmemoryFollowRedisOOMRules() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "SET", "x", "123")
        #expect(n.run(c, "FUNCTION", "LOAD", "#!lua name=oomlib\nredis.register_function('f1', function() return redis.call('set', 'x', '1') end)") == "$6\r\noomlib\r\n")
        n.server.config.maxmemory = 1
        defer { n.server.config.maxmemory = 0 }
        // No shebang: the script starts; its first deny-oom command is refused.
        #expect(n.run(c, "EVAL", "redis.call('set','x',1) return 1", "1", "x")
                .hasPrefix("-OOM command not allowed when used memory > 'maxmemory'. script: "))
        #expect(n.run(c, "EVAL", "return redis.call('get','x')", "1", "x") == "$3\r\n123\r\n")
        // A shebang without allow-oom: refused before it runs (the script's flags make EVAL deny-oom).
        #expect(n.run(c, "EVAL", "#!lua flags=\nreturn 1", "1", "x") == "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        #expect(n.run(c, "EVAL", "#!lua flags=allow-oom\nredis.call('set','x',1) return 1", "1", "x") == ":1\r\n")
        #expect(n.run(c, "EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "1", "x") == "$1\r\n1\r\n")
        #expect(n.run(c, "EVAL_RO", "return redis.call('get','x')", "1", "x") == "$1\r\n1\r\n")
        // Loading or restoring a library takes memory: deny-oom.
        let dump = n.run(c, "FUNCTION", "DUMP")
        #expect(n.run(c, "FUNCTION", "LOAD", "REPLACE", "#!lua name=other\nredis.register_function('g', function() return 1 end)")
                == "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        #expect(dump.hasPrefix("$"))
        #expect(n.run(c, "FUNCTION", "RESTORE", "x") == "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        // A function without flags may write: FCALL is deny-oom.
        #expect(n.run(c, "FCALL", "f1", "1", "x") == "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        n.server.config.maxmemory = 0
        #expect(n.run(c, "EVAL", "#!lua flags=\nreturn 1", "0") == ":1\r\n")
        #expect(n.run(c, "FCALL", "f1", "1", "x") == "+OK\r\n")
    }

    @Test func evalTakesItsWriteAndOOMTraitsFromTheShebang() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        let eval = try #require(n.server.lookupCommand(Bytes("eval".utf8)))
        func flags(_ body: String) -> CommandFlags {
            c.argv = [Bytes("EVAL".utf8), Bytes(body.utf8), Bytes("0".utf8)]
            return n.server.scripting.commandFlags(c, "eval", eval.spec.flags)
        }
        #expect(flags("return 1") == eval.spec.flags)
        #expect(flags("#!lua\nreturn 1").isSuperset(of: [.write, .denyOOM]))
        #expect(!flags("#!lua\nreturn 1").contains(.stale))
        #expect(flags("#!lua flags=no-writes\nreturn 1").isDisjoint(with: [.write, .denyOOM, .mayReplicate]))
        #expect(flags("#!lua flags=allow-oom,allow-stale\nreturn 1").isSuperset(of: [.write, .stale]))
        #expect(!flags("#!lua flags=allow-oom\nreturn 1").contains(.denyOOM))
        #expect(flags("#!lua flags=bogus\nreturn 1") == eval.spec.flags)
    }

    @Test func scriptErrorsCountOnceInErrorStats() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.server.config.maxmemory = 1
        n.run(c, "CONFIG", "RESETSTAT")
        #expect(n.run(c, "EVAL", "return redis.call('set','x','y')", "1", "x").hasPrefix("-OOM command not allowed"))
        var stats = Self.info(n, c, "all")
        #expect(stats["errorstat_OOM"] == "count=1")
        #expect(stats["total_error_replies"] == "1")
        #expect(stats["cmdstat_set"]?.hasSuffix("rejected_calls=1,failed_calls=0") == true)
        #expect(stats["cmdstat_eval"]?.hasSuffix("rejected_calls=0,failed_calls=1") == true)
        // Caught with pcall: the script succeeds, EVAL did not fail.
        n.run(c, "CONFIG", "RESETSTAT")
        #expect(n.run(c, "EVAL", "local t = redis.pcall('set','x','y') return t['err']", "1", "x")
                == "$55\r\nOOM command not allowed when used memory > 'maxmemory'.\r\n")
        stats = Self.info(n, c, "all")
        #expect(stats["errorstat_OOM"] == "count=1")
        #expect(stats["errorstat_ERR"] == nil)
        #expect(stats["total_error_replies"] == "1")
        #expect(stats["cmdstat_eval"]?.hasSuffix("rejected_calls=0,failed_calls=0") == true)
        // Returned as the script's result: counted once, EVAL failed.
        n.run(c, "CONFIG", "RESETSTAT")
        #expect(n.run(c, "EVAL", "return redis.pcall('set','x','y')", "1", "x") == "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        stats = Self.info(n, c, "all")
        #expect(stats["total_error_replies"] == "1")
        #expect(stats["cmdstat_eval"]?.hasSuffix("rejected_calls=0,failed_calls=1") == true)
        n.server.config.maxmemory = 0
        // A command that failed inside the script.
        n.run(c, "CONFIG", "RESETSTAT")
        #expect(n.run(c, "EVAL", "return redis.call('select',99)", "0").hasPrefix("-ERR DB index is out of range script: "))
        stats = Self.info(n, c, "all")
        #expect(stats["errorstat_ERR"] == "count=1")
        #expect(stats["total_error_replies"] == "1")
        #expect(stats["cmdstat_select"]?.hasSuffix("rejected_calls=0,failed_calls=1") == true)
        #expect(stats["cmdstat_eval"]?.hasSuffix("rejected_calls=0,failed_calls=1") == true)
        // A script's own error reply counts by its code.
        n.run(c, "CONFIG", "RESETSTAT")
        #expect(n.run(c, "EVAL", "return redis.error_reply('MY_ERR_CODE custom msg')", "0") == "-MY_ERR_CODE custom msg\r\n")
        #expect(n.run(c, "EVAL", "return redis.error_reply('')", "0").hasPrefix("-ERR"))
        stats = Self.info(n, c, "all")
        #expect(stats["errorstat_MY_ERR_CODE"] == "count=1")
        #expect(stats["errorstat_ERR"] == "count=1")
        #expect(stats["total_error_replies"] == "2")
        // Refused inside a read-only script: rejected, counted as ERR.
        n.run(c, "CONFIG", "RESETSTAT")
        #expect(n.run(c, "EVAL_RO", "return redis.call('set','x','y')", "1", "x").hasPrefix("-ERR Write commands are not allowed from read-only scripts. script: "))
        stats = Self.info(n, c, "all")
        #expect(stats["errorstat_ERR"] == "count=1")
        #expect(stats["total_error_replies"] == "1")
        #expect(stats["cmdstat_set"]?.hasSuffix("rejected_calls=1,failed_calls=0") == true)
        #expect(stats["cmdstat_eval_ro"]?.hasSuffix("rejected_calls=0,failed_calls=1") == true)
    }

    @Test func timeStandsStillForExpiryWhileAScriptRuns() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        // The key's 1 ms passes inside the script (it waits on TIME for 5 ms), yet the script
        // still sees it; the next command does not.
        let script = """
            redis.call('set', KEYS[1], 'v', 'px', 1)
            local t0 = redis.call('time')
            local start = t0[1] * 1000000 + t0[2]
            local now = start
            while now - start < 5000 do
                local t = redis.call('time')
                now = t[1] * 1000000 + t[2]
            end
            return redis.call('exists', KEYS[1])
            """
        #expect(n.run(c, "EVAL", script, "1", "k") == ":1\r\n")
        #expect(n.run(c, "EXISTS", "k") == ":0\r\n")
    }

    @Test func scriptsSeeDeterministicCommandsAsRedisDoes() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        // SORT BY a constant of a set is sorted alphabetically inside scripts (as with STORE).
        n.run(c, "SADD", "myset", "d", "b", "c", "aa", "a")
        #expect(n.run(c, "EVAL", "return redis.call('sort', KEYS[1], 'by', '_')", "1", "myset")
                == "*5\r\n$1\r\na\r\n$2\r\naa\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n")
        // XREAD/XREADGROUP BLOCK are refused inside scripts; without BLOCK they answer.
        n.run(c, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        #expect(n.run(c, "EVAL", "return redis.pcall('xread','STREAMS','s','$')", "1", "s") == "$-1\r\n")
        #expect(n.run(c, "EVAL", "return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')", "1", "s")
                == "-ERR xread command is not allowed with BLOCK option from scripts\r\n")
        #expect(n.run(c, "EVAL", "return redis.pcall('xreadgroup','group','g','c','BLOCK',0,'STREAMS','s','>')", "1", "s")
                == "-ERR xreadgroup command is not allowed with BLOCK option from scripts\r\n")
        // DEBUG OBJECT finds a key whose time passed but that nobody deleted yet.
        n.run(c, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
        n.run(c, "SET", "old", "v", "PX", "1")
        let setAt = Clock.wallMillis()
        while Clock.wallMillis() < setAt + 3 {}  // the key's 1 ms passes (a deadline, not a sleep)
        #expect(n.run(c, "DEBUG", "OBJECT", "old").hasPrefix("+Value at:"))
        #expect(n.run(c, "EVAL", "return redis.call('exists', 'old')", "0") == ":0\r\n")
        #expect(n.run(c, "DEBUG", "OBJECT", "old") == "-ERR no such key\r\n")
    }

    @Test func setReplSendsAScriptsCommandsWhereItSays() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.server.aof.state = .on
        defer { n.server.aof.state = .off }
        func aofText() -> String {
            let s = String(decoding: n.server.aof.pending.bytes, as: UTF8.self)
            n.server.aof.pending = RESPWriter()
            return s
        }
        n.propagated = []
        _ = aofText()
        n.run(c, "EVAL", "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aofonly', 1) return 1", "0")
        #expect(n.propagated.isEmpty)
        #expect(aofText().contains("aofonly"))
        n.run(c, "EVAL", "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'replonly', 1) return 1", "0")
        #expect(n.propagated.map(\.argv) == [["set", "replonly", "1"]])
        #expect(!aofText().contains("replonly"))
        n.propagated = []
        n.run(c, "EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'a', 1) redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'b', 2) redis.set_repl(redis.REPL_ALL) redis.call('set', 'c', 3)", "0")
        #expect(n.propagated.map(\.argv) == [["MULTI"], ["set", "b", "2"], ["set", "c", "3"], ["EXEC"]])
        let aof = aofText()
        #expect(aof.contains("MULTI") && aof.contains("$1\r\nc\r\n") && !aof.contains("$1\r\nb\r\n") && !aof.contains("$1\r\na\r\n"))
    }

    @Test func commandsRunByScriptsFireKeyspaceEvents() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        let listener = try n.client()
        #expect(n.run(c, "CONFIG", "SET", "notify-keyspace-events", "KEA") == "+OK\r\n")
        #expect(n.run(listener, "SUBSCRIBE", "__keyspace@0__:k", "__keyevent@0__:expired").hasPrefix("*3\r\n"))
        #expect(n.run(c, "EVAL", "redis.call('set', KEYS[1], 'v') redis.call('expire', KEYS[1], 100) return redis.call('del', KEYS[1])", "1", "k") == ":1\r\n")
        let events = n.take(listener)
        #expect(events.contains("$3\r\nset\r\n") && events.contains("$6\r\nexpire\r\n") && events.contains("$3\r\ndel\r\n"), "\(events)")
    }

    @Test func anAOFBaseAsCommandsLoadsTheFunctionLibrariesFirst() throws {
        let db = Database(id: 0)
        db.set(Key(Bytes("k".utf8)), .string(Bytes("v".utf8)))
        let code = Bytes("#!lua name=lib\nredis.register_function('f', function() return 1 end)".utf8)
        var bytes: [UInt8] = []
        try AOFBaseWriter.write([db], functions: [code], now: 2000) { bytes += $0 }
        let expected = RESPWriter.command([Bytes("FUNCTION".utf8), Bytes("LOAD".utf8), code])
        #expect(Array(bytes.prefix(expected.count)) == expected)
        #expect(String(decoding: bytes, as: UTF8.self).contains("SELECT"))
    }
}

import Testing
import Shared
@testable import Node

/// The config table parses and validates every value type, aliases and memory units.
@Suite struct ConfigTableTests {
    let table = ConfigTable.shared

    func load(_ text: String) throws -> ServerConfig {
        let c = ServerConfig()
        try table.load(ConfigFile.parse(text, path: "t.conf").directives, into: c)
        return c
    }

    func loadError(_ text: String) -> ConfigError? {
        do { _ = try load(text); return nil } catch let e as ConfigError { return e } catch { return nil }
    }

    @Test func boolValues() throws {
        #expect(try load("protected-mode no").protectedMode == false)
        #expect(try load("protected-mode YES").protectedMode == true)
        let e = loadError("protected-mode maybe")
        #expect(e?.message == "argument must be 'yes' or 'no'")
        #expect(e?.line == 1)
    }

    @Test func intRangeAndParse() throws {
        #expect(try load("port 7000").port == 7000)
        #expect(loadError("port 70000")?.message == "argument must be between 0 and 65535 inclusive")
        #expect(loadError("port abc")?.message == "argument couldn't be parsed into an integer")
        #expect(loadError("port 1 2")?.message == "wrong number of arguments")
    }

    @Test func memoryUnits() throws {
        #expect(ConfigType.parseMemory("1gb") == 1 << 30)
        #expect(ConfigType.parseMemory("100mb") == 100 << 20)
        #expect(ConfigType.parseMemory("4k") == 4000)
        #expect(ConfigType.parseMemory("4KB") == 4096)
        #expect(ConfigType.parseMemory("12") == 12)
        #expect(ConfigType.parseMemory("1x") == nil)
        #expect(ConfigType.parseMemory("") == nil)
        #expect(ConfigType.parseMemory("-5") == nil)
        #expect(try load("maxmemory 2mb").maxmemory == 2 << 20)
        #expect(loadError("maxmemory lots")?.message == "argument must be a memory value")
        #expect(try load("repl-backlog-size 10mb").replBacklogSize == 10 << 20)
    }

    @Test func enumValues() throws {
        #expect(try load("loglevel WARNING").loglevel == .warning)
        #expect(loadError("loglevel loud")?.message == "argument(s) must be one of the following: debug, verbose, notice, warning")
        #expect(try load("maxmemory-policy allkeys-lru").maxmemoryPolicy == "allkeys-lru")
    }

    @Test func aliasesReachTheSameField() throws {
        #expect(try load("slave-read-only no").replicaReadOnly == false)
        #expect(try load("slave-priority 7").replicaPriority == 7)
        #expect(try load("min-slaves-to-write 2").minReplicasToWrite == 2)
        #expect(try load("min-slaves-max-lag 3").minReplicasMaxLag == 3)
        #expect(try load("repl-ping-slave-period 4").replPingReplicaPeriod == 4)
        let r = try load("slaveof 10.0.0.1 6380").replicaof
        #expect(r?.host == "10.0.0.1" && r?.port == 6380)
        #expect(try load("REPLICAOF h 1\nreplicaof no one").replicaof == nil)
        #expect(table.spec("SLAVE-READ-ONLY")?.name == "replica-read-only")
    }

    @Test func saveLinesAccumulateAndReset() throws {
        #expect(try load("save 900 1\nsave 300 10").saveRules == [SaveRule(seconds: 900, changes: 1), SaveRule(seconds: 300, changes: 10)])
        #expect(try load("save 900 1\nsave \"\"").saveRules.isEmpty)
        #expect(try load("").saveRules.count == 3)
        #expect(loadError("save 1")?.message == "Invalid save parameters")
    }

    @Test func clientOutputBufferLimit() throws {
        let c = try load("client-output-buffer-limit pubsub 64mb 16mb 30")
        #expect(c.outputLimitPubsub == OutputBufferLimit(hard: 64 << 20, soft: 16 << 20, softSeconds: 30))
        #expect(c.outputLimitNormal == OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0))
        #expect(loadError("client-output-buffer-limit foo 1 2 3")?.message == "Invalid client class specified in buffer limit configuration.")
    }

    @Test func unknownAndRefusedDirectives() throws {
        let e = loadError("port 7000\nnosuch thing")
        #expect(e?.message == "Bad directive or wrong number of arguments")
        #expect(e?.line == 2)
        #expect(e?.text == "nosuch thing")
        #expect(try load("appendonly yes").appendonly == true)
        #expect(try load("appendonly no").appendonly == false)
        #expect(loadError("appendfilename a/b")?.message == "appendfilename can't be a path, just a filename")
        #expect(loadError("appendfsync sometimes")?.message.contains("everysec, always, no") == true)
        #expect(loadError("user bob on badrule")?.message == "Error in user declaration 'bob': Syntax error")
    }

    @Test func unimplementedDirectivesAreStoredAndReported() throws {
        let c = ServerConfig()
        let warned = try table.load(ConfigFile.parse("activedefrag yes\nlazyfree-lazy-eviction yes\nport 1", path: nil).directives, into: c)
        #expect(warned == ["activedefrag", "lazyfree-lazy-eviction"])
        #expect(table.spec("activedefrag")?.get(c) == "yes")
        #expect(table.spec("activedefrag")?.implemented == false)
    }

    @Test func commandLineOverridesFile() throws {
        let c = ServerConfig()
        let file = try ConfigFile.parse("port 7000\ntimeout 5", path: "f").directives
        let cli = try ConfigFile.parseCommandLine(["--port", "7001", "--save", ""])
        try table.load(file + cli, into: c)
        #expect(c.port == 7001 && c.timeout == 5 && c.saveRules.isEmpty)
    }

    @Test func defaultsMatchRedis() {
        func d(_ n: String) -> String? { table.spec(n)?.defaultValue }
        #expect(d("save") == "3600 1 300 100 60 10000")
        #expect(d("bind") == "* -::*")
        #expect(d("client-output-buffer-limit") == "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
        #expect(d("repl-backlog-size") == "1048576")
        #expect(d("replica-priority") == "100")
        #expect(d("replicaof") == "")
        // Every name (and alias) is unique across the table.
        let names = table.specs.flatMap(\.names)
        #expect(Set(names).count == names.count)
    }

    @Test func rewriteLines() {
        let c = ServerConfig()
        c.saveRules = [SaveRule(seconds: 10, changes: 2)]
        c.replicaof = ("1.2.3.4", 6000)
        func lines(_ n: String) -> [String] {
            guard let s = table.spec(n) else { return [] }
            return Server.rewriteLines(s, s.get(c))
        }
        #expect(lines("save") == ["save 10 2"])
        #expect(lines("replicaof") == ["replicaof 1.2.3.4 6000"])
        #expect(lines("dir") == ["dir \".\""])
        #expect(lines("repl-backlog-size") == ["repl-backlog-size 1mb"])
        c.replicaof = nil
        #expect(lines("replicaof").isEmpty)
        #expect(ConfigQuote.repr("a\"b\n") == "\"a\\\"b\\n\"")
    }
}

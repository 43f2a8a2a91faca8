import Testing
@testable import Node
import Shared
import Glibc

/// In-process checks of what reaches the AOF buffer: the propagated stream with SELECTs, and
/// nothing from before the first rewrite's fork while `appendonly yes` waits for it.
@Suite(.serialized) struct AOFServerTests {
    final class Harness {
        let server: Server

        init() throws {
            let config = ServerConfig()
            config.saveRules = []
            server = Server(config: config, loop: try EventLoop(), log: Logger())
        }

        func client() throws -> Client {
            let c = server.makeLocalClient()
            server.clients[c.id] = c
            return c
        }

        func run(_ c: Client, _ args: String...) {
            c.argv = args.map { Bytes($0.utf8) }
            server.processCommand(c)
            c.argv = []
            _ = c.takeReplies()
        }

        /// The buffered AOF commands.
        func buffered() throws -> [[String]] {
            var r = AOFCommandReader(server.aof.buffer)
            var out: [[String]] = []
            while case .command(let argv, _) = try r.next() { out.append(argv.map { String(decoding: $0, as: UTF8.self) }) }
            return out
        }
    }

    @Test func onStateBuffersThePropagatedStreamWithSelects() throws {
        let h = try Harness()
        let c = try h.client()
        h.server.aof.state = .on
        h.run(c, "SET", "a", "1")
        h.run(c, "SET", "ttl", "v", "EX", "100")
        h.run(c, "SELECT", "2")
        h.run(c, "INCR", "n")
        h.run(c, "GET", "a")
        let cmds = try h.buffered()
        #expect(cmds.count == 5)
        #expect(cmds[0] == ["SELECT", "0"] && cmds[1] == ["SET", "a", "1"])
        // Relative expiries are stored absolute, as replicas get them.
        #expect(cmds[2].first == "SET" && cmds[2].contains("PXAT"))
        #expect(cmds[3] == ["SELECT", "2"] && cmds[4] == ["INCR", "n"])
    }

    @Test func waitRewriteBuffersNothingBeforeTheFork() throws {
        let h = try Harness()
        let c = try h.client()
        // A BGSAVE child is running: enabling the AOF schedules its rewrite for later. Real
        // children that only sleep stand in for the save and the rewrite.
        let save = try ChildProcess.fork(clock: h.server.clock) { Posix.sleep(seconds: 30); return 0 }
        defer { save.terminate() }
        h.server.persistence.child = save
        h.server.config.appendonly = true
        try h.server.aof.appendOnlyChanged()
        #expect(h.server.aof.state == .waitRewrite)
        #expect(h.server.aof.rewriteScheduled)
        h.run(c, "INCR", "n")
        h.run(c, "RPUSH", "l", "x")
        // Those writes will be in the base the rewrite forks: buffering them would replay them twice.
        #expect(h.server.aof.buffer.isEmpty)
        let rewrite = try ChildProcess.fork(clock: h.server.clock) { Posix.sleep(seconds: 30); return 0 }
        defer { rewrite.terminate() }
        h.server.aof.child = rewrite  // as if the rewrite had forked
        h.run(c, "INCR", "n")
        #expect(try h.buffered() == [["SELECT", "0"], ["INCR", "n"]])
        h.server.aof.child = nil
        h.server.persistence.child = nil
    }

    /// The fsync policy, driven with explicit times: always syncs in before-sleep, everysec once a
    /// second from the cron, no never (the kernel decides).
    @Test(arguments: ["always", "everysec", "no"]) func fsyncPolicy(policy: String) throws {
        let h = try Harness()
        let c = try h.client()
        let path = "/tmp/vigil-aof-unit-\(getpid())-\(policy).aof"
        defer { unlink(path) }
        let aof = h.server.aof
        h.server.config.appendfsync = policy
        aof.state = .on
        aof.switchIncrFile(to: try Posix.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644), size: 0)
        defer { aof.stop() }
        h.run(c, "SET", "a", "1")
        aof.beforeSleep()
        #expect(aof.buffer.isEmpty)
        #expect(try Posix.readFile(path) == RESPWriter.command(["SELECT", "0"]) + RESPWriter.command(["SET", "a", "1"]))
        #expect(aof.unsynced == (policy != "always"))
        let t0 = aof.lastFsyncMillis
        aof.cron(now: t0 + 500)
        #expect(aof.unsynced == (policy != "always"))
        aof.cron(now: t0 + 1000)
        #expect(aof.unsynced == (policy == "no"))
        #expect(aof.currentSize == Int(try Posix.readFile(path)?.count ?? -1))
    }
}

import Testing
import Shared
@testable import Node

/// The execution core in-process (socket-less clients, no event loop running): the transaction
/// rules Redis's unit/multi checks, what transactions and expiries propagate, MONITOR's order,
/// CLIENT REPLY with pub/sub, DEBUG SET-ACTIVE-EXPIRE, CLIENT PAUSE with a manual clock, and WAIT's
/// offset after a blocked client is served.
@Suite(.serialized) struct ExecutionCoreTests {
    static let queued = "+QUEUED\r\n"

    // MARK: - Transactions

    @Test(arguments: ["SAVE", "SHUTDOWN"]) func commandsThatCannotRunInsideMultiDoomTheExec(cmd: String) throws {
        let n = try TxInProcessNode { $0.saveRules = [] }
        let c = try n.client()
        n.run(c, "MULTI")
        #expect(n.run(c, "SET", "foo", "bar") == Self.queued)
        #expect(n.run(c, cmd) == "-ERR Command not allowed inside a transaction\r\n")
        #expect(n.run(c, "EXEC") == "-EXECABORT Transaction discarded because of previous errors.\r\n")
        #expect(n.run(c, "GET", "foo") == "$-1\r\n")
        #expect(!n.server.shuttingDown)
    }

    @Test func aQueuedReadAbortsWhenTheNodeBecameAStaleReplica() throws {
        let n = try TxInProcessNode { $0.replicaServeStaleData = false }
        let c = try n.client()
        n.run(c, "SET", "xx", "1")
        n.run(c, "MULTI")
        #expect(n.run(c, "GET", "xx") == Self.queued)
        n.server.replication.setMaster(host: "127.0.0.1", port: 1)  // never connects: the link stays down
        #expect(n.run(c, "EXEC") == "-EXECABORT Transaction discarded because of: MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n")
        n.server.replication.unsetMaster()
        n.run(c, "MULTI")
        #expect(n.run(c, "INCR", "xx") == Self.queued)
        n.server.replication.setMaster(host: "127.0.0.1", port: 1)
        n.server.config.replicaServeStaleData = true
        // A queued write on a node that became a read-only replica: the whole EXEC is refused.
        #expect(n.run(c, "EXEC") == "-EXECABORT Transaction discarded because of: READONLY You can't write against a read only replica.\r\n")
        #expect(n.run(c, "GET", "xx") == "$1\r\n1\r\n")
        n.server.replication.unsetMaster()
    }

    @Test func aSingleWriteTransactionPropagatesBare() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "MULTI")
        n.run(c, "SET", "foo", "bar")
        n.run(c, "GET", "foo")
        #expect(n.run(c, "EXEC") == "*2\r\n+OK\r\n$3\r\nbar\r\n")
        n.run(c, "SET", "foo2", "bar")
        #expect(n.propagated.map(\.argv) == [["SET", "foo", "bar"], ["SET", "foo2", "bar"]])
    }

    @Test func publishInsideMultiPropagatesBare() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "MULTI")
        n.run(c, "PUBLISH", "bla", "bla")
        #expect(n.run(c, "EXEC") == "*1\r\n:0\r\n")
        #expect(n.propagated.map(\.argv) == [["PUBLISH", "bla", "bla"]])
        // An empty transaction and a write without effect propagate nothing.
        n.propagated = []
        n.run(c, "MULTI")
        n.run(c, "EXEC")
        n.run(c, "MULTI")
        n.run(c, "DEL", "nothing")
        n.run(c, "EXEC")
        #expect(n.propagated.isEmpty)
    }

    @Test func aLazilyExpiredKeysDelIsPropagatedBeforeTheWriteThatFoundIt() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "SET", "n", "41", "PX", "1")
        let setAt = Clock.wallMillis()
        while Clock.wallMillis() <= setAt + 2 {}  // the key's millisecond TTL runs out
        n.propagated = []
        #expect(n.run(c, "INCR", "n") == ":1\r\n")
        // Replayed in this order (by a replica or the AOF), the key ends as it is here: 1.
        #expect(n.propagated.map(\.argv) == [["MULTI"], ["DEL", "n"], ["INCR", "n"], ["EXEC"]])
    }

    /// A key watched while already stale: its deletion (lazy expiry, DEL, FLUSHDB) is no change,
    /// a new value is (as redis-server 7.0.15 answers each case).
    @Test(arguments: [("EXISTS", true), ("DEL", true), ("GET", true), ("FLUSHDB", true), ("SET", false), ("OTHER-SET", false)])
    func watchingAStaleKey(action: String, execRuns: Bool) throws {
        let n = try TxInProcessNode()
        let c = try n.client(), other = try n.client()
        n.run(c, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
        n.run(c, "SET", "x", "foo", "PX", "1")
        let setAt = Clock.wallMillis()
        while Clock.wallMillis() <= setAt + 2 {}
        n.run(c, "WATCH", "x")
        switch action {
        case "FLUSHDB": n.run(c, "FLUSHDB")
        case "SET": n.run(c, "SET", "x", "bar")
        case "OTHER-SET": n.run(other, "SET", "x", "5")
        default: n.run(c, action, "x")
        }
        n.run(c, "MULTI")
        n.run(c, "PING")
        #expect(n.run(c, "EXEC") == (execRuns ? "*1\r\n+PONG\r\n" : "*-1\r\n"))
    }

    @Test func swapdbSparesWatchersOfStaleKeys() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
        n.run(c, "SELECT", "1")
        n.run(c, "SET", "x", "stale1", "PX", "1")
        n.run(c, "SELECT", "0")
        n.run(c, "SET", "x", "stale0", "PX", "1")
        let setAt = Clock.wallMillis()
        while Clock.wallMillis() <= setAt + 2 {}
        // A stale key replaced by another stale key, and an absent key replaced by a stale one.
        n.run(c, "WATCH", "x", "absent")
        n.run(c, "SELECT", "1")
        n.run(c, "SET", "absent", "s", "PX", "1")
        let setAt2 = Clock.wallMillis()
        while Clock.wallMillis() <= setAt2 + 2 {}
        n.run(c, "SWAPDB", "0", "1")
        n.run(c, "MULTI")
        n.run(c, "PING")
        #expect(n.run(c, "EXEC") == "*1\r\n+PONG\r\n")
        // A live key swapped in does doom the EXEC.
        n.run(c, "SELECT", "0")
        n.run(c, "WATCH", "live")
        n.run(c, "SELECT", "1")
        n.run(c, "SET", "live", "v")
        n.run(c, "SWAPDB", "0", "1")
        n.run(c, "MULTI")
        n.run(c, "PING")
        #expect(n.run(c, "EXEC") == "*-1\r\n")
    }

    // MARK: - MONITOR

    @Test func monitorShowsATransactionInTheOrderItRuns() throws {
        let n = try TxInProcessNode()
        let m = try n.client(), c = try n.client()
        #expect(n.run(m, "MONITOR") == "+OK\r\n")
        n.run(c, "MULTI")
        n.run(c, "SET", "foo", "bar")
        n.run(c, "EXEC")
        n.run(c, "MULTI")
        n.run(c, "SYNTAX", "ERROR")
        n.run(c, "EXEC")
        let lines = n.take(m).split(separator: "\r\n").map { String($0.split(separator: "]", maxSplits: 1).last ?? "") }
        #expect(lines == [" \"MULTI\"", " \"SET\" \"foo\" \"bar\"", " \"EXEC\"", " \"MULTI\"", " \"EXEC\""])
    }

    // MARK: - CLIENT REPLY

    @Test func replyOffSilencesRepliesButNotPubSubPushes() throws {
        let n = try TxInProcessNode()
        let sub = try n.client(), pub = try n.client()
        #expect(n.run(sub, "CLIENT", "REPLY", "OFF") == "")
        #expect(n.run(sub, "SUBSCRIBE", "channel") == "*3\r\n$9\r\nsubscribe\r\n$7\r\nchannel\r\n:1\r\n")
        #expect(n.run(sub, "PING") == "")
        #expect(n.run(pub, "PUBLISH", "channel", "hello") == ":1\r\n")
        #expect(n.take(sub) == "*3\r\n$7\r\nmessage\r\n$7\r\nchannel\r\n$5\r\nhello\r\n")
        #expect(n.run(sub, "UNSUBSCRIBE", "channel") == "*3\r\n$11\r\nunsubscribe\r\n$7\r\nchannel\r\n:0\r\n")
        #expect(n.run(sub, "GET", "k") == "")
        #expect(n.run(sub, "CLIENT", "REPLY", "ON") == "+OK\r\n")
        #expect(n.run(sub, "PING") == "+PONG\r\n")
    }

    @Test func replySkipDropsOnlyTheNextReply() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "CLIENT", "REPLY", "SKIP") == "")
        #expect(n.run(c, "PING", "pong") == "")
        #expect(n.run(c, "PING", "pong2") == "$5\r\npong2\r\n")
        // ON right after SKIP answers, and clears the skip.
        n.run(c, "CLIENT", "REPLY", "SKIP")
        #expect(n.run(c, "CLIENT", "REPLY", "ON") == "+OK\r\n")
        #expect(n.run(c, "PING") == "+PONG\r\n")
        // A push during a skipped command still arrives.
        n.run(c, "CLIENT", "REPLY", "SKIP")
        #expect(n.run(c, "PSUBSCRIBE", "ch*") == "*3\r\n$10\r\npsubscribe\r\n$3\r\nch*\r\n:1\r\n")
    }

    // MARK: - Expiry switches

    @Test func setActiveExpireZeroStopsTheCronFromDeleting() throws {
        let time = ManualTime()
        let n = try TxInProcessNode(clock: Clock(time))
        let c = try n.client()
        n.run(c, "SET", "k", "v", "PX", "100")
        #expect(n.run(c, "DEBUG", "SET-ACTIVE-EXPIRE", "0") == "+OK\r\n")
        time.advance(by: 1000)
        n.server.cron()
        #expect(n.server.databases[0].count == 1)
        #expect(n.server.stats.expiredKeys == 0)
        n.run(c, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
        n.server.cron()
        #expect(n.server.databases[0].count == 0)
        #expect(n.server.stats.expiredKeys == 1)
    }

    // MARK: - CLIENT PAUSE

    @Test func aWritePausePostponesWritesAndReleasesThemInOrder() throws {
        let time = ManualTime()
        let n = try TxInProcessNode(clock: Clock(time))
        let admin = try n.client(), a = try n.client(), b = try n.client()
        n.run(admin, "SET", "soon", "gone", "PX", "50")
        #expect(n.run(admin, "CLIENT", "PAUSE", "1000", "WRITE") == "+OK\r\n")
        #expect(n.run(a, "SET", "x", "1") == "")
        #expect(n.run(b, "INCR", "x") == "")
        #expect(a.flags.contains(.blocked) && b.flags.contains(.blocked))
        // Reads go on; an expired key reads as gone but is not deleted while paused.
        time.advance(by: 100)
        #expect(n.run(admin, "GET", "x") == "$-1\r\n")
        #expect(n.run(admin, "GET", "soon") == "$-1\r\n")
        #expect(n.server.stats.expiredKeys == 0)
        #expect(n.propagated.map(\.argv) == [["SET", "soon", "gone", "PXAT", n.propagated.first?.argv.last ?? ""]])
        time.advance(by: 1000)
        n.server.cron()
        n.server.beforeSleep()
        #expect(n.take(a) == "+OK\r\n")
        #expect(n.take(b) == ":2\r\n")
        #expect(!a.flags.contains(.blocked) && !b.flags.contains(.blocked))
        #expect(n.run(admin, "GET", "soon") == "$-1\r\n")
        #expect(n.server.stats.expiredKeys == 1)
    }

    @Test func pauseKindsFollowRedisRules() {
        var p = ClientPause()
        #expect(p.set(.clientCommand, kind: .write, end: 1000, now: 0) == .off)
        #expect(p.kind == .write && p.end == 1000)
        // A stronger pause of another purpose wins; its deadline is the one in force.
        _ = p.set(.shutdown, kind: .all, end: 500, now: 0)
        #expect(p.kind == .all && p.end == 500)
        #expect(p.holds(mayReplicate: false))
        _ = p.recompute(now: 600)
        #expect(p.kind == .write && p.end == 1000)
        #expect(!p.holds(mayReplicate: false) && p.holds(mayReplicate: true))
        // The same purpose keeps the longer deadline and the stronger kind.
        _ = p.set(.clientCommand, kind: .all, end: 800, now: 600)
        #expect(p.kind == .all && p.end == 1000)
        #expect(p.clear(.clientCommand, now: 600) == .all)
        #expect(!p.isActive)
    }

    // MARK: - WAIT after a served blocked client

    @Test func aServedBlockedPopMovesTheClientsWaitOffset() throws {
        let n = try TxInProcessNode()
        let a = try n.client(), b = try n.client()
        #expect(n.run(a, "BLPOP", "q", "0") == "")
        let beforePush = n.server.replication.masterReplOffset
        #expect(n.run(b, "RPUSH", "q", "x") == ":1\r\n")
        #expect(n.take(a) == "*2\r\n$1\r\nq\r\n$1\r\nx\r\n")
        #expect(n.propagated.map(\.argv) == [["RPUSH", "q", "x"], ["LPOP", "q"]])
        // WAIT from `a` targets the stream up to its pop, not up to the push before it.
        #expect(a.woff == n.server.replication.masterReplOffset)
        #expect(a.woff > b.woff && b.woff > beforePush)
    }
}

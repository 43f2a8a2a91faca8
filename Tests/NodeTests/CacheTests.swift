import Testing
@testable import Node
import Shared
import TestSupport

/// vigil-node as a cache, in process: the keyspace table with its access metadata, LRU/LFU
/// stamping, eviction by every policy, keyspace events and client-side caching.
@Suite(.serialized) struct CacheTests {
    final class Harness {
        let server: Server

        init(_ configure: (ServerConfig) -> Void = { _ in }) throws {
            let config = ServerConfig()
            config.saveRules = []
            configure(config)
            server = Server(config: config, loop: try EventLoop(), log: Logger())
        }

        func client() -> Client {
            let c = server.makeLocalClient()
            server.clients[c.id] = c
            return c
        }

        /// Runs one command and returns its raw reply (and anything pushed before it).
        @discardableResult
        func run(_ c: Client, _ args: String...) -> String {
            c.argv = args.map { Bytes($0.utf8) }
            server.processCommand(c)
            c.argv = []
            return String(decoding: c.takeReplies(), as: UTF8.self)
        }
    }

    // MARK: - KeyTable

    @Test func keyTableBehavesLikeADictionaryUnderChurn() {
        var t = KeyTable()
        var model: [Key: Int] = [:]
        var rng = FastRandom(seed: 42)
        for step in 0..<20_000 {
            let k = Key(Bytes("k\(rng.below(3000))".utf8))
            if rng.below(3) == 0 {
                #expect((t.removeValue(forKey: k) != nil) == (model.removeValue(forKey: k) != nil))
            } else {
                t.updateValue(.string(Bytes(String(step).utf8)), forKey: k)
                model[k] = step
            }
        }
        #expect(t.count == model.count)
        for (k, v) in model {
            guard case .string(let b)? = t[k] else { Issue.record("missing \(k)"); continue }
            #expect(String(decoding: b, as: UTF8.self) == String(v))
        }
        #expect(Set(t.keys) == Set(model.keys))
        // Every position holds a live entry: random sampling never sees a ghost.
        for _ in 0..<100 {
            guard let i = t.randomPosition(&rng) else { break }
            #expect(model[t.entry(at: i).key] != nil)
        }
    }

    @Test func keyTableCopiesOnWriteWhileIterated() {
        var t = KeyTable()
        for i in 0..<100 { t.updateValue(.string([]), forKey: Key(Bytes("a\(i)".utf8))) }
        let snapshot = t
        for k in snapshot.keys { t.removeValue(forKey: k) }
        #expect(t.isEmpty)
        #expect(snapshot.count == 100)
    }

    // MARK: - Ages

    @Test func lfuCounterGrowsLogarithmicallyAndDecays() {
        let aging = KeyAging(wallMillis: 0)
        aging.setLFU(true)
        var meta = aging.fresh()
        #expect(aging.decayedCounter(meta) == KeyAging.lfuInitVal)
        for _ in 0..<1000 { meta = aging.touched(meta) }
        let hot = aging.decayedCounter(meta)
        // With lfu-log-factor 10, a thousand hits reach about 20 (Redis's table), far below 255.
        #expect(hot > 10 && hot < 40, "\(hot)")
        // Ten minutes later, with lfu-decay-time 1, ten points are gone.
        aging.refresh(wallMillis: 10 * 60_000)
        #expect(aging.decayedCounter(meta) == hot - 10)
    }

    @Test func lruIdleTimeFollowsTheClock() {
        let aging = KeyAging(wallMillis: 1_000_000)
        let meta = aging.fresh()
        aging.refresh(wallMillis: 1_000_000 + 42_000)
        #expect(aging.idleMillis(meta) == 42_000)
        #expect(aging.idleMillis(aging.metaForIdle(seconds: 7)) == 7000)
    }

    // MARK: - Eviction

    @Test(arguments: ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
    func everyPolicyBringsMemoryUnderTheLimit(policy: String) throws {
        // Tenacity 100: no time budget, all of it in one go (the harness runs no event loop for
        // the eviction timer).
        // 64 samples (Redis's maximum): with the default 5, volatile:0 went unsampled through all
        // ~170 evictions in about one run in eight, and the nearest-deadline check below failed.
        let h = try Harness { $0.maxmemoryPolicy = policy; $0.maxmemoryEvictionTenacity = 100; $0.maxmemorySamples = 64 }
        h.server.applyAgingConfig()
        let c = h.client()
        let value = String(repeating: "v", count: 500)
        for i in 0..<400 { h.run(c, "SET", "persistent:\(i)", value) }
        for i in 0..<400 { h.run(c, "SET", "volatile:\(i)", value, "EX", String(1000 + i)) }
        let before = ProcessMemory.allocated
        h.server.config.maxmemory = before - 100_000
        let reply = h.run(c, "SET", "one-more", "x")
        #expect(reply == "+OK\r\n")
        #expect(h.server.stats.evictedKeys > 0)
        // Eviction stops under the limit, then "one-more" goes in: that insert may grow the key
        // table (Redis 7 defers such a growth while over maxmemory, we do not yet), and the
        // allocation counter is the process's, shared with the test runner's threads. 16 KB over
        // was seen in CI; the slack is 64 KB of the 100 KB to free.
        #expect(ProcessMemory.allocated <= h.server.config.maxmemory + 64 * 1024)
        let db = h.server.databases[0]
        if policy.hasPrefix("volatile") {
            // Keys without an expiry are never candidates.
            #expect((0..<400).allSatisfy { db.dict[Key(Bytes("persistent:\($0)".utf8))] != nil })
        }
        if policy == "volatile-ttl" {
            // The nearest deadlines go first.
            #expect(db.dict[Key(Bytes("volatile:0".utf8))] == nil)
            #expect(db.dict[Key(Bytes("volatile:399".utf8))] != nil)
        }
    }

    @Test func lruEvictsTheIdleKeysFirst() throws {
        let h = try Harness { $0.maxmemoryPolicy = "allkeys-lru"; $0.maxmemorySamples = 10; $0.maxmemoryEvictionTenacity = 100 }
        let c = h.client()
        let value = String(repeating: "v", count: 500)
        for i in 0..<500 { h.run(c, "SET", "old:\(i)", value) }
        // The old keys are 100 s idle; then fresh keys arrive.
        h.server.keyAging.refresh(wallMillis: Clock.wallMillis() + 100_000)
        for i in 0..<500 { h.run(c, "SET", "new:\(i)", value) }
        h.server.config.maxmemory = ProcessMemory.allocated - 150_000
        h.run(c, "PING")
        let db = h.server.databases[0]
        let oldLeft = (0..<500).filter { db.dict[Key(Bytes("old:\($0)".utf8))] != nil }.count
        let newLeft = (0..<500).filter { db.dict[Key(Bytes("new:\($0)".utf8))] != nil }.count
        #expect(h.server.stats.evictedKeys > 100)
        #expect(newLeft == 500, "new keys evicted while idle ones were left: old \(oldLeft) new \(newLeft)")
    }

    @Test func noevictionRefusesDenyOOMCommandsOnly() throws {
        let h = try Harness()
        let c = h.client()
        h.run(c, "SET", "a", "1")
        h.server.config.maxmemory = 1
        #expect(h.run(c, "SET", "b", "2") == "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        #expect(h.run(c, "GET", "a") == "$1\r\n1\r\n")
        #expect(h.run(c, "DEL", "a") == ":1\r\n")
        // A transaction is refused at queue time when over the limit, and EXEC aborts.
        #expect(h.run(c, "MULTI") == "+OK\r\n")
        #expect(h.run(c, "GET", "a").hasPrefix("-OOM"))
        #expect(h.run(c, "EXEC").hasPrefix("-EXECABORT"))
        h.server.config.maxmemory = 0
        #expect(h.run(c, "SET", "b", "2") == "+OK\r\n")
    }

    @Test func evictionsPropagateAsDels() throws {
        let h = try Harness { $0.maxmemoryPolicy = "allkeys-random"; $0.maxmemoryEvictionTenacity = 100 }
        let c = h.client()
        h.server.aof.state = .on
        for i in 0..<50 { h.run(c, "SET", "k\(i)", String(repeating: "x", count: 1000)) }
        h.server.aof.buffer = []
        h.server.config.maxmemory = ProcessMemory.allocated - 20_000
        h.run(c, "PING")
        var r = AOFCommandReader(h.server.aof.buffer)
        var dels = 0
        while case .command(let argv, _) = try r.next() {
            if String(decoding: argv[0], as: UTF8.self) == "DEL" { dels += 1 }
        }
        #expect(dels > 0 && dels == h.server.stats.evictedKeys)
    }

    // MARK: - Keyspace events

    @Test func keyspaceEventsFollowRedisNamesAndOrder() throws {
        let h = try Harness()
        let c = h.client()
        let sub = h.client()
        h.run(c, "CONFIG", "SET", "notify-keyspace-events", "KEA")
        h.run(sub, "PSUBSCRIBE", "__keyevent@0__:*")
        h.run(c, "RPUSH", "l", "a")
        h.run(c, "RPOP", "l")
        h.run(c, "SET", "s", "v", "EX", "100")
        h.run(c, "RENAME", "s", "t")
        h.run(c, "ZADD", "z", "INCR", "1", "m")
        h.run(c, "HSET", "h", "f", "v")
        h.run(c, "HDEL", "h", "f")
        let text = String(decoding: sub.takeReplies(), as: UTF8.self)
        let events = text.split(separator: "\r\n").filter { $0.hasPrefix("__keyevent@0__:") && $0 != "__keyevent@0__:*" }.map { $0.dropFirst("__keyevent@0__:".count) }
        #expect(events == ["rpush", "rpop", "del", "set", "expire", "rename_from", "rename_to", "zincr", "hset", "hdel", "del"])
    }

    @Test func newKeyEventOnlyForCreatedKeys() throws {
        let h = try Harness()
        let c = h.client()
        let sub = h.client()
        h.run(c, "CONFIG", "SET", "notify-keyspace-events", "En")
        h.run(sub, "SUBSCRIBE", "__keyevent@0__:new")
        _ = sub.takeReplies()
        h.run(c, "SET", "foo", "1")
        h.run(c, "SET", "foo", "2")
        h.run(c, "LPUSH", "bar", "x")
        let text = String(decoding: sub.takeReplies(), as: UTF8.self)
        #expect(text.components(separatedBy: "__keyevent@0__:new").count - 1 == 2)
        #expect(text.contains("foo") && text.contains("bar"))
    }

    @Test func evictedEventAndInvalidationBeforeTheReply() throws {
        let h = try Harness { $0.maxmemoryPolicy = "allkeys-lru"; $0.maxmemoryEvictionTenacity = 100 }
        let c = h.client()
        h.run(c, "CONFIG", "SET", "notify-keyspace-events", "Ee")
        h.run(c, "HELLO", "3")
        h.run(c, "CLIENT", "TRACKING", "on")
        h.run(c, "SET", "big", String(repeating: "x", count: 100_000))
        h.run(c, "GET", "big")
        h.server.config.maxmemory = ProcessMemory.allocated - 50_000
        let reply = h.run(c, "SET", "small", "1")
        // The invalidation push for the evicted key comes before the command's own reply.
        let push = reply.range(of: "invalidate"), ok = reply.range(of: "+OK")
        #expect(push != nil && ok != nil && push!.lowerBound < ok!.lowerBound, "\(reply)")
        #expect(h.server.stats.evictedKeys >= 1)
    }

    // MARK: - Tracking

    @Test func trackingDefaultModeInvalidatesOnceUntilReadAgain() throws {
        let h = try Harness()
        let reader = h.client(), writer = h.client()
        h.run(reader, "HELLO", "3")
        #expect(h.run(reader, "CLIENT", "TRACKING", "on") == "+OK\r\n")
        h.run(reader, "MGET", "a", "b")
        #expect(h.server.tracking.keys.count == 2)
        h.run(writer, "SET", "a", "1")
        h.run(writer, "SET", "a", "2")  // already invalidated: no second message
        let pushed = String(decoding: reader.takeReplies(), as: UTF8.self)
        #expect(pushed == ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n")
        #expect(h.server.tracking.keys.count == 1)
    }

    @Test func trackingOptInAndNoLoop() throws {
        let h = try Harness()
        let c = h.client()
        h.run(c, "HELLO", "3")
        h.run(c, "CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP")
        h.run(c, "GET", "x")  // not cached: OPTIN without CACHING yes
        #expect(h.server.tracking.keys.isEmpty)
        h.run(c, "CLIENT", "CACHING", "yes")
        h.run(c, "GET", "y")
        #expect(h.server.tracking.keys.count == 1)
        h.run(c, "SET", "y", "1")  // its own write: NOLOOP says nothing
        #expect(!String(decoding: c.takeReplies(), as: UTF8.self).contains("invalidate"))
        #expect(h.run(c, "CLIENT", "TRACKING", "on", "OPTOUT") == "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n")
        let info = h.run(c, "CLIENT", "TRACKINGINFO")
        #expect(info.contains("optin") && info.contains("noloop"))
    }

    @Test func trackingTableMaxKeysIsEnforced() throws {
        let h = try Harness()
        let c = h.client()
        h.run(c, "HELLO", "3")
        h.run(c, "CLIENT", "TRACKING", "on")
        h.run(c, "CONFIG", "SET", "tracking-table-max-keys", "10")
        for i in 0..<50 { h.run(c, "GET", "k\(i)") }
        #expect(h.server.tracking.keys.count <= 11)
    }
}

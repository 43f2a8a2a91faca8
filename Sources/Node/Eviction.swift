// maxmemory, as Redis 7.0's evict.c. Before a command runs (processCommand), when `maxmemory` is
// set and used memory (minus replica output buffers and the AOF buffer, which would resonate)
// is above it, keys are evicted by the policy until enough memory was freed, or the time budget
// of maxmemory-eviction-tenacity ran out (then a timer keeps evicting between commands). A
// command that may grow memory (`denyOOM`, or any command queued in MULTI) is refused with
// -OOM if nothing more can be evicted.
//
// The LRU / LFU / TTL policies sample maxmemory-samples keys per database into a pool of the 16
// best candidates seen so far (highest idle time, lowest frequency, nearest expiry) and evict the
// best one that still exists; the random policies pick a random key, visiting the databases in
// turn. Each eviction is signalled (WATCH, tracking), raises an `evicted` event, and propagates
// a DEL (UNLINK with lazyfree-lazy-eviction) to replicas and the AOF, each on its own (not in
// MULTI). Replicas do not evict (replica-ignore-maxmemory yes): their master's DELs do.
import Shared

/// maxmemory-policy, as Redis's MAXMEMORY_* values.
enum EvictionPolicy: String {
    case volatileLRU = "volatile-lru"
    case volatileLFU = "volatile-lfu"
    case volatileRandom = "volatile-random"
    case volatileTTL = "volatile-ttl"
    case allkeysLRU = "allkeys-lru"
    case allkeysLFU = "allkeys-lfu"
    case allkeysRandom = "allkeys-random"
    case noeviction = "noeviction"

    /// Evicts among all keys (else among keys with an expiry).
    var allKeys: Bool { self == .allkeysLRU || self == .allkeysLFU || self == .allkeysRandom }
    /// Ranks keys by access frequency (MAXMEMORY_FLAG_LFU).
    var isLFU: Bool { self == .volatileLFU || self == .allkeysLFU }
    /// Ranks keys by idle time (MAXMEMORY_FLAG_LRU).
    var isLRU: Bool { self == .volatileLRU || self == .allkeysLRU }
    /// Uses the eviction pool (LRU, LFU, TTL).
    var usesPool: Bool { isLRU || isLFU || self == .volatileTTL }
}

/// What performEvictions achieved.
enum EvictionResult {
    /// Under the limit (or eviction is not allowed now).
    case ok
    /// Over the limit still; the eviction timer keeps going.
    case running
    /// Over the limit and nothing (more) can be evicted.
    case fail
}

/// Eviction's state across calls: the candidate pool, the random policies' database cursor.
struct EvictionState {
    /// One candidate: a higher score is a better victim.
    struct Candidate {
        var score: UInt64
        var key: Key
        var db: Int
    }
    /// The best candidates so far, ascending by score (Redis's EVPOOL_SIZE).
    var pool: [Candidate] = []
    static let poolSize = 16
    /// The next database the random policies try.
    var nextDB = 0
    var rng = FastRandom(seed: UInt64(truncatingIfNeeded: Clock.wallMicros()) | 1)
    /// Whether the eviction timer is armed (startEvictionTimeProc).
    var timerRunning = false
    /// The result of the last check before a command (Redis's pre_command_oom_state), for
    /// scripts and EXEC to refuse writes that would have been refused at the top level.
    var preCommandOOM = false

    /// Inserts a candidate if it beats the worst one kept (evictionPoolPopulate's insertion).
    mutating func offer(_ c: Candidate) {
        if let i = pool.firstIndex(where: { $0.db == c.db && $0.key == c.key }) { pool.remove(at: i) }
        var k = 0
        while k < pool.count && pool[k].score < c.score { k += 1 }
        if pool.count < EvictionState.poolSize {
            pool.insert(c, at: k)
        } else if k > 0 {
            // Full: drop the weakest (leftmost) to make room.
            pool.removeFirst()
            pool.insert(c, at: k - 1)
        }
    }
}

extension Server {
    /// The configured policy (noeviction for anything unknown).
    var evictionPolicy: EvictionPolicy { EvictionPolicy(rawValue: config.maxmemoryPolicy) ?? .noeviction }

    /// Hands the policy's kind and the LFU parameters to the key stamping (start-up and CONFIG SET).
    func applyAgingConfig() {
        keyAging.setLFU(evictionPolicy.isLFU)
        keyAging.lfuLogFactor = config.lfuLogFactor
        keyAging.lfuDecayTime = config.lfuDecayTime
    }

    // MARK: - Memory state

    /// Memory not counted against maxmemory: replica output buffers and the AOF buffer (Redis's
    /// freeMemoryGetNotCountedMemory), which grow because of the DELs eviction itself sends.
    func memoryNotCountedForEviction() -> Int {
        var n = 0
        for r in replication.replicas { n += r.client.pendingOutput + r.heldStream.count }
        if aof.state != .off { n += aof.pendingBytes }
        return n
    }

    /// How much must be freed to be back under maxmemory, or nil when under it (getMaxmemoryState).
    func memoryToFree() -> Int? {
        let limit = config.maxmemory
        guard limit > 0 else { return nil }
        let reported = ProcessMemory.allocated
        if reported <= limit { return nil }
        let used = max(0, reported - memoryNotCountedForEviction())
        return used <= limit ? nil : used - limit
    }

    /// Used memory relative to maxmemory (INFO's and MEMORY's level), 0 without a limit.
    var memoryLevel: Double {
        guard config.maxmemory > 0 else { return 0 }
        return Double(max(0, ProcessMemory.allocated - memoryNotCountedForEviction())) / Double(config.maxmemory)
    }

    // MARK: - processCommand's check

    /// processCommand's maxmemory step: evicts what it may, then says whether `c`'s command must
    /// be refused with -OOM (it may grow memory, or is queued in MULTI, and nothing is left to
    /// evict). Tracking invalidations of evicted keys go out before the command's reply.
    func oomRefuses(_ c: Client, denyOOM: Bool, isTransactionControl: Bool) -> Bool {
        let outOfMemory = performEvictions() == .fail
        flushPendingInvalidations(c)
        eviction.preCommandOOM = outOfMemory
        guard outOfMemory else { return false }
        return denyOOM || (c.flags.contains(.multi) && !isTransactionControl)
    }

    /// Redis's shared.oomerr.
    static let oomMessage = "OOM command not allowed when used memory > 'maxmemory'."

    // MARK: - performEvictions

    /// Whether evicting is allowed now: not while loading, not on a replica that ignores
    /// maxmemory, not while clients are paused (the dataset must stay still).
    private var evictionAllowed: Bool {
        if loading { return false }
        if isReplica && config.replicaIgnoreMaxmemory { return false }
        if pause.isActive && clientsArePaused() { return false }
        return true
    }

    /// Microseconds eviction may run per call (maxmemory-eviction-tenacity: linear to 500 µs at
    /// 10, then +15% per step, unlimited at 100).
    var evictionTimeLimitMicros: Int64 {
        let t = config.maxmemoryEvictionTenacity
        if t <= 10 { return Int64(50 * t) }
        if t < 100 { return Int64(500.0 * pow115(t - 10)) }
        return Int64.max
    }

    private func pow115(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<n { r *= 1.15 }
        return r
    }

    /// Evicts keys until memory is under maxmemory or the time limit is reached (Redis's
    /// performEvictions).
    @discardableResult
    func performEvictions() -> EvictionResult {
        guard evictionAllowed else { return .ok }
        guard let toFree = memoryToFree() else { return .ok }
        let policy = evictionPolicy
        if policy == .noeviction { return .fail }
        let limit = evictionTimeLimitMicros
        let start = Clock.monotonicMicros()
        var freed = 0
        var keysFreed = 0
        while freed < toFree {
            guard let (db, key) = policy.usesPool ? bestPoolVictim(policy) : randomVictim(policy) else {
                return .fail
            }
            let before = ProcessMemory.allocated
            deleteEvicted(db, key)
            freed += before - ProcessMemory.allocated
            keysFreed += 1
            if keysFreed % 16 == 0 {
                if !replication.replicas.isEmpty { flushReplicaOutput() }
                if Clock.monotonicMicros() - start > limit {
                    startEvictionTimer()
                    break
                }
            }
        }
        return eviction.timerRunning ? .running : .ok
    }

    /// Removes an evicted key: counted, signalled, notified, propagated as DEL.
    private func deleteEvicted(_ db: Database, _ key: Key) {
        // Discarded at once, so its memory is free before the caller measures.
        _ = db.remove(key)
        stats.evictedKeys += 1
        signalModifiedKey(db, key, by: nil)
        notifyKeyspaceEvent(.evicted, "evicted", db, key)
        let lazy = config.passthrough["lazyfree-lazy-eviction"] == "yes"
        alsoPropagate(db: db.id, [lazy ? Server.unlinkArgv : Server.delArgv, key.bytes])
    }

    static let delArgv = Bytes("DEL".utf8)
    static let unlinkArgv = Bytes("UNLINK".utf8)

    /// Keeps evicting from a timer between commands (startEvictionTimeProc), until under the
    /// limit or out of keys.
    func startEvictionTimer() {
        guard !eviction.timerRunning else { return }
        eviction.timerRunning = true
        _ = loop.schedule(after: 0) { [unowned self] in
            // Cleared first: a round that stops early again re-arms the timer itself.
            self.eviction.timerRunning = false
            self.performEvictions()
        }
    }

    /// Sends the replicas what eviction queued for them so far (flushSlavesOutputBuffers).
    private func flushReplicaOutput() {
        for r in replication.replicas {
            guard let conn = r.client.conn, !conn.isClosed, !r.client.out.isEmpty else { continue }
            stats.netOutputBytes += r.client.out.count
            conn.enqueue(&r.client.out.bytes)
            conn.flush()
        }
    }

    // MARK: - Victims

    /// The random policies' victim: a random key of the next database that has candidates.
    private func randomVictim(_ policy: EvictionPolicy) -> (Database, Key)? {
        for _ in 0..<databases.count {
            eviction.nextDB = (eviction.nextDB + 1) % databases.count
            let db = databases[eviction.nextDB]
            if policy.allKeys {
                if let i = db.dict.randomPosition(&eviction.rng) { return (db, db.dict.entry(at: i).key) }
            } else if let v = db.randomVolatileKey(&eviction.rng) {
                return (db, v.key)
            }
        }
        return nil
    }

    /// The pool policies' victim: refill the pool from every database, then take the best
    /// candidate that still exists (ghosts are dropped), as evictionPoolPopulate + the loop.
    private func bestPoolVictim(_ policy: EvictionPolicy) -> (Database, Key)? {
        while true {
            var total = 0
            for db in databases {
                let keys = policy.allKeys ? db.count : db.expires.count
                guard keys > 0 else { continue }
                total += keys
                populatePool(db, policy)
            }
            if total == 0 { return nil }
            while let best = eviction.pool.popLast() {
                let db = databases[best.db]
                let present = policy.allKeys ? db.dict[best.key] != nil : db.expires[best.key] != nil
                if present { return (db, best.key) }
            }
        }
    }

    /// Samples maxmemory-samples keys of `db` into the pool, scored by the policy.
    private func populatePool(_ db: Database, _ policy: EvictionPolicy) {
        let samples = config.maxmemorySamples
        let aging = keyAging
        for _ in 0..<samples {
            let key: Key
            let meta: UInt32
            var expireAt: Int64 = 0
            if policy.allKeys {
                guard let i = db.dict.randomPosition(&eviction.rng) else { return }
                let e = db.dict.entry(at: i)
                key = e.key
                meta = e.meta
            } else {
                guard let v = db.randomVolatileKey(&eviction.rng) else { return }
                key = v.key
                expireAt = v.at
                meta = policy == .volatileTTL ? 0 : (db.dict.meta(v.key) ?? 0)
            }
            let score: UInt64
            if policy.isLRU {
                score = UInt64(aging.idleMillis(meta))
            } else if policy.isLFU {
                score = UInt64(255 - aging.decayedCounter(meta))
            } else {
                // volatile-ttl: the sooner the expiry, the better.
                score = UInt64.max - UInt64(max(0, expireAt))
            }
            eviction.offer(EvictionState.Candidate(score: score, key: key, db: db.id))
        }
    }
}

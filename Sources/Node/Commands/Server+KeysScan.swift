// KEYS and SCAN, whole-database commands (FLUSHDB, FLUSHALL, SWAPDB) and OBJECT.
//
// SCAN cursors: Swift's Dictionary offers no stable position to resume from, so keys are ordered
// by a fixed 64-bit hash (FNV-1a, forced odd so that no key hashes to the terminating cursor 0).
// A cursor is "the smallest hash not returned yet": a call returns the keys with hash >= cursor
// in hash order, COUNT at a time, never splitting keys of equal hash. Because the order depends
// only on the key, every key present for the whole scan is returned (deletions and insertions do
// not shift anything), and none is returned twice unless it is deleted and re-added. The price is
// O(N) work per call (filter + partial sort) instead of Redis's O(COUNT); acceptable for now, and
// a hash-ordered index kept by Database would remove it without changing the cursor contract.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension Server {
    // MARK: - KEYS and SCAN

    func keysCommand(_ c: Client) {
        let pattern = c.arg(1)
        let all = pattern.count == 1 && pattern[0] == 0x2A
        let now = clock.wallMillis()
        var found: [Bytes] = []
        for key in c.db.dict.keys where !c.db.isExpired(key, now: now) {
            if all || GlobMatch.matches(pattern, key.bytes) { found.append(key.bytes) }
        }
        c.out.bulks(found)
    }

    /// The SCAN order of a key: FNV-1a, made odd so that 0 stays the end-of-scan cursor.
    static func scanHash(_ b: Bytes) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for x in b { h = (h ^ UInt64(x)) &* 0x0000_0100_0000_01b3 }
        return h | 1
    }

    /// Parses a cursor as Redis does (strtoull: `-1` wraps, spaces and trailing bytes do not).
    static func parseCursor(_ b: Bytes) throws -> UInt64 {
        let invalid = CommandError("ERR invalid cursor")
        guard let first = b.first, first != 0x20, !(first >= 0x09 && first <= 0x0D), b.count < 64 else { throw invalid }
        let p = Posix.strtoull(b)
        let ok = p.consumed == b.count && !p.outOfRange
        let v = p.value
        guard ok else { throw invalid }
        return v
    }

    func scanCommand(_ c: Client) throws {
        let cursor = try Server.parseCursor(c.arg(1))
        var count = 10
        var pattern: Bytes? = nil
        var typeName: String? = nil
        var i = 2
        while i < c.argc {
            let opt = c.option(i)
            guard i + 1 < c.argc else { throw CommandError.syntax }
            switch opt {
            case "COUNT":
                let n = try integerArgument(c.arg(i + 1))
                guard n >= 1 else { throw CommandError.syntax }
                count = Int(n)
            case "MATCH":
                let p = c.arg(i + 1)
                pattern = p.count == 1 && p[0] == 0x2A ? nil : p
            case "TYPE":
                typeName = c.arg(i + 1).text
            default:
                throw CommandError.syntax
            }
            i += 2
        }
        let db = c.db
        var candidates: [(hash: UInt64, key: Key)] = []
        for key in db.dict.keys {
            let h = Server.scanHash(key.bytes)
            if h >= cursor { candidates.append((h, key)) }
        }
        candidates.sort { $0.hash < $1.hash }
        var end = min(count, candidates.count)
        // Keys sharing a hash are returned together, or the next cursor would skip some.
        while end > 0 && end < candidates.count && candidates[end].hash == candidates[end - 1].hash { end += 1 }
        let next: UInt64 = end < candidates.count ? candidates[end].hash : 0
        var keys: [Bytes] = []
        for (_, key) in candidates[0..<end] {
            if let pattern, !GlobMatch.matches(pattern, key.bytes) { continue }
            guard let v = lookupWrite(db, key) else { continue }  // expired keys are dropped
            if let typeName, v.typeName != typeName.lowercased() { continue }
            keys.append(key.bytes)
        }
        c.out.arrayHeader(2)
        c.out.bulk(String(next))
        c.out.bulks(keys)
    }

    // MARK: - Whole databases

    /// Parses the optional ASYNC/SYNC of FLUSHDB/FLUSHALL (both run synchronously here).
    /// FLUSHALL/FLUSHDB [ASYNC|SYNC]: whether to free on the lazyfree thread (without an
    /// option: lazyfree-lazy-user-flush).
    func flushOptions(_ c: Client) throws -> Bool {
        if c.argc > 2 { throw CommandError.syntax }
        if c.argc == 2 {
            let o = c.option(1)
            guard o == "ASYNC" || o == "SYNC" else { throw CommandError.syntax }
            return o == "ASYNC"
        }
        return config.lazyfreeLazyUserFlush
    }

    /// Empties `db`, in the background when `async` (emptyDbAsync queues even a small one).
    func emptyDatabase(_ db: Database, async: Bool) {
        let n = db.count
        if async && n > 0 {
            LazyFree.disposeContents(db.detachContents(), objects: n)
        } else {
            db.clear()
        }
    }

    func flushdbCommand(_ c: Client) throws {
        let async = try flushOptions(c)
        let n = c.db.count
        watchTable.touchExisting(in: c.db, now: clock.wallMillis())
        signalStreamsGoing(c.db)
        emptyDatabase(c.db, async: async)
        trackingInvalidateOnFlush()
        dirty += n
        // Redis forces propagation even of a no-op flush so replicas stay identical.
        if n == 0 { alsoPropagate(db: c.db.id, c.argv) }
        c.out.ok()
    }

    func flushallCommand(_ c: Client) throws {
        let async = try flushOptions(c)
        var n = 0
        for db in databases {
            n += db.count
            watchTable.touchExisting(in: db, now: clock.wallMillis())
            signalStreamsGoing(db)
            emptyDatabase(db, async: async)
        }
        trackingInvalidateOnFlush()
        // The +1 makes even an empty FLUSHALL count as a change (it always propagates in Redis).
        dirty += n + 1
        c.out.ok()
    }

    func swapdbCommand(_ c: Client) throws {
        let a = try databaseArgument(c.arg(1), message: CommandError("ERR invalid first DB index"))
        let b = try databaseArgument(c.arg(2), message: CommandError("ERR invalid second DB index"))
        if a !== b {
            watchTable.touchExisting(in: a, replacement: b, now: clock.wallMillis())
            watchTable.touchExisting(in: b, replacement: a, now: clock.wallMillis())
            signalStreamsGoing(a)
            signalStreamsGoing(b)
            // Clients keep their Database object, so the contents move, as Redis swaps dict pointers.
            let (da, ea) = (a.dict, a.expires)
            let (dbb, eb) = (b.dict, b.expires)
            a.clear(); b.clear()
            a.dict = dbb
            for (k, t) in eb { a.setExpiry(k, t) }
            b.dict = da
            for (k, t) in ea { b.setExpiry(k, t) }
            // Clients blocked on a key of either database may now find it (Redis's
            // scanDatabaseForReadyKeys); WATCH was handled above.
            if blocking.hasWaiters {
                for db in [a, b] { for k in db.dict.keys { signalKeyAsReady(db, k) } }
            }
        }
        dirty += 1
        c.out.ok()
    }

    // MARK: - OBJECT

    func objectCommand(_ c: Client) throws {
        let sub = c.arg(1).text.lowercased()
        let arity = ["encoding": 3, "freq": 3, "idletime": 3, "refcount": 3]
        if sub == "help" {
            guard c.argc == 2 else { throw CommandError.wrongArity("object|help") }
            c.out.helpLines(Server.objectHelp)
            return
        }
        guard let n = arity[sub] else {
            throw CommandError("ERR unknown subcommand '\(c.arg(1).text.prefix(128))'. Try OBJECT HELP.")
        }
        guard c.argc == n else { throw CommandError.wrongArity("object|\(sub)") }
        let key = c.key(2)
        guard exists(c.db, key), let v = c.db.dict[key] else { c.out.null(); return }
        switch sub {
        case "encoding": c.out.bulk(objectEncoding(c.db, key, v))
        case "refcount":
            if case .string(let b) = v, let n = NumberFormat.parseInt(b), n >= 0, n < 10000 {
                c.out.integer(Int(Int32.max))  // Redis shares small integers (OBJ_SHARED_REFCOUNT)
            } else {
                c.out.integer(1)
            }
        case "idletime":
            guard !keyAging.lfu else {
                throw CommandError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
            }
            c.out.integer(Int(keyAging.idleMillis(c.db.dict.meta(key) ?? 0) / 1000))
        default:
            guard keyAging.lfu else {
                throw CommandError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
            }
            // Decayed as of now: the counter itself only moves when the key is accessed.
            c.out.integer(Int(keyAging.decayedCounter(c.db.dict.meta(key) ?? 0)))
        }
    }

    /// Redis 7.0's encoding name for the value at `key` in `db`: the value's own (its contents,
    /// the thresholds and the conversions it went through, see `Value.encodingName`), "raw" for a
    /// string edited in place.
    func objectEncoding(_ db: Database, _ key: Key, _ v: Value) -> String {
        if case .string = v, db.dict.isRawString(key) { return "raw" }
        return v.encodingName(config: config)
    }

    static let objectHelp = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ]
}

extension RESPWriter {
    /// HELP replies: an array of status lines, as Redis's addReplyHelp.
    mutating func helpLines(_ lines: [String]) {
        arrayHeader(lines.count)
        for l in lines { simple(l) }
    }
}

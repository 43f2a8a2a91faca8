// Sorted-set commands (t_zset.c): ZADD and friends, single-member reads, pops. Ranges live in
// SortedSetCommands+Range.swift, set algebra and blocking pops in SortedSetCommands+Store.swift.
import Shared

extension CommandTable {
    /// The sorted-set family.
    static var sortedSets: [CommandSpec] {
        let w: CommandFlags = [.write, .denyOOM, .fast]
        let r: CommandFlags = [.readonly, .fast]
        let cat = ["write", "sortedset", "fast"], rcat = ["read", "sortedset", "fast"]
        return [
            CommandSpec("zadd", -4, w, cat, keys: (1, 1, 1)) { s, c in try s.zaddCommand(c) },
            CommandSpec("zincrby", 4, w, cat, keys: (1, 1, 1)) { s, c in try s.zincrbyCommand(c) },
            CommandSpec("zscore", 3, r, rcat, keys: (1, 1, 1)) { s, c in
                if let v = try s.readZSet(c.db, c.key(1))?.score(c.key(2)) { c.out.double(v) } else { c.out.null() }
            },
            CommandSpec("zmscore", -3, r, rcat, keys: (1, 1, 1)) { s, c in
                let z = try s.readZSet(c.db, c.key(1))
                c.out.arrayHeader(c.argc - 2)
                for i in 2..<c.argc {
                    if let v = z?.score(c.key(i)) { c.out.double(v) } else { c.out.null() }
                }
            },
            CommandSpec("zcard", 2, r, rcat, keys: (1, 1, 1)) { s, c in c.out.integer(try s.readZSet(c.db, c.key(1))?.count ?? 0) },
            CommandSpec("zrank", 3, r, rcat, keys: (1, 1, 1)) { s, c in try s.zrankCommand(c, reverse: false) },
            CommandSpec("zrevrank", 3, r, rcat, keys: (1, 1, 1)) { s, c in try s.zrankCommand(c, reverse: true) },
            CommandSpec("zrem", -3, [.write, .fast], cat, keys: (1, 1, 1)) { s, c in try s.zremCommand(c) },
            CommandSpec("zpopmin", -2, [.write, .fast], cat, keys: (1, 1, 1)) { s, c in try s.zpopCommand(c, min: true) },
            CommandSpec("zpopmax", -2, [.write, .fast], cat, keys: (1, 1, 1)) { s, c in try s.zpopCommand(c, min: false) },
            CommandSpec("zmpop", -4, [.write], ["write", "sortedset", "slow"], keys: (2, 2, 1)) { s, c in try s.zmpopCommand(c, first: 1, timeout: nil) },
        ] + sortedSetRanges + sortedSetStores
    }
}

extension Server {
    // MARK: - ZADD / ZINCRBY

    /// ZADD's option flags.
    struct ZAddFlags {
        var nx = false, xx = false, gt = false, lt = false, ch = false, incr = false
    }

    /// Outcome of adding one element.
    enum ZAddOutcome { case added, updated, unchanged, skipped }

    /// Adds or updates one element under ZADD's rules; returns the outcome and the final score.
    func zsetAdd(_ z: SortedSetValue, _ member: Key, _ score: Double, _ f: ZAddFlags) throws -> (ZAddOutcome, Double) {
        if let cur = z.score(member) {
            if f.nx { return (.skipped, cur) }
            var new = score
            if f.incr {
                new = cur + score
                if new.isNaN { throw CommandError("ERR resulting score is not a number (NaN)") }
            }
            if (f.gt && new <= cur) || (f.lt && new >= cur) { return (.skipped, cur) }
            if new == cur { return (.unchanged, cur) }
            z.set(member, new)
            return (.updated, new)
        }
        if f.xx { return (.skipped, 0) }
        z.set(member, score)
        z.noteAdd(member.bytes, config)
        return (.added, score)
    }

    /// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...].
    func zaddCommand(_ c: Client) throws {
        var f = ZAddFlags()
        var i = 2
        scan: while i < c.argc {
            switch c.option(i) {
            case "NX": f.nx = true
            case "XX": f.xx = true
            case "GT": f.gt = true
            case "LT": f.lt = true
            case "CH": f.ch = true
            case "INCR": f.incr = true
            default: break scan
            }
            i += 1
        }
        let elements = c.argc - i
        guard elements > 0, elements % 2 == 0 else { throw CommandError.syntax }
        if f.nx && f.xx { throw CommandError("ERR XX and NX options at the same time are not compatible") }
        if (f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt) {
            throw CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if f.incr && elements > 2 { throw CommandError("ERR INCR option supports a single increment-element pair") }
        var pairs: [(Double, Key)] = []
        pairs.reserveCapacity(elements / 2)
        for j in stride(from: i, to: c.argc, by: 2) { pairs.append((try CollectionArgs.double(c.arg(j)), c.key(j + 1))) }
        let key = c.key(1)
        var added = 0, updated = 0
        var last: (ZAddOutcome, Double) = (.skipped, 0)
        let isNew = lookupWrite(c.db, key) == nil
        if let z = try writeZSet(c.db, key, create: !f.xx) {
            // Like zsetTypeCreate's size hint: a big first ZADD makes a skiplist at once.
            if isNew && (pairs.count > config.zsetMaxListpackEntries || pairs.contains { $0.1.bytes.count > config.zsetMaxListpackValue }) {
                z.wasSkiplist = true
            }
            defer {
                if added + updated > 0 {
                    dirty += added + updated
                    signalModifiedKey(c.db, key)
                    notifyKeyspaceEvent(.zset, f.incr ? "zincr" : "zadd", c.db, key)
                }
                deleteIfEmpty(c.db, key)
            }
            for (score, member) in pairs {
                last = try zsetAdd(z, member, score, f)
                if last.0 == .added { added += 1 } else if last.0 == .updated { updated += 1 }
            }
        }
        if f.incr {
            if last.0 == .skipped { c.out.null() } else { c.out.double(last.1) }
        } else {
            c.out.integer(f.ch ? added + updated : added)
        }
    }

    /// ZINCRBY key increment member.
    func zincrbyCommand(_ c: Client) throws {
        let incr = try CollectionArgs.double(c.arg(2))
        let key = c.key(1)
        guard let z = try writeZSet(c.db, key, create: true) else { return }
        var f = ZAddFlags()
        f.incr = true
        do {
            let (_, score) = try zsetAdd(z, c.key(3), incr, f)
            dirty += 1
            signalModifiedKey(c.db, key)
            notifyKeyspaceEvent(.zset, "zincr", c.db, key)
            c.out.double(score)
        } catch {
            deleteIfEmpty(c.db, key)
            throw error
        }
    }

    // MARK: - Single-member reads and removal

    /// ZRANK/ZREVRANK key member.
    func zrankCommand(_ c: Client, reverse: Bool) throws {
        guard let z = try readZSet(c.db, c.key(1)), let r = z.rank(c.key(2)) else { c.out.null(); return }
        c.out.integer(reverse ? z.count - 1 - r : r)
    }

    /// ZREM key member [member ...].
    func zremCommand(_ c: Client) throws {
        let key = c.key(1)
        guard let z = try writeZSet(c.db, key, create: false) else { c.out.integer(0); return }
        var removed = 0
        for i in 2..<c.argc where z.remove(c.key(i)) { removed += 1 }
        if removed > 0 {
            dirty += removed
            signalModifiedKey(c.db, key)
            notifyKeyspaceEvent(.zset, "zrem", c.db, key)
            deleteIfEmpty(c.db, key)
        }
        c.out.integer(removed)
    }

    // MARK: - Pops

    /// Removes up to `n` elements from the low (min) or high end.
    func zpopMany(_ c: Client, _ key: Key, _ z: SortedSetValue, _ n: Int, min: Bool) -> [(member: Bytes, score: Double)] {
        let take = Swift.min(n, z.count)
        let items = min ? z.index.slice(0, take, reverse: false) : z.index.slice(z.count - take, z.count, reverse: true)
        for (m, _) in items { z.remove(Key(m)) }
        if !items.isEmpty {
            dirty += items.count
            signalModifiedKey(c.db, key)
            notifyKeyspaceEvent(.zset, min ? "zpopmin" : "zpopmax", c.db, key)
            deleteIfEmpty(c.db, key)
        }
        return items
    }

    /// ZPOPMIN/ZPOPMAX key [count].
    func zpopCommand(_ c: Client, min: Bool) throws {
        guard c.argc <= 3 else { throw CommandError.syntax }
        var count = 1
        if c.argc == 3 { count = try CollectionArgs.positiveCount(c.arg(2)) }
        let key = c.key(1)
        guard let z = try writeZSet(c.db, key, create: false) else { c.out.arrayHeader(0); return }
        let items = zpopMany(c, key, z, count, min: min)
        // With an explicit count RESP3 gets pairs; without, one flat member/score array.
        let pairs = c.argc == 3 && c.proto >= 3
        c.out.arrayHeader(pairs ? items.count : items.count * 2)
        for (m, s) in items {
            if pairs { c.out.arrayHeader(2) }
            c.out.bulk(m)
            c.out.double(s)
        }
    }

    /// ZMPOP/BZMPOP: `first` is the numkeys argument's position.
    func zmpopCommand(_ c: Client, first: Int, timeout: Int64?) throws {
        let (keys, min, count) = try parseMpop(c, first: first, zset: true)
        for key in keys {
            guard let zs = try zsetForPop(c.db, key), zs.count > 0 else { continue }
            let items = zpopMany(c, key, zs, count, min: min)
            propagateAs([(min ? "ZPOPMIN" : "ZPOPMAX").bytes, key.bytes, String(items.count).bytes])
            c.out.arrayHeader(2)
            c.out.bulk(key.bytes)
            c.out.arrayHeader(items.count)
            for (m, s) in items {
                c.out.arrayHeader(2)
                c.out.bulk(m)
                c.out.double(s)
            }
            return
        }
        if let t = timeout, canBlock(c) {
            blockClient(c, keys: keys, timeout: t)
        } else {
            c.out.nullArray()
        }
    }
}

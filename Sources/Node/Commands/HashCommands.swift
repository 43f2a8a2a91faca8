// Hash commands (t_hash.c). Field order is the dictionary's; Redis's small listpack hashes keep
// insertion order, which clients must not rely on (tests compare these replies as multisets).
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension CommandTable {
    /// The hash family.
    static var hashes: [CommandSpec] {
        let w: CommandFlags = [.write, .denyOOM, .fast]
        let r: CommandFlags = [.readonly, .fast]
        let cat = ["write", "hash", "fast"], rcat = ["read", "hash", "fast"]
        return [
            CommandSpec("hset", -4, w, cat, keys: (1, 1, 1)) { s, c in try s.hsetCommand(c, legacy: false) },
            CommandSpec("hmset", -4, w, cat, keys: (1, 1, 1)) { s, c in try s.hsetCommand(c, legacy: true) },
            CommandSpec("hsetnx", 4, w, cat, keys: (1, 1, 1)) { s, c in try s.hsetnxCommand(c) },
            CommandSpec("hget", 3, r, rcat, keys: (1, 1, 1)) { s, c in
                c.out.bulkOrNull(try s.readHash(c.db, c.key(1))?.fields[c.key(2)])
            },
            CommandSpec("hmget", -3, r, rcat, keys: (1, 1, 1)) { s, c in
                let h = try s.readHash(c.db, c.key(1))
                c.out.arrayHeader(c.argc - 2)
                for i in 2..<c.argc { c.out.bulkOrNull(h?.fields[c.key(i)]) }
            },
            CommandSpec("hgetall", 2, [.readonly], ["read", "hash", "slow"], keys: (1, 1, 1)) { s, c in
                let h = try s.readHash(c.db, c.key(1))
                c.out.mapHeader(h?.count ?? 0)
                for (k, v) in h?.fields ?? [:] { c.out.bulk(k.bytes); c.out.bulk(v) }
            },
            CommandSpec("hkeys", 2, [.readonly], ["read", "hash", "slow"], keys: (1, 1, 1)) { s, c in
                let h = try s.readHash(c.db, c.key(1))
                c.out.arrayHeader(h?.count ?? 0)
                for k in h?.fields.keys ?? [:].keys { c.out.bulk(k.bytes) }
            },
            CommandSpec("hvals", 2, [.readonly], ["read", "hash", "slow"], keys: (1, 1, 1)) { s, c in
                let h = try s.readHash(c.db, c.key(1))
                c.out.arrayHeader(h?.count ?? 0)
                for v in h?.fields.values ?? [:].values { c.out.bulk(v) }
            },
            CommandSpec("hdel", -3, [.write, .fast], cat, keys: (1, 1, 1)) { s, c in try s.hdelCommand(c) },
            CommandSpec("hlen", 2, r, rcat, keys: (1, 1, 1)) { s, c in c.out.integer(try s.readHash(c.db, c.key(1))?.count ?? 0) },
            CommandSpec("hexists", 3, r, rcat, keys: (1, 1, 1)) { s, c in
                c.out.integer(try s.readHash(c.db, c.key(1))?.fields[c.key(2)] != nil ? 1 : 0)
            },
            CommandSpec("hstrlen", 3, r, rcat, keys: (1, 1, 1)) { s, c in
                c.out.integer(try s.readHash(c.db, c.key(1))?.fields[c.key(2)]?.count ?? 0)
            },
            CommandSpec("hincrby", 4, w, cat, keys: (1, 1, 1)) { s, c in try s.hincrbyCommand(c) },
            CommandSpec("hincrbyfloat", 4, w, cat, keys: (1, 1, 1)) { s, c in try s.hincrbyfloatCommand(c) },
            CommandSpec("hrandfield", -2, [.readonly], ["read", "hash", "slow"], keys: (1, 1, 1)) { s, c in try s.hrandfieldCommand(c) },
            CommandSpec("hscan", -3, [.readonly], ["read", "hash", "slow"], keys: (1, 1, 1)) { s, c in try s.hscanCommand(c) },
        ]
    }
}

extension Server {
    /// HSET (reply: new fields) and HMSET (reply: OK).
    func hsetCommand(_ c: Client, legacy: Bool) throws {
        guard c.argc % 2 == 0 else { throw CommandError.wrongArity(legacy ? "hmset" : "hset") }
        let key = c.key(1)
        guard let h = try writeHash(c.db, key, create: true) else { return }
        var created = 0
        h.scanOrder = nil
        for i in stride(from: 2, to: c.argc, by: 2) {
            if h.fields.updateValue(c.arg(i + 1), forKey: c.key(i)) == nil { created += 1 }
            h.noteWrite(c.arg(i), c.arg(i + 1), config)
        }
        dirty += (c.argc - 2) / 2
        signalModifiedKey(c.db, key)
        notifyKeyspaceEvent(.hash, "hset", c.db, key)
        if legacy { c.out.ok() } else { c.out.integer(created) }
    }

    /// HSETNX key field value.
    func hsetnxCommand(_ c: Client) throws {
        let key = c.key(1)
        if let h = try readHashForWrite(c.db, key), h.fields[c.key(2)] != nil { c.out.integer(0); return }
        guard let h = try writeHash(c.db, key, create: true) else { return }
        h.scanOrder = nil
        h.fields[c.key(2)] = c.arg(3)
        h.noteWrite(c.arg(2), c.arg(3), config)
        dirty += 1
        signalModifiedKey(c.db, key)
        notifyKeyspaceEvent(.hash, "hset", c.db, key)
        c.out.integer(1)
    }

    /// The hash at `key` for writing, without creating it.
    func readHashForWrite(_ db: Database, _ key: Key) throws -> HashValue? { try writeHash(db, key, create: false) }

    /// HDEL key field [field ...].
    func hdelCommand(_ c: Client) throws {
        let key = c.key(1)
        guard let h = try writeHash(c.db, key, create: false) else { c.out.integer(0); return }
        var deleted = 0
        h.scanOrder = nil
        for i in 2..<c.argc where h.fields.removeValue(forKey: c.key(i)) != nil { deleted += 1 }
        if deleted > 0 {
            dirty += deleted
            signalModifiedKey(c.db, key)
            notifyKeyspaceEvent(.hash, "hdel", c.db, key)
            deleteIfEmpty(c.db, key)
        }
        c.out.integer(deleted)
    }

    /// HINCRBY key field increment.
    func hincrbyCommand(_ c: Client) throws {
        let incr = try CollectionArgs.long(c.arg(3))
        let key = c.key(1), field = c.key(2)
        var current = 0
        if let h = try readHashForWrite(c.db, key), let v = h.fields[field] {
            guard let n = NumberFormat.parseInt(v) else { throw CommandError("ERR hash value is not an integer") }
            current = Int(n)
        }
        let (sum, overflow) = current.addingReportingOverflow(incr)
        if overflow { throw CommandError.overflow }
        guard let h = try writeHash(c.db, key, create: true) else { return }
        let text = String(sum).bytes
        h.scanOrder = nil
        h.fields[field] = text
        h.noteWrite(field.bytes, text, config)
        dirty += 1
        signalModifiedKey(c.db, key)
        notifyKeyspaceEvent(.hash, "hincrby", c.db, key)
        c.out.integer(sum)
    }

    /// HINCRBYFLOAT key field increment, in long-double arithmetic like Redis.
    func hincrbyfloatCommand(_ c: Client) throws {
        guard let incr = LongDouble.parse(c.arg(3)) else { throw CommandError.notFloat }
        guard incr.isFinite else { throw CommandError("ERR value is NaN or Infinity") }
        let key = c.key(1), field = c.key(2)
        var current: LongDouble = 0
        if let h = try readHashForWrite(c.db, key), let v = h.fields[field] {
            guard let n = LongDouble.parse(v) else { throw CommandError("ERR hash value is not a float") }
            current = n
        }
        let sum = current + incr
        guard sum.isFinite else { throw CommandError("ERR increment would produce NaN or Infinity") }
        guard let h = try writeHash(c.db, key, create: true) else { return }
        let text = LongDouble.humanString(sum).bytes
        h.scanOrder = nil
        h.fields[field] = text
        h.noteWrite(field.bytes, text, config)
        dirty += 1
        signalModifiedKey(c.db, key)
        notifyKeyspaceEvent(.hash, "hincrbyfloat", c.db, key)
        // Replicas must not redo the float math: propagate the result as HSET.
        propagateAs(["HSET".bytes, key.bytes, field.bytes, text])
        c.out.bulk(text)
    }

    /// HRANDFIELD key [count [WITHVALUES]].
    func hrandfieldCommand(_ c: Client) throws {
        guard c.argc >= 3 else {
            guard let h = try readHash(c.db, c.key(1)), let k = RandomPick.one(h.fields.keys) else { c.out.null(); return }
            c.out.bulk(k.bytes)
            return
        }
        let count = try RandomPick.count(c.arg(2))
        var withValues = false
        if c.argc == 4 {
            guard c.option(3) == "WITHVALUES" else { throw CommandError.syntax }
            withValues = true
        } else if c.argc > 4 {
            throw CommandError.syntax
        }
        if withValues && count < -Int64.max / 2 { throw CommandError("ERR value is out of range") }
        guard let h = try readHash(c.db, c.key(1)) else { c.out.arrayHeader(0); return }
        let picked = RandomPick.keys(h.fields.keys, total: h.count, count: Int(count))
        if withValues {
            if c.proto >= 3 { c.out.arrayHeader(picked.count) } else { c.out.arrayHeader(picked.count * 2) }
            for k in picked {
                if c.proto >= 3 { c.out.arrayHeader(2) }
                c.out.bulk(k.bytes)
                c.out.bulk(h.fields[k] ?? [])
            }
        } else {
            c.out.arrayHeader(picked.count)
            for k in picked { c.out.bulk(k.bytes) }
        }
    }

    /// HSCAN key cursor [MATCH p] [COUNT n].
    func hscanCommand(_ c: Client) throws {
        let cursor = try CollectionArgs.cursor(c.arg(2))
        let opts = try ScanCursor.options(c, from: 3)
        guard let h = try readHash(c.db, c.key(1)) else {
            c.out.arrayHeader(2); c.out.bulk("0"); c.out.arrayHeader(0); return
        }
        var keys: [Key]
        var next: UInt64 = 0
        if h.isListpack(config) {
            keys = Array(h.fields.keys)
        } else {
            if h.scanOrder == nil { h.scanOrder = ScanCursor.order(h.fields.keys) }
            (keys, next) = ScanCursor.step(h.scanOrder ?? [], cursor: cursor, count: opts.count)
        }
        if let p = opts.pattern { keys = keys.filter { ScanCursor.matches(p, $0.bytes) } }
        c.out.arrayHeader(2)
        c.out.bulk(String(next))
        c.out.arrayHeader(keys.count * 2)
        for k in keys { c.out.bulk(k.bytes); c.out.bulk(h.fields[k] ?? []) }
    }
}

/// Random selection as HRANDFIELD/SRANDMEMBER/ZRANDMEMBER define it: a negative count allows
/// repeats, a positive one returns distinct elements (all of them when count >= size).
enum RandomPick {
    /// The count argument, in -LONG_MAX...LONG_MAX as Redis checks it.
    static func count(_ b: Bytes) throws -> Int64 {
        guard let v = NumberFormat.parseInt(b) else { throw CommandError.notInteger }
        guard v != Int64.min else {
            throw CommandError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        }
        return v
    }

    /// Picks `count` keys from `all` (see the type's doc).
    /// One element, uniformly random for small collections. Swift's hashed collections have no
    /// O(1) random access, so large ones pick among the first few elements of a random-seeded hash
    /// order instead of walking O(n) per call (draining a big set with SPOP stays linear).
    static func one<C: Collection>(_ all: C) -> C.Element? {
        let n = all.count
        guard n > 0 else { return nil }
        let offset = Int.random(in: 0..<Swift.min(n, 256))
        return all[all.index(all.startIndex, offsetBy: offset)]
    }

    static func keys<C: Collection>(_ all: C, total: Int, count: Int) -> [Key] where C.Element == Key {
        if count == 0 || total == 0 { return [] }
        if count < 0 {
            let arr = Array(all)
            return (0..<(-count)).map { _ in arr[Int.random(in: 0..<arr.count)] }
        }
        if count >= total { return Array(all) }
        var arr = Array(all)
        arr.shuffle()
        return Array(arr.prefix(count))
    }
}


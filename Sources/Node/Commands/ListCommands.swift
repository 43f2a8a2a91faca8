// List commands (t_list.c): pushes, pops, ranges, edits and moves. The blocking variants live in
// ListCommands+Blocking.swift and share the pop/move helpers here.
import Shared

extension CommandTable {
    /// The list family.
    static var lists: [CommandSpec] {
        let w: CommandFlags = [.write, .denyOOM, .fast]
        let r: CommandFlags = [.readonly]
        let cat = ["write", "list"], rcat = ["read", "list"]
        return [
            CommandSpec("lpush", -3, w, cat + ["fast"], keys: (1, 1, 1)) { s, c in try s.pushGeneric(c, front: true, onlyExisting: false) },
            CommandSpec("rpush", -3, w, cat + ["fast"], keys: (1, 1, 1)) { s, c in try s.pushGeneric(c, front: false, onlyExisting: false) },
            CommandSpec("lpushx", -3, w, cat + ["fast"], keys: (1, 1, 1)) { s, c in try s.pushGeneric(c, front: true, onlyExisting: true) },
            CommandSpec("rpushx", -3, w, cat + ["fast"], keys: (1, 1, 1)) { s, c in try s.pushGeneric(c, front: false, onlyExisting: true) },
            CommandSpec("lpop", -2, [.write, .fast], cat + ["fast"], keys: (1, 1, 1)) { s, c in try s.popCommand(c, front: true) },
            CommandSpec("rpop", -2, [.write, .fast], cat + ["fast"], keys: (1, 1, 1)) { s, c in try s.popCommand(c, front: false) },
            CommandSpec("llen", 2, [.readonly, .fast], rcat + ["fast"], keys: (1, 1, 1)) { s, c in
                c.out.integer(try s.readList(c.db, c.key(1))?.count ?? 0)
            },
            CommandSpec("lrange", 4, r, rcat + ["slow"], keys: (1, 1, 1)) { s, c in try s.lrangeCommand(c) },
            CommandSpec("lindex", 3, r, rcat + ["slow"], keys: (1, 1, 1)) { s, c in try s.lindexCommand(c) },
            CommandSpec("lset", 4, [.write, .denyOOM], cat + ["slow"], keys: (1, 1, 1)) { s, c in try s.lsetCommand(c) },
            CommandSpec("lrem", 4, [.write], cat + ["slow"], keys: (1, 1, 1)) { s, c in try s.lremCommand(c) },
            CommandSpec("ltrim", 4, [.write], cat + ["slow"], keys: (1, 1, 1)) { s, c in try s.ltrimCommand(c) },
            CommandSpec("linsert", 5, [.write, .denyOOM], cat + ["slow"], keys: (1, 1, 1)) { s, c in try s.linsertCommand(c) },
            CommandSpec("lpos", -3, r, rcat + ["slow"], keys: (1, 1, 1)) { s, c in try s.lposCommand(c) },
            CommandSpec("lmove", 5, [.write, .denyOOM], cat + ["slow"], keys: (1, 2, 1)) { s, c in
                let (from, to) = try s.parseEnds(c, 3)
                try s.moveCommand(c, src: c.key(1), dst: c.key(2), fromFront: from, toFront: to, timeout: nil)
            },
            CommandSpec("rpoplpush", 3, [.write, .denyOOM], cat + ["slow"], keys: (1, 2, 1)) { s, c in
                try s.moveCommand(c, src: c.key(1), dst: c.key(2), fromFront: false, toFront: true, timeout: nil)
            },
            CommandSpec("lmpop", -4, [.write], cat + ["slow"], keys: (2, 2, 1)) { s, c in try s.mpopCommand(c, first: 1, timeout: nil) },
        ] + blockingLists
    }
}

extension Server {
    // MARK: - Push and pop

    /// LPUSH, RPUSH, LPUSHX, RPUSHX.
    func pushGeneric(_ c: Client, front: Bool, onlyExisting: Bool) throws {
        let key = c.key(1)
        guard let l = try writeList(c.db, key, create: !onlyExisting) else { c.out.integer(0); return }
        for i in 2..<c.argc {
            if front { l.pushFront(c.arg(i)) } else { l.pushBack(c.arg(i)) }
        }
        dirty += c.argc - 2
        signalModifiedKey(c.db, key)
        notifyKeyspaceEvent(.list, front ? "lpush" : "rpush", c.db, key)
        c.out.integer(l.count)
    }

    /// LPOP/RPOP with optional count (null bulk, or null array with a count, on a missing key).
    func popCommand(_ c: Client, front: Bool) throws {
        guard c.argc <= 3 else { throw CommandError.wrongArity(front ? "lpop" : "rpop") }
        let key = c.key(1)
        var count: Int? = nil
        if c.argc == 3 { count = try CollectionArgs.positiveCount(c.arg(2)) }
        guard let l = try writeList(c.db, key, create: false) else {
            if count != nil { c.out.nullArray() } else { c.out.null() }
            return
        }
        guard let n = count else {
            c.out.bulkOrNull(front ? l.popFront() : l.popBack())
            listPopped(c.db, key, 1, front ? "lpop" : "rpop")
            return
        }
        if n == 0 { c.out.arrayHeader(0); return }  // Redis 7.0: an empty array, nothing changes
        let items = popMany(l, n, front: front)
        c.out.bulks(items)
        listPopped(c.db, key, items.count, front ? "lpop" : "rpop")
    }

    /// Pops up to `n` elements from one end, in pop order.
    func popMany(_ l: ListValue, _ n: Int, front: Bool) -> [Bytes] {
        var items: [Bytes] = []
        items.reserveCapacity(Swift.min(n, l.count))
        while items.count < n, let v = front ? l.popFront() : l.popBack() { items.append(v) }
        return items
    }

    /// Bookkeeping after removing elements from a list: dirty, signal, the `event` keyspace
    /// event, then empty-key deletion (and its `del` event), in Redis's order.
    func listPopped(_ db: Database, _ key: Key, _ n: Int, _ event: StaticString) {
        guard n > 0 else { return }
        dirty += n
        signalModifiedKey(db, key)
        notifyKeyspaceEvent(.list, event, db, key)
        deleteIfEmpty(db, key)
    }

    // MARK: - Reading

    /// Resolves Redis's start/end indexes (negative from the end) to a clamped half-open range.
    func listRange(_ startArg: Bytes, _ endArg: Bytes, count: Int) throws -> Range<Int>? {
        var start = try CollectionArgs.long(startArg)
        var end = try CollectionArgs.long(endArg)
        if start < 0 { start = count + start }
        if end < 0 { end = count + end }
        if start < 0 { start = 0 }
        if start > end || start >= count { return nil }
        if end >= count { end = count - 1 }
        return start..<(end + 1)
    }

    /// LRANGE key start stop.
    func lrangeCommand(_ c: Client) throws {
        _ = try CollectionArgs.long(c.arg(2)); _ = try CollectionArgs.long(c.arg(3))
        guard let l = try readList(c.db, c.key(1)) else { c.out.arrayHeader(0); return }
        guard let r = try listRange(c.arg(2), c.arg(3), count: l.count) else { c.out.arrayHeader(0); return }
        c.out.arrayHeader(r.count)
        for i in r { c.out.bulk(l[i]) }
    }

    /// LINDEX key index.
    func lindexCommand(_ c: Client) throws {
        let idx = try CollectionArgs.long(c.arg(2))
        guard let l = try readList(c.db, c.key(1)) else { c.out.null(); return }
        let i = idx < 0 ? l.count + idx : idx
        guard i >= 0 && i < l.count else { c.out.null(); return }
        c.out.bulk(l[i])
    }

    /// LPOS key element [RANK r] [COUNT n] [MAXLEN m].
    func lposCommand(_ c: Client) throws {
        let element = c.arg(2)
        var rank = 1, count = -1, maxlen = 0
        var i = 3
        while i < c.argc {
            let opt = c.option(i)
            guard i + 1 < c.argc else { throw CommandError.syntax }
            switch opt {
            case "RANK":
                rank = try CollectionArgs.long(c.arg(i + 1))
                if rank == 0 {
                    throw CommandError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
                }
            case "COUNT":
                count = try CollectionArgs.long(c.arg(i + 1))
                if count < 0 { throw CommandError("ERR COUNT can't be negative") }
            case "MAXLEN":
                maxlen = try CollectionArgs.long(c.arg(i + 1))
                if maxlen < 0 { throw CommandError("ERR MAXLEN can't be negative") }
            default: throw CommandError.syntax
            }
            i += 2
        }
        let wantArray = count >= 0
        guard let l = try readList(c.db, c.key(1)) else {
            if wantArray { c.out.arrayHeader(0) } else { c.out.null() }
            return
        }
        let n = l.count
        var matches: [Int] = []
        // Redis negates the rank in a C long: LONG_MIN stays negative and matches like -1.
        var skip = rank == Int.min ? 0 : Swift.abs(rank) - 1
        let limit = count == 0 ? Int.max : (wantArray ? count : 1)
        var scanned = 0
        var idx = rank > 0 ? 0 : n - 1
        while idx >= 0 && idx < n && (maxlen == 0 || scanned < maxlen) {
            if l[idx] == element {
                if skip > 0 { skip -= 1 } else {
                    matches.append(idx)
                    if matches.count >= limit { break }
                }
            }
            scanned += 1
            idx += rank > 0 ? 1 : -1
        }
        if wantArray {
            c.out.arrayHeader(matches.count)
            for m in matches { c.out.integer(m) }
        } else if let m = matches.first {
            c.out.integer(m)
        } else {
            c.out.null()
        }
    }

    // MARK: - Editing

    /// LSET key index element.
    func lsetCommand(_ c: Client) throws {
        let idx = try CollectionArgs.long(c.arg(2))
        let key = c.key(1)
        guard let l = try writeList(c.db, key, create: false) else { throw CommandError.noSuchKey }
        let i = idx < 0 ? l.count + idx : idx
        guard i >= 0 && i < l.count else { throw CommandError.outOfRange }
        l[i] = c.arg(3)
        dirty += 1
        signalModifiedKey(c.db, key)
        notifyKeyspaceEvent(.list, "lset", c.db, key)
        c.out.ok()
    }

    /// LREM key count element: from the head if count >= 0, else from the tail.
    func lremCommand(_ c: Client) throws {
        let toRemove = try CollectionArgs.long(c.arg(2))
        let key = c.key(1)
        let element = c.arg(3)
        guard let l = try writeList(c.db, key, create: false) else { c.out.integer(0); return }
        var items = Array(l.elements)
        var removed = 0
        let limit = toRemove == 0 ? Int.max : toRemove.magnitude > UInt(Int.max) ? Int.max : Swift.abs(toRemove)
        if toRemove >= 0 {
            var out: [Bytes] = []
            out.reserveCapacity(items.count)
            for e in items {
                if removed < limit && e == element { removed += 1 } else { out.append(e) }
            }
            items = out
        } else {
            var out: [Bytes] = []
            for e in items.reversed() {
                if removed < limit && e == element { removed += 1 } else { out.append(e) }
            }
            items = out.reversed()
        }
        if removed > 0 {
            l.replace(items)
            listPopped(c.db, key, removed, "lrem")
        }
        c.out.integer(removed)
    }

    /// LTRIM key start stop.
    func ltrimCommand(_ c: Client) throws {
        let key = c.key(1)
        _ = try CollectionArgs.long(c.arg(2)); _ = try CollectionArgs.long(c.arg(3))
        guard let l = try writeList(c.db, key, create: false) else { c.out.ok(); return }
        let before = l.count
        if let r = try listRange(c.arg(2), c.arg(3), count: l.count) {
            if r.count != before { l.replace(Array(l.elements.dropFirst(r.lowerBound).prefix(r.count))) }
        } else {
            l.replace([])
        }
        let removed = before - l.count
        if removed > 0 { listPopped(c.db, key, removed, "ltrim") }
        c.out.ok()
    }

    /// LINSERT key BEFORE|AFTER pivot element.
    func linsertCommand(_ c: Client) throws {
        let opt = c.option(2)
        guard opt == "BEFORE" || opt == "AFTER" else { throw CommandError.syntax }
        let key = c.key(1)
        guard let l = try writeList(c.db, key, create: false) else { c.out.integer(0); return }
        let pivot = c.arg(3)
        guard let pos = l.elements.firstIndex(of: pivot) else { c.out.integer(-1); return }
        let at = pos - l.head + (opt == "AFTER" ? 1 : 0)
        var items = Array(l.elements)
        items.insert(c.arg(4), at: at)
        l.replace(items)
        dirty += 1
        signalModifiedKey(c.db, key)
        notifyKeyspaceEvent(.list, "linsert", c.db, key)
        c.out.integer(l.count)
    }

    // MARK: - Moves

    /// Parses a `LEFT|RIGHT LEFT|RIGHT` pair at `i`; true means the head (LEFT).
    func parseEnds(_ c: Client, _ i: Int) throws -> (Bool, Bool) {
        func end(_ j: Int) throws -> Bool {
            switch c.option(j) {
            case "LEFT": return true
            case "RIGHT": return false
            default: throw CommandError.syntax
            }
        }
        return (try end(i), try end(i + 1))
    }

    /// LMOVE/RPOPLPUSH and their blocking forms (`timeout` non-nil).
    func moveCommand(_ c: Client, src: Key, dst: Key, fromFront: Bool, toFront: Bool, timeout: Int64?) throws {
        guard let l = try listForPop(c.db, src), l.count > 0 else {
            if let t = timeout, canBlock(c) {
                blockClient(c, keys: [src], timeout: t)
            } else {
                c.out.null()
            }
            return
        }
        // The destination's type is checked before anything is popped.
        if let v = lookupWrite(c.db, dst) { guard case .list = v else { throw CommandError.wrongType } }
        guard let value = fromFront ? l.popFront() : l.popBack() else { c.out.null(); return }
        listPopped(c.db, src, 1, fromFront ? "lpop" : "rpop")
        if let d = try writeList(c.db, dst, create: true) {
            if toFront { d.pushFront(value) } else { d.pushBack(value) }
            dirty += 1
            signalModifiedKey(c.db, dst)
            notifyKeyspaceEvent(.list, toFront ? "lpush" : "rpush", c.db, dst)
        }
        if timeout != nil {
            propagateAs(["LMOVE".bytes, src.bytes, dst.bytes, (fromFront ? "LEFT" : "RIGHT").bytes, (toFront ? "LEFT" : "RIGHT").bytes])
        }
        c.out.bulk(value)
    }

    /// LMPOP/BLMPOP: `first` is the numkeys argument's position.
    func mpopCommand(_ c: Client, first: Int, timeout: Int64?) throws {
        let (keys, front, count) = try parseMpop(c, first: first, zset: false)
        for key in keys {
            guard let list = try listForPop(c.db, key), list.count > 0 else { continue }
            let items = popMany(list, count, front: front)
            listPopped(c.db, key, items.count, front ? "lpop" : "rpop")
            propagateAs([(front ? "LPOP" : "RPOP").bytes, key.bytes, String(items.count).bytes])
            c.out.arrayHeader(2)
            c.out.bulk(key.bytes)
            c.out.bulks(items)
            return
        }
        if let t = timeout, canBlock(c) {
            blockClient(c, keys: keys, timeout: t)
        } else {
            c.out.nullArray()
        }
    }

    /// Parses `numkeys key... LEFT|RIGHT|MIN|MAX [COUNT n]` from `first`.
    func parseMpop(_ c: Client, first: Int, zset: Bool) throws -> ([Key], Bool, Int) {
        guard let n = NumberFormat.parseInt(c.arg(first)), n > 0 else {
            throw CommandError("ERR numkeys should be greater than 0")
        }
        guard Int(n) <= c.argc - first - 2 else { throw CommandError.syntax }
        let keys = (0..<Int(n)).map { c.key(first + 1 + $0) }
        let whereIdx = first + 1 + Int(n)
        let front: Bool
        switch c.option(whereIdx) {
        case "LEFT" where !zset, "MIN" where zset: front = true
        case "RIGHT" where !zset, "MAX" where zset: front = false
        default: throw CommandError.syntax
        }
        var count = 1
        var i = whereIdx + 1
        var sawCount = false
        while i < c.argc {
            guard c.option(i) == "COUNT", i + 1 < c.argc, !sawCount else { throw CommandError.syntax }
            guard let v = NumberFormat.parseInt(c.arg(i + 1)), v > 0 else {
                throw CommandError("ERR count should be greater than 0")
            }
            count = Int(v)
            sawCount = true
            i += 2
        }
        return (keys, front, count)
    }
}

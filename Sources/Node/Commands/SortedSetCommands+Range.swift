// Sorted-set ranges: ZRANGE in all its forms (rank, score, lex; REV; LIMIT; STORE), the legacy
// ZRANGEBYSCORE/ZREVRANGE... commands, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*, ZRANDMEMBER and ZSCAN.
// Every range is resolved to ascending ranks [lo, hi) on the skiplist, then walked.
import Shared

extension CommandTable {
    /// Range commands of the sorted-set family.
    static var sortedSetRanges: [CommandSpec] {
        let r: CommandFlags = [.readonly]
        let rcat = ["read", "sortedset", "slow"], wcat = ["write", "sortedset", "slow"]
        return [
            CommandSpec("zrange", -4, r, rcat, keys: (1, 1, 1)) { s, c in try s.zrangeGeneric(c, .auto, reverse: nil, store: false) },
            CommandSpec("zrangestore", -5, [.write, .denyOOM], wcat, keys: (1, 2, 1)) { s, c in try s.zrangeGeneric(c, .auto, reverse: nil, store: true) },
            CommandSpec("zrevrange", -4, r, rcat, keys: (1, 1, 1)) { s, c in try s.zrangeGeneric(c, .rank, reverse: true, store: false) },
            CommandSpec("zrangebyscore", -4, r, rcat, keys: (1, 1, 1)) { s, c in try s.zrangeGeneric(c, .score, reverse: false, store: false) },
            CommandSpec("zrevrangebyscore", -4, r, rcat, keys: (1, 1, 1)) { s, c in try s.zrangeGeneric(c, .score, reverse: true, store: false) },
            CommandSpec("zrangebylex", -4, r, rcat, keys: (1, 1, 1)) { s, c in try s.zrangeGeneric(c, .lex, reverse: false, store: false) },
            CommandSpec("zrevrangebylex", -4, r, rcat, keys: (1, 1, 1)) { s, c in try s.zrangeGeneric(c, .lex, reverse: true, store: false) },
            CommandSpec("zcount", 4, [.readonly, .fast], ["read", "sortedset", "fast"], keys: (1, 1, 1)) { s, c in
                let range = try ScoreRange(c.arg(2), c.arg(3))
                guard let z = try s.readZSet(c.db, c.key(1)) else { c.out.integer(0); return }
                c.out.integer(s.zscoreRanks(z, range).count)
            },
            CommandSpec("zlexcount", 4, [.readonly, .fast], ["read", "sortedset", "fast"], keys: (1, 1, 1)) { s, c in
                let range = try LexRange(c.arg(2), c.arg(3))
                guard let z = try s.readZSet(c.db, c.key(1)) else { c.out.integer(0); return }
                c.out.integer(s.zlexRanks(z, range).count)
            },
            CommandSpec("zremrangebyrank", 4, [.write], wcat, keys: (1, 1, 1)) { s, c in try s.zremrangeCommand(c, .rank) },
            CommandSpec("zremrangebyscore", 4, [.write], wcat, keys: (1, 1, 1)) { s, c in try s.zremrangeCommand(c, .score) },
            CommandSpec("zremrangebylex", 4, [.write], wcat, keys: (1, 1, 1)) { s, c in try s.zremrangeCommand(c, .lex) },
            CommandSpec("zrandmember", -2, r, rcat, keys: (1, 1, 1)) { s, c in try s.zrandmemberCommand(c) },
            CommandSpec("zscan", -3, r, rcat, keys: (1, 1, 1)) { s, c in try s.zscanCommand(c) },
        ]
    }
}

/// How ZRANGE interprets its start and stop.
enum ZRangeType { case auto, rank, score, lex }

extension Server {
    /// Ascending ranks of the elements within a score range.
    func zscoreRanks(_ z: SortedSetValue, _ r: ScoreRange) -> Range<Int> {
        let lo = z.index.countWhile { r.isBelow($0.score) }
        let hi = z.index.countWhile { r.isWithinMax($0.score) }
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// Ascending ranks of the elements within a lex range.
    func zlexRanks(_ z: SortedSetValue, _ r: LexRange) -> Range<Int> {
        let lo = z.index.countWhile { r.isBelow($0.member) }
        let hi = z.index.countWhile { r.isWithinMax($0.member) }
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// Ascending ranks for Redis's start/stop rank arguments (negative from the end); `reverse`
    /// reads them from the top.
    func zrankRanks(_ count: Int, _ startArg: Int, _ endArg: Int, reverse: Bool) -> Range<Int> {
        var start = startArg, end = endArg
        if start < 0 { start += count }
        if end < 0 { end += count }
        if start < 0 { start = 0 }
        if start > end || start >= count { return 0..<0 }
        if end >= count { end = count - 1 }
        return reverse ? (count - 1 - end)..<(count - start) : start..<(end + 1)
    }

    /// ZRANGE in every form, ZRANGESTORE, and the legacy ZREVRANGE/ZRANGEBYSCORE/ZRANGEBYLEX family.
    func zrangeGeneric(_ c: Client, _ fixedType: ZRangeType, reverse fixedReverse: Bool?, store: Bool) throws {
        let base = store ? 2 : 1
        var type = fixedType
        var reverse = fixedReverse
        var withScores = false
        var offset = 0, limit = -1
        var sawLimit = false
        var j = base + 3
        while j < c.argc {
            let opt = c.option(j)
            let left = c.argc - j - 1
            if opt == "WITHSCORES" && !store {
                withScores = true
            } else if opt == "LIMIT" && left >= 2 {
                offset = try CollectionArgs.long(c.arg(j + 1))
                limit = try CollectionArgs.long(c.arg(j + 2))
                sawLimit = true
                j += 2
            } else if reverse == nil && opt == "REV" {
                reverse = true
            } else if type == .auto && opt == "BYLEX" {
                type = .lex
            } else if type == .auto && opt == "BYSCORE" {
                type = .score
            } else {
                throw CommandError.syntax
            }
            j += 1
        }
        if type == .auto { type = .rank }
        let rev = reverse ?? false
        if sawLimit && type == .rank {
            throw CommandError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        }
        if withScores && type == .lex {
            throw CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        }
        // BYSCORE/BYLEX with REV take max before min.
        let minArg = rev && type != .rank ? c.arg(base + 2) : c.arg(base + 1)
        let maxArg = rev && type != .rank ? c.arg(base + 1) : c.arg(base + 2)
        var scoreRange: ScoreRange? = nil, lexRange: LexRange? = nil
        var rankStart = 0, rankEnd = 0
        switch type {
        case .score: scoreRange = try ScoreRange(minArg, maxArg)
        case .lex: lexRange = try LexRange(minArg, maxArg)
        default:
            rankStart = try CollectionArgs.long(minArg)
            rankEnd = try CollectionArgs.long(maxArg)
        }
        let z: SortedSetValue?
        if store {
            if let v = lookupRead(c.db, c.key(base)) {
                guard case .zset(let x) = v else { throw CommandError.wrongType }
                z = x
            } else { z = nil }
        } else {
            z = try readZSet(c.db, c.key(base))
        }
        var items: [(member: Bytes, score: Double)] = []
        if let z {
            var ranks: Range<Int>
            if let r = scoreRange {
                ranks = zscoreRanks(z, r)
            } else if let r = lexRange {
                ranks = zlexRanks(z, r)
            } else {
                ranks = zrankRanks(z.count, rankStart, rankEnd, reverse: rev)
            }
            if type != .rank {
                if offset < 0 || offset >= ranks.count {
                    ranks = ranks.lowerBound..<ranks.lowerBound
                } else {
                    let n = limit < 0 ? ranks.count - offset : Swift.min(limit, ranks.count - offset)
                    ranks = rev ? (ranks.upperBound - offset - n)..<(ranks.upperBound - offset)
                        : (ranks.lowerBound + offset)..<(ranks.lowerBound + offset + n)
                }
            }
            items = z.index.slice(ranks.lowerBound, ranks.upperBound, reverse: rev)
        }
        if store {
            let dst = c.key(1)
            if items.isEmpty {
                if exists(c.db, dst) {
                    c.db.remove(dst)
                    signalModifiedKey(c.db, dst)
                    notifyKeyspaceEvent(.generic, "del", c.db, dst)
                    dirty += 1
                }
            } else {
                storeZSet(c.db, dst, items)
                notifyKeyspaceEvent(.zset, "zrangestore", c.db, dst)
            }
            c.out.integer(items.count)
            return
        }
        replyZItems(c, items, withScores: withScores)
    }

    /// Replies with members (and scores: flat in RESP2, pairs in RESP3).
    func replyZItems(_ c: Client, _ items: [(member: Bytes, score: Double)], withScores: Bool) {
        if withScores && c.proto < 3 {
            c.out.arrayHeader(items.count * 2)
        } else {
            c.out.arrayHeader(items.count)
        }
        for (m, s) in items {
            if withScores {
                if c.proto >= 3 { c.out.arrayHeader(2) }
                c.out.bulk(m)
                c.out.double(s)
            } else {
                c.out.bulk(m)
            }
        }
    }

    /// Replaces `dst` with a sorted set of `items` (the STORE forms).
    func storeZSet(_ db: Database, _ dst: Key, _ items: [(member: Bytes, score: Double)]) {
        let z = SortedSetValue()
        // Redis sizes the new set up front: a skiplist from the start keeps -0 as -0.
        z.wasSkiplist = items.count > config.zsetMaxListpackEntries || items.contains { $0.member.count > config.zsetMaxListpackValue }
        for (m, s) in items { z.set(Key(m), s) }
        db.set(dst, .zset(z))
        signalModifiedKey(db, dst)
        dirty += 1
    }

    /// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX.
    func zremrangeCommand(_ c: Client, _ type: ZRangeType) throws {
        let key = c.key(1)
        var scoreRange: ScoreRange? = nil, lexRange: LexRange? = nil
        var start = 0, end = 0
        switch type {
        case .score: scoreRange = try ScoreRange(c.arg(2), c.arg(3))
        case .lex: lexRange = try LexRange(c.arg(2), c.arg(3))
        default:
            start = try CollectionArgs.long(c.arg(2))
            end = try CollectionArgs.long(c.arg(3))
        }
        guard let z = try writeZSet(c.db, key, create: false) else { c.out.integer(0); return }
        let ranks: Range<Int>
        if let r = scoreRange { ranks = zscoreRanks(z, r) } else if let r = lexRange { ranks = zlexRanks(z, r) } else {
            ranks = zrankRanks(z.count, start, end, reverse: false)
        }
        let items = z.index.slice(ranks.lowerBound, ranks.upperBound, reverse: false)
        for (m, _) in items { z.remove(Key(m)) }
        if !items.isEmpty {
            dirty += items.count
            signalModifiedKey(c.db, key)
            notifyKeyspaceEvent(.zset, type == .score ? "zremrangebyscore" : type == .lex ? "zremrangebylex" : "zremrangebyrank", c.db, key)
            deleteIfEmpty(c.db, key)
        }
        c.out.integer(items.count)
    }

    /// ZRANDMEMBER key [count [WITHSCORES]].
    func zrandmemberCommand(_ c: Client) throws {
        guard c.argc >= 3 else {
            guard let z = try readZSet(c.db, c.key(1)), let k = RandomPick.one(z.scores.keys) else { c.out.null(); return }
            c.out.bulk(k.bytes)
            return
        }
        let count = try RandomPick.count(c.arg(2))
        var withScores = false
        if c.argc == 4 {
            guard c.option(3) == "WITHSCORES" else { throw CommandError.syntax }
            withScores = true
        } else if c.argc > 4 {
            throw CommandError.syntax
        }
        if withScores && count < -Int64.max / 2 { throw CommandError("ERR value is out of range") }
        guard let z = try readZSet(c.db, c.key(1)) else { c.out.arrayHeader(0); return }
        let picked: [(member: Bytes, score: Double)]
        if count > 0 && Int(count) >= z.count {
            picked = z.ordered
        } else {
            picked = RandomPick.keys(z.scores.keys, total: z.count, count: Int(count)).map { ($0.bytes, z.score($0) ?? 0) }
        }
        replyZItems(c, picked, withScores: withScores)
    }

    /// ZSCAN key cursor [MATCH p] [COUNT n]; scores as bulk strings, as Redis 7.0 sends them.
    func zscanCommand(_ c: Client) throws {
        let cursor = try CollectionArgs.cursor(c.arg(2))
        let opts = try ScanCursor.options(c, from: 3)
        guard let z = try readZSet(c.db, c.key(1)) else {
            c.out.arrayHeader(2); c.out.bulk("0"); c.out.arrayHeader(0); return
        }
        var items: [(member: Bytes, score: Double)]
        var next: UInt64 = 0
        if z.isListpack(config) {
            items = z.ordered
        } else {
            if z.scanOrder == nil { z.scanOrder = ScanCursor.order(z.scores.keys) }
            let keys: [Key]
            (keys, next) = ScanCursor.step(z.scanOrder ?? [], cursor: cursor, count: opts.count)
            items = keys.map { ($0.bytes, z.score($0) ?? 0) }
        }
        if let p = opts.pattern { items = items.filter { ScanCursor.matches(p, $0.member) } }
        c.out.arrayHeader(2)
        c.out.bulk(String(next))
        c.out.arrayHeader(items.count * 2)
        for (m, s) in items { c.out.bulk(m); c.out.bulk(NumberFormat.double17g(s)) }
    }
}

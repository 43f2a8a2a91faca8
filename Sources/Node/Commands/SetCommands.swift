// Set commands (t_set.c). Small all-integer sets list their members in numeric order, as
// Redis's intsets do; other sets are in hash order (tests compare those as multisets).
import Shared

extension CommandTable {
    /// The set family.
    static var sets: [CommandSpec] {
        let w: CommandFlags = [.write, .denyOOM, .fast]
        let r: CommandFlags = [.readonly, .fast]
        let cat = ["write", "set", "fast"], rcat = ["read", "set", "fast"]
        let slowR = ["read", "set", "slow"], slowW = ["write", "set", "slow"]
        return [
            CommandSpec("sadd", -3, w, cat, keys: (1, 1, 1)) { s, c in try s.saddCommand(c) },
            CommandSpec("srem", -3, [.write, .fast], cat, keys: (1, 1, 1)) { s, c in try s.sremCommand(c) },
            CommandSpec("smembers", 2, [.readonly], slowR, keys: (1, 1, 1)) { s, c in
                let set = try s.readSet(c.db, c.key(1))
                c.out.setHeader(set?.count ?? 0)
                for k in set?.listed(s.config) ?? [] { c.out.bulk(k.bytes) }
            },
            CommandSpec("sismember", 3, r, rcat, keys: (1, 1, 1)) { s, c in
                c.out.integer(try s.readSet(c.db, c.key(1))?.members.contains(c.key(2)) == true ? 1 : 0)
            },
            CommandSpec("smismember", -3, r, rcat, keys: (1, 1, 1)) { s, c in
                let set = try s.readSet(c.db, c.key(1))
                c.out.arrayHeader(c.argc - 2)
                for i in 2..<c.argc { c.out.integer(set?.members.contains(c.key(i)) == true ? 1 : 0) }
            },
            CommandSpec("scard", 2, r, rcat, keys: (1, 1, 1)) { s, c in c.out.integer(try s.readSet(c.db, c.key(1))?.count ?? 0) },
            CommandSpec("spop", -2, [.write, .fast], cat, keys: (1, 1, 1)) { s, c in try s.spopCommand(c) },
            CommandSpec("srandmember", -2, [.readonly], slowR, keys: (1, 1, 1)) { s, c in try s.srandmemberCommand(c) },
            CommandSpec("smove", 4, w, cat, keys: (1, 2, 1)) { s, c in try s.smoveCommand(c) },
            CommandSpec("sinter", -2, [.readonly], slowR, keys: (1, -1, 1)) { s, c in try s.setAlgebraCommand(c, .inter, store: false) },
            CommandSpec("sunion", -2, [.readonly], slowR, keys: (1, -1, 1)) { s, c in try s.setAlgebraCommand(c, .union, store: false) },
            CommandSpec("sdiff", -2, [.readonly], slowR, keys: (1, -1, 1)) { s, c in try s.setAlgebraCommand(c, .diff, store: false) },
            CommandSpec("sinterstore", -3, [.write, .denyOOM], slowW, keys: (1, -1, 1)) { s, c in try s.setAlgebraCommand(c, .inter, store: true) },
            CommandSpec("sunionstore", -3, [.write, .denyOOM], slowW, keys: (1, -1, 1)) { s, c in try s.setAlgebraCommand(c, .union, store: true) },
            CommandSpec("sdiffstore", -3, [.write, .denyOOM], slowW, keys: (1, -1, 1)) { s, c in try s.setAlgebraCommand(c, .diff, store: true) },
            CommandSpec("sintercard", -3, [.readonly], slowR) { s, c in try s.sintercardCommand(c) }
                .movable(CommandTable.numkeysKeys(at: 1)),
            CommandSpec("sscan", -3, [.readonly], slowR, keys: (1, 1, 1)) { s, c in try s.sscanCommand(c) },
        ]
    }
}

/// SINTER, SUNION, SDIFF.
enum SetOperation { case inter, union, diff }

extension Server {
    /// SADD key member [member ...].
    func saddCommand(_ c: Client) throws {
        let key = c.key(1)
        guard let set = try writeSet(c.db, key, create: true) else { return }
        var added = 0
        set.scanOrder = nil
        for i in 2..<c.argc where set.members.insert(c.key(i)).inserted {
            added += 1
            set.noteAdd(c.arg(i), config)
        }
        if added > 0 {
            dirty += added
            signalModifiedKey(c.db, key)
        }
        c.out.integer(added)
    }

    /// SREM key member [member ...].
    func sremCommand(_ c: Client) throws {
        let key = c.key(1)
        guard let set = try writeSet(c.db, key, create: false) else { c.out.integer(0); return }
        var removed = 0
        set.scanOrder = nil
        for i in 2..<c.argc where set.members.remove(c.key(i)) != nil { removed += 1 }
        if removed > 0 {
            dirty += removed
            signalModifiedKey(c.db, key)
            deleteIfEmpty(c.db, key)
        }
        c.out.integer(removed)
    }

    /// SPOP key [count], propagated as SREM of the chosen members.
    func spopCommand(_ c: Client) throws {
        guard c.argc <= 3 else { throw CommandError.syntax }
        let key = c.key(1)
        var count: Int? = nil
        if c.argc == 3 { count = try CollectionArgs.positiveCount(c.arg(2)) }
        guard let set = try writeSet(c.db, key, create: false) else {
            if count != nil { c.out.setHeader(0) } else { c.out.null() }
            return
        }
        guard let n = count else {
            guard let m = RandomPick.one(set.members) else { c.out.null(); return }
            set.scanOrder = nil
            set.members.remove(m)
            set.shrinkIfSparse()
            finishSpop(c, key, [m])
            c.out.bulk(m.bytes)
            return
        }
        set.scanOrder = nil
        if n == 0 { c.out.setHeader(0); return }
        var popped: [Key]
        if n >= set.count {
            popped = Array(set.members)
            set.members.removeAll()
        } else {
            popped = RandomPick.keys(set.members, total: set.count, count: n)
            for m in popped { set.members.remove(m) }
        }
        finishSpop(c, key, popped)
        c.out.setHeader(popped.count)
        for m in popped { c.out.bulk(m.bytes) }
    }

    /// SPOP is random: replicas get the members it chose, as SREM.
    private func finishSpop(_ c: Client, _ key: Key, _ popped: [Key]) {
        dirty += popped.count
        signalModifiedKey(c.db, key)
        deleteIfEmpty(c.db, key)
        propagateAs(["SREM".bytes, key.bytes] + popped.map(\.bytes))
    }

    /// SRANDMEMBER key [count].
    func srandmemberCommand(_ c: Client) throws {
        guard c.argc <= 3 else { throw CommandError.syntax }
        guard c.argc == 3 else {
            guard let set = try readSet(c.db, c.key(1)), let m = RandomPick.one(set.members) else { c.out.null(); return }
            c.out.bulk(m.bytes)
            return
        }
        guard let count = NumberFormat.parseInt(c.arg(2)) else { throw CommandError.notInteger }
        if count == Int64.min {
            throw CommandError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        }
        guard let set = try readSet(c.db, c.key(1)) else { c.out.arrayHeader(0); return }
        let picked = count > 0 && Int(count) >= set.count ? set.listed(config)
            : RandomPick.keys(set.members, total: set.count, count: Int(count))
        c.out.arrayHeader(picked.count)
        for m in picked { c.out.bulk(m.bytes) }
    }

    /// SMOVE source destination member.
    func smoveCommand(_ c: Client) throws {
        let src = c.key(1), dst = c.key(2), member = c.key(3)
        let from = try writeSet(c.db, src, create: false)
        if let v = lookupWrite(c.db, dst) { guard case .set = v else { throw CommandError.wrongType } }
        guard let source = from else { c.out.integer(0); return }
        source.scanOrder = nil
        if src == dst { c.out.integer(source.members.contains(member) ? 1 : 0); return }
        guard source.members.remove(member) != nil else { c.out.integer(0); return }
        dirty += 1
        signalModifiedKey(c.db, src)
        deleteIfEmpty(c.db, src)
        if let target = try writeSet(c.db, dst, create: true), target.members.insert(member).inserted {
            target.scanOrder = nil
            target.noteAdd(member.bytes, config)
            dirty += 1
            signalModifiedKey(c.db, dst)
        }
        c.out.integer(1)
    }

    /// The sets named by `keys`, nil for missing keys; WRONGTYPE if any key holds another type.
    func readSets(_ c: Client, _ keys: [Key], forWrite: Bool) throws -> [SetValue?] {
        try keys.map { k in
            guard let v = forWrite ? lookupWrite(c.db, k) : lookupRead(c.db, k) else { return nil }
            guard case .set(let s) = v else { throw CommandError.wrongType }
            return s
        }
    }

    /// Computes an intersection, union or difference of sets (nil = empty).
    func setAlgebra(_ sets: [SetValue?], _ op: SetOperation) -> Set<Key> {
        switch op {
        case .inter:
            if sets.contains(where: { $0 == nil }) { return [] }
            let sorted = sets.compactMap { $0 }.sorted { $0.count < $1.count }
            guard var result = sorted.first?.members else { return [] }
            for s in sorted.dropFirst() { result.formIntersection(s.members) }
            return result
        case .union:
            var result = Set<Key>()
            for s in sets { if let s { result.formUnion(s.members) } }
            return result
        case .diff:
            guard let first = sets.first, let f = first else { return [] }
            var result = f.members
            for s in sets.dropFirst() { if let s { result.subtract(s.members) } }
            return result
        }
    }

    /// SINTER, SUNION, SDIFF and their STORE forms.
    func setAlgebraCommand(_ c: Client, _ op: SetOperation, store: Bool) throws {
        let first = store ? 2 : 1
        let keys = (first..<c.argc).map { c.key($0) }
        let result = setAlgebra(try readSets(c, keys, forWrite: store), op)
        if !store {
            let tmp = SetValue(result)
            c.out.setHeader(result.count)
            for m in tmp.listed(config) { c.out.bulk(m.bytes) }
            return
        }
        let dst = c.key(1)
        if result.isEmpty {
            if exists(c.db, dst) {
                c.db.remove(dst)
                signalModifiedKey(c.db, dst)
                dirty += 1
            }
        } else {
            let set = SetValue(result)
            set.wasHashtable = !set.isIntset(config)
            c.db.set(dst, .set(set))
            signalModifiedKey(c.db, dst)
            dirty += 1
        }
        c.out.integer(result.count)
    }

    /// SINTERCARD numkeys key [key ...] [LIMIT limit].
    func sintercardCommand(_ c: Client) throws {
        guard let n = NumberFormat.parseInt(c.arg(1)), n > 0 else { throw CommandError("ERR numkeys should be greater than 0") }
        guard Int(n) <= c.argc - 2 else { throw CommandError("ERR Number of keys can't be greater than number of args") }
        var limit = 0
        var i = 2 + Int(n)
        while i < c.argc {
            guard c.option(i) == "LIMIT", i + 1 < c.argc else { throw CommandError.syntax }
            guard let l = NumberFormat.parseInt(c.arg(i + 1)) else { throw CommandError("ERR LIMIT can't be negative") }
            guard l >= 0 else { throw CommandError("ERR LIMIT can't be negative") }
            limit = Int(l)
            i += 2
        }
        let keys = (0..<Int(n)).map { c.key(2 + $0) }
        let result = setAlgebra(try readSets(c, keys, forWrite: false), .inter)
        c.out.integer(limit > 0 ? Swift.min(limit, result.count) : result.count)
    }

    /// SSCAN key cursor [MATCH p] [COUNT n].
    func sscanCommand(_ c: Client) throws {
        let cursor = try CollectionArgs.cursor(c.arg(2))
        let opts = try ScanCursor.options(c, from: 3)
        guard let set = try readSet(c.db, c.key(1)) else {
            c.out.arrayHeader(2); c.out.bulk("0"); c.out.arrayHeader(0); return
        }
        var keys: [Key]
        var next: UInt64 = 0
        if set.isIntset(config) {
            keys = set.listed(config)
        } else {
            if set.scanOrder == nil { set.scanOrder = ScanCursor.order(set.members) }
            (keys, next) = ScanCursor.step(set.scanOrder ?? [], cursor: cursor, count: opts.count)
        }
        if let p = opts.pattern { keys = keys.filter { ScanCursor.matches(p, $0.bytes) } }
        c.out.arrayHeader(2)
        c.out.bulk(String(next))
        c.out.arrayHeader(keys.count)
        for k in keys { c.out.bulk(k.bytes) }
    }
}

// Blocking list pops and moves: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. They serve at once when
// they can, else block (Blocking.swift); a served pop propagates as its non-blocking form.
import Shared

extension CommandTable {
    /// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
    static var blockingLists: [CommandSpec] {
        let f: CommandFlags = [.write, .blocking]
        // Redis 7.0 refuses the older blocking pops inside scripts (BLMPOP runs non-blocking).
        let ns = f.union(.noscript)
        let cat = ["write", "list", "slow", "blocking"]
        return [
            CommandSpec("blpop", -3, ns, cat, keys: (1, -2, 1)) { s, c in try s.bpopCommand(c, front: true) },
            CommandSpec("brpop", -3, ns, cat, keys: (1, -2, 1)) { s, c in try s.bpopCommand(c, front: false) },
            CommandSpec("blmove", 6, ns.union(.denyOOM), cat, keys: (1, 2, 1)) { s, c in
                let (from, to) = try s.parseEnds(c, 3)
                let t = try CollectionArgs.timeoutMillis(c.arg(5))
                try s.moveCommand(c, src: c.key(1), dst: c.key(2), fromFront: from, toFront: to, timeout: t)
            },
            CommandSpec("brpoplpush", 4, ns.union(.denyOOM), cat, keys: (1, 2, 1)) { s, c in
                let t = try CollectionArgs.timeoutMillis(c.arg(3))
                try s.moveCommand(c, src: c.key(1), dst: c.key(2), fromFront: false, toFront: true, timeout: t)
            },
            CommandSpec("blmpop", -5, f, cat, keys: (3, 3, 1)) { s, c in
                let t = try CollectionArgs.timeoutMillis(c.arg(1))
                try s.mpopCommand(c, first: 2, timeout: t)
            },
        ]
    }
}

extension Server {
    /// BLPOP/BRPOP key [key ...] timeout.
    func bpopCommand(_ c: Client, front: Bool) throws {
        let timeout = try CollectionArgs.timeoutMillis(c.arg(c.argc - 1))
        var keys: [Key] = []
        for i in 1..<(c.argc - 1) {
            let key = c.key(i)
            keys.append(key)
            guard let list = try listForPop(c.db, key), let value = front ? list.popFront() : list.popBack() else { continue }
            listPopped(c.db, key, 1, front ? "lpop" : "rpop")
            propagateAs([(front ? "LPOP" : "RPOP").bytes, key.bytes])
            c.out.arrayHeader(2)
            c.out.bulk(key.bytes)
            c.out.bulk(value)
            return
        }
        if canBlock(c) {
            blockClient(c, keys: keys, timeout: timeout)
        } else {
            c.out.nullArray()
        }
    }
}

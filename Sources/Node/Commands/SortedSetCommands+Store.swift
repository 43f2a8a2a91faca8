// Sorted-set algebra (ZUNION, ZINTER, ZDIFF and their STORE forms; plain sets count as score 1)
// and the blocking pops BZPOPMIN, BZPOPMAX, BZMPOP.
import Shared

extension CommandTable {
    /// Set algebra and blocking pops of the sorted-set family.
    static var sortedSetStores: [CommandSpec] {
        let wcat = ["write", "sortedset", "slow"], rcat = ["read", "sortedset", "slow"]
        let w: CommandFlags = [.write, .denyOOM]
        let b: CommandFlags = [.write, .blocking]
        let bcat = ["write", "sortedset", "fast", "blocking"]
        return [
            CommandSpec("zunionstore", -4, w, wcat, keys: (1, 1, 1)) { s, c in try s.zsetAlgebra(c, .union, store: true) },
            CommandSpec("zinterstore", -4, w, wcat, keys: (1, 1, 1)) { s, c in try s.zsetAlgebra(c, .inter, store: true) },
            CommandSpec("zdiffstore", -4, w, wcat, keys: (1, 1, 1)) { s, c in try s.zsetAlgebra(c, .diff, store: true) },
            CommandSpec("zunion", -3, [.readonly], rcat, keys: (0, 0, 0)) { s, c in try s.zsetAlgebra(c, .union, store: false) },
            CommandSpec("zinter", -3, [.readonly], rcat, keys: (0, 0, 0)) { s, c in try s.zsetAlgebra(c, .inter, store: false) },
            CommandSpec("zdiff", -3, [.readonly], rcat, keys: (0, 0, 0)) { s, c in try s.zsetAlgebra(c, .diff, store: false) },
            CommandSpec("bzpopmin", -3, b.union(.noscript), bcat, keys: (1, -2, 1)) { s, c in try s.bzpopCommand(c, min: true) },
            CommandSpec("bzpopmax", -3, b.union(.noscript), bcat, keys: (1, -2, 1)) { s, c in try s.bzpopCommand(c, min: false) },
            CommandSpec("bzmpop", -5, b, ["write", "sortedset", "slow", "blocking"], keys: (3, 3, 1)) { s, c in
                let t = try CollectionArgs.timeoutMillis(c.arg(1))
                try s.zmpopCommand(c, first: 2, timeout: t)
            },
        ]
    }
}

extension Server {
    /// ZUNION/ZINTER's AGGREGATE.
    enum ZAggregate { case sum, min, max }

    /// ZUNION, ZINTER, ZDIFF and their STORE forms (WEIGHTS, AGGREGATE, WITHSCORES).
    func zsetAlgebra(_ c: Client, _ op: SetOperation, store: Bool) throws {
        let numIdx = store ? 2 : 1
        let name = c.option(0).lowercased()
        let n = try CollectionArgs.long(c.arg(numIdx))
        guard n >= 1 else { throw CommandError("ERR at least 1 input key is needed for '\(name)' command") }
        guard n <= c.argc - numIdx - 1 else { throw CommandError.syntax }
        // Inputs: a sorted set's scores, a set's members with score 1, or nil when missing.
        var inputs: [[Key: Double]?] = []
        for i in 0..<n {
            let k = c.key(numIdx + 1 + i)
            guard let v = store ? lookupWrite(c.db, k) : lookupRead(c.db, k) else { inputs.append(nil); continue }
            switch v {
            case .zset(let z): inputs.append(z.scores)
            case .set(let s): inputs.append(Dictionary(uniqueKeysWithValues: s.members.map { ($0, 1.0) }))
            default: throw CommandError.wrongType
            }
        }
        var weights = [Double](repeating: 1, count: n)
        var aggregate = ZAggregate.sum
        var withScores = false
        var j = numIdx + 1 + n
        while j < c.argc {
            let opt = c.option(j)
            let left = c.argc - j - 1
            if op != .diff && opt == "WEIGHTS" && left >= n {
                for w in 0..<n {
                    guard let v = NumberFormat.parseDouble(c.arg(j + 1 + w)) else { throw CommandError("ERR weight value is not a float") }
                    weights[w] = v
                }
                j += n
            } else if op != .diff && opt == "AGGREGATE" && left >= 1 {
                switch c.option(j + 1) {
                case "SUM": aggregate = .sum
                case "MIN": aggregate = .min
                case "MAX": aggregate = .max
                default: throw CommandError.syntax
                }
                j += 1
            } else if !store && opt == "WITHSCORES" {
                withScores = true
            } else {
                throw CommandError.syntax
            }
            j += 1
        }
        func weighted(_ s: Double, _ w: Double) -> Double {
            let v = s * w
            return v.isNaN ? 0 : v  // 0 * inf
        }
        func combine(_ a: Double, _ b: Double) -> Double {
            switch aggregate {
            case .sum: let v = a + b; return v.isNaN ? 0 : v
            case .min: return Swift.min(a, b)
            case .max: return Swift.max(a, b)
            }
        }
        var result: [Key: Double] = [:]
        switch op {
        case .union:
            for (i, input) in inputs.enumerated() {
                guard let input else { continue }
                for (k, s) in input {
                    let v = weighted(s, weights[i])
                    if let cur = result[k] { result[k] = combine(cur, v) } else { result[k] = v }
                }
            }
        case .inter:
            if !inputs.contains(where: { $0 == nil }) {
                let order = inputs.indices.sorted { (inputs[$0]?.count ?? 0) < (inputs[$1]?.count ?? 0) }
                if let first = order.first, let smallest = inputs[first] {
                    outer: for (k, s) in smallest {
                        var acc = weighted(s, weights[first])
                        for i in order.dropFirst() {
                            guard let other = inputs[i]?[k] else { continue outer }
                            acc = combine(acc, weighted(other, weights[i]))
                        }
                        result[k] = acc
                    }
                }
            }
        case .diff:
            if let first = inputs.first, let base = first {
                for (k, s) in base where !inputs.dropFirst().contains(where: { $0?[k] != nil }) { result[k] = s }
            }
        }
        let z = SortedSetValue(result)
        let items = z.ordered
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
                z.wasSkiplist = !z.isListpack(config)
                c.db.set(dst, .zset(z))
                signalModifiedKey(c.db, dst)
                notifyKeyspaceEvent(.zset, op == .inter ? "zinterstore" : op == .union ? "zunionstore" : "zdiffstore", c.db, dst)
                dirty += 1
            }
            c.out.integer(items.count)
        } else {
            replyZItems(c, items, withScores: withScores)
        }
    }

    /// BZPOPMIN/BZPOPMAX key [key ...] timeout.
    func bzpopCommand(_ c: Client, min: Bool) throws {
        let timeout = try CollectionArgs.timeoutMillis(c.arg(c.argc - 1))
        var keys: [Key] = []
        for i in 1..<(c.argc - 1) {
            let key = c.key(i)
            keys.append(key)
            guard let zs = try zsetForPop(c.db, key), zs.count > 0 else { continue }
            let items = zpopMany(c, key, zs, 1, min: min)
            guard let (m, s) = items.first else { continue }
            propagateAs([(min ? "ZPOPMIN" : "ZPOPMAX").bytes, key.bytes])
            c.out.arrayHeader(3)
            c.out.bulk(key.bytes)
            c.out.bulk(m)
            c.out.double(s)
            return
        }
        if canBlock(c) {
            blockClient(c, keys: keys, timeout: timeout)
        } else {
            c.out.nullArray()
        }
    }
}

// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST (hyperloglog.c). HLLs are
// ordinary string values in Redis's byte layout (Keyspace/HyperLogLog.swift), so they persist,
// replicate and DUMP like any string. PFADD/PFMERGE propagate as sent; PFCOUNT, flagged read-only,
// propagates itself when it refreshed the cached cardinality, as Redis does, so replicas hold
// the same bytes.
import Shared

extension CommandTable {
    static var hyperloglog: [CommandSpec] {
        [
            CommandSpec("pfadd", -2, [.write, .denyOOM, .fast], ["write", "hyperloglog", "fast"], keys: (1, 1, 1)) { s, c in
                try s.pfaddCommand(c)
            },
            CommandSpec("pfcount", -2, [.readonly, .mayReplicate], ["read", "hyperloglog", "slow"], keys: (1, -1, 1)) { s, c in
                try s.pfcountCommand(c)
            },
            CommandSpec("pfmerge", -2, [.write, .denyOOM], ["write", "hyperloglog", "slow"], keys: (1, -1, 1)) { s, c in
                try s.pfmergeCommand(c)
            },
            CommandSpec("pfdebug", 3, [.write, .denyOOM, .admin], ["write", "hyperloglog", "admin", "slow", "dangerous"],
                        keys: (2, 2, 1)) { s, c in try s.pfdebugCommand(c) },
            CommandSpec("pfselftest", 1, [.admin], ["hyperloglog", "admin", "slow", "dangerous"]) { s, c in
                try s.pfselftestCommand(c)
            },
        ]
    }
}

extension Server {
    /// The HLL at `key` for reading: nil if absent, WRONGTYPE-style errors for other values.
    private func readHLL(_ db: Database, _ key: Key) throws -> Bytes? {
        guard let v = lookupRead(db, key) else { return nil }
        guard case .string(let b) = v else { throw CommandError.wrongType }
        guard HyperLogLog.isValid(b) else { throw HyperLogLog.notHLL }
        return b
    }

    func pfaddCommand(_ c: Client) throws {
        let db = c.db, key = c.key(1)
        let maxBytes = config.hllSparseMaxBytes
        var updated = 0
        var created = false
        switch lookupWrite(db, key) {
        case nil:
            db.setRawString(key, HyperLogLog.makeEmpty())
            created = true
        case .string?:
            break
        default:
            throw CommandError.wrongType
        }
        // Edited in place (holding the value here would make it shared and copy the whole HLL
        // on every PFADD); -1 means not an HLL, -2 corrupted.
        let outcome: Int = db.withStringInPlace(key) { b -> Int in
            guard HyperLogLog.isValid(b) else { return -1 }
            for i in 2..<max(2, c.argc) {
                let r = c.argv[i].withUnsafeBytes { HyperLogLog.add(&b, $0, maxBytes: maxBytes) }
                if r == 1 { updated += 1 } else if r < 0 { return -2 }
            }
            if updated > 0 || created { HyperLogLog.invalidateCache(&b) }
            return 0
        } ?? -1
        if created { updated += 1 }
        if outcome == -1 { throw HyperLogLog.notHLL }
        // Like Redis, registers raised before a corruption was met stay raised, unannounced.
        if outcome == -2 { throw HyperLogLog.corrupted }
        if updated > 0 { keyWritten(db, key, dirty: updated); notifyKeyspaceEvent(.string, "pfadd", db, key) }
        c.out.integer(updated > 0 ? 1 : 0)
    }

    func pfcountCommand(_ c: Client) throws {
        if c.argc > 2 {
            // The cardinality of the union, without touching any key.
            var regs = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
            for i in 1..<c.argc {
                guard let b = try readHLL(c.db, c.key(i)) else { continue }
                guard HyperLogLog.merge(into: &regs, b) else { throw HyperLogLog.corrupted }
            }
            c.out.integer(Int(HyperLogLog.estimate(HyperLogLog.histogram(raw: regs))))
            return
        }
        let key = c.key(1)
        guard let b = try readHLL(c.db, key) else { c.out.integer(0); return }
        if let cached = HyperLogLog.cachedCardinality(b) { c.out.integer(Int(truncatingIfNeeded: cached)); return }
        guard let card = HyperLogLog.count(b) else { throw HyperLogLog.corrupted }
        _ = c.db.withStringInPlace(key) { HyperLogLog.setCachedCardinality(&$0, card) }
        keyWritten(c.db, key)
        propagateDataWrite(c, as: [c.argv])
        c.out.integer(Int(truncatingIfNeeded: card))
    }

    func pfmergeCommand(_ c: Client) throws {
        var regs = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        var useDense = false
        for i in 1..<c.argc {
            guard let b = try readHLL(c.db, c.key(i)) else { continue }
            if b[4] == HyperLogLog.dense { useDense = true }
            guard HyperLogLog.merge(into: &regs, b) else { throw HyperLogLog.corrupted }
        }
        let db = c.db, key = c.key(1)
        if lookupWrite(db, key) == nil { db.setRawString(key, HyperLogLog.makeEmpty()) }
        let maxBytes = config.hllSparseMaxBytes
        let ok: Bool? = db.withStringInPlace(key) { b in
            if useDense && !HyperLogLog.sparseToDense(&b) { return false }
            for (j, v) in regs.enumerated() where v != 0 {
                if b[4] == HyperLogLog.dense {
                    _ = HyperLogLog.denseRaise(&b, j, v)
                } else {
                    _ = HyperLogLog.sparseRaise(&b, j, v, maxBytes: maxBytes)
                }
            }
            HyperLogLog.invalidateCache(&b)
            return true
        }
        guard ok == true else { throw HyperLogLog.corrupted }
        keyWritten(db, key)
        notifyKeyspaceEvent(.string, "pfadd", db, key)
        c.out.ok()
    }

    /// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
    func pfdebugCommand(_ c: Client) throws {
        let db = c.db, key = c.key(2)
        guard let v = lookupWrite(db, key) else { throw CommandError("ERR The specified key does not exist") }
        guard case .string(let b) = v else { throw CommandError.wrongType }
        guard HyperLogLog.isValid(b) else { throw HyperLogLog.notHLL }
        switch c.arg(1).text.lowercased() {
        case "getreg":
            var dense = b
            if b[4] == HyperLogLog.sparse {
                guard HyperLogLog.sparseToDense(&dense) else { throw HyperLogLog.corrupted }
                db.update(key, .string(dense))
                dirty += 1  // propagated: replicas convert too
            }
            c.out.arrayHeader(HyperLogLog.registerCount)
            dense.withUnsafeBytes { p in
                for i in 0..<HyperLogLog.registerCount { c.out.integer(Int(HyperLogLog.denseGet(p, i))) }
            }
        case "decode":
            guard b[4] == HyperLogLog.sparse else { throw CommandError("ERR HLL encoding is not sparse") }
            c.out.bulk(HyperLogLog.decode(b))
        case "encoding":
            c.out.simple(b[4] == HyperLogLog.dense ? "dense" : "sparse")
        case "todense":
            var converted = false
            if b[4] == HyperLogLog.sparse {
                var dense = b
                guard HyperLogLog.sparseToDense(&dense) else { throw HyperLogLog.corrupted }
                db.update(key, .string(dense))
                dirty += 1
                converted = true
            }
            c.out.integer(converted ? 1 : 0)
        default:
            throw CommandError("ERR Unknown PFDEBUG subcommand '\(c.arg(1).text)'")
        }
    }

    /// PFSELFTEST: register packing round-trips, and dense and sparse HLLs fed the same 10M
    /// elements agree with each other and stay within 6 standard errors at every power of ten.
    func pfselftestCommand(_ c: Client) throws {
        var rng = SplitMix64(seed: UInt64.random(in: 0...UInt64.max))
        var dense = Bytes(repeating: 0, count: HyperLogLog.denseSize)
        var expected = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        for _ in 0..<1000 {
            dense.withUnsafeMutableBytes { p in
                for i in 0..<HyperLogLog.registerCount {
                    let r = UInt8.random(in: 0...63, using: &rng)
                    expected[i] = r
                    HyperLogLog.denseSet(p, i, r)
                }
            }
            let bad: (Int, UInt8)? = dense.withUnsafeBytes { p in
                for i in 0..<HyperLogLog.registerCount where HyperLogLog.denseGet(p, i) != expected[i] {
                    return (i, HyperLogLog.denseGet(p, i))
                }
                return nil
            }
            if let (i, got) = bad {
                throw CommandError("TESTFAILED Register \(i) should be \(expected[i]) but is \(got)")
            }
        }
        dense = HyperLogLog.makeEmpty()
        guard HyperLogLog.sparseToDense(&dense) else { throw CommandError("TESTFAILED dense conversion") }
        var sparse = HyperLogLog.makeEmpty()
        let relerr = 1.04 / Double(HyperLogLog.registerCount).squareRoot()
        var checkpoint: UInt64 = 1
        let seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        let maxBytes = config.hllSparseMaxBytes
        for j in 1...UInt64(10_000_000) {
            var ele = (j ^ seed).littleEndian
            withUnsafeBytes(of: &ele) { e in
                _ = HyperLogLog.add(&dense, e, maxBytes: maxBytes)
                _ = HyperLogLog.add(&sparse, e, maxBytes: maxBytes)
            }
            guard j == checkpoint else { continue }
            if j < UInt64(maxBytes / 2) && sparse[4] != HyperLogLog.sparse {
                throw CommandError("TESTFAILED sparse encoding not used")
            }
            let d = HyperLogLog.count(dense) ?? 0
            if d != HyperLogLog.count(sparse) ?? 0 { throw CommandError("TESTFAILED dense/sparse disagree") }
            let abserr = checkpoint > d ? checkpoint - d : d - checkpoint
            var maxerr = UInt64((relerr * 6 * Double(checkpoint)).rounded(.up))
            if j == 10 { maxerr = 1 }
            if abserr > maxerr {
                throw CommandError("TESTFAILED Too big error. card:\(checkpoint) abserr:\(abserr)")
            }
            checkpoint *= 10
        }
        c.out.ok()
    }
}

/// A fast seeded generator for PFSELFTEST's millions of random registers (the system generator
/// would cost a system call each).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    /// A generator starting from `seed`.
    init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}

// DEBUG DIGEST and DEBUG DIGEST-VALUE with Redis 7.0's definition (debug.c's xorObjectDigest):
// SHA-1 mixes, order-preserving for lists and strings, order-free (xor) for sets, hashes, sorted
// sets and the keys of a database, so the value is the same on vigil-node and redis-server for
// the same data, whatever the encodings. Redis's own replication tests compare it across nodes.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// The digest arithmetic of Redis's debug.c.
enum DatasetDigest {
    /// digest ^= SHA1(data).
    static func xor(_ digest: inout [UInt8], _ data: [UInt8]) {
        let h = SHA1.hash(data)
        for i in 0..<20 { digest[i] ^= h[i] }
    }

    /// digest = SHA1(digest ^ SHA1(data)): order matters.
    static func mix(_ digest: inout [UInt8], _ data: [UInt8]) {
        xor(&digest, data)
        digest = SHA1.hash(digest)
    }

    /// A score as Redis's "%.17g".
    static func scoreText(_ d: Double) -> [UInt8] {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([d]) { vsnprintf(&buf, 64, "%.17g", $0) }
        return buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    }

    /// The type code Redis mixes in first (OBJ_STRING ... OBJ_HASH).
    static func typeCode(_ v: Value) -> UInt32 {
        switch v {
        case .string: return 0
        case .list: return 1
        case .set: return 2
        case .zset: return 3
        case .hash: return 4
        }
    }

    /// xorObjectDigest: the value (and whether it expires) mixed into `digest`.
    static func mixValue(_ digest: inout [UInt8], _ v: Value, expires: Bool) {
        let code = typeCode(v)
        mix(&digest, [UInt8(code >> 24), UInt8((code >> 16) & 0xff), UInt8((code >> 8) & 0xff), UInt8(code & 0xff)])
        switch v {
        case .string(let b): mix(&digest, b)
        case .list(let l): for e in l.elements { mix(&digest, e) }
        case .set(let s): for m in s.members { xor(&digest, m.bytes) }
        case .zset(let z):
            for (m, score) in z.scores {
                var e = [UInt8](repeating: 0, count: 20)
                mix(&e, m.bytes)
                mix(&e, scoreText(score))
                xor(&digest, e)
            }
        case .hash(let h):
            for (f, val) in h.fields {
                var e = [UInt8](repeating: 0, count: 20)
                mix(&e, f.bytes)
                mix(&e, val)
                xor(&digest, e)
            }
        }
        if expires { xor(&digest, Array("!!expire!!".utf8)) }
    }
}

extension Server {
    /// DEBUG DIGEST: the whole dataset's digest, 40 hex characters (all zeros when empty).
    func datasetDigest() -> String {
        var final = [UInt8](repeating: 0, count: 20)
        for db in databases where db.count > 0 {
            let id = UInt32(db.id)
            DatasetDigest.mix(&final, [UInt8(id >> 24), UInt8((id >> 16) & 0xff), UInt8((id >> 8) & 0xff), UInt8(id & 0xff)])
            for (k, v) in db.dict {
                var d = [UInt8](repeating: 0, count: 20)
                DatasetDigest.mix(&d, k.bytes)
                DatasetDigest.mixValue(&d, v, expires: db.expiry(k) != nil)
                DatasetDigest.xor(&final, d)
            }
        }
        return SHA1.hexString(final)
    }

    /// DEBUG DIGEST-VALUE key...: one digest per key, of the value only (zeros for a missing key).
    func digestValues(_ c: Client) {
        c.out.arrayHeader(c.argc - 2)
        for j in 2..<c.argc {
            var d = [UInt8](repeating: 0, count: 20)
            let k = Key(c.arg(j))
            if let v = c.db.raw(k) { DatasetDigest.mixValue(&d, v, expires: c.db.expiry(k) != nil) }
            c.out.simple(SHA1.hexString(d))
        }
    }
}

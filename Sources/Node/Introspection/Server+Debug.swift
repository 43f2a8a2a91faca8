// The DEBUG subcommands Redis's tests and client test suites use beyond SLEEP/POPULATE/PROTOCOL:
// ERROR (redis-py tests its LOADING/READONLY/OOM handling with it), RELOAD, DIGEST and
// DIGEST-VALUE (equal datasets give equal digests, whatever their insertion order), CHANGE-REPL-ID,
// JMAP.
import Shared

extension Server {
    /// Handles the subcommands of this file; false when `sub` is not one of them.
    func debugIntrospection(_ c: Client, _ sub: String) throws -> Bool {
        switch sub {
        case "ERROR":
            guard c.argc == 3 else { throw CommandError.wrongArity("debug") }
            // The argument is the whole error line, prefix included.
            replyError(c, c.arg(2).text)
        case "RELOAD":
            try debugReload()
            log.notice("DB reloaded by DEBUG RELOAD")
            c.out.ok()
        case "DIGEST":
            c.out.simple(Server.hex(datasetDigest()))
        case "DIGEST-VALUE":
            c.out.arrayHeader(c.argc - 2)
            for i in 2..<c.argc {
                let v = lookupRead(c.db, c.key(i))
                c.out.simple(Server.hex(v.map(Server.valueDigest) ?? Array(repeating: 0, count: 20)))
            }
        case "CHANGE-REPL-ID":
            replication.changeReplicationID()
            replication.clearReplicationID2()
            c.out.ok()
        case "JMAP":
            c.out.ok()
        default:
            return false
        }
        return true
    }

    /// An order-independent digest of every key, its value and its expiry; 20 zero bytes when
    /// the dataset is empty (as Redis's DEBUG DIGEST).
    func datasetDigest() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        for db in databases {
            for (k, v) in db.dict {
                var m = Bytes("db\(db.id)".utf8) + k.bytes + Server.valueDigest(v)
                if let at = db.expiry(k) { m += Bytes("!!expire!!\(at)".utf8) }
                Server.xor(&out, SHA256.hash(m))
            }
        }
        return out
    }

    /// A value's digest: ordered for strings and lists, order-independent for sets, hashes, zsets.
    static func valueDigest(_ v: Value) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 20)
        switch v {
        case .string(let b): return Array(SHA256.hash(b).prefix(20))
        case .list(let l): for e in l.elements { d = Array(SHA256.hash(d + SHA256.hash(e)).prefix(20)) }
        case .set(let s): for m in s.members { xor(&d, SHA256.hash(m.bytes)) }
        case .hash(let h): for (f, x) in h.fields { xor(&d, SHA256.hash(f.bytes + [0] + x)) }
        case .zset(let z): for (m, s) in z.scores { xor(&d, SHA256.hash(m.bytes + Bytes(NumberFormat.double17g(s).utf8))) }
        }
        return d
    }

    private static func xor(_ d: inout [UInt8], _ h: [UInt8]) { for i in 0..<20 { d[i] ^= h[i] } }

    static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for x in b { out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

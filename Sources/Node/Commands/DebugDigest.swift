// DEBUG DIGEST, DEBUG DIGEST-VALUE (debug.c's computeDatasetDigest / xorObjectDigest, so a
// dataset digests to the same 40 hex digits on vigil-node and redis-server), and the two
// DEBUG reloads tests use: LOADAOF (flush the AOF, empty the data, replay the AOF) and RELOAD
// (SAVE, then load the RDB back).
//
// The digest: per key, SHA-1 mixes of the key, the type (big-endian u32), then the value (in
// order for strings, lists and streams, order-free XOR for sets, hashes and sorted sets), and an
// XOR of "!!expire!!" when the key has a TTL; keys XOR together per database, databases are
// mixed in with their index.
import Shared

extension Server {
    /// digest ^= SHA1(data).
    static func xorDigest(_ digest: inout [UInt8], _ data: [UInt8]) {
        let h = SHA1.hash(data)
        for i in 0..<20 { digest[i] ^= h[i] }
    }

    /// digest = SHA1(digest ^ SHA1(data)): order-dependent.
    static func mixDigest(_ digest: inout [UInt8], _ data: [UInt8]) {
        xorDigest(&digest, data)
        digest = SHA1.hash(digest)
    }

    /// Redis's OBJ_* type codes, as the digest hashes them.
    static func objectTypeCode(_ v: Value) -> UInt32 {
        switch v {
        case .string: return 0
        case .list: return 1
        case .set: return 2
        case .zset: return 3
        case .hash: return 4
        case .stream: return 6
        }
    }

    /// Mixes a value (and whether it expires) into `digest` (xorObjectDigest).
    func xorObjectDigest(_ digest: inout [UInt8], _ v: Value, expires: Bool) {
        let t = Server.objectTypeCode(v)
        Server.mixDigest(&digest, [UInt8(t >> 24), UInt8((t >> 16) & 0xFF), UInt8((t >> 8) & 0xFF), UInt8(t & 0xFF)])
        switch v {
        case .string(let b):
            Server.mixDigest(&digest, b)
        case .list(let l):
            for e in l.elements { Server.mixDigest(&digest, e) }
        case .set(let s):
            for m in s.members { Server.xorDigest(&digest, m.bytes) }
        case .zset(let z):
            for (m, score) in z.scores {
                var e = [UInt8](repeating: 0, count: 20)
                Server.mixDigest(&e, m.bytes)
                Server.mixDigest(&e, Array(NumberFormat.printf("%.17g", score).utf8))
                Server.xorDigest(&digest, e)
            }
        case .hash(let h):
            for (f, value) in h.fields {
                var e = [UInt8](repeating: 0, count: 20)
                Server.mixDigest(&e, f.bytes)
                Server.mixDigest(&e, value)
                Server.xorDigest(&digest, e)
            }
        case .stream(let s):
            var it = StreamIterator(s, start: nil, end: nil, reverse: false)
            while let (id, fields) = it.nextID() {
                Server.mixDigest(&digest, Array("\(id.ms).\(id.seq)".utf8))
                let pairs = it.fieldPairs(fields)
                for p in pairs { Server.mixDigest(&digest, p) }
            }
        }
        if expires { Server.xorDigest(&digest, Array("!!expire!!".utf8)) }
    }

    /// The dataset's digest; 20 zero bytes when empty.
    func datasetDigest() -> [UInt8] {
        var final = [UInt8](repeating: 0, count: 20)
        for db in databases where db.count > 0 {
            let id = UInt32(db.id)
            Server.mixDigest(&final, [UInt8(id >> 24), UInt8((id >> 16) & 0xFF), UInt8((id >> 8) & 0xFF), UInt8(id & 0xFF)])
            for (k, v) in db.dict {
                var d = [UInt8](repeating: 0, count: 20)
                Server.mixDigest(&d, k.bytes)
                xorObjectDigest(&d, v, expires: db.expiry(k) != nil)
                Server.xorDigest(&final, d)
            }
        }
        return final
    }

    /// Lower-case hex.
    static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for x in b { out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// DEBUG subcommands of this file; false if `sub` is not one of them.
    func debugDigestCommand(_ c: Client, _ sub: String) throws -> Bool {
        switch sub {
        case "DIGEST" where c.argc == 2:
            c.out.simple(Server.hex(datasetDigest()))
        case "DIGEST-VALUE":
            c.out.arrayHeader(c.argc - 2)
            for j in 2..<max(2, c.argc) {
                var d = [UInt8](repeating: 0, count: 20)
                // Logically expired keys count too: a debug command looks at what is stored.
                let key = c.key(j)
                if let v = c.db.raw(key) { xorObjectDigest(&d, v, expires: c.db.expiry(key) != nil) }
                c.out.simple(Server.hex(d))
            }
        case "LOADAOF":
            try debugLoadAOF()
            c.out.ok()
        case "RELOAD":
            for j in 2..<max(2, c.argc) where !["MERGE", "NOFLUSH", "NOSAVE"].contains(c.option(j)) {
                throw CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
            }
            do { try debugReload() } catch let e as CommandError { throw e } catch {
                throw CommandError("ERR Error trying to load the RDB dump")
            }
            log.warning("DB reloaded by DEBUG RELOAD")
            c.out.ok()
        default:
            return false
        }
        return true
    }

    /// DEBUG LOADAOF: writes and syncs what is buffered, empties every database and replays the
    /// AOF files. The replay propagates nothing (the files and replicas already have it). With
    /// AOF off it replays what is on disk (a BGREWRITEAOF writes the files anyway), as Redis 7.0
    /// does: unit/other reloads that way.
    func debugLoadAOF() throws {
        if aof.state != .off {
            aof.writeBuffer()
            aof.fsyncNow()
        }
        for db in databases {
            watchTable.touchExisting(in: db, now: clock.wallMillis())
            signalStreamsGoing(db)
            db.clear()
        }
        // While loading nothing propagates (shouldPropagate), as Redis's replay of its own files.
        let dirtyBefore = dirty
        loading = true
        defer {
            loading = false
            dirty = dirtyBefore
        }
        do { try aof.loadAtStartup() } catch {
            log.warning("DEBUG LOADAOF failed: \(error)")
            throw CommandError("ERR Error trying to load the AOF files: \(error)")
        }
        log.warning("Append Only File loaded by DEBUG LOADAOF")
    }
}

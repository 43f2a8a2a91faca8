// DUMP, RESTORE and RESTORE-ASKING (cluster.c): a value serialized exactly as in an RDB file
// (type byte and body, from RDBWriter), then the RDB version (2 bytes LE) and a CRC64 of all that
// (8 bytes LE). redis-server's payloads restore here and ours there; every type the RDB
// reader/writer learns (streams when they land) is picked up without changes here. Payloads are
// always checked as deeply as sanitize-dump-payload yes: vigil parses every value into its own
// structures, so a corrupt payload is refused whole instead of failing later.
import Shared

extension CommandTable {
    static var dump: [CommandSpec] {
        let restoreCats = ["keyspace", "write", "slow", "dangerous"]
        return [
            CommandSpec("dump", 2, [.readonly], ["keyspace", "read", "slow"], keys: (1, 1, 1)) { s, c in try s.dumpCommand(c) },
            CommandSpec("restore", -4, [.write, .denyOOM], restoreCats, keys: (1, 1, 1)) { s, c in try s.restoreCommand(c) },
            CommandSpec("restore-asking", -4, [.write, .denyOOM], restoreCats, keys: (1, 1, 1)) { s, c in try s.restoreCommand(c) },
            migrateSpec,
        ]
    }
}

/// The DUMP payload format.
enum DumpPayload {
    /// The serialized form of `value`.
    static func make(_ value: Value, compression: Bool) -> Bytes {
        var options = RDBWriter.Options()
        options.compression = compression
        var w = RDBWriter(options: options)
        w.writeValue(value)
        var b = w.buffer
        b.append(UInt8(RDB.version & 0xff))
        b.append(UInt8(RDB.version >> 8))
        let crc = CRC64.update(0, b)
        for i in 0..<8 { b.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i)))) }
        return b
    }

    /// Whether the footer holds an RDB version we read (at most ours) and a matching CRC64.
    static func verify(_ p: Bytes) -> Bool {
        guard p.count >= 10 else { return false }
        let footer = p.count - 10
        let version = Int(p[footer]) | Int(p[footer + 1]) << 8
        guard version <= RDB.version else { return false }
        let crc = p.withUnsafeBytes { CRC64.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<(p.count - 8)])) }
        for i in 0..<8 where p[footer + 2 + i] != UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i))) { return false }
        return true
    }

    /// The value a verified payload holds, or nil if its body is not a valid non-empty value.
    static func value(_ p: Bytes) -> Value? {
        var r = RDBReader(p)
        return (try? r.readValue()) ?? nil
    }
}

extension Server {
    func dumpCommand(_ c: Client) throws {
        guard let v = lookupRead(c.db, c.key(1)) else { c.out.null(); return }
        c.out.bulk(DumpPayload.make(v, compression: config.rdbcompression))
    }

    /// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
    func restoreCommand(_ c: Client) throws {
        var replace = false, absTTL = false
        var freq: Int64 = -1, idle: Int64 = -1
        var j = 4
        while j < c.argc {
            let more = c.argc - j - 1
            switch c.arg(j).text.lowercased() {
            case "replace": replace = true
            case "absttl": absTTL = true
            case "idletime" where more >= 1 && freq == -1:
                idle = try integerArgument(c.arg(j + 1))
                if idle < 0 { throw CommandError("ERR Invalid IDLETIME value, must be >= 0") }
                j += 1
            case "freq" where more >= 1 && idle == -1:
                freq = try integerArgument(c.arg(j + 1))
                if freq < 0 || freq > 255 { throw CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255") }
                j += 1
            default:
                throw CommandError.syntax
            }
            j += 1
        }
        let db = c.db, key = c.key(1)
        if !replace && lookupWrite(db, key) != nil { throw CommandError("BUSYKEY Target key name already exists.") }
        var ttl = try integerArgument(c.arg(2))
        if ttl < 0 { throw CommandError("ERR Invalid TTL value, must be >= 0") }
        let payload = c.arg(3)
        guard DumpPayload.verify(payload) else { throw CommandError("ERR DUMP payload version or checksum are wrong") }
        guard let value = DumpPayload.value(payload) else { throw CommandError("ERR Bad data format") }

        let deleted = replace && lookupWrite(db, key) != nil && db.remove(key) != nil
        if ttl != 0 && !absTTL {
            let (sum, overflow) = ttl.addingReportingOverflow(clock.wallMillis())
            ttl = overflow ? .max : sum
        }
        if ttl != 0 && alreadyExpired(ttl) {
            // Nothing to create; a replaced key is gone, and replicas hear a DEL.
            if deleted {
                keyWritten(db, key)
                propagateDataWrite(c, as: [[Array("DEL".utf8), key.bytes]])
            }
            c.out.ok()
            return
        }
        db.set(key, value)
        if ttl != 0 {
            db.setExpiry(key, ttl)
            if !absTTL {
                // Replicas get the deadline, not a delay that would start later there.
                var argv = c.argv
                argv[2] = Array(String(ttl).utf8)
                argv.append(Array("ABSTTL".utf8))
                propagateDataWrite(c, as: [argv])
            }
        }
        let now = clock.wallMillis()
        if lfuPolicy {
            if freq >= 0 {
                db.accessMeta[key] = AccessMeta(lastAccess: now, lfuCounter: UInt8(freq), lfuMinutes: AccessMeta.minutes(now))
            }
        } else if idle >= 0 {
            let (ms, o) = idle.multipliedReportingOverflow(by: 1000)
            let last = o ? Int64.min / 2 : now - ms
            db.accessMeta[key] = AccessMeta(lastAccess: last, lfuCounter: AccessMeta.lfuInitial, lfuMinutes: AccessMeta.minutes(now))
        }
        keyWritten(db, key)
        c.out.ok()
    }
}

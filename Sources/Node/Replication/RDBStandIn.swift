// STAND-IN — DELETE WHEN THE REAL PERSISTENCE (RDB writer/reader) AND STRING COMMANDS LAND.
//
// The replication work needs `makeRDBSnapshot()` / `loadRDBPayload(_:)` on Server and a way to
// write data in integration tests before the persistence and string-command branches merge.
// This file provides minimal versions with the agreed signatures:
//   - writer: a valid RDB v10 holding string keys only (other types are skipped), with AUX
//     repl-id/repl-offset fields and the CRC64 trailer;
//   - reader: RDB v10 (and older) with string values (raw, int, LZF encodings), expiries, AUX,
//     SELECTDB/RESIZEDB; other value types are refused (the link drops and retries).
//   - test-only commands (SET/GET/DEL/INCR/DBSIZE and an INFO with the replication/stats
//     sections), registered at start only when the environment has VIGIL_REPLICATION_STANDIN=1.
//     They are NOT in CommandTable.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// Errors of the stand-in RDB reader.
struct RDBStandInError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension Server {
    /// Hook the RDB writer calls for the repl-id/repl-offset AUX fields (stand-in storage).
    var rdbReplicationInfo: (() -> (id: String, offset: Int64)?)? {
        get { replication.rdbInfoHook }
        set { replication.rdbInfoHook = newValue }
    }

    /// Serializes every database as an RDB v10 payload (stand-in: string keys only).
    func makeRDBSnapshot() -> Bytes {
        var w = StandInRDBWriter()
        w.out += Bytes("REDIS0010".utf8)
        w.aux("redis-ver", "7.0.15")
        w.aux("redis-bits", "64")
        w.aux("ctime", String(Clock.wallSeconds()))
        w.aux("used-mem", "0")
        if let info = rdbReplicationInfo?() {
            w.aux("repl-stream-db", "0")
            w.aux("repl-id", info.id)
            w.aux("repl-offset", String(info.offset))
        }
        w.aux("aof-base", "0")
        for db in databases where db.count > 0 {
            w.out.append(0xFE)
            w.length(db.id)
            w.out.append(0xFB)
            w.length(db.dict.count)
            w.length(db.expires.count)
            for (key, value) in db.dict {
                guard case .string(let s) = value else { continue }
                if let at = db.expires[key] {
                    w.out.append(0xFC)
                    withUnsafeBytes(of: at.littleEndian) { w.out += $0 }
                }
                w.out.append(0)
                w.string(key.bytes)
                w.string(s)
            }
        }
        w.out.append(0xFF)
        let crc = StandInCRC64.checksum(w.out)
        withUnsafeBytes(of: crc.littleEndian) { w.out += $0 }
        return w.out
    }

    /// Replaces all data with an RDB payload; returns its repl-id/repl-offset AUX fields.
    func loadRDBPayload(_ bytes: Bytes) throws -> (replID: String?, offset: Int64?) {
        var r = StandInRDBReader(bytes: bytes)
        let parsed = try r.parse(databaseCount: databases.count)
        for db in databases { db.clear() }
        for e in parsed.entries {
            databases[e.db].set(Key(e.key), .string(e.value))
            if let at = e.expireAt { databases[e.db].setExpiry(Key(e.key), at) }
        }
        dirty += 1
        return (parsed.replID, parsed.offset)
    }
}

/// CRC-64/Jones as Redis uses for RDB trailers (reflected, poly 0xad93d23594c935a9).
enum StandInCRC64 {
    private static let table: [UInt64] = (0..<256).map { i -> UInt64 in
        var c = UInt64(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x95ac9329ac4bc9b5 : c >> 1 }
        return c
    }

    /// The checksum of `bytes` starting from `crc`.
    static func checksum<C: Collection>(_ bytes: C, crc: UInt64 = 0) -> UInt64 where C.Element == UInt8 {
        var c = crc
        for b in bytes { c = table[Int((c ^ UInt64(b)) & 0xff)] ^ (c >> 8) }
        return c
    }
}

private struct StandInRDBWriter {
    var out = Bytes()

    mutating func length(_ n: Int) {
        if n < 64 {
            out.append(UInt8(n))
        } else if n < 16384 {
            out.append(0x40 | UInt8(n >> 8))
            out.append(UInt8(n & 0xff))
        } else if n <= Int(UInt32.max) {
            out.append(0x80)
            withUnsafeBytes(of: UInt32(n).bigEndian) { out += $0 }
        } else {
            out.append(0x81)
            withUnsafeBytes(of: UInt64(n).bigEndian) { out += $0 }
        }
    }

    mutating func string(_ s: Bytes) {
        length(s.count)
        out += s
    }

    mutating func aux(_ k: String, _ v: String) {
        out.append(0xFA)
        string(Bytes(k.utf8))
        string(Bytes(v.utf8))
    }
}

private struct StandInRDBReader {
    let bytes: Bytes
    var pos = 0

    struct Entry {
        let db: Int
        let key: Bytes
        let value: Bytes
        let expireAt: Int64?
    }

    init(bytes: Bytes) { self.bytes = bytes }

    mutating func byte() throws -> UInt8 {
        guard pos < bytes.count else { throw RDBStandInError("Unexpected EOF reading RDB file") }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func take(_ n: Int) throws -> Bytes {
        guard n >= 0, n <= bytes.count - pos else { throw RDBStandInError("Unexpected EOF reading RDB file") }
        defer { pos += n }
        return Bytes(bytes[pos..<(pos + n)])
    }

    mutating func littleEndian(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(n).enumerated() { v |= UInt64(b) << UInt64(8 * i) }
        return v
    }

    /// A length, or an encoded-string marker (`encoded` = the low 6 bits).
    mutating func length() throws -> (value: Int, encoded: Bool) {
        let b = try byte()
        switch b >> 6 {
        case 0: return (Int(b & 0x3f), false)
        case 1: return ((Int(b & 0x3f) << 8) | Int(try byte()), false)
        case 3: return (Int(b & 0x3f), true)
        default:
            var v: UInt64 = 0
            let n: Int
            if b == 0x80 { n = 4 } else if b == 0x81 { n = 8 } else { throw RDBStandInError("Unknown length encoding \(b) in rdbLoadLen()") }
            for x in try take(n) { v = (v << 8) | UInt64(x) }
            guard v <= UInt64(Int.max) else { throw RDBStandInError("Length out of range") }
            return (Int(v), false)
        }
    }

    mutating func plainLength() throws -> Int {
        let l = try length()
        guard !l.encoded else { throw RDBStandInError("Unexpected encoded length") }
        return l.value
    }

    mutating func string() throws -> Bytes {
        let l = try length()
        guard l.encoded else { return try take(l.value) }
        switch l.value {
        case 0: return Bytes(String(Int8(bitPattern: try byte())).utf8)
        case 1: return Bytes(String(Int16(truncatingIfNeeded: try littleEndian(2))).utf8)
        case 2: return Bytes(String(Int32(truncatingIfNeeded: try littleEndian(4))).utf8)
        case 3:
            let clen = try plainLength()
            let ulen = try plainLength()
            return try StandInLZF.decompress(try take(clen), expectedLength: ulen)
        default: throw RDBStandInError("Unknown RDB string encoding type \(l.value)")
        }
    }

    mutating func parse(databaseCount: Int) throws -> (entries: [Entry], replID: String?, offset: Int64?) {
        guard bytes.count >= 9, bytes[0..<5].elementsEqual("REDIS".utf8),
              let version = Int(String(decoding: bytes[5..<9], as: UTF8.self)), version >= 1, version <= 10 else {
            throw RDBStandInError("Wrong signature trying to load DB from file")
        }
        pos = 9
        var entries: [Entry] = []
        var db = 0
        var expireAt: Int64? = nil
        var replID: String? = nil
        var offset: Int64? = nil
        while true {
            let type = try byte()
            switch type {
            case 0xFA:
                let k = String(decoding: try string(), as: UTF8.self)
                let v = String(decoding: try string(), as: UTF8.self)
                if k == "repl-id" { replID = v }
                if k == "repl-offset" { offset = Int64(v) }
            case 0xFE:
                db = try plainLength()
                guard db < databaseCount else { throw RDBStandInError("FATAL: Data file was created with a Redis server configured to handle more than \(databaseCount) databases.") }
            case 0xFB:
                _ = try plainLength()
                _ = try plainLength()
            case 0xFD: expireAt = Int64(try littleEndian(4)) * 1000
            case 0xFC: expireAt = Int64(bitPattern: try littleEndian(8))
            case 0xF8: _ = try plainLength()
            case 0xF7: _ = try byte()
            case 0xFF:
                if version >= 5 && bytes.count - pos >= 8 {
                    let expected = try littleEndian(8)
                    if expected != 0 && expected != StandInCRC64.checksum(bytes[0..<(pos - 8)]) {
                        throw RDBStandInError("Wrong RDB checksum")
                    }
                }
                return (entries, replID, offset)
            case 0:
                let key = try string()
                let value = try string()
                entries.append(Entry(db: db, key: key, value: value, expireAt: expireAt))
                expireAt = nil
            default:
                throw RDBStandInError("The replication stand-in RDB reader supports strings only (type \(type))")
            }
        }
    }
}

/// LZF decompression (the RDB string compression).
enum StandInLZF {
    /// Decompresses `input`; throws on malformed data or a length mismatch.
    static func decompress(_ input: Bytes, expectedLength: Int) throws -> Bytes {
        var out = Bytes()
        out.reserveCapacity(max(0, min(expectedLength, 1 << 20)))
        var i = 0
        while i < input.count {
            let ctrl = Int(input[i])
            i += 1
            if ctrl < 32 {
                let n = ctrl + 1
                guard i + n <= input.count else { throw RDBStandInError("Invalid LZF data") }
                out += input[i..<(i + n)]
                i += n
            } else {
                var len = ctrl >> 5
                if len == 7 {
                    guard i < input.count else { throw RDBStandInError("Invalid LZF data") }
                    len += Int(input[i])
                    i += 1
                }
                guard i < input.count else { throw RDBStandInError("Invalid LZF data") }
                var ref = out.count - ((ctrl & 0x1f) << 8) - 1 - Int(input[i])
                i += 1
                guard ref >= 0 else { throw RDBStandInError("Invalid LZF data") }
                for _ in 0..<(len + 2) {
                    out.append(out[ref])
                    ref += 1
                }
            }
            guard out.count <= expectedLength else { throw RDBStandInError("Invalid LZF data") }
        }
        guard out.count == expectedLength else { throw RDBStandInError("Invalid LZF data") }
        return out
    }
}

// MARK: - Test-only commands

extension Replication {
    /// Registers the stand-in commands when VIGIL_REPLICATION_STANDIN=1 (integration tests only).
    func installStandInCommandsIfRequested() {
        guard let v = getenv("VIGIL_REPLICATION_STANDIN"), String(cString: v) == "1" else { return }
        for spec in Self.replicationStandInCommands where server.commandTable[spec.name] == nil {
            server.commandTable[spec.name] = spec
        }
    }

    /// Minimal SET/GET/DEL/INCR/DBSIZE/INFO to exercise replication before the real ones merge.
    static var replicationStandInCommands: [CommandSpec] {
        [
            CommandSpec("set", 3, [.write, .denyOOM], ["write", "string"], keys: (1, 1, 1)) { s, c in
                _ = s.lookupWrite(c.db, c.key(1))
                c.db.set(c.key(1), .string(c.arg(2)))
                s.signalModifiedKey(c.db, c.key(1))
                s.dirty += 1
                c.out.ok()
            },
            CommandSpec("get", 2, [.readonly, .fast], ["read", "string"], keys: (1, 1, 1)) { s, c in
                c.out.bulkOrNull(try s.readString(c.db, c.key(1)))
            },
            CommandSpec("del", -2, [.write], ["write", "keyspace"], keys: (1, -1, 1)) { s, c in
                var n = 0
                for i in 1..<c.argc where s.lookupWrite(c.db, c.key(i)) != nil {
                    c.db.remove(c.key(i))
                    s.signalModifiedKey(c.db, c.key(i))
                    n += 1
                }
                s.dirty += n
                c.out.integer(n)
            },
            CommandSpec("incr", 2, [.write, .denyOOM, .fast], ["write", "string"], keys: (1, 1, 1)) { s, c in
                let old = try s.readString(c.db, c.key(1)) ?? Bytes("0".utf8)
                guard let v = Int64(String(decoding: old, as: UTF8.self)) else { throw CommandError.notInteger }
                let (n, o) = v.addingReportingOverflow(1)
                guard !o else { throw CommandError.overflow }
                c.db.set(c.key(1), .string(Bytes(String(n).utf8)), keepTTL: true)
                s.signalModifiedKey(c.db, c.key(1))
                s.dirty += 1
                c.out.integer(n)
            },
            CommandSpec("dbsize", 1, [.readonly, .fast], ["read", "keyspace"]) { s, c in c.out.integer(c.db.count) },
            CommandSpec("info", -1, [.loading, .stale], ["slow", "dangerous"]) { s, c in
                let section = c.argc > 1 ? c.option(1).lowercased() : "all"
                var text = ""
                if section == "replication" || section == "all" || section == "default" {
                    text += "# Replication\r\n" + s.replicationInfo().map { $0 + "\r\n" }.joined()
                }
                if section == "stats" || section == "all" || section == "default" {
                    text += "# Stats\r\nsync_full:\(s.stats.syncFull)\r\nsync_partial_ok:\(s.stats.syncPartialOK)\r\nsync_partial_err:\(s.stats.syncPartialErr)\r\n"
                }
                c.out.bulk(text)
            },
        ]
    }
}

// String commands: GET/SET and their variants, counters, and byte-range edits. Relative expiries
// propagate as absolute ones (SET ... PXAT, PEXPIREAT) so replicas and the AOF agree on deadlines.
import Shared

extension CommandTable {
    static var strings: [CommandSpec] {
        let k1 = (1, 1, 1)
        let w: CommandFlags = [.write, .denyOOM]
        let wf: CommandFlags = [.write, .denyOOM, .fast]
        let rf: CommandFlags = [.readonly, .fast]
        return [
            CommandSpec("get", 2, rf, ["read", "string", "fast"], keys: k1) { s, c in try s.getCommand(c) },
            CommandSpec("set", -3, w, ["write", "string", "slow"], keys: k1) { s, c in try s.setCommand(c) },
            CommandSpec("setnx", 3, wf, ["write", "string", "fast"], keys: k1) { s, c in try s.setnxCommand(c) },
            CommandSpec("setex", 4, w, ["write", "string", "slow"], keys: k1) { s, c in
                try s.setGeneric(c, value: c.arg(3), options: StringSetOptions(expireArg: c.arg(2), expire: ExpireSpec(seconds: true, absolute: false)))
            },
            CommandSpec("psetex", 4, w, ["write", "string", "slow"], keys: k1) { s, c in
                try s.setGeneric(c, value: c.arg(3), options: StringSetOptions(expireArg: c.arg(2), expire: ExpireSpec(seconds: false, absolute: false)))
            },
            CommandSpec("getset", 3, wf, ["write", "string", "fast"], keys: k1) { s, c in try s.getsetCommand(c) },
            CommandSpec("getdel", 2, wf, ["write", "string", "fast"], keys: k1) { s, c in try s.getdelCommand(c) },
            CommandSpec("getex", -2, wf, ["write", "string", "fast"], keys: k1) { s, c in try s.getexCommand(c) },
            CommandSpec("mget", -2, rf, ["read", "string", "fast"], keys: (1, -1, 1)) { s, c in s.mgetCommand(c) },
            CommandSpec("mset", -3, w, ["write", "string", "slow"], keys: (1, -1, 2)) { s, c in try s.msetCommand(c, onlyIfNoneExist: false) },
            CommandSpec("msetnx", -3, w, ["write", "string", "slow"], keys: (1, -1, 2)) { s, c in try s.msetCommand(c, onlyIfNoneExist: true) },
            CommandSpec("incr", 2, wf, ["write", "string", "fast"], keys: k1) { s, c in try s.incrBy(c, 1) },
            CommandSpec("decr", 2, wf, ["write", "string", "fast"], keys: k1) { s, c in try s.incrBy(c, -1) },
            CommandSpec("incrby", 3, wf, ["write", "string", "fast"], keys: k1) { s, c in
                try s.incrBy(c, try s.integerArgument(c.arg(2)))
            },
            CommandSpec("decrby", 3, wf, ["write", "string", "fast"], keys: k1) { s, c in
                let by = try s.integerArgument(c.arg(2))
                guard by != Int64.min else { throw CommandError("ERR decrement would overflow") }
                try s.incrBy(c, -by)
            },
            CommandSpec("incrbyfloat", 3, wf, ["write", "string", "fast"], keys: k1) { s, c in try s.incrbyfloatCommand(c) },
            CommandSpec("append", 3, wf, ["write", "string", "fast"], keys: k1) { s, c in try s.appendCommand(c) },
            CommandSpec("strlen", 2, rf, ["read", "string", "fast"], keys: k1) { s, c in
                c.out.integer(try s.readString(c.db, c.key(1))?.count ?? 0)
            },
            CommandSpec("getrange", 4, [.readonly], ["read", "string", "slow"], keys: k1) { s, c in try s.getrangeCommand(c) },
            CommandSpec("substr", 4, [.readonly], ["read", "string", "slow"], keys: k1) { s, c in try s.getrangeCommand(c) },
            CommandSpec("setrange", 4, w, ["write", "string", "slow"], keys: k1) { s, c in try s.setrangeCommand(c) },
        ]
    }
}

/// Options of SET and GETEX, as Redis's parseExtendedStringArgumentsOrReply collects them.
struct StringSetOptions {
    var nx = false
    var xx = false
    var get = false
    var keepTTL = false
    var persist = false
    /// The raw expiry argument of EX/PX/EXAT/PXAT, validated later (after the syntax checks).
    var expireArg: Bytes? = nil
    var expire = ExpireSpec(seconds: true, absolute: false)

    init() {}
    init(expireArg: Bytes, expire: ExpireSpec) {
        self.expireArg = expireArg
        self.expire = expire
    }

    /// Parses `argv[from...]`; `forSet` admits NX/XX/GET/KEEPTTL, otherwise (GETEX) PERSIST.
    /// Repeating an option is accepted, conflicting ones are a syntax error, as in Redis.
    static func parse(_ argv: [Bytes], from: Int, forSet: Bool) throws -> StringSetOptions {
        var o = StringSetOptions()
        var j = from
        while j < argv.count {
            let opt = String(decoding: argv[j], as: UTF8.self).uppercased()
            let hasNext = j + 1 < argv.count
            let hasExpire = o.expireArg != nil
            func expire(_ seconds: Bool, _ absolute: Bool) -> Bool {
                // The same option may repeat (the last value wins); a different unit may not.
                guard hasNext, !o.keepTTL, !o.persist else { return false }
                if hasExpire && (o.expire.seconds != seconds || o.expire.absolute != absolute) { return false }
                o.expire = ExpireSpec(seconds: seconds, absolute: absolute)
                o.expireArg = argv[j + 1]
                j += 1
                return true
            }
            switch opt {
            case "NX" where forSet && !o.xx: o.nx = true
            case "XX" where forSet && !o.nx: o.xx = true
            case "GET" where forSet: o.get = true
            case "KEEPTTL" where forSet && !o.persist && !hasExpire: o.keepTTL = true
            case "PERSIST" where !forSet && !o.keepTTL && !hasExpire: o.persist = true
            case "EX" where expire(true, false): break
            case "PX" where expire(false, false): break
            case "EXAT" where expire(true, true): break
            case "PXAT" where expire(false, true): break
            default: throw CommandError.syntax
            }
            j += 1
        }
        return o
    }
}

extension Server {
    // MARK: - GET / SET

    func getCommand(_ c: Client) throws {
        if let v = try readString(c.db, c.key(1)) { c.out.bulk(v) } else { c.out.null() }
    }

    func setCommand(_ c: Client) throws {
        try setGeneric(c, value: c.arg(2), options: try StringSetOptions.parse(c.argv, from: 3, forSet: true))
    }

    /// SET, SETEX and PSETEX: validate the expiry, answer GET, honour NX/XX, store, propagate
    /// relative expiries as `SET key value PXAT ms`.
    func setGeneric(_ c: Client, value: Bytes, options o: StringSetOptions) throws {
        let db = c.db, key = c.key(1)
        var at: Int64? = nil
        if let arg = o.expireArg {
            at = try expireAtMillis(arg, o.expire, command: String(decoding: c.argv[0], as: UTF8.self).lowercased())
        }
        if o.get {
            if let old = try readString(db, key) { c.out.bulk(old) } else { c.out.null() }
        }
        // A plain SET needs no lookup when no key has an expiry (nothing to expire first, and NX/XX
        // are not asked): that saves a dictionary probe per SET.
        let found = (o.nx || o.xx || !db.expires.isEmpty) && lookupWrite(db, key) != nil
        if (o.nx && found) || (o.xx && !found) {
            if !o.get { c.out.null() }
            return
        }
        db.set(key, .string(value), keepTTL: o.keepTTL)
        if let at { db.setExpiry(key, at) }
        keyWritten(db, key)
        notifyKeyspaceEvent(.string, "set", db, key)
        if at != nil { notifyKeyspaceEvent(.generic, "expire", db, key) }
        if !o.get { c.out.ok() }
        if let at, !o.expire.absolute {
            propagateAs([Bytes("SET".utf8), key.bytes, value, Bytes("PXAT".utf8), Bytes(String(at).utf8)])
        }
    }

    func setnxCommand(_ c: Client) throws {
        let key = c.key(1)
        if lookupWrite(c.db, key) != nil { c.out.integer(0); return }
        c.db.set(key, .string(c.arg(2)))
        keyWritten(c.db, key)
        notifyKeyspaceEvent(.string, "set", c.db, key)
        c.out.integer(1)
    }

    func getsetCommand(_ c: Client) throws {
        let key = c.key(1)
        if let old = try readString(c.db, key) { c.out.bulk(old) } else { c.out.null() }
        c.db.set(key, .string(c.arg(2)))
        keyWritten(c.db, key)
        notifyKeyspaceEvent(.string, "set", c.db, key)
        propagateAs([Bytes("SET".utf8), key.bytes, c.arg(2)])
    }

    func getdelCommand(_ c: Client) throws {
        let key = c.key(1)
        guard let v = try readString(c.db, key) else { c.out.null(); return }
        c.out.bulk(v)
        c.db.remove(key)
        keyWritten(c.db, key)
        notifyKeyspaceEvent(.generic, "del", c.db, key)
        propagateAs([Bytes("DEL".utf8), key.bytes])
    }

    func getexCommand(_ c: Client) throws {
        let o = try StringSetOptions.parse(c.argv, from: 2, forSet: false)
        let db = c.db, key = c.key(1)
        guard let v = try readString(db, key) else { c.out.null(); return }
        var at: Int64? = nil
        if let arg = o.expireArg { at = try expireAtMillis(arg, o.expire, command: "getex") }
        c.out.bulk(v)
        if let at {
            if o.expire.absolute && alreadyExpired(at) {
                db.remove(key)
                propagateAs([Bytes("DEL".utf8), key.bytes])
                keyWritten(db, key)
                notifyKeyspaceEvent(.generic, "del", db, key)
            } else {
                db.setExpiry(key, at)
                propagateAs([Bytes("PEXPIREAT".utf8), key.bytes, Bytes(String(at).utf8)])
                keyWritten(db, key)
                notifyKeyspaceEvent(.generic, "expire", db, key)
            }
        } else if o.persist && db.removeExpiry(key) {
            propagateAs([Bytes("PERSIST".utf8), key.bytes])
            keyWritten(db, key)
            notifyKeyspaceEvent(.generic, "persist", db, key)
        }
    }

    func mgetCommand(_ c: Client) {
        c.out.arrayHeader(c.argc - 1)
        for i in 1..<c.argc {
            if case .string(let v)? = lookupRead(c.db, c.key(i)) { c.out.bulk(v) } else { c.out.null() }
        }
    }

    func msetCommand(_ c: Client, onlyIfNoneExist: Bool) throws {
        guard c.argc % 2 == 1 else { throw CommandError.wrongArity(onlyIfNoneExist ? "msetnx" : "mset") }
        if onlyIfNoneExist {
            for i in stride(from: 1, to: c.argc, by: 2) where lookupWrite(c.db, c.key(i)) != nil {
                c.out.integer(0)
                return
            }
        }
        for i in stride(from: 1, to: c.argc, by: 2) {
            let key = c.key(i)
            c.db.set(key, .string(c.arg(i + 1)))
            signalModifiedKey(c.db, key)
            notifyKeyspaceEvent(.string, "set", c.db, key)
        }
        dirty += (c.argc - 1) / 2
        if onlyIfNoneExist { c.out.integer(1) } else { c.out.ok() }
    }

    // MARK: - Counters

    /// INCR, DECR, INCRBY, DECRBY: the value must be a 64-bit decimal; the TTL is kept.
    func incrBy(_ c: Client, _ by: Int64) throws {
        let db = c.db, key = c.key(1)
        var current: Int64 = 0
        let existing = lookupWrite(db, key)
        if let existing {
            guard case .string(let b) = existing else { throw CommandError.wrongType }
            guard let v = NumberFormat.parseInt(b) else { throw CommandError.notInteger }
            current = v
        }
        let (sum, overflow) = current.addingReportingOverflow(by)
        if overflow { throw CommandError.overflow }
        let bytes = Bytes(String(sum).utf8)
        if existing != nil { db.update(key, .string(bytes)) } else { db.set(key, .string(bytes)) }
        keyWritten(db, key)
        notifyKeyspaceEvent(.string, "incrby", db, key)
        c.out.integer(Int(sum))
    }

    func incrbyfloatCommand(_ c: Client) throws {
        let db = c.db, key = c.key(1)
        let existing = lookupWrite(db, key)
        var current: LongDouble = 0
        if let existing {
            guard case .string(let b) = existing else { throw CommandError.wrongType }
            guard let v = LongDouble.parse(b) else { throw CommandError.notFloat }
            current = v
        }
        guard let by = LongDouble.parse(c.arg(2)) else { throw CommandError.notFloat }
        let result = current + by
        if result.isNaN || result.isInfinite { throw CommandError("ERR increment would produce NaN or Infinity") }
        let bytes = Bytes(LongDouble.humanString(result).utf8)
        if existing != nil { db.update(key, .string(bytes)) } else { db.set(key, .string(bytes)) }
        keyWritten(db, key)
        notifyKeyspaceEvent(.string, "incrbyfloat", db, key)
        c.out.bulk(bytes)
        // Replicas must not redo float arithmetic (it may round differently): send the result.
        propagateAs([Bytes("SET".utf8), key.bytes, bytes, Bytes("KEEPTTL".utf8)])
    }

    // MARK: - Byte ranges

    /// Redis's checkStringLength: clients are held to proto-max-bulk-len. Redis trusts its master
    /// without limit; we still refuse sizes no allocation could satisfy (over 4 GB or
    /// overflowing), so a bad stream cannot abort the process.
    func checkStringLength(_ c: Client, _ size: Int, _ append: Int) throws {
        let limit = c.flags.contains(.master) ? max(config.protoMaxBulkLen, 1 << 32) : config.protoMaxBulkLen
        let (total, overflow) = size.addingReportingOverflow(append)
        if overflow || total > limit {
            throw CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        }
    }

    /// Takes the string at `key` out of the dictionary so that it is uniquely referenced and
    /// can grow in place (APPEND/SETRANGE stay amortized O(appended bytes), as in Redis).
    /// nil if absent; WRONGTYPE if not a string. The expiry is untouched.
    private func takeString(_ db: Database, _ key: Key) throws -> (bytes: Bytes, meta: UInt32)? {
        switch lookupWrite(db, key) {
        case nil: return nil
        case .string?: break
        default: throw CommandError.wrongType
        }
        guard let e = db.dict.removeEntry(forKey: key), case .string(let b) = e.value else { return nil }
        return (b, e.meta)
    }

    func appendCommand(_ c: Client) throws {
        let db = c.db, key = c.key(1)
        let add = c.arg(2)
        if let (taken, meta) = try takeString(db, key) {
            var value = taken
            do { try checkStringLength(c, value.count, add.count) } catch {
                db.dict.insert(key, .string(value), meta: meta)
                throw error
            }
            value.append(contentsOf: add)
            db.dict.insert(key, .string(value), meta: meta | KeyAging.rawStringBit)
            c.out.integer(value.count)
        } else {
            db.set(key, .string(add))
            c.out.integer(add.count)
        }
        keyWritten(db, key)
        notifyKeyspaceEvent(.string, "append", db, key)
    }

    func getrangeCommand(_ c: Client) throws {
        var start = try integerArgument(c.arg(2))
        var end = try integerArgument(c.arg(3))
        guard let v = try readString(c.db, c.key(1)) else { c.out.raw("$0\r\n\r\n"); return }
        let len = Int64(v.count)
        if start < 0 && end < 0 && start > end { c.out.raw("$0\r\n\r\n"); return }
        if start < 0 { start += len }
        if end < 0 { end += len }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= len { end = len - 1 }
        if start > end || len == 0 { c.out.raw("$0\r\n\r\n"); return }
        c.out.bulk(v[Int(start)...Int(end)])
    }

    func setrangeCommand(_ c: Client) throws {
        let db = c.db, key = c.key(1)
        guard let offset64 = NumberFormat.parseInt(c.arg(2)) else { throw CommandError.notInteger }
        guard offset64 >= 0 else { throw CommandError("ERR offset is out of range") }
        let offset = Int(offset64)
        let patch = c.arg(3)
        let existed: Bool
        var value: Bytes
        var meta: UInt32 = 0
        if let (current, m) = try takeString(db, key) {
            value = current
            meta = m
            existed = true
            db.dict.insert(key, .string(value), meta: meta)  // put back until we know the edit is valid
            if patch.isEmpty { c.out.integer(value.count); return }
            try checkStringLength(c, offset, patch.count)
            db.dict.removeValue(forKey: key)
        } else {
            if patch.isEmpty { c.out.integer(0); return }
            try checkStringLength(c, offset, patch.count)
            value = []
            existed = false
        }
        if value.count < offset + patch.count {
            value.append(contentsOf: repeatElement(0, count: offset + patch.count - value.count))
        }
        value.replaceSubrange(offset..<(offset + patch.count), with: patch)
        if existed { db.dict.insert(key, .string(value), meta: meta | KeyAging.rawStringBit) } else { db.setRawString(key, value) }
        keyWritten(db, key)
        notifyKeyspaceEvent(.string, "setrange", db, key)
        c.out.integer(value.count)
    }
}

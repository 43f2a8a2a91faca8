// Generic keyspace commands: existence, deletion, types, expiry, renaming and moving keys across
// databases. Scanning, OBJECT and whole-database commands live in Server+KeysScan.swift.
import Shared

extension CommandTable {
    static var keys: [CommandSpec] {
        let k1 = (1, 1, 1)
        let all = (1, -1, 1)
        let wf: CommandFlags = [.write, .fast]
        let rf: CommandFlags = [.readonly, .fast]
        func expireSpec(_ name: String, seconds: Bool, absolute: Bool) -> CommandSpec {
            CommandSpec(name, -3, wf, ["keyspace", "write", "fast"], keys: k1) { s, c in
                try s.expireGeneric(c, ExpireSpec(seconds: seconds, absolute: absolute))
            }
        }
        func ttlSpec(_ name: String, ms: Bool, absolute: Bool) -> CommandSpec {
            CommandSpec(name, 2, rf, ["keyspace", "read", "fast"], keys: k1) { s, c in
                s.ttlGeneric(c, milliseconds: ms, absolute: absolute)
            }
        }
        return [
            CommandSpec("del", -2, [.write], ["keyspace", "write", "slow"], keys: all) { s, c in s.delCommand(c) },
            CommandSpec("unlink", -2, [.write, .fast], ["keyspace", "write", "fast"], keys: all) { s, c in s.delCommand(c, lazy: true) },
            CommandSpec("exists", -2, rf, ["keyspace", "read", "fast"], keys: all) { s, c in
                var n = 0
                // A lookup, not a peek: EXISTS counts keyspace hits and misses in Redis.
                for i in 1..<c.argc where s.lookupRead(c.db, c.key(i)) != nil { n += 1 }
                c.out.integer(n)
            },
            CommandSpec("touch", -2, rf, ["keyspace", "read", "fast"], keys: all) { s, c in
                var n = 0
                for i in 1..<c.argc where s.lookupRead(c.db, c.key(i)) != nil { n += 1 }
                c.out.integer(n)
            },
            CommandSpec("type", 2, rf, ["keyspace", "read", "fast"], keys: k1) { s, c in
                c.out.simple(s.lookupRead(c.db, c.key(1))?.typeName ?? "none")
            },
            expireSpec("expire", seconds: true, absolute: false),
            expireSpec("pexpire", seconds: false, absolute: false),
            expireSpec("expireat", seconds: true, absolute: true),
            expireSpec("pexpireat", seconds: false, absolute: true),
            ttlSpec("ttl", ms: false, absolute: false),
            ttlSpec("pttl", ms: true, absolute: false),
            ttlSpec("expiretime", ms: false, absolute: true),
            ttlSpec("pexpiretime", ms: true, absolute: true),
            CommandSpec("persist", 2, wf, ["keyspace", "write", "fast"], keys: k1) { s, c in
                let key = c.key(1)
                if s.lookupWrite(c.db, key) != nil && c.db.removeExpiry(key) {
                    s.keyWritten(c.db, key)
                    s.notifyKeyspaceEvent(.generic, "persist", c.db, key)
                    c.out.integer(1)
                } else {
                    c.out.integer(0)
                }
            },
            CommandSpec("rename", 3, [.write], ["keyspace", "write", "slow"], keys: (1, 2, 1)) { s, c in try s.renameGeneric(c, nx: false) },
            CommandSpec("renamenx", 3, wf, ["keyspace", "write", "fast"], keys: (1, 2, 1)) { s, c in try s.renameGeneric(c, nx: true) },
            CommandSpec("move", 3, wf, ["keyspace", "write", "fast"], keys: k1) { s, c in try s.moveCommand(c) },
            CommandSpec("copy", -3, [.write, .denyOOM], ["keyspace", "write", "slow"], keys: (1, 2, 1)) { s, c in try s.copyCommand(c) },
            CommandSpec("randomkey", 1, [.readonly], ["keyspace", "read", "slow"]) { s, c in s.randomkeyCommand(c) },
            CommandSpec("dbsize", 1, rf, ["keyspace", "read", "fast"]) { s, c in c.out.integer(c.db.count) },
            CommandSpec("keys", 2, [.readonly], ["keyspace", "read", "slow", "dangerous"]) { s, c in s.keysCommand(c) },
            CommandSpec("scan", -2, [.readonly], ["keyspace", "read", "slow"]) { s, c in try s.scanCommand(c) },
            CommandSpec("flushdb", -1, [.write], ["keyspace", "write", "slow", "dangerous"]) { s, c in try s.flushdbCommand(c) },
            CommandSpec("flushall", -1, [.write], ["keyspace", "write", "slow", "dangerous"]) { s, c in try s.flushallCommand(c) },
            CommandSpec("swapdb", 3, wf, ["keyspace", "write", "fast", "dangerous"]) { s, c in try s.swapdbCommand(c) },
            CommandSpec("object", -2, [.readonly], ["keyspace", "read", "slow"], keys: (2, 2, 1),
                        subcommands: ["encoding", "freq", "help", "idletime", "refcount"]) { s, c in try s.objectCommand(c) },
        ]
    }
}

extension Server {
    // MARK: - Deletion

    /// DEL and UNLINK (`lazy`: big values are freed on the lazyfree thread; DEL too with
    /// lazyfree-lazy-user-del yes).
    func delCommand(_ c: Client, lazy: Bool = false) {
        let lazy = lazy || config.lazyfreeLazyUserDel
        var n = 0
        for i in 1..<c.argc {
            let key = c.key(i)
            if lookupWrite(c.db, key) != nil, let old = c.db.remove(key) {
                if lazy { LazyFree.dispose(old) }
                keyWritten(c.db, key)
                notifyKeyspaceEvent(.generic, "del", c.db, key)
                n += 1
            }
        }
        c.out.integer(n)
    }

    // MARK: - Expiry

    /// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT. Times in the past delete the key
    /// (propagated as DEL); others propagate as PEXPIREAT so replicas share the deadline.
    func expireGeneric(_ c: Client, _ spec: ExpireSpec) throws {
        let name = String(decoding: c.argv[0], as: UTF8.self).lowercased()
        var nx = false, xx = false, gt = false, lt = false
        for i in 3..<max(3, c.argc) {
            switch c.option(i) {
            case "NX": nx = true
            case "XX": xx = true
            case "GT": gt = true
            case "LT": lt = true
            default: throw CommandError("ERR Unsupported option \(c.arg(i).text)")
            }
        }
        if nx && (xx || gt || lt) { throw CommandError("ERR NX and XX, GT or LT options at the same time are not compatible") }
        if gt && lt { throw CommandError("ERR GT and LT options at the same time are not compatible") }
        var when = try integerArgument(c.arg(2))
        if spec.seconds {
            guard when <= Int64.max / 1000 && when >= Int64.min / 1000 else { throw CommandError.invalidExpireTime(name) }
            when *= 1000
        }
        let base: Int64 = spec.absolute ? 0 : clock.wallMillis()
        guard when <= Int64.max - base else { throw CommandError.invalidExpireTime(name) }
        when += base
        let db = c.db, key = c.key(1)
        guard lookupWrite(db, key) != nil else { c.out.integer(0); return }
        let current = db.expiry(key)
        if nx && current != nil { c.out.integer(0); return }
        if xx && current == nil { c.out.integer(0); return }
        // No expiry counts as an infinite TTL: GT never beats it, LT always does.
        if gt, current.map({ when <= $0 }) ?? true { c.out.integer(0); return }
        if lt, let cur = current, when >= cur { c.out.integer(0); return }
        if alreadyExpired(when) {
            db.remove(key)
            propagateAs([Bytes("DEL".utf8), key.bytes])
            keyWritten(db, key)
            notifyKeyspaceEvent(.generic, "del", db, key)
        } else {
            db.setExpiry(key, when)
            propagateAs([Bytes("PEXPIREAT".utf8), key.bytes, Bytes(String(when).utf8)])
            keyWritten(db, key)
            notifyKeyspaceEvent(.generic, "expire", db, key)
        }
        c.out.integer(1)
    }

    /// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for no key, -1 for no expiry; seconds round.
    func ttlGeneric(_ c: Client, milliseconds: Bool, absolute: Bool) {
        let key = c.key(1)
        guard lookupRead(c.db, key) != nil else { c.out.integer(-2); return }
        guard let at = c.db.expiry(key) else { c.out.integer(-1); return }
        // A replica may hold any deadline its master sent: subtract without overflowing, and
        // round in unsigned arithmetic (Redis answers 9223372036854776 for INT64_MAX ms).
        var ttl = absolute ? at : at.subtractingReportingOverflow(clock.wallMillis()).partialValue
        if ttl < 0 || (!absolute && at < 0 && ttl > at) { ttl = 0 }
        c.out.integer(milliseconds ? ttl : Int64((UInt64(ttl) + 500) / 1000))
    }

    // MARK: - Renaming and moving

    func renameGeneric(_ c: Client, nx: Bool) throws {
        let db = c.db, src = c.key(1), dst = c.key(2)
        guard let value = lookupWrite(db, src) else { throw CommandError.noSuchKey }
        if src == dst { if nx { c.out.integer(0) } else { c.out.ok() }; return }
        let expire = db.expiry(src)
        if lookupWrite(db, dst) != nil {
            if nx { c.out.integer(0); return }
            db.remove(dst)
        }
        // The value moves with its age (Redis renames the same object).
        let meta = db.dict.meta(src)
        db.set(dst, value)
        if let meta { db.dict.setMeta(dst, meta) }
        if let expire { db.setExpiry(dst, expire) }
        db.remove(src)
        signalModifiedKey(db, src)
        keyWritten(db, dst)
        notifyKeyspaceEvent(.generic, "rename_from", db, src)
        notifyKeyspaceEvent(.generic, "rename_to", db, dst)
        if nx { c.out.integer(1) } else { c.out.ok() }
    }

    /// A database index argument: a 32-bit integer, then a valid index.
    /// `message` replaces both of Redis's getIntFromObject errors when given (SWAPDB's texts).
    func databaseArgument(_ b: Bytes, message: CommandError? = nil) throws -> Database {
        guard let n = NumberFormat.parseInt(b) else { throw message ?? .notInteger }
        guard n >= Int64(Int32.min), n <= Int64(Int32.max) else {
            throw message ?? CommandError("ERR value is out of range, value must between -2147483648 and 2147483647")
        }
        guard n >= 0 && Int(n) < databases.count else { throw CommandError.dbIndexOutOfRange }
        return databases[Int(n)]
    }

    func moveCommand(_ c: Client) throws {
        let src = c.db, key = c.key(1)
        let dst = try databaseArgument(c.arg(2))
        if src === dst { throw CommandError("ERR source and destination objects are the same") }
        guard let value = lookupWrite(src, key) else { c.out.integer(0); return }
        let expire = src.expiry(key)
        if lookupWrite(dst, key) != nil { c.out.integer(0); return }
        let meta = src.dict.meta(key)
        dst.set(key, value)
        if let meta { dst.dict.setMeta(key, meta) }
        if let expire { dst.setExpiry(key, expire) }
        src.remove(key)
        signalModifiedKey(src, key)
        keyWritten(dst, key)
        notifyKeyspaceEvent(.generic, "move_from", src, key)
        notifyKeyspaceEvent(.generic, "move_to", dst, key)
        c.out.integer(1)
    }

    func copyCommand(_ c: Client) throws {
        let src = c.db, key = c.key(1), newKey = c.key(2)
        var dst = src
        var replace = false
        var j = 3
        while j < c.argc {
            let opt = c.option(j)
            if opt == "REPLACE" {
                replace = true
            } else if opt == "DB" && j + 1 < c.argc {
                dst = try databaseArgument(c.arg(j + 1))
                j += 1
            } else {
                throw CommandError.syntax
            }
            j += 1
        }
        if src === dst && key == newKey { throw CommandError("ERR source and destination objects are the same") }
        guard let value = lookupRead(src, key) else { c.out.integer(0); return }
        let expire = src.expiry(key)
        if lookupWrite(dst, newKey) != nil {
            guard replace else { c.out.integer(0); return }
            dst.remove(newKey)
        }
        dst.set(newKey, value.deepCopy())
        // dupStringObject keeps a raw string raw (the copy is a new object: its age starts now).
        if src.dict.isRawString(key) { dst.dict.markRawString(newKey) }
        if let expire { dst.setExpiry(newKey, expire) }
        keyWritten(dst, newKey)
        notifyKeyspaceEvent(.generic, "copy_to", dst, newKey)
        c.out.integer(1)
    }

    func randomkeyCommand(_ c: Client) {
        let db = c.db
        // Volatile keys may be expired: retry a bounded number of times, as Redis does.
        for _ in 0..<100 {
            guard let key = db.dict.keys.randomElement() else { break }
            if exists(db, key) { c.out.bulk(key.bytes); return }
        }
        if let key = db.dict.keys.randomElement(), masterHost != nil {
            c.out.bulk(key.bytes)  // replicas cannot delete expired keys; Redis returns one too
            return
        }
        c.out.null()
    }
}

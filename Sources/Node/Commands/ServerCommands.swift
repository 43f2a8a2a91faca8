// Server commands: CONFIG, INFO, TIME, SHUTDOWN, DEBUG, MONITOR, SLOWLOG, LATENCY, MEMORY, LOLWUT.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension CommandTable {
    static var server: [CommandSpec] {
        [
            CommandSpec("config", -2, [.admin, .noscript, .loading, .stale], ["admin", "slow", "dangerous"],
                        subcommands: ["get", "set", "rewrite", "resetstat", "help"]) { s, c in try s.configCommand(c) },
            CommandSpec("info", -1, [.loading, .stale], ["slow", "dangerous"]) { s, c in
                let names = (1..<max(1, c.argc)).map { c.arg($0).text.lowercased() }
                c.out.verbatim(s.infoText(names))
            },
            CommandSpec("time", 1, [.loading, .stale, .fast], ["fast"]) { s, c in
                let us = Clock.wallMicros()
                c.out.arrayHeader(2)
                c.out.bulk(String(us / 1_000_000))
                c.out.bulk(String(us % 1_000_000))
            },
            CommandSpec("shutdown", -1, [.admin, .noscript, .loading, .stale, .noMulti, .allowBusy], ["admin", "slow", "dangerous"]) { s, c in
                try s.shutdownCommand(c)
            },
            CommandSpec("debug", -2, [.admin, .noscript, .loading, .stale], ["admin", "slow", "dangerous"]) { s, c in try s.debugCommand(c) },
            CommandSpec("monitor", 1, [.admin, .noscript, .loading, .stale], ["admin", "slow", "dangerous"]) { s, c in
                guard !c.flags.contains(.monitor) else { return }
                c.flags.insert(.monitor)
                s.monitors.append(c)
                c.out.ok()
            },
            CommandSpec("slowlog", -2, [.admin, .loading, .stale], ["admin", "slow", "dangerous"],
                        subcommands: ["get", "len", "reset", "help"]) { s, c in try s.slowlogCommand(c) },
            CommandSpec("latency", -2, [.admin, .noscript, .loading, .stale], ["admin", "slow", "dangerous"],
                        subcommands: ["latest", "history", "reset", "doctor", "graph", "histogram", "help"]) { s, c in
                try s.latencyCommand(c)
            },
            CommandSpec("memory", -2, [.readonly], ["read", "slow"], keys: (2, 2, 1), subcommands: ["usage", "doctor", "stats", "malloc-stats", "purge", "help"]) { s, c in
                try s.memoryCommand(c)
            },
            CommandSpec("lolwut", -1, [.readonly, .fast], ["read", "fast"]) { s, c in
                c.out.verbatim("Vigil ver. \(VigilVersion.string) (Redis ver. \(VigilVersion.redisCompat) compatible)\n")
            },
        ]
    }
}

extension Server {
    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
    func shutdownCommand(_ c: Client) throws {
        var save: Bool? = nil
        var now = false, force = false, abort = false
        for i in 1..<max(1, c.argc) {
            switch c.option(i) {
            case "NOSAVE": save = false
            case "SAVE": save = true
            case "NOW": now = true
            case "FORCE": force = true
            case "ABORT": abort = true
            default: throw CommandError.syntax
            }
        }
        if abort {
            guard save == nil && !now && !force else { throw CommandError.syntax }
            guard replication.abortShutdown() else { throw CommandError("ERR No shutdown in progress.") }
            c.out.ok()
            return
        }
        // A busy script: only SHUTDOWN NOSAVE may end the process under it.
        if let run = scriptRun, run.timedOut, save != false { throw CommandError(run.isEval ? Server.busyEvalError : Server.busyFunctionError) }
        if !requestShutdown(save: scriptRun != nil ? false : save, now: now || scriptRun != nil, force: force) {
            throw CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
        }
        // Waiting for replicas: the client stays blocked until we exit (or an error on ABORT).
        if replication.shutdownPending && !now { replication.blockForShutdown(c); return }
        // Success: the connection closes without a reply, as with Redis.
        c.flags.insert(.closeASAP)
    }

    /// DEBUG: the subcommands tests use (SLEEP stalls the node, RELOAD checks a save/load cycle...).
    func debugCommand(_ c: Client) throws {
        switch c.option(1) {
        case "SLEEP":
            guard c.argc == 3, let secs = NumberFormat.parseDouble(c.arg(2)), secs >= 0, secs < 1e6 else {
                throw CommandError.notFloat
            }
            // Blocks the whole process on purpose, exactly like Redis's DEBUG SLEEP.
            Posix.sleep(seconds: secs)
            c.out.ok()
        case "POPULATE":
            try debugPopulate(c)
        case "SET-DISABLE-DENY-SCRIPTS":
            guard c.argc == 3 else { throw CommandError.syntax }
            scriptDenyDisabled = (NumberFormat.parseInt(c.arg(2)) ?? 0) != 0
            c.out.ok()
        case "PAUSE-CRON":
            // Redis's tests stop the cron to see what commands alone do (tracking-table-max-keys).
            guard c.argc == 3 else { throw CommandError.syntax }
            cronPaused = (NumberFormat.parseInt(Bytes(c.arg(2).prefix { $0 >= 0x30 && $0 <= 0x39 || $0 == 0x2D })) ?? 0) != 0
            c.out.ok()
        case "SET-ACTIVE-EXPIRE":
            // Redis reads the flag with atoi: anything but a leading non-zero number turns it off.
            guard c.argc == 3 else { throw CommandError.syntax }
            activeExpireEnabled = (NumberFormat.parseInt(Bytes(c.arg(2).prefix { $0 >= 0x30 && $0 <= 0x39 || $0 == 0x2D })) ?? 0) != 0
            c.out.ok()
        case "OBJECT":
            guard c.argc == 3 else { throw CommandError.syntax }
            let key = c.key(2)
            // Redis looks the key up in the dict directly: an expired key not yet deleted shows.
            guard let v = c.db.raw(key) else {
                throw CommandError("ERR no such key")
            }
            // serializedlength: the RDB body of the value, as DUMP writes it (type byte and
            // footer excluded); vigil has no object header, so refcount is 1 and lru is unused.
            let serialized = DumpPayload.make(v, compression: config.rdbcompression).count - 11
            let idle = keyAging.lfu ? 0 : keyAging.idleMillis(c.db.dict.meta(key) ?? 0) / 1000
            c.out.simple("Value at:0x0 refcount:1 encoding:\(objectEncoding(c.db, key, v)) serializedlength:\(serialized) lru:0 lru_seconds_idle:\(idle)")
        case "RELOAD":
            try debugReload(c)
        case "QUICKLIST-PACKED-THRESHOLD", "STRINGMATCH-LEN", "REPLYBUFFER":
            c.out.ok()
        case "PROTOCOL":
            guard c.argc == 3 else { throw CommandError.syntax }
            try debugProtocol(c, c.arg(2).text.lowercased())
        case "LOG":
            guard c.argc == 3 else { throw CommandError.syntax }
            log.warning("DEBUG LOG: \(c.arg(2).text)")
            c.out.ok()
        case "HELP":
            replyHelp(c, "DEBUG", ["OBJECT <key>", "    Show low level info about the `key` and associated value.",
                                   "PAUSE-CRON <0|1>", "    Stop periodic cron job processing.",
                                   "POPULATE <count> [<prefix>] [<size>]", "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                                   "    it is used instead of the 'key' prefix. These are not propagated to",
                                   "    replicas. Cluster slots are not respected so keys not belonging to the",
                                   "    current node can be created in cluster mode.",
                                   "RELOAD [option ...]",
                                   "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
                                   "    * MERGE: conflicting keys will be loaded from RDB.",
                                   "    * NOFLUSH: the existing database will not be removed before load, but",
                                   "      conflicting keys will generate an exception and kill the server.",
                                   "    * NOSAVE: the database will be loaded from an existing RDB file.",
                                   "    Examples:",
                                   "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
                                   "      the database.",
                                   "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
                                   "      existing RDB file.",
                                   "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
                                   "      file to the database.",
                                   "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
                                   "SET-ACTIVE-EXPIRE <0|1>", "    Setting it to 0 disables expiring keys in background when they are not accessed (otherwise the Redis behavior). Setting it to 1 reenables back the default.",
                                   "LOG <message>", "    Write <message> to the server log.",
                                   "DIGEST", "    Output a hex signature representing the current DB content.",
                                   "DIGEST-VALUE <key> [<key> ...]", "    Output a hex signature of the values of all the specified keys."])
        default:
            if try debugDigestCommand(c, c.option(1)) { return }
            if try debugIntrospection(c, c.option(1)) { return }
            throw CommandError("ERR unknown subcommand '\(c.arg(1).text)'. Try DEBUG HELP.")
        }
    }

    /// DEBUG POPULATE <count> [prefix] [size]: creates `prefix:N` → `value:N` (padded with zero
    /// bytes, or cut, to `size`) for N below count, skipping keys that exist, as Redis does. Like
    /// Redis, the keys are not propagated to replicas.
    private func debugPopulate(_ c: Client) throws {
        guard c.argc >= 3 && c.argc <= 5 else { throw CommandError("ERR unknown subcommand or wrong number of arguments for 'populate'. Try DEBUG HELP.") }
        guard let count = NumberFormat.parseInt(c.arg(2)), count >= 0 else {
            throw CommandError("ERR value is out of range, must be positive")
        }
        var size = 0
        if c.argc == 5 {
            guard let n = NumberFormat.parseInt(c.arg(4)), n >= 0 else { throw CommandError("ERR value is out of range, must be positive") }
            size = Int(n)
        }
        let prefix = c.argc >= 4 ? c.arg(3) : Bytes("key".utf8)
        let db = c.db
        for j in 0..<Int(count) {
            let key = Key(prefix + Bytes(":\(j)".utf8))
            if lookupWrite(db, key) != nil { continue }
            var value = Bytes("value:\(j)".utf8)
            if size > 0 {
                if value.count > size { value.removeLast(value.count - size) }
                else { value += Bytes(repeating: 0, count: size - value.count) }
            }
            db.set(key, .string(value))
            signalModifiedKey(db, key)
        }
        c.out.ok()
    }

    /// DEBUG PROTOCOL <type>: one reply of each RESP3 type (and its RESP2 fallback), as Redis's,
    /// so clients and Redis's unit/protocol can check their parsers.
    func debugProtocol(_ c: Client, _ name: String) throws {
        switch name {
        case "string": c.out.bulk("Hello World")
        case "integer": c.out.integer(12345)
        case "double": c.out.double(3.141)
        case "bignum": c.out.bigNumber("1234567999999999999999999999999999999")
        case "null": c.out.null()
        case "array":
            c.out.arrayHeader(3)
            for j in 0..<3 { c.out.integer(j) }
        case "set":
            c.out.setHeader(3)
            for j in 0..<3 { c.out.integer(j) }
        case "map":
            c.out.mapHeader(3)
            for j in 0..<3 { c.out.integer(j); c.out.boolean(j == 1) }
        case "attrib":
            // Attributes are not replies: a real reply follows (alone in RESP2).
            if c.proto >= 3 {
                c.out.attributeHeader(1)
                c.out.bulk("key-popularity")
                c.out.arrayHeader(2)
                c.out.bulk("key:123")
                c.out.integer(90)
            }
            c.out.bulk("Some real reply following the attribute")
        case "push":
            guard c.proto >= 3 else { throw CommandError("ERR RESP2 is not supported by this command") }
            c.out.pushHeader(2)
            c.out.bulk("server-cpu-usage")
            c.out.integer(42)
            c.out.bulk("Some real reply following the push reply")
        case "true": c.out.boolean(true)
        case "false": c.out.boolean(false)
        case "verbatim": c.out.verbatim("This is a verbatim\nstring")
        default:
            throw CommandError("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
        }
    }
}

// FUNCTION LOAD|DELETE|FLUSH|LIST|STATS|DUMP|RESTORE|KILL|HELP (functions.c). Changes to the
// libraries count as writes (dirty), so they propagate as the command itself and trigger saves.
import Lua
import Shared

extension Server {
    func functionCommand(_ c: Client) throws {
        let sub = c.option(1)
        // Inside a script only FUNCTION HELP is not noscript; the dispatcher refuses the rest.
        switch sub {
        case "LOAD":
            var replace = false
            var i = 2
            while i < c.argc - 1 {
                guard c.option(i) == "REPLACE" else { throw CommandError("ERR Unknown option given: \(c.arg(i).text)") }
                replace = true
                i += 1
            }
            guard i < c.argc else { throw CommandError("ERR Function code is missing") }
            let obey = !c.flags.isDisjoint(with: [.master, .aofLoader])
            switch scripting.loadLibrary(c.arg(i), replace: replace, timeoutMillis: obey ? 0 : 500) {
            case .failure(let e): throw e
            case .success(let name):
                dirty += 1
                c.out.bulk(name)
            }
        case "DELETE" where c.argc == 3:
            guard scripting.deleteLibrary(c.arg(2).text) else { throw CommandError("ERR Library not found") }
            dirty += 1
            c.out.ok()
        case "FLUSH" where c.argc <= 3:
            if c.argc == 3 {
                let mode = c.option(2)
                guard mode == "SYNC" || mode == "ASYNC" else { throw CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option") }
            }
            scripting.flushFunctions()
            dirty += 1
            c.out.ok()
        case "LIST":
            try functionList(c)
        case "STATS" where c.argc == 2:
            if let run = scriptRun, run.isEval { throw CommandError(Server.busyEvalError) }
            c.out.mapHeader(2)
            c.out.bulk("running_script")
            if let run = scriptRun {
                c.out.mapHeader(3)
                c.out.bulk("name"); c.out.bulk(run.name)
                c.out.bulk("command"); c.out.bulks(run.caller.argv)
                c.out.bulk("duration_ms"); c.out.integer(Int(clock.monotonicMillis() - run.startedAt))
            } else {
                c.out.null()
            }
            c.out.bulk("engines")
            c.out.mapHeader(1)
            c.out.bulk("LUA")
            c.out.mapHeader(2)
            c.out.bulk("libraries_count"); c.out.integer(scripting.functions.libraries.count)
            c.out.bulk("functions_count"); c.out.integer(scripting.functions.functionCount)
        case "DUMP" where c.argc == 2:
            c.out.bulk(Server.functionDump(scripting.libraryCodes))
        case "RESTORE" where c.argc == 3 || c.argc == 4:
            try functionRestore(c)
        case "KILL" where c.argc == 2:
            guard let run = scriptRun else { throw CommandError("NOTBUSY No scripts in execution right now.") }
            if run.obey {
                throw CommandError("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.")
            }
            if run.writeDirty {
                throw CommandError("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
            }
            if run.isEval { throw CommandError(Server.busyEvalError) }
            run.killed = true
            c.out.ok()
        case "HELP" where c.argc == 2:
            replyHelp(c, "FUNCTION", [
                "LOAD [REPLACE] <FUNCTION CODE>",
                "    Create a new library with the given library name and code.",
                "DELETE <LIBRARY NAME>",
                "    Delete the given library.",
                "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
                "    Return general information on all the libraries:",
                "    * Library name",
                "    * The engine used to run the Library",
                "    * Library description",
                "    * Functions list",
                "    * Library code (if WITHCODE is given)",
                "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
                "STATS",
                "    Return information about the current function running:",
                "    * Function name",
                "    * Command used to run the function",
                "    * Duration in MS that the function is running",
                "    If no function is running, return nil",
                "    In addition, returns a list of available engines.",
                "KILL",
                "    Kill the current running function.",
                "FLUSH [ASYNC|SYNC]",
                "    Delete all the libraries.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the libraries.",
                "    * SYNC: Synchronously flush the libraries.",
                "DUMP",
                "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
                "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
                "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
                "    control how to handle existing libraries (default APPEND):",
                "    * FLUSH: delete all existing libraries.",
                "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
                "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
                "      libraries with the new libraries (notice that even on this option there is a chance of failure",
                "      in case of functions name collision with another library).",
            ])
        case "DELETE", "FLUSH", "STATS", "DUMP", "RESTORE", "KILL", "HELP":
            throw CommandError("ERR unknown subcommand or wrong number of arguments for '\(c.arg(1).text)'. Try FUNCTION HELP.")
        default:
            throw CommandError.unknownSubcommand(c.arg(1), "FUNCTION")
        }
    }

    private func functionList(_ c: Client) throws {
        var withCode = false
        var pattern: Bytes? = nil
        var i = 2
        while i < c.argc {
            if !withCode && c.option(i) == "WITHCODE" { withCode = true; i += 1; continue }
            if pattern == nil && c.option(i) == "LIBRARYNAME" {
                guard i < c.argc - 1 else { throw CommandError("ERR library name argument was not given") }
                pattern = c.arg(i + 1)
                i += 2
                continue
            }
            throw CommandError("ERR Unknown argument \(c.arg(i).text)")
        }
        let libs = scripting.functions.order.compactMap { scripting.functions.libraries[$0] }
            .filter { pattern == nil || GlobMatch.matches(pattern!, Bytes($0.name.utf8)) }
        c.out.arrayHeader(libs.count)
        for lib in libs {
            c.out.mapHeader(withCode ? 4 : 3)
            c.out.bulk("library_name"); c.out.bulk(lib.name)
            c.out.bulk("engine"); c.out.bulk("LUA")
            c.out.bulk("functions")
            c.out.arrayHeader(lib.functions.count)
            for f in lib.functions {
                c.out.mapHeader(3)
                c.out.bulk("name"); c.out.bulk(f.name)
                c.out.bulk("description"); c.out.bulkOrNull(f.description)
                c.out.bulk("flags")
                let names = f.flags.nameList
                c.out.setHeader(names.count)
                for n in names { c.out.simple(n) }
            }
            if withCode { c.out.bulk("library_code"); c.out.bulk(lib.code) }
        }
    }

    /// FUNCTION DUMP's payload: FUNCTION2 records, the RDB version (2 bytes LE) and a CRC64 (8 bytes LE).
    static func functionDump(_ codes: [Bytes]) -> Bytes {
        var w = RDBWriter(options: RDBWriter.Options())
        for code in codes { w.writeFunction(code) }
        var payload = w.buffer
        payload.append(UInt8(RDB.version & 0xFF))
        payload.append(UInt8((RDB.version >> 8) & 0xFF))
        let crc = CRC64.update(0, payload)
        for i in 0..<8 { payload.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i)))) }
        return payload
    }

    private func functionRestore(_ c: Client) throws {
        enum Policy { case flush, append, replace }
        var policy = Policy.append
        if c.argc == 4 {
            switch c.option(3) {
            case "FLUSH": policy = .flush
            case "APPEND": policy = .append
            case "REPLACE": policy = .replace
            default: throw CommandError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
            }
        }
        let payload = c.arg(2)
        guard payload.count >= 10 else { throw CommandError("ERR DUMP payload version or checksum are wrong") }
        let body = Array(payload[..<(payload.count - 10)])
        let version = Int(payload[payload.count - 10]) | Int(payload[payload.count - 9]) << 8
        var crc: UInt64 = 0
        for i in 0..<8 { crc |= UInt64(payload[payload.count - 8 + i]) << (8 * UInt64(i)) }
        guard version <= RDB.maxReadVersion, crc == CRC64.update(0, Array(payload[..<(payload.count - 8)])) else {
            throw CommandError("ERR DUMP payload version or checksum are wrong")
        }
        var reader = RDBReader(body)
        let codes: [Bytes]
        do { codes = try reader.functionRecords() } catch let e as RDBError {
            throw CommandError("ERR \(e.message == "given type is not a function" ? e.message : "failed loading the given functions payload")")
        }
        // Load into a fresh store and engine first: nothing changes when the payload fails.
        let savedStore = scripting.functions
        let savedEngine = scripting.takeFunctionEngine()
        scripting.functions = FunctionStore()
        var failure: CommandError? = nil
        for code in codes {
            if case .failure(let e) = scripting.loadLibrary(code, replace: false, timeoutMillis: 0) { failure = e; break }
        }
        if let failure {
            scripting.functions = savedStore
            scripting.restoreFunctionEngine(savedEngine)
            throw failure
        }
        if policy == .flush {
            dirty += 1
            c.out.ok()
            return
        }
        // APPEND / REPLACE: the old libraries go back in, reloaded into the new engine.
        let restored = scripting.functions
        for name in savedStore.order {
            guard let old = savedStore.libraries[name] else { continue }
            if restored.libraries[name] != nil {
                if policy == .append {
                    scripting.functions = savedStore
                    scripting.restoreFunctionEngine(savedEngine)
                    throw CommandError("ERR Library \(name) already exists")
                }
                continue
            }
            if case .failure(let e) = scripting.loadLibrary(old.code, replace: false, timeoutMillis: 0) {
                scripting.functions = savedStore
                scripting.restoreFunctionEngine(savedEngine)
                throw e
            }
        }
        dirty += 1
        c.out.ok()
    }
}

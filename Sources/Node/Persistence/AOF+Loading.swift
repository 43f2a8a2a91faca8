// Loading the AOF at start-up (loadAppendOnlyFiles): the manifest, then the base (an RDB preamble
// and/or commands) and every incremental file in order, replayed through `call` with a client
// that has no socket. A corrupt file stops start-up naming the file and the offset; a truncated
// last command is cut off or refused as `aof-load-truncated` says. Then the files are opened for
// appending (aofOpenIfNeededOnServerStart).
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension AOF {
    // MARK: - Loading

    /// Loads every file the manifest lists; without a manifest the dataset stays empty (Redis 7.0
    /// does not fall back to the RDB when `appendonly yes`). An old single-file AOF is migrated.
    func loadAtStartup() throws {
        try migrateLegacyFileIfPresent()
        guard try loadManifestIfPresent() else { return }
        let files = manifest.loadOrder
        let started = Clock.monotonicMillis()
        var total = 0
        for (i, f) in files.enumerated() {
            let fileStarted = Clock.monotonicMillis()
            total += try loadFile(f, isLast: i == files.count - 1)
            let kind = f.type == .base ? "base" : "incr"
            server.log.notice("DB loaded from \(kind) file \(f.name): \(Server.seconds3(Clock.monotonicMillis() - fileStarted)) seconds")
        }
        if !files.isEmpty {
            server.log.notice("DB loaded from append only file: \(Server.seconds3(Clock.monotonicMillis() - started)) seconds")
        }
        currentSize = total
    }

    /// Redis 6's single `appendonly.aof` in `dir`: move it into the AOF directory as the base.
    private func migrateLegacyFileIfPresent() throws {
        let legacy = config.appendfilename
        guard !Posix.fileExists(manifestPath), Posix.fileExists(legacy) else { return }
        try ensureDirectory()
        try Posix.rename(legacy, path(legacy))
        manifest = AOFManifest(base: AOFFileInfo(name: legacy, seq: 1, type: .base), currentBaseSeq: 1)
        try persistManifest()
        Posix.fsyncDirectory(of: legacy)
        server.log.notice("Successfully migrated an old-style AOF into the AOF directory (\(dirPath)).")
    }

    /// Replays one file; returns its (possibly truncated) size.
    private func loadFile(_ info: AOFFileInfo, isLast: Bool) throws -> Int {
        let p = path(info.name)
        guard let bytes = try Posix.readFile(p) else {
            throw AOFLoadError(message: "The AOF file \(p) listed in the manifest doesn't exist")
        }
        if bytes.isEmpty { return 0 }
        var start = 0
        if bytes.starts(with: Array("REDIS".utf8)) {
            var reader = RDBReader(bytes)
            reader.aging = server.keyAging
            server.log.notice("Reading RDB base file on AOF loading...")
            do {
                let contents = try reader.read(now: server.config.replicaof == nil ? Clock.wallMillis() : nil)
                for w in contents.warnings { server.log.warning(w) }
                try merge(contents)
                server.log.notice("Done loading RDB, keys loaded: \(contents.keyCount), keys expired: \(contents.expiredSkipped).")
            } catch let e as RDBError {
                throw AOFLoadError(message: "Error reading the RDB preamble of the AOF file \(p), AOF loading aborted: \(e.message) at offset \(e.offset)")
            }
            start = reader.pos
        }
        let valid = try replayCommands(bytes, from: start, file: p)
        guard let end = valid else { return bytes.count }
        // The file stops inside a command (or an open MULTI): only the last file may be cut.
        guard isLast && config.aofLoadTruncated else {
            throw AOFLoadError(message: "Unexpected end of file reading the append only file \(p) at offset \(end). You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.")
        }
        server.log.warning("!!! Warning: short read while loading the AOF file \(p)!!!")
        server.log.warning("!!! Truncating the AOF \(p) at offset \(end) !!!")
        do { try Posix.truncate(p, to: end) } catch let e as IOError {
            throw AOFLoadError(message: "Error truncating the AOF file \(p): \(Posix.strerror(e.errnoCode))")
        }
        server.log.warning("AOF \(p) loaded anyway because aof-load-truncated is enabled")
        return end
    }

    /// Adds an RDB preamble's keys to the databases (a base is loaded into empty databases).
    private func merge(_ contents: RDBContents) throws {
        if let bad = contents.databases.keys.first(where: { $0 >= server.databases.count }) {
            throw RDBError(message: "FATAL: Data file was created with a Redis server configured to handle more than \(server.databases.count) databases (found db \(bad))", offset: 0)
        }
        for (index, loaded) in contents.databases {
            let db = server.databases[index]
            for (k, v) in loaded.dict { db.set(k, v) }
            for (k, t) in loaded.expires { db.setExpiry(k, t) }
        }
    }

    /// Runs the commands of `bytes` from `from`. Returns nil when the file ended cleanly, else
    /// the offset of the last whole command boundary (truncated file or unfinished MULTI).
    /// Commands run through `call` as a socket-less client (Redis's AOF client): no checks, no
    /// stats, nothing propagated; MULTI/EXEC are the real commands, so EXEC replays its queue.
    private func replayCommands(_ bytes: [UInt8], from: Int, file: String) throws -> Int? {
        let c = server.makeLocalClient(flags: [.aofLoader, .denyBlocking], id: Int.max)
        var reader = AOFCommandReader(bytes, from: from)
        var multiStart: Int? = nil
        while true {
            let step: AOFCommandReader.Step
            do { step = try reader.next() } catch {
                throw AOFLoadError(message: "Bad file format reading the append only file \(file): \(error.message) at offset \(error.offset). Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>")
            }
            switch step {
            case .end:
                if let m = multiStart {
                    server.log.warning("Revert incomplete MULTI/EXEC transaction in AOF file \(file)")
                    return m
                }
                return nil
            case .truncated(let validUpTo):
                return multiStart ?? validUpTo
            case .command(let argv, let start):
                guard let ref = server.commandTable.lookup(argv[0]) else {
                    throw AOFLoadError(message: "Unknown command '\(String(decoding: argv[0].prefix(128), as: UTF8.self))' reading the append only file \(file) at offset \(start)")
                }
                guard CommandReply.arityMatches(ref.spec.arity, argv.count) else {
                    throw AOFLoadError(message: "Bad file format reading the append only file \(file): wrong number of arguments for '\(ref.spec.name)' at offset \(start)")
                }
                c.argv = argv
                if c.flags.contains(.multi) && !ref.spec.flags.contains(.txControl) {
                    server.queueMultiCommand(c, ref)
                } else {
                    if ref.spec.name == "multi" && !c.flags.contains(.multi) { multiStart = start }
                    server.call(c, ref, .none)
                    if ref.spec.name == "exec" { multiStart = nil }
                }
                c.argv = []
                c.out.bytes.removeAll(keepingCapacity: true)
            }
        }
    }

    // MARK: - Opening for append

    /// After loading: make sure a base and an incremental file exist and open the last
    /// incremental file for appending.
    func openOnStartup() throws {
        try ensureDirectory()
        var changed = false
        if manifest.base == nil && manifest.incrs.isEmpty {
            // An empty (or absent) AOF: write a base of the current dataset so the files alone
            // always describe it, as Redis does on first start.
            manifest.currentBaseSeq += 1
            let name = AOFManifest.baseName(config.appendfilename, seq: manifest.currentBaseSeq, rdbPreamble: config.aofUseRdbPreamble)
            let tmp = path("temp-\(name)")
            let fd = try Posix.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            do {
                try writeBase(to: fd, rdbPreamble: config.aofUseRdbPreamble)
                try Posix.fsync(fd)
            } catch { Posix.close(fd); Posix.unlink(tmp); throw error }
            Posix.close(fd)
            try Posix.rename(tmp, path(name))
            manifest.base = AOFFileInfo(name: name, seq: manifest.currentBaseSeq, type: .base)
            server.log.notice("Creating AOF base file \(name) on server start")
            changed = true
        }
        let incrFD: Int32
        if let last = manifest.incrs.last {
            incrFD = try openForAppend(last.name)
            server.log.notice("Opening AOF incr file \(last.name) on server start")
        } else {
            let info = manifest.addIncr(prefix: config.appendfilename)
            incrFD = try openForAppend(info.name, truncate: true)
            server.log.notice("Creating AOF incr file \(info.name) on server start")
            changed = true
        }
        let history = manifest.history
        if !history.isEmpty { manifest.history = []; changed = true }
        if changed { try persistManifest() }
        for h in history {
            server.log.notice("Removing the history file \(h.name) in the background")
            Posix.unlink(path(h.name))
        }
        switchIncrFile(to: incrFD, size: fileSize(manifest.incrs.last?.name ?? ""))
        baseSize = manifest.base.map { fileSize($0.name) } ?? 0
        currentSize = baseSize + manifest.incrs.reduce(0) { $0 + fileSize($1.name) }
        rewriteBaseSize = currentSize
        lastFsyncMillis = server.clock.monotonicMillis()
    }
}

extension Server {
    /// Start-up with `appendonly yes`: load the AOF, then open it for appending.
    func loadAppendOnlyAtStartup() throws {
        aof.state = .on
        let dirtyBefore = dirty
        let statsBefore = stats
        loading = true
        defer { loading = false }
        do {
            try aof.loadAtStartup()
            try aof.openOnStartup()
        } catch {
            log.warning("Fatal error loading the append only file: \(error). Exiting.")
            throw error
        }
        // Replaying is not a change to save (the files already hold it), nor client traffic.
        dirty = dirtyBefore
        stats = statsBefore
    }
}

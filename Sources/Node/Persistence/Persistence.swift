// RDB persistence for the server: loading at start-up, SAVE, BGSAVE with fork(), save rules in
// the cron, saving on shutdown, the INFO persistence section, and the snapshot/load entry points
// replication uses (rdb.c's server-facing half).
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// Save bookkeeping (Redis's server.lastsave, child_pid, lastbgsave_status...).
struct PersistenceState {
    /// Unix seconds of the last successful save (start-up time until then, as Redis).
    var lastSave: Int64 = Clock.wallSeconds()
    var lastBgsaveOK = true
    /// Unix seconds of the last BGSAVE attempt, to space retries after a failure.
    var lastBgsaveTry: Int64 = 0
    /// The BGSAVE child, while one runs (a BGSAVE, or a snapshot for replicas).
    var child: ChildProcess? = nil
    /// Where that child writes the snapshot (Redis's rdb_child_type).
    var childTarget: SnapshotTarget = .disk
    var lastBgsaveSeconds = -1
    /// Dirty count when the running BGSAVE forked: what its success makes clean.
    var dirtyAtFork = 0
    var saves = 0
    var bgsaveScheduled = false
    var lastLoadKeysLoaded = 0
    var lastLoadKeysExpired = 0
}

/// Where a snapshot child writes (RDB_CHILD_TYPE_DISK / _SOCKET).
enum SnapshotTarget {
    /// The RDB file (BGSAVE, disk-based full sync).
    case disk
    /// Replica sockets (diskless full sync).
    case socket
}

/// Seconds between BGSAVE retries after a failure (CONFIG_BGSAVE_RETRY_DELAY).
private let bgsaveRetryDelay: Int64 = 5

extension Server {
    /// The RDB path, relative to the working directory (we chdir to `dir` at start, as Redis).
    var rdbPath: String { config.dbfilename }

    /// Whether a BGSAVE child is running.
    var bgsaveInProgress: Bool { persistence.child != nil }

    // MARK: - Loading

    /// Loads `dbfilename` if it exists; a corrupt file is an error naming the file and offset.
    /// With `appendonly yes` the AOF is loaded instead (AOF+Loading.swift).
    func loadDataAtStartup() throws {
        if config.appendonly { return try loadAppendOnlyAtStartup() }
        let path = rdbPath
        let bytes: [UInt8]
        do {
            guard let b = try Posix.readFile(path) else { return }
            bytes = b
        } catch {
            log.warning("Fatal error loading the DB: \(error). Exiting.")
            throw error
        }
        let started = Clock.monotonicMillis()
        loading = true
        defer { loading = false }
        do {
            var reader = RDBReader(bytes)
            reader.aging = keyAging
            // Clients are served every loading-process-events-interval-bytes read (they get
            // -LOADING); key-load-delay needs the callback for every key.
            let delay = config.keyLoadDelay
            let interval = max(1024, config.loadingProcessEventsIntervalBytes)
            var servedAt = 0
            reader.progressInterval = delay != 0 ? 1 : 64
            reader.progress = { [unowned self] keys, at, total in
                if delay != 0 { Self.keyLoadDelay(delay, keys: keys) }
                if at / interval > servedAt / interval {
                    servedAt = at
                    self.loop.processReadyEvents()
                }
                if keys % 1_000_000 == 0 {
                    self.log.notice("Loading RDB: \(keys) keys, \(total > 0 ? at * 100 / total : 100)% of \(total) bytes")
                }
            }
            let contents = try reader.read(now: config.replicaof == nil ? Clock.wallMillis() : nil)
            logAuxFields(contents)
            try apply(contents)
            // A restarted replica (or master) resumes its replication history, so PSYNC can
            // continue partially instead of a full resync.
            if let id = contents.aux["repl-id"]?.text, let off = contents.aux["repl-offset"].flatMap({ NumberFormat.parseInt($0) }) {
                let streamDB = contents.aux["repl-stream-db"].flatMap { NumberFormat.parseInt($0) } ?? 0
                replication.restoreHistory(id: id, offset: off, streamDB: Int(streamDB))
            }
            persistence.lastLoadKeysLoaded = contents.keyCount
            persistence.lastLoadKeysExpired = contents.expiredSkipped
            log.notice("Done loading RDB, keys loaded: \(contents.keyCount), keys expired: \(contents.expiredSkipped).")
            log.notice("DB loaded from disk: \(Self.seconds3(Clock.monotonicMillis() - started)) seconds")
        } catch var e as RDBError {
            e.file = Posix.getcwd() + "/" + path
            log.warning("Fatal error loading the DB: \(e). Exiting.")
            throw e
        }
    }

    /// Redis's `key-load-delay` (a test directive): `d` microseconds per key loaded, or, negative
    /// (-N), one microsecond every N keys.
    private static func keyLoadDelay(_ d: Int, keys: Int) { RDB.debugDelay(d, count: keys) }

    private func logAuxFields(_ contents: RDBContents) {
        for w in contents.warnings { log.warning(w) }
        if let v = contents.aux["redis-ver"] { log.notice("Loading RDB produced by version \(v.text)") }
        if let t = contents.aux["ctime"].flatMap({ NumberFormat.parseInt($0) }) {
            log.notice("RDB age \(max(0, Clock.wallSeconds() - t)) seconds")
        }
    }

    /// Replaces every database with `contents`; nothing changes if it does not fit.
    func apply(_ contents: RDBContents) throws {
        if let bad = contents.databases.keys.first(where: { $0 >= databases.count }) {
            throw RDBError(message: "FATAL: Data file was created with a Redis server configured to handle more than \(databases.count) databases (found db \(bad))", offset: 0)
        }
        for db in databases { db.clear() }
        // Libraries first, as Redis loads them (a library that fails to load fails the load).
        scripting.flushFunctions()
        for code in contents.functions {
            if case .failure(let e) = scripting.loadLibrary(code, replace: false, timeoutMillis: 0) {
                throw RDBError(message: "Failed loading library: \(e.message)", offset: 0)
            }
        }
        for (index, loaded) in contents.databases {
            let db = databases[index]
            db.dict = loaded.dict
            // Through setExpiry so the database's expiry heap knows every deadline.
            for (k, t) in loaded.expires { db.setExpiry(k, t) }
        }
    }

    /// Formats milliseconds as seconds with three decimals ("0.123").
    static func seconds3(_ ms: Int64) -> String {
        let frac = String(ms % 1000)
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }

    // MARK: - Replication entry points

    /// Options for the writer from the configuration and the replication history.
    var rdbWriterOptions: RDBWriter.Options {
        var o = RDBWriter.Options()
        o.compression = config.rdbcompression
        o.checksum = config.rdbchecksum
        o.replication = (replication.replID, replication.masterReplOffset)
        o.replStreamDB = replication.streamDB
        o.functions = scripting.libraryCodes
        o.keySaveDelay = config.rdbKeySaveDelay
        return o
    }

    /// The current data set as an RDB image (full sync, diskless or not).
    func makeRDBSnapshot() -> Bytes {
        // Without a sink the writer only appends to memory, which cannot fail.
        (try? RDBWriter.snapshot(databases, options: rdbWriterOptions, now: Clock.wallMillis())) ?? []
    }

    /// Replaces all data with an RDB payload from a master; returns its `repl-id`/`repl-offset`.
    @discardableResult
    func loadRDBPayload(_ bytes: Bytes) throws -> (replID: String?, offset: Int64?) {
        var reader = RDBReader(bytes)
        reader.aging = keyAging
        let contents = try reader.read(now: nil)
        for w in contents.warnings { log.warning(w) }
        try apply(contents)
        aof.datasetReplaced()
        return (contents.aux["repl-id"].map { $0.text }, contents.aux["repl-offset"].flatMap { NumberFormat.parseInt($0) })
    }

    // MARK: - Saving

    /// Writes the snapshot to `temp-<pid>.rdb`, fsyncs, renames it over `path`, fsyncs the dir.
    func writeRDBFile(_ path: String) throws {
        let tmp = "temp-\(getpid()).rdb"
        let fd: Int32
        do { fd = try Posix.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } catch {
            log.warning("Failed opening the temp RDB file \(tmp) (in server root dir \(Posix.getcwd())) for saving: \(error)")
            throw error
        }
        do {
            _ = try RDBWriter.snapshot(databases, options: rdbWriterOptions, now: Clock.wallMillis()) { chunk in
                try Posix.writeAll(fd, chunk)
            }
            try Posix.fsync(fd)
            Posix.close(fd)
        } catch {
            Posix.close(fd)
            Posix.unlink(tmp)
            log.warning("Write error saving DB on disk: \(error)")
            throw error
        }
        do { try Posix.rename(tmp, path) } catch {
            log.warning("Error moving temp DB file \(tmp) on the final destination \(path) (in server root dir \(Posix.getcwd())): \(error)")
            Posix.unlink(tmp)
            throw error
        }
        Posix.fsyncDirectory(of: path)
    }

    /// A synchronous save (SAVE, shutdown). Returns false on failure (already logged).
    @discardableResult
    func saveRDB() -> Bool {
        do { try writeRDBFile(rdbPath) } catch { return false }
        log.notice("DB saved on disk")
        dirty = 0
        persistence.lastSave = clock.wallSeconds()
        // A good foreground save also lifts MISCONF, as in Redis (lastbgsave_status = ok).
        persistence.lastBgsaveOK = true
        lastBgsaveFailed = false
        persistence.saves += 1
        return true
    }

    /// Forks a child that writes the snapshot to the RDB file (BGSAVE, the save rules, and
    /// disk-based full syncs, which send the file once it is written). False if the fork failed.
    @discardableResult
    func startBackgroundSave() -> Bool {
        guard persistence.child == nil else { return false }
        persistence.lastBgsaveTry = clock.wallSeconds()
        persistence.dirtyAtFork = dirty
        do {
            let forkStart = Clock.monotonicMicros()
            // Child: write the file and leave without running any of the parent's machinery.
            let child = try ChildProcess.fork(clock: clock) { [self] in
                do { try writeRDBFile(rdbPath) } catch { return 1 }
                log.notice("DB saved on disk")
                return 0
            }
            persistence.child = child
            persistence.childTarget = .disk
            forked(usec: Clock.monotonicMicros() - forkStart)
            childrenChanged()
            log.notice("Background saving started by pid \(child.pid)")
            return true
        } catch {
            persistence.lastBgsaveOK = false
            lastBgsaveFailed = true
            log.warning("Can't save in background: \(error)")
            return false
        }
    }

    /// Reaps a finished child, runs scheduled saves and the `save` rules (serverCron's part).
    func persistenceCron() {
        if let child = persistence.child {
            if let status = child.reap() { backgroundSaveDone(child, status) }
            return
        }
        // One child at a time, as Redis: scheduled saves and save rules wait for an AOF rewrite.
        if aof.child != nil { return }
        let nowSec = clock.wallSeconds()
        if persistence.bgsaveScheduled {
            persistence.bgsaveScheduled = false
            startBackgroundSave()
            return
        }
        if let rule = dueSaveRule(nowSec: nowSec) {
            log.notice("\(rule.changes) changes in \(rule.seconds) seconds. Saving...")
            startBackgroundSave()
        }
    }

    /// The first `save` rule whose changes and seconds are both reached, unless the last
    /// BGSAVE failed less than the retry delay ago.
    func dueSaveRule(nowSec: Int64) -> SaveRule? {
        guard persistence.lastBgsaveOK || nowSec - persistence.lastBgsaveTry > bgsaveRetryDelay else { return nil }
        return config.saveRules.first { dirty >= $0.changes && nowSec - persistence.lastSave > Int64($0.seconds) }
    }

    private func backgroundSaveDone(_ child: ChildProcess, _ status: Posix.ExitStatus) {
        let ok = status.succeeded
        let signal = status.signal
        persistence.child = nil
        childrenChanged()
        persistence.lastBgsaveSeconds = Int((clock.monotonicMillis() - child.startedMillis) / 1000)
        if persistence.childTarget == .socket {
            // A transfer leaves the save status alone (backgroundSaveDoneHandlerSocket).
            if ok {
                log.notice("Background RDB transfer terminated with success")
            } else if signal != 0 {
                log.warning("Background transfer terminated by signal \(signal)")
            } else {
                log.warning("Background transfer error")
            }
            replication.snapshotChildDone(diskless: true, ok: ok, now: clock.monotonicMillis())
            return
        }
        defer { replication.snapshotChildDone(diskless: false, ok: ok, now: clock.monotonicMillis()) }
        if ok {
            log.notice("Background saving terminated with success")
            dirty = max(0, dirty - persistence.dirtyAtFork)
            persistence.lastSave = clock.wallSeconds()
            persistence.saves += 1
        } else {
            if signal != 0 {
                log.warning("Background saving terminated by signal \(signal)")
            } else {
                log.warning("Background saving error")
            }
            Posix.unlink("temp-\(child.pid).rdb")
            // SIGUSR1 is how we stop a child on purpose: not an error (as Redis).
            if signal == SIGUSR1 { return }
        }
        persistence.lastBgsaveOK = ok
        lastBgsaveFailed = !ok
    }

    /// A child started or ended: while one runs, key accesses are not stamped, so the pages
    /// holding the keyspace stay shared with the child (copy-on-write), as Redis does.
    func childrenChanged() {
        keyAging.setFrozen(persistence.child != nil || aof.child != nil)
    }

    /// Kills a running BGSAVE child and removes its temp file (shutdown, FLUSHALL...).
    func killBackgroundSave() {
        guard let child = persistence.child else { return }
        child.terminate()
        Posix.unlink("temp-\(child.pid).rdb")
        persistence.child = nil
        childrenChanged()
        replication.snapshotChildDone(diskless: persistence.childTarget == .socket, ok: false, now: clock.monotonicMillis())
    }

    /// At shutdown: save when asked or when save rules exist; false (abort) if that fails.
    func saveOnShutdown(_ save: Bool?) -> Bool {
        if bgsaveInProgress {
            log.warning("There is a child saving an .rdb. Killing it!")
            killBackgroundSave()
        }
        guard save ?? !config.saveRules.isEmpty else { return true }
        log.notice("Saving the final RDB snapshot before exiting.")
        if saveRDB() { return true }
        log.warning("Error trying to save the DB, can't exit.")
        return false
    }

    /// DEBUG RELOAD: save, then load the file back in place of the current data.
    func debugReload() throws {
        guard saveRDB() else { throw CommandError("ERR Error trying to save the DB") }
        guard let bytes = try Posix.readFile(rdbPath) else { throw CommandError("ERR Error trying to load the RDB dump") }
        var reader = RDBReader(bytes)
        reader.aging = keyAging
        try apply(try reader.read(now: nil))
    }

    // MARK: - INFO

    /// The `# Persistence` section, field for field as Redis 7.0.
    func persistenceInfo() -> [String] {
        let p = persistence
        let current = p.child.map { Int((clock.monotonicMillis() - $0.startedMillis) / 1000) } ?? -1
        return [
            "loading:\(loading ? 1 : 0)",
            "async_loading:0",
            "current_cow_peak:0",
            "current_cow_size:0",
            "current_cow_size_age:0",
            "current_fork_perc:0.00",
            "current_save_keys_processed:0",
            "current_save_keys_total:0",
            "rdb_changes_since_last_save:\(dirty)",
            "rdb_bgsave_in_progress:\(p.child != nil ? 1 : 0)",
            "rdb_last_save_time:\(p.lastSave)",
            "rdb_last_bgsave_status:\(p.lastBgsaveOK ? "ok" : "err")",
            "rdb_last_bgsave_time_sec:\(p.lastBgsaveSeconds)",
            "rdb_current_bgsave_time_sec:\(current)",
            "rdb_saves:\(p.saves)",
            "rdb_last_cow_size:0",
            "rdb_last_load_keys_expired:\(p.lastLoadKeysExpired)",
            "rdb_last_load_keys_loaded:\(p.lastLoadKeysLoaded)",
        ] + aof.infoLines() + [
            "module_fork_in_progress:0",
            "module_fork_last_cow_size:0",
        ] + aof.enabledInfoLines()
    }
}

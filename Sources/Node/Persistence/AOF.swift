// The append-only file (Redis 7's multi-part AOF, aof.c): every propagated write is encoded as
// RESP into a buffer, written to the current incremental file in before-sleep ahead of the
// reply flush, and fsynced as `appendfsync` says. Rewrites, loading and INFO live in the
// AOF+*.swift extensions.
//
// Why everysec fsyncs in the cron: Redis hands the fsync to a background thread, which we cannot
// have without Dispatch. A forked child per second would cost a fork (page-table copy) every
// second on a big dataset, far more than the fsync itself. The cron runs every 1000/hz ms on the
// event-loop thread, so an fsync happens within ~1 s + 1/hz of the first unsynced write; the
// price is that the fsync's latency is paid on the loop, which only `always` pays more often.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// The AOF subsystem's state (Redis's server.aof_* fields).
final class AOF {
    unowned let server: Server

    /// Redis's aof_state.
    enum State: Equatable {
        case off
        case on
        /// `appendonly yes` was set at run time: the AOF is complete only once the first rewrite ends.
        case waitRewrite
    }

    /// Off, on, or waiting for the first rewrite.
    var state: State = .off
    /// The files that make up the AOF, as last read or written.
    var manifest = AOFManifest()
    /// Whether `manifest` reflects the file on disk (loaded or written by us).
    var manifestLoaded = false
    /// The incremental file being appended to, -1 when none.
    var fd: Int32 = -1
    /// Encoded commands not yet written (Redis's aof_buf); encoded in place, no per-command array.
    var pending = RESPWriter()
    /// Bytes waiting to be written (not counted against maxmemory, as Redis's aof_buf).
    var pendingBytes: Int { pending.count }
    /// The bytes of `pending`.
    var buffer: Bytes {
        get { pending.bytes }
        set { pending.bytes = newValue }
    }
    /// The db the current incremental file last selected; -1 forces a SELECT.
    var selectedDB = -1
    /// Monotonic time of the last successful fsync (everysec measures from here).
    var lastFsyncMillis: Int64 = Clock.monotonicMillis()
    /// Bytes written since the last fsync.
    var unsynced = false
    /// Total size of the base and incremental files (aof_current_size).
    var currentSize = 0
    /// Size of the base file (aof_base_size).
    var baseSize = 0
    /// Total size right after the last rewrite or load: auto-rewrite measures growth from here.
    var rewriteBaseSize = 0
    /// The last `#TS:` annotation written (aof-timestamp-enabled).
    var lastTimestamp: Int64 = 0
    /// False after a failed write or fsync until one succeeds (INFO aof_last_write_status, MISCONF).
    var lastWriteOK = true
    /// The reason of the last failure, as strerror says it.
    var lastWriteError = ""

    // Rewrite bookkeeping.
    /// The rewrite child, while one runs.
    var child: ChildProcess? = nil
    /// A rewrite waits for the current child to finish (INFO aof_rewrite_scheduled).
    var rewriteScheduled = false
    /// The base format the running child writes (the config may change meanwhile).
    var rewriteRDBPreamble = true
    /// Duration of the last rewrite, -1 before the first.
    var lastRewriteSeconds = -1
    /// Outcome of the last rewrite (INFO aof_last_bgrewrite_status).
    var lastRewriteOK = true
    /// Rewrites started (INFO aof_rewrites).
    var rewrites = 0
    /// Failed rewrites in a row (INFO aof_rewrites_consecutive_failures).
    var consecutiveFailures = 0
    /// Set after a failed rewrite: no automatic retry before this monotonic time.
    var retryNotBefore: Int64 = 0

    /// State for `server`; `install()` wires it in.
    init(server: Server) { self.server = server }

    /// The server's configuration.
    var config: ServerConfig { server.config }
    /// The AOF directory, relative to the working directory (`dir`).
    var dirPath: String { config.appenddirname }
    /// The path of a file of the AOF directory.
    func path(_ name: String) -> String { dirPath + "/" + name }
    /// `<appenddirname>/<appendfilename>.manifest`.
    var manifestPath: String { path(AOFManifest.manifestName(config.appendfilename)) }
    /// The incremental file used while waiting for the first rewrite.
    var tempIncrPath: String { path(AOFManifest.tempIncrName(config.appendfilename)) }

    /// A file or directory name without path separators (appendfilename, appenddirname).
    static func isValidFileName(_ s: String) -> Bool {
        !s.isEmpty && !s.contains("/") && s != "." && s != ".."
    }

    // MARK: - Feeding

    /// A propagated write, in RESP, preceded by SELECT when the db changes.
    func feed(db: Int, _ argv: [Bytes]) {
        // While waiting for the first rewrite, only writes after its fork belong in the files:
        // the base holds everything before (fed earlier, they would be replayed twice).
        guard state == .on || (state == .waitRewrite && child != nil), !server.loading else { return }
        if db != selectedDB && db >= 0 {
            pending.arrayHeader(2)
            pending.bulk("SELECT")
            pending.bulk(String(db))
            selectedDB = db
        }
        if config.aofTimestampEnabled {
            // Redis 7's `#TS:<unix seconds>` annotation, written when the second changed.
            let now = server.clock.wallSeconds()
            if now != lastTimestamp {
                pending.raw("#TS:\(now)\r\n")
                lastTimestamp = now
            }
        }
        pending.arrayHeader(argv.count)
        for a in argv { pending.bulk(a) }
    }

    // MARK: - Writing and fsync

    /// Before-sleep: write the buffer (and fsync with `always`) before any reply leaves.
    func beforeSleep() {
        guard fd >= 0 else { return }
        if !pending.bytes.isEmpty { writeBuffer() }
        if config.appendfsync == "always" && unsynced && lastWriteOK { fsyncNow() }
    }

    /// A client's replies may leave before before-sleep (its socket was already being drained):
    /// with `always`, write and fsync now so no reply acknowledges an unsynced write.
    func syncBeforeEarlyReplies() {
        guard fd >= 0, config.appendfsync == "always", !pending.bytes.isEmpty else { return }
        beforeSleep()
    }

    /// Writes the whole buffer to the incremental file. A failure keeps the buffer for a retry
    /// (everysec/no) or stops the server (always: an acknowledged write could be lost).
    func writeBuffer() {
        guard fd >= 0, !pending.bytes.isEmpty else { return }
        do {
            try pending.bytes.withUnsafeBytes { try Posix.writeAll(fd, $0) }
        } catch {
            // A short write may have left part of the buffer in the file: cut it back so the
            // file stays a sequence of whole commands, and retry everything later.
            if let size = try? Posix.seekEnd(fd), size > incrFileSize { try? Posix.truncate(fd, to: incrFileSize) }
            lastWriteError = (error as? IOError).map { Posix.strerror($0.errnoCode) } ?? "\(error)"
            if lastWriteOK { server.log.warning("Error writing to the AOF file: \(error)") }
            lastWriteOK = false
            if config.appendfsync == "always" {
                server.log.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
                exit(1)
            }
            return
        }
        if !lastWriteOK { server.log.warning("AOF write error looks solved, Redis can write again.") }
        lastWriteOK = true
        currentSize += pending.bytes.count
        incrFileSize += pending.bytes.count
        pending.bytes.removeAll(keepingCapacity: pending.bytes.capacity <= 1 << 20)
        unsynced = true
    }

    /// Bytes in the current incremental file (to cut a partial write back).
    var incrFileSize = 0

    /// fdatasync of the incremental file; a failure is fatal with `always`, as in Redis.
    func fsyncNow() {
        guard fd >= 0 else { return }
        do { try Posix.fdatasync(fd) } catch {
            let err = Posix.strerror((error as? IOError)?.errnoCode ?? EIO)
            server.log.warning("Can't persist the AOF file: fsync: \(err)")
            if config.appendfsync == "always" {
                server.log.warning("Can't recover from AOF fsync error when the AOF fsync policy is 'always'. Exiting...")
                exit(1)
            }
            lastWriteOK = false
            lastWriteError = err
            return
        }
        unsynced = false
        lastFsyncMillis = server.clock.monotonicMillis()
    }

    /// Cron: everysec fsync, reaping the rewrite child, scheduled and automatic rewrites.
    func cron(now: Int64) {
        if fd >= 0 && !buffer.isEmpty && !lastWriteOK { writeBuffer() }
        if fd >= 0 && unsynced && config.appendfsync == "everysec" && now - lastFsyncMillis >= 1000 {
            // no-appendfsync-on-rewrite: skip the fsync while a child writes heavily to disk.
            if !(config.noAppendfsyncOnRewrite && (child != nil || server.bgsaveInProgress)) { fsyncNow() }
        }
        rewriteCron(now: now)
    }

    /// At shutdown: everything buffered reaches the disk; a running rewrite is abandoned.
    func shutdown() -> Bool {
        if state == .waitRewrite && child != nil {
            // The AOF is not complete until this rewrite ends (SHUTDOWN FORCE goes on anyway).
            server.log.warning("Writing initial AOF, can't exit.")
            return false
        }
        if child != nil {
            server.log.warning("There is a child rewriting the AOF. Killing it!")
            killRewriteChild()
        }
        if fd >= 0 {
            writeBuffer()
            server.log.notice("Calling fsync() on the AOF file.")
            fsyncNow()
        }
        return true
    }

    // MARK: - Files

    /// Opens (creating) a file of the AOF directory for appending.
    func openForAppend(_ name: String, truncate: Bool = false) throws -> Int32 {
        try Posix.open(path(name), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o644)
    }

    /// Switches appending to `newFD` (size `size`); the next write starts with a SELECT.
    func switchIncrFile(to newFD: Int32, size: Int) {
        if fd >= 0 { Posix.close(fd) }
        fd = newFD
        incrFileSize = size
        selectedDB = -1
        lastTimestamp = 0
    }

    /// Writes the manifest atomically (temp, fsync, rename, fsync the directory).
    func persistManifest() throws {
        try Posix.writeFileAtomically(manifestPath, Array(manifest.render().utf8))
        manifestLoaded = true
    }

    /// Creates the AOF directory if needed.
    func ensureDirectory() throws {
        do { try Posix.makeDirectory(dirPath) } catch let e as IOError {
            server.log.warning("Can't open or create append-only dir \(dirPath): \(Posix.strerror(e.errnoCode))")
            throw e
        }
    }

    /// Size of a file of the AOF directory, 0 if missing.
    func fileSize(_ name: String) -> Int {
        Posix.fileSize(path(name)) ?? 0
    }

    /// Reads the manifest from disk if there is one; false when there is none.
    @discardableResult
    func loadManifestIfPresent() throws -> Bool {
        guard let bytes = try Posix.readFile(manifestPath) else { return false }
        do { manifest = try AOFManifest.parse(bytes) } catch {
            throw AOFLoadError(message: "\(error.message) in \(manifestPath)")
        }
        manifestLoaded = true
        return true
    }

    /// Why writes must be refused (Redis's -MISCONF for AOF write errors), or nil: a write that
    /// cannot reach the AOF must not be acknowledged.
    var writeRefusal: String? {
        guard state != .off, !lastWriteOK else { return nil }
        return "MISCONF Errors writing to the AOF file: \(lastWriteError)"
    }

    // MARK: - INFO

    /// The aof_* lines of INFO persistence that come before the module_fork ones.
    func infoLines() -> [String] {
        let current = child.map { Int((server.clock.monotonicMillis() - $0.startedMillis) / 1000) } ?? -1
        return [
            "aof_enabled:\(state != .off ? 1 : 0)",
            "aof_rewrite_in_progress:\(child != nil ? 1 : 0)",
            "aof_rewrite_scheduled:\(rewriteScheduled ? 1 : 0)",
            "aof_last_rewrite_time_sec:\(lastRewriteSeconds)",
            "aof_current_rewrite_time_sec:\(current)",
            "aof_last_bgrewrite_status:\(lastRewriteOK ? "ok" : "err")",
            "aof_rewrites:\(rewrites)",
            "aof_rewrites_consecutive_failures:\(consecutiveFailures)",
            "aof_last_write_status:\(lastWriteOK ? "ok" : "err")",
            "aof_last_cow_size:0",
        ]
    }

    /// The lines Redis adds after module_fork_last_cow_size while the AOF is on.
    func enabledInfoLines() -> [String] {
        guard state != .off else { return [] }
        return [
            "aof_current_size:\(currentSize)",
            "aof_base_size:\(baseSize)",
            "aof_pending_rewrite:\(rewriteScheduled ? 1 : 0)",
            "aof_buffer_length:\(buffer.count)",
            "aof_pending_bio_fsync:0",
            "aof_delayed_fsync:0",
        ]
    }
}

/// A failure loading the AOF at start-up: the message names the file and the offset.
struct AOFLoadError: Error, CustomStringConvertible {
    /// What went wrong, naming the file and offset.
    let message: String
    /// The message.
    var description: String { message }
}

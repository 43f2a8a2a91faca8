// AOF rewriting (BGREWRITEAOF, automatic growth-based rewrites, CONFIG SET appendonly yes):
// the parent opens a new incremental file and keeps appending there while a forked child writes
// a new base from the dataset as it was at fork time; when the child succeeds, the base is
// renamed into place and the manifest is swapped atomically, turning older files into history.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// Why a rewrite could not start.
struct AOFRewriteError: Error, CustomStringConvertible {
    /// What went wrong.
    let message: String
    /// The message.
    var description: String { message }
}

extension AOF {
    /// Temp name the child writes its base to (Redis's temp-rewriteaof-bg-<pid>.aof).
    func tempRewriteName(_ pid: pid_t) -> String { "temp-rewriteaof-bg-\(pid).aof" }

    // MARK: - Starting

    /// Forks the rewrite child (rewriteAppendOnlyFileBackground). The current buffer is flushed
    /// and synced first, and writes from now on go to a fresh incremental file.
    func startRewrite() throws(AOFRewriteError) {
        guard child == nil else { throw AOFRewriteError(message: "Background append only file rewriting already in progress") }
        do {
            try ensureDirectory()
            if !manifestLoaded { try loadManifestIfPresent() }
        } catch {
            throw AOFRewriteError(message: "\(error)")
        }
        if fd >= 0 {
            writeBuffer()
            fsyncNow()
        }
        do { try openNewIncrForRewrite() } catch {
            server.log.warning("Can't open new incr AOF file for append: \(error)")
            throw AOFRewriteError(message: "\(error)")
        }
        rewriteScheduled = false
        let useRDB = config.aofUseRdbPreamble
        rewriteRDBPreamble = useRDB
        let started: ChildProcess
        let forkStart = Clock.monotonicMicros()
        do {
            started = try ChildProcess.fork(clock: server.clock) { [self] in writeBaseInChild(rdbPreamble: useRDB) ? 0 : 1 }
        } catch {
            server.log.warning("Can't rewrite append only file in background: \(error)")
            lastRewriteOK = false
            throw AOFRewriteError(message: "\(error)")
        }
        child = started
        server.forked(usec: Clock.monotonicMicros() - forkStart)
        server.childrenChanged()
        rewrites += 1
        server.log.notice("Background append only file rewriting started by pid \(started.pid)")
    }

    /// ON: a new numbered incremental file, recorded in the manifest right away so a crash during
    /// the rewrite still loads everything. WAIT_REWRITE: a temp file that becomes the first
    /// incremental file once the base exists. OFF (BGREWRITEAOF with appendonly no): none.
    private func openNewIncrForRewrite() throws {
        switch state {
        case .off:
            return
        case .waitRewrite:
            let newFD = try openForAppend(AOFManifest.tempIncrName(config.appendfilename), truncate: true)
            switchIncrFile(to: newFD, size: 0)
            currentSize = 0
        case .on:
            var next = manifest
            let info = next.addIncr(prefix: config.appendfilename)
            let newFD = try openForAppend(info.name, truncate: true)
            manifest = next
            do { try persistManifest() } catch {
                Posix.close(newFD)
                Posix.unlink(path(info.name))
                manifest.incrs.removeLast()
                manifest.currentIncrSeq -= 1
                throw error
            }
            server.log.notice("Creating AOF incr file \(info.name) on background rewrite")
            switchIncrFile(to: newFD, size: 0)
        }
    }

    /// Child side: the dataset as an RDB preamble or as commands, fsynced. Only writes and exits.
    private func writeBaseInChild(rdbPreamble: Bool) -> Bool {
        let tmp = path(tempRewriteName(getpid()))
        let fd: Int32
        do { fd = try Posix.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } catch {
            server.log.warning("Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): \(error)")
            return false
        }
        do {
            try writeBase(to: fd, rdbPreamble: rdbPreamble)
            try Posix.fsync(fd)
        } catch {
            server.log.warning("Write error writing append only file on disk: \(error)")
            Posix.close(fd)
            Posix.unlink(tmp)
            return false
        }
        Posix.close(fd)
        server.log.notice("Successfully created the temporary AOF base file \(tempRewriteName(getpid()))")
        return true
    }

    /// The current dataset as a base file body.
    func writeBase(to fd: Int32, rdbPreamble: Bool) throws {
        if rdbPreamble {
            // No repl-id/offset in a base: the incremental files move the offset on (Redis
            // writes none there either).
            var options = server.rdbWriterOptions
            options.replication = nil
            _ = try RDBWriter.snapshot(server.databases, options: options, now: Clock.wallMillis()) { chunk in
                try Posix.writeAll(fd, chunk)
            }
        } else {
            try AOFBaseWriter.write(server.databases, functions: server.scripting.libraryCodes, now: Clock.wallMillis()) { chunk in
                try Posix.writeAll(fd, chunk)
            }
        }
    }

    // MARK: - Finishing

    /// Cron: reap the child; start scheduled or growth-triggered rewrites.
    func rewriteCron(now: Int64) {
        if let running = child {
            if let status = running.reap() { rewriteDone(running, status) }
            return
        }
        guard !server.bgsaveInProgress else { return }
        guard now >= retryNotBefore else { return }
        var due = rewriteScheduled || state == .waitRewrite
        if !due && state == .on && config.autoAofRewritePercentage > 0 && currentSize > config.autoAofRewriteMinSize {
            let growth = currentSize * 100 / max(1, rewriteBaseSize) - 100
            if growth >= config.autoAofRewritePercentage {
                server.log.notice("Starting automatic rewriting of AOF on \(growth)% growth")
                due = true
            }
        }
        guard due else { return }
        // A rewrite that cannot even start (fork, open) is retried later, not on every tick.
        do { try startRewrite() } catch { retryNotBefore = now + 5000 }
    }

    /// Parent side of a finished child (backgroundRewriteDoneHandler).
    func rewriteDone(_ finished: ChildProcess, _ status: Posix.ExitStatus) {
        child = nil
        server.childrenChanged()
        lastRewriteSeconds = Int((server.clock.monotonicMillis() - finished.startedMillis) / 1000)
        let pid = finished.pid
        let tmp = path(tempRewriteName(pid))
        guard status.succeeded else {
            server.log.warning(status.signal != 0 ? "Background AOF rewrite terminated by signal \(status.signal)" : "Background AOF rewrite terminated with error")
            rewriteFailed(tmp)
            return
        }
        server.log.notice("Background AOF rewrite terminated with success")
        do { try installRewrittenBase(tempName: tempRewriteName(pid)) } catch {
            server.log.warning("Error trying to install the rewritten AOF: \(error)")
            rewriteFailed(tmp)
            return
        }
        lastRewriteOK = true
        consecutiveFailures = 0
        server.log.notice("Background AOF rewrite finished successfully")
    }

    private func rewriteFailed(_ tmp: String) {
        Posix.unlink(tmp)
        lastRewriteOK = false
        consecutiveFailures += 1
        // Retry later rather than in a tight loop (Redis waits too after failures).
        retryNotBefore = server.clock.monotonicMillis() + 1000 * Int64(min(60, consecutiveFailures))
    }

    /// Renames the child's base into place and swaps the manifest; older files become history
    /// and are deleted once the new manifest is durable.
    private func installRewrittenBase(tempName: String) throws {
        let tmp = path(tempName)
        var next = manifest
        next.currentBaseSeq += 1
        let baseName = AOFManifest.baseName(config.appendfilename, seq: next.currentBaseSeq, rdbPreamble: rewriteRDBPreamble)
        var obsolete: [AOFFileInfo] = next.history
        if let old = next.base { obsolete.append(AOFFileInfo(name: old.name, seq: old.seq, type: .history)) }
        // Every incremental file except the one opened at fork time is covered by the new base.
        let keep = state == .on ? next.incrs.suffix(1) : []
        for i in next.incrs.dropLast(keep.count) { obsolete.append(AOFFileInfo(name: i.name, seq: i.seq, type: .history)) }
        next.incrs = Array(keep)
        next.history = []
        next.base = AOFFileInfo(name: baseName, seq: next.currentBaseSeq, type: .base)
        if state == .waitRewrite {
            // The temp incremental file becomes the first numbered one.
            let info = next.addIncr(prefix: config.appendfilename)
            writeBuffer()
            try Posix.rename(tempIncrPath, path(info.name))
        }
        try Posix.rename(tmp, path(baseName))
        server.log.notice("Successfully renamed the temporary AOF base file \(tempName) into \(baseName)")
        manifest = next
        try persistManifest()
        for f in obsolete where f.name != baseName && !next.incrs.contains(where: { $0.name == f.name }) {
            server.log.notice("Removing the history file \(f.name) in the background")
            Posix.unlink(path(f.name))
        }
        if state == .waitRewrite {
            state = .on
            // The incremental file was written but maybe never synced while waiting.
            fsyncNow()
        }
        baseSize = fileSize(baseName)
        currentSize = baseSize + next.incrs.reduce(0) { $0 + fileSize($1.name) }
        rewriteBaseSize = currentSize
        Posix.fsyncDirectory(of: path(baseName))
    }

    /// Kills a running rewrite child and removes its temp file (shutdown, appendonly no).
    func killRewriteChild() {
        guard let running = child else { return }
        running.terminate()
        Posix.unlink(path(tempRewriteName(running.pid)))
        child = nil
        server.childrenChanged()
    }

    // MARK: - Turning the AOF on and off at run time

    /// CONFIG SET appendonly: yes starts a rewrite (the AOF is complete once it ends), no stops.
    func appendOnlyChanged() throws(ConfigValueError) {
        if config.appendonly && state == .off {
            state = .waitRewrite
            if server.bgsaveInProgress {
                rewriteScheduled = true
                server.log.warning("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
                return
            }
            if child != nil {
                // A BGREWRITEAOF with appendonly no is running: its base would lack the new
                // incremental file; restart it as Redis does.
                server.log.warning("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.")
                killRewriteChild()
            }
            do { try startRewrite() } catch {
                state = .off
                server.log.warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.")
                throw ConfigValueError("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.")
            }
        } else if !config.appendonly && state != .off {
            stop()
        }
    }

    /// stopAppendOnly: flush, fsync, close; a running rewrite is killed.
    func stop() {
        if fd >= 0 {
            writeBuffer()
            fsyncNow()
            Posix.close(fd)
            fd = -1
        }
        if child != nil {
            server.log.notice("Killing running AOF rewrite child: \(child?.pid ?? 0)")
            killRewriteChild()
        }
        if state == .waitRewrite { Posix.unlink(tempIncrPath) }
        buffer = []
        rewriteScheduled = false
        state = .off
    }

    /// The whole dataset was replaced (full sync from a master): the files no longer describe
    /// it, so start over with a rewrite, as Redis's restartAOFAfterSYNC does.
    func datasetReplaced() {
        guard state != .off else { return }
        stop()
        state = .waitRewrite
        do { try startRewrite() } catch {
            server.log.warning("Failed to restart the AOF after a full sync: \(error); will retry")
            rewriteScheduled = true
        }
    }
}

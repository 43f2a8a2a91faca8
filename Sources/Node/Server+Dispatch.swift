// processCommand: every check a command goes through, in Redis's order, then the call and the
// propagation of what it wrote. Handlers never repeat these checks.
import Shared

/// A command spec in a box, so a cache hit costs one retain instead of copying the struct.
final class CommandRef {
    /// The spec, as in `Server.commandTable`.
    let spec: CommandSpec
    /// The name exactly as a client spelled it (the cache key).
    let rawName: Bytes
    init(_ spec: CommandSpec, rawName: Bytes) { self.spec = spec; self.rawName = rawName }
}

extension Server {
    /// Runs `c.argv` as a command, writing the reply into the client's buffer.
    func processCommand(_ c: Client) {
        c.commandsProcessed += 1
        guard let ref = lookupCommand(c.argv[0]) else {
            var args = ""
            for a in c.argv.dropFirst() {
                if args.count >= 128 { break }
                args += "'\(String(decoding: a.prefix(128 - args.count), as: UTF8.self))' "
            }
            rejectCommand(c, "ERR unknown command '\(String(decoding: c.argv[0].prefix(128), as: UTF8.self))', with args beginning with: \(args)")
            return
        }
        processCommand(c, ref.spec)
    }

    /// The checks and the call for a known command. `borrowing`: the spec is read in place from
    /// the cache's box, not copied (a copy retained its name, categories, handler and subcommands).
    private func processCommand(_ c: Client, _ cmd: borrowing CommandSpec) {
        if (cmd.arity > 0 && c.argc != cmd.arity) || c.argc < -cmd.arity {
            rejectCommand(c, "ERR wrong number of arguments for '\(cmd.name)' command")
            return
        }
        if !c.authenticated && !cmd.flags.contains(.noAuth) {
            rejectCommand(c, CommandError.noAuth.message)
            return
        }
        if !cmd.flags.contains(.noAuth), let user = c.user, !user.canRun(cmd, c.argv) {
            let full = c.argc > 1 && cmd.subcommands.contains(c.arg(1).text.lowercased()) ? cmd.name + "|" + c.arg(1).text.lowercased() : cmd.name
            rejectCommand(c, "NOPERM this user has no permissions to run the '\(full)' command")
            return
        }
        if !cmd.flags.contains(.noAuth), let user = c.user, !user.canAccessKeys(cmd, c.argv) {
            rejectCommand(c, "NOPERM this user has no permissions to access one of the keys used as arguments")
            return
        }
        let isMasterLink = c.flags.contains(.master)
        let writes = cmd.flags.contains(.write) || (c.flags.contains(.multi) && false)
        if writes && !isMasterLink, let refusal = writeRefusal() {
            rejectCommand(c, refusal)
            return
        }
        if c.flags.contains(.pubsub) && c.proto == 2 && !cmd.flags.contains(.okInSubscribe) {
            rejectCommand(c, "ERR Can't execute '\(cmd.name)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
            return
        }
        if masterHost != nil && !masterLinkUp && !config.replicaServeStaleData && !cmd.flags.contains(.stale) && !isMasterLink {
            rejectCommand(c, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
            return
        }
        if loading && !cmd.flags.contains(.loading) {
            rejectCommand(c, "LOADING Redis is loading the dataset in memory")
            return
        }
        if c.flags.contains(.multi) && !cmd.flags.contains(.txControl) {
            c.multiQueue.append(c.argv)
            c.out.raw("+QUEUED\r\n")
            return
        }
        // A shutdown waiting for replicas holds writers, so replicas can catch up (Redis pauses them).
        if replication.pendingShutdown != nil && !isMasterLink && (writes || cmd.name == "exec")
            && replication.holdWriteDuringShutdown(c) { return }
        call(c, cmd)
        serveBlockedClients()
    }

    /// The command named by `raw` (any case). Lookups go through a small direct-mapped cache keyed
    /// by the exact bytes the client sent (FNV-1a of the name picks the slot, an exact compare
    /// confirms), so the common case neither builds a lower-cased `String` nor runs SipHash over
    /// a dictionary. Only known names are cached, and the cache has a fixed size, so clients
    /// sending random names cannot grow it.
    @inline(__always)
    func lookupCommand(_ raw: Bytes) -> CommandRef? {
        var h: UInt32 = 2166136261
        for b in raw.prefix(32) { h = (h ^ UInt32(b)) &* 16777619 }
        let slot = Int(h & UInt32(Server.commandSlotCount - 1))
        if let hit = commandSlots[slot], hit.rawName == raw { return hit }
        guard let cmd = commandTable[String(decoding: raw, as: UTF8.self).lowercased()] else { return nil }
        let ref = CommandRef(cmd, rawName: raw)
        commandSlots[slot] = ref
        return ref
    }

    /// Size of the command cache (a power of two).
    static let commandSlotCount = 256

    /// Why writes must be refused right now (MISCONF, NOREPLICAS, READONLY), or nil. EXEC asks
    /// too, for the writes it queued (Redis checks them when EXEC arrives, not when queued).
    func writeRefusal() -> String? {
        if lastBgsaveFailed && config.stopWritesOnBgsaveError && !config.saveRules.isEmpty && !isReplica {
            return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
        }
        if let refusal = aof.writeRefusal { return refusal }
        if masterHost == nil && config.minReplicasToWrite > 0 && goodReplicas() < config.minReplicasToWrite {
            return CommandError.noReplicas.message
        }
        if masterHost != nil && config.replicaReadOnly {
            return CommandError.readonly.message
        }
        return nil
    }

    /// Replies with an error for a rejected command; inside MULTI it also dooms the EXEC.
    func rejectCommand(_ c: Client, _ message: String) {
        if c.flags.contains(.multi) { c.flags.insert(.dirtyExec) }
        if abortExec(c, message) { return }
        replyError(c, message)
    }

    /// Writes an error reply and counts it.
    func replyError(_ c: Client, _ message: String) {
        stats.totalErrorReplies += 1
        c.out.error(message)
    }

    /// Runs a command and propagates its effects when it changed the dataset.
    func call(_ c: Client, _ cmd: CommandSpec) {
        let dirtyBefore = dirty
        let offsetBefore = replication.masterReplOffset
        let previous = currentClient
        currentClient = c
        let outBefore = c.conn.output.bytes.count
        if !monitors.isEmpty && !cmd.flags.contains(.skipMonitor) && !cmd.flags.contains(.admin) {
            feedMonitors(c)
        }
        do {
            try cmd.handler(self, c)
        } catch let e as CommandError {
            replyError(c, e.message)
        } catch {
            replyError(c, "ERR \(error)")
        }
        // CLIENT REPLY OFF: drop what this command wrote (the master link manages its own replies).
        if c.flags.contains(.noReply) && !c.flags.contains(.master) && c.conn.output.bytes.count > outBefore {
            c.conn.output.bytes.removeSubrange(outBefore...)
        }
        currentClient = previous
        c.lastCommand = cmd.name
        stats.totalCommands += 1
        let changed = dirty != dirtyBefore
        if changed && (cmd.flags.contains(.write) || cmd.flags.contains(.mayReplicate)) {
            if let override = propagateOverride {
                for argv in override { propagate(db: c.db.id, argv) }
            } else {
                propagate(db: c.db.id, c.argv)
            }
        }
        propagateOverride = nil
        if !extraPropagation.isEmpty {
            let extra = extraPropagation
            extraPropagation = []
            for (db, argv) in extra { propagate(db: db, argv) }
        }
        // WAIT waits for this client's own last write, not for everybody's (Redis's c->woff).
        if replication.masterReplOffset != offsetBefore { c.woff = replication.masterReplOffset }
    }

    /// Sends a write to the replication stream and the AOF.
    func propagate(db: Int, _ argv: [Bytes]) {
        for hook in propagationHooks { hook(db, argv) }
    }

    /// Echoes a command to MONITOR clients in Redis's format.
    func feedMonitors(_ c: Client) {
        let t = Clock.wallMicros()
        var line = "\(t / 1_000_000).\(String(t % 1_000_000).leftPad(6)) [\(c.db.id) \(c.flags.contains(.master) ? "master" : c.addr)]"
        for a in c.argv { line += " \"" + Server.monitorEscape(a) + "\"" }
        for m in monitors where m !== c {
            m.out.simple(line)
            markPendingWrite(m)
        }
    }

    /// MONITOR quotes each argument with Redis's sdscatrepr escaping.
    static func monitorEscape(_ b: Bytes) -> String { ArgSplitter.escape(b) }
}

extension String {
    /// Pads with leading zeros to `width`.
    func leftPad(_ width: Int, with ch: Character = "0") -> String {
        count >= width ? self : String(repeating: ch, count: width - count) + self
    }
}

// processCommand and call(), as Redis's server.c. processCommand does every check a client's
// command goes through, in Redis's order, then queues it (MULTI), postpones it (CLIENT PAUSE) or
// calls it. `call` is the only place a handler runs, whoever sends the command: a client, EXEC,
// a blocked client being served, the AOF loader, our master's stream. It counts the stats,
// feeds MONITOR, collects what to propagate into the buffer of the top-level call and flushes
// that buffer when the top-level call ends (Server+Propagation.swift).
import Shared

/// How `call` runs a command (Redis's CMD_CALL_*).
struct CallFlags: OptionSet {
    let rawValue: UInt8
    /// Count it in INFO stats and as the client's last command.
    static let stats = CallFlags(rawValue: 1 << 0)
    /// Propagate what it changed to replicas and the AOF.
    static let propagate = CallFlags(rawValue: 1 << 1)
    /// Show it to MONITOR clients.
    static let monitor = CallFlags(rawValue: 1 << 2)
    /// Sample its latency (LATENCY) and log it if slow (SLOWLOG).
    static let slowlog = CallFlags(rawValue: 1 << 3)
    /// A normal execution.
    static let full: CallFlags = [.stats, .propagate, .monitor, .slowlog]
    /// A blocked client's command run again because a key changed: counted and shown when it
    /// first ran; only its effects are propagated.
    static let rerun: CallFlags = [.propagate]
    /// The AOF loader: nothing is counted, shown or propagated (the files already hold it).
    static let none: CallFlags = []
}

extension Server {
    /// Runs `c.argv` as a command, writing the reply into the client's buffer.
    func processCommand(_ c: Client) {
        c.commandsProcessed += 1
        // A sentinel's command link is in contact with us (self-fencing).
        if c.sentinelID8 != nil { fencingContact(c) }
        enterCommand(c)
        if let ref = commandTable.lookup(c.argv[0]) {
            processCommand(c, ref, ref.spec)
        } else {
            rejectCommand(c, CommandReply.unknownCommand(c.argv), nil)
        }
        leaveCommand(c)
    }

    /// The checks, then the call, for a known command. Our master's commands skip the write
    /// refusals, as Redis's mustObeyClient. `borrowing`: the spec is read in place from the
    /// cache's box, not copied (a copy retained its name, categories, handler and subcommands).
    private func processCommand(_ c: Client, _ ref: CommandRef, _ cmd: borrowing CommandSpec) {
        // Only EXEC inside MULTI takes the traits of the commands it queued.
        let isExec = c.flags.contains(.multi) && cmd.flags.contains(.txControl) && cmd.name == "exec"
        if !CommandReply.arityMatches(cmd.arity, c.argc) {
            rejectCommand(c, CommandReply.wrongArity(cmd.name), ref)
            return
        }
        if !cmd.subArities.isEmpty && c.argc >= 2 {
            let sub = String(decoding: c.argv[1], as: UTF8.self).lowercased()
            if let a = cmd.subArities[sub], !CommandReply.arityMatches(a, c.argc) {
                rejectCommand(c, CommandReply.wrongArity(cmd.name + "|" + sub), ref)
                return
            }
        }
        var flags = cmd.flags
        // EVAL/FCALL: the script's flags decide whether it writes and may be refused on OOM;
        // FUNCTION LOAD/RESTORE are deny-oom (Scripting.commandFlags).
        if (flags.contains([.noscript, .skipMonitor, .stale]) && !flags.contains(.noAuth)) || flags.contains([.stale, .mayReplicate]) {
            flags = scripting.commandFlags(c, cmd.name, flags)
        }
        // A script past busy-reply-threshold: only what may stop it (or cannot interfere) runs.
        if let run = scriptRun, run.timedOut, !flags.contains(.allowBusy), !scriptCommandAllowedWhileBusy(c, cmd.name) {
            rejectCommand(c, run.isEval ? Server.busyEvalError : Server.busyFunctionError, ref)
            return
        }
        let queued = isExec ? c.multiFlags : []
        let lacks = isExec ? c.multiLacks : []
        let writes = flags.contains(.write) || queued.contains(.write)
        let mayReplicate = writes || flags.contains(.mayReplicate) || queued.contains(.mayReplicate)
        let obey = !c.flags.isDisjoint(with: [.master, .aofLoader])
        if !c.authenticated && !flags.contains(.noAuth) {
            rejectCommand(c, CommandReply.noAuth, ref)
            return
        }
        if c.flags.contains(.multi) && flags.contains(.noMulti) {
            rejectCommand(c, "ERR Command not allowed inside a transaction", ref)
            return
        }
        if !flags.contains(.noAuth), let user = c.user, let denial = user.check(cmd, c.argv) {
            rejectACLDenial(c, user, denial, cmd, ref)
            return
        }
        // maxmemory: evict first; refuse what may grow memory if still over (Eviction.swift).
        if config.maxmemory > 0 {
            let denyOOM = flags.contains(.denyOOM) || queued.contains(.denyOOM)
            if oomRefuses(c, denyOOM: denyOOM, isTransactionControl: cmd.flags.contains(.txControl) || cmd.name == "quit" || cmd.name == "reset") {
                rejectCommand(c, Server.oomMessage, ref)
                return
            }
        }
        if tracking.clientCount > 0 { trackingLimitUsedSlots() }
        if writes && !obey, let refusal = writeRefusal() {
            rejectCommand(c, refusal, ref)
            return
        }
        if c.flags.contains(.pubsub) && c.proto == 2 && !flags.contains(.okInSubscribe) {
            rejectCommand(c, CommandReply.subscribedContext(cmd.name), ref)
            return
        }
        if isReplica && !masterLinkUp && !config.replicaServeStaleData && !obey
            && (!flags.contains(.stale) || lacks.contains(.stale)) {
            rejectCommand(c, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", ref)
            return
        }
        if loading && (!flags.contains(.loading) || lacks.contains(.loading)) && !c.flags.contains(.aofLoader) {
            rejectCommand(c, "LOADING Redis is loading the dataset in memory", ref)
            return
        }
        // A replica connection only sends REPLCONF: keyspace commands from it are refused, so a
        // client cannot dodge CLIENT PAUSE by pretending to be a replica.
        if c.flags.contains(.replica) && (mayReplicate || flags.contains(.readonly) || queued.contains(.readonly)) {
            rejectCommand(c, "ERR Replica can't interact with the keyspace", ref)
            return
        }
        // CLIENT PAUSE: replicas are never paused; everybody else waits for the pause to end.
        if pause.isActive && !c.flags.contains(.replica) && pause.holds(mayReplicate: mayReplicate) && clientsArePaused() {
            block(c, .postpone)
            return
        }
        if c.flags.contains(.multi) && !flags.contains(.txControl) {
            queueMultiCommand(c, ref, flags: flags)
            c.out.raw("+QUEUED\r\n")
            return
        }
        call(c, cmd)
        c.woff = replication.masterReplOffset
        if blocking.hasReadyKeys { blocking.serveReadyKeys() }
    }

    /// The command named by `raw` (any case), through the registry's cache.
    @inline(__always)
    func lookupCommand(_ raw: Bytes) -> CommandRef? { commandTable.lookup(raw) }

    /// Logs an ACL denial and replies Redis's NOPERM text for it.
    private func rejectACLDenial(_ c: Client, _ user: ACLUser, _ denial: ACLDenial, _ cmd: borrowing CommandSpec, _ ref: CommandRef) {
        switch denial {
        case .command:
            let full = c.argc > 1 && cmd.subcommands.contains(c.arg(1).text.lowercased()) ? cmd.name + "|" + c.arg(1).text.lowercased() : cmd.name
            addACLLog(c, reason: "command", object: full, username: user.name)
            rejectCommand(c, "NOPERM this user has no permissions to run the '\(full)' command", ref)
        case .key(let i):
            addACLLog(c, reason: "key", object: c.arg(i).text, username: user.name)
            rejectCommand(c, "NOPERM this user has no permissions to access one of the keys used as arguments", ref)
        case .channel(let i):
            addACLLog(c, reason: "channel", object: c.arg(i).text, username: user.name)
            rejectCommand(c, "NOPERM this user has no permissions to access one of the channels used as arguments", ref)
        }
    }

    /// Why writes must be refused right now (MISCONF, NOREPLICAS, READONLY), or nil.
    func writeRefusal() -> String? {
        if lastBgsaveFailed && config.stopWritesOnBgsaveError && !config.saveRules.isEmpty && !isReplica {
            return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
        }
        if let refusal = aof.writeRefusal { return refusal }
        if !isReplica, let fenced = fencingRefusal() { return fenced }
        if !isReplica && config.minReplicasToWrite > 0 && replication.goodReplicaCount(now: clock.monotonicMillis()) < config.minReplicasToWrite {
            return CommandError.noReplicas.message
        }
        if isReplica && config.replicaReadOnly {
            return CommandError.readonly.message
        }
        return nil
    }

    /// Replies with an error for a rejected command; inside MULTI it also dooms the EXEC, and a
    /// rejected EXEC discards the transaction (Redis's rejectCommand / execCommandAbort).
    func rejectCommand(_ c: Client, _ message: String, _ ref: CommandRef?) {
        if c.flags.contains(.multi) { c.flags.insert(.dirtyExec) }
        defer { if let ref { countRejected(c, ref) } }
        if ref?.spec.name == "exec" {
            discardTransaction(c)
            let reason = message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message
            replyError(c, "EXECABORT Transaction discarded because of: \(reason)")
            // MONITOR saw MULTI: show the EXEC that ends it.
            if !monitors.isEmpty { feedMonitors(c, c.argv) }
            return
        }
        replyError(c, message)
    }

    /// Writes an error reply and counts it.
    func replyError(_ c: Client, _ message: String) {
        countErrorReply(c, message)
        c.out.error(message)
    }

    // MARK: - call()

    /// Runs one command: the handler, then MONITOR, stats and the propagation of what it changed
    /// into the top-level call's buffer, which is flushed when that call ends.
    func call(_ c: Client, _ ref: CommandRef, _ flags: CallFlags = .full) {
        call(c, ref.spec, flags)
    }

    /// `call` on a spec read in place (see processCommand).
    func call(_ c: Client, _ cmd: borrowing CommandSpec, _ flags: CallFlags = .full) {
        enterCommand(c)
        let dirtyBefore = dirty
        let previous = currentClient
        currentClient = c
        let outerReplacement = propagation.beginCall()
        errorMark = stats.totalErrorReplies
        let start = Clock.monotonicMicros()
        do {
            try cmd.handler(self, c)
        } catch let e as CommandError {
            replyError(c, e.message)
        } catch {
            replyError(c, "ERR \(error)")
        }
        let usec = Clock.monotonicMicros() - start
        if flags.contains(.monitor) && !monitors.isEmpty && cmd.flags.isDisjoint(with: [.skipMonitor, .admin]) {
            feedMonitors(c, c.redactedArgv ?? c.argv)
        }
        if flags.contains(.stats) {
            c.lastCommand = cmd.name
            stats.totalCommands += 1
        }
        // Client-side caching remembers the keys a tracking client read.
        if c.flags.contains(.tracking) && cmd.flags.contains(.readonly) && !c.tracking.contains(.bcast) {
            trackingRememberKeys(c, cmd)
        }
        afterCall(c, cmd, flags, usec: usec)
        // EXEC is neither write nor may-replicate: what its queued commands changed was
        // propagated by their own calls, and is wrapped once when the buffer is flushed.
        if flags.contains(.propagate) && dirty != dirtyBefore && !cmd.flags.isDisjoint(with: [.write, .mayReplicate]) {
            propagateCurrentCommand(c)
        }
        currentClient = previous
        if propagation.endCall(restoring: outerReplacement) { propagatePendingCommands() }
        // The top-level call's own invalidations go after its reply (and its propagation).
        if !tracking.pending.isEmpty && propagation.depth == 0 { flushPendingInvalidations(c) }
        leaveCommand(c)
    }

    /// Marks the start of replies that may be dropped (CLIENT REPLY OFF/SKIP, the master link).
    @inline(__always) func enterCommand(_ c: Client) {
        if c.callDepth == 0 { c.replyMark = c.out.bytes.count }
        c.callDepth += 1
    }

    /// At the end of the outermost command of `c`: silenced replies are dropped.
    @inline(__always) func leaveCommand(_ c: Client) {
        c.callDepth -= 1
        if c.callDepth == 0 && c.repliesSuppressed && c.out.bytes.count > c.replyMark {
            c.out.bytes.removeSubrange(c.replyMark...)
        }
    }

    // MARK: - MONITOR

    /// Echoes a command to MONITOR clients in Redis's format.
    func feedMonitors(_ c: Client, _ argv: [Bytes]) {
        guard !loading else { return }
        let t = Clock.wallMicros()
        let source = c.flags.contains(.master) ? "master" : c.flags.contains(.script) ? "lua" : c.addr
        var line = "\(t / 1_000_000).\(String(t % 1_000_000).leftPad(6)) [\(c.db.id) \(source)]"
        for a in argv { line += " \"" + Server.monitorEscape(a) + "\"" }
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

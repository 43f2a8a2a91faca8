// Shutting down a master with replicas (Redis 7's shutdown-timeout): instead of exiting at once,
// ask every replica for an ACK and let the loop keep running until all of them acknowledged our
// offset or `shutdown-timeout` seconds passed, so writes already acknowledged to clients are
// not lost with the master. SHUTDOWN ABORT cancels the wait.
import Shared

/// A shutdown waiting for lagging replicas.
struct PendingShutdown {
    /// The SAVE/NOSAVE choice and FORCE flag of the request, applied when the wait ends.
    let save: Bool?
    let force: Bool
    /// Monotonic ms after which we exit even if replicas still lag.
    let deadline: Int64
    /// SHUTDOWN clients blocked until the outcome (an error reply if it fails or is aborted).
    var clients: [Client] = []
    /// Writes held meanwhile (Redis pauses writers): they run if the shutdown does not happen.
    var heldWrites: [(client: Client, argv: [Bytes])] = []
}

extension Replication {
    /// True when every replica acknowledged the whole stream (nothing left to lose).
    func replicasCaughtUp() -> Bool {
        replicas.allSatisfy { $0.ackOffset == masterReplOffset }
    }

    /// Called by `requestShutdown` unless NOW: true when the shutdown now waits for lagging
    /// replicas (the caller must not exit); false to shut down at once.
    func deferShutdown(save: Bool?, force: Bool, now: Int64) -> Bool {
        if pendingShutdown != nil { return true }
        let timeout = Int64(server.config.shutdownTimeout)
        guard timeout > 0, !replicasCaughtUp() else { return false }
        pendingShutdown = PendingShutdown(save: save, force: force, deadline: now + timeout * 1000)
        // A replica proxies its master's stream and cannot add to it (Redis does the same).
        if server.masterHost == nil { feedStream(RESPWriter.command(["REPLCONF", "GETACK", "*"])) }
        server.log.notice("Waiting for replicas before shutting down.")
        return true
    }

    /// Whether a shutdown is waiting for replicas.
    var shutdownPending: Bool { pendingShutdown != nil }

    /// Blocks a SHUTDOWN client until the pending shutdown ends.
    func blockForShutdown(_ c: Client) {
        guard pendingShutdown != nil else { return }
        c.flags.insert(.blocked)
        pendingShutdown?.clients.append(c)
    }

    /// Holds a write command while a shutdown waits, so the offset replicas must reach stays put.
    func holdWriteDuringShutdown(_ c: Client) -> Bool {
        guard pendingShutdown != nil else { return false }
        c.flags.insert(.blocked)
        pendingShutdown?.heldWrites.append((c, c.argv))
        return true
    }

    /// Forgets a freed client's part in a pending shutdown.
    func shutdownClientFreed(_ c: Client) {
        pendingShutdown?.clients.removeAll { $0 === c }
        pendingShutdown?.heldWrites.removeAll { $0.client === c }
    }

    /// SHUTDOWN ABORT: cancels a pending shutdown; false when none is pending.
    func abortShutdown() -> Bool {
        guard let p = pendingShutdown else { return false }
        pendingShutdown = nil
        server.log.notice("Shutdown manually aborted.")
        failShutdownClients(p.clients)
        releaseHeldWrites(p.heldWrites)
        return true
    }

    /// Ends the wait when replicas caught up or time is up (cron and every ACK).
    func checkPendingShutdown(now: Int64) {
        guard let p = pendingShutdown, now >= p.deadline || replicasCaughtUp() else { return }
        pendingShutdown = nil
        if !server.finishShutdown(save: p.save, force: p.force) {
            // The shutdown failed (a save error): we keep running, as Redis does.
            server.log.warning("Errors trying to shut down the server. Check the logs for more information.")
            failShutdownClients(p.clients)
            releaseHeldWrites(p.heldWrites)
        }
    }

    /// Runs the writes held during a shutdown that did not happen, then what the clients pipelined.
    private func releaseHeldWrites(_ held: [(client: Client, argv: [Bytes])]) {
        for (c, argv) in held where !c.conn.isClosed {
            c.flags.remove(.blocked)
            c.argv = argv
            server.processCommand(c)
            c.argv = []
            server.markPendingWrite(c)
            if c.conn.pendingInput > 0 { server.processInput(c) }
        }
    }

    /// Shutdown hook: names the replicas that did not catch up, as Redis logs them.
    func logLaggingReplicas(now: Int64) {
        guard !replicas.isEmpty else { return }
        var lagging = 0
        for r in replicas where r.ackOffset != masterReplOffset {
            lagging += 1
            let lag = r.online ? (now - r.ackTime) / 1000 : 0
            server.log.warning("Lagging replica \(r.ip):\(r.listeningPort) reported offset \(masterReplOffset - r.ackOffset) behind master, lag=\(lag), state=\(r.online ? "online" : "wait_bgsave").")
        }
        server.log.notice("\(replicas.count - lagging) of \(replicas.count) replicas are in sync when shutting down.")
    }

    private func failShutdownClients(_ clients: [Client]) {
        for c in clients where !c.conn.isClosed {
            c.flags.remove(.blocked)
            server.replyError(c, "ERR Errors trying to SHUTDOWN. Check logs.")
            server.markPendingWrite(c)
            if c.conn.pendingInput > 0 { server.processInput(c) }
        }
    }
}

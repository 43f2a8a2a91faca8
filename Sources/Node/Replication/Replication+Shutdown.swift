// Shutting down a master with replicas (Redis 7's shutdown-timeout): instead of exiting at once,
// ask every replica for an ACK and let the loop keep running until all of them acknowledged our
// offset or `shutdown-timeout` seconds passed, so writes already acknowledged to clients are
// not lost with the master. Writers are paused meanwhile (a WRITE pause of purpose shutdown, as
// Redis's PAUSE_DURING_SHUTDOWN) so the offset stays put. SHUTDOWN ABORT cancels the wait.
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
        if masterHost == nil && !server.clientsArePaused() { feedStream(RESPWriter.command(["REPLCONF", "GETACK", "*"])) }
        server.pauseClients(.shutdown, kind: .write, until: Int64.max)
        server.log.notice("Waiting for replicas before shutting down.")
        return true
    }

    /// Whether a shutdown is waiting for replicas.
    var shutdownPending: Bool { pendingShutdown != nil }

    /// Blocks a SHUTDOWN client until the pending shutdown ends.
    func blockForShutdown(_ c: Client) {
        guard pendingShutdown != nil else { return }
        pendingShutdown?.clients.append(c)
        server.block(c, .shutdown)
    }

    /// Forgets a SHUTDOWN client (called by `Server.unblock`).
    func forgetShutdownClient(_ c: Client) {
        pendingShutdown?.clients.removeAll { $0 === c }
    }

    /// SHUTDOWN ABORT: cancels a pending shutdown; false when none is pending.
    func abortShutdown() -> Bool {
        guard let p = pendingShutdown else { return false }
        pendingShutdown = nil
        server.log.notice("Shutdown manually aborted.")
        failShutdownClients(p.clients)
        server.unpauseClients(.shutdown)
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
            server.unpauseClients(.shutdown)
        }
    }

    /// At exit: names the replicas that did not catch up, as Redis logs them.
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
        for c in clients {
            server.replyError(c, "ERR Errors trying to SHUTDOWN. Check logs.")
            server.unblock(c)
        }
    }
}

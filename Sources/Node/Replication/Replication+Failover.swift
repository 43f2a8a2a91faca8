// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms] as Redis 6.2/7.0 (replication.c's
// failoverCommand, updateFailoverStatus, abortFailover), and the target's side of the handover,
// PSYNC <replid> <offset> FAILOVER. The decisions live in FailoverCoordinator; this file pauses
// and unpauses writes, turns us into the target's replica, and reacts to its PSYNC answer.
import Shared

extension Replication {
    // MARK: - The command

    /// FAILOVER [TO <host> <port> [FORCE]] [ABORT] [TIMEOUT <ms>].
    func failoverCommand(_ c: Client) throws {
        if c.argc == 2 && c.option(1) == "ABORT" {
            guard failover.isActive else { throw CommandError("ERR No failover in progress.") }
            abortFailover("Failover manually aborted")
            c.out.ok()
            return
        }
        var timeout: Int64 = 0
        var force = false
        var host: String? = nil
        var port = 0
        var j = 1
        while j < c.argc {
            let opt = c.option(j)
            if opt == "TIMEOUT" && j + 1 < c.argc && timeout == 0 {
                guard let t = Int64(c.arg(j + 1).text) else { throw CommandError.notInteger }
                guard t > 0 else { throw CommandError("ERR FAILOVER timeout must be greater than 0") }
                timeout = t
                j += 2
            } else if opt == "TO" && j + 2 < c.argc && host == nil {
                guard let p = Int(c.arg(j + 2).text) else { throw CommandError.notInteger }
                host = c.arg(j + 1).text
                port = p
                j += 3
            } else if opt == "FORCE" && !force {
                force = true
                j += 1
            } else {
                throw CommandError.syntax
            }
        }
        if failover.isActive { throw CommandError("ERR FAILOVER already in progress.") }
        if masterHost != nil { throw CommandError("ERR FAILOVER is not valid when server is a replica.") }
        if replicas.isEmpty { throw CommandError("ERR FAILOVER requires connected replicas.") }
        if force && (timeout == 0 || host == nil) {
            throw CommandError("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
        }
        if let host {
            guard let r = findReplica(host: host, port: port) else {
                throw CommandError("ERR FAILOVER target HOST and PORT is not a replica.")
            }
            guard r.online && !r.waitingFirstAck else { throw CommandError("ERR FAILOVER target replica is not online.") }
            server.log.notice("FAILOVER requested to \(host):\(port).")
        } else {
            server.log.notice("FAILOVER requested to any replica.")
        }
        let now = clock.monotonicMillis()
        failover.start(targetHost: host, port: port, force: force, timeoutMillis: timeout, now: now)
        // Writes are held until the handover ends; only replicas (and our master link, once we
        // follow the target) go on.
        server.pauseClients(.failover, kind: .write, until: Int64.max)
        // Everything written so far is below this offset: a replica that acknowledged it has
        // our whole dataset. Ask for fresh ACKs now rather than waiting up to a second for the
        // periodic ones (Redis's replicas answer a GETACK with the offset before it, which is
        // why the target is compared with this mark, not with the offset after the GETACK).
        failoverSyncOffset = masterReplOffset
        feedStream(RESPWriter.command(["REPLCONF", "GETACK", "*"]))
        c.out.ok()
    }

    /// The replica at host:port as Redis's findReplica matches it: the announced address or the
    /// peer IP (case-insensitive), and the listening port.
    func findReplica(host: String, port: Int) -> ReplicaInfo? {
        replicas.first { $0.ip.lowercased() == host.lowercased() && $0.listeningPort == port }
    }

    // MARK: - Progress

    /// Redis's updateFailoverStatus: from the cron, and whenever ACKs arrived.
    func updateFailoverStatus(now: Int64) {
        guard failover.state == .waitingForSync else { return }
        let candidates = replicas.map {
            FailoverCandidate(host: $0.ip, port: $0.listeningPort, ackOffset: $0.ackOffset, online: $0.online && !$0.waitingFirstAck)
        }
        switch failover.check(now: now, required: failoverSyncOffset, replicas: candidates) {
        case .none:
            break
        case .abort(let reason):
            abortFailover(reason)
        case .failOver(let host, let port, let forced):
            if forced {
                server.log.notice("FAILOVER to \(host):\(port) time out exceeded, failing over.")
            } else {
                server.log.notice("Failover target \(host):\(port) is synced, failing over.")
            }
            // We become the target's replica first, so there are never two masters; the
            // handshake's PSYNC carries FAILOVER and the target promotes itself.
            setMaster(host: host, port: port)
            link?.cron(now: now)
        }
    }

    /// Ends a failover with the pause lifted (Redis's clearFailoverState).
    func clearFailoverState() {
        failover.clear()
        server.unpauseClients(.failover)
    }

    /// Abandons a failover (Redis's abortFailover): after the handover began we are the target's
    /// replica, so we become a master again with our data.
    func abortFailover(_ reason: String) {
        guard failover.isActive else { return }
        if let target = failover.targetDescription {
            server.log.notice("FAILOVER to \(target) aborted: \(reason)")
        } else {
            server.log.notice("FAILOVER to any replica aborted: \(reason)")
        }
        if failover.state == .inProgress { unsetMaster() }
        clearFailoverState()
    }

    /// The target answered our PSYNC FAILOVER (called by the link; acted on in before-sleep, as
    /// the link may be torn down by it).
    func failoverHandshakeAnswered(accepted: Bool) {
        guard failover.state == .inProgress else { return }
        failoverPsyncAnswer = accepted
    }

    /// Before-sleep: the target's answer ends the failover, either way.
    func finishFailoverIfAnswered() {
        guard let accepted = failoverPsyncAnswer else { return }
        failoverPsyncAnswer = nil
        guard failover.state == .inProgress else { return }
        if accepted {
            // PSYNC CONTINUE (or a full resync, which is not wrong either): the target is the master.
            clearFailoverState()
        } else {
            abortFailover("Failover target rejected psync request")
        }
    }

    // MARK: - The target's side

    /// PSYNC <replid> <offset> FAILOVER: our master hands over to us. Returns normally when the
    /// PSYNC may go on (we are now a master); throws Redis's errors otherwise.
    func acceptFailoverRequest(_ c: Client) throws {
        let wanted = c.arg(1).text
        server.log.warning("Failover request received for replid \(wanted).")
        guard masterHost != nil else { throw CommandError("ERR PSYNC FAILOVER can't be sent to a master.") }
        guard wanted == replID else { throw CommandError("ERR PSYNC FAILOVER replid must match my replid.") }
        unsetMaster()
        server.log.notice("MASTER MODE enabled (failover request from '\(server.clientInfoLine(c))')")
    }
}

// The master side of replication: REPLCONF and PSYNC from replicas, full and partial resyncs,
// feeding every write to the backlog and the replicas, PINGs, ACK tracking, WAIT, and the
// replica output buffer limits.
import Shared

extension Replication {
    // MARK: - Feeding the stream

    /// Encodes a propagated write (with SELECT when the db changes) into the stream.
    func feedCommand(db: Int, _ argv: [Bytes]) {
        // A replica proxies its master's stream as-is (see ReplicaLink.streamConsumed).
        guard masterHost == nil else { return }
        // Without a backlog nor replicas nobody can use the stream: Redis does not count it either.
        guard backlog != nil || !replicas.isEmpty else { return }
        var bytes = Bytes()
        if db != lastSelectedDB && db >= 0 {
            bytes += RESPWriter.command(["SELECT", String(db)])
            lastSelectedDB = db
        }
        bytes += RESPWriter.command(argv)
        feedStream(bytes)
    }

    /// Appends raw stream bytes to the backlog and every online replica; advances the offset.
    func feedStream(_ bytes: Bytes) {
        guard !bytes.isEmpty else { return }
        backlog?.append(bytes)
        masterReplOffset += Int64(bytes.count)
        let now = clock.monotonicMillis()
        for r in replicas where r.attached {
            switch r.phase {
            case .waitBgsaveStart:
                // Its snapshot is not forked yet: the stream it needs starts at that fork.
                continue
            case .online:
                r.client.out.raw(bytes)
                server.markPendingWrite(r.client)
            case .waitBgsaveEnd, .sendingFile, .waitFirstAck:
                // Follows the payload (Redis keeps it in the replica's output buffer meanwhile).
                r.heldStream += bytes
            }
            checkOutputLimit(r, now: now)
        }
    }

    /// Closes a replica whose pending stream exceeds client-output-buffer-limit replica.
    func checkOutputLimit(_ r: ReplicaInfo, now: Int64) {
        let limit = server.config.outputLimitReplica
        // The payload itself is exempt (a file being sent is not a backlog the replica fell behind on).
        let pending = (r.phase == .online ? r.client.pendingOutput : 0) + r.heldStream.count
        var over = limit.hard > 0 && pending > limit.hard
        if limit.soft > 0 && pending > limit.soft {
            if r.softLimitSince == 0 { r.softLimitSince = now }
            if now - r.softLimitSince >= Int64(limit.softSeconds) * 1000 { over = true }
        } else {
            r.softLimitSince = 0
        }
        if over && !r.client.flags.contains(.closeASAP) {
            server.log.warning("Client id=\(r.client.id) addr=\(r.client.addr) flags=S scheduled to be closed ASAP for overcoming of output buffer limits.")
            server.closeASAP(r.client)
        }
    }

    // MARK: - REPLCONF

    /// REPLCONF <option> <value> ...: replica capabilities and ACKs; GETACK on a replica.
    func replconfCommand(_ c: Client) throws {
        guard c.argc % 2 == 1 else { throw CommandError.syntax }
        let now = clock.monotonicMillis()
        var i = 1
        while i < c.argc {
            let opt = String(decoding: c.arg(i), as: UTF8.self).lowercased()
            let val = c.arg(i + 1)
            switch opt {
            case "listening-port":
                guard let p = Int(String(decoding: val, as: UTF8.self)) else { throw CommandError.notInteger }
                replicaInfo(for: c, now: now).listeningPort = p
            case "ip-address":
                let ip = String(decoding: val, as: UTF8.self)
                // A hostname is fine (replica-announce-ip with names): Redis allows up to NET_HOST_STR_LEN.
                guard ip.utf8.count < 256 else { throw CommandError("ERR REPLCONF ip-address provided by replica instance is too long: \(ip.utf8.count) bytes") }
                replicaInfo(for: c, now: now).announcedIP = ip
            case "capa":
                let capa = String(decoding: val, as: UTF8.self).lowercased()
                let r = replicaInfo(for: c, now: now)
                if capa == "eof" { r.capaEOF = true } else if capa == "psync2" { r.capaPSYNC2 = true }
            case "ack":
                // ACKs come from replicas only and never get a reply.
                guard let r = replicas.first(where: { $0.client === c }), r.attached,
                      let off = Int64(String(decoding: val, as: UTF8.self)) else { return }
                if off > r.ackOffset { r.ackOffset = off }
                r.ackTime = now
                // The EOF-framed payload is delimited by its mark only: the stream may flow once
                // the replica confirmed it has read it all. (The ACK may beat the reaping of the
                // child that wrote it: the mark was its last write to this socket.)
                if r.phase == .waitFirstAck || r.phase == .waitBgsaveEnd(diskless: true) { replicaStreamStarts(r) }
                // Redis also accepts FACK <aof offset> after it; nothing to do with it here.
                // WAIT and a waiting SHUTDOWN are checked in before-sleep, not from here.
                acksChanged = true
                return
            case "getack":
                // Our master asks for an ACK: answered from the link, outside the (muted) reply path.
                if c.flags.contains(.master) { link?.ackRequested = true }
                return
            case "rdb-only", "rdb-filter-only":
                break
            default:
                throw CommandError("ERR Unrecognized REPLCONF option: \(opt)")
            }
            i += 2
        }
        c.out.ok()
    }

    /// The pending replica record for a client in handshake (created on first REPLCONF).
    private func replicaInfo(for c: Client, now: Int64) -> ReplicaInfo {
        if let r = pendingHandshakes[c.id] { return r }
        if let r = replicas.first(where: { $0.client === c }) { return r }
        let r = ReplicaInfo(client: c, now: now)
        pendingHandshakes[c.id] = r
        return r
    }

    // MARK: - PSYNC / SYNC

    /// PSYNC <replid> <offset> and SYNC: partial resync from the backlog, else a full resync.
    func syncCommand(_ c: Client, psync: Bool) throws {
        if c.flags.contains(.replica) { return }
        // Our master hands over to us (its FAILOVER): we become a master, then serve its PSYNC.
        if psync && c.argc > 3 && c.option(3) == "FAILOVER" { try acceptFailoverRequest(c) }
        // Replicas may not sync with us while we hand over (Redis's text, code included).
        if failover.isActive { throw CommandError("NOMASTERLINK Can't SYNC while failing over") }
        if masterHost != nil && !server.masterLinkUp {
            throw CommandError("NOMASTERLINK Can't SYNC while not connected with my master")
        }
        guard c.pendingOutput == 0 else {
            throw CommandError("ERR SYNC and PSYNC are invalid with pending output")
        }
        let now = clock.monotonicMillis()
        let r = pendingHandshakes.removeValue(forKey: c.id) ?? ReplicaInfo(client: c, now: now)
        let name = "\(r.ip):\(r.listeningPort)"
        server.log.notice("Replica \(name) asks for synchronization")
        if psync {
            let wantedID = String(decoding: c.arg(1), as: UTF8.self)
            let offset = Int64(String(decoding: c.arg(2), as: UTF8.self))
            if let offset, tryPartialResync(c, r, wantedID: wantedID, offset: offset, now: now) { return }
            if wantedID != "?" { server.stats.syncPartialErr += 1 }
        } else {
            // Old-style SYNC: no PSYNC, so the replica understands neither EOF nor CONTINUE.
            r.capaEOF = false
            r.capaPSYNC2 = false
        }
        fullResync(c, r, psync: psync, now: now)
    }

    private func tryPartialResync(_ c: Client, _ r: ReplicaInfo, wantedID: String, offset: Int64, now: Int64) -> Bool {
        let name = "\(r.ip):\(r.listeningPort)"
        if wantedID != replID && (wantedID != replID2 || offset > secondReplOffset) {
            if wantedID == "?" {
                server.log.notice("Full resync requested by replica \(name)")
            } else if wantedID != replID2 {
                server.log.notice("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '\(wantedID)', my replication IDs are '\(replID)' and '\(replID2)')")
            } else {
                server.log.notice("Partial resynchronization not accepted: Requested offset for second ID was \(offset), but I can reply up to \(secondReplOffset)")
            }
            return false
        }
        guard let backlog, let missing = backlog.bytes(from: offset) else {
            server.log.notice("Unable to partial resync with replica \(name) for lack of backlog (Replica request was: \(offset)).")
            if let b = self.backlog, offset > b.endOffset + 1 {
                server.log.warning("Warning: replica \(name) tried to PSYNC with an offset that is greater than the master replication offset.")
            }
            return false
        }
        attach(c, r, now: now)
        c.out.raw(r.capaPSYNC2 ? "+CONTINUE \(replID)\r\n" : "+CONTINUE\r\n")
        c.out.raw(missing)
        server.markPendingWrite(c)
        server.stats.syncPartialOK += 1
        server.log.notice("Partial resynchronization request from \(name) accepted. Sending \(missing.count) bytes of backlog starting from offset \(offset).")
        return true
    }

    /// Makes `c` a replica in `replicas`, fed by `feedStream` as its phase allows.
    func attach(_ c: Client, _ r: ReplicaInfo, now: Int64) {
        c.flags.insert(.replica)
        r.attached = true
        r.ackTime = now
        if !replicas.contains(where: { $0 === r }) { replicas.append(r) }
        if backlog == nil { createBacklog() }
    }

    // MARK: - Cron, ACKs, WAIT

    /// Once per cron tick: PINGs, replica timeouts, backlog TTL, WAIT timeouts.
    func masterCron(now: Int64) {
        pendingHandshakes = pendingHandshakes.filter { server.clients[$0.key] != nil }
        let period = Int64(max(1, server.config.replPingReplicaPeriod)) * 1000
        // No PING while a FAILOVER waits: the target must end with exactly our offset.
        if !replicas.isEmpty && masterHost == nil && !failover.isActive && now - lastPingSent >= period {
            lastPingSent = now
            // No SELECT: PING is db-independent, so lastSelectedDB stays as it is.
            feedStream(RESPWriter.command(["PING"]))
        }
        // Replicas waiting for a snapshot child to start or to end: the fork happens here.
        startPendingSyncs(now: now)
        sendPresyncKeepalives(now: now)
        let timeout = Int64(max(1, server.config.replTimeout)) * 1000
        for r in replicas where r.online && now - r.ackTime > timeout {
            server.log.warning("Disconnecting timedout replica (streaming sync): \(r.ip):\(r.listeningPort)")
            server.closeASAP(r.client)
        }
        for r in replicas where r.attached && r.phase != .waitBgsaveStart { checkOutputLimit(r, now: now) }
        // CONFIG SET repl-backlog-size takes effect here, keeping the newest history.
        if let cap = backlog?.capacity, cap != max(16, server.config.replBacklogSize) {
            backlog?.resize(server.config.replBacklogSize)
        }
        let ttl = Int64(server.config.replBacklogTTL) * 1000
        if replicas.isEmpty && backlog != nil && masterHost == nil && ttl > 0 && now - noReplicasSince > ttl {
            changeReplicationID()
            clearReplicationID2()
            backlog = nil
            server.log.notice("Replication backlog freed after \(server.config.replBacklogTTL) seconds without connected replicas.")
        }
        checkWaitingClients(now: now)
    }

    /// Before sleep: send GETACK when WAIT needs fresh acknowledgements.
    func masterBeforeSleep() {
        // Not while paused: a GETACK would move the offset the pause holds still.
        guard getAckRequested, !server.clientsArePaused() else { return }
        getAckRequested = false
        if masterHost == nil && !replicas.isEmpty {
            feedStream(RESPWriter.command(["REPLCONF", "GETACK", "*"]))
        }
    }

    /// Replicas whose last ACK is within min-replicas-max-lag.
    func goodReplicaCount(now: Int64) -> Int {
        let maxLag = Int64(server.config.minReplicasMaxLag) * 1000
        return replicas.filter { $0.online && now - $0.ackTime <= maxLag }.count
    }

    /// Replicas that acknowledged at least `offset`.
    func replicasAcked(_ offset: Int64) -> Int {
        replicas.filter { $0.online && $0.ackOffset >= offset }.count
    }

    /// WAIT numreplicas timeout.
    func waitCommand(_ c: Client) throws {
        if masterHost != nil {
            throw CommandError("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
        }
        guard let n = Int(String(decoding: c.arg(1), as: UTF8.self)) else { throw CommandError.notInteger }
        guard let t = Int64(String(decoding: c.arg(2), as: UTF8.self)) else {
            throw CommandError("ERR timeout is not an integer or out of range")
        }
        guard t >= 0 else { throw CommandError("ERR timeout is negative") }
        // As Redis's c->woff: the stream offset right after this client's last propagated write
        // (recorded by `Server.call`), so other clients' later writes do not delay it.
        let target = c.woff
        let acked = replicasAcked(target)
        if acked >= n || !server.canBlock(c) {
            c.out.integer(acked)
            return
        }
        var w = WaitingClient(client: c, target: target, numReplicas: n, timer: nil)
        if t > 0 {
            w.timer = server.loop.schedule(after: t) { [unowned self, unowned c] in self.waitTimedOut(c) }
        }
        waiting.append(w)
        server.block(c, .wait)
        getAckRequested = true
    }

    private func waitTimedOut(_ c: Client) {
        guard let w = waiting.first(where: { $0.client === c }) else { return }
        c.out.integer(replicasAcked(w.target))
        server.unblock(c)
    }

    /// What WAIT answers `c` if it stops waiting now (nil: `c` is not waiting).
    func waiterAcked(_ c: Client) -> Int? {
        guard let w = waiting.first(where: { $0.client === c }) else { return nil }
        return replicasAcked(w.target)
    }

    /// Forgets a WAIT client (called by `Server.unblock`).
    func forgetWaiter(_ c: Client) {
        guard let i = waiting.firstIndex(where: { $0.client === c }) else { return }
        if let t = waiting[i].timer { server.loop.cancel(t) }
        waiting.remove(at: i)
    }

    /// Replies to WAIT clients whose target is reached (timeouts have their timers); commands
    /// pipelined behind WAIT run when before-sleep processes the unblocked clients.
    func checkWaitingClients(now: Int64) {
        checkPendingShutdown(now: now)
        guard !waiting.isEmpty else { return }
        for w in waiting {
            let acked = replicasAcked(w.target)
            if acked >= w.numReplicas {
                w.client.out.integer(acked)
                server.unblock(w.client)
            }
        }
    }
}

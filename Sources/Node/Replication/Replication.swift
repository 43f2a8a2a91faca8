// Replication state shared by both roles: the replication IDs and offset (PSYNC2 history), the
// backlog, the replicas we feed, the link to our master, and the INFO replication section.
import Shared

/// What we know about one replica attached to us (Redis keeps this on the client).
final class ReplicaInfo {
    /// The replica's client connection.
    let client: Client
    /// `REPLCONF listening-port`.
    var listeningPort = 0
    /// `REPLCONF ip-address` (replica-announce-ip), else the peer address.
    var announcedIP: String? = nil
    /// `REPLCONF capa eof` / `capa psync2`.
    var capaEOF = false
    var capaPSYNC2 = false
    /// Last `REPLCONF ACK` offset and when it arrived (monotonic ms).
    var ackOffset: Int64 = 0
    var ackTime: Int64
    /// Set once PSYNC/SYNC turned the client into a replica (it is in `replicas`).
    var attached = false
    /// Where its synchronization is (Redis's replstate); see Replication+FullSync.swift.
    var phase: ReplicaSyncPhase = .online
    /// Whether it asked with PSYNC (it gets +FULLRESYNC when its snapshot starts).
    var wantsFullResyncReply = false
    /// Stream bytes produced since its snapshot was forked, sent once the payload went out.
    var heldStream = Bytes()
    /// The RDB file being sent to it (disk-based sync).
    var fileSender: SnapshotFileSender? = nil

    /// Attached and past its payload: counted by WAIT, min-replicas, ROLE and the timeouts.
    var online: Bool { attached && (phase == .online || phase == .waitFirstAck) }
    /// The payload went out (EOF-framed); the stream waits for the replica's first ACK.
    var waitingFirstAck: Bool { phase == .waitFirstAck }
    /// When the soft output limit was first exceeded (0 = not exceeded).
    var softLimitSince: Int64 = 0

    init(client: Client, now: Int64) {
        self.client = client
        self.ackTime = now
    }

    /// The address INFO and ROLE print.
    var ip: String {
        if let a = announcedIP { return a }
        let addr = client.addr
        if addr.hasPrefix("["), let close = addr.lastIndex(of: "]") {
            return String(addr[addr.index(after: addr.startIndex)..<close])
        }
        if let colon = addr.lastIndex(of: ":") { return String(addr[..<colon]) }
        return addr
    }
}

/// A client blocked in WAIT.
struct WaitingClient {
    let client: Client
    let target: Int64
    let numReplicas: Int
    /// Fires at the WAIT timeout (nil = forever).
    var timer: TimerID?
}

/// The replication subsystem of one server.
final class Replication {
    unowned let server: Server
    /// The time replication's bookkeeping reads (the server's clock; tests drive a manual one).
    var clock: Clock { server.clock }
    /// Our master when we are a replica (nil: we are a master), and its port.
    private(set) var masterHost: String? = nil
    private(set) var masterPort = 0
    /// Whether the link to our master is up (MASTERDOWN, INFO master_link_status).
    var linkUp = false
    /// Our replication ID (the history our dataset belongs to) and the previous one (PSYNC2).
    var replID = RunID.make()
    var replID2 = String(repeating: "0", count: 40)
    /// The offset up to which `replID2` is valid, -1 when none.
    var secondReplOffset: Int64 = -1
    /// Bytes of replication stream produced (master) or applied (replica).
    var masterReplOffset: Int64 = 0
    var backlog: ReplicationBacklog? = nil
    /// Replicas by client id, in attach order for INFO.
    var replicas: [ReplicaInfo] = []
    /// The db the stream last selected; -1 forces a SELECT before the next write.
    var lastSelectedDB = -1
    /// When the last replica went away (for repl-backlog-ttl), monotonic ms.
    var noReplicasSince: Int64 = 0
    var lastPingSent: Int64 = 0
    /// A history restored from a persisted RDB at start-up (else a configured replica asks
    /// for a full resync, as Redis does).
    private var historyKnown = false
    /// The `repl-stream-db` of that persisted history.
    private var restoredStreamDB = 0
    /// Clients blocked in WAIT.
    var waiting: [WaitingClient] = []
    /// Ask replicas for an ACK before the next sleep (WAIT is pending).
    var getAckRequested = false
    /// An ACK arrived: WAIT clients are checked in before-sleep.
    var acksChanged = false
    /// The link to our master when we are a replica.
    var link: ReplicaLink? = nil
    /// Clients that sent REPLCONF but no PSYNC yet, by client id.
    var pendingHandshakes: [Int: ReplicaInfo] = [:]
    /// A SHUTDOWN waiting for lagging replicas (Replication+Shutdown.swift).
    var pendingShutdown: PendingShutdown? = nil
    /// The FAILOVER command's state (Replication+Failover.swift).
    var failover = FailoverCoordinator()
    /// Our offset when FAILOVER paused writes: the target must have acknowledged it.
    var failoverSyncOffset: Int64 = 0
    /// The target's answer to our PSYNC FAILOVER, acted on in before-sleep.
    var failoverPsyncAnswer: Bool? = nil
    /// The history and offset the running snapshot child was forked at (replicas joining a disk
    /// snapshot get them in their +FULLRESYNC).
    var snapshotFork: (id: String, offset: Int64)? = nil
    /// When the replicas waiting for a snapshot last got a keep-alive newline (monotonic ms).
    var presyncKeepaliveAt: Int64 = 0

    /// Looks the master's hostname up off the loop (created on the first `replicaof <name>`).
    private(set) lazy var resolver: Resolver? = try? Resolver(loop: server.loop)

    init(server: Server) {
        self.server = server
        noReplicasSince = server.clock.monotonicMillis()
        // PINGs go out every repl-ping-replica-period counted from start, as Redis's cron loop
        // counts them, not the moment a replica attaches (its first stream bytes are the writes).
        lastPingSent = noReplicasSince
    }

    /// Start-up: follow the configured `replicaof`.
    func configure() {
        if let m = server.config.replicaof { setMaster(host: m.host, port: m.port, atStartup: true) }
    }

    // MARK: - IDs

    /// Starts a new history (a master that lost its backlog, or a promotion).
    func changeReplicationID() {
        replID = RunID.make()
    }

    /// Forgets the previous history.
    func clearReplicationID2() {
        replID2 = String(repeating: "0", count: 40)
        secondReplOffset = -1
    }

    /// Moves the current ID to ID2 (valid up to our offset) and starts a new one: PSYNC2 lets
    /// replicas of the old history continue with us.
    func shiftReplicationID() {
        replID2 = replID
        secondReplOffset = masterReplOffset + 1
        changeReplicationID()
        server.log.notice("Setting secondary replication ID to \(replID2), valid up to offset: \(secondReplOffset). New replication ID is \(replID)")
    }

    /// Creates the backlog at the current offset.
    func createBacklog() {
        backlog = ReplicationBacklog(capacity: server.config.replBacklogSize, streamOffset: masterReplOffset)
    }

    // MARK: - Role changes

    /// Becomes (or re-targets as) a replica of host:port (REPLICAOF host port, replicaof config).
    /// `atStartup`: the config's replicaof, where only a persisted history can be continued.
    func setMaster(host: String, port: Int, atStartup: Bool = false) {
        let wasMaster = masterHost == nil
        let hadHistory = link?.hasHistory ?? false
        link?.shutdown()
        masterHost = host
        masterPort = port
        server.config.replicaof = (host, port)
        server.log.role = "S"
        // As Redis 7.0, our replicas stay: they are disconnected only if the history changes
        // (a new replid on CONTINUE, or a full resync), so they may continue partially.
        // Clients blocked on a master (BLPOP, WAIT) cannot be served by a replica.
        server.disconnectBlockedClients()
        // A former master continues its own history: the new master may know it (PSYNC2).
        let continues = atStartup ? historyKnown : (wasMaster || hadHistory)
        link = ReplicaLink(replication: self, host: host, port: port, hasHistory: continues)
        if atStartup && historyKnown { link?.cachedDB = restoredStreamDB }
        linkUp = false
        if wasMaster { server.fencingRoleChanged(isMaster: false) }
    }

    /// Becomes a master, keeping the data (REPLICAOF NO ONE).
    func unsetMaster() {
        guard masterHost != nil else { return }
        link?.shutdown()
        link = nil
        masterHost = nil
        masterPort = 0
        linkUp = false
        server.config.replicaof = nil
        server.log.role = "M"
        // Former siblings still hold the old ID: ID2 lets them continue with us.
        shiftReplicationID()
        disconnectReplicas()
        lastSelectedDB = -1
        if backlog == nil { createBacklog() }
        server.fencingRoleChanged(isMaster: true)
    }

    /// Called by persistence after loading an RDB that carries repl-id/repl-offset, so a
    /// restarted replica can PSYNC instead of a full resync.
    func restoreHistory(id: String, offset: Int64, streamDB: Int = 0) {
        guard RunID.isValid(id), offset >= 0 else { return }
        replID = id
        masterReplOffset = offset
        historyKnown = true
        restoredStreamDB = streamDB
        link?.hasHistory = true
        link?.cachedDB = streamDB
    }

    /// The db the replication stream has selected (RDB `repl-stream-db`): a continued stream
    /// carries no new SELECT, so a restarted replica must apply it to this db.
    var streamDB: Int {
        if masterHost != nil { return link?.streamDB ?? 0 }
        return max(0, lastSelectedDB)
    }

    /// Closes every replica connection (they reconnect and PSYNC).
    func disconnectReplicas() {
        for r in replicas {
            r.attached = false
            server.closeASAP(r.client)
        }
    }

    // MARK: - INFO and ROLE

    /// The `# Replication` section lines, as Redis 7.0 prints them.
    func infoLines(now: Int64) -> [String] {
        var lines: [String] = []
        let wallNow = clock.wallSeconds()
        if let master = masterHost {
            let l = link
            lines.append("role:slave")
            lines.append("master_host:\(master)")
            lines.append("master_port:\(masterPort)")
            lines.append("master_link_status:\(linkUp ? "up" : "down")")
            let lastIO = l.map { link -> Int in
                guard let mc = link.masterClient else { return -1 }
                return Int((now - max(link.lastIO, mc.lastInteraction)) / 1000)
            } ?? -1
            lines.append("master_last_io_seconds_ago:\(lastIO)")
            lines.append("master_sync_in_progress:\(l?.state == .transfer ? 1 : 0)")
            let read = masterReplOffset + Int64((l?.masterClient).map { $0.pendingInput + $0.streamPending.count } ?? 0)
            lines.append("slave_read_repl_offset:\(read)")
            lines.append("slave_repl_offset:\(masterReplOffset)")
            if let l, l.state == .transfer {
                let total = l.transferExpected ?? -1
                let got = l.transferReceived
                lines.append("master_sync_total_bytes:\(total)")
                lines.append("master_sync_read_bytes:\(got)")
                lines.append("master_sync_left_bytes:\(total >= 0 ? total - got : -1)")
                let perc = total > 0 ? Double(got) * 100 / Double(total) : 0
                lines.append("master_sync_perc:\(NumberFormat.printf("%.2f", perc))")
                lines.append("master_sync_last_io_seconds_ago:\(Int((now - l.lastIO) / 1000))")
            }
            if !linkUp {
                let since = l?.downSinceWall ?? 0
                lines.append("master_link_down_since_seconds:\(since > 0 ? String(wallNow - since) : "-1")")
            }
            lines.append("slave_priority:\(server.config.replicaPriority)")
            lines.append("slave_read_only:\(server.config.replicaReadOnly ? 1 : 0)")
            lines.append("replica_announced:\(server.config.replicaAnnounced ? 1 : 0)")
        } else {
            lines.append("role:master")
        }
        lines.append("connected_slaves:\(replicas.count)")
        if server.config.minReplicasToWrite > 0 && server.config.minReplicasMaxLag > 0 {
            lines.append("min_slaves_good_slaves:\(goodReplicaCount(now: now))")
        }
        for (i, r) in replicas.enumerated() {
            let state = r.phase.infoName
            lines.append("slave\(i):ip=\(r.ip),port=\(r.listeningPort),state=\(state),offset=\(r.ackOffset),lag=\((now - r.ackTime) / 1000)")
        }
        lines.append("master_failover_state:\(failover.state.infoName)")
        lines.append("master_replid:\(replID)")
        lines.append("master_replid2:\(replID2)")
        lines.append("master_repl_offset:\(masterReplOffset)")
        lines.append("second_repl_offset:\(secondReplOffset)")
        lines.append("repl_backlog_active:\(backlog == nil ? 0 : 1)")
        lines.append("repl_backlog_size:\(server.config.replBacklogSize)")
        lines.append("repl_backlog_first_byte_offset:\(backlog?.firstByteOffset ?? 0)")
        lines.append("repl_backlog_histlen:\(backlog?.histlen ?? 0)")
        return lines
    }

    /// Writes the ROLE reply.
    func writeRole(_ c: Client) {
        if let host = masterHost {
            c.out.arrayHeader(5)
            c.out.bulk("slave")
            c.out.bulk(host)
            c.out.integer(masterPort)
            c.out.bulk(link?.state.roleName ?? "connect")
            c.out.integer(link?.masterClient != nil ? Int(masterReplOffset) : -1)
        } else {
            let online = replicas.filter { $0.online }
            c.out.arrayHeader(3)
            c.out.bulk("master")
            c.out.integer(Int(masterReplOffset))
            c.out.arrayHeader(online.count)
            for r in online {
                c.out.arrayHeader(3)
                c.out.bulk(r.ip)
                c.out.bulk(String(r.listeningPort))
                c.out.bulk(String(r.ackOffset))
            }
        }
    }

    // MARK: - The server's calls

    /// Cron: the link's reconnects and ACKs, then the master side's PINGs, timeouts, WAIT.
    func cron(now: Int64) {
        // A failover first, as Redis's replicationCron: it may make us a replica.
        updateFailoverStatus(now: now)
        link?.cron(now: now)
        masterCron(now: now)
    }

    /// Before-sleep, after unblocked clients ran: the link's ACK to our master, GETACK to ours.
    func beforeSleep() {
        finishFailoverIfAnswered()
        link?.beforeSleep()
        masterBeforeSleep()
    }

    /// Before-sleep, first: WAIT clients whose replicas acknowledged since the last sleep.
    func beforeSleepWaiters(now: Int64) {
        guard acksChanged else { return }
        acksChanged = false
        // An ACK may be the one a FAILOVER waits for: hand over now, not at the next cron.
        updateFailoverStatus(now: now)
        checkWaitingClients(now: now)
    }

    /// A client went away: its replica, handshake or master-link state goes with it.
    func clientFreed(_ c: Client) {
        if c.flags.contains(.master) { link?.masterClientFreed(c) }
        if let i = replicas.firstIndex(where: { $0.client === c }) {
            let r = replicas.remove(at: i)
            r.fileSender?.close()
            r.fileSender = nil
            server.log.notice("Connection with replica \(r.ip):\(r.listeningPort) lost.")
            if replicas.isEmpty { noReplicasSince = clock.monotonicMillis() }
            // A diskless child writes for its replicas only: without them it is wasted work
            // (and it keeps their sockets open).
            if r.phase == .waitBgsaveEnd(diskless: true), server.persistence.child != nil,
               server.persistence.childTarget == .socket,
               !replicas.contains(where: { $0.phase == .waitBgsaveEnd(diskless: true) }) {
                server.log.warning("Diskless rdb transfer, last replica dropped, killing fork child.")
                server.killBackgroundSave()
            }
        }
        pendingHandshakes.removeValue(forKey: c.id)
    }

    /// The master client's command ran (or was empty): its stream bytes count as applied, and our
    /// own replicas get them as they are (chained replication).
    func masterStreamApplied(_ c: Client) {
        guard !c.streamPending.isEmpty else { return }
        var bytes: Bytes = []
        swap(&bytes, &c.streamPending)
        link?.streamApplied(c, bytes)
    }
}

extension Server {
    /// `# Replication` lines for INFO.
    func replicationInfo() -> [String] { replication.infoLines(now: clock.monotonicMillis()) }
}

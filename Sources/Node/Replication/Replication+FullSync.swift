// Full resynchronization, as Redis does it (replication.c's syncCommand, startBgsaveForReplication,
// updateSlavesWaitingBgsave, sendBulkToSlave): the snapshot is written by a forked child, so the
// master keeps serving while it is made. The replica gets +FULLRESYNC with the offset at the fork;
// every write after the fork is held for it and follows the payload. Disk-based: the child writes
// the RDB file (a BGSAVE), then the parent sends the file in chunks, one per loop iteration.
// Diskless (repl-diskless-sync yes and the replica understands EOF framing): the child writes
// `$EOF:<mark>`, the RDB and the mark straight to the replica sockets; the held stream flows once
// the replica's first ACK says it read the whole payload.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// Where a replica is in its synchronization (Redis's SLAVE_STATE_*).
enum ReplicaSyncPhase: Equatable {
    /// Waiting for a snapshot child to be forked for it (another child runs): not fed yet.
    case waitBgsaveStart
    /// A child is writing its snapshot (to the RDB file, or diskless to its socket).
    case waitBgsaveEnd(diskless: Bool)
    /// The parent is sending it the RDB file.
    case sendingFile
    /// The diskless payload went out; its stream waits for its first ACK.
    case waitFirstAck
    /// Fed with the stream as it is produced.
    case online

    /// The `state=` INFO prints (replstateToString).
    var infoName: String {
        switch self {
        case .waitBgsaveStart, .waitBgsaveEnd, .waitFirstAck: return "wait_bgsave"
        case .sendingFile: return "send_bulk"
        case .online: return "online"
        }
    }
}

/// An RDB file being sent to one replica: read a chunk when the previous one left.
final class SnapshotFileSender {
    /// Bytes per chunk: large enough that the syscalls are cheap, small enough that one chunk
    /// is a short pause for the other clients (Redis sends 16 KB per writable event).
    static let chunk = 256 * 1024
    private var fd: Int32
    /// Bytes not yet queued.
    private(set) var remaining: Int

    /// Opens `path` for sending; nil (errno logged by the caller) if it cannot be opened.
    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else { Glibc.close(fd); return nil }
        self.fd = fd
        remaining = Int(st.st_size)
    }

    /// The next chunk, or nil on a read error (a short file counts as one).
    func next() -> Bytes? {
        let want = min(Self.chunk, remaining)
        guard want > 0 else { return [] }
        var out = Bytes(repeating: 0, count: want)
        var got = 0
        while got < want {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, want - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            got += n
        }
        remaining -= want
        return out
    }

    /// Closes the file (idempotent).
    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}

extension Replication {
    // MARK: - Starting

    /// A full resync for `c`: it waits for a snapshot child (forked now if none runs), or joins a
    /// disk snapshot already being written for other replicas.
    func fullResync(_ c: Client, _ r: ReplicaInfo, psync: Bool, now: Int64) {
        server.stats.syncFull += 1
        if backlog == nil && replicas.isEmpty {
            // A new history starts here: nobody can hold a partial copy of a stream we never kept.
            changeReplicationID()
            clearReplicationID2()
            createBacklog()
            server.log.notice("Replication backlog created, my new replication IDs are '\(replID)' and '\(replID2)'")
        }
        r.wantsFullResyncReply = psync
        r.phase = .waitBgsaveStart
        attach(c, r, now: now)
        let diskless = r.capaEOF && server.config.replDisklessSync
        if !diskless, server.persistence.child != nil, server.persistence.childTarget == .disk,
           let fork = snapshotFork,
           let peer = replicas.first(where: { $0 !== r && $0.attached && $0.phase == .waitBgsaveEnd(diskless: false) }) {
            // The running BGSAVE serves this replica too: it gets the same offset and the stream
            // held since that fork (Redis copies the peer's output buffer the same way).
            r.heldStream = peer.heldStream
            r.phase = .waitBgsaveEnd(diskless: false)
            sendFullResyncLine(r, id: fork.id, offset: fork.offset)
            server.log.notice("Waiting for end of BGSAVE for SYNC")
            return
        }
        startPendingSyncs(now: now)
        if r.phase == .waitBgsaveStart {
            server.log.notice("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
        }
    }

    /// Forks a snapshot child for every replica waiting for one, when no child runs
    /// (replicationStartPendingFork). Diskless only if all of them understand EOF framing.
    func startPendingSyncs(now: Int64) {
        guard server.persistence.child == nil, server.aof.child == nil else { return }
        let waiting = replicas.filter { $0.attached && $0.phase == .waitBgsaveStart && !$0.client.flags.contains(.closeASAP) }
        guard !waiting.isEmpty else { return }
        let diskless = server.config.replDisklessSync && waiting.allSatisfy { $0.capaEOF }
        server.log.notice("Starting BGSAVE for SYNC with target: \(diskless ? "replicas sockets" : "disk")")
        // The replica's master client starts in db 0 after loading: the next write must SELECT.
        lastSelectedDB = -1
        let fork = (id: replID, offset: masterReplOffset)
        // +FULLRESYNC goes out before the fork: a diskless child writes the payload right after it.
        var targets: [ReplicaInfo] = []
        for r in waiting {
            if sendFullResyncLine(r, id: fork.id, offset: fork.offset) { targets.append(r) } else { server.closeASAP(r.client) }
        }
        guard !targets.isEmpty else { return }
        let started = diskless
            ? server.startSocketSnapshot(fds: targets.compactMap { $0.client.conn?.fd })
            : server.startBackgroundSave()
        guard started else {
            for r in targets {
                server.log.warning("BGSAVE for replication failed")
                server.closeASAP(r.client)
            }
            return
        }
        snapshotFork = fork
        for r in targets {
            r.phase = .waitBgsaveEnd(diskless: diskless)
            r.heldStream = []
            r.ackTime = now
        }
    }

    /// Writes `+FULLRESYNC <id> <offset>` (PSYNC) to the socket now. False if the socket did not
    /// take it whole (a diskless child must find the socket with nothing of ours pending).
    @discardableResult
    private func sendFullResyncLine(_ r: ReplicaInfo, id: String, offset: Int64) -> Bool {
        guard let conn = r.client.conn, !conn.isClosed else { return false }
        if r.wantsFullResyncReply {
            r.client.out.raw("+FULLRESYNC \(id) \(offset)\r\n")
            conn.enqueue(&r.client.out.bytes)
            conn.flush()
        }
        return !conn.isClosed && conn.pendingOutput == 0
    }

    /// Once a second, a newline to replicas waiting for their payload, so they do not time out
    /// during a long snapshot (replicationCron; replicas skip it). Not while a diskless child
    /// owns their socket.
    func sendPresyncKeepalives(now: Int64) {
        guard now - presyncKeepaliveAt >= 1000 else { return }
        presyncKeepaliveAt = now
        for r in replicas where r.attached && (r.phase == .waitBgsaveStart || r.phase == .waitBgsaveEnd(diskless: false)) {
            guard let conn = r.client.conn, !conn.isClosed else { continue }
            conn.send([0x0A])
            conn.flush()
        }
    }

    // MARK: - The child ended

    /// The snapshot child ended or was killed (updateSlavesWaitingBgsave): disk-based replicas get
    /// the file, diskless ones wait for their first ACK; on failure they are dropped (they
    /// reconnect).
    func snapshotChildDone(diskless: Bool, ok: Bool, now: Int64) {
        snapshotFork = nil
        for r in replicas where r.attached && r.phase == .waitBgsaveEnd(diskless: diskless) {
            let name = "\(r.ip):\(r.listeningPort)"
            guard ok else {
                server.log.warning("SYNC failed. BGSAVE child returned an error")
                server.closeASAP(r.client)
                continue
            }
            r.ackTime = now
            if diskless {
                r.phase = .waitFirstAck
                server.log.notice("Streamed RDB transfer with replica \(name) succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming")
            } else {
                startSendingFile(r)
            }
        }
        // Replicas still waiting for a fork get one from the cron (not from here: a child killed
        // at shutdown must not be replaced).
    }

    private func startSendingFile(_ r: ReplicaInfo) {
        guard let sender = SnapshotFileSender(path: server.rdbPath), let conn = r.client.conn else {
            server.log.warning("SYNC failed. Can't open/stat DB after BGSAVE: \(String(cString: strerror(errno)))")
            server.closeASAP(r.client)
            return
        }
        r.fileSender = sender
        r.phase = .sendingFile
        let c = r.client
        c.out.raw("$\(sender.remaining)\r\n")
        conn.onDrained = { [unowned self, unowned r] conn in self.sendNextChunk(r, conn) }
        server.markPendingWrite(c)
    }

    /// Called each time the replica's output drained: the next chunk, or, after the last one,
    /// the held stream (and the replica is online).
    private func sendNextChunk(_ r: ReplicaInfo, _ conn: Connection) {
        guard let sender = r.fileSender else { return }
        if sender.remaining == 0 {
            sender.close()
            r.fileSender = nil
            conn.onDrained = nil
            r.ackTime = clock.monotonicMillis()
            server.log.notice("Synchronization with replica \(r.ip):\(r.listeningPort) succeeded")
            replicaStreamStarts(r)
            return
        }
        guard let chunk = sender.next() else {
            server.log.warning("Read error sending DB to replica: \(String(cString: strerror(errno)))")
            server.closeASAP(r.client)
            return
        }
        server.stats.netReplOutputBytes += chunk.count
        var bytes = chunk
        conn.enqueue(&bytes)
        conn.wantWritable()
    }

    /// The payload is through: the held stream goes out and the replica is fed directly.
    func replicaStreamStarts(_ r: ReplicaInfo) {
        let wasDiskless = r.phase != .sendingFile
        r.phase = .online
        if !r.heldStream.isEmpty {
            r.client.out.raw(r.heldStream)
            r.heldStream = []
            server.markPendingWrite(r.client)
            // Called from a drain callback: ask for a writable event rather than waiting for the
            // next before-sleep, which may be a sleep away.
            r.client.conn?.wantWritable()
        }
        if wasDiskless {
            server.log.notice("Synchronization with replica \(r.ip):\(r.listeningPort) succeeded")
        }
    }
}

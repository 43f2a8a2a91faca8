// The replica's link to its master: drives the ReplicaHandshake machine over a real connection,
// receives the RDB payload, then hands the socket to a `.master` client whose commands the
// dispatcher applies; counts the applied stream, ACKs every second, reconnects after failures.
import Shared

/// The connection to our master and everything about receiving its stream.
final class ReplicaLink {
    unowned let replication: Replication
    var server: Server { replication.server }
    let host: String
    let port: Int
    private(set) var machine: ReplicaHandshake
    private var conn: Connection? = nil
    /// The client applying the master's stream once connected.
    private(set) var masterClient: Client? = nil
    /// Last time anything arrived from the master (monotonic ms).
    private(set) var lastIO: Int64 = 0
    /// Unix seconds when the link went down (0 = never up).
    private(set) var downSinceWall: Int64 = 0
    /// Set by REPLCONF GETACK: send an ACK before sleeping.
    var ackRequested = false
    private var lastAckSent: Int64 = 0
    /// Whether our dataset continues a history we may PSYNC for (else `PSYNC ? -1`).
    var hasHistory: Bool
    /// The db the master's stream had selected when the link dropped (a partial resync continues it).
    var cachedDB = 0
    /// The db the master's stream currently applies to.
    var streamDB: Int { masterClient?.db.id ?? cachedDB }
    // Payload transfer state.
    private var fullResyncTarget: (replID: String, offset: Int64)? = nil
    private var preambleRead = false
    private var eofMark: Bytes? = nil
    private(set) var transferExpected: Int? = nil
    private var payload = Bytes()
    /// Bumped by every connect attempt and teardown: a lookup answering for an older attempt
    /// (the link was shut down or retried meanwhile) is ignored.
    private var attempt = 0
    var transferReceived: Int { payload.count }

    var state: ReplicaLinkState { machine.state }

    init(replication: Replication, host: String, port: Int, hasHistory: Bool) {
        self.replication = replication
        self.host = host
        self.port = port
        self.hasHistory = hasHistory
        let cfg = replication.server.config
        machine = ReplicaHandshake(listeningPort: cfg.replicaAnnouncePort > 0 ? cfg.replicaAnnouncePort : cfg.port)
        refreshSettings()
    }

    /// Re-reads masterauth/masteruser/announce settings (they may change with CONFIG SET).
    private func refreshSettings() {
        let cfg = server.config
        if let pass = cfg.masterauth {
            machine.auth = (cfg.masteruser.map { String(decoding: $0, as: UTF8.self) }, String(decoding: pass, as: UTF8.self))
        } else {
            machine.auth = nil
        }
        machine.announceIP = cfg.replicaAnnounceIP
        machine.timeoutMillis = Int64(max(1, cfg.replTimeout)) * 1000
    }

    // MARK: - Driving the machine

    /// Cron: connect when due, time out stalled links, ACK once a second.
    func cron(now: Int64) {
        let io = max(lastIO, masterClient?.lastInteraction ?? 0)
        if machine.state == .connect { refreshSettings() }
        perform(machine.handle(.tick(now: now, lastIO: io)), now: now)
        if machine.state == .connected, masterClient != nil, now - lastAckSent >= 1000 { sendAck(now: now) }
    }

    /// Before sleep: answer a GETACK from the master.
    func beforeSleep() {
        if ackRequested {
            ackRequested = false
            if masterClient != nil { sendAck(now: replication.clock.monotonicMillis()) }
        }
    }

    private func perform(_ action: HandshakeAction, now: Int64) {
        switch action {
        case .none: break
        case .note(let text): server.log.notice(text)
        case .connect: startConnect(now: now)
        case .send(let commands):
            guard let conn else { return }
            for cmd in commands { conn.send(RESPWriter.command(cmd)) }
            conn.flush()
        case .fullResync(let id, let offset):
            server.log.notice("Full resync from master: \(id):\(offset)")
            fullResyncTarget = (id, offset)
            preambleRead = false
            eofMark = nil
            transferExpected = nil
            payload = []
        case .partialResync(let newID):
            continueHistory(newID: newID, now: now)
        case .drop(let reason):
            server.log.warning(reason)
            closeLink(now: now)
        }
    }

    private func startConnect(now: Int64) {
        server.log.notice("Connecting to MASTER \(host):\(port)")
        if hasHistory {
            machine.psyncID = replication.replID
            machine.psyncOffset = replication.masterReplOffset + 1
        } else {
            machine.psyncID = "?"
            machine.psyncOffset = -1
        }
        machine.psyncFailover = replication.failover.state == .inProgress
        attempt += 1
        // A hostname is looked up on every attempt, off the loop (a master that moved is followed);
        // the machine stays in `.connecting` meanwhile, so its connect timeout covers the lookup.
        guard !Resolver.isIPLiteral(host), let resolver = replication.resolver else { return connect(to: host, now: now) }
        let mine = attempt
        resolver.resolve(host) { [weak self] ip in
            guard let self, self.attempt == mine, self.machine.state == .connecting, self.conn == nil else { return }
            let t = self.replication.clock.monotonicMillis()
            guard let ip else {
                self.server.log.warning("Unable to connect to MASTER: can't resolve \(self.host)")
                return self.perform(self.machine.handle(.linkLost(now: t)), now: t)
            }
            self.connect(to: ip, now: t)
        }
    }

    /// Opens the connection to the master at `ip` (its host, resolved).
    private func connect(to ip: String, now: Int64) {
        do {
            let c = try Connection.connect(host: ip, port: port, loop: server.loop, source: server.config.bindSourceAddr)
            conn = c
            c.onConnect = { [unowned self] conn, err in
                let t = replication.clock.monotonicMillis()
                if let err {
                    self.server.log.warning("Error condition on socket for SYNC: \(Posix.strerror(err.errnoCode))")
                    return  // onClose follows and reports the loss
                }
                self.server.log.notice("MASTER <-> REPLICA sync started")
                self.server.log.notice("Non blocking connect for SYNC fired the event.")
                self.lastIO = t
                self.perform(self.machine.handle(.connected(now: t)), now: t)
            }
            c.onInput = { [unowned self] _ in self.handshakeInput() }
            c.onClose = { [unowned self] conn, _ in
                guard self.conn === conn else { return }
                self.conn = nil
                let t = replication.clock.monotonicMillis()
                if self.machine.state != .connect { self.server.log.warning("Connection with master lost during the handshake or transfer.") }
                self.perform(self.machine.handle(.linkLost(now: t)), now: t)
            }
        } catch {
            server.log.warning("Unable to connect to MASTER: \(error)")
            perform(machine.handle(.linkLost(now: now)), now: now)
        }
    }

    /// Input before the link is a `.master` client: reply lines, then the payload.
    private func handshakeInput() {
        guard let conn else { return }
        let now = replication.clock.monotonicMillis()
        lastIO = now
        while self.conn === conn && !conn.isClosed {
            if machine.state == .transfer {
                readPayload(conn, now: now)
                return
            }
            guard machine.state != .connected && machine.state != .connect else { return }
            // One reply line.
            let nl: Int? = conn.withInput { buf in buf.firstIndex(of: 0x0A) }
            guard let newline = nl else {
                if conn.pendingInput > 64 * 1024 { failTransfer("Master sent an overlong reply line", now: now) }
                return
            }
            var line = conn.withInput { Bytes($0[0..<newline]) }
            if line.last == 0x0D { line.removeLast() }
            conn.consume(newline + 1)
            let text = String(decoding: line, as: UTF8.self)
            if machine.state == .receivePong && !text.hasPrefix("-") {
                server.log.notice("Master replied to PING, replication can continue...")
            }
            if machine.state == .receivePsync && !text.isEmpty && machine.psyncID != "?" {
                server.log.notice("Trying a partial resynchronization (request \(machine.psyncID):\(machine.psyncOffset)).")
            }
            let answersPsync = machine.state == .receivePsync && !text.isEmpty
            let action = machine.handle(.reply(text, now: now))
            if answersPsync && machine.psyncFailover {
                // The target accepted the handover (CONTINUE, or a full resync) or refused it.
                switch action {
                case .fullResync, .partialResync: replication.failoverHandshakeAnswered(accepted: true)
                default: replication.failoverHandshakeAnswered(accepted: false)
                }
            }
            perform(action, now: now)
        }
    }

    /// Accumulates the RDB payload (`$<len>` or `$EOF:<mark>` framing), then loads it.
    private func readPayload(_ conn: Connection, now: Int64) {
        if !preambleRead {
            // Keep-alive newlines may precede the bulk header.
            while conn.pendingInput > 0, conn.withInput({ $0[0] }) == 0x0A { conn.consume(1) }
            let nl: Int? = conn.withInput { buf in buf.firstIndex(of: 0x0A) }
            guard let newline = nl else { return }
            var line = conn.withInput { Bytes($0[0..<newline]) }
            if line.last == 0x0D { line.removeLast() }
            conn.consume(newline + 1)
            let text = String(decoding: line, as: UTF8.self)
            if line.first == UInt8(ascii: "-") {
                return failTransfer("MASTER aborted replication with an error: \(text)", now: now)
            }
            guard line.first == UInt8(ascii: "$") else {
                return failTransfer("Bad protocol from MASTER, the first byte is not '$' (we received '\(text)'), are you sure the host and port are right?", now: now)
            }
            if text.hasPrefix("$EOF:") {
                let mark = Bytes(line.dropFirst(5))
                guard mark.count == 40 else { return failTransfer("Bad EOF mark from MASTER", now: now) }
                eofMark = mark
                server.log.notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk")
            } else {
                guard let n = Int(text.dropFirst()), n >= 0 else { return failTransfer("Bad bulk length from MASTER: \(text)", now: now) }
                transferExpected = n
                server.log.notice("MASTER <-> REPLICA sync: receiving \(n) bytes from master to disk")
            }
            preambleRead = true
        }
        if let expected = transferExpected {
            let take = min(expected - payload.count, conn.pendingInput)
            payload += conn.withInput { Bytes($0[0..<take]) }
            conn.consume(take)
            guard payload.count == expected else { return }
        } else if let mark = eofMark {
            payload += conn.withInput { Bytes($0) }
            conn.consume(conn.pendingInput)
            guard payload.count >= mark.count, payload.suffix(mark.count).elementsEqual(mark) else { return }
            payload.removeLast(mark.count)
        }
        loadPayload(conn, now: now)
    }

    private func failTransfer(_ reason: String, now: Int64) {
        payload = []
        perform(.drop(reason: reason), now: now)
        _ = machine.handle(.linkLost(now: now))
    }

    private func loadPayload(_ conn: Connection, now: Int64) {
        guard let target = fullResyncTarget else { return failTransfer("Payload without FULLRESYNC", now: now) }
        let data = payload
        payload = []
        // The old history is over: our replicas must resync from the new one.
        replication.disconnectReplicas()
        server.log.notice("MASTER <-> REPLICA sync: Flushing old data")
        server.log.notice("MASTER <-> REPLICA sync: Loading DB in memory")
        do {
            _ = try server.loadRDBPayload(data)
        } catch {
            return failTransfer("Failed trying to load the MASTER synchronization DB from socket: \(error)", now: now)
        }
        replication.replID = target.replID
        replication.masterReplOffset = target.offset
        replication.clearReplicationID2()
        replication.createBacklog()
        fullResyncTarget = nil
        hasHistory = true
        cachedDB = 0
        server.log.notice("MASTER <-> REPLICA sync: Finished with success")
        perform(machine.handle(.payloadLoaded(now: now)), now: now)
        attachMasterClient(conn, now: now)
        // Diskless masters wait for this first ACK before streaming.
        sendAck(now: now)
    }

    private func continueHistory(newID: String?, now: Int64) {
        guard let conn else { return }
        server.log.notice("Successful partial resynchronization with master.")
        if let id = newID, id != replication.replID {
            replication.replID2 = replication.replID
            replication.secondReplOffset = replication.masterReplOffset + 1
            replication.replID = id
            server.log.notice("Master replication ID changed to \(id)")
            replication.disconnectReplicas()
        }
        if replication.backlog == nil { replication.createBacklog() }
        server.log.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
        attachMasterClient(conn, now: now)
    }

    /// Turns the socket into the `.master` client the dispatcher applies.
    private func attachMasterClient(_ conn: Connection, now: Int64) {
        let c = server.makeClient(for: conn, flags: .master)
        c.parser.isMasterLink = true
        if cachedDB < server.databases.count { c.db = server.databases[cachedDB] }
        masterClient = c
        self.conn = nil
        replication.linkUp = true
        downSinceWall = 0
        lastIO = now
        let srv = server
        conn.onInput = { [unowned srv] _ in srv.readFromClient(c) }
        conn.onClose = { [unowned srv] _, _ in srv.freeClient(c) }
        // Stream bytes that came with the handshake's last read run from before-sleep.
        if conn.pendingInput > 0 { server.processSoon(c) }
    }

    /// REPLCONF ACK goes straight to the socket: the master client's replies are dropped.
    private func sendAck(now: Int64) {
        guard let c = masterClient, let conn = c.conn, !conn.isClosed else { return }
        lastAckSent = now
        conn.send(RESPWriter.command(["REPLCONF", "ACK", String(replication.masterReplOffset)]))
        conn.flush()
    }

    // MARK: - Stream and teardown

    /// `bytes` of the master's stream were applied: they advance our offset, and our own
    /// replicas get them as they are (chained replication).
    func streamApplied(_ c: Client, _ bytes: Bytes) {
        guard c === masterClient, !bytes.isEmpty else { return }
        replication.feedStream(bytes)
    }

    /// The master client went away (EOF, CLIENT KILL, protocol error).
    func masterClientFreed(_ c: Client) {
        guard c === masterClient else { return }
        masterClient = nil
        cachedDB = c.db.id
        replication.linkUp = false
        downSinceWall = replication.clock.wallSeconds()
        server.log.notice("Connection with master lost.")
        server.log.notice("* Caching the disconnected master state.")
        let now = replication.clock.monotonicMillis()
        perform(machine.handle(.linkLost(now: now)), now: now)
    }

    /// Closes whatever connection is open and returns to `.connect`.
    private func closeLink(now: Int64) {
        attempt += 1
        if let conn {
            self.conn = nil
            conn.onClose = nil
            conn.close()
        }
        if let c = masterClient { server.freeClient(c) }
        if downSinceWall == 0 { downSinceWall = replication.clock.wallSeconds() }
        replication.linkUp = false
    }

    /// Tears the link down for good (REPLICAOF NO ONE or another master).
    func shutdown() {
        attempt += 1
        if let conn {
            self.conn = nil
            conn.onClose = nil
            conn.close()
        }
        if let c = masterClient {
            masterClient = nil
            c.flags.remove(.master)
            server.freeClient(c)
        }
        replication.linkUp = false
    }
}

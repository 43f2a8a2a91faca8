// The node's state and life cycle (Redis's server.c, in small): the listeners, clients and
// their input, databases, the cron and before-sleep. Subsystems are called directly, in Redis's
// order, through the narrow entry points they expose (`replication`, `aof`, persistence,
// `blocking`); nothing is wired through closures. Executing commands is Server+Dispatch's job,
// propagating their effects Server+Propagation's, blocking and pausing Blocking/ClientPause's.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// The data node.
final class Server {
    let loop: EventLoop
    let log: Logger
    let config: ServerConfig
    /// Time for replication and the other time-driven logic (tests pass a manual one).
    let clock: Clock
    let runID = RunID.make()
    let startedAt = Clock.monotonicMillis()
    let startedWall = Clock.wallSeconds()
    var databases: [Database]
    /// How keys' access metadata is stamped (LRU clock or LFU counter), shared by every database.
    let keyAging: KeyAging
    /// Every command, looked up by the bytes clients send.
    var commandTable: CommandRegistry<CommandSpec> = CommandTable.build()
    var clients: [Int: Client] = [:]
    private var nextClientID = 1
    private var listeners: ListenerGroup
    /// Clients with replies waiting for the next before-sleep flush.
    var pendingWrites: [Client] = []
    /// Clients to free at the next before-sleep (closeASAP).
    var clientsToClose: [Client] = []
    /// Clients unblocked since the last before-sleep, whose pending input (or postponed
    /// command) runs there: never from inside the command that unblocked them.
    var unblockedClients: [Client] = []
    /// Changes since the last save (Redis's server.dirty).
    var dirty = 0
    var stats = ServerStats()
    /// INFO errorstats: error replies by their first word.
    var errorCounts: [String: Int] = [:]
    /// total_error_replies when the last call started or ended (Redis's prev_err_count).
    var errorMark = 0
    /// SLOWLOG (Introspection/SlowLog.swift).
    var slowlog = SlowLog()
    /// LATENCY's events (Introspection/LatencyMonitor.swift).
    var latency = LatencyMonitor()
    /// INFO's instantaneous_* rates (Introspection/InstantaneousMetrics.swift).
    var instantaneous = InstantaneousMetrics()
    var acl = ACL()
    /// ACL LOG, newest first (Introspection/ACLLog.swift).
    var aclLog: [ACLLogEntry] = []
    /// The client whose command runs now (nil in the cron and before-sleep).
    var currentClient: Client? = nil
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may run commands flagged noscript.
    var scriptDenyDisabled = false
    /// The script running now (EVAL/FCALL), nil otherwise (Scripting/ScriptRun.swift).
    var scriptRun: ScriptRun? = nil
    /// EVAL's scripts and FUNCTION's libraries (Scripting/).
    var scriptingStorage: Scripting? = nil
    /// What the current top-level call propagates (Server+Propagation.swift).
    var propagation = PropagationBuffer()
    var shuttingDown = false
    var loading = false
    var lastBgsaveFailed = false
    /// RDB save bookkeeping (Persistence/Persistence.swift).
    var persistence = PersistenceState()
    /// CLIENT PAUSE and the pauses of shutdown (ClientPause.swift).
    var pause = ClientPause()
    /// The self-fencing rule of a master watched by sentinels (Replication/MasterFencing.swift).
    var fencing: MasterFencing
    /// DEBUG PAUSE-CRON: the cron does nothing while set (as Redis's serverCron).
    var cronPaused = false
    /// DEBUG SET-ACTIVE-EXPIRE: whether the cron removes expired keys.
    var activeExpireEnabled = true
    var monitors: [Client] = []
    var pubsub = PubSubHub<Client>()
    var watchTable = WatchTable()
    /// Client-side caching: remembered keys, BCAST prefixes, pending invalidations (Tracking.swift).
    var tracking = TrackingTable()
    /// maxmemory eviction's pool and timer (Eviction.swift).
    var eviction = EvictionState()
    /// Peak and start-up figures of used_memory (Server+Memory.swift).
    var memory = MemoryBook()
    /// The HTTP health and metrics listener while `http-port` is set (HTTP/Server+HTTP.swift).
    var httpListener: HTTPServer? = nil
    /// On a replica with the listener on: how far behind the master we are (HTTP/ReplicaLagProbe.swift).
    var lagProbe: ReplicaLagProbe? = nil
    // The subsystems hold the server unowned, so they are made once `self` exists; read through
    // `unsafelyUnwrapped` (set for the server's whole life), the hot path pays no lazy-var check.
    private var replicationStorage: Replication? = nil
    private var aofStorage: AOF? = nil
    private var blockingStorage: BlockingTable? = nil
    /// Replication role and state, backlog, replicas and the link to our master (Replication/).
    var replication: Replication { @inline(__always) get { replicationStorage.unsafelyUnwrapped } }
    /// The append-only file (Persistence/AOF*.swift).
    var aof: AOF { @inline(__always) get { aofStorage.unsafelyUnwrapped } }
    /// Clients blocked on keys (Blocking.swift).
    var blocking: BlockingTable { @inline(__always) get { blockingStorage.unsafelyUnwrapped } }

    init(config: ServerConfig, loop: EventLoop, log: Logger, clock: Clock = .system) {
        self.config = config
        self.loop = loop
        self.log = log
        self.clock = clock
        self.listeners = ListenerGroup(loop: loop)
        let aging = KeyAging(wallMillis: clock.wallMillis())
        self.keyAging = aging
        self.databases = (0..<max(1, config.databases)).map { Database(id: $0, aging: aging) }
        self.fencing = MasterFencing(enabled: config.selfFencing, fenceAfter: Int64(config.fenceAfterMillis))
        applyAgingConfig()
        replicationStorage = Replication(server: self)
        aofStorage = AOF(server: self)
        blockingStorage = BlockingTable(server: self)
        scriptingStorage = Scripting(server: self)
        applyKeyspaceEventsConfig()
    }

    /// EVAL's script cache and FUNCTION's libraries.
    var scripting: Scripting { @inline(__always) get { scriptingStorage.unsafelyUnwrapped } }

    /// Whether we replicate from a master (the role lives in `replication`).
    var isReplica: Bool { replication.masterHost != nil }
    /// Our master's host, nil on a master.
    var masterHost: String? { replication.masterHost }
    /// Our master's port.
    var masterPort: Int { replication.masterPort }
    /// Whether the link to our master is up (MASTERDOWN, INFO).
    var masterLinkUp: Bool { replication.linkUp }

    /// Milliseconds since start (for uptime and client ages).
    var uptimeMillis: Int64 { clock.monotonicMillis() - startedAt }

    // MARK: - Start

    /// Binds the listeners and arms the cron; throws if no address could be bound.
    func start() throws {
        listeners.onAccept = { [unowned self] fd in self.accept(fd: fd) }
        listeners.onAcceptError = { [unowned self] e in self.log.warning("Accepting client connection: \(e)") }
        try listeners.bind(config.bind, port: config.port, backlog: Int32(config.tcpBacklog)) { log.warning($0) }
        if config.httpPort != 0 {
            do { try applyHTTPConfig() } catch {
                log.warning(error.message)
                throw IOError(errnoCode: EADDRINUSE, call: "bind http-port")
            }
        }
        loop.addBeforeSleep { [unowned self] in self.beforeSleep() }
        loop.every({ [unowned self] in Int64(1000 / max(1, min(500, self.config.hz))) }) { [unowned self] in
            self.cron()
        }
    }

    // MARK: - Clients

    func accept(fd: Int32) {
        let conn: Connection
        do { conn = try Connection(fd: fd, loop: loop) } catch {
            Posix.close(fd); return
        }
        Socket.setNoDelay(fd)
        Socket.setKeepAlive(fd, interval: config.tcpKeepalive)
        let now = clock.monotonicMillis()
        if clients.count >= config.maxclients {
            refuse(conn, "-ERR max number of clients reached\r\n")
            return
        }
        if config.protectedMode && acl.defaultUser.nopass {
            let ip = Socket.peerAddress(fd)?.ip ?? ""
            if !Socket.isLoopback(ip) {
                refuse(conn, Server.protectedModeMessage)
                return
            }
        }
        let c = Client(id: nextID(), conn: conn, db: databases[0], authenticated: !acl.defaultUserRequiresAuth,
                       maxBulk: config.protoMaxBulkLen, now: now)
        if !c.authenticated { c.parser.authenticated = false } else { c.user = acl.defaultUser }
        clients[c.id] = c
        stats.totalConnections += 1
        conn.onInput = { [unowned self] _ in self.readFromClient(c) }
        conn.onClose = { [unowned self] _, _ in self.freeClient(c) }
    }

    private func refuse(_ conn: Connection, _ text: String) {
        conn.send(Bytes(text.utf8))
        conn.flush()
        conn.close()
        stats.rejectedConnections += 1
    }

    private func nextID() -> Int {
        defer { nextClientID += 1 }
        return nextClientID
    }

    /// Creates a client for a connection we initiated (the link to our master).
    func makeClient(for conn: Connection, flags: ClientFlags) -> Client {
        let c = Client(id: nextID(), conn: conn, db: databases[0], authenticated: true, maxBulk: config.protoMaxBulkLen, now: clock.monotonicMillis())
        c.flags.insert(flags)
        c.user = acl.defaultUser
        clients[c.id] = c
        return c
    }

    /// A client without a socket (the AOF loader, in-process callers). Not in `clients`. `id`
    /// nil takes the next client id; the AOF loader passes its own, as Redis's CLIENT_ID_AOF.
    func makeLocalClient(flags: ClientFlags = [], id: Int? = nil) -> Client {
        let c = Client(id: id ?? nextID(), db: databases[0], user: acl.defaultUser, now: clock.monotonicMillis())
        c.flags.insert(flags)
        return c
    }

    /// Removes every trace of a client; its connection is closed if still open.
    func freeClient(_ c: Client) {
        guard clients.removeValue(forKey: c.id) != nil else { return }
        if let conn = c.conn, !conn.isClosed { conn.onClose = nil; conn.close() }
        if c.flags.contains(.blocked) { unblock(c, requeue: false) }
        pubsub.unsubscribeAll(c)
        watchTable.unwatchAll(c)
        if c.flags.contains(.tracking) { disableTracking(c) }
        if c.flags.contains(.monitor) { monitors.removeAll { $0 === c } }
        replication.clientFreed(c)
    }

    /// Closes a client after its pending replies are sent.
    func closeAfterReply(_ c: Client) {
        c.flags.insert(.closeAfterReply)
    }

    /// Schedules a client to be freed at the next before-sleep (safe while iterating).
    func closeASAP(_ c: Client) {
        guard !c.flags.contains(.closeASAP) else { return }
        c.flags.insert(.closeASAP)
        clientsToClose.append(c)
    }

    /// Marks a client as having output to flush in before-sleep.
    @inline(__always) func markPendingWrite(_ c: Client) {
        if !c.flags.contains(.pendingWrite) {
            c.flags.insert(.pendingWrite)
            pendingWrites.append(c)
        }
    }

    // MARK: - Input

    func readFromClient(_ c: Client) {
        guard let conn = c.conn else { return }
        c.lastInteraction = clock.monotonicMillis()
        stats.netInputBytes += conn.pendingInput
        stats.readsProcessed += 1
        if c.flags.contains(.master) { stats.netReplInputBytes += conn.pendingInput }
        // With output already pending, the write handler may send this read's replies in the same
        // loop iteration, before before-sleep: appendfsync always must sync first (AE_BARRIER).
        let hadOutput = conn.pendingOutput > 0
        processInput(c)
        if hadOutput { aof.syncBeforeEarlyReplies() }
        if conn.pendingInput > config.clientQueryBufferLimit {
            log.warning("Closing client that reached max query buffer length: id=\(c.id) addr=\(c.addr) (qbuf initial bytes: \(conn.pendingInput))")
            freeClient(c)
        }
    }

    /// Parses and runs every complete command in the client's input, until it is blocked,
    /// closing, or out of complete commands.
    func processInput(_ c: Client) {
        // A client whose command is running (a script serving events while busy) reads on
        // when that command returns, in the loop that ran it.
        guard let conn = c.conn, c.callDepth == 0 else { return }
        // Our master's stream waits for a busy script to end (it must not run inside it).
        if scriptRun != nil && c.flags.contains(.master) { return }
        input: while conn.pendingInput > 0 && c.flags.isDisjoint(with: [.closeAfterReply, .closeASAP, .blocked, .pendingCommand])
                && !conn.isClosed {
            let consumed: Int
            switch conn.readRequest(&c.parser, into: &c.argv) {
            case .invalid(let message):
                log.verbose("Protocol error (\(message)) from client: id=\(c.id) addr=\(c.addr)")
                c.out.error(CommandReply.protocolError(message))
                c.flags.insert(.closeAfterReply)
                conn.consume(conn.pendingInput)
                break input
            case .partial(let n):
                // Whole arguments of a command still arriving: keep them, wait for the rest.
                if c.flags.contains(.master) && n > 0 { c.streamPending += conn.withInput { $0[0..<n] } }
                conn.consume(n)
                break input
            case .complete(let n):
                consumed = n
            }
            // Every byte of our master's stream counts toward the replication offset once the
            // command it belongs to ran (a postponed command is not applied yet).
            if c.flags.contains(.master) { c.streamPending += conn.withInput { $0[0..<consumed] } }
            conn.consume(consumed)
            if c.argv.isEmpty {
                if c.flags.contains(.master) { replication.masterStreamApplied(c) }
                continue
            }
            c.querySize = consumed
            processCommand(c)
            c.querySize = 0
            if c.flags.contains(.pendingCommand) { break }
            commandDone(c)
        }
        if !c.out.isEmpty || c.flags.contains(.closeAfterReply) { markPendingWrite(c) }
    }

    /// After a command from the input finished (ran, was rejected, or blocked): the reply-skip
    /// state moves on, the master's stream offset advances, and argv is emptied for reuse.
    @inline(__always) func commandDone(_ c: Client) {
        if !c.flags.isDisjoint(with: [.replySkip, .replySkipNext]) {
            c.flags.remove(.replySkip)
            if c.flags.contains(.replySkipNext) { c.flags.remove(.replySkipNext); c.flags.insert(.replySkip) }
        }
        if c.flags.contains(.master) { replication.masterStreamApplied(c) }
        // CLIENT CACHING applies to the next command (or transaction) only.
        if c.flags.contains(.tracking) && c.tracking.contains(.caching) && !c.flags.contains(.multi)
            && !(c.argv.first.map { $0.count == 6 && $0.text.lowercased() == "client" } ?? false) {
            c.tracking.remove(.caching)
        }
        // Empty but keep the buffer: the parser fills it again for the next command.
        // (popLast releases each argument directly; removeAll(keepingCapacity:) went through the
        // runtime's generic array destroy and value witnesses, ~2x the instructions.)
        if c.argv.capacity > 1024 { c.argv = [] } else { while c.argv.popLast() != nil {} }
    }

    // MARK: - Before sleep and cron

    /// Redis's beforeSleep, in its order: clients waiting on keys, WAIT, unblocked clients'
    /// input, GETACK, the link's ACK, the AOF write, the replies, then closing clients.
    func beforeSleep() {
        // Inside a busy script (events served from its hook) no other command may run.
        if scriptRun == nil {
            if blocking.hasReadyKeys { blocking.serveReadyKeys() }
            replication.beforeSleepWaiters(now: clock.monotonicMillis())
            if !unblockedClients.isEmpty { processUnblockedClients() }
        }
        replication.beforeSleep()
        if tracking.clientCount > 0 { broadcastInvalidations() }
        aof.beforeSleep()
        flushReplies()
        if !clientsToClose.isEmpty {
            let list = clientsToClose
            clientsToClose = []
            for c in list { freeClient(c) }
        }
    }

    /// Sends what every client has pending, as far as the sockets take it (exit).
    func flushRepliesNow() {
        for c in clients.values { markPendingWrite(c) }
        flushReplies()
    }

    /// Hands every pending reply buffer to its socket.
    private func flushReplies() {
        guard !pendingWrites.isEmpty else { return }
        // Swap in the spare array instead of copying: the copy made `removeAll(keepingCapacity:)`
        // allocate a fresh buffer on every event-loop iteration.
        var list: [Client] = []
        swap(&list, &pendingWrites)
        defer { list.removeAll(keepingCapacity: true); if pendingWrites.isEmpty { swap(&list, &pendingWrites) } }
        for c in list {
            c.flags.remove(.pendingWrite)
            guard let conn = c.conn, !conn.isClosed else { continue }
            stats.netOutputBytes += c.out.count
            stats.writesProcessed += 1
            if c.flags.contains(.replica) { stats.netReplOutputBytes += c.out.count }
            conn.enqueue(&c.out.bytes)
            if c.flags.contains(.closeAfterReply) {
                conn.onDrained = { [unowned self] _ in self.freeClient(c) }
            }
            conn.flush()
        }
    }

    func cron() {
        if cronPaused { return }
        let now = clock.monotonicMillis()
        keyAging.refresh(wallMillis: clock.wallMillis())
        _ = memory.note(ProcessMemory.allocated)
        pauseCron(now: now)
        if activeExpireEnabled {
            let start = Clock.monotonicMicros()
            activeExpireCycle(now: clock.wallMillis())
            expireCycleRan(usec: Clock.monotonicMicros() - start)
        }
        sampleInstantaneousMetrics(now: clock.monotonicMillis())
        if config.timeout > 0 {
            let limit = Int64(config.timeout) * 1000
            for c in Array(clients.values) where c.flags.isDisjoint(with: [.replica, .master, .blocked, .pubsub])
                && now - c.lastInteraction > limit {
                log.verbose("Closing idle client")
                freeClient(c)
            }
        }
        if tracking.clientCount > 0 { trackingLimitUsedSlots() }
        persistenceCron()
        replication.cron(now: now)
        fencingCron(now: now)
        httpCron(now: now)
        aof.cron(now: now)
    }

    static let protectedModeMessage = ProtectedMode.deniedReply
}

/// Counters reported by INFO stats.
struct ServerStats {
    var totalConnections = 0
    var totalCommands = 0
    var rejectedConnections = 0
    var expiredKeys = 0
    var evictedKeys = 0
    var keyspaceHits = 0
    var keyspaceMisses = 0
    var netInputBytes = 0
    var netOutputBytes = 0
    var pubsubChannelsPublished = 0
    var totalErrorReplies = 0
    var syncFull = 0
    var syncPartialOK = 0
    var syncPartialErr = 0
    var totalForks = 0
    /// Times the self-fencing rule refused writes (INFO fencing_fenced_count).
    var fencedTimes = 0
    /// Errors sent to our master, a replica or the AOF loader (they should never happen).
    var unexpectedErrorReplies = 0
    var latestForkUsec: Int64 = 0
    /// Time spent in the active expire cycle, µs.
    var expireCycleMicros: Int64 = 0
    /// Socket reads and reply flushes (total_reads_processed / total_writes_processed).
    var readsProcessed = 0
    /// Bytes read from our master's stream.
    var netReplInputBytes = 0
    /// Bytes of the replication stream sent to replicas.
    var netReplOutputBytes = 0
    var writesProcessed = 0
}

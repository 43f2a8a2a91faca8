// The node's state and life cycle: listening sockets, clients, databases, the cron, and the
// before-sleep hook that flushes replies in batches (Redis's server.c, in small).
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// The data node.
final class Server {
    let loop: EventLoop
    let log: Logger
    let config: ServerConfig
    let runID = RunID.make()
    let startedAt = Clock.monotonicMillis()
    let startedWall = Clock.wallSeconds()
    var databases: [Database]
    /// Every command by lower-case name.
    var commandTable: [String: CommandSpec] = CommandTable.build() {
        didSet { commandSlots = Array(repeating: nil, count: Server.commandSlotCount) }
    }
    /// `commandTable` entries by the exact bytes clients sent (see `lookupCommand`).
    var commandSlots: [CommandRef?] = Array(repeating: nil, count: Server.commandSlotCount)
    var clients: [Int: Client] = [:]
    private var nextClientID = 1
    private var listeners: [Listener] = []
    /// Clients with replies waiting for the next before-sleep flush.
    var pendingWrites: [Client] = []
    /// Clients to free at the next before-sleep (closeASAP).
    var clientsToClose: [Client] = []
    /// Changes since the last save (Redis's server.dirty).
    var dirty = 0
    var stats = ServerStats()
    var acl = ACL()
    /// Called for every write that must reach replicas and the AOF: (db id, argv).
    var propagationHooks: [(Int, [Bytes]) -> Void] = []
    /// Replaces the argv propagated for the current command (relative expiry → absolute...).
    var propagateOverride: [[Bytes]]? = nil
    /// Extra commands to propagate after the current one (lazy-expire DELs...).
    var extraPropagation: [(Int, [Bytes])] = []
    /// Set while applying our master's stream: writes are allowed on a read-only replica.
    var currentClient: Client? = nil
    var shuttingDown = false
    /// Called before the process exits (save, replicas catch-up...). Returns false to abort.
    var shutdownHooks: [(_ save: Bool?) -> Bool] = []
    /// Replication role and link, owned by the replication layer; nil master = we are a master.
    var masterHost: String? = nil
    var masterPort = 0
    /// Whether the link to our master is up (for MASTERDOWN and INFO); set by the replication layer.
    var masterLinkUp = false
    /// Number of replicas considered good for min-replicas-to-write; set by the replication layer.
    var goodReplicas: () -> Int = { 0 }
    var loading = false
    var lastBgsaveFailed = false
    /// RDB save bookkeeping (Persistence/Persistence.swift).
    var persistence = PersistenceState()
    /// `repl-id`/`repl-offset` to store in RDB files; set by the replication layer.
    var rdbReplicationInfo: (() -> (id: String, offset: Int64)?)? = nil
    var clientPauseUntil: Int64 = 0
    var clientPauseWritesOnly = false
    var monitors: [Client] = []
    var pubsub = PubSub()
    var watchTable = WatchTable()
    /// Called when a key changes (blocking commands wake their clients here).
    var keyReadyHooks: [(Database, Key) -> Void] = []
    /// Extra start-up steps registered by subsystems (loading the RDB, starting replication).
    var configureHooks: [() throws -> Void] = []
    /// Cron hooks run every 1000/hz ms with the monotonic time.
    var cronHooks: [(Int64) -> Void] = []
    /// Replication state, backlog, replicas and the link to our master (Replication/).
    lazy var replication = Replication(server: self)
    /// The append-only file (Persistence/AOF*.swift).
    lazy var aof = AOF(server: self)
    /// Clients blocked on keys (Blocking.swift); created when a client first blocks.
    var blocking: BlockingTable? = nil

    init(config: ServerConfig, loop: EventLoop, log: Logger) {
        self.config = config
        self.loop = loop
        self.log = log
        self.databases = (0..<max(1, config.databases)).map { Database(id: $0) }
        installPersistence()
        replication.install()
        aof.install()
    }

    var isReplica: Bool { masterHost != nil }

    /// Milliseconds since start (for uptime and client ages).
    var uptimeMillis: Int64 { Clock.monotonicMillis() - startedAt }

    // MARK: - Start

    /// Binds the listeners and arms the cron; throws if no address could be bound.
    func start() throws {
        var bound = 0
        for raw in config.bind {
            let optional = raw.hasPrefix("-")
            let host = optional ? String(raw.dropFirst()) : raw
            do {
                let fd = try Socket.listen(host: host, port: config.port, backlog: Int32(config.tcpBacklog))
                let l = Listener(fd: fd, server: self)
                try loop.register(fd: fd, handler: l)
                listeners.append(l)
                bound += 1
            } catch let e as IOError {
                // EADDRNOTAVAIL/EAFNOSUPPORT on an optional address (`-::1` without IPv6) is fine.
                if optional && (e.errnoCode == EADDRNOTAVAIL || e.errnoCode == EAFNOSUPPORT || e.errnoCode == EPROTONOSUPPORT || e.errnoCode == EINVAL) { continue }
                log.warning("Warning: Could not create server TCP listening socket \(host):\(config.port): \(Posix.strerror(e.errnoCode))")
                throw e
            }
        }
        if bound == 0 { throw IOError(errnoCode: EADDRNOTAVAIL, call: "bind") }
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
        let now = Clock.monotonicMillis()
        let id = nextClientID
        nextClientID += 1
        let c = Client(id: id, conn: conn, db: databases[0], authenticated: !acl.defaultUserRequiresAuth,
                       maxBulk: config.protoMaxBulkLen, now: now)
        if !c.authenticated { c.parser.authenticated = false } else { c.user = acl.defaultUser }
        if clients.count >= config.maxclients {
            conn.send(Bytes("-ERR max number of clients reached\r\n".utf8))
            conn.flush()
            conn.close()
            stats.rejectedConnections += 1
            return
        }
        if config.protectedMode && acl.defaultUser.nopass {
            let ip = Socket.peerAddress(fd)?.ip ?? ""
            if !Socket.isLoopback(ip) {
                conn.send(Bytes(Server.protectedModeMessage.utf8))
                conn.flush()
                conn.close()
                stats.rejectedConnections += 1
                return
            }
        }
        clients[id] = c
        stats.totalConnections += 1
        conn.onInput = { [unowned self] _ in self.readFromClient(c) }
        conn.onClose = { [unowned self] _, _ in self.freeClient(c) }
    }

    /// Creates a client for a connection we initiated (the link to our master).
    func makeClient(for conn: Connection, flags: ClientFlags) -> Client {
        let id = nextClientID
        nextClientID += 1
        let c = Client(id: id, conn: conn, db: databases[0], authenticated: true, maxBulk: config.protoMaxBulkLen, now: Clock.monotonicMillis())
        c.flags.insert(flags)
        c.user = acl.defaultUser
        clients[id] = c
        return c
    }

    /// Removes every trace of a client; its connection is closed if still open.
    func freeClient(_ c: Client) {
        guard clients.removeValue(forKey: c.id) != nil else { return }
        if !c.conn.isClosed { c.conn.onClose = nil; c.conn.close() }
        pubsub.unsubscribeAll(c)
        watchTable.unwatchAll(c)
        if c.flags.contains(.monitor) { monitors.removeAll { $0 === c } }
        for hook in clientFreedHooks { hook(c) }
    }

    /// Called when a client goes away (replication drops replica state, blocking ops unblock).
    var clientFreedHooks: [(Client) -> Void] = []

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

    func readFromClient(_ c: Client) {
        c.lastInteraction = Clock.monotonicMillis()
        stats.netInputBytes += c.conn.pendingInput
        // With output already pending, the write handler may send this read's replies in the same
        // loop iteration, before before-sleep: appendfsync always must sync first (AE_BARRIER).
        let hadOutput = c.conn.pendingOutput > 0
        processInput(c)
        if hadOutput { aof.syncBeforeEarlyReplies() }
        if c.conn.pendingInput > config.clientQueryBufferLimit {
            log.warning("Closing client that reached max query buffer length: id=\(c.id) addr=\(c.addr) (qbuf initial bytes: \(c.conn.pendingInput))")
            freeClient(c)
        }
    }

    /// Parses and runs every complete command in the client's buffer.
    func processInput(_ c: Client) {
        while c.conn.pendingInput > 0 && !c.flags.contains(.closeAfterReply) && !c.flags.contains(.closeASAP)
                && !c.flags.contains(.blocked) && !c.conn.isClosed {
            if clientPauseUntil > 0 && !c.flags.contains(.master) && !c.flags.contains(.replica) && isPaused(for: c) { break }
            let parsed: (consumed: Int, complete: Bool)
            do {
                parsed = try c.conn.withInput { buf in try c.parser.parse(buf, into: &c.argv) }
            } catch let e as RESPError {
                log.verbose("Protocol error (\(e.message)) from client: id=\(c.id) addr=\(c.addr)")
                c.out.error("ERR Protocol error: \(e.message)")
                c.flags.insert(.closeAfterReply)
                c.conn.consume(c.conn.pendingInput)
                break
            } catch { break }
            // Every byte of our master's stream counts toward the replication offset, including
            // partly parsed commands; the hook reads them before they are consumed.
            let isMaster = c.flags.contains(.master)
            if isMaster && parsed.consumed > 0 { masterStreamHook?(c, parsed.consumed) }
            c.conn.consume(parsed.consumed)
            guard parsed.complete else { break }
            if c.argv.isEmpty { continue }
            if isMaster {
                // The master never reads our replies: drop whatever the command wrote.
                let mark = c.conn.output.bytes.count
                processCommand(c)
                if c.conn.output.bytes.count > mark { c.conn.output.bytes.removeSubrange(mark...) }
            } else {
                processCommand(c)
            }
            // Empty but keep the buffer: the parser fills it again for the next command.
            // (popLast releases each argument directly; removeAll(keepingCapacity:) went through the
            // runtime's generic array destroy and value witnesses, ~2x the instructions.)
            if c.argv.capacity > 1024 { c.argv = [] } else { while c.argv.popLast() != nil {} }
        }
        if !c.out.isEmpty || c.flags.contains(.closeAfterReply) { markPendingWrite(c) }
    }

    /// Lets the replication layer account applied bytes on the master link (offset tracking).
    var masterStreamHook: ((Client, Int) -> Void)? = nil

    private func isPaused(for c: Client) -> Bool {
        guard Clock.monotonicMillis() < clientPauseUntil else { clientPauseUntil = 0; return false }
        if !clientPauseWritesOnly { return true }
        // WRITE pause: peek whether the next command writes; we only know after parsing, so a
        // paused-for-writes client is held only when it is in MULTI or its last command wrote.
        return false
    }

    // MARK: - Before sleep and cron

    func beforeSleep() {
        if !clientsToClose.isEmpty {
            let list = clientsToClose
            clientsToClose = []
            for c in list { freeClient(c) }
        }
        for hook in beforeSleepHooks { hook() }
        if !pendingWrites.isEmpty {
            // Swap in the spare array instead of copying: the copy made `removeAll(keepingCapacity:)`
            // allocate a fresh buffer on every event-loop iteration.
            var list: [Client] = []
            swap(&list, &pendingWrites)
            defer { list.removeAll(keepingCapacity: true); if pendingWrites.isEmpty { swap(&list, &pendingWrites) } }
            for c in list {
                c.flags.remove(.pendingWrite)
                if c.conn.isClosed { continue }
                stats.netOutputBytes += c.conn.pendingOutput
                if c.flags.contains(.closeAfterReply) {
                    c.conn.onDrained = { [unowned self] _ in self.freeClient(c) }
                }
                c.conn.flush()
            }
        }
    }

    /// Hooks run in before-sleep ahead of the reply flush (replication feeds replicas here).
    var beforeSleepHooks: [() -> Void] = []

    func cron() {
        let now = Clock.monotonicMillis()
        activeExpireCycle(now: Clock.wallMillis())
        if config.timeout > 0 {
            let limit = Int64(config.timeout) * 1000
            for c in Array(clients.values) where !c.flags.contains(.replica) && !c.flags.contains(.master)
                && !c.flags.contains(.blocked) && !c.flags.contains(.pubsub) && now - c.lastInteraction > limit {
                log.verbose("Closing idle client")
                freeClient(c)
            }
        }
        for hook in cronHooks { hook(now) }
    }

    static let protectedModeMessage = ProtectedMode.deniedReply
}

/// A listening socket; accepts in a loop until EAGAIN.
final class Listener: EventHandler {
    let fd: Int32
    unowned let server: Server
    init(fd: Int32, server: Server) { self.fd = fd; self.server = server }
    func handleReadable() {
        for _ in 0..<1000 {
            do {
                switch try Socket.accept(fd) {
                case .done(let cfd): server.accept(fd: cfd)
                case .wouldBlock: return
                }
            } catch {
                server.log.warning("Accepting client connection: \(error)")
                return
            }
        }
    }
    func handleWritable() {}
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
}

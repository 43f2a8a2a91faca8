// The sentinel's server side, on Shared's server framework: ListenerGroup accepts, the clients'
// requests are read with Connection.readRequest, commands are resolved in a CommandRegistry
// holding the table of SentinelCommandTable.swift, and events are published (channel = event
// type) through a PubSubHub. What is the sentinel's own: its client state, its statistics, and
// CLIENT PAUSE holding a read command.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// A client connected to the sentinel.
final class SentinelClient {
    let id: Int
    let conn: Connection
    var parser = RequestParser()
    /// The request being read (reused between commands).
    var argv: [Bytes] = []
    /// Unauthenticated clients get the parser's tight limits (10 arguments, 16 KB bulks), as in Redis.
    var authenticated: Bool { didSet { parser.authenticated = authenticated } }
    /// The user this client authenticated as (CLIENT LIST's `user=`).
    var user = "default"
    var name = ""
    /// CLIENT SETINFO values (CLIENT LIST's lib-name / lib-ver).
    var libName = ""
    var libVersion = ""
    /// Channels and patterns (kept in step by the server's PubSubHub).
    var subscriptions = Subscriptions()
    /// Size of the last push written (a delivered message, counted in INFO's output bytes).
    var lastPushBytes = 0
    let createdAt: Int64
    /// When the client last sent a command (CLIENT LIST's idle).
    var lastInteraction: Int64
    /// The last command run, as `name` or `container|sub` (CLIENT LIST's cmd).
    var lastCommand = "NULL"
    var closeAfterReply = false
    /// CLIENT REPLY: whether replies are sent.
    var replyMode: ReplyMode = .on
    /// A command read while CLIENT PAUSE holds it, run when the pause ends.
    var heldCommand: [Bytes]?
    /// CLIENT NO-EVICT (a sentinel never evicts clients; the flag is shown).
    var noEvict = false
    /// CLIENT TRACKING state (a sentinel has no keys, so no invalidation is ever sent).
    var tracking: TrackingMode?
    /// Peer and local addresses, read once at accept (they do not change).
    let addr: String
    let laddr: String

    init(id: Int, conn: Connection, authenticated: Bool, now: Int64) {
        self.id = id
        self.conn = conn
        self.authenticated = authenticated
        self.parser.authenticated = authenticated
        self.createdAt = now
        self.lastInteraction = now
        addr = Socket.peerAddress(conn.fd).map { SentinelClient.format($0) } ?? "?:0"
        laddr = Socket.localAddress(conn.fd).map { SentinelClient.format($0) } ?? "?:0"
    }

    private static func format(_ a: SocketAddress) -> String { a.isIPv6 ? "[\(a.ip)]:\(a.port)" : "\(a.ip):\(a.port)" }

    /// The protocol version (2, or 3 after HELLO 3).
    var proto: Int {
        get { conn.output.proto }
        set { conn.output.proto = newValue }
    }

    /// Channels plus patterns.
    var subscriptionCount: Int { subscriptions.count }
}

extension SentinelClient: PubSubSubscriber {
    var acceptsPushes: Bool { !conn.isClosed }

    func writePush(_ body: (inout RESPWriter) -> Void) {
        let before = conn.output.count
        body(&conn.output)
        lastPushBytes = conn.output.count - before
    }
}

/// CLIENT REPLY ON | OFF | SKIP.
enum ReplyMode: Sendable {
    case on, off
    /// The next command's reply is dropped.
    case skipNext
    /// This command's reply is dropped (then back to on).
    case skipThis
}

/// CLIENT TRACKING options (kept for CLIENT TRACKINGINFO and CACHING).
struct TrackingMode: Sendable {
    var redirect = 0
    var bcast = false, optIn = false, optOut = false, noLoop = false
    var prefixes: [String] = []
    /// CLIENT CACHING yes|no for the next command.
    var caching: Bool?
}

/// Counters INFO's stats section reports (Redis's server.stat_*).
struct SentinelStats {
    var connectionsReceived = 0
    var commandsProcessed = 0
    var rejectedConnections = 0
    var netInputBytes = 0
    var netOutputBytes = 0
    var errorReplies = 0
    var readsProcessed = 0
    var writesProcessed = 0
    /// Largest query buffer / reply buffer seen recently (client_recent_max_*).
    var recentMaxInput = 0
    var recentMaxOutput = 0
}

/// Accepts clients and dispatches their commands to the sentinel.
final class SentinelServer {
    let sentinel: Sentinel
    let loop: EventLoop
    var clients: [Int: SentinelClient] = [:]
    private var nextClientID = 1
    private let listeners: ListenerGroup
    /// The command table, as the shared dispatcher resolves it.
    let commands = CommandRegistry(Array(SentinelCommandTable.commands.values))
    /// Subscriptions to our event channels.
    var pubsub = PubSubHub<SentinelClient>()
    var shutdownRequested = false
    var stats = SentinelStats()
    /// This process's run id (INFO run_id; the sentinel's own id is `sentinel.myID`).
    let runID = RunID.make()
    /// Redis's maxclients default (INFO, and the limit on accepted clients).
    let maxClients = 10_000
    /// Clients to close once the current command has replied (CLIENT KILL of the caller).
    var pendingKills: [SentinelClient] = []
    /// ACL LOG entries, newest first.
    var aclLog: [ACLLogEntry] = []
    /// CLIENT PAUSE: until when, and whether every command waits (ALL) or only PUBLISH (WRITE).
    var pausedUntil: Int64 = 0
    var pauseAll = false
    /// The HTTP health and metrics listener while `http-port` is set (SentinelServer+HTTP.swift).
    var httpListener: HTTPServer?

    /// The sentinel's clock: client ages, CLIENT PAUSE, ACL LOG times.
    var clock: Clock { sentinel.clock }

    init(sentinel: Sentinel, loop: EventLoop) {
        self.sentinel = sentinel
        self.loop = loop
        self.listeners = ListenerGroup(loop: loop)
        sentinel.onEvent = { [unowned self] ev in self.publish(channel: ev.type, message: ev.message) }
    }

    /// Binds listening sockets (all interfaces by default, as redis-sentinel does).
    func start() throws {
        let binds = sentinel.settings.bind.isEmpty ? ["*", "-::*"] : sentinel.settings.bind
        listeners.onAccept = { [unowned self] fd in self.accept(fd: fd) }
        try listeners.bind(binds, port: sentinel.settings.port) { sentinel.log.warning($0) }
    }

    /// Wraps an accepted socket in a client.
    func accept(fd: Int32) {
        let conn: Connection
        do { conn = try Connection(fd: fd, loop: loop) } catch { Posix.close(fd); return }
        Socket.setNoDelay(fd)
        let now = clock.monotonicMillis()
        stats.connectionsReceived += 1
        if sentinel.settings.protectedMode && !sentinel.settings.authRequired {
            let ip = Socket.peerAddress(fd)?.ip ?? ""
            if !Socket.isLoopback(ip) {
                stats.rejectedConnections += 1
                conn.send(Bytes(ProtectedMode.deniedReply.utf8))
                conn.flush()
                conn.close()
                return
            }
        }
        if clients.count >= maxClients {
            stats.rejectedConnections += 1
            conn.send(Bytes("-ERR max number of clients reached\r\n".utf8))
            conn.flush()
            conn.close()
            return
        }
        let id = nextClientID
        nextClientID += 1
        let c = SentinelClient(id: id, conn: conn, authenticated: !sentinel.settings.authRequired, now: now)
        clients[id] = c
        conn.onInput = { [unowned self] _ in self.readFromClient(c) }
        conn.onClose = { [unowned self] _, _ in
            self.clients[c.id] = nil
            self.pubsub.unsubscribeAll(c)
        }
    }

    /// Parses and runs every complete command in the client's buffer.
    func readFromClient(_ c: SentinelClient) {
        stats.readsProcessed += 1
        stats.recentMaxInput = max(stats.recentMaxInput, c.conn.pendingInput)
        let outBefore = c.conn.output.count
        if let held = c.heldCommand {
            if isPaused(held) { return }
            c.heldCommand = nil
            process(c, held)
        }
        input: while !c.conn.isClosed && c.conn.pendingInput > 0 && !c.closeAfterReply {
            switch c.conn.readRequest(&c.parser, into: &c.argv) {
            case .invalid(let message):
                replyError(c, CommandReply.protocolError(message))
                c.closeAfterReply = true
                break input
            case .partial(let n):
                c.conn.consume(n)
                stats.netInputBytes += n
                break input
            case .complete(let n):
                c.conn.consume(n)
                stats.netInputBytes += n
            }
            let argv = c.argv
            c.argv = []
            if argv.isEmpty { continue }
            if isPaused(argv) {
                // Held until CLIENT PAUSE ends: keep the command and stop reading this client.
                c.heldCommand = argv
                break
            }
            process(c, argv)
            if c.closeAfterReply { break }
        }
        sentinel.flushConfigIfDirty()
        finishReplies(c, since: outBefore)
        if c.closeAfterReply && !c.conn.isClosed { c.conn.close() }
        let kills = pendingKills
        pendingKills = []
        for k in kills where k !== c { k.conn.close() }
        if shutdownRequested { loop.stop() }
    }

    /// True while CLIENT PAUSE holds this command: every command for ALL, for WRITE those that
    /// may replicate (PUBLISH, the only one a sentinel has).
    func isPaused(_ argv: [Bytes]) -> Bool {
        guard pausedUntil > clock.monotonicMillis() else { return false }
        if pauseAll { return true }
        guard let first = argv.first, let e = commands.lookup(first) else { return false }
        return e.spec.flags.contains(.mayReplicate)
    }

    /// CLIENT PAUSE for `millis`; the held clients resume when it ends (or at CLIENT UNPAUSE).
    func pause(millis: Int64, all: Bool) {
        pausedUntil = max(pausedUntil, clock.monotonicMillis() + millis)
        pauseAll = pauseAll || all
        // The loop's timers run on the kernel's clock: wake after the pause's length.
        loop.schedule(after: millis) { [weak self] in self?.resumeIfPauseEnded() }
    }

    /// Ends the pause now.
    func unpause() {
        pausedUntil = 0
        pauseAll = false
        resumeIfPauseEnded()
    }

    private func resumeIfPauseEnded() {
        guard pausedUntil <= clock.monotonicMillis() else { return }
        pauseAll = false
        for c in clients.values.sorted(by: { $0.id < $1.id }) where c.heldCommand != nil || c.conn.pendingInput > 0 {
            readFromClient(c)
        }
    }

    /// Flushes a client's replies and counts the bytes written.
    func finishReplies(_ c: SentinelClient, since before: Int) {
        let produced = c.conn.output.count - before
        guard produced > 0 else { return }
        stats.netOutputBytes += produced
        stats.writesProcessed += 1
        stats.recentMaxOutput = max(stats.recentMaxOutput, c.conn.pendingOutput)
        c.conn.flush()
    }

    /// Writes an error reply and counts it (INFO total_error_replies).
    func replyError(_ c: SentinelClient, _ message: String) {
        stats.errorReplies += 1
        c.conn.output.error(message)
    }

    // MARK: - Pub/Sub

    /// Delivers a message to subscribers of `channel` and of matching patterns; each receiver's
    /// output is sent at once (most events are published from the timer, outside any read).
    @discardableResult
    func publish(channel: String, message: String) -> Int {
        pubsub.publish(channel: Bytes(channel.utf8), message: Bytes(message.utf8), matches: { GlobMatch.matches($0, $1) }) { c in
            stats.netOutputBytes += c.lastPushBytes
            stats.writesProcessed += 1
            stats.recentMaxOutput = max(stats.recentMaxOutput, c.conn.pendingOutput)
            c.conn.flush()
        }
    }

    /// SUBSCRIBE / PSUBSCRIBE / UNSUBSCRIBE / PUNSUBSCRIBE.
    func subscription(_ c: SentinelClient, _ cmd: String, _ names: [String]) {
        let pattern = cmd.hasPrefix("p")
        let bytes = names.map { Bytes($0.utf8) }
        if cmd.contains("unsub") {
            pubsub.unsubscribe(c, bytes, pattern: pattern)
        } else {
            pubsub.subscribe(c, bytes, pattern: pattern)
        }
    }
}

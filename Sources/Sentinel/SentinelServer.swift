// The sentinel's own server side: accepting clients, parsing requests, the statistics INFO
// reports, and the pub/sub through which events are published (channel = event type). Commands
// are dispatched through the table in SentinelCommandTable.swift.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// A client connected to the sentinel.
final class SentinelClient {
    let id: Int
    let conn: Connection
    var parser = RequestParser()
    var authenticated: Bool
    /// The user this client authenticated as (CLIENT LIST's `user=`).
    var user = "default"
    var name = ""
    /// CLIENT SETINFO values (CLIENT LIST's lib-name / lib-ver).
    var libName = ""
    var libVersion = ""
    var channels: Set<String> = []
    var patterns: Set<String> = []
    let createdAt: Int64
    /// When the client last sent a command (CLIENT LIST's idle).
    var lastInteraction: Int64
    /// The last command run, as `name` or `container|sub` (CLIENT LIST's cmd).
    var lastCommand = "NULL"
    var closeAfterReply = false
    /// CLIENT REPLY: whether replies are sent.
    var replyMode: ReplyMode = .on
    /// A command read while CLIENT PAUSE holds it, run when the pause ends.
    var heldCommand: [String]?
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

    var subscriptionCount: Int { channels.count + patterns.count }
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
    private var listeners: [SentinelListener] = []
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

    init(sentinel: Sentinel, loop: EventLoop) {
        self.sentinel = sentinel
        self.loop = loop
        sentinel.onEvent = { [unowned self] ev in self.publish(channel: ev.type, message: ev.message) }
    }

    /// Binds listening sockets (all interfaces by default, as redis-sentinel does).
    func start() throws {
        let port = sentinel.settings.port
        let binds = sentinel.settings.bind.isEmpty ? ["*", "-::*"] : sentinel.settings.bind
        var bound = 0
        for raw in binds {
            let optional = raw.hasPrefix("-")
            let host = optional ? String(raw.dropFirst()) : raw
            do {
                let fd = try Socket.listen(host: host, port: port)
                let l = SentinelListener(fd: fd, server: self)
                try loop.register(fd: fd, handler: l)
                listeners.append(l)
                bound += 1
            } catch let e as IOError {
                if optional { continue }
                sentinel.log.warning("Warning: Could not create server TCP listening socket \(host):\(port): \(Posix.strerror(e.errnoCode))")
                throw e
            }
        }
        if bound == 0 { throw IOError(errnoCode: EADDRNOTAVAIL, call: "bind") }
    }

    /// Wraps an accepted socket in a client.
    func accept(fd: Int32) {
        let conn: Connection
        do { conn = try Connection(fd: fd, loop: loop) } catch { Posix.close(fd); return }
        Socket.setNoDelay(fd)
        let now = Clock.monotonicMillis()
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
        conn.onClose = { [unowned self] _, _ in self.clients[c.id] = nil }
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
        while !c.conn.isClosed && c.conn.pendingInput > 0 && !c.closeAfterReply {
            let result: (consumed: Int, command: [Bytes]?)
            do { result = try c.conn.withInput { try c.parser.parse($0) } } catch {
                replyError(c, "ERR Protocol error: \((error as? RESPError)?.message ?? "invalid request")")
                c.closeAfterReply = true
                break
            }
            c.conn.consume(result.consumed)
            stats.netInputBytes += result.consumed
            guard let args = result.command else {
                if result.consumed == 0 { break }
                continue
            }
            if args.isEmpty { continue }
            let argv = args.map { String(decoding: $0, as: UTF8.self) }
            if isPaused(argv) {
                // Held until CLIENT PAUSE ends: put the command back and stop reading this client.
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

    /// True while CLIENT PAUSE holds this command.
    func isPaused(_ argv: [String]) -> Bool {
        pausedUntil > Clock.monotonicMillis() && (pauseAll || argv.first?.lowercased() == "publish")
    }

    /// CLIENT PAUSE for `millis`; the held clients resume when it ends (or at CLIENT UNPAUSE).
    func pause(millis: Int64, all: Bool) {
        pausedUntil = max(pausedUntil, Clock.monotonicMillis() + millis)
        pauseAll = pauseAll || all
        loop.schedule(at: pausedUntil) { [weak self] in self?.resumeIfPauseEnded() }
    }

    /// Ends the pause now.
    func unpause() {
        pausedUntil = 0
        pauseAll = false
        resumeIfPauseEnded()
    }

    private func resumeIfPauseEnded() {
        guard pausedUntil <= Clock.monotonicMillis() else { return }
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

    /// Delivers a message to subscribers of `channel` and of matching patterns.
    @discardableResult
    func publish(channel: String, message: String) -> Int {
        var n = 0
        for c in clients.values {
            let before = c.conn.output.count
            if c.channels.contains(channel) {
                if c.proto >= 3 { c.conn.output.pushHeader(3) } else { c.conn.output.arrayHeader(3) }
                c.conn.output.bulk("message")
                c.conn.output.bulk(channel)
                c.conn.output.bulk(message)
                n += 1
            }
            for p in c.patterns where Glob.match(p, channel) {
                if c.proto >= 3 { c.conn.output.pushHeader(4) } else { c.conn.output.arrayHeader(4) }
                c.conn.output.bulk("pmessage")
                c.conn.output.bulk(p)
                c.conn.output.bulk(channel)
                c.conn.output.bulk(message)
                n += 1
            }
            finishReplies(c, since: before)
        }
        return n
    }

    /// SUBSCRIBE / PSUBSCRIBE / UNSUBSCRIBE / PUNSUBSCRIBE.
    func subscription(_ c: SentinelClient, _ cmd: String, _ names: [String]) {
        let pattern = cmd.hasPrefix("p")
        let subscribe = !cmd.contains("unsub")
        var targets = names
        if !subscribe && targets.isEmpty {
            targets = (pattern ? Array(c.patterns) : Array(c.channels)).sorted()
            if targets.isEmpty {
                header(c, 3)
                c.conn.output.bulk(cmd)
                c.conn.output.null()
                c.conn.output.integer(c.subscriptionCount)
                return
            }
        }
        for t in targets {
            if subscribe {
                if pattern { c.patterns.insert(t) } else { c.channels.insert(t) }
            } else {
                if pattern { c.patterns.remove(t) } else { c.channels.remove(t) }
            }
            header(c, 3)
            c.conn.output.bulk(cmd)
            c.conn.output.bulk(t)
            c.conn.output.integer(c.subscriptionCount)
        }
    }

    private func header(_ c: SentinelClient, _ n: Int) {
        if c.proto >= 3 { c.conn.output.pushHeader(n) } else { c.conn.output.arrayHeader(n) }
    }
}

/// A listening socket of the sentinel.
final class SentinelListener: EventHandler {
    let fd: Int32
    unowned let server: SentinelServer
    init(fd: Int32, server: SentinelServer) { self.fd = fd; self.server = server }
    func handleReadable() {
        for _ in 0..<100 {
            do {
                switch try Socket.accept(fd) {
                case .done(let cfd): server.accept(fd: cfd)
                case .wouldBlock: return
                }
            } catch { return }
        }
    }
    func handleWritable() {}
}

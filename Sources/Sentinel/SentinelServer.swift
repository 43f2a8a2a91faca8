// The sentinel's own server side: accepting clients, parsing requests, authentication, and the
// pub/sub through which events are published (channel = event type).
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
    var channels: Set<String> = []
    var patterns: Set<String> = []
    let createdAt: Int64
    var closeAfterReply = false

    init(id: Int, conn: Connection, authenticated: Bool, now: Int64) {
        self.id = id
        self.conn = conn
        self.authenticated = authenticated
        self.createdAt = now
    }

    /// The protocol version (2, or 3 after HELLO 3).
    var proto: Int {
        get { conn.output.proto }
        set { conn.output.proto = newValue }
    }

    var subscriptionCount: Int { channels.count + patterns.count }
}

/// Accepts clients and dispatches their commands to the sentinel.
final class SentinelServer {
    let sentinel: Sentinel
    let loop: EventLoop
    var clients: [Int: SentinelClient] = [:]
    private var nextClientID = 1
    private var listeners: [SentinelListener] = []
    var shutdownRequested = false

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
        if sentinel.settings.protectedMode && !sentinel.settings.authRequired {
            let ip = Socket.peerAddress(fd)?.ip ?? ""
            if !Socket.isLoopback(ip) {
                conn.send(Bytes(ProtectedMode.deniedReply.utf8))
                conn.flush()
                conn.close()
                return
            }
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
        while !c.conn.isClosed && c.conn.pendingInput > 0 {
            let result: (consumed: Int, command: [Bytes]?)
            do { result = try c.conn.withInput { try c.parser.parse($0) } } catch {
                c.conn.output.error("ERR Protocol error: \((error as? RESPError)?.message ?? "invalid request")")
                c.closeAfterReply = true
                break
            }
            c.conn.consume(result.consumed)
            guard let args = result.command else {
                if result.consumed == 0 { break }
                continue
            }
            if args.isEmpty { continue }
            execute(c, args.map { String(decoding: $0, as: UTF8.self) })
            if c.closeAfterReply { break }
        }
        sentinel.flushConfigIfDirty()
        c.conn.flush()
        if c.closeAfterReply && !c.conn.isClosed { c.conn.close() }
        if shutdownRequested { loop.stop() }
    }

    // MARK: - Pub/Sub

    /// Delivers a message to subscribers of `channel` and of matching patterns.
    @discardableResult
    func publish(channel: String, message: String) -> Int {
        var n = 0
        for c in clients.values {
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
            if n > 0 { c.conn.flush() }
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

/// Redis's glob matching (stringmatchlen) for PSUBSCRIBE patterns.
enum Glob {
    /// True when `string` matches `pattern` (`*`, `?`, `[...]`, `\` escapes).
    static func match(_ pattern: String, _ string: String) -> Bool {
        matchBytes(Array(pattern.utf8)[...], Array(string.utf8)[...], depth: 0)
    }

    private static func matchBytes(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>, depth: Int) -> Bool {
        if depth > 64 { return false }
        var p = p, s = s
        while let pc = p.first {
            switch pc {
            case UInt8(ascii: "*"):
                while p.first == UInt8(ascii: "*") { p = p.dropFirst() }
                if p.isEmpty { return true }
                var rest = s
                while true {
                    if matchBytes(p, rest, depth: depth + 1) { return true }
                    if rest.isEmpty { return false }
                    rest = rest.dropFirst()
                }
            case UInt8(ascii: "?"):
                guard !s.isEmpty else { return false }
                s = s.dropFirst(); p = p.dropFirst()
            case UInt8(ascii: "["):
                guard let sc = s.first else { return false }
                p = p.dropFirst()
                var negate = false
                if p.first == UInt8(ascii: "^") { negate = true; p = p.dropFirst() }
                var matched = false
                while let c = p.first, c != UInt8(ascii: "]") {
                    if c == UInt8(ascii: "\\"), p.count >= 2 {
                        p = p.dropFirst()
                        if p.first == sc { matched = true }
                        p = p.dropFirst()
                    } else if p.count >= 3, p[p.startIndex + 1] == UInt8(ascii: "-") {
                        var lo = c, hi = p[p.startIndex + 2]
                        if lo > hi { swap(&lo, &hi) }
                        if sc >= lo && sc <= hi { matched = true }
                        p = p.dropFirst(3)
                    } else {
                        if c == sc { matched = true }
                        p = p.dropFirst()
                    }
                }
                p = p.dropFirst()
                if negate { matched.toggle() }
                guard matched else { return false }
                s = s.dropFirst()
            case UInt8(ascii: "\\") where p.count >= 2:
                p = p.dropFirst()
                guard let sc = s.first, sc == p.first else { return false }
                s = s.dropFirst(); p = p.dropFirst()
            default:
                guard let sc = s.first, sc == pc else { return false }
                s = s.dropFirst(); p = p.dropFirst()
            }
        }
        return s.isEmpty
    }
}

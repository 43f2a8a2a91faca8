// The health and metrics listener of both binaries: HTTP/1.1 on the shared event loop, off unless
// `http-port` is set. It serves small documents computed on the loop (a handler turns a request
// into a response synchronously), so a request costs what an INFO costs. What a peer controls is
// bounded: the request head by HTTPLimits, the time to send one by `requestTimeout` (a slowloris
// peer gets 408 and is closed), the number of connections by `maxConnections`, and unread output
// by stopping reading until it drains. Redis clients are served by their own listener and never
// wait on this one beyond the handler's work.
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP listener with its connections.
public final class HTTPServer {
    /// Turns a request into a response (runs on the loop).
    public typealias Handler = (HTTPRequest) -> HTTPResponse

    /// Counters for INFO / metrics.
    public struct Stats: Sendable {
        public var connections = 0
        public var requests = 0
        /// Requests refused by the parser (400/413/414/431/501/505).
        public var badRequests = 0
        /// Connections closed because a request took longer than `requestTimeout`.
        public var timeouts = 0
        /// Connections refused because `maxConnections` were open.
        public var rejected = 0
    }

    private let loop: EventLoop
    private let handler: Handler
    private var listeners: ListenerGroup
    private var sessions: [ObjectIdentifier: HTTPSession] = [:]
    /// Bounds on a request head.
    public var limits: HTTPLimits
    /// Milliseconds a client has to send a complete request head, from its connection or from the
    /// previous response (keep-alive idle time counts too).
    public var requestTimeout: Int64
    /// Open connections beyond this get 503 and are closed.
    public var maxConnections: Int
    /// Requests served on one connection before it is closed (keep-alive is optional).
    public var maxRequestsPerConnection = 100
    public private(set) var stats = Stats()
    /// The bound port (useful with port 0 in tests).
    public private(set) var port = 0

    public init(loop: EventLoop, requestTimeout: Int64 = 5000, maxConnections: Int = 64, limits: HTTPLimits = HTTPLimits(),
                handler: @escaping Handler) {
        self.loop = loop
        self.handler = handler
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
        self.limits = limits
        self.listeners = ListenerGroup(loop: loop)
    }

    /// Binds `addresses` on `port` (a `-` prefix marks an address that may be missing, as `bind`).
    public func start(bind addresses: [String], port: Int, warn: (String) -> Void) throws {
        listeners.onAccept = { [unowned self] fd in self.accept(fd) }
        try listeners.bind(addresses, port: port, warn: warn)
        self.port = port
    }

    /// Closes the listening sockets and every open connection.
    public func stop() {
        listeners.close()
        for s in Array(sessions.values) { s.conn.close() }
        sessions = [:]
    }

    /// Open connections.
    public var connectionCount: Int { sessions.count }

    // MARK: - Connections

    private func accept(_ fd: Int32) {
        let conn: Connection
        do { conn = try Connection(fd: fd, loop: loop) } catch { Posix.close(fd); return }
        Socket.setNoDelay(fd)
        stats.connections += 1
        // Past twice the limit (a flood), not even a response: the socket is closed at once.
        if sessions.count >= 2 * maxConnections {
            stats.rejected += 1
            conn.close()
            return
        }
        let s = HTTPSession(conn: conn)
        sessions[ObjectIdentifier(s)] = s
        conn.onInput = { [unowned self] _ in self.serve(s) }
        conn.onDrained = { [unowned self] _ in self.drained(s) }
        conn.onClose = { [unowned self] _, _ in
            if let t = s.timer { self.loop.cancel(t) }
            self.sessions[ObjectIdentifier(s)] = nil
        }
        if sessions.count > maxConnections {
            stats.rejected += 1
            finish(s, HTTPResponse.text(503, "too many connections"), version: .http11, head: false)
            return
        }
        armTimeout(s)
    }

    /// (Re)starts the clock for the next request head.
    private func armTimeout(_ s: HTTPSession) {
        if let t = s.timer { loop.cancel(t) }
        s.generation += 1
        let generation = s.generation
        s.timer = loop.schedule(after: requestTimeout) { [weak self, weak s] in
            guard let self, let s, !s.conn.isClosed, s.generation == generation else { return }
            s.timer = nil
            self.stats.timeouts += 1
            self.finish(s, HTTPResponse.text(408, "request timeout"), version: .http11, head: false)
        }
    }

    /// Parses and answers every complete request in the buffer, one at a time: a pipelined next
    /// request waits until the previous response left (reading stops meanwhile).
    private func serve(_ s: HTTPSession) {
        if s.closing {
            // Lingering: what the peer still sends is read and dropped (see `linger`).
            s.conn.consume(s.conn.pendingInput)
            return
        }
        // flush() reports a drained output synchronously: do not re-enter from `drained`.
        s.serving = true
        defer { s.serving = false }
        while !s.closing && !s.conn.isClosed && s.conn.pendingInput > 0 && s.conn.pendingOutput == 0 {
            let limits = self.limits
            let result = s.conn.withInput { HTTPRequestParser.parse($0, limits: limits) }
            switch result {
            case .needMore:
                return
            case .failure(let status, let reason):
                stats.badRequests += 1
                finish(s, HTTPResponse.text(status, reason), version: .http11, head: false)
                return
            case .request(let req, let consumed):
                s.conn.consume(consumed)
                stats.requests += 1
                s.served += 1
                let response: HTTPResponse
                if req.method == "GET" || req.method == "HEAD" {
                    response = handler(req)
                } else {
                    response = HTTPResponse(status: 405, body: Bytes("method not allowed\n".utf8), headers: [("Allow", "GET, HEAD")])
                }
                let keep = req.keepAlive && s.served < maxRequestsPerConnection
                if !keep {
                    finish(s, response, version: req.version, head: req.method == "HEAD")
                    return
                }
                s.conn.send(response.serialized(version: req.version, keepAlive: true, includeBody: req.method != "HEAD"))
                armTimeout(s)
                if !s.conn.flush() { return }
                if s.conn.pendingOutput > 0 { s.conn.setReading(false) }
            }
        }
    }

    /// Output drained: resume reading, answer what was pipelined meanwhile, or close.
    private func drained(_ s: HTTPSession) {
        if s.closing { linger(s); return }
        s.conn.setReading(true)
        if !s.serving && s.conn.pendingInput > 0 { serve(s) }
    }

    /// Sends a last response, then closes the way HTTP servers must (RFC 9112 9.6): once it is
    /// out, our side is shut down and what the peer still sends is drained for a moment, since a
    /// close with unread input would reset the connection and could destroy the response before
    /// the peer read it (a refused request usually arrives with more bytes behind it).
    private func finish(_ s: HTTPSession, _ r: HTTPResponse, version: HTTPVersion, head: Bool) {
        s.closing = true
        if let t = s.timer { loop.cancel(t); s.timer = nil }
        s.conn.consume(s.conn.pendingInput)
        s.conn.send(r.serialized(version: version, keepAlive: false, includeBody: !head))
        // flush() calls onDrained (which lingers) when everything went out at once.
        guard s.conn.flush(), s.conn.pendingOutput > 0 else { return }
        s.conn.setReading(false)
        // A peer that never reads: give it the timeout to take the response, then close.
        s.timer = loop.schedule(after: requestTimeout) { [weak s] in s?.conn.close() }
    }

    /// The response is out: shut our side down and drop input until the peer closes or a second
    /// passed.
    private func linger(_ s: HTTPSession) {
        guard !s.lingering else { return }
        s.lingering = true
        if let t = s.timer { loop.cancel(t); s.timer = nil }
        _ = Glibc.shutdown(s.conn.fd, Int32(SHUT_WR))
        s.conn.setReading(true)
        s.timer = loop.schedule(after: min(requestTimeout, 1000)) { [weak s] in s?.conn.close() }
    }
}

/// One HTTP connection.
private final class HTTPSession {
    let conn: Connection
    var timer: TimerID?
    /// Distinguishes the current timeout from cancelled ones.
    var generation = 0
    var served = 0
    /// A final response is queued: close when it is out.
    var closing = false
    /// The final response is out and our side shut down: input is dropped until the peer closes.
    var lingering = false
    /// `serve` is running (on the stack).
    var serving = false
    init(conn: Connection) { self.conn = conn }
}

// The connections a sentinel keeps to one instance: a command link (PING, INFO, PUBLISH, SLAVEOF...)
// and, for data nodes, a pub/sub link subscribed to the hello channel. Replies come back in order,
// so each sent command queues its reply handler.
import Shared

/// A reply handler for one command sent on the command link.
typealias ReplyHandler = (RESPValue) -> Void

/// Command and pub/sub connections to one instance, with the timings failure detection reads.
final class InstanceLink {
    var cmd: Connection?
    var pubsub: Connection?
    /// Handlers for replies still due on `cmd`, oldest first.
    private var pending: [ReplyHandler] = []
    private var pendingHead = 0
    /// True until both needed connections are up.
    var disconnected = true
    var disconnectedSince: Int64
    var cmdConnTime: Int64 = 0
    var pubsubConnTime: Int64 = 0
    var pubsubLastActivity: Int64 = 0
    /// Last reply to anything, last valid PING reply, last PING sent.
    var lastAvailTime: Int64
    var lastPingTime: Int64 = 0
    var lastPongTime: Int64
    /// When the oldest unanswered PING was sent; 0 when none is outstanding.
    var actPingTime: Int64
    var lastReconnTime: Int64 = 0
    /// How long the last answered PING waited (ms; the oldest outstanding one): link latency.
    var lastPingRTT: Int64 = -1
    var lastPubTime: Int64 = 0
    /// An INFO is outstanding: do not queue another behind a slow reply.
    var infoInFlight = false
    /// The instance's hostname is being looked up for a reconnect.
    var resolving = false
    /// An is-master-down-by-addr question is outstanding.
    var askInFlight = false
    /// Replies still due on the pub/sub link for its AUTH / CLIENT SETNAME (before SUBSCRIBE's).
    var pubsubHandshakeReplies = 0
    /// Test hook: when set, commands are recorded here instead of sent and the link counts as up.
    var simulatedSent: [[String]]? = nil
    /// With `simulatedSent`: the recorded commands still unanswered, with their reply handlers,
    /// oldest first (`answerSimulated` plays the instance).
    private(set) var simulatedUnanswered: [(command: [String], handler: ReplyHandler)] = []

    init(now: Int64) {
        disconnectedSince = now
        lastAvailTime = now
        lastPongTime = now
        actPingTime = now
    }

    /// Commands sent but not answered yet.
    var pendingCommands: Int { pending.count - pendingHead }

    /// True when commands can be sent.
    var isUp: Bool { simulatedSent != nil || (!disconnected && cmd != nil) }

    /// Sends a command on the command link; false when the link is down.
    @discardableResult
    func send(_ args: [String], _ handler: @escaping ReplyHandler = { _ in }) -> Bool {
        if simulatedSent != nil {
            simulatedSent?.append(args)
            simulatedUnanswered.append((args, handler))
            return true
        }
        guard let c = cmd, !c.isClosed, !disconnected else { return false }
        c.send(RESPWriter.command(args))
        pending.append(handler)
        c.flush()
        return true
    }

    /// Sends several commands at once (a MULTI block); reply handlers are ignored.
    @discardableResult
    func sendBatch(_ commands: [[String]]) -> Bool {
        if simulatedSent != nil {
            simulatedSent?.append(contentsOf: commands)
            simulatedUnanswered += commands.map { ($0, { _ in }) }
            return true
        }
        guard let c = cmd, !c.isClosed, !disconnected else { return false }
        for a in commands {
            c.send(RESPWriter.command(a))
            pending.append { _ in }
        }
        c.flush()
        return true
    }

    /// Parses complete replies from the command link and runs their handlers.
    func drainReplies(_ c: Connection) throws {
        while c.pendingInput > 0 {
            guard let (value, next) = try c.withInput({ try RESPParser.parse($0) }) else { return }
            c.consume(next)
            // Push messages (RESP3) are not replies; we never enable RESP3 on links, but be safe.
            if case .push = value { continue }
            guard pendingHead < pending.count else { continue }
            let h = pending[pendingHead]
            pendingHead += 1
            if pendingHead == pending.count { pending.removeAll(keepingCapacity: true); pendingHead = 0 }
            h(value)
        }
    }

    /// Test hook: answers the simulated link's unanswered commands in order with what `reply`
    /// returns, as the instance would; stops at the first it returns nil for (no answer yet).
    func answerSimulated(_ reply: ([String]) -> RESPValue?) {
        while let first = simulatedUnanswered.first, let value = reply(first.command) {
            simulatedUnanswered.removeFirst()
            first.handler(value)
        }
    }

    /// Closes both connections and forgets pending replies.
    func close(now: Int64) {
        let c = cmd, p = pubsub
        cmd = nil
        pubsub = nil
        c?.onClose = nil
        p?.onClose = nil
        c?.close()
        p?.close()
        pending.removeAll()
        pendingHead = 0
        simulatedUnanswered.removeAll()
        infoInFlight = false
        askInFlight = false
        if !disconnected { disconnectedSince = now }
        disconnected = true
    }

    /// Closes the connections and starts timing afresh (the master moved to a new address).
    func reset(now: Int64) {
        close(now: now)
        disconnectedSince = now
        lastAvailTime = now
        lastPongTime = now
        actPingTime = now
        lastPingTime = 0
        lastReconnTime = 0
        lastPubTime = 0
    }

    /// Closes only the pub/sub connection (it looked stale).
    func closePubsub(now: Int64) {
        guard let p = pubsub else { return }
        pubsub = nil
        p.onClose = nil
        p.close()
        if !disconnected { disconnectedSince = now }
        disconnected = true
        // The command link still works: reopen the pub/sub side on the next tick, not a second
        // later, unless the pub/sub link keeps dying young (then the normal period applies).
        if cmd != nil && now - pubsubConnTime > 1000 { lastReconnTime = 0 }
    }
}

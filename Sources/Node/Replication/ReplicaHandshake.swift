// The replica's side of the link as a pure state machine: events in (connected, a reply line, a
// timer tick with the current time, link lost), actions out (connect, send commands, start a full
// or partial resync, drop the link). No sockets here, so every transition is unit-tested.

/// Where the link to our master stands (Redis's repl_state).
enum ReplicaLinkState: Equatable {
    /// Must connect (when the retry time comes).
    case connect
    /// Non-blocking connect in flight.
    case connecting
    case receivePong
    case receiveAuth
    case receivePort
    case receiveIP
    case receiveCapa
    case receivePsync
    /// Receiving the RDB payload.
    case transfer
    /// Streaming commands from the master.
    case connected

    /// The state word of the ROLE reply.
    var roleName: String {
        switch self {
        case .connect: return "connect"
        case .connecting: return "connecting"
        case .receivePong, .receiveAuth, .receivePort, .receiveIP, .receiveCapa, .receivePsync: return "handshake"
        case .transfer: return "sync"
        case .connected: return "connected"
        }
    }
}

/// Inputs of the handshake machine; every event carries the time it happened (monotonic ms).
enum HandshakeEvent: Equatable {
    /// Periodic check: may start a connect or time the link out. `lastIO` is the last time
    /// anything arrived from the master.
    case tick(now: Int64, lastIO: Int64)
    case connected(now: Int64)
    /// One status or error line from the master, without the line ending.
    case reply(String, now: Int64)
    /// The RDB payload was loaded.
    case payloadLoaded(now: Int64)
    /// Connect failed, the socket closed, or the payload could not be loaded.
    case linkLost(now: Int64)
}

/// What the driver must do after an event.
enum HandshakeAction: Equatable {
    case none
    case connect
    /// Send these commands, pipelined.
    case send([[String]])
    /// The master starts a full resync with this history and offset; the RDB follows.
    case fullResync(replID: String, offset: Int64)
    /// The master continues our history (maybe under a new ID); the backlog follows.
    case partialResync(newReplID: String?)
    /// Close the connection; we retry later.
    case drop(reason: String)
    /// A non-fatal remark for the log.
    case note(String)
}

/// The replica handshake: connect → PING → AUTH → REPLCONF listening-port [ip-address] →
/// REPLCONF capa eof capa psync2 → PSYNC → transfer → connected.
struct ReplicaHandshake {
    private(set) var state: ReplicaLinkState = .connect
    /// masteruser/masterauth; nil when no password is configured.
    var auth: (user: String?, password: String)? = nil
    var listeningPort: Int
    var announceIP: String? = nil
    /// The history we ask to continue; "?" and -1 ask for a full resync.
    var psyncID = "?"
    var psyncOffset: Int64 = -1
    /// Our FAILOVER hands over to this master: PSYNC carries FAILOVER so it promotes itself.
    var psyncFailover = false
    /// repl-timeout in ms.
    var timeoutMillis: Int64 = 60_000
    /// Earliest time of the next connect attempt.
    private(set) var retryAt: Int64 = 0
    /// Failed attempts in a row (for the backoff).
    private(set) var failures = 0
    /// When the current connect or handshake step started (handshake timeouts).
    private(set) var stepStarted: Int64 = 0

    init(listeningPort: Int) {
        self.listeningPort = listeningPort
    }

    /// Delay before reconnecting after `failures` failures in a row: immediate after a working
    /// link dropped, then 1 s doubling up to 5 s so a dead master is not hammered.
    static func backoff(failures: Int) -> Int64 {
        failures <= 0 ? 0 : min(5000, Int64(1000) << Int64(min(failures - 1, 8)))
    }

    /// Applies one event and says what to do.
    mutating func handle(_ event: HandshakeEvent) -> HandshakeAction {
        switch (state, event) {
        case (.connect, .tick(let now, _)):
            guard now >= retryAt else { return .none }
            state = .connecting
            stepStarted = now
            return .connect

        case (.connecting, .connected(let now)):
            state = .receivePong
            stepStarted = now
            return .send([["PING"]])

        case (.receivePong, .reply(let line, let now)):
            // NOAUTH/NOPERM only mean we must authenticate first, which comes next.
            if line.hasPrefix("-") && !line.hasPrefix("-NOAUTH") && !line.hasPrefix("-NOPERM")
                && !line.hasPrefix("-ERR operation not permitted") {
                return fail("Error reply to PING from master: '\(line)'", now: now)
            }
            stepStarted = now
            var commands: [[String]] = []
            if let auth {
                commands.append(auth.user.map { ["AUTH", $0, auth.password] } ?? ["AUTH", auth.password])
                state = .receiveAuth
            } else {
                state = .receivePort
            }
            commands.append(["REPLCONF", "listening-port", String(listeningPort)])
            if let ip = announceIP { commands.append(["REPLCONF", "ip-address", ip]) }
            commands.append(["REPLCONF", "capa", "eof", "capa", "psync2"])
            return .send(commands)

        case (.receiveAuth, .reply(let line, let now)):
            if line.hasPrefix("-") { return fail("Unable to AUTH to MASTER: \(line)", now: now) }
            state = .receivePort
            return .none

        case (.receivePort, .reply(let line, _)):
            state = announceIP == nil ? .receiveCapa : .receiveIP
            return line.hasPrefix("-") ? .note("(Non critical) Master does not understand REPLCONF listening-port: \(line)") : .none

        case (.receiveIP, .reply(let line, _)):
            state = .receiveCapa
            return line.hasPrefix("-") ? .note("(Non critical) Master does not understand REPLCONF ip-address: \(line)") : .none

        case (.receiveCapa, .reply(_, let now)):
            // A master that does not know our capabilities can still serve PSYNC.
            state = .receivePsync
            stepStarted = now
            return .send([["PSYNC", psyncID, String(psyncOffset)] + (psyncFailover ? ["FAILOVER"] : [])])

        case (.receivePsync, .reply(let line, let now)):
            return psyncReply(line, now: now)

        case (.transfer, .payloadLoaded(let now)):
            state = .connected
            failures = 0
            stepStarted = now
            return .none

        case (.connect, .linkLost):
            return .none

        case (_, .linkLost(let now)):
            // A link that reached `connected` worked: retry at once. Otherwise back off.
            if state == .connected { failures = 0 } else { failures += 1 }
            state = .connect
            retryAt = now + Self.backoff(failures: failures)
            return .none

        case (_, .tick(let now, let lastIO)):
            let since = max(stepStarted, lastIO)
            if state != .connect && now - since > timeoutMillis {
                switch state {
                case .connecting, .receivePong, .receiveAuth, .receivePort, .receiveIP, .receiveCapa, .receivePsync:
                    return fail("Timeout connecting to the MASTER...", now: now)
                case .transfer:
                    return fail("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.", now: now)
                default:
                    return fail("MASTER timeout: no data nor PING received...", now: now)
                }
            }
            return .none

        case (.connected, .reply):
            // Replies on a streaming link are not ours to interpret.
            return .none

        default:
            return fail("Unexpected event \(event) in replication state \(state)", now: eventTime(event))
        }
    }

    private mutating func psyncReply(_ line: String, now: Int64) -> HandshakeAction {
        // Masters may send newlines to keep the link alive while preparing the reply.
        if line.isEmpty { stepStarted = now; return .none }
        if line.hasPrefix("+FULLRESYNC") {
            let parts = line.split(separator: " ")
            guard parts.count >= 3, parts[1].utf8.count == 40, let off = Int64(parts[2]) else {
                return fail("Master replied with wrong +FULLRESYNC syntax.", now: now)
            }
            state = .transfer
            stepStarted = now
            return .fullResync(replID: String(parts[1]), offset: off)
        }
        if line.hasPrefix("+CONTINUE") {
            let parts = line.split(separator: " ")
            var newID: String? = nil
            if parts.count >= 2 {
                guard parts[1].utf8.count == 40 else { return fail("Master replied with wrong +CONTINUE syntax.", now: now) }
                newID = String(parts[1])
            }
            state = .connected
            failures = 0
            stepStarted = now
            return .partialResync(newReplID: newID)
        }
        if line.hasPrefix("-NOMASTERLINK") || line.hasPrefix("-LOADING") {
            return fail("Master is currently unable to PSYNC but should be in the future: \(line)", now: now)
        }
        return fail("Unexpected reply to PSYNC from master: \(line)", now: now)
    }

    private mutating func fail(_ reason: String, now: Int64) -> HandshakeAction {
        failures += 1
        state = .connect
        retryAt = now + Self.backoff(failures: failures)
        return .drop(reason: reason)
    }

    private func eventTime(_ e: HandshakeEvent) -> Int64 {
        switch e {
        case .tick(let now, _), .connected(let now), .reply(_, let now), .payloadLoaded(let now), .linkLost(let now): return now
        }
    }
}

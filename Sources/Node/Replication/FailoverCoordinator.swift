// The FAILOVER command's decisions as a pure state machine (Redis 6.2/7.0's failover_state and
// updateFailoverStatus): writes are paused while we wait for a replica whose acknowledged offset
// equals ours; then we become its replica and ask it, with PSYNC FAILOVER, to take over. Time and
// the replicas' offsets are passed in, so every transition is unit-tested without a socket.

/// One replica as the coordinator sees it.
struct FailoverCandidate: Equatable {
    /// The address the replica is known by (`REPLCONF ip-address`, else its peer IP).
    var host: String
    /// Its `REPLCONF listening-port`.
    var port: Int
    /// Its last `REPLCONF ACK` offset.
    var ackOffset: Int64
    /// Whether it is an online replica (not still loading its first payload).
    var online: Bool
}

/// The FAILOVER command's state and the decisions of Redis's updateFailoverStatus.
struct FailoverCoordinator: Equatable {
    /// Redis's failover_state, as INFO's `master_failover_state` names it.
    enum State: Equatable {
        case noFailover
        /// Writes are paused; waiting for a replica to acknowledge our whole stream.
        case waitingForSync
        /// We are a replica of the target and ask it to take over with PSYNC FAILOVER.
        case inProgress

        /// The `master_failover_state` value.
        var infoName: String {
            switch self {
            case .noFailover: return "no-failover"
            case .waitingForSync: return "waiting-for-sync"
            case .inProgress: return "failover-in-progress"
            }
        }
    }

    /// What the server must do after a check.
    enum Step: Equatable {
        case none
        /// Become a replica of host:port and send it PSYNC ... FAILOVER; `forced` when the
        /// timeout expired with FORCE rather than the replica having caught up.
        case failOver(host: String, port: Int, forced: Bool)
        /// Give up, with Redis's log reason.
        case abort(reason: String)
    }

    private(set) var state: State = .noFailover
    /// The chosen replica; nil while any replica may be chosen.
    private(set) var targetHost: String? = nil
    private(set) var targetPort = 0
    private(set) var force = false
    /// The monotonic deadline of TIMEOUT (0: none).
    private(set) var endTime: Int64 = 0

    /// Whether a FAILOVER is under way (REPLICAOF and a second FAILOVER are refused).
    var isActive: Bool { state != .noFailover }

    /// Starts waiting for a replica (FAILOVER was accepted): `timeoutMillis` 0 waits forever.
    mutating func start(targetHost host: String?, port: Int, force: Bool, timeoutMillis: Int64, now: Int64) {
        targetHost = host
        targetPort = host == nil ? 0 : port
        self.force = force
        endTime = timeoutMillis > 0 ? now + timeoutMillis : 0
        state = .waitingForSync
    }

    /// Redis's updateFailoverStatus: the timeout first (FORCE fails over anyway, else abort),
    /// then the target (or, without one, the first online replica) that acknowledged
    /// `required`, the offset our stream had when writes were paused (only our own GETACK
    /// follows it, and Redis's replicas answer a GETACK with the offset before it).
    mutating func check(now: Int64, required: Int64, replicas: [FailoverCandidate]) -> Step {
        guard state == .waitingForSync else { return .none }
        if endTime != 0 && endTime <= now {
            if force, let host = targetHost {
                state = .inProgress
                return .failOver(host: host, port: targetPort, forced: true)
            }
            return .abort(reason: "Replica never caught up before timeout")
        }
        let synced: FailoverCandidate?
        if let host = targetHost {
            synced = replicas.first { $0.host.lowercased() == host.lowercased() && $0.port == targetPort && $0.ackOffset >= required }
        } else {
            synced = replicas.first { $0.online && $0.ackOffset >= required }
        }
        guard let r = synced else { return .none }
        targetHost = r.host
        targetPort = r.port
        state = .inProgress
        return .failOver(host: r.host, port: r.port, forced: false)
    }

    /// Back to no-failover (the handover was accepted, or the failover aborted).
    mutating func clear() {
        state = .noFailover
        targetHost = nil
        targetPort = 0
        force = false
        endTime = 0
    }

    /// The target as Redis's log lines print it.
    var targetDescription: String? { targetHost.map { "\($0):\(targetPort)" } }
}

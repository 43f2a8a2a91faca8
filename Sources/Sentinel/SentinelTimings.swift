// The sentinel's periods and limits. The ones Redis exposes (its sentinel_* globals) are values
// of one struct that `SENTINEL DEBUG <param> <value>` changes at run time, as the Redis test suite
// and operators do to speed a deployment up; the ones that are our own tuning stay constants.

/// Redis's tunable timing parameters, in milliseconds, with Redis's defaults except where noted.
struct SentinelTimings: Equatable, Sendable {
    var infoPeriod: Int64 = 10_000
    var pingPeriod: Int64 = 1000
    /// Redis: 1000. Once SDOWN we want agreement quickly.
    var askPeriod: Int64 = 250
    var publishPeriod: Int64 = 2000
    /// down-after-milliseconds of masters created without one.
    var defaultDownAfter: Int64 = 30_000
    /// failover-timeout of masters created without one.
    var defaultFailoverTimeout: Int64 = 180_000
    var tiltTrigger: Int64 = 2000
    var tiltPeriod: Int64 = 30_000
    var slaveReconfTimeout: Int64 = 10_000
    var minLinkReconnectPeriod: Int64 = 15_000
    var electionTimeout: Int64 = 10_000
    var scriptMaxRuntime: Int64 = 60_000
    var scriptRetryDelay: Int64 = 30_000

    /// The parameters in the order `SENTINEL DEBUG` lists them, named as it accepts them.
    static let names = ["INFO-PERIOD", "PING-PERIOD", "ASK-PERIOD", "PUBLISH-PERIOD", "DEFAULT-DOWN-AFTER",
                        "DEFAULT-FAILOVER-TIMEOUT", "TILT-TRIGGER", "TILT-PERIOD", "SLAVE-RECONF-TIMEOUT",
                        "MIN-LINK-RECONNECT-PERIOD", "ELECTION-TIMEOUT", "SCRIPT-MAX-RUNTIME", "SCRIPT-RETRY-DELAY"]

    /// A parameter by its `SENTINEL DEBUG` name (any case); nil for an unknown name.
    subscript(name name: String) -> Int64? {
        get {
            switch name.uppercased() {
            case "INFO-PERIOD": return infoPeriod
            case "PING-PERIOD": return pingPeriod
            case "ASK-PERIOD": return askPeriod
            case "PUBLISH-PERIOD": return publishPeriod
            case "DEFAULT-DOWN-AFTER": return defaultDownAfter
            case "DEFAULT-FAILOVER-TIMEOUT": return defaultFailoverTimeout
            case "TILT-TRIGGER": return tiltTrigger
            case "TILT-PERIOD": return tiltPeriod
            case "SLAVE-RECONF-TIMEOUT": return slaveReconfTimeout
            case "MIN-LINK-RECONNECT-PERIOD": return minLinkReconnectPeriod
            case "ELECTION-TIMEOUT": return electionTimeout
            case "SCRIPT-MAX-RUNTIME": return scriptMaxRuntime
            case "SCRIPT-RETRY-DELAY": return scriptRetryDelay
            default: return nil
            }
        }
        set {
            guard let v = newValue else { return }
            switch name.uppercased() {
            case "INFO-PERIOD": infoPeriod = v
            case "PING-PERIOD": pingPeriod = v
            case "ASK-PERIOD": askPeriod = v
            case "PUBLISH-PERIOD": publishPeriod = v
            case "DEFAULT-DOWN-AFTER": defaultDownAfter = v
            case "DEFAULT-FAILOVER-TIMEOUT": defaultFailoverTimeout = v
            case "TILT-TRIGGER": tiltTrigger = v
            case "TILT-PERIOD": tiltPeriod = v
            case "SLAVE-RECONF-TIMEOUT": slaveReconfTimeout = v
            case "MIN-LINK-RECONNECT-PERIOD": minLinkReconnectPeriod = v
            case "ELECTION-TIMEOUT": electionTimeout = v
            case "SCRIPT-MAX-RUNTIME": scriptMaxRuntime = v
            case "SCRIPT-RETRY-DELAY": scriptRetryDelay = v
            default: break
            }
        }
    }

    /// Applies `SENTINEL DEBUG <param> <value> ...` pairs, all or none: returns Redis's error text
    /// for the first bad pair, or nil after applying them all.
    mutating func apply(_ pairs: [String]) -> String? {
        var updated = self
        var i = 0
        while i < pairs.count {
            let name = pairs[i]
            guard updated[name: name] != nil, i + 1 < pairs.count else {
                return "ERR Unknown option or number of arguments for SENTINEL DEBUG '\(name)'"
            }
            guard let v = Int64(pairs[i + 1]), v > 0 else {
                return "ERR Invalid argument '\(pairs[i + 1])' for SENTINEL DEBUG '\(name)'"
            }
            updated[name: name] = v
            i += 2
        }
        self = updated
        return nil
    }
}

/// Our own tuning, not exposed by Redis: every one makes failure handling faster than Redis's.
enum SentinelTiming {
    /// While SDOWN but not yet ODOWN: peers are expected to agree within a ping period.
    static let askPeriodBeforeODown: Int64 = 50
    /// How long after SDOWN the fast ask period applies.
    static let fastAskWindow: Int64 = 2000
    /// Lower bound of the master PING period (down-after / 10): the last valid reply before a crash
    /// is then at most this old, which is what SDOWN counts from.
    static let minFastPingPeriod: Int64 = 50
    /// Reconnect period for data nodes (sentinels keep the ping period).
    static let nodeReconnectPeriod: Int64 = 250
    /// How long replica selection waits for the fresh INFO it asked for.
    static let selectRefreshTimeout: Int64 = 250
    /// "Recent" for hello messages that confirm our view of a master (two publish periods + slack).
    static let helloConfirmWindow: Int64 = 5000
    /// How long a peer's is-master-down answer counts (Redis: 5 ask periods).
    static let askValidity: Int64 = 5000
    static let maxPendingCommands = 100
    /// Random start delay bound, kept small (Redis uses 1 s).
    static let maxDesync: Int64 = 300
    /// How often a just-promoted replica is polled with INFO (Redis waits for the 1 s INFO).
    static let promotionPollPeriod: Int64 = 100
    /// INFO period of a replica until its first INFO arrived (Redis waits for the 10 s period).
    static let firstInfoPeriod: Int64 = 100
}

// Message delivery through the shared PubSubHub, and the client output buffer limits that
// apply to clients fed by others (subscribers, replicas).
import Shared

extension Server {
    // MARK: - Delivery

    /// Sends `message` to the subscribers of `channel` and of matching patterns; returns how
    /// many deliveries were made (PUBLISH's reply).
    @discardableResult
    func publish(channel: Bytes, message: Bytes) -> Int {
        pubsub.publish(channel: channel, message: message, matches: { GlobMatch.matches($0, $1) }) { c in
            markPendingWrite(c)
            checkOutputLimits(c)
        }
    }

    // MARK: - Output buffer limits

    /// Applies `client-output-buffer-limit` to `c`'s pending output: past the hard limit, or past
    /// the soft limit for longer than its seconds, the client is closed (as Redis's
    /// checkClientOutputBufferLimits). Call after queueing output for a client that is not
    /// the one being served (pub/sub messages, replica streams). Returns true if `c` is closing.
    @discardableResult
    func checkOutputLimits(_ c: Client, now nowOrNil: Int64? = nil) -> Bool {
        let now = nowOrNil ?? clock.monotonicMillis()
        if c.flags.contains(.master) || c.flags.contains(.closeASAP) { return c.flags.contains(.closeASAP) }
        let limit: OutputBufferLimit
        if c.flags.contains(.replica) && !c.flags.contains(.monitor) {
            limit = config.outputLimitReplica
        } else if c.flags.contains(.pubsub) {
            limit = config.outputLimitPubsub
        } else {
            limit = config.outputLimitNormal
        }
        let used = c.pendingOutput
        let hard = limit.hard > 0 && used >= limit.hard
        var soft = false
        if limit.soft > 0 && used >= limit.soft {
            if c.softLimitSince > 0 {
                soft = (now - c.softLimitSince) / 1000 > Int64(limit.softSeconds)
            } else {
                c.softLimitSince = now  // first time over: start the clock
            }
        } else {
            c.softLimitSince = 0
        }
        guard hard || soft else { return false }
        log.warning("Client id=\(c.id) addr=\(c.addr) scheduled to be closed ASAP for overcoming of output buffer limits.")
        closeASAP(c)
        return true
    }
}


// The sentinel's state and its timer: the masters it monitors (each owning its replicas and peer
// sentinels), the current epoch, TILT mode, and the event stream. Everything here takes `now`
// (monotonic ms) from the sentinel's `clock`, so tests drive it with a `ManualTime`.
import Shared

/// One event as published on our own pub/sub: channel = type, message = text.
struct SentinelEvent: Sendable, Equatable {
    var type: String
    var message: String
}

/// The sentinel: monitored masters, epochs, votes, failovers.
final class Sentinel {
    var settings = SentinelSettings()
    /// Periods and limits SENTINEL DEBUG can change.
    var timings = SentinelTimings() {
        didSet {
            scripts.maxRuntime = timings.scriptMaxRuntime
            scripts.retryDelay = timings.scriptRetryDelay
        }
    }
    var myID: String = ""
    var currentEpoch: UInt64 = 0
    var masters: [String: MonitoredInstance] = [:]
    let log: Logger
    /// Nil in unit tests: no connections are made.
    var loop: EventLoop? {
        didSet { resolver = loop.flatMap { try? Resolver(loop: $0) } }
    }
    /// Looks hostnames up off the loop (nil without a loop: unit tests resolve in place).
    var resolver: Resolver?
    var tilt = false
    var tiltStartTime: Int64 = 0
    var previousTime: Int64 = 0
    var configDirty = false
    /// SENTINEL SIMULATE-FAILURE flags.
    var simulateCrashAfterElection = false
    var simulateCrashAfterPromotion = false
    /// Where events go besides the log (the server publishes them to subscribers).
    var onEvent: ((SentinelEvent) -> Void)?
    /// Random numbers: injected so tests are deterministic.
    var random: () -> UInt64 = { UInt64.random(in: 0...UInt64.max) }
    /// The master switches seen since start (Sentinel+History.swift).
    var history = FailoverHistory()
    /// Script jobs queued or running (notification and client-reconfig scripts).
    var scripts = ScriptQueue()
    /// Changes the working directory for the `dir` directive (tests replace it: a test process
    /// must keep its own).
    var changeDirectory: (String) throws -> Void = { try Posix.chdir($0) }
    /// The working directory a rewrite records as `dir`.
    var currentDirectory: () -> String = { Posix.getcwd() }
    /// Time for every decision and every reply that shows an age: the kernel's clocks in the
    /// process, a `ManualTime` in tests. Work that starts from a timer or a command receives `now`
    /// read from it once; callbacks (replies from instances) read it when they run.
    let clock: Clock
    /// When the process started (INFO uptime).
    let startTime: Int64

    init(log: Logger, clock: Clock) {
        self.log = log
        self.clock = clock
        self.startTime = clock.monotonicMillis()
    }

    // MARK: - Instances

    /// Adds a replica of `master` unless known; returns it when created.
    @discardableResult
    func addReplica(to master: MonitoredInstance, address: InstanceAddress, now: Int64, announce: Bool) -> MonitoredInstance? {
        let key = address.key
        if master.replicas[key] != nil { return nil }
        let r = MonitoredInstance(flags: .slave, name: key, address: address, master: master, now: now)
        master.replicas[key] = r
        if announce {
            event(.notice, "+slave", r)
            configDirty = true
        }
        return r
    }

    /// Adds a peer sentinel of `master` (keyed by run id, or by address until the id is known).
    @discardableResult
    func addSentinel(to master: MonitoredInstance, address: InstanceAddress, runID: String?, now: Int64) -> MonitoredInstance {
        let key = runID ?? address.key
        if let s = master.sentinels[key] { return s }
        let s = MonitoredInstance(flags: .sentinel, name: key, address: address, master: master, now: now)
        s.runID = runID
        master.sentinels[key] = s
        return s
    }

    /// Closes links and forgets an instance's sub-instances.
    func release(_ ri: MonitoredInstance, now: Int64) {
        ri.link.close(now: now)
        for r in ri.replicas.values { r.link.close(now: now) }
        for s in ri.sentinels.values { s.link.close(now: now) }
    }

    /// Creates a master with the sentinel's default timings (not yet monitored).
    func makeMaster(name: String, address: InstanceAddress, quorum: Int, now: Int64) -> MonitoredInstance {
        let m = MonitoredInstance(flags: .master, name: name, address: address, master: nil, now: now)
        m.quorum = quorum
        m.downAfterMillis = timings.defaultDownAfter
        m.failoverTimeout = timings.defaultFailoverTimeout
        return m
    }

    /// Finds a monitored master by its address: `host` is compared as Redis does, by the IP it
    /// resolves to (or, when it does not resolve, by name).
    func master(at host: String, port: Int) -> MonitoredInstance? {
        masters.values.first { $0.address.port == port && addressMatches($0.address, host) }
    }

    /// Redis's sentinelAddrEqualsHostname: `host` names the same machine as `a`.
    /// It never waits for DNS: a name is compared by its last answer, or by name until it has one.
    /// The same name is the same machine even when its address changed since `a` was resolved.
    func addressMatches(_ a: InstanceAddress, _ host: String) -> Bool {
        let h = host.lowercased()
        if settings.resolveHostnames && a.host.lowercased() == h { return true }
        if !a.ip.isEmpty && a.ip.lowercased() == h { return true }
        if let ip = resolveNow(host), !a.ip.isEmpty { return ip.lowercased() == a.ip.lowercased() }
        return (settings.resolveHostnames ? a.host : a.ip).lowercased() == host.lowercased()
    }

    /// The address text we report: the hostname with announce-hostnames, else the IP (the name
    /// while it has not resolved: an empty address would make a rewritten config unloadable).
    func announced(_ a: InstanceAddress) -> String { settings.announceHostnames || a.ip.isEmpty ? a.host : a.ip }

    /// Redis's `%@` event prefix: `<kind> <name> <ip> <port>` plus `@ <master> <ip> <port>`.
    func describe(_ ri: MonitoredInstance) -> String {
        var s = "\(ri.kindName) \(ri.name) \(announced(ri.address)) \(ri.address.port)"
        if !ri.isMaster, let m = ri.master { s += " @ \(m.name) \(announced(m.address)) \(m.address.port)" }
        return s
    }

    // MARK: - Events

    /// Logs and publishes an event whose text starts with the instance's description.
    func event(_ level: LogLevel, _ type: String, _ ri: MonitoredInstance, _ extra: String = "") {
        event(level, type, message: extra.isEmpty ? describe(ri) : describe(ri) + " " + extra, master: ri.isMaster ? ri : ri.master)
    }

    /// Logs and publishes an event with free text.
    func event(_ level: LogLevel, _ type: String, message: String, master: MonitoredInstance? = nil) {
        log.log(level, "\(type) \(message)")
        guard level != .debug else { return }
        onEvent?(SentinelEvent(type: type, message: message))
        if level == .warning, let script = master?.notificationScript {
            queueScript([script, type, message])
        }
    }

    // MARK: - Timer

    /// One timer tick (Redis's sentinelTimer): checks every instance and advances failovers.
    func tick(now: Int64) {
        checkTiltCondition(now: now)
        var switching: [MonitoredInstance] = []
        for m in masters.values {
            handleInstance(m, now: now)
            for r in m.replicas.values { handleInstance(r, now: now) }
            for s in m.sentinels.values { handleInstance(s, now: now) }
            if m.failoverState == .updateConfig { switching.append(m) }
        }
        for m in switching { switchToPromotedReplica(m, now: now) }
        forgetUnreachable(now: now)
        runPendingScripts(now: now)
        flushConfigIfDirty()
    }

    /// Per-instance work, in Redis's order: links, periodic commands, then (unless in TILT) checks.
    func handleInstance(_ ri: MonitoredInstance, now: Int64) {
        reconnect(ri, now: now)
        sendPeriodicCommands(ri, now: now)
        if tilt {
            if now - tiltStartTime < timings.tiltPeriod { return }
            tilt = false
            event(.warning, "-tilt", message: "#tilt mode exited")
        }
        let wasSDown = ri.flags.contains(.sDown)
        checkSubjectivelyDown(ri, now: now)
        if ri.isMaster {
            // Just went SDOWN: ask peers at once instead of waiting for the ask period.
            if !wasSDown && ri.flags.contains(.sDown) { askMasterStateToOtherSentinels(ri, now: now, force: true) }
            advanceFailureHandling(ri, now: now)
            askMasterStateToOtherSentinels(ri, now: now, force: false)
        }
    }

    /// ODOWN check, failover start (asking for votes at once) and one failover step; also run when
    /// a peer's answer arrives, so agreement and election take a round trip, not a timer tick.
    func advanceFailureHandling(_ m: MonitoredInstance, now: Int64) {
        checkObjectivelyDown(m, now: now)
        if startFailoverIfNeeded(m, now: now) { askMasterStateToOtherSentinels(m, now: now, force: true) }
        failoverStateMachine(m, now: now)
    }

    /// Enters TILT when the timer stalled or time went backwards: our view of time is unreliable.
    func checkTiltCondition(now: Int64) {
        defer { previousTime = now }
        guard previousTime != 0 else { return }
        let delta = now - previousTime
        if delta < 0 || delta > timings.tiltTrigger {
            tilt = true
            tiltStartTime = now
            event(.warning, "+tilt", message: "#tilt mode entered")
        }
    }

    /// The INFO period for `ri` now: Redis's period, shortened by every reason to watch closer.
    func infoPeriod(for ri: MonitoredInstance, now: Int64) -> Int64 {
        let link = ri.link
        var period = timings.infoPeriod
        if ri.isSlave, let m = ri.master {
            if !m.flags.isDisjoint(with: [.oDown, .failoverInProgress]) || ri.masterLinkDownTime != 0 { period = min(period, 1000) }
            // A replica claiming to be a master must be converted soon: watch it closely, and very
            // closely right after it came back (the fast demotion may be waiting for the new
            // master's first INFO after a switch).
            if ri.roleReported == .master {
                let cameBack = now - link.cmdConnTime < SentinelTiming.helloConfirmWindow
                period = min(period, cameBack ? SentinelTiming.nodeReconnectPeriod : 1000)
            }
            // A replica still syncing is a poor failover candidate until we see it caught up.
            if ri.infoRefresh != 0 && !ri.slaveMasterLinkUp { period = min(period, 1000) }
            if ri.flags.contains(.promoted) && m.failoverState == .waitPromotion { period = min(period, SentinelTiming.promotionPollPeriod) }
            // A replica being reconfigured: the failover ends when we see it synced (Redis: 1 s).
            if !ri.flags.isDisjoint(with: [.reconfSent, .reconfInprog]) { period = min(period, SentinelTiming.promotionPollPeriod) }
        }
        if ri.isMaster {
            if ri.roleReported == .slave { period = min(period, 1000) }
            // A master we just reached may still be gaining replicas (a deployment that is starting):
            // Redis learns of a replica that attached after its first INFO only 10 s later.
            let linkAge = now - link.cmdConnTime
            if linkAge < timings.infoPeriod { period = min(period, linkAge < 3000 ? SentinelTiming.nodeReconnectPeriod : 1000) }
        }
        return period
    }

    /// Sends INFO, PING and hello when due.
    func sendPeriodicCommands(_ ri: MonitoredInstance, now: Int64) {
        let link = ri.link
        guard link.isUp else { return }
        if link.pendingCommands >= SentinelTiming.maxPendingCommands { return }
        // Masters are pinged every down-after/10: SDOWN counts from the last valid reply, so a fresh
        // one means a crash is noticed close to down-after after it happened.
        let pingPeriod = ri.isMaster ? ri.fastPingPeriod(timings) : ri.pingPeriod(timings)
        if !ri.isSentinel && (ri.infoRefresh == 0 || now - ri.infoRefresh > infoPeriod(for: ri, now: now)) && !link.infoInFlight {
            sendInfo(ri)
        }
        if now - link.lastPongTime > pingPeriod && now - link.lastPingTime > pingPeriod / 2 {
            sendPing(ri, now: now)
        }
        if now - link.lastPubTime > timings.publishPeriod && !helloSuppressed(ri) {
            sendHello(ri, now: now)
        }
    }

    /// Sends INFO; the reply refreshes what we know of `ri`.
    func sendInfo(_ ri: MonitoredInstance) {
        let ok = ri.link.send([ri.command("INFO")]) { [weak self, weak ri] reply in
            guard let self, let ri else { return }
            ri.link.infoInFlight = false
            if let text = reply.string, !reply.isError { self.refreshFromInfo(ri, text, now: self.clock.monotonicMillis()) }
        }
        if ok { ri.link.infoInFlight = true }
    }

    /// Sends PING and records when the oldest unanswered one left.
    @discardableResult
    func sendPing(_ ri: MonitoredInstance, now: Int64) -> Bool {
        let ok = ri.link.send([ri.command("PING")]) { [weak self, weak ri] reply in
            guard let self, let ri else { return }
            self.handlePingReply(ri, reply, now: self.clock.monotonicMillis())
        }
        if ok {
            ri.link.lastPingTime = now
            if ri.link.actPingTime == 0 { ri.link.actPingTime = now }
        }
        return ok
    }

    /// Valid replies (+PONG, -LOADING, -MASTERDOWN) prove the instance is available.
    func handlePingReply(_ ri: MonitoredInstance, _ reply: RESPValue, now: Int64) {
        let link = ri.link
        switch reply {
        case .simpleString(let s) where s.hasPrefix("PONG"):
            if link.actPingTime != 0 { link.lastPingRTT = now - link.actPingTime }
            link.lastAvailTime = now
            link.actPingTime = 0
            ri.flags.remove(.masterRebootDown)
        case .error(let e) where e.hasPrefix("LOADING") || e.hasPrefix("MASTERDOWN"):
            link.lastAvailTime = now
            link.actPingTime = 0
        case .error(let e) where e.hasPrefix("BUSY"):
            if ri.flags.contains(.sDown) && !ri.flags.contains(.scriptKillSent) {
                if link.send([ri.command("SCRIPT"), "KILL"]) { ri.flags.insert(.scriptKillSent) }
            }
        default: break
        }
        link.lastPongTime = now
    }
}

// What a sentinel learns from instances: INFO replies (roles, replicas, offsets, reboots) and
// hello messages (peer sentinels, epochs, newer master configurations); and the hello it sends.
import Shared

/// Fields of an INFO reply that matter to a sentinel.
struct InfoReport: Equatable {
    var runID: String?
    var role: ReportedRole?
    var replicas: [InstanceAddress] = []
    var masterHost: String?
    var masterPort: Int?
    var masterLinkUp: Bool?
    var masterLinkDownSeconds: Int64?
    var slavePriority: Int?
    var slaveReplOffset: Int64?
    var replicaAnnounced: Bool?

    /// Parses INFO text; unknown and malformed lines are skipped.
    static func parse(_ text: String) -> InfoReport {
        var r = InfoReport()
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            let value = String(line[line.index(after: colon)...])
            switch key {
            case "run_id": if value.utf8.count == 40 { r.runID = value }
            case "role": r.role = value == "master" ? .master : value == "slave" ? .slave : nil
            case "master_host": r.masterHost = value
            case "master_port": r.masterPort = Int(value)
            case "master_link_status": r.masterLinkUp = value == "up"
            case "master_link_down_since_seconds": r.masterLinkDownSeconds = Int64(value)
            case "slave_priority", "replica_priority": r.slavePriority = Int(value)
            case "slave_repl_offset": r.slaveReplOffset = Int64(value)
            case "replica_announced": r.replicaAnnounced = value != "0"
            default:
                // slaveN:ip=...,port=...,state=...  (old format `slaveN:<ip>,<port>,<state>` too)
                guard key.hasPrefix("slave"), key.dropFirst(5).allSatisfy({ $0.isNumber }), key.count > 5 else { continue }
                var ip: String?, port: Int?
                let fields = value.split(separator: ",")
                if value.contains("=") {
                    for f in fields {
                        if f.hasPrefix("ip=") { ip = String(f.dropFirst(3)) }
                        if f.hasPrefix("port=") { port = Int(f.dropFirst(5)) }
                    }
                } else if fields.count >= 2 {
                    ip = String(fields[0]); port = Int(fields[1])
                }
                if let ip, let port, port > 0 { r.replicas.append(InstanceAddress(ip: ip, port: port)) }
            }
        }
        return r
    }
}

extension Sentinel {
    // MARK: - INFO

    /// Applies an INFO reply from `ri` (Redis's sentinelRefreshInstanceInfo).
    func refreshFromInfo(_ ri: MonitoredInstance, _ text: String, now: Int64) {
        let info = InfoReport.parse(text)
        ri.infoRefresh = now
        ri.lastInfo = (text, now)
        if let id = info.runID {
            if let old = ri.runID, old != id {
                event(.notice, "+reboot", ri)
                if ri.isMaster && ri.masterRebootDownAfterMillis != 0 {
                    ri.flags.insert(.masterRebootDown)
                    ri.rebootTime = now
                }
            }
            ri.runID = id
        }
        if ri.isMaster {
            for addr in info.replicas where ri.replicas[addr.key] == nil {
                guard let a = makeAddress(host: addr.host, port: addr.port),
                      let r = addReplica(to: ri, address: a, now: now, announce: true) else { continue }
                // Link and poll a new replica now rather than at the next tick and INFO period: a
                // deployment is fully discovered one round trip after the master's first INFO.
                handleInstance(r, now: now)
            }
        }
        ri.masterLinkDownTime = (info.masterLinkDownSeconds ?? 0) * 1000
        if ri.isSlave && info.role == .slave {
            if let h = info.masterHost, h.lowercased() != ri.slaveMasterHost?.lowercased() {
                ri.slaveMasterHost = h
                ri.slaveConfChangeTime = now
            }
            if let p = info.masterPort, p != ri.slaveMasterPort {
                ri.slaveMasterPort = p
                ri.slaveConfChangeTime = now
            }
            if let up = info.masterLinkUp { ri.slaveMasterLinkUp = up }
            if let p = info.slavePriority { ri.slavePriority = p }
            if let o = info.slaveReplOffset { ri.slaveReplOffset = o }
            if let a = info.replicaAnnounced { ri.replicaAnnounced = a }
        }
        guard let role = info.role else { return }
        if role != ri.roleReported {
            ri.roleReportedTime = now
            ri.roleReported = role
            if role == .slave { ri.slaveConfChangeTime = now }
            let matches = (role == .master) == ri.isMaster
            event(.verbose, matches ? "+role-change" : "-role-change", ri,
                  "new reported role is \(role == .master ? "master" : "slave")")
        }
        // In TILT we keep collecting facts but act on none of them.
        if tilt { return }
        guard ri.isSlave, let master = ri.master else { return }
        if role == .master {
            if ri.flags.contains(.promoted) && master.flags.contains(.failoverInProgress) && master.failoverState == .waitPromotion {
                promotionObserved(master, ri, now: now)
            } else {
                // A replica that says it is a master (an old master back from the dead, a manual
                // REPLICAOF NO ONE). Redis waits for newer configs by hello before demoting it, and
                // meanwhile it takes writes that will be lost. A node that has just come back (our
                // link to it is new) while a majority of sentinels confirm our view, and no newer
                // election we voted in is pending, has nothing newer to wait for: demote it now. A
                // replica we watched turn into a master keeps Redis's guard: it may be another
                // partition's promotion whose hello has not reached us yet.
                let wait = timings.publishPeriod * 2
                let guardPassed = ri.noDownFor(wait, now: now) && now - ri.roleReportedTime > wait
                let cameBack = now - ri.link.cmdConnTime < SentinelTiming.helloConfirmWindow
                let fastPath = cameBack && master.leaderEpoch <= master.configEpoch && viewConfirmedCurrent(master, now: now)
                if !ri.flags.contains(.promoted) && masterLooksSane(master, now: now) && (guardPassed || fastPath) {
                    if sendSlaveOf(ri, to: master.address) { event(.notice, "+convert-to-slave", ri) }
                }
            }
            return
        }
        // A replica pointing to the wrong master, outside of a failover: fix it after a while.
        if master.failoverState == .none && !ri.flags.contains(.promoted)
            && (ri.slaveMasterPort != master.address.port || !addressMatches(master.address, ri.slaveMasterHost ?? "")) {
            let wait = master.failoverTimeout
            if masterLooksSane(master, now: now) && ri.noDownFor(wait, now: now) && now - ri.slaveConfChangeTime > wait {
                if sendSlaveOf(ri, to: master.address) { event(.notice, "+fix-slave-config", ri) }
            }
        }
        // Progress of replicas we reconfigured during a failover.
        if master.failoverState == .reconfSlaves, let promoted = master.promotedReplica,
           !ri.flags.isDisjoint(with: [.reconfSent, .reconfInprog]) {
            if ri.flags.contains(.reconfSent) && addressMatches(promoted.address, ri.slaveMasterHost ?? "") && ri.slaveMasterPort == promoted.address.port {
                ri.flags.remove(.reconfSent)
                ri.flags.insert(.reconfInprog)
                event(.notice, "+slave-reconf-inprog", ri)
            }
            if ri.flags.contains(.reconfInprog) && ri.slaveMasterLinkUp {
                ri.flags.remove(.reconfInprog)
                ri.flags.insert(.reconfDone)
                event(.notice, "+slave-reconf-done", ri)
            }
        }
    }

    /// True when hello messages from a majority of the known sentinels (us included), received
    /// within the last few seconds, announce the same master address and config epoch as we hold.
    func viewConfirmedCurrent(_ m: MonitoredInstance, now: Int64) -> Bool {
        guard m.failoverState == .none else { return false }
        var agreeing = 1
        for s in m.sentinels.values where s.lastHelloTime != 0 && now - s.lastHelloTime <= SentinelTiming.helloConfirmWindow
            && s.helloMasterAddress == m.address && s.helloConfigEpoch == m.configEpoch {
            agreeing += 1
        }
        return agreeing >= (m.sentinels.count + 1) / 2 + 1
    }

    /// A master we can trust enough to reconfigure replicas towards it.
    func masterLooksSane(_ m: MonitoredInstance, now: Int64) -> Bool {
        m.isMaster && m.roleReported == .master && m.flags.isDisjoint(with: [.sDown, .oDown])
            && m.link.isUp && now - m.infoRefresh < timings.infoPeriod * 2
    }

    // MARK: - Hello

    /// The master address to announce: the promoted replica's once the promotion is done.
    func currentMasterAddress(_ m: MonitoredInstance) -> InstanceAddress {
        if m.flags.contains(.failoverInProgress), let p = m.promotedReplica, m.failoverState.rawValue >= FailoverState.reconfSlaves.rawValue {
            return p.address
        }
        return m.address
    }

    /// The hello payload for `master`, announcing `ip`.
    func helloPayload(for m: MonitoredInstance, announceIP ip: String) -> String {
        let port = settings.announcePort != 0 ? settings.announcePort : settings.port
        let a = currentMasterAddress(m)
        return "\(ip),\(port),\(myID),\(currentEpoch),\(m.name),\(announced(a)),\(a.port),\(m.configEpoch)"
    }

    /// Publishes our hello through `ri`'s command link.
    @discardableResult
    func sendHello(_ ri: MonitoredInstance, now: Int64) -> Bool {
        guard let m = ri.isMaster ? ri : ri.master, ri.link.isUp else { return false }
        var ip = settings.announceIP ?? ""
        if ip.isEmpty, let fd = ri.link.cmd?.fd { ip = Socket.localAddress(fd)?.ip ?? "" }
        if ip.isEmpty { ip = "127.0.0.1" }
        let payload = helloPayload(for: m, announceIP: ip)
        let ok = ri.link.send([ri.command("PUBLISH"), Sentinel.helloChannel, payload]) { [weak ri] reply in
            // Retry soon when the publish failed.
            if reply.isError { ri?.link.lastPubTime = 0 }
        }
        if ok { ri.link.lastPubTime = now }
        if ok && ri.isMaster { announceDownAfter(ri) }
        return ok
    }

    /// Makes every link of `m` publish a hello on the next tick (after a config change).
    func forceHelloUpdate(_ m: MonitoredInstance) {
        m.link.lastPubTime = 0
        for r in m.replicas.values { r.link.lastPubTime = 0 }
        for s in m.sentinels.values { s.link.lastPubTime = 0 }
    }

    /// Handles a hello from any source (pub/sub link, or PUBLISH sent to us by a peer): Redis's
    /// sentinelProcessHelloMessage, plus an immediate hello of ours to a sentinel we just met, so
    /// it learns of us in one round trip instead of one publish period.
    func processHello(_ payload: String, now: Int64) {
        let t = payload.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard t.count == 8, !payload.contains(myID), let m = masters[t[4]] else { return }
        let ip = t[0], runid = t[2]
        let port = Int(t[1]) ?? 0, mport = Int(t[6]) ?? 0
        let epoch = UInt64(t[3]) ?? 0, mEpoch = UInt64(t[7]) ?? 0
        guard port > 0, port < 65536, RunID.isValid(runid) else { return }
        let addr = InstanceAddress(ip: ip, port: port)
        var si = m.sentinels.values.first { $0.runID == runid && $0.address == addr }
        if si == nil {
            // The same run id at another address: it moved. Another run id at this address: that
            // sentinel was replaced (restarted without its id) and is forgotten everywhere.
            let moved = m.sentinels.filter { $0.value.runID == runid }
            for (k, s) in moved { s.link.close(now: now); m.sentinels[k] = nil }
            if !moved.isEmpty {
                event(.notice, "+sentinel-address-switch", m, "ip \(ip) port \(port) for \(runid)")
            } else if let other = m.sentinels.values.first(where: { $0.address == addr }) {
                event(.notice, "+sentinel-invalid-addr", other)
                if let obsolete = other.runID {
                    for mm in masters.values {
                        for (k, s) in mm.sentinels where s.runID == obsolete { s.link.close(now: now); mm.sentinels[k] = nil }
                    }
                }
            }
            let s = addSentinel(to: m, address: addr, runID: runid, now: now)
            if moved.isEmpty { event(.notice, "+sentinel", s) }
            flushConfig()
            si = s
            // Answer at once: the new peer may have missed our last hello.
            forceHelloUpdate(m)
        }
        if epoch > currentEpoch {
            currentEpoch = epoch
            flushConfig()
            event(.warning, "+new-epoch", message: "\(epoch)", master: m)
        }
        if let si, m.configEpoch < mEpoch {
            m.configEpoch = mEpoch
            configDirty = true
            if mport != m.address.port || !addressMatches(m.address, t[5]) {
                event(.warning, "+config-update-from", si)
                let old = m.address
                event(.warning, "+switch-master", message: "\(m.name) \(announced(old)) \(old.port) \(t[5]) \(mport)", master: m)
                let newAddr = makeAddress(host: t[5], port: mport) ?? InstanceAddress(ip: t[5], port: mport)
                recordSwitch(m, from: old, to: newAddr, leader: false)
                resetMasterAndChangeAddress(m, to: newAddr, now: now)
                callClientReconfigScript(m, role: "observer", state: "start", from: old, to: m.address)
            }
        }
        si?.lastHelloTime = now
        si?.helloMasterAddress = makeAddress(host: t[5], port: mport) ?? InstanceAddress(ip: t[5], port: mport)
        si?.helloConfigEpoch = mEpoch
    }

    /// Forgets replicas (and, unless `keepSentinels`, peer sentinels) and any failover state of `m`,
    /// and closes its links: Redis's sentinelResetMaster, used by SENTINEL RESET and by a switch.
    func resetMaster(_ m: MonitoredInstance, keepSentinels: Bool, announce: Bool, now: Int64) {
        for r in m.replicas.values { r.link.close(now: now) }
        m.replicas = [:]
        if !keepSentinels {
            for s in m.sentinels.values { s.link.close(now: now) }
            m.sentinels = [:]
        }
        m.flags = .master
        m.leader = nil
        m.failoverState = .none
        m.failoverStateChangeTime = 0
        // A reset master may fail over again at once.
        m.failoverStartTime = 0
        m.promotedReplica = nil
        m.runID = nil
        m.slaveMasterHost = nil
        m.roleReported = .master
        m.roleReportedTime = now
        m.infoRefresh = 0
        m.link.reset(now: now)
        for s in m.sentinels.values { s.flags.remove(.masterDown); s.leader = nil }
        if announce { event(.warning, "+reset-master", m) }
    }

    /// Points `m` at a new address: the old master and the other replicas become its replicas.
    func resetMasterAndChangeAddress(_ m: MonitoredInstance, to newAddr: InstanceAddress, now: Int64) {
        var replicaAddrs = m.replicas.values.map(\.address).filter { $0 != newAddr }
        if m.address != newAddr { replicaAddrs.append(m.address) }
        resetMaster(m, keepSentinels: true, announce: false, now: now)
        m.address = newAddr
        m.sDownSince = 0
        m.oDownSince = 0
        for a in replicaAddrs.sorted(by: { $0.key < $1.key }) {
            if let r = addReplica(to: m, address: a, now: now, announce: false) { event(.notice, "+slave", r) }
        }
        flushConfig()
    }
}

// Feeding the self-fencing rule (MasterFencing) from what the sentinels do anyway: their command
// links name themselves `sentinel-<id8>-cmd` and PING, INFO and PUBLISH (contact), they publish
// hellos on __sentinel__:hello (who they are, which master they follow at which config epoch),
// and vigil-sentinel adds its down-after on __vigil__:sentinel. Redis's sentinels need nothing
// new. The rule is evaluated in the cron (to log changes promptly) and before every write.
import Shared

extension Server {
    /// The channel every sentinel publishes its hello on.
    static let helloChannel: Bytes = Array("__sentinel__:hello".utf8)
    /// vigil-sentinel's announcement of its down-after: `<runid>,<master-name>,<down-after-ms>`.
    static let vigilSentinelChannel: Bytes = Array("__vigil__:sentinel".utf8)

    /// `sentinel-<8 hex>-cmd` → the 8 hex characters (the sentinel's id prefix), else nil.
    static func sentinelCommandLinkID(_ name: Bytes) -> String? {
        guard name.count == 21, name.starts(with: Array("sentinel-".utf8)), name.suffix(4).elementsEqual(Array("-cmd".utf8)) else { return nil }
        let id = name[9..<17]
        guard id.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }) else { return nil }
        return String(decoding: id, as: UTF8.self).lowercased()
    }

    // MARK: - Inputs

    /// A command from a sentinel's command link: it is in contact with us.
    @inline(__always) func fencingContact(_ c: Client) {
        if let id = c.sentinelID8 { fencing.contact(id8: id, now: clock.monotonicMillis()) }
    }

    /// PUBLISH on a channel starting with `__`: a hello (or vigil-sentinel's announcement) feeds
    /// the rule. Our master's stream relays its own hellos: those are not about us.
    func sentinelChannelPublished(_ c: Client, channel: Bytes, message: Bytes) {
        guard config.selfFencing, !c.flags.contains(.master) else { return }
        let now = clock.monotonicMillis()
        let text = String(decoding: message, as: UTF8.self)
        if channel == Server.helloChannel {
            guard let h = SentinelHello.parse(text) else { return }
            fencing.hello(h, namesUs: helloNamesUs(h, c), now: now)
        } else if channel == Server.vigilSentinelChannel {
            let t = text.split(separator: ",", omittingEmptySubsequences: false)
            guard t.count == 3, let d = Int64(t[2]) else { return }
            fencing.announcedDownAfter(runID: String(t[0]), millis: d)
        } else {
            return
        }
        applyFencing(fencing.evaluate(now: now))
    }

    /// Whether a hello's master address is this node: our port (or announced port), and the
    /// address the sentinel reached us at, our announced IP or a bound address. A hostname cannot
    /// be told apart without resolving it, so a matching port is taken as us.
    func helloNamesUs(_ h: SentinelHello, _ c: Client) -> Bool {
        let ports = [config.port, config.replicaAnnouncePort].filter { $0 > 0 }
        guard ports.contains(h.masterPort) else { return false }
        let ip = h.masterIP.lowercased()
        let isLiteral = ip.contains(":") || ip.split(separator: ".").count == 4 && ip.allSatisfy { $0.isNumber || $0 == "." }
        if !isLiteral { return true }
        var ours = [Server.hostPart(c.laddr).lowercased()]
        if let a = config.replicaAnnounceIP { ours.append(a.lowercased()) }
        ours += config.bind.map { ($0.hasPrefix("-") ? String($0.dropFirst()) : $0).lowercased() }
        return ours.contains(ip)
    }

    /// The host of `ip:port` or `[ip]:port`.
    static func hostPart(_ addr: String) -> String {
        if addr.hasPrefix("["), let close = addr.firstIndex(of: "]") {
            return String(addr[addr.index(after: addr.startIndex)..<close])
        }
        if let colon = addr.lastIndex(of: ":") { return String(addr[..<colon]) }
        return addr
    }

    /// Our role changed (replication calls this on every REPLICAOF / promotion).
    func fencingRoleChanged(isMaster: Bool) {
        applyFencing(fencing.roleChanged(isMaster: isMaster, now: clock.monotonicMillis()))
    }

    /// CONFIG SET self-fencing / fence-after-milliseconds.
    func fencingSettingsChanged() {
        applyFencing(fencing.configure(enabled: config.selfFencing, fenceAfter: Int64(config.fenceAfterMillis), now: clock.monotonicMillis()))
    }

    // MARK: - The rule

    /// Cron: evaluates the rule so a fence is logged when it happens, not at the next write.
    func fencingCron(now: Int64) {
        applyFencing(fencing.evaluate(now: now))
    }

    /// The refusal for a write on a master right now, or nil.
    func fencingRefusal() -> String? {
        guard fencing.enabled && !fencing.peers.isEmpty else { return nil }
        applyFencing(fencing.evaluate(now: clock.monotonicMillis()))
        return fencing.refusal
    }

    /// Logs a change of the rule's state.
    private func applyFencing(_ t: MasterFencing.Transition?) {
        switch t {
        case .none: break
        case .fenced(let reason)?:
            stats.fencedTimes += 1
            log.warning("Fencing: this master refuses writes: \(reason.text).")
        case .unfenced?:
            log.warning("Fencing: writes accepted again: a majority of sentinels confirm this master.")
        }
    }

    /// The `# Fencing` INFO section (vigil only; Redis's sections stay as Redis prints them).
    func fencingInfoLines() -> [String] {
        let now = clock.monotonicMillis()
        var reason = "none"
        if case .fenced(let r) = fencing.state { reason = r.text }
        return [
            "fencing_state:\(fencing.state.infoName)",
            "fencing_reason:\(reason)",
            "fencing_known_sentinels:\(fencing.peers.count)",
            "fencing_sentinels_in_contact:\(fencing.inContactCount(now: now))",
            "fencing_sentinels_confirmed:\(fencing.healthyCount(now: now))",
            "fencing_fence_after_ms:\(fencing.fenceAfter)",
            "fencing_fenced_count:\(stats.fencedTimes)",
        ]
    }
}

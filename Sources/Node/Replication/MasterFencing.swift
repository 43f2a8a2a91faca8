// The self-fencing master, as a pure state machine: a master watched by sentinels refuses writes
// as soon as it cannot be sure it is still the master the sentinels agree on, so a client cut off
// with it (a partition, a paused process) never has a write acknowledged that the promoted master
// lacks. Two rules:
//
//   (a) a hello on __sentinel__:hello announces a newer configuration naming another master;
//   (b) fewer than a majority of the sentinels it knows are "healthy": heard from in the last
//       fence-after ms, and not silent for so long since their last confirmation that they may
//       have declared us down (then a fresh hello of theirs naming us confirms them again).
//
// fence-after defaults to half the smallest down-after the sentinels announce (vigil-sentinel
// publishes it on __vigil__:sentinel), but never less than 1.5 times the gaps between a sentinel's
// commands (redis-sentinel announces nothing and pings every min(down-after, 1 s)), so a healthy
// sentinel is never counted as lost between two pings. Inputs carry their time; nothing here
// reads a clock or a socket, so every rule is unit-tested with an injected clock.

/// A hello as every sentinel publishes it: `ip,port,runid,current_epoch,master_name,master_ip,
/// master_port,master_config_epoch`.
struct SentinelHello: Equatable {
    var ip: String
    var port: Int
    var runID: String
    var currentEpoch: UInt64
    var masterName: String
    var masterIP: String
    var masterPort: Int
    var configEpoch: UInt64

    /// Parses a hello payload; nil unless it has exactly the 8 fields sentinels accept.
    static func parse(_ payload: String) -> SentinelHello? {
        let t = payload.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard t.count == 8, let port = Int(t[1]), let epoch = UInt64(t[3]), let mport = Int(t[6]),
              let cepoch = UInt64(t[7]), t[2].utf8.count == 40, !t[4].isEmpty else { return nil }
        return SentinelHello(ip: t[0], port: port, runID: t[2], currentEpoch: epoch, masterName: t[4],
                             masterIP: t[5], masterPort: mport, configEpoch: cepoch)
    }
}

/// The fencing rule of one node.
struct MasterFencing {
    /// Why writes are refused.
    enum Reason: Equatable {
        /// Rule (b): `healthy` of `known` sentinels, `fenceAfter` the window used.
        case lostContact(healthy: Int, known: Int, fenceAfter: Int64)
        /// Rule (a): a hello announced `master` (`ip:port`) for `name` at `epoch`.
        case newerConfiguration(name: String, master: String, epoch: UInt64)

        /// The reason as INFO, the log and the error reply say it.
        var text: String {
            switch self {
            case .lostContact(let healthy, let known, let fa):
                return "only \(healthy) of \(known) known sentinels in contact in the last \(fa) ms"
            case .newerConfiguration(let name, let master, let epoch):
                return "the sentinels announced \(master) as master of \(name) with config epoch \(epoch)"
            }
        }
    }

    /// Where the rule stands.
    enum State: Equatable {
        /// Fencing is turned off (`self-fencing no`).
        case disabled
        /// We are a replica: replicas refuse writes anyway.
        case inactive
        /// No sentinel has announced itself yet: nothing to fence against.
        case unsupervised
        /// Writes are accepted.
        case open
        /// Writes are refused.
        case fenced(Reason)

        /// The `fencing_state` INFO value.
        var infoName: String {
            switch self {
            case .disabled: return "disabled"
            case .inactive: return "inactive"
            case .unsupervised: return "unsupervised"
            case .open: return "open"
            case .fenced: return "fenced"
            }
        }
    }

    /// A change the server logs.
    enum Transition: Equatable {
        case fenced(Reason)
        case unfenced
    }

    /// One sentinel that announced itself with a hello.
    struct Peer: Equatable {
        var runID: String
        /// When its command link last sent us anything (0: not yet).
        var lastContact: Int64
        /// Recent gaps between its commands, ms (outages left out), newest last.
        var gaps: [Int64] = []
        /// Its down-after for the master it watches us as, when it announced it.
        var downAfter: Int64? = nil
        /// Set when it may have declared us down (a silence past the confirmation threshold);
        /// a hello naming us received `confirmDelay` after that clears it.
        var suspectSince: Int64? = nil
    }

    /// What the hellos said about one master name.
    struct View: Equatable {
        /// The newest config epoch announced, and whether that announcement names us.
        var newestEpoch: UInt64
        var newestNamesUs: Bool
        var newestMaster: String
        /// The newest epoch we knew when we became a master: announcements up to it are older
        /// than our promotion (nil: none known then).
        var baseline: UInt64?
    }

    /// Gaps longer than this are outages, not a sentinel's cadence.
    static let maxCadenceGap: Int64 = 2000
    /// fence-after until gaps or a down-after are known.
    static let defaultFenceAfter: Int64 = 1500
    /// The shortest fence-after the automatic rule picks.
    static let minFenceAfter: Int64 = 250
    /// After a promotion, rule (b) waits at least this long: the promoting sentinel kills every
    /// normal client (the sentinels' command links too) and they need a moment to reconnect. No
    /// sentinel fails a master over within a second of promoting it (down-after must pass first).
    static let promotionGrace: Int64 = 1000
    /// A hello confirms a suspect sentinel only this long after its silence ended: hellos queued
    /// during the silence (a stopped process, TCP retransmits after a partition) are stale.
    static let confirmDelay: Int64 = 250
    /// A sentinel not heard from for this long, while writes are accepted, is forgotten.
    static let forgetAfter: Int64 = 60_000
    /// Gaps kept per sentinel.
    static let gapWindow = 8

    /// `self-fencing`.
    private(set) var enabled: Bool
    /// `fence-after-milliseconds` (0: automatic).
    private(set) var configuredFenceAfter: Int64
    private(set) var isMaster = true
    /// Known sentinels by run id.
    private(set) var peers: [String: Peer] = [:]
    /// Contacts from sentinel links whose hello has not arrived yet, by the 8-char id prefix.
    private var pendingContacts: [String: Int64] = [:]
    /// Per master name.
    private(set) var views: [String: View] = [:]
    private(set) var state: State
    /// The fence-after in force (recomputed when what it depends on changes).
    private(set) var fenceAfter: Int64 = MasterFencing.defaultFenceAfter
    /// Until when rule (b) does not fence (set on promotion).
    private(set) var graceUntil: Int64 = 0

    /// A rule with the node's settings; a master at first.
    init(enabled: Bool, fenceAfter: Int64) {
        self.enabled = enabled
        self.configuredFenceAfter = max(0, fenceAfter)
        state = enabled ? .unsupervised : .disabled
        recomputeFenceAfter()
    }

    // MARK: - Inputs

    /// `self-fencing` / `fence-after-milliseconds` changed (CONFIG SET). Turning fencing off
    /// forgets everything: turning it on again starts unsupervised.
    mutating func configure(enabled on: Bool, fenceAfter fa: Int64, now: Int64) -> Transition? {
        configuredFenceAfter = max(0, fa)
        let wasFenced = isFenced
        if !on {
            enabled = false
            peers = [:]
            pendingContacts = [:]
            views = [:]
            state = .disabled
            return wasFenced ? .unfenced : nil
        }
        if !enabled {
            enabled = true
            state = isMaster ? .unsupervised : .inactive
        }
        recomputeFenceAfter()
        return evaluate(now: now)
    }

    /// A command arrived on a connection named `sentinel-<id8>-cmd`.
    mutating func contact(id8: String, now: Int64) {
        guard enabled else { return }
        guard let key = peers.keys.first(where: { $0.hasPrefix(id8) }), var p = peers[key] else {
            pendingContacts[id8] = now
            return
        }
        if p.lastContact > 0 {
            let gap = now - p.lastContact
            if gap <= MasterFencing.maxCadenceGap {
                p.gaps.append(gap)
                if p.gaps.count > MasterFencing.gapWindow { p.gaps.removeFirst(p.gaps.count - MasterFencing.gapWindow) }
            }
            if gap > confirmAfter { p.suspectSince = now }
        }
        p.lastContact = now
        peers[key] = p
        recomputeFenceAfter()
    }

    /// A hello was published on this node; `namesUs` says whether its master address is ours.
    mutating func hello(_ h: SentinelHello, namesUs: Bool, now: Int64) {
        guard enabled else { return }
        var p = peers[h.runID] ?? Peer(runID: h.runID, lastContact: now)
        if let t = pendingContacts.removeValue(forKey: String(h.runID.prefix(8))) { p.lastContact = max(p.lastContact, t) }
        let master = h.masterIP.contains(":") ? "[\(h.masterIP)]:\(h.masterPort)" : "\(h.masterIP):\(h.masterPort)"
        if var v = views[h.masterName] {
            if h.configEpoch > v.newestEpoch || (h.configEpoch == v.newestEpoch && namesUs != v.newestNamesUs && namesUs) {
                v.newestEpoch = h.configEpoch
                v.newestNamesUs = namesUs
                v.newestMaster = master
            }
            views[h.masterName] = v
        } else {
            views[h.masterName] = View(newestEpoch: h.configEpoch, newestNamesUs: namesUs, newestMaster: master, baseline: nil)
        }
        // A fresh hello naming us, at the newest epoch, confirms this sentinel still sees us as
        // its master.
        if namesUs, let since = p.suspectSince, now - since >= MasterFencing.confirmDelay,
           let v = views[h.masterName], v.newestNamesUs, v.newestEpoch == h.configEpoch {
            p.suspectSince = nil
        }
        peers[h.runID] = p
        if state == .unsupervised { state = .open }
        recomputeFenceAfter()
    }

    /// vigil-sentinel announced its down-after for the master it watches us as.
    mutating func announcedDownAfter(runID: String, millis: Int64) {
        guard enabled, millis > 0, var p = peers[runID] else { return }
        p.downAfter = millis
        peers[runID] = p
        recomputeFenceAfter()
    }

    /// Our role changed. A promotion starts a new configuration: what the hellos said so far is
    /// older than it.
    mutating func roleChanged(isMaster master: Bool, now: Int64) -> Transition? {
        let wasFenced = isFenced
        isMaster = master
        guard enabled else { return nil }
        if master {
            for (k, var v) in views {
                v.baseline = v.newestEpoch
                views[k] = v
            }
            // A promotion starts the clock afresh: as a replica we heard from the sentinels only
            // about once a second, and the sentinel that promoted us kills every normal client,
            // their command links included. Each gets a full fence-after to reach us as a
            // master, and its cadence as a master is learnt anew.
            for (k, var p) in peers {
                p.suspectSince = nil
                p.lastContact = now
                p.gaps = []
                peers[k] = p
            }
            recomputeFenceAfter()
            graceUntil = now + max(fenceAfter, MasterFencing.promotionGrace)
            state = peers.isEmpty ? .unsupervised : .open
            return evaluate(now: now) ?? (wasFenced ? .unfenced : nil)
        }
        state = .inactive
        return wasFenced ? .unfenced : nil
    }

    // MARK: - The rule

    /// Whether writes are refused right now (as of the last evaluation).
    var isFenced: Bool { if case .fenced = state { return true } else { return false } }

    /// Gaps past this may have let a sentinel declare us down: 0.8 × the smallest announced
    /// down-after, and at least fence-after.
    var confirmAfter: Int64 {
        if let d = peers.values.compactMap(\.downAfter).min() { return max(fenceAfter, d * 8 / 10) }
        return fenceAfter
    }

    /// The sentinels in contact within fence-after and not suspect.
    func healthyCount(now: Int64) -> Int {
        let confirm = confirmAfter
        return peers.values.filter { p in
            p.lastContact > 0 && now - p.lastContact <= fenceAfter && p.suspectSince == nil && now - p.lastContact <= confirm
        }.count
    }

    /// The sentinels heard from within fence-after.
    func inContactCount(now: Int64) -> Int {
        peers.values.filter { $0.lastContact > 0 && now - $0.lastContact <= fenceAfter }.count
    }

    /// Applies both rules at `now`; returns the change, if any.
    mutating func evaluate(now: Int64) -> Transition? {
        guard enabled, isMaster, !peers.isEmpty else { return nil }
        let wasFenced = isFenced
        // A sentinel silent past the confirmation threshold may have declared us down.
        let confirm = confirmAfter
        for (k, var p) in peers where now >= graceUntil && p.suspectSince == nil && p.lastContact > 0 && now - p.lastContact > confirm {
            p.suspectSince = now
            peers[k] = p
        }
        if !isFenced { forgetSilentPeers(now: now) }
        var reason: Reason? = nil
        for name in views.keys.sorted() {
            guard let v = views[name] else { continue }
            if !v.newestNamesUs && (v.baseline == nil || v.newestEpoch > v.baseline!) {
                reason = .newerConfiguration(name: name, master: v.newestMaster, epoch: v.newestEpoch)
                break
            }
        }
        if reason == nil && now >= graceUntil {
            let healthy = healthyCount(now: now)
            if healthy < peers.count / 2 + 1 {
                reason = .lostContact(healthy: healthy, known: peers.count, fenceAfter: fenceAfter)
            }
        }
        if let reason {
            if case .fenced(let old) = state, sameKind(old, reason) {
                state = .fenced(reason)
                return nil
            }
            state = .fenced(reason)
            return .fenced(reason)
        }
        state = .open
        return wasFenced ? .unfenced : nil
    }

    /// The two reasons are the same rule (a new count is not a new fence).
    private func sameKind(_ a: Reason, _ b: Reason) -> Bool {
        switch (a, b) {
        case (.lostContact, .lostContact): return true
        case (.newerConfiguration(let n1, let m1, let e1), .newerConfiguration(let n2, let m2, let e2)): return n1 == n2 && m1 == m2 && e1 == e2
        default: return false
        }
    }

    /// Drops sentinels gone for long while a majority keeps confirming us, so a sentinel removed
    /// for good stops counting against the majority. Never while fenced: an isolated master must
    /// not forget the sentinels it cannot reach.
    private mutating func forgetSilentPeers(now: Int64) {
        let gone = peers.filter { now - $0.value.lastContact > MasterFencing.forgetAfter }
        guard !gone.isEmpty, peers.count - gone.count >= 1 else { return }
        for k in gone.keys { peers[k] = nil }
        recomputeFenceAfter()
    }

    /// fence-after: configured, or half the smallest announced down-after, but at least 1.5×
    /// the largest recent gap between a sentinel's commands.
    private mutating func recomputeFenceAfter() {
        if configuredFenceAfter > 0 {
            fenceAfter = configuredFenceAfter
            return
        }
        let down = peers.values.compactMap(\.downAfter).min()
        let gap = peers.values.compactMap { $0.gaps.count >= 3 ? $0.gaps.max() : nil }.max()
        if down == nil && gap == nil {
            fenceAfter = MasterFencing.defaultFenceAfter
            return
        }
        // An announced down-after is the bound that matters (fence before a majority can call us
        // down); the cadence guess is only for sentinels that announce nothing (redis-sentinel).
        // vigil-sentinel pings every down-after/10, far inside half of it.
        if let down {
            fenceAfter = max(MasterFencing.minFenceAfter, down / 2)
            return
        }
        fenceAfter = max(MasterFencing.minFenceAfter, (gap ?? 0) * 3 / 2)
    }

    /// The error a refused write gets (nil when writes are accepted).
    var refusal: String? {
        guard case .fenced(let reason) = state else { return nil }
        return "FENCED This master fenced itself (\(reason.text)); writes are refused until a majority of its sentinels confirm it is still the master."
    }
}

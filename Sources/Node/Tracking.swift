// Client-side caching, as Redis 7.0's tracking.c. A client with CLIENT TRACKING ON has the keys
// its read-only commands touch remembered (key → client ids); when such a key changes
// (signalModifiedKey), every client that may have cached it gets one invalidation, and the key is
// forgotten until read again. In BCAST mode nothing is remembered: every change to a key under
// one of the client's prefixes is collected and sent to it in before-sleep, batched per prefix.
//
// Invalidations are RESP3 pushes (`>2 invalidate [keys]`, or `_` for a flush) to the client or
// to its REDIRECT target; a RESP2 redirect target subscribed to `__redis__:invalidate` gets them
// as that channel's messages. A client's own invalidations raised while its command runs go out
// after the command's reply (Redis's tracking_pending_keys). `tracking-table-max-keys` bounds the
// remembered keys: beyond it, keys are invalidated (as if changed) until back under the limit.
import Shared

/// CLIENT TRACKING options and states (Redis's CLIENT_TRACKING_* flags).
struct TrackingFlags: OptionSet {
    let rawValue: UInt8
    static let bcast = TrackingFlags(rawValue: 1 << 0)
    static let optin = TrackingFlags(rawValue: 1 << 1)
    static let optout = TrackingFlags(rawValue: 1 << 2)
    /// CLIENT CACHING yes (optin) / no (optout) for the next command.
    static let caching = TrackingFlags(rawValue: 1 << 3)
    static let noloop = TrackingFlags(rawValue: 1 << 4)
    /// The redirect target disconnected.
    static let brokenRedirect = TrackingFlags(rawValue: 1 << 5)
}

/// One BCAST prefix: its clients and the keys changed under it since the last broadcast.
final class BroadcastPrefix {
    /// Clients following the prefix, by id.
    var clients: [Int: Client] = [:]
    /// Changed keys in order, with the client that changed each last (nil: expiry, eviction).
    var keys: [Key: Client?] = [:]
    var order: [Key] = []
}

/// The server's tracking tables.
struct TrackingTable {
    /// Remembered keys → ids of the clients that may cache them.
    var keys: [Key: Set<Int>] = [:]
    /// Sum over keys of their client counts (tracking_total_items).
    var totalItems = 0
    /// BCAST prefixes (the empty prefix follows every key).
    var prefixes: [Key: BroadcastPrefix] = [:]
    /// Clients with tracking on (tracking_clients).
    var clientCount = 0
    /// The current client's own invalidations, sent after its reply (nil: a flush).
    var pending: [Key?] = []
    /// How many successive calls found the table still over tracking-table-max-keys.
    var limitRounds = 0

    /// Whether a change to a key can concern anybody (the hot path's one test).
    @inline(__always) var watching: Bool { !keys.isEmpty || !prefixes.isEmpty }
}

extension Server {
    static let invalidateChannel = Bytes("__redis__:invalidate".utf8)

    // MARK: - Enabling

    /// CLIENT TRACKING ON: (re)sets the options; BCAST prefixes add to those already followed.
    func enableTracking(_ c: Client, redirect: Int, options: TrackingFlags, prefixes: [Bytes]) {
        if !c.flags.contains(.tracking) { tracking.clientCount += 1 }
        c.flags.insert(.tracking)
        c.tracking.remove([.brokenRedirect, .bcast, .optin, .optout, .noloop])
        c.trackingRedirect = redirect
        if options.contains(.bcast) {
            c.tracking.insert(.bcast)
            let list = prefixes.isEmpty ? [Bytes()] : prefixes
            for p in list {
                let key = Key(p)
                let state: BroadcastPrefix
                if let s = tracking.prefixes[key] { state = s } else {
                    state = BroadcastPrefix()
                    tracking.prefixes[key] = state
                }
                if state.clients.updateValue(c, forKey: c.id) == nil { c.trackingPrefixes.append(p) }
            }
        }
        c.tracking.formUnion(options.intersection([.optin, .optout, .noloop]))
    }

    /// CLIENT TRACKING OFF (and a client going away): its BCAST prefixes are dropped; keys it
    /// read stay remembered until they change (ids are not cleaned up, as in Redis).
    func disableTracking(_ c: Client) {
        if c.tracking.contains(.bcast) {
            for p in c.trackingPrefixes {
                let key = Key(p)
                guard let state = tracking.prefixes[key] else { continue }
                state.clients.removeValue(forKey: c.id)
                if state.clients.isEmpty { tracking.prefixes.removeValue(forKey: key) }
            }
        }
        c.trackingPrefixes = []
        if c.flags.contains(.tracking) {
            tracking.clientCount -= 1
            c.flags.remove(.tracking)
            c.tracking = []
        }
    }

    /// The error for a prefix overlapping another one of the same client, or nil.
    func trackingPrefixCollision(_ c: Client, _ prefixes: [Bytes]) -> String? {
        func overlaps(_ a: Bytes, _ b: Bytes) -> Bool { a.prefix(min(a.count, b.count)).elementsEqual(b.prefix(min(a.count, b.count))) }
        for (i, p) in prefixes.enumerated() {
            for existing in c.trackingPrefixes where overlaps(existing, p) {
                return "ERR Prefix '\(p.text)' overlaps with an existing prefix '\(existing.text)'. Prefixes for a single client must not overlap."
            }
            for q in prefixes[(i + 1)...] where overlaps(p, q) {
                return "ERR Prefix '\(p.text)' overlaps with another provided prefix '\(q.text)'. Prefixes for a single client must not overlap."
            }
        }
        return nil
    }

    // MARK: - Remembering reads

    /// After a read-only command of a tracking client (not BCAST): remembers its keys, unless
    /// OPTIN without CACHING yes or OPTOUT with CACHING no (trackingRememberKeys).
    func trackingRememberKeys(_ c: Client, _ cmd: borrowing CommandSpec) {
        let optin = c.tracking.contains(.optin), optout = c.tracking.contains(.optout)
        let caching = c.tracking.contains(.caching)
        if (optin && !caching) || (optout && caching) { return }
        if cmd.flags.contains(.pubsub) { return }
        for i in Server.trackedKeyPositions(cmd, c.argv) {
            let key = Key(c.argv[i])
            if tracking.keys[key, default: []].insert(c.id).inserted { tracking.totalItems += 1 }
        }
    }

    /// Key positions of a read command: the spec's range, or after a numkeys argument.
    static func trackedKeyPositions(_ cmd: borrowing CommandSpec, _ argv: [Bytes]) -> [Int] {
        switch cmd.name {
        case "zunion", "zinter", "zdiff", "sintercard", "zintercard":
            guard argv.count > 2, let n = NumberFormat.parseInt(argv[1]), n > 0, n <= Int64(argv.count - 2) else { return [] }
            return Array(2..<(2 + Int(n)))
        default:
            return cmd.keyIndexes(argv.count)
        }
    }

    // MARK: - Invalidation

    /// A key changed (signalModifiedKey): BCAST followers collect it; every client that
    /// remembered it is sent an invalidation, except a NOLOOP client changing it itself.
    /// `modifier` is the client that changed it (nil for expiry and eviction).
    func trackingInvalidateKey(_ key: Key, modifier: Client?, bcast: Bool = true) {
        if bcast && !tracking.prefixes.isEmpty { rememberForBroadcast(key, modifier) }
        guard let ids = tracking.keys.removeValue(forKey: key) else { return }
        tracking.totalItems -= ids.count
        for id in ids {
            guard let target = clients[id], target.flags.contains(.tracking), !target.tracking.contains(.bcast) else { continue }
            if target.tracking.contains(.noloop) && target === currentClient { continue }
            if target === currentClient {
                tracking.pending.append(key)
            } else {
                sendInvalidation(target, keys: [key])
            }
        }
    }

    private func rememberForBroadcast(_ key: Key, _ modifier: Client?) {
        key.withUnsafeBytes { kb in
            for (prefix, state) in tracking.prefixes {
                let matches = prefix.withUnsafeBytes { pb in
                    pb.count <= kb.count && (pb.count == 0 || memcmpEqual(pb, kb, pb.count))
                }
                guard matches else { continue }
                if state.keys.updateValue(modifier, forKey: key) == nil { state.order.append(key) }
            }
        }
    }

    /// FLUSHDB / FLUSHALL: every tracking client is told everything is gone (a null
    /// invalidation), and the remembered keys are forgotten.
    func trackingInvalidateOnFlush() {
        if tracking.clientCount > 0 {
            for c in clients.values where c.flags.contains(.tracking) {
                if c === currentClient { tracking.pending.append(nil) } else { sendInvalidation(c, keys: nil) }
            }
        }
        tracking.keys = [:]
        tracking.totalItems = 0
    }

    /// Sends the current client's own invalidations, after its reply (end of the top-level call,
    /// and after eviction in processCommand).
    func flushPendingInvalidations(_ c: Client) {
        guard !tracking.pending.isEmpty else { return }
        let list = tracking.pending
        tracking.pending = []
        for k in list { sendInvalidation(c, keys: k.map { [$0] }) }
    }

    /// BCAST: sends every prefix's collected keys to its followers (before-sleep); a NOLOOP
    /// follower does not get the keys it changed itself.
    func broadcastInvalidations() {
        guard tracking.clientCount > 0 else { return }
        for state in tracking.prefixes.values where !state.order.isEmpty {
            let keys = state.order
            let modifiers = state.keys
            state.keys = [:]
            state.order = []
            for c in state.clients.values {
                if c.tracking.contains(.noloop) {
                    let own = keys.filter { key in modifiers[key].map { $0 !== c } ?? true }
                    if !own.isEmpty { sendInvalidation(c, keys: own) }
                } else {
                    sendInvalidation(c, keys: keys)
                }
            }
        }
    }

    /// Keeps the remembered keys under tracking-table-max-keys by invalidating some (before each
    /// command and in the cron), with more effort each time the limit was not reached.
    func trackingLimitUsedSlots() {
        let max = config.trackingTableMaxKeys
        guard max > 0, !tracking.keys.isEmpty else { return }
        if tracking.keys.count <= max { tracking.limitRounds = 0; return }
        var effort = 100 * (tracking.limitRounds + 1)
        while effort > 0, let key = tracking.keys.keys.first {
            effort -= 1
            trackingInvalidateKey(key, modifier: nil, bcast: false)
            if tracking.keys.count <= max { tracking.limitRounds = 0; return }
        }
        tracking.limitRounds += 1
    }

    /// Writes one invalidation for `c` (keys nil: a flush): to its redirect target if it has
    /// one, else to itself in RESP3; RESP2 without a redirect cannot receive them.
    func sendInvalidation(_ c: Client, keys: [Key]?) {
        var target = c
        var redirected = false
        if c.trackingRedirect != 0 {
            guard let r = clients[c.trackingRedirect] else {
                c.tracking.insert(.brokenRedirect)
                if c.proto >= 3 {
                    let redirect = c.trackingRedirect
                    c.writePush { w in
                        w.pushHeader(2)
                        w.bulk("tracking-redir-broken")
                        w.integer(redirect)
                    }
                    markPendingWrite(c)
                }
                return
            }
            target = r
            redirected = true
        }
        // Read before writing: `proto` lives in the output buffer the push is written to.
        let resp3 = target.proto >= 3
        let nullForm: StaticString = resp3 ? "_\r\n" : "$-1\r\n"
        let subscribed = target.flags.contains(.pubsub)
        target.writePush { w in
            if resp3 {
                w.pushHeader(2)
                w.bulk("invalidate")
            } else if redirected && subscribed {
                w.arrayHeader(3)
                w.bulk("message")
                w.bulk(Server.invalidateChannel)
            } else {
                return
            }
            if let keys {
                w.arrayHeader(keys.count)
                for k in keys { k.withUnsafeBytes { w.bulk(Bytes($0)) } }
            } else {
                w.raw(nullForm)
            }
        }
        markPendingWrite(target)
    }
}

/// memcmp(a, b, n) == 0 for the first n bytes of two buffers.
@inline(__always) func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

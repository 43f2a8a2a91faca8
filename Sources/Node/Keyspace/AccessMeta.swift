// Per-key access data (Redis's 24-bit `lru` field: an LRU clock, or an LFU counter and the minute
// it last decayed). Vigil keeps it only for keys RESTOREd with IDLETIME or FREQ, so that OBJECT
// IDLETIME / OBJECT FREQ report what was restored and how later accesses change it; other keys
// report an idle time of 0 and the initial LFU counter (vigil does not track every access).
import Shared

/// The restored access data of one key.
struct AccessMeta {
    /// LFU_INIT_VAL: the counter of a new key.
    static let lfuInitial: UInt8 = 5

    /// Unix ms of the last access (LRU policies).
    var lastAccess: Int64
    /// LFU counter (logarithmic, 0-255).
    var lfuCounter: UInt8
    /// Minute (mod 65536) the counter was last updated, as LFUGetTimeInMinutes.
    var lfuMinutes: Int64

    /// LFUGetTimeInMinutes.
    static func minutes(_ nowMillis: Int64) -> Int64 { (nowMillis / 60_000) & 65535 }

    /// The counter after decaying one step per `decayTime` minutes since the last update
    /// (LFUDecrAndReturn).
    func decayedCounter(nowMillis: Int64, decayTime: Int) -> UInt8 {
        let now = AccessMeta.minutes(nowMillis)
        let elapsed = now >= lfuMinutes ? now - lfuMinutes : 65535 - lfuMinutes + now
        let periods = decayTime > 0 ? elapsed / Int64(decayTime) : 0
        if periods == 0 { return lfuCounter }
        return periods > Int64(lfuCounter) ? 0 : lfuCounter - UInt8(periods)
    }

    /// One access: the LRU clock moves to now, the LFU counter decays then grows with
    /// probability 1/((counter-5)*logFactor+1) (updateLFU, LFULogIncr).
    mutating func touch(nowMillis: Int64, logFactor: Int, decayTime: Int) {
        lastAccess = nowMillis
        var counter = decayedCounter(nowMillis: nowMillis, decayTime: decayTime)
        if counter < 255 {
            let base = max(0, Double(counter) - Double(AccessMeta.lfuInitial))
            if Double.random(in: 0..<1) < 1.0 / (base * Double(logFactor) + 1) { counter += 1 }
        }
        lfuCounter = counter
        lfuMinutes = AccessMeta.minutes(nowMillis)
    }
}

extension Server {
    /// Marks an access to `key` for keys that carry restored access data.
    @inline(__always)
    func touchAccessMeta(_ db: Database, _ key: Key) {
        guard !db.accessMeta.isEmpty, var m = db.accessMeta[key] else { return }
        m.touch(nowMillis: clock.wallMillis(), logFactor: config.lfuLogFactor, decayTime: config.lfuDecayTime)
        db.accessMeta[key] = m
    }

    /// Whether maxmemory-policy is an LFU one (OBJECT FREQ works, OBJECT IDLETIME does not).
    var lfuPolicy: Bool { config.maxmemoryPolicy.hasSuffix("lfu") }
}

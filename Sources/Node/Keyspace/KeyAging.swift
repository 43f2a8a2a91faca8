// How each key's access metadata is stamped and read, as Redis's object.c / evict.c: under an LRU
// (or any non-LFU) policy the 24-bit field is the LRU clock (seconds, wrapping) of the last access;
// under an LFU policy it is (minutes of the last decrement, 16 bits) << 8 | a logarithmic counter
// that starts at LFU_INIT_VAL, grows with probability 1 / ((counter - 5) * lfu-log-factor + 1) and
// loses one per lfu-decay-time minutes without access. The clocks are refreshed by the cron (as
// Redis's server.lruclock), so stamping an access costs a load and a store.
import Shared

/// The server's policy and clocks for key ages; shared by every database's KeyTable.
final class KeyAging {
    /// How accesses are stamped.
    enum Mode {
        /// The LRU clock of the last access.
        case lru
        /// The LFU counter and its decay time.
        case lfu
        /// Not stamped (a child process is saving: touching pages would copy them, as Redis avoids).
        case frozen
    }

    /// What an access stamps now (the policy's kind, or frozen).
    private(set) var mode: Mode = .lru
    /// Whether the policy is an LFU one (kept while frozen: it decides how metadata reads).
    private(set) var lfu = false
    /// lfu-log-factor.
    var lfuLogFactor = 10
    /// lfu-decay-time, in minutes (0: counters never decay).
    var lfuDecayTime = 1
    /// Redis's server.lruclock: seconds since the epoch, 24 bits.
    private(set) var lruClock: UInt32 = 0
    /// LFU time: minutes since the epoch, 16 bits.
    private(set) var minutes: UInt32 = 0
    /// The source of LFU's coin flips.
    var rng = FastRandom(seed: 0x9E37_79B9_7F4A_7C15)

    /// Largest LRU clock value (24 bits).
    static let lruClockMax: UInt32 = (1 << 24) - 1
    /// A bit above Redis's 24 bits, not an age: the key's string was edited in place (APPEND,
    /// SETRANGE, SETBIT, BITFIELD, BITOP, PF*), which Redis keeps as a "raw" object whatever its
    /// contents (OBJECT ENCODING says raw, not int/embstr). Stamping keeps it, a new value drops it.
    static let rawStringBit: UInt32 = 1 << 31
    /// Counter of a new key under LFU (so new keys are not evicted at once).
    static let lfuInitVal: UInt32 = 5

    /// Clocks set from `wallMillis` (now by default).
    init(wallMillis: Int64 = Clock.wallMillis()) { refresh(wallMillis: wallMillis) }

    /// Refreshes the clocks (the cron, once per tick).
    func refresh(wallMillis ms: Int64) {
        lruClock = UInt32(truncatingIfNeeded: (ms / 1000)) & KeyAging.lruClockMax
        minutes = UInt32(truncatingIfNeeded: (ms / 60_000)) & 0xFFFF
    }

    /// Selects the LFU (true) or LRU way of stamping (maxmemory-policy).
    func setLFU(_ on: Bool) {
        lfu = on
        if mode != .frozen { mode = on ? .lfu : .lru }
    }

    /// Stops (true) or resumes stamping accesses (while a child process saves).
    func setFrozen(_ frozen: Bool) {
        mode = frozen ? .frozen : (lfu ? .lfu : .lru)
    }

    // MARK: - Stamping

    /// Metadata of a key created now.
    @inline(__always) func fresh() -> UInt32 {
        lfu ? (minutes << 8 | KeyAging.lfuInitVal) : lruClock
    }

    /// Metadata after the value was replaced: LFU keeps the key's counter (dbOverwrite), LRU's
    /// new object is as young as now; the new value is not an edited string.
    @inline(__always) func overwritten(_ old: UInt32) -> UInt32 {
        lfu ? old & ~KeyAging.rawStringBit : lruClock
    }

    /// Metadata after an access (lookupKey's touch).
    @inline(__always) func touched(_ old: UInt32) -> UInt32 {
        switch mode {
        case .lru: return lruClock | (old & KeyAging.rawStringBit)
        case .lfu: return lfuTouched(old)
        case .frozen: return old
        }
    }

    /// Redis's updateLFU: decay, then a logarithmic increment, stamped with the current minutes.
    func lfuTouched(_ old: UInt32) -> UInt32 {
        let counter = logIncrement(decayedCounter(old))
        return minutes << 8 | counter | (old & KeyAging.rawStringBit)
    }

    // MARK: - Reading

    /// Milliseconds since the last access under LRU (Redis's estimateObjectIdleTime).
    func idleMillis(_ meta: UInt32) -> Int64 {
        let lru = meta & KeyAging.lruClockMax
        let clock = lruClock
        let ticks = clock >= lru ? Int64(clock - lru) : Int64(clock) + Int64(KeyAging.lruClockMax - lru)
        return ticks * 1000
    }

    /// The LFU counter after the decay due since its last decrement (LFUDecrAndReturn).
    func decayedCounter(_ meta: UInt32) -> UInt32 {
        let ldt = (meta >> 8) & 0xFFFF
        let counter = meta & 255
        guard lfuDecayTime > 0 else { return counter }
        let elapsed = minutes >= ldt ? minutes - ldt : 65535 - ldt + minutes
        let periods = Int(elapsed) / lfuDecayTime
        return periods >= Int(counter) ? 0 : counter - UInt32(periods)
    }

    /// LFULogIncr: the counter grows with probability 1 / ((counter - 5) * factor + 1).
    func logIncrement(_ counter: UInt32) -> UInt32 {
        if counter >= 255 { return 255 }
        let r = rng.unit()
        let base = Double(counter > KeyAging.lfuInitVal ? counter - KeyAging.lfuInitVal : 0)
        let p = 1.0 / (base * Double(lfuLogFactor) + 1)
        return r < p ? counter + 1 : counter
    }

    /// Metadata a key gets from RESTORE ... IDLETIME seconds (or the RDB's idle field).
    func metaForIdle(seconds: Int64) -> UInt32 {
        let ticks = UInt32(truncatingIfNeeded: max(0, min(seconds, Int64(KeyAging.lruClockMax))))
        let clock = lruClock
        return clock >= ticks ? clock - ticks : KeyAging.lruClockMax - (ticks - clock)
    }

    /// Metadata a key gets from RESTORE ... FREQ n (or the RDB's freq field).
    func metaForFrequency(_ freq: Int) -> UInt32 {
        minutes << 8 | UInt32(max(0, min(255, freq)))
    }
}

/// A small, fast pseudo-random generator (xorshift64*) for sampling: the system generator costs
/// a syscall per number, too much for eviction's several samples per evicted key.
struct FastRandom: RandomNumberGenerator {
    private var state: UInt64

    /// A generator seeded with `seed` (any value; 0 is replaced).
    init(seed: UInt64) { state = seed == 0 ? 0x2545_F491_4F6C_DD1D : seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    /// A uniform integer in 0 ..< n (n > 0).
    @inline(__always) mutating func below(_ n: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// A uniform Double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
}

// Time sources. Logic that depends on time (replication's cron, ACK and WAIT bookkeeping, the
// sentinel's failure detection) takes a `Clock` value or a `now` parameter, so tests drive time
// with a `ManualTime` instead of sleeping. The static readers are the kernel's clocks; only the
// event loop, the servers' top levels and the `Clock.system` value call them.
#if canImport(Glibc)
import Glibc
#endif

/// A source of monotonic and wall time: the system clocks, or a manual time tests advance.
public struct Clock: Sendable {
    @usableFromInline let manual: ManualTime?

    /// The kernel's clocks.
    public static let system = Clock(manual: nil)

    /// A clock that reads `time` (tests move it with `advance`).
    public init(_ time: ManualTime) { self.manual = time }

    private init(manual: ManualTime?) { self.manual = manual }

    /// Monotonic milliseconds.
    @inlinable public func monotonicMillis() -> Int64 {
        if let m = manual { return m.monotonicMillis }
        return Clock.monotonicMillis()
    }

    /// Unix time in milliseconds.
    @inlinable public func wallMillis() -> Int64 {
        if let m = manual { return m.wallMillis }
        return Clock.wallMillis()
    }

    /// Unix time in seconds.
    @inlinable public func wallSeconds() -> Int64 { wallMillis() / 1000 }

    /// Unix time in microseconds (a manual time has millisecond steps).
    @inlinable public func wallMicros() -> Int64 {
        if let m = manual { return m.wallMillis * 1000 }
        return Clock.wallMicros()
    }

    // MARK: - The kernel's clocks

    /// Monotonic milliseconds: for deadlines, timeouts and intervals (never jumps with the wall clock).
    public static func monotonicMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Monotonic microseconds: for latency measurements.
    public static func monotonicMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Unix time in milliseconds: for expiry (absolute, persisted) and INFO.
    public static func wallMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Unix time in microseconds (TIME command).
    public static func wallMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Unix time in seconds.
    public static func wallSeconds() -> Int64 { wallMillis() / 1000 }
}

/// Time that moves only when told to (tests of time-driven logic).
public final class ManualTime: @unchecked Sendable {
    /// The monotonic reading, ms.
    public var monotonicMillis: Int64
    /// The wall reading, unix ms.
    public var wallMillis: Int64

    /// Starts at the given readings (default: the real ones now, so absolute expiries stay sane).
    public init(monotonicMillis: Int64 = Clock.monotonicMillis(), wallMillis: Int64 = Clock.wallMillis()) {
        self.monotonicMillis = monotonicMillis
        self.wallMillis = wallMillis
    }

    /// Moves both readings forward.
    public func advance(by millis: Int64) {
        monotonicMillis += millis
        wallMillis += millis
    }
}

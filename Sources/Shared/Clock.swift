// Time sources. Logic that depends on time takes `now` as a parameter so tests can drive it;
// only the event loop and the top-level servers read these clocks.
#if canImport(Glibc)
import Glibc
#endif

/// Milliseconds and microseconds from the monotonic and the wall clock.
public enum Clock {
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

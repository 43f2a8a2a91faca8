// Log lines in Redis's format: `pid:role dd Mon yyyy HH:MM:SS.mmm <level-char> message`.
// Written with write(2) so lines show as they happen even when stdout is redirected.
#if canImport(Glibc)
import Glibc
#endif

/// Redis's log levels, in increasing severity.
public enum LogLevel: Int, Comparable, Sendable {
    case debug = 0, verbose, notice, warning, nothing

    public init?(name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "verbose": self = .verbose
        case "notice": self = .notice
        case "warning": self = .warning
        case "nothing": self = .nothing
        default: return nil
        }
    }
    public var name: String { ["debug", "verbose", "notice", "warning", "nothing"][rawValue] }
    var mark: String { [".", "-", "*", "#", " "][rawValue] }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The process logger: one per process, created in main and passed down.
public final class Logger {
    public var level: LogLevel = .notice
    /// The role letter: M master, S replica, C child, X sentinel.
    public var role: Character = "M"
    private var fd: Int32 = 1
    public private(set) var path: String = ""

    public init() {}

    /// Logs to `path`, or stdout when empty (Redis's `logfile ""`).
    public func setFile(_ path: String) throws {
        if fd > 2 { Posix.close(fd) }
        self.path = path
        if path.isEmpty { fd = 1; return }
        fd = try Posix.open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    }

    public func debug(_ msg: @autoclosure () -> String) { log(.debug, msg()) }
    public func verbose(_ msg: @autoclosure () -> String) { log(.verbose, msg()) }
    public func notice(_ msg: @autoclosure () -> String) { log(.notice, msg()) }
    public func warning(_ msg: @autoclosure () -> String) { log(.warning, msg()) }

    public func log(_ lvl: LogLevel, _ msg: @autoclosure () -> String) {
        guard lvl >= level, lvl != .nothing else { return }
        let line = "\(getpid()):\(role) \(Logger.timestamp()) \(lvl.mark) \(msg())\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
    }

    /// `21 Nov 2026 05:31:00.123` in local time, as Redis prints it.
    public static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var tmv = tm()
        localtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%d %b %Y %H:%M:%S", &tmv)
        let base = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let ms = Int(ts.tv_nsec / 1_000_000)
        return base + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms)
    }
}

/// Run IDs: 40 random hex characters, as Redis's `run_id` and replication IDs.
public enum RunID {
    public static func make() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var s = Bytes()
        s.reserveCapacity(40)
        for b in Posix.randomBytes(20) { s.append(hex[Int(b >> 4)]); s.append(hex[Int(b & 15)]) }
        return String(decoding: s, as: UTF8.self)
    }

    /// True for exactly 40 hex characters.
    public static func isValid(_ s: String) -> Bool {
        s.utf8.count == 40 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
    }
}

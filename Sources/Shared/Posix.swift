// The only place that reads errno. Every libc call that can fail goes through here, the way
// swift-nio's NIOPosix wraps them: EINTR is retried, EAGAIN becomes `.wouldBlock`, any other
// failure is thrown as an `IOError` naming the call, and EBADF/EFAULT trap, because passing a
// closed descriptor or a bad pointer is our bug, never a peer's doing.
// Files: Posix.swift (descriptors, files), Posix+Process.swift (fork, wait, signals),
// Posix+Socket.swift (sockets), Posix+Numbers.swift (strtold/strtoull with ERANGE).
import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// An I/O failure with the errno that caused it and the call that failed.
public struct IOError: Error, CustomStringConvertible, Sendable {
    /// The errno value.
    public let errnoCode: Int32
    /// The call (and its subject) that failed, e.g. "write" or "open dump.rdb".
    public let call: String
    /// An error from a known errno.
    public init(errnoCode: Int32, call: String) { self.errnoCode = errnoCode; self.call = call }
    /// "call: strerror".
    public var description: String { "\(call): \(Posix.strerror(errnoCode))" }
}

/// Result of a non-blocking call: done, or would block.
public enum IOResult<T> {
    case done(T)
    case wouldBlock
}

/// Thin, typed wrappers over libc.
public enum Posix {
    /// The text of an errno value.
    public static func strerror(_ code: Int32) -> String {
        guard let p = Glibc.strerror(code) else { return "errno \(code)" }
        return String(validatingCString: p) ?? "errno \(code)"
    }

    /// errno right after a failed call; only this module reads it.
    @usableFromInline static var errno: Int32 { vigil_errno() }

    /// EBADF and EFAULT mean we handed the kernel a closed descriptor or a bad pointer: a bug in
    /// this process, not something a peer or a file can cause, so continuing would hide it.
    @usableFromInline static func trapOnProgrammerError(_ e: Int32, _ call: String) {
        if e == EBADF || e == EFAULT {
            fatalError("unacceptable errno \(e) (\(strerror(e))) from \(call): a descriptor or buffer bug")
        }
    }

    /// Runs `body` until it does not fail with EINTR; maps EAGAIN to `.wouldBlock`.
    @inline(__always)
    public static func syscall<T: FixedWidthInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws -> IOResult<T> {
        while true {
            let r = body()
            if r >= 0 { return .done(r) }
            let e = vigil_errno()
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            trapOnProgrammerError(e, call())
            throw IOError(errnoCode: e, call: call())
        }
    }

    /// As `syscall`, for blocking descriptors and calls that never return EAGAIN.
    @inline(__always)
    public static func blocking<T: FixedWidthInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws -> T {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = vigil_errno()
            if e == EINTR { continue }
            trapOnProgrammerError(e, call())
            throw IOError(errnoCode: e, call: call())
        }
    }

    // MARK: - File descriptors

    /// read(2) on a non-blocking descriptor.
    public static func read(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ count: Int) throws -> IOResult<Int> {
        try syscall("read") { Glibc.read(fd, buf, count) }
    }

    /// write(2) on a non-blocking descriptor.
    public static func write(_ fd: Int32, _ buf: UnsafeRawPointer, _ count: Int) throws -> IOResult<Int> {
        try syscall("write") { Glibc.write(fd, buf, count) }
    }

    /// Writes everything, for blocking descriptors (files, pipes in children).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var off = 0
        while off < bytes.count {
            let n = try blocking("write") { Glibc.write(fd, base + off, bytes.count - off) }
            off += n
        }
    }

    /// Writes a whole array to a blocking descriptor.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0) }
    }

    /// close(2). Not retried on EINTR: on Linux the descriptor is gone either way.
    public static func close(_ fd: Int32) {
        if Glibc.close(fd) != 0 { trapOnProgrammerError(vigil_errno(), "close") }
    }

    /// open(2) with O_CLOEXEC.
    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws -> Int32 {
        try blocking("open \(path)") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// fsync(2).
    public static func fsync(_ fd: Int32) throws {
        _ = try blocking("fsync") { Glibc.fsync(fd) }
    }

    /// fdatasync(2): the data and the metadata needed to read it back (the AOF's sync).
    public static func fdatasync(_ fd: Int32) throws {
        _ = try blocking("fdatasync") { Glibc.fdatasync(fd) }
    }

    /// The size of an open file (lseek to the end).
    public static func seekEnd(_ fd: Int32) throws -> Int {
        Int(try blocking("lseek") { Glibc.lseek(fd, 0, SEEK_END) })
    }

    /// ftruncate(2).
    public static func truncate(_ fd: Int32, to size: Int) throws {
        _ = try blocking("ftruncate") { Glibc.ftruncate(fd, off_t(size)) }
    }

    /// truncate(2) by path.
    public static func truncate(_ path: String, to size: Int) throws {
        _ = try blocking("truncate \(path)") { Glibc.truncate(path, off_t(size)) }
    }

    /// rename(2).
    public static func rename(_ from: String, _ to: String) throws {
        _ = try blocking("rename") { Glibc.rename(from, to) }
    }

    /// unlink(2); a missing file is not an error worth reporting.
    public static func unlink(_ path: String) { _ = Glibc.unlink(path) }

    /// mkdir(2); an existing directory is fine.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        if Glibc.mkdir(path, mode) == 0 { return }
        let e = errno
        if e == EEXIST { return }
        throw IOError(errnoCode: e, call: "mkdir \(path)")
    }

    /// Sets O_NONBLOCK.
    public static func setNonBlocking(_ fd: Int32) throws {
        let flags = try blocking("fcntl") { fcntl(fd, F_GETFL) }
        _ = try blocking("fcntl") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Size of a file by path, nil if it cannot be stat'ed.
    public static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// Reads a whole file; nil if it does not exist.
    public static func readFile(_ path: String) throws -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ENOENT { return nil }
            throw IOError(errnoCode: e, call: "open \(path)")
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { p in
                try blocking("read \(path)") { Glibc.read(fd, p.baseAddress!, p.count) }
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Writes a file atomically: temp file in the same directory, fsync, rename, fsync the directory.
    /// A crash at any moment leaves either the old or the new file, never a torn one.
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let tmp = path + ".tmp-\(getpid())"
        let fd = try open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        do {
            try writeAll(fd, bytes)
            try fsync(fd)
        } catch {
            close(fd); unlink(tmp); throw error
        }
        close(fd)
        do { try rename(tmp, path) } catch { unlink(tmp); throw error }
        fsyncDirectory(of: path)
    }

    /// fsyncs the directory holding `path` so a rename survives a power loss.
    public static func fsyncDirectory(of path: String) {
        var dir = "."
        if let slash = path.lastIndex(of: "/") {
            dir = slash == path.startIndex ? "/" : String(path[..<slash])
        }
        let dfd = Glibc.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = Glibc.fsync(dfd); close(dfd) }
    }

    /// Whether `path` exists.
    public static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether `path` may be written.
    public static func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }

    /// Why `path` may not be written, or nil if it may.
    public static func writableError(_ path: String) -> IOError? {
        access(path, W_OK) == 0 ? nil : IOError(errnoCode: errno, call: "access \(path)")
    }

    /// Whether `path` exists and may be executed.
    public static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }

    /// The working directory.
    public static func getcwd() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard Glibc.getcwd(&buf, buf.count) != nil else { return "." }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// chdir(2).
    public static func chdir(_ path: String) throws {
        _ = try blocking("chdir \(path)") { Glibc.chdir(path) }
    }

    /// Bytes from getrandom(2), or the stdlib generator where it is unavailable.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = out.withUnsafeMutableBytes { getrandom($0.baseAddress! + filled, count - filled, 0) }
            if n <= 0 { break }
            filled += n
        }
        if filled < count {  // getrandom unavailable: fall back to the stdlib generator.
            var g = SystemRandomNumberGenerator()
            for i in filled..<count { out[i] = UInt8.random(in: 0...255, using: &g) }
        }
        return out
    }

    /// Sleeps the whole process for `seconds`, resuming after signals (DEBUG SLEEP).
    public static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var rest = timespec()
        while nanosleep(&ts, &rest) != 0 && errno == EINTR { ts = rest }
    }
}

extension Posix {
    /// The result of a non-blocking connect(2): 0 or EINPROGRESS (completion is reported through
    /// writability) are fine, anything else is thrown.
    public static func checkConnect(_ r: Int32, _ call: @autoclosure () -> String) throws {
        guard r < 0 else { return }
        let e = errno
        if e == EINPROGRESS || e == EINTR { return }
        trapOnProgrammerError(e, call())
        throw IOError(errnoCode: e, call: call())
    }
}

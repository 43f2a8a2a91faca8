// The only file that reads errno. Every libc call the runtime makes goes through here, the way
// swift-nio's NIOPosix wraps them: EINTR is retried, EAGAIN becomes `.wouldBlock`.
import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// An I/O failure with the errno that caused it and the call that failed.
public struct IOError: Error, CustomStringConvertible, Sendable {
    public let errnoCode: Int32
    public let call: String
    public init(errnoCode: Int32, call: String) { self.errnoCode = errnoCode; self.call = call }
    public var description: String { "\(call): \(Posix.strerror(errnoCode))" }
}

/// Result of a non-blocking call: done, or would block.
public enum IOResult<T> {
    case done(T)
    case wouldBlock
}

/// Thin, typed wrappers over libc.
public enum Posix {
    public static func strerror(_ code: Int32) -> String {
        guard let p = Glibc.strerror(code) else { return "errno \(code)" }
        return String(validatingCString: p) ?? "errno \(code)"
    }

    public static var errno: Int32 { vigil_errno() }

    /// Runs `body` until it does not fail with EINTR; maps EAGAIN to `.wouldBlock`.
    @inline(__always)
    static func syscall<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws -> IOResult<T> {
        while true {
            let r = body()
            if r >= 0 { return .done(r) }
            let e = vigil_errno()
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            throw IOError(errnoCode: e, call: call)
        }
    }

    @inline(__always)
    static func blocking<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws -> T {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = vigil_errno()
            if e == EINTR { continue }
            throw IOError(errnoCode: e, call: call)
        }
    }

    // MARK: - File descriptors

    public static func read(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ count: Int) throws -> IOResult<Int> {
        try syscall("read") { Glibc.read(fd, buf, count) }
    }

    public static func write(_ fd: Int32, _ buf: UnsafeRawPointer, _ count: Int) throws -> IOResult<Int> {
        try syscall("write") { Glibc.write(fd, buf, count) }
    }

    /// Writes everything, for blocking descriptors (files, pipes in children).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < bytes.count {
            let n = try blocking("write") { Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off) }
            off += n
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        let r: Result<Void, IOError> = bytes.withUnsafeBytes { p in
            do { try writeAll(fd, p); return .success(()) } catch { return .failure(error as? IOError ?? IOError(errnoCode: 5, call: "io")) }
        }
        try r.get()
    }

    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)  // close is not retried on EINTR on Linux: the fd is gone either way.
    }

    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws -> Int32 {
        try blocking("open \(path)") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    public static func fsync(_ fd: Int32) throws {
        _ = try blocking("fsync") { Glibc.fsync(fd) }
    }

    public static func rename(_ from: String, _ to: String) throws {
        _ = try blocking("rename") { Glibc.rename(from, to) }
    }

    public static func unlink(_ path: String) { _ = Glibc.unlink(path) }

    public static func setNonBlocking(_ fd: Int32) throws {
        let flags = try blocking("fcntl") { fcntl(fd, F_GETFL) }
        _ = try blocking("fcntl") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Reads a whole file; nil if it does not exist.
    public static func readFile(_ path: String) throws -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = vigil_errno()
            if e == ENOENT { return nil }
            throw IOError(errnoCode: e, call: "open \(path)")
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let r: Result<Int, IOError> = chunk.withUnsafeMutableBytes { p in
                do { return .success(try blocking("read \(path)") { Glibc.read(fd, p.baseAddress!, p.count) }) }
                catch { return .failure(error as? IOError ?? IOError(errnoCode: 5, call: "io")) }
            }
            let n = try r.get()
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

    public static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }

    // MARK: - Process

    public static func pid() -> Int32 { getpid() }

    public static func ignoreSIGPIPE() { _ = signal(SIGPIPE, SIG_IGN) }

    /// Blocks SIGTERM/SIGINT and returns a non-blocking signalfd that reports them.
    public static func makeSignalFD(_ signals: [Int32]) throws -> Int32 {
        var mask = sigset_t()
        sigemptyset(&mask)
        for s in signals { sigaddset(&mask, s) }
        _ = try blocking("sigprocmask") { sigprocmask(SIG_BLOCK, &mask, nil) }
        return try blocking("signalfd") { signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }
    }

    /// Unblocks the given signals (for forked children that must die on SIGTERM/SIGKILL normally).
    public static func unblockSignals(_ signals: [Int32]) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for s in signals { sigaddset(&mask, s) }
        sigprocmask(SIG_UNBLOCK, &mask, nil)
    }

    /// Reads one signal number from a signalfd, or nil if none is pending.
    public static func readSignal(_ fd: Int32) -> Int32? {
        var info = signalfd_siginfo()
        let n = withUnsafeMutableBytes(of: &info) { Glibc.read(fd, $0.baseAddress!, $0.count) }
        guard n == MemoryLayout<signalfd_siginfo>.size else { return nil }
        return Int32(info.ssi_signo)
    }

    /// Redis's daemonize(): fork (the parent exits), setsid, stdio to /dev/null. False if fork failed.
    public static func daemonize() -> Bool {
        let pid = fork()
        if pid < 0 { return false }
        if pid > 0 { exit(0) }
        setsid()
        let fd = Glibc.open("/dev/null", O_RDWR)
        if fd >= 0 {
            dup2(fd, 0); dup2(fd, 1); dup2(fd, 2)
            if fd > 2 { Glibc.close(fd) }
        }
        return true
    }

    public static func getcwd() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard Glibc.getcwd(&buf, buf.count) != nil else { return "." }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func chdir(_ path: String) throws {
        _ = try blocking("chdir \(path)") { Glibc.chdir(path) }
    }

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
}

// Processes and signals: pid, SIGPIPE, the signalfd the loop reads, daemonize, and the raw fork /
// waitpid / kill calls that `ChildProcess` builds on.
import CSystem
#if canImport(Glibc)
import Glibc
#endif

extension Posix {
    /// Our process id.
    /// The running binary's absolute path (/proc/self/exe), as INFO's `executable` reports it.
    public static func executablePath() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return "" }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func pid() -> Int32 { getpid() }

    /// Ignores SIGPIPE: a peer closing its socket must show up as EPIPE, not kill us.
    public static func ignoreSIGPIPE() { _ = signal(SIGPIPE, SIG_IGN) }

    /// Blocks `signals` and returns a non-blocking signalfd that reports them.
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
        let pid = Glibc.fork()
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

    /// How a child ended, decoded from a wait status.
    public enum ExitStatus: Equatable, Sendable {
        /// exit(code) or _exit(code).
        case exited(Int32)
        /// Killed by a signal.
        case signaled(Int32)

        /// Decodes Linux's wait-status layout: low 7 bits the signal, the next byte the exit code.
        public init(waitStatus status: Int32) {
            let sig = status & 0x7f
            if sig != 0 && sig != 0x7f { self = .signaled(sig) } else { self = .exited((status >> 8) & 0xff) }
        }

        /// exit code 0.
        public var succeeded: Bool { self == .exited(0) }
        /// The exit code, 0 if killed.
        public var code: Int32 { if case .exited(let c) = self { return c }; return 0 }
        /// The signal, 0 if it exited.
        public var signal: Int32 { if case .signaled(let s) = self { return s }; return 0 }
    }

    /// fork(2): the child's pid in the parent, 0 in the child.
    public static func fork() throws -> pid_t {
        try blocking("fork") { Glibc.fork() }
    }

    /// waitpid(pid, WNOHANG): the status if `pid` ended, nil if it still runs. A child that is no
    /// longer ours (ECHILD: someone reaped it) counts as a failure, so callers never wait forever.
    public static func reap(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return ExitStatus(waitStatus: status) }
            if r == 0 { return nil }
            let e = errno
            if e == EINTR { continue }
            return .exited(1)
        }
    }

    /// waitpid(-1, WNOHANG): any one finished child, or nil.
    public static func reapAny() -> (pid: pid_t, status: ExitStatus)? {
        var status: Int32 = 0
        while true {
            let r = waitpid(-1, &status, WNOHANG)
            if r > 0 { return (r, ExitStatus(waitStatus: status)) }
            if r < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// Blocks until `pid` ends.
    public static func waitFor(_ pid: pid_t) -> ExitStatus {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, 0)
            if r == pid { return ExitStatus(waitStatus: status) }
            if r < 0 && errno == EINTR { continue }
            return .exited(1)
        }
    }

    /// kill(2); a process that is already gone is not an error.
    public static func kill(_ pid: pid_t, _ signal: Int32) {
        _ = Glibc.kill(pid, signal)
    }
}

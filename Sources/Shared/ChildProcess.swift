// One way to run a child process, for BGSAVE, AOF rewrites and the sentinel's scripts: fork (a
// body that only writes and exits, or an exec), reap without blocking from the cron, kill, and the
// decoded exit status. The child never returns into the parent's machinery: it leaves with _exit.
#if canImport(Glibc)
import Glibc
#endif

/// A forked child process.
public final class ChildProcess {
    /// The child's pid.
    public let pid: pid_t
    /// When it was forked (monotonic ms), for INFO's *_in_progress durations.
    public let startedMillis: Int64
    /// The exit status once reaped.
    public private(set) var status: Posix.ExitStatus? = nil

    private init(pid: pid_t, startedMillis: Int64) {
        self.pid = pid
        self.startedMillis = startedMillis
    }

    /// Forks. The child unblocks SIGTERM/SIGINT (the parent routes them through its signalfd),
    /// runs `body` and `_exit`s with what it returns; the parent gets the handle. `clock` is the
    /// caller's (its durations are measured against the start read from it).
    ///
    /// The child has only the forking thread: a lock another thread (vigil-node's lazyfree
    /// worker, a resolver thread) held at the fork stays held in it forever. So `body` must take
    /// no lock of ours, resolve no names and wait for no thread; it writes and exits. glibc's fork
    /// re-initializes malloc's own locks, so allocating is safe.
    public static func fork(clock: Clock, _ body: () -> Int32) throws -> ChildProcess {
        let pid = try Posix.fork()
        if pid == 0 {
            Posix.unblockSignals([SIGTERM, SIGINT])
            _exit(body())
        }
        return ChildProcess(pid: pid, startedMillis: clock.monotonicMillis())
    }

    /// Forks and execs `argv[0]` with `argv`. A program that cannot be executed exits with
    /// code 2 (the sentinel does not retry those, as Redis).
    public static func spawn(_ argv: [String], clock: Clock) throws -> ChildProcess {
        guard let path = argv.first else { throw IOError(errnoCode: ENOENT, call: "exec") }
        // Built before the fork: the child must not allocate (another thread of the runtime may
        // hold the malloc lock at fork time).
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        let pid = try Posix.fork()
        if pid == 0 {
            Posix.unblockSignals([SIGTERM, SIGINT])
            execv(path, cargs)
            _exit(2)
        }
        return ChildProcess(pid: pid, startedMillis: clock.monotonicMillis())
    }

    /// The exit status if the child has ended (reaping it), else nil. Never blocks.
    @discardableResult
    public func reap() -> Posix.ExitStatus? {
        if let s = status { return s }
        status = Posix.reap(pid)
        return status
    }

    /// Sends `signal` unless the child was already reaped.
    public func kill(_ signal: Int32 = SIGKILL) {
        guard status == nil else { return }
        Posix.kill(pid, signal)
    }

    /// Stops the child now and waits for it: SIGUSR1 first (a save child treats it as "abort
    /// without error", as Redis's do), then SIGKILL.
    @discardableResult
    public func terminate() -> Posix.ExitStatus {
        if let s = status { return s }
        Posix.kill(pid, SIGUSR1)
        Posix.kill(pid, SIGKILL)
        let s = Posix.waitFor(pid)
        status = s
        return s
    }

    /// Reaps any one finished child of this process (for callers that track pids themselves).
    public static func reapAny() -> (pid: pid_t, status: Posix.ExitStatus)? { Posix.reapAny() }

    /// Sends `signal` to a pid known from `reapAny` bookkeeping.
    public static func kill(pid: pid_t, _ signal: Int32 = SIGKILL) { Posix.kill(pid, signal) }
}

// The notification/client-reconfig script jobs, with Redis's rules (sentinel.c, "SCRIPTS
// EXECUTION"): at most 16 running and 256 queued, a job killed after 60 s, and a job that exits
// with 1 or dies by a signal retried up to 10 times with a doubling delay from 30 s. Pure
// bookkeeping with `now` passed in: forking and reaping live in Sentinel+Scripts.swift.

/// One script execution: its argv, and its run/retry state.
struct ScriptJob: Equatable, Sendable {
    /// The script path followed by its arguments.
    var argv: [String]
    /// Retries done so far (Redis's retry_num: incremented when the job starts).
    var retryNum = 0
    /// When running: when it started; when scheduled: the earliest start time.
    var startTime: Int64
    /// Non-zero while running.
    var pid: Int32 = 0
    /// True while the child runs.
    var running: Bool { pid != 0 }
}

/// The queue of script jobs (Redis's sentinel.scripts_queue).
struct ScriptQueue: Sendable {
    /// Scripts running at once (SENTINEL_SCRIPT_MAX_RUNNING).
    static let maxRunning = 16
    /// Jobs kept, running or not (SENTINEL_SCRIPT_MAX_QUEUE).
    static let maxQueued = 256
    /// Attempts before giving up (SENTINEL_SCRIPT_MAX_RETRY).
    static let maxRetries = 10
    /// A script running longer is killed (SENTINEL_SCRIPT_MAX_RUNTIME, ms; SENTINEL DEBUG
    /// SCRIPT-MAX-RUNTIME changes it).
    var maxRuntime: Int64 = 60_000
    /// Delay before the first retry, doubled for each further one (ms; SCRIPT-RETRY-DELAY).
    var retryDelay: Int64 = 30_000

    /// Jobs in arrival order.
    private(set) var jobs: [ScriptJob] = []

    /// Jobs currently running.
    var runningCount: Int { jobs.reduce(0) { $0 + ($1.running ? 1 : 0) } }

    /// Queues a job; when the queue is full the oldest job not running is dropped, as Redis does.
    /// Returns false when nothing could be dropped (every job is running).
    @discardableResult
    mutating func schedule(_ argv: [String], now: Int64) -> Bool {
        if jobs.count >= ScriptQueue.maxQueued {
            guard let i = jobs.firstIndex(where: { !$0.running }) else { return false }
            jobs.remove(at: i)
        }
        jobs.append(ScriptJob(argv: argv, startTime: now))
        return true
    }

    /// Jobs due to start now (not running, start time reached), within the running limit. The
    /// caller starts them and reports each pid with `started`.
    func due(now: Int64) -> [Int] {
        var out: [Int] = []
        var running = runningCount
        for (i, j) in jobs.enumerated() where !j.running && j.startTime <= now && running < ScriptQueue.maxRunning {
            out.append(i)
            running += 1
        }
        return out
    }

    /// Records that the job at `index` was started as `pid` (or, with pid 0, could not be forked:
    /// that counts as a failed attempt).
    mutating func started(_ index: Int, pid: Int32, now: Int64) {
        guard jobs.indices.contains(index) else { return }
        jobs[index].retryNum += 1
        jobs[index].startTime = now
        jobs[index].pid = pid
        if pid == 0 { jobs[index].startTime = now + delay(forRetry: jobs[index].retryNum) }
    }

    /// What became of a finished child.
    enum Outcome: Equatable, Sendable {
        /// Exit 0, or a failure not worth retrying (exit code ≥ 2).
        case done(argv: [String], exitCode: Int32, signal: Int32)
        /// Exit 1 or killed by a signal: scheduled again.
        case retry(argv: [String], at: Int64)
        /// Retries exhausted.
        case gaveUp(argv: [String], exitCode: Int32, signal: Int32)
    }

    /// Handles the end of child `pid`; nil when it is not one of ours.
    mutating func finished(pid: Int32, exitCode: Int32, signal: Int32, now: Int64) -> Outcome? {
        guard pid > 0, let i = jobs.firstIndex(where: { $0.pid == pid }) else { return nil }
        let argv = jobs[i].argv
        if signal != 0 || exitCode == 1 {
            if jobs[i].retryNum < ScriptQueue.maxRetries {
                jobs[i].pid = 0
                jobs[i].startTime = now + delay(forRetry: jobs[i].retryNum)
                return .retry(argv: argv, at: jobs[i].startTime)
            }
            jobs.remove(at: i)
            return .gaveUp(argv: argv, exitCode: exitCode, signal: signal)
        }
        jobs.remove(at: i)
        return .done(argv: argv, exitCode: exitCode, signal: signal)
    }

    /// Pids of running jobs older than the maximum runtime (to be killed; their end is reported
    /// through `finished` like any other).
    func timedOut(now: Int64) -> [Int32] {
        jobs.filter { $0.running && now - $0.startTime > maxRuntime }.map(\.pid)
    }

    /// 30 s for the first retry, doubling after each further one (Redis's sentinelScriptRetryDelay).
    func delay(forRetry retryNum: Int) -> Int64 {
        var d = retryDelay
        var n = retryNum
        while n > 1 && d < Int64.max / 4 { d *= 2; n -= 1 }
        return d
    }
}

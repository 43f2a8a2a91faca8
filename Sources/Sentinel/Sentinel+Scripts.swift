// notification-script and client-reconfig-script: jobs queued in a `ScriptQueue`, run in child
// processes from the timer, never waited on synchronously; finished children are reaped, failed
// ones retried and slow ones killed, as Redis does.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// Exits the process (used by SIMULATE-FAILURE and fatal start-up errors).
func exitProcess(_ code: Int32) -> Never { exit(code) }

extension Sentinel {
    /// Queues `[path, args...]` to run at the next tick.
    func queueScript(_ argv: [String]) {
        if !scripts.schedule(argv, now: previousTime) {
            log.warning("-script-error: too many scripts queued, dropping \(argv.first ?? "")")
        }
    }

    /// `client-reconfig-script <master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>`.
    func callClientReconfigScript(_ m: MonitoredInstance, role: String, state: String, from: InstanceAddress, to: InstanceAddress) {
        guard let script = m.clientReconfigScript else { return }
        queueScript([script, m.name, role, state, announced(from), String(from.port), announced(to), String(to.port)])
    }

    /// Reaps finished children (retrying failures), kills scripts over the time limit, and starts
    /// the jobs that are due.
    func runPendingScripts(now: Int64) {
        while scripts.runningCount > 0, let (pid, status) = ChildProcess.reapAny() {
            let code = status.code, signal = status.signal
            event(.debug, "-script-child", message: "\(pid) \(code) \(signal)")
            switch scripts.finished(pid: pid, exitCode: code, signal: signal, now: now) {
            case .gaveUp(let argv, let c, let s)?:
                event(.warning, "-script-error", message: "\(argv.first ?? "") \(s) \(c)")
            case .done(let argv, let c, let s)? where c != 0 || s != 0:
                event(.warning, "-script-error", message: "\(argv.first ?? "") \(s) \(c)")
            default: break
            }
        }
        for pid in scripts.timedOut(now: now) {
            let path = scripts.jobs.first { $0.pid == pid }?.argv.first ?? ""
            event(.warning, "-script-timeout", message: "\(path) \(pid)")
            ChildProcess.kill(pid: pid, SIGKILL)
        }
        for i in scripts.due(now: now) {
            let argv = scripts.jobs[i].argv
            guard let path = argv.first else { continue }
            // A script that cannot be executed exits with code 2 and is not retried.
            let child = try? ChildProcess.spawn(argv, clock: clock)
            if child == nil { event(.warning, "-script-error", message: "\(path) 99 0") }
            scripts.started(i, pid: child?.pid ?? 0, now: now)
        }
    }

    /// SENTINEL PENDING-SCRIPTS: one map per job (argv, flags, pid, run-time|run-delay, retry-num).
    func writePendingScripts(_ out: inout RESPWriter, proto: Int, now: Int64) {
        out.arrayHeader(scripts.jobs.count)
        for j in scripts.jobs {
            if proto >= 3 { out.mapHeader(5) } else { out.arrayHeader(10) }
            out.bulk("argv")
            out.arrayHeader(j.argv.count)
            for a in j.argv { out.bulk(a) }
            out.bulk("flags"); out.bulk(j.running ? "running" : "scheduled")
            out.bulk("pid"); out.bulk(String(j.pid))
            if j.running {
                out.bulk("run-time"); out.bulk(String(now - j.startTime))
            } else {
                out.bulk("run-delay"); out.bulk(String(max(0, j.startTime - now)))
            }
            out.bulk("retry-num"); out.bulk(String(j.retryNum))
        }
    }
}

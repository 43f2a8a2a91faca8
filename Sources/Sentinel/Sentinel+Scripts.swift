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
        queueScript([script, m.name, role, state, from.ip, String(from.port), to.ip, String(to.port)])
    }

    /// Reaps finished children (retrying failures), kills scripts over the time limit, and starts
    /// the jobs that are due.
    func runPendingScripts(now: Int64) {
        var status: Int32 = 0
        while scripts.runningCount > 0 {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            // The wait-status layout of Linux: low 7 bits the terminating signal, next byte the exit code.
            let sig = status & 0x7f
            let signal: Int32 = sig != 0 && sig != 0x7f ? sig : 0
            let code: Int32 = signal == 0 ? (status >> 8) & 0xff : 0
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
            kill(pid, SIGKILL)
        }
        for i in scripts.due(now: now) {
            let argv = scripts.jobs[i].argv
            guard let path = argv.first else { continue }
            let cargs = argv.map { strdup($0) } + [nil]
            defer { for a in cargs { free(a) } }
            let pid = fork()
            if pid == 0 {
                execv(path, cargs)
                // Exit code 2: a script that cannot be executed is not retried.
                _exit(2)
            }
            if pid < 0 { event(.warning, "-script-error", message: "\(path) 99 0") }
            scripts.started(i, pid: max(pid, 0), now: now)
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

// notification-script and client-reconfig-script: run in a child process, never waited on
// synchronously; finished children are reaped from the timer.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// Exits the process (used by SIMULATE-FAILURE and fatal start-up errors).
func exitProcess(_ code: Int32) -> Never { exit(code) }

extension Sentinel {
    /// Redis's limit on concurrently running scripts.
    static let maxRunningScripts = 16

    /// Queues `[path, args...]` to run.
    func queueScript(_ argv: [String]) {
        guard scriptQueue.count < 256 else {
            log.warning("-script-error: too many scripts queued, dropping")
            return
        }
        scriptQueue.append(argv)
    }

    /// `client-reconfig-script <master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>`.
    func callClientReconfigScript(_ m: MonitoredInstance, role: String, state: String, from: InstanceAddress, to: InstanceAddress) {
        guard let script = m.clientReconfigScript else { return }
        queueScript([script, m.name, role, state, from.ip, String(from.port), to.ip, String(to.port)])
    }

    /// Starts queued scripts and reaps finished ones.
    func runPendingScripts() {
        var status: Int32 = 0
        while runningScripts > 0 {
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            runningScripts -= 1
        }
        while runningScripts < Sentinel.maxRunningScripts, !scriptQueue.isEmpty {
            let argv = scriptQueue.removeFirst()
            let cargs = argv.map { strdup($0) } + [nil]
            defer { for a in cargs { free(a) } }
            let pid = fork()
            if pid == 0 {
                execv(cargs[0]!, cargs)
                _exit(2)
            }
            if pid > 0 { runningScripts += 1 } else { log.warning("-script-error fork failed for \(argv[0])") }
        }
    }
}

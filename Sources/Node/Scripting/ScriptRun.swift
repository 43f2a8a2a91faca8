// The state of the one script running now (Redis's scriptRunCtx, script.c): who called it, what
// it may do (its flags), whether it wrote, whether it passed busy-reply-threshold (then the node
// serves other clients -BUSY from inside the script) and whether SCRIPT KILL / FUNCTION KILL asked
// it to stop. The checks a script's command goes through before `call` live here too, in Redis's
// order (scriptCall).
import Shared

/// Script flags (shebang `flags=` for EVAL, `flags` of redis.register_function), as Redis's
/// SCRIPT_FLAG_*.
struct ScriptFlags: OptionSet {
    let rawValue: UInt8
    static let noWrites = ScriptFlags(rawValue: 1 << 0)
    static let allowOOM = ScriptFlags(rawValue: 1 << 1)
    static let allowStale = ScriptFlags(rawValue: 1 << 2)
    static let noCluster = ScriptFlags(rawValue: 1 << 3)
    static let allowCrossSlot = ScriptFlags(rawValue: 1 << 4)
    /// An EVAL script without a shebang: Redis 6's rules (each command is judged by itself).
    static let evalCompat = ScriptFlags(rawValue: 1 << 5)

    /// The names Redis accepts, in its order.
    static let names: [(String, ScriptFlags)] = [
        ("no-writes", .noWrites), ("allow-oom", .allowOOM), ("allow-stale", .allowStale),
        ("no-cluster", .noCluster), ("allow-cross-slot-keys", .allowCrossSlot),
    ]

    /// The flag names, for FUNCTION LIST.
    var nameList: [String] { ScriptFlags.names.filter { contains($0.1) }.map { $0.0 } }
}

/// The run in progress.
final class ScriptRun {
    /// The client that sent EVAL/FCALL.
    let caller: Client
    /// EVAL (SCRIPT KILL) or FCALL (FUNCTION KILL).
    let isEval: Bool
    /// The script's sha or the function's name (logs).
    let name: String
    /// Writes are refused (no-writes, *_RO).
    let readOnly: Bool
    let allowOOM: Bool
    /// The caller is our master or the AOF: never refused, never killable.
    let obey: Bool
    let startedAt: Int64
    /// The wall clock when the script started: key expiry inside the script is judged at this
    /// time (Redis's snapshot_time), so a key cannot expire between two of its commands and what
    /// it propagates stays consistent with what it saw.
    let timeSnapshot: Int64
    /// A write command ran: the script can no longer be killed or refused for the server state.
    var writeDirty = false
    /// Past busy-reply-threshold: others get -BUSY.
    var timedOut = false
    /// SCRIPT KILL / FUNCTION KILL asked to stop it.
    var killed = false
    /// redis.set_repl: bit 1 = AOF, bit 2 = replicas.
    var replFlags = 3

    init(caller: Client, isEval: Bool, name: String, readOnly: Bool, allowOOM: Bool, obey: Bool, startedAt: Int64,
         timeSnapshot: Int64) {
        self.caller = caller
        self.isEval = isEval
        self.name = name
        self.readOnly = readOnly
        self.allowOOM = allowOOM
        self.obey = obey
        self.startedAt = startedAt
        self.timeSnapshot = timeSnapshot
    }
}

extension Server {
    /// The refusals before a script starts (scriptPrepareForRun); nil when it may run.
    func scriptPrepareRefusal(_ c: Client, flags: ScriptFlags, readOnlyCommand: Bool) -> String? {
        let obey = !c.flags.isDisjoint(with: [.master, .aofLoader])
        let runningStale = isReplica && !masterLinkUp && !config.replicaServeStaleData
        if flags.contains(.evalCompat) {
            return runningStale ? "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." : nil
        }
        if runningStale && !flags.contains(.allowStale) {
            return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script."
        }
        if !flags.contains(.noWrites) {
            if isReplica && config.replicaReadOnly && !obey {
                return "READONLY Can not run script with write flag on readonly replica"
            }
            if !obey, let refusal = writeRefusal(), refusal.hasPrefix("MISCONF") {
                return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."
            }
            if readOnlyCommand {
                return "ERR Can not execute a script with write flag using *_ro command."
            }
            if !isReplica && config.minReplicasToWrite > 0 && config.minReplicasMaxLag > 0
                && replication.goodReplicaCount(now: clock.monotonicMillis()) < config.minReplicasToWrite {
                return CommandError.noReplicas.message
            }
        }
        // Under maxmemory only scripts that declared allow-oom or no-writes start (a shebang
        // script that may write was refused by processCommand already, with the plain OOM text).
        if !flags.contains(.evalCompat) && flags.isDisjoint(with: [.allowOOM, .noWrites])
            && config.maxmemory > 0 && eviction.preCommandOOM {
            return "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
        }
        return nil
    }

    /// Why the script's command in `sc.argv` must not run (scriptCall's checks), or nil. The text
    /// is Redis's: with an error code ("-READONLY ...") or without (then ERR is added).
    func scriptCommandRefusal(_ run: ScriptRun, _ sc: Client, _ cmd: borrowing CommandSpec) -> String? {
        if !CommandReply.arityMatches(cmd.arity, sc.argc) {
            return "Wrong number of args calling Redis command from script"
        }
        if !scriptDenyDisabled && (cmd.flags.contains(.noscript) || cmd.name == "script" || cmd.name == "function") {
            if cmd.flags.contains(.noscript) || !scriptSubcommandAllowed(cmd.name, sc) {
                return "This Redis command is not allowed from script"
            }
        }
        if isReplica && !masterLinkUp && !config.replicaServeStaleData && !cmd.flags.contains(.stale) {
            return "Can not execute the command on a stale replica"
        }
        if let user = sc.user {
            if let denial = user.check(cmd, sc.argv) {
                let object = denial == .command ? Server.fullCommandName(cmd, sc.argv) : sc.argv[denial.position].text
                addACLLog(run.caller, reason: denial.logReason, object: object, username: user.name, context: "lua")
                return "The user executing the script " + denial.scriptReason
            }
        }
        let writes = cmd.flags.contains(.write)
        if run.readOnly && (writes || cmd.flags.contains(.mayReplicate)) {
            return "Write commands are not allowed from read-only scripts."
        }
        if writes && !run.writeDirty && !run.obey {
            if isReplica && config.replicaReadOnly {
                return "-READONLY You can't write against a read only replica."
            }
            if let refusal = writeRefusal() { return "-" + refusal }
        }
        // scriptVerifyOOM: over maxmemory when the script started, its first command that may
        // grow memory is refused; once it wrote, it cannot be stopped halfway.
        if !run.allowOOM && config.maxmemory > 0 && !run.obey && !run.writeDirty && eviction.preCommandOOM
            && cmd.flags.contains(.denyOOM) {
            return "-" + Server.oomMessage
        }
        return nil
    }

    /// SCRIPT and FUNCTION are refused inside scripts except for their read-only subcommands
    /// (Redis marks SCRIPT LOAD/FLUSH/KILL... noscript, not the container).
    private func scriptSubcommandAllowed(_ name: String, _ sc: Client) -> Bool {
        guard sc.argc >= 2 else { return true }
        let sub = sc.option(1)
        if name == "script" { return sub == "HELP" }
        return sub == "HELP"
    }
}

// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FCALL, FCALL_RO and FUNCTION (eval.c, functions.c).
// The scripts and libraries themselves live in Scripting/.
import Lua
import Shared

extension CommandTable {
    static var scripting: [CommandSpec] {
        var specs = [
            CommandSpec("eval", -3, [.noscript, .skipMonitor, .mayReplicate, .stale], ["slow", "scripting"], keys: (3, 2, 1)) { s, c in
                try s.evalCommand(c, sha: false, readOnly: false)
            },
            CommandSpec("evalsha", -3, [.noscript, .skipMonitor, .mayReplicate, .stale], ["slow", "scripting"], keys: (3, 2, 1)) { s, c in
                try s.evalCommand(c, sha: true, readOnly: false)
            },
            CommandSpec("eval_ro", -3, [.noscript, .skipMonitor, .stale, .readonly], ["slow", "scripting"], keys: (3, 2, 1)) { s, c in
                try s.evalCommand(c, sha: false, readOnly: true)
            },
            CommandSpec("evalsha_ro", -3, [.noscript, .skipMonitor, .stale, .readonly], ["slow", "scripting"], keys: (3, 2, 1)) { s, c in
                try s.evalCommand(c, sha: true, readOnly: true)
            },
            CommandSpec("fcall", -3, [.noscript, .skipMonitor, .mayReplicate, .stale], ["slow", "scripting"], keys: (3, 2, 1)) { s, c in
                try s.fcallCommand(c, readOnly: false)
            },
            CommandSpec("fcall_ro", -3, [.noscript, .skipMonitor, .stale, .readonly], ["slow", "scripting"], keys: (3, 2, 1)) { s, c in
                try s.fcallCommand(c, readOnly: true)
            },
            CommandSpec("script", -2, [.stale], ["slow", "scripting"],
                        subcommands: ["debug", "exists", "flush", "help", "kill", "load"]) { s, c in
                try s.scriptCommand(c)
            },
            CommandSpec("function", -2, [.stale, .mayReplicate], ["slow", "scripting"],
                        subcommands: ["delete", "dump", "flush", "help", "kill", "list", "load", "restore", "stats"]) { s, c in
                try s.functionCommand(c)
            },
        ]
        // Keys follow numkeys (argument 2): movable keys, for ACL and COMMAND GETKEYS.
        let numkeys: ([Bytes]) -> [Int] = { argv in
            guard argv.count > 2, let n = NumberFormat.parseInt(argv[2]), n > 0 else { return [] }
            return Array(3..<min(argv.count, 3 + Int(n)))
        }
        for i in specs.indices where specs[i].name != "script" && specs[i].name != "function" { specs[i].movableKeys = numkeys }
        return specs
    }
}

extension Server {
    /// The numkeys argument of EVAL/FCALL, checked against the argument count.
    private func numkeys(_ c: Client, fcall: Bool) throws -> Int {
        guard let n = NumberFormat.parseInt(c.arg(2)) else {
            throw CommandError(fcall ? "ERR Bad number of keys provided" : "ERR value is not an integer or out of range")
        }
        if n > Int64(c.argc - 3) { throw CommandError("ERR Number of keys can't be greater than number of args") }
        if n < 0 { throw CommandError("ERR Number of keys can't be negative") }
        return Int(n)
    }

    func evalCommand(_ c: Client, sha: Bool, readOnly: Bool) throws {
        // EVAL is skip-monitor: it shows before the commands its script runs.
        if !monitors.isEmpty { feedMonitors(c, c.argv) }
        if sha && c.arg(1).count != 40 { throw CommandError("NOSCRIPT No matching script. Please use EVAL.") }
        let n = try numkeys(c, fcall: false)
        let digest: Bytes
        if sha {
            digest = LuaEngineText.lower(c.arg(1))
            guard scripting.script(sha: digest) != nil else { throw CommandError("NOSCRIPT No matching script. Please use EVAL.") }
        } else {
            switch scripting.createScript(c.arg(1)) {
            case .failure(let e): throw e
            case .success(let d): digest = d
            }
        }
        guard let script = scripting.script(sha: digest) else { throw CommandError("NOSCRIPT No matching script. Please use EVAL.") }
        let engine = scripting.evalEngine
        scripting.run(c, engine: engine, function: engine.L.value(ref: script.ref), flags: script.flags,
                      name: String(decoding: digest, as: UTF8.self), eval: true, readOnlyCommand: readOnly,
                      keys: c.argv[3..<(3 + n)], args: c.argv[(3 + n)...])
    }

    func fcallCommand(_ c: Client, readOnly: Bool) throws {
        if !monitors.isEmpty { feedMonitors(c, c.argv) }
        let name = String(decoding: c.arg(1), as: UTF8.self)
        guard let f = scripting.functions.functions[name.lowercased()] else { throw CommandError("ERR Function not found") }
        let n = try numkeys(c, fcall: true)
        let engine = scripting.functionEngine
        scripting.run(c, engine: engine, function: engine.L.value(ref: f.ref), flags: f.flags, name: name, eval: false,
                      readOnlyCommand: readOnly, keys: c.argv[3..<(3 + n)], args: c.argv[(3 + n)...])
    }

    /// SCRIPT KILL / FUNCTION KILL (scriptKill).
    private func killScript(_ c: Client, eval: Bool) throws {
        guard let run = scriptRun else { throw CommandError("NOTBUSY No scripts in execution right now.") }
        if run.obey {
            throw CommandError("UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.")
        }
        if run.writeDirty {
            throw CommandError("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
        }
        if eval && !run.isEval { throw CommandError(Server.busyFunctionError) }
        if !eval && run.isEval { throw CommandError(Server.busyEvalError) }
        run.killed = true
        c.out.ok()
    }

    func scriptCommand(_ c: Client) throws {
        let sub = c.option(1)
        switch sub {
        case "HELP" where c.argc == 2:
            replyHelp(c, "SCRIPT", [
                "DEBUG (YES|SYNC|NO)", "    Set the debug mode for subsequent scripts executed.",
                "EXISTS <sha1> [<sha1> ...]", "    Return information about the existence of the scripts in the script cache.",
                "FLUSH [ASYNC|SYNC]", "    Flush the Lua scripts cache. Very dangerous on replicas.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the scripts cache.", "    * SYNC: Synchronously flush the scripts cache.",
                "KILL", "    Kill the currently executing Lua script.",
                "LOAD <script>", "    Load a script into the scripts cache without executing it.",
            ])
        case "FLUSH":
            if c.argc == 3 {
                let mode = c.option(2)
                guard mode == "SYNC" || mode == "ASYNC" else { throw CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option") }
            } else if c.argc != 2 {
                throw CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
            }
            scripting.flushScripts()
            c.out.ok()
        case "EXISTS" where c.argc >= 3:
            c.out.arrayHeader(c.argc - 2)
            for i in 2..<c.argc { c.out.integer(scripting.script(sha: c.arg(i)) != nil ? 1 : 0) }
        case "LOAD" where c.argc == 3:
            switch scripting.createScript(c.arg(2)) {
            case .failure(let e): throw e
            case .success(let sha): c.out.bulk(sha)
            }
        case "KILL" where c.argc == 2:
            try killScript(c, eval: true)
        case "DEBUG" where c.argc == 3:
            switch c.option(2) {
            case "NO": c.out.ok()
            case "YES", "SYNC": throw CommandError("ERR SCRIPT DEBUG is not supported by vigil-node")
            default: throw CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO")
            }
        case "HELP", "EXISTS", "LOAD", "KILL", "DEBUG":
            throw CommandError("ERR unknown subcommand or wrong number of arguments for '\(c.arg(1).text)'. Try SCRIPT HELP.")
        default:
            throw CommandError.unknownSubcommand(c.arg(1), "SCRIPT")
        }
    }
}

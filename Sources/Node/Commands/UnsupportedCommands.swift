// Commands vigil-node knows but does not implement: each answers a clear -ERR naming the missing
// feature instead of "unknown command", so operators see what is absent and why.
import Shared

extension CommandTable {
    static var unsupported: [CommandSpec] {
        let scripting = ["eval", "evalsha", "eval_ro", "evalsha_ro", "script", "function", "fcall", "fcall_ro"]
        let cluster = ["cluster", "readonly", "readwrite", "asking"]
        return scripting.map { unsupported($0, "Lua scripting and functions are") }
            + cluster.map { unsupported($0, "Cluster mode is") }
    }

    private static func unsupported(_ name: String, _ feature: String) -> CommandSpec {
        CommandSpec(name, -1, [.noscript, .stale, .loading], ["slow"]) { _, c in
            throw CommandError("ERR \(name.uppercased()) is not supported: \(feature) not implemented by vigil-node")
        }
    }
}

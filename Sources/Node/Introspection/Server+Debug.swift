// DEBUG subcommands Redis's tests and client test suites use, beyond SLEEP/POPULATE/PROTOCOL and
// the digest/reload ones (DebugDigest.swift): ERROR (redis-py tests its LOADING/READONLY/OOM
// handling with it), CHANGE-REPL-ID, JMAP.
import Shared

extension Server {
    /// Handles the subcommands of this file; false when `sub` is not one of them.
    func debugIntrospection(_ c: Client, _ sub: String) throws -> Bool {
        switch sub {
        case "ERROR":
            guard c.argc == 3 else { throw CommandError.wrongArity("debug") }
            // The argument is the whole error line, prefix included.
            replyError(c, c.arg(2).text)
        case "CHANGE-REPL-ID":
            replication.changeReplicationID()
            replication.clearReplicationID2()
            c.out.ok()
        case "JMAP":
            c.out.ok()
        default:
            return false
        }
        return true
    }
}

// BGREWRITEAOF: replies and errors exactly as Redis 7.0 (aof.c, bgrewriteaofCommand).
import Shared

extension CommandTable {
    /// The append-only-file family.
    static var aofCommands: [CommandSpec] {
        [
            CommandSpec("bgrewriteaof", 1, [.admin, .noscript], ["admin", "slow", "dangerous"]) { s, c in
                if s.aof.child != nil {
                    throw CommandError("ERR Background append only file rewriting already in progress")
                }
                // One child at a time: behind a BGSAVE (or inside EXEC) the rewrite waits for the cron.
                if s.bgsaveInProgress || c.flags.contains(.multi) {
                    s.aof.rewriteScheduled = true
                    c.out.simple("Background append only file rewriting scheduled")
                    return
                }
                do { try s.aof.startRewrite() } catch {
                    throw CommandError("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
                }
                c.out.simple("Background append only file rewriting started")
            },
        ]
    }
}

// SAVE, BGSAVE [SCHEDULE], LASTSAVE: replies and errors exactly as Redis 7.0 (rdb.c).
import Shared

extension CommandTable {
    /// The persistence family.
    static var persistence: [CommandSpec] {
        [
            CommandSpec("save", 1, [.admin, .noscript, .noMulti], ["admin", "slow", "dangerous"]) { s, c in
                if s.bgsaveInProgress { throw CommandError("ERR Background save already in progress") }
                if s.saveRDB() { c.out.ok() } else { throw CommandError("ERR") }
            },
            CommandSpec("bgsave", -1, [.admin, .noscript], ["admin", "slow", "dangerous"]) { s, c in
                // SCHEDULE only matters while another kind of child (an AOF rewrite) runs.
                if c.argv.count > 1 {
                    guard c.argv.count == 2, c.argv[1].text.lowercased() == "schedule" else { throw CommandError.syntax }
                }
                if s.bgsaveInProgress { throw CommandError("ERR Background save already in progress") }
                let schedule = c.argv.count == 2
                if s.aof.child != nil && !schedule && !c.flags.contains(.multi) {
                    throw CommandError("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
                }
                if c.flags.contains(.multi) || s.aof.child != nil {
                    s.persistence.bgsaveScheduled = true
                    c.out.simple("Background saving scheduled")
                    return
                }
                if s.startBackgroundSave() { c.out.simple("Background saving started") } else { throw CommandError("ERR") }
            },
            CommandSpec("lastsave", 1, [.loading, .stale, .fast], ["admin", "fast", "dangerous"]) { s, c in
                c.out.integer(s.persistence.lastSave)
            },
        ]
    }
}

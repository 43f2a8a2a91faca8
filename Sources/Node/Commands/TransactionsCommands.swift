// MULTI/EXEC/DISCARD/WATCH/UNWATCH. processCommand queues commands while a client is in MULTI
// (answering +QUEUED, or an error that dooms the EXEC); EXEC replays the queue through `call`,
// which does the per-command work and propagation. What the queued commands propagate leaves as
// one unit when EXEC's call ends: wrapped in MULTI ... EXEC when there is more than one command,
// alone when there is one (Redis's propagatePendingCommands).
import Shared

extension CommandTable {
    static var transactions: [CommandSpec] {
        [
            CommandSpec("multi", 1, [.noscript, .allowBusy, .loading, .stale, .fast, .txControl], ["fast", "transaction"]) { s, c in
                guard !c.flags.contains(.multi) else { throw CommandError("ERR MULTI calls can not be nested") }
                c.flags.insert(.multi)
                c.out.ok()
            },
            CommandSpec("exec", 1, [.noscript, .loading, .stale, .txControl, .skipSlowlog], ["slow", "transaction"]) { s, c in
                try s.execCommand(c)
            },
            CommandSpec("discard", 1, [.noscript, .allowBusy, .loading, .stale, .fast, .txControl], ["fast", "transaction"]) { s, c in
                guard c.flags.contains(.multi) else { throw CommandError("ERR DISCARD without MULTI") }
                s.discardTransaction(c)
                c.out.ok()
            },
            CommandSpec("watch", -2, [.noscript, .allowBusy, .loading, .stale, .fast, .txControl], ["fast", "transaction"], keys: (1, -1, 1)) { s, c in
                guard !c.flags.contains(.multi) else { throw CommandError("ERR WATCH inside MULTI is not allowed") }
                // No point in watching more once the EXEC is doomed.
                if c.flags.contains(.dirtyCAS) { c.out.ok(); return }
                let now = s.clock.wallMillis()
                for i in 1..<c.argc {
                    let key = c.key(i)
                    s.watchTable.watch(c, db: c.db.id, key: key, expired: c.db.dict[key] != nil && c.db.isExpired(key, now: now))
                }
                c.out.ok()
            },
            // Not txControl: inside MULTI, UNWATCH is queued like any command (as in Redis).
            CommandSpec("unwatch", 1, [.noscript, .allowBusy, .loading, .stale, .fast], ["fast", "transaction"]) { s, c in
                s.watchTable.unwatchAll(c)
                c.flags.remove(.dirtyCAS)
                c.out.ok()
            },
        ]
    }
}

extension Server {
    /// Adds the command in `c.argv` to the transaction. After an error nothing more is kept (the
    /// EXEC will abort), as Redis's queueMultiCommand.
    /// `flags`: the command's traits as processCommand judged them (a script's own, for EVAL).
    func queueMultiCommand(_ c: Client, _ ref: CommandRef, flags: CommandFlags? = nil) {
        guard c.flags.isDisjoint(with: [.dirtyCAS, .dirtyExec]) else { return }
        c.multiQueue.append(QueuedCommand(argv: c.argv, entry: ref))
        let f = flags ?? ref.spec.flags
        c.multiFlags.formUnion(f)
        c.multiLacks.formUnion(CommandFlags(rawValue: ~f.rawValue))
    }

    /// Leaves MULTI: drops the queue, the error/CAS marks and every WATCH.
    func discardTransaction(_ c: Client) {
        c.multiQueue = []
        c.multiFlags = []
        c.multiLacks = []
        c.flags.remove([.multi, .dirtyCAS, .dirtyExec])
        watchTable.unwatchAll(c)
    }

    /// EXEC: runs the queued commands through `call`, one reply array. The checks that concern
    /// the transaction as a whole (a queued write on a node that became read-only, a stale
    /// replica...) were made by processCommand with the queued commands' flags; what they
    /// propagate is wrapped in MULTI/EXEC once, when this top-level call ends.
    func execCommand(_ c: Client) throws {
        guard c.flags.contains(.multi) else { throw CommandError("ERR EXEC without MULTI") }
        if watchTable.watchedKeyExpired(c, databases: databases, now: clock.wallMillis()) { c.flags.insert(.dirtyCAS) }
        if c.flags.contains(.dirtyExec) {
            discardTransaction(c)
            throw CommandError("EXECABORT Transaction discarded because of previous errors.")
        }
        if c.flags.contains(.dirtyCAS) {
            discardTransaction(c)
            c.out.nullArray()
            return
        }
        // Unwatch first: the transaction's own writes must not count as conflicts.
        watchTable.unwatchAll(c)
        let queue = c.multiQueue
        let execArgv = c.argv
        let couldBlock = !c.flags.contains(.denyBlocking)
        c.flags.insert(.denyBlocking)
        c.out.arrayHeader(queue.count)
        for q in queue {
            c.argv = q.argv
            // ACLs may have changed since the command was queued.
            if let user = c.user, let denial = user.check(q.entry.spec, q.argv) {
                let object = denial == .command ? Server.fullCommandName(q.entry.spec, q.argv) : q.argv[denial.position].text
                addACLLog(c, reason: denial.logReason, object: object, username: user.name, context: "multi")
                replyError(c, "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: \(denial.execReason)")
                continue
            }
            call(c, q.entry, c.flags.contains(.aofLoader) ? .none : .full)
        }
        if couldBlock { c.flags.remove(.denyBlocking) }
        c.argv = execArgv
        discardTransaction(c)
    }

    /// The lower-case command name of an argv.
    static func commandName(_ argv: [Bytes]) -> String {
        argv.first.map { String(decoding: $0, as: UTF8.self).lowercased() } ?? ""
    }
}

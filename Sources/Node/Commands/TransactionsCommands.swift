// MULTI/EXEC/DISCARD/WATCH/UNWATCH. processCommand queues commands while a client is in MULTI
// (answering +QUEUED, or an error that dooms the EXEC); EXEC replays the queue through `call`,
// which does the per-command work and propagation. EXEC wraps whatever the queued commands
// propagate in MULTI ... EXEC so replicas and the AOF apply the transaction atomically too.
import Shared

extension CommandTable {
    static var transactions: [CommandSpec] {
        [
            CommandSpec("multi", 1, [.noscript, .loading, .stale, .fast, .txControl], ["fast", "transaction"]) { s, c in
                guard !c.flags.contains(.multi) else { throw CommandError("ERR MULTI calls can not be nested") }
                c.flags.insert(.multi)
                c.out.ok()
            },
            CommandSpec("exec", 1, [.noscript, .loading, .stale, .txControl], ["slow", "transaction"]) { s, c in
                try s.execCommand(c)
            },
            CommandSpec("discard", 1, [.noscript, .loading, .stale, .fast, .txControl], ["fast", "transaction"]) { s, c in
                guard c.flags.contains(.multi) else { throw CommandError("ERR DISCARD without MULTI") }
                s.discardTransaction(c)
                c.out.ok()
            },
            CommandSpec("watch", -2, [.noscript, .loading, .stale, .fast, .txControl], ["fast", "transaction"], keys: (1, -1, 1)) { s, c in
                guard !c.flags.contains(.multi) else { throw CommandError("ERR WATCH inside MULTI is not allowed") }
                let now = Clock.wallMillis()
                for i in 1..<c.argc {
                    let key = c.key(i)
                    s.watchTable.watch(c, db: c.db.id, key: key, expired: c.db.dict[key] != nil && c.db.isExpired(key, now: now))
                }
                c.out.ok()
            },
            // Not txControl: inside MULTI, UNWATCH is queued like any command (as in Redis).
            CommandSpec("unwatch", 1, [.noscript, .loading, .stale, .fast], ["fast", "transaction"]) { s, c in
                s.watchTable.unwatchAll(c)
                c.flags.remove(.dirtyCAS)
                c.out.ok()
            },
        ]
    }
}

extension Server {
    /// Leaves MULTI: drops the queue, the error/CAS marks and every WATCH.
    func discardTransaction(_ c: Client) {
        c.multiQueue = []
        c.flags.remove([.multi, .dirtyCAS, .dirtyExec])
        watchTable.unwatchAll(c)
    }

    func execCommand(_ c: Client) throws {
        let queue = c.multiQueue
        // Writes queued earlier are judged now: the node may have become a read-only replica.
        if !c.flags.contains(.master), queue.contains(where: { commandTable[Server.commandName($0)]?.flags.contains(.write) ?? false }),
           let refusal = writeRefusal() {
            discardTransaction(c)
            throw CommandError("EXECABORT Transaction discarded because of: \(refusal)")
        }
        guard c.flags.contains(.multi) else { throw CommandError("ERR EXEC without MULTI") }
        if watchTable.watchedKeyExpired(c, databases: databases, now: Clock.wallMillis()) { c.flags.insert(.dirtyCAS) }
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
        let execArgv = c.argv
        // Collect what the queued commands propagate so it can be wrapped in MULTI/EXEC.
        var collected: [(Int, [Bytes])] = []
        let hooks = propagationHooks
        propagationHooks = [{ db, argv in collected.append((db, argv)) }]
        c.out.arrayHeader(queue.count)
        for argv in queue {
            c.argv = argv
            guard let cmd = commandTable[Server.commandName(argv)] else {
                replyError(c, "ERR unknown command")  // cannot happen: only known commands are queued
                continue
            }
            if let user = c.user, !user.canRun(cmd, argv) {
                replyError(c, "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand")
                continue
            }
            call(c, cmd)
        }
        propagationHooks = hooks
        c.argv = execArgv
        c.multiQueue = []
        c.flags.remove([.multi, .dirtyCAS, .dirtyExec])
        if let first = collected.first, let last = collected.last {
            propagate(db: first.0, [Bytes("MULTI".utf8)])
            for (db, argv) in collected { propagate(db: db, argv) }
            propagate(db: last.0, [Bytes("EXEC".utf8)])
        }
    }

    /// A rejected EXEC (arity, NOAUTH, READONLY...) discards the transaction and answers
    /// `EXECABORT Transaction discarded because of: <error>` (Redis's execCommandAbort). Called by
    /// rejectCommand; returns false for any other command.
    func abortExec(_ c: Client, _ message: String) -> Bool {
        guard let first = c.argv.first, first.count == 4, Server.commandName([first]) == "exec" else { return false }
        discardTransaction(c)
        let reason = message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message
        replyError(c, "EXECABORT Transaction discarded because of: \(reason)")
        return true
    }

    /// The lower-case command name of an argv.
    static func commandName(_ argv: [Bytes]) -> String {
        argv.first.map { String(decoding: $0, as: UTF8.self).lowercased() } ?? ""
    }
}

// Blocked clients, as Redis's blocked.c: one `block(c, kind)` and one `unblock(c)` for every way a
// client waits (keys for BLPOP & co., replicas for WAIT, a pause for a postponed command, a
// SHUTDOWN waiting for replicas). An unblocked client is queued and its pending input (or its
// postponed command) runs in before-sleep, never from inside the command that woke it.
//
// Clients blocked on keys keep their command; when one of the keys changes, the command runs again
// through `call` in "rerun" mode, where it either serves the client (propagating its non-blocking
// form through `propagateAs`) or blocks again, keeping its place in the queue. Ready keys are
// served after the command that touched them, never in the middle of it, so the replication
// stream sees the push before the pop.
import Shared

/// What a blocked client waits for (Redis's BLOCKED_*).
enum BlockKind {
    case none
    /// A list or sorted set key (BLPOP, BLMOVE, BZPOPMIN...).
    case keys
    /// Replicas acknowledging an offset (WAIT).
    case wait
    /// The end of a client pause: the command in `argv` runs again from the start.
    case postpone
    /// A SHUTDOWN waiting for replicas to catch up.
    case shutdown
}

extension Server {
    /// Blocks `c` (only here and in `unblock` does `.blocked` change).
    func block(_ c: Client, _ kind: BlockKind) {
        c.flags.insert(.blocked)
        c.blockKind = kind
        if kind == .postpone {
            c.flags.insert(.pendingCommand)
            pause.postponed.append(c)
        }
    }

    /// Unblocks `c`: forgets what it waited for and queues it so before-sleep processes its
    /// pending input (and a postponed command). The caller wrote whatever reply is due.
    func unblock(_ c: Client, requeue: Bool = true) {
        guard c.flags.contains(.blocked) else { return }
        switch c.blockKind {
        case .keys: blocking.remove(c)
        case .wait: replication.forgetWaiter(c)
        case .postpone: pause.postponed.removeAll { $0 === c }
        case .shutdown: replication.forgetShutdownClient(c)
        case .none: break
        }
        c.flags.remove(.blocked)
        c.blockKind = .none
        markPendingWrite(c)
        if requeue && !c.flags.contains(.unblocked) {
            c.flags.insert(.unblocked)
            unblockedClients.append(c)
        }
    }

    /// Queues `c` so before-sleep processes its pending input (a connection that just became
    /// our master's client, with stream bytes already read).
    func processSoon(_ c: Client) {
        if !c.flags.contains(.unblocked) {
            c.flags.insert(.unblocked)
            unblockedClients.append(c)
        }
    }

    /// Before-sleep: runs what unblocked clients have pending, in the order they were unblocked.
    func processUnblockedClients() {
        while !unblockedClients.isEmpty {
            let list = unblockedClients
            unblockedClients = []
            for c in list {
                c.flags.remove(.unblocked)
                guard clients[c.id] != nil || c.conn == nil, !c.flags.contains(.blocked) else { continue }
                if c.flags.contains(.pendingCommand) {
                    c.flags.remove(.pendingCommand)
                    processCommand(c)
                    if c.flags.contains(.pendingCommand) { continue }  // postponed again
                    commandDone(c)
                }
                processInput(c)
            }
        }
    }

    /// We became a replica (Redis's disconnectAllBlockedClients): a client blocked on keys or in
    /// WAIT gets -UNBLOCKED and is closed after the reply, so it reconnects and asks where the
    /// master is now. Postponed clients stay: their command runs from the start after the pause
    /// and is accepted or refused (-READONLY) then.
    func disconnectBlockedClients() {
        for c in Array(clients.values) where c.flags.contains(.blocked) && c.blockKind != .postpone && c.blockKind != .shutdown {
            replyError(c, "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)")
            unblock(c)
            closeAfterReply(c)
        }
    }

    /// CLIENT UNBLOCK: ends a wait on keys or a WAIT as its timeout would (a null array, the
    /// replicas acknowledged so far) or with -UNBLOCKED. False when `c` is not blocked, or held by
    /// a pause or a SHUTDOWN, which only their own end releases (Redis 7.0 has no timeout reply
    /// for those).
    func unblockOnRequest(_ c: Client, asError: Bool) -> Bool {
        guard c.flags.contains(.blocked) else { return false }
        let timeoutReply: Int?
        switch c.blockKind {
        case .keys: timeoutReply = nil
        case .wait:
            guard let acked = replication.waiterAcked(c) else { return false }
            timeoutReply = acked
        case .postpone, .shutdown, .none: return false
        }
        if asError {
            replyError(c, "UNBLOCKED client unblocked via CLIENT UNBLOCK")
        } else if let n = timeoutReply {
            c.out.integer(n)
        } else {
            c.out.nullArray()
        }
        unblock(c)
        return true
    }

    /// Blocks the current client on `keys` (or, while a blocked command is rerun, keeps it blocked).
    func blockClient(_ c: Client, keys: [Key], timeout: Int64) {
        blocking.block(c, keys: keys, timeoutMillis: timeout)
    }

    /// Blocking commands act as their non-blocking forms inside MULTI/EXEC, on the master link
    /// and for the AOF loader.
    func canBlock(_ c: Client) -> Bool { c.flags.isDisjoint(with: [.multi, .master, .denyBlocking]) }

    /// A list or sorted set key got elements: clients blocked on it are served after the
    /// current command (Redis's signalKeyAsReady).
    @inline(__always)
    func signalKeyAsReady(_ db: Database, _ key: Key) {
        if blocking.hasWaiters { blocking.keyChanged(db.id, key) }
    }

    /// Serves clients whose keys became ready during the last command.
    func serveBlockedClients() {
        if blocking.hasReadyKeys { blocking.serveReadyKeys() }
    }

    /// The list at `key` for a pop. While a blocked client is re-run because the key changed, a
    /// key that now holds another type is skipped (the client stays blocked) instead of WRONGTYPE.
    func listForPop(_ db: Database, _ key: Key) throws -> ListValue? {
        guard blocking.rerunning else { return try writeList(db, key, create: false) }
        guard let v = lookupWrite(db, key), case .list(let l) = v else { return nil }
        return l
    }

    /// The sorted set at `key` for a pop, with the same re-run rule as `listForPop`.
    func zsetForPop(_ db: Database, _ key: Key) throws -> SortedSetValue? {
        guard blocking.rerunning else { return try writeZSet(db, key, create: false) }
        guard let v = lookupWrite(db, key), case .zset(let z) = v else { return nil }
        return z
    }
}

/// A (database, key) pair clients can wait on.
struct BlockedKey: Hashable {
    /// Database id.
    let db: Int
    /// The key in that database.
    let key: Key
}

/// The clients blocked on keys and the keys that became ready.
final class BlockingTable {
    /// What a client blocked on keys waits for.
    struct Entry {
        let client: Client
        let keys: [Key]
        let argv: [Bytes]
        let command: CommandRef
        var timer: TimerID?
    }

    unowned let server: Server
    private(set) var entries: [Int: Entry] = [:]
    private var waiting: [BlockedKey: [Client]] = [:]
    private var ready: [BlockedKey] = []
    private var readySet: Set<BlockedKey> = []
    /// True while a blocked client's command is being run again.
    private(set) var rerunning = false
    /// The key whose change caused the current re-run (XREAD serves only that stream).
    private(set) var servingKey: BlockedKey? = nil
    /// Set by `block` during a rerun: the client stays blocked.
    private var reblocked = false

    init(server: Server) { self.server = server }

    /// Whether some client waits on some key.
    var hasWaiters: Bool { !waiting.isEmpty }
    /// Whether some key with waiters changed since the last serve.
    var hasReadyKeys: Bool { !ready.isEmpty }
    /// Number of clients blocked on keys.
    var blockedCount: Int { entries.count }

    /// A key changed: queue it if somebody waits on it.
    func keyChanged(_ db: Int, _ key: Key) {
        guard !waiting.isEmpty else { return }
        let k = BlockedKey(db: db, key: key)
        guard waiting[k] != nil, !readySet.contains(k) else { return }
        ready.append(k)
        readySet.insert(k)
    }

    /// Blocks `c` on `keys`; `timeoutMillis` 0 waits forever.
    func block(_ c: Client, keys: [Key], timeoutMillis: Int64) {
        if rerunning { reblocked = true; return }
        guard entries[c.id] == nil, let first = c.argv.first, let command = server.commandTable.lookup(first) else { return }
        var e = Entry(client: c, keys: keys, argv: c.argv, command: command, timer: nil)
        if timeoutMillis > 0 {
            e.timer = server.loop.schedule(after: timeoutMillis) { [unowned self] in self.timedOut(c) }
        }
        entries[c.id] = e
        for k in Set(keys) { waiting[BlockedKey(db: c.db.id, key: k), default: []].append(c) }
        server.block(c, .keys)
    }

    /// Forgets a client blocked on keys (called by `Server.unblock`).
    func remove(_ c: Client) {
        guard let e = entries.removeValue(forKey: c.id) else { return }
        if let t = e.timer { server.loop.cancel(t) }
        for k in Set(e.keys) {
            let bk = BlockedKey(db: c.db.id, key: k)
            waiting[bk]?.removeAll { $0 === c }
            if waiting[bk]?.isEmpty == true { waiting[bk] = nil }
        }
    }

    private func timedOut(_ c: Client) {
        guard let e = entries[c.id] else { return }
        c.out.nullArray()
        var saved = e.argv
        swap(&saved, &c.argv)
        server.statsOnUnblock(c, e.command.spec, replyUsec: 0)
        swap(&saved, &c.argv)
        server.unblock(c)
    }

    /// Serves clients waiting on keys that changed, until no ready key is left.
    func serveReadyKeys() {
        while !ready.isEmpty {
            let keys = ready
            ready = []
            readySet = []
            for k in keys {
                guard let clients = waiting[k] else { continue }
                for c in clients {
                    guard let e = entries[c.id] else { continue }
                    // A deleted key serves nobody, except XREADGROUP, which then fails.
                    guard k.db < server.databases.count, server.exists(server.databases[k.db], k.key)
                            || e.command.spec.name == "xreadgroup" else { continue }
                    servingKey = k
                    rerun(c)
                    servingKey = nil
                }
            }
        }
    }

    /// Runs a blocked client's command again through `call`: its effects are propagated as a
    /// top-level unit of their own (as Redis's afterCommand per served client), and WAIT after it
    /// waits for them.
    private func rerun(_ c: Client) {
        guard let e = entries[c.id] else { return }
        var saved = e.argv
        swap(&saved, &c.argv)
        rerunning = true
        reblocked = false
        let start = Clock.monotonicMicros()
        server.call(c, e.command, .rerun)
        rerunning = false
        let stillBlocked = reblocked
        if !stillBlocked { server.statsOnUnblock(c, e.command.spec, replyUsec: Clock.monotonicMicros() - start) }
        reblocked = false
        swap(&saved, &c.argv)
        c.woff = server.replication.masterReplOffset
        if !stillBlocked { server.unblock(c) }
    }
}

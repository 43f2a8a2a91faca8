// Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN...). A blocked client keeps its command; when
// one of its keys changes, the command is run again in "rerun" mode, where it either serves the
// client (and propagates its non-blocking form through `propagateOverride`) or blocks again,
// keeping its place in the queue. Ready keys are served after the command that touched them,
// never in the middle of it, so the replication stream sees the push before the pop.
import Shared

/// A (database, key) pair clients can wait on.
struct BlockedKey: Hashable {
    /// Database id.
    let db: Int
    /// The key in that database.
    let key: Key
}

/// The table of blocked clients and keys that became ready.
final class BlockingTable {
    /// What a blocked client waits for.
    struct Entry {
        let client: Client
        let keys: [Key]
        let argv: [Bytes]
        let spec: CommandSpec
        var timer: TimerID?
    }

    unowned let server: Server
    private(set) var entries: [Int: Entry] = [:]
    private var waiting: [BlockedKey: [Client]] = [:]
    private var ready: [BlockedKey] = []
    private var readySet: Set<BlockedKey> = []
    /// Clients unblocked since the last before-sleep whose pending input must be processed.
    private var unblocked: [Client] = []
    /// True while a blocked client's command is being run again.
    private(set) var rerunning = false
    /// The key whose change caused the current re-run (XREAD serves only that stream).
    private(set) var servingKey: BlockedKey? = nil
    /// Set by `block` during a rerun: the client stays blocked.
    private var reblocked = false

    /// Creates the table and registers its key-ready, client-freed and before-sleep hooks.
    init(server: Server) {
        self.server = server
        server.keyReadyHooks.append { [unowned self] db, key in self.keyChanged(db.id, key) }
        server.clientFreedHooks.append { [unowned self] c in self.remove(c) }
        server.beforeSleepHooks.append { [unowned self] in self.beforeSleep() }
    }

    /// Whether some key with waiters changed since the last serve.
    var hasReadyKeys: Bool { !ready.isEmpty }
    /// Number of blocked clients (INFO blocked_clients).
    var blockedCount: Int { entries.count }

    private func keyChanged(_ db: Int, _ key: Key) {
        guard !waiting.isEmpty else { return }
        let k = BlockedKey(db: db, key: key)
        guard waiting[k] != nil, !readySet.contains(k) else { return }
        ready.append(k)
        readySet.insert(k)
    }

    /// Blocks `c` on `keys`; `timeoutMillis` 0 waits forever.
    func block(_ c: Client, keys: [Key], timeoutMillis: Int64) {
        if rerunning { reblocked = true; return }
        guard entries[c.id] == nil, let spec = server.commandTable[c.option(0).lowercased()] else { return }
        var e = Entry(client: c, keys: keys, argv: c.argv, spec: spec, timer: nil)
        if timeoutMillis > 0 {
            e.timer = server.loop.schedule(after: timeoutMillis) { [unowned self] in self.timedOut(c) }
        }
        entries[c.id] = e
        for k in Set(keys) { waiting[BlockedKey(db: c.db.id, key: k), default: []].append(c) }
        c.flags.insert(.blocked)
    }

    /// Forgets a blocked client (disconnect, timeout, served).
    func remove(_ c: Client) {
        guard let e = entries.removeValue(forKey: c.id) else { return }
        if let t = e.timer { server.loop.cancel(t) }
        for k in Set(e.keys) {
            let bk = BlockedKey(db: c.db.id, key: k)
            waiting[bk]?.removeAll { $0 === c }
            if waiting[bk]?.isEmpty == true { waiting[bk] = nil }
        }
        c.flags.remove(.blocked)
    }

    /// CLIENT UNBLOCK: ends a key wait as a timeout would, or with -UNBLOCKED; false if `c` was
    /// not waiting on keys.
    func unblockOnRequest(_ c: Client, asError: Bool) -> Bool {
        guard entries[c.id] != nil else { return false }
        remove(c)
        if asError { server.replyError(c, "UNBLOCKED client unblocked via CLIENT UNBLOCK") } else { c.out.nullArray() }
        unblocked.append(c)
        server.markPendingWrite(c)
        return true
    }

    private func timedOut(_ c: Client) {
        guard entries[c.id] != nil else { return }
        remove(c)
        c.out.nullArray()
        unblocked.append(c)
        server.markPendingWrite(c)
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
                            || e.spec.name == "xreadgroup" else { continue }
                    servingKey = k
                    rerun(c)
                    servingKey = nil
                }
            }
        }
    }

    private func rerun(_ c: Client) {
        guard let e = entries[c.id] else { return }
        let dirtyBefore = server.dirty
        let previous = server.currentClient
        server.currentClient = c
        let savedArgv = c.argv
        c.argv = e.argv
        rerunning = true
        reblocked = false
        do {
            try e.spec.handler(server, c)
        } catch let err as CommandError {
            server.replyError(c, err.message)
        } catch {
            server.replyError(c, "ERR \(error)")
        }
        rerunning = false
        let stillBlocked = reblocked
        reblocked = false
        if server.dirty != dirtyBefore {
            for argv in server.propagateOverride ?? [c.argv] { server.propagate(db: c.db.id, argv) }
        }
        server.propagateOverride = nil
        c.argv = savedArgv
        server.currentClient = previous
        if !stillBlocked {
            remove(c)
            unblocked.append(c)
            server.markPendingWrite(c)
        }
    }

    private func beforeSleep() {
        if !ready.isEmpty { serveReadyKeys() }
        guard !unblocked.isEmpty else { return }
        let list = unblocked
        unblocked = []
        for c in list where !c.conn.isClosed && server.clients[c.id] != nil && c.conn.pendingInput > 0 {
            server.processInput(c)
        }
    }
}

extension Server {
    /// The blocking table, created on first use (it registers its hooks then).
    var blockingTable: BlockingTable {
        if let b = blocking { return b }
        let b = BlockingTable(server: self)
        blocking = b
        return b
    }

    /// Blocks the current client on `keys` (or, while a blocked command is rerun, keeps it blocked).
    func blockClient(_ c: Client, keys: [Key], timeout: Int64) {
        blockingTable.block(c, keys: keys, timeoutMillis: timeout)
    }

    /// Blocking commands act as their non-blocking forms inside MULTI and on the master link.
    func canBlock(_ c: Client) -> Bool { !c.flags.contains(.multi) && !c.flags.contains(.master) }

    /// Serves clients whose keys became ready during the last command.
    func serveBlockedClients() {
        if let b = blocking, b.hasReadyKeys { b.serveReadyKeys() }
    }
}

extension Server {
    /// The list at `key` for a pop. While a blocked client is re-run because the key changed, a
    /// key that now holds another type is skipped (the client stays blocked) instead of WRONGTYPE.
    func listForPop(_ db: Database, _ key: Key) throws -> ListValue? {
        guard blocking?.rerunning ?? false else { return try writeList(db, key, create: false) }
        guard let v = lookupWrite(db, key), case .list(let l) = v else { return nil }
        return l
    }

    /// The sorted set at `key` for a pop, with the same re-run rule as `listForPop`.
    func zsetForPop(_ db: Database, _ key: Key) throws -> SortedSetValue? {
        guard blocking?.rerunning ?? false else { return try writeZSet(db, key, create: false) }
        guard let v = lookupWrite(db, key), case .zset(let z) = v else { return nil }
        return z
    }
}

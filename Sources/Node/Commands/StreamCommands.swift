// Stream commands (t_stream.c): the table, the shared lookups and the one propagation helper,
// and the entry commands XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID. Reading with
// XREAD/XREADGROUP, groups, claiming and XINFO live in the StreamCommands+*.swift files.
import Shared

extension CommandTable {
    /// Every stream command, with Redis 7.0.15's arity, flags, categories and key positions.
    static var streams: [CommandSpec] {
        let k1 = (1, 1, 1)
        return [
            CommandSpec("xadd", -5, [.write, .denyOOM, .fast], ["write", "stream", "fast"], keys: k1) { s, c in try s.xaddCommand(c) },
            CommandSpec("xrange", -4, [.readonly], ["read", "stream", "slow"], keys: k1) { s, c in try s.xrangeCommand(c, reverse: false) },
            CommandSpec("xrevrange", -4, [.readonly], ["read", "stream", "slow"], keys: k1) { s, c in try s.xrangeCommand(c, reverse: true) },
            CommandSpec("xlen", 2, [.readonly, .fast], ["read", "stream", "fast"], keys: k1) { s, c in
                c.out.integer(Int(truncatingIfNeeded: try s.readStream(c.db, c.key(1))?.length ?? 0))
            },
            CommandSpec("xdel", -3, [.write, .fast], ["write", "stream", "fast"], keys: k1) { s, c in try s.xdelCommand(c) },
            CommandSpec("xtrim", -4, [.write], ["write", "stream", "slow"], keys: k1) { s, c in try s.xtrimCommand(c) },
            CommandSpec("xsetid", -3, [.write, .denyOOM, .fast], ["write", "stream", "fast"], keys: k1) { s, c in try s.xsetidCommand(c) },
            CommandSpec("xread", -4, [.readonly, .blocking], ["read", "stream", "slow", "blocking"],
                        keywordKeys: KeywordKeySpec(keyword: "STREAMS", startFrom: 1, limit: 2)) { s, c in try s.xreadCommand(c, group: false) },
            CommandSpec("xreadgroup", -7, [.write, .blocking], ["write", "stream", "slow", "blocking"],
                        keywordKeys: KeywordKeySpec(keyword: "STREAMS", startFrom: 4, limit: 2)) { s, c in try s.xreadCommand(c, group: true) },
            // Containers: flags and categories are their subcommands' (Redis keeps them per
            // subcommand; here the dispatcher and ACL +@stream / +@write see the container's).
            CommandSpec("xgroup", -2, [.write], ["write", "stream", "slow"], keys: (2, 2, 1),
                        subcommands: ["create", "createconsumer", "delconsumer", "destroy", "help", "setid"]) { s, c in try s.xgroupCommand(c) },
            CommandSpec("xack", -4, [.write, .fast], ["write", "stream", "fast"], keys: k1) { s, c in try s.xackCommand(c) },
            CommandSpec("xpending", -3, [.readonly], ["read", "stream", "slow"], keys: k1) { s, c in try s.xpendingCommand(c) },
            CommandSpec("xclaim", -6, [.write, .fast], ["write", "stream", "fast"], keys: k1) { s, c in try s.xclaimCommand(c) },
            CommandSpec("xautoclaim", -6, [.write, .fast], ["write", "stream", "fast"], keys: k1) { s, c in try s.xautoclaimCommand(c) },
            CommandSpec("xinfo", -2, [.readonly], ["read", "stream", "slow"], keys: (2, 2, 1),
                        subcommands: ["consumers", "groups", "help", "stream"]) { s, c in try s.xinfoCommand(c) },
        ]
    }
}

extension Server {
    // MARK: - Lookups

    /// The stream at `key` for reading, nil if absent; WRONGTYPE for another type.
    func readStream(_ db: Database, _ key: Key) throws -> StreamValue? {
        guard let v = lookupRead(db, key) else { return nil }
        guard case .stream(let s) = v else { throw CommandError.wrongType }
        return s
    }

    /// The stream at `key` for writing, nil if absent; WRONGTYPE for another type.
    func writableStream(_ db: Database, _ key: Key) throws -> StreamValue? {
        guard let v = lookupWrite(db, key) else { return nil }
        guard case .stream(let s) = v else { throw CommandError.wrongType }
        return s
    }

    /// Creates an empty stream at `key` (the caller checked it is absent).
    func createStream(_ db: Database, _ key: Key) -> StreamValue {
        let s = StreamValue()
        db.set(key, .stream(s))
        return s
    }

    /// Clients that must be obeyed (our master, the AOF loader): trimming LIMITs are not
    /// enforced for them, the trim arguments having been rewritten to exact ones.
    func mustObey(_ c: Client) -> Bool { c.flags.contains(.master) || loading }

    // MARK: - Keyspace notifications

    /// Where Redis raises a NOTIFY_STREAM keyspace event (`xadd`, `xtrim`, `xdel`, `xsetid`,
    /// `xgroup-create`, `xgroup-setid`, `xgroup-destroy`, `xgroup-createconsumer`,
    /// `xgroup-delconsumer`). vigil-node has no keyspace notifications yet (issue 15): this is the
    /// hook they plug into; every call site matches one of Redis's.
    @inline(__always)
    func streamEvent(_ event: StaticString, _ db: Database, _ key: Key) {}

    // MARK: - Propagation

    /// The one place stream commands say what reaches replicas and the AOF instead of their own
    /// argv: XADD with its generated ID, an approximate trim as an exact one, XREADGROUP and the
    /// claims as idempotent XCLAIM / XGROUP SETID / XGROUP CREATECONSUMER commands. An empty
    /// list propagates nothing (preventCommandPropagation); the top-level call's buffer wraps
    /// several in MULTI/EXEC (propagatePendingCommands). Callers skip building the forms when
    /// `shouldPropagate` says nothing would take them.
    func streamPropagate(_ c: Client, _ commands: [[Bytes]]) {
        propagateAs(commands: commands)
    }

    // MARK: - XADD

    /// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] <*|id> field value ...
    func xaddCommand(_ c: Client) throws {
        let parsed = try StreamAddArgs.parse(c, xadd: true, obey: mustObey(c), nodeMaxEntries: config.streamNodeMaxEntries)
        let fieldPos = parsed.idPos + 1
        if c.argc - fieldPos < 2 || (c.argc - fieldPos) % 2 == 1 { throw CommandError.wrongArity("xadd") }
        if parsed.idGiven && parsed.seqGiven && parsed.id.isZero {
            throw CommandError("ERR The ID specified in XADD must be greater than 0-0")
        }
        let key = c.key(1)
        let s: StreamValue
        if let existing = try writableStream(c.db, key) {
            s = existing
        } else {
            if parsed.noMkStream { c.out.null(); return }
            s = createStream(c.db, key)
        }
        if s.lastID == .max { throw CommandError("ERR The stream has exhausted the last possible ID, unable to add more items") }
        let id: StreamID
        do {
            id = try s.append(c.argv[fieldPos...], id: parsed.idGiven ? parsed.id : nil, seqGiven: parsed.seqGiven,
                              nowMillis: UInt64(max(0, clock.wallMillis())), nodeMaxBytes: config.streamNodeMaxBytes,
                              nodeMaxEntries: config.streamNodeMaxEntries)
        } catch .idTooSmall {
            throw CommandError("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        } catch {
            throw CommandError("ERR Elements are too large to be stored")
        }
        c.out.streamID(id)
        keyWritten(c.db, key)
        streamEvent("xadd", c.db, key)
        var argv: [Bytes]? = nil
        let wanted = shouldPropagate
        if parsed.trim.strategy != .none {
            if s.trim(parsed.trim) > 0 { streamEvent("xtrim", c.db, key) }
            if parsed.trim.approximate && wanted { argv = rewriteTrimArgument(c.argv, s, parsed.trim) }
        }
        if wanted && (!parsed.idGiven || !parsed.seqGiven) {
            if argv == nil { argv = c.argv }
            argv?[parsed.idPos] = id.bytes
        }
        if let argv { streamPropagate(c, [argv]) }
    }

    /// `MAXLEN ~ n` / `MINID ~ id` as `= <what is left>`, so replicas trim exactly the same.
    func rewriteTrimArgument(_ argv: [Bytes], _ s: StreamValue, _ t: StreamTrimArgs) -> [Bytes] {
        var out = argv
        out[t.argIndex - 1] = Server.equalsWord
        if t.strategy == .maxLen {
            var w = RESPWriter()
            w.unsignedDecimal(s.length)
            out[t.argIndex] = w.bytes
        } else {
            out[t.argIndex] = s.edgeID(first: true, skipTombstones: false).bytes
        }
        return out
    }

    /// `=`, the exact-trim marker of rewritten XADD / XTRIM arguments.
    static let equalsWord = Bytes("=".utf8)

    // MARK: - XRANGE, XREVRANGE

    /// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n], `(` for exclusive.
    func xrangeCommand(_ c: Client, reverse: Bool) throws {
        let startArg = reverse ? c.arg(3) : c.arg(2)
        let endArg = reverse ? c.arg(2) : c.arg(3)
        var (start, startEx) = try StreamAddArgs.intervalID(startArg, missingSeq: 0)
        if startEx {
            guard let n = start.successor else { throw CommandError("ERR invalid start ID for the interval") }
            start = n
        }
        var (end, endEx) = try StreamAddArgs.intervalID(endArg, missingSeq: UInt64.max)
        if endEx {
            guard let p = end.predecessor else { throw CommandError("ERR invalid end ID for the interval") }
            end = p
        }
        var count: Int64 = -1
        var j = 4
        while j < c.argc {
            guard c.arg(j).isOption("COUNT"), j + 1 < c.argc else { throw CommandError.syntax }
            count = try integerArgument(c.arg(j + 1))
            if count < 0 { count = 0 }
            j += 2
        }
        guard let s = try readStream(c.db, c.key(1)) else { c.out.arrayHeader(0); return }
        if count == 0 { c.out.nullArray(); return }
        let mark = c.out.count
        let n = streamWriteRange(&c.out, s, start: start, end: end, count: count < 0 ? 0 : Int(count), reverse: reverse)
        c.out.insertArrayHeader(n, at: mark)
    }

    /// Writes the entries of [start, end] (at most `count`, 0 = all) as [id, [field, value...]]
    /// pairs; returns how many.
    @discardableResult
    func streamWriteRange(_ out: inout RESPWriter, _ s: StreamValue, start: StreamID?, end: StreamID?,
                          count: Int, reverse: Bool) -> Int {
        var it = StreamIterator(s, start: start, end: end, reverse: reverse)
        var n = 0
        while let (id, fields) = it.nextID() {
            Server.writeEntry(&out, &it, id, fields)
            n += 1
            if count > 0 && n == count { break }
        }
        return n
    }

    /// One entry as [id, [field, value, ...]], from the iterator's current position.
    static func writeEntry(_ out: inout RESPWriter, _ it: inout StreamIterator, _ id: StreamID, _ fields: Int) {
        out.arrayHeader(2)
        out.streamID(id)
        out.arrayHeader(fields * 2)
        guard let lp = it.listpack else { return }
        for _ in 0..<fields {
            let (f, v) = it.nextField()
            lp.writeBulk(f, into: &out)
            lp.writeBulk(v, into: &out)
        }
    }

    // MARK: - XDEL, XTRIM, XSETID

    /// XDEL key id [id ...]: all IDs are checked before any is deleted.
    func xdelCommand(_ c: Client) throws {
        let key = c.key(1)
        guard let s = try writableStream(c.db, key) else { c.out.integer(0); return }
        var ids: [StreamID] = []
        ids.reserveCapacity(c.argc - 2)
        for j in 2..<c.argc { ids.append(try StreamID.parseStrict(c.arg(j))) }
        var deleted = 0
        var firstDeleted = false
        for id in ids where s.delete(id) {
            if id == s.firstID { firstDeleted = true }
            if id > s.maxDeletedID { s.maxDeletedID = id }
            deleted += 1
        }
        if deleted > 0 {
            if s.length == 0 {
                s.firstID = .zero
            } else if firstDeleted {
                s.firstID = s.edgeID(first: true, skipTombstones: true)
            }
            keyWritten(c.db, key, dirty: deleted)
            streamEvent("xdel", c.db, key)
        }
        c.out.integer(deleted)
    }

    /// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count].
    func xtrimCommand(_ c: Client) throws {
        let parsed = try StreamAddArgs.parse(c, xadd: false, obey: mustObey(c), nodeMaxEntries: config.streamNodeMaxEntries)
        let key = c.key(1)
        guard let s = try writableStream(c.db, key) else { c.out.integer(0); return }
        let deleted = s.trim(parsed.trim)
        if deleted > 0 {
            streamEvent("xtrim", c.db, key)
            if parsed.trim.approximate { streamPropagate(c, [rewriteTrimArgument(c.argv, s, parsed.trim)]) }
            keyWritten(c.db, key, dirty: Int(deleted))
        }
        c.out.integer(Int(deleted))
    }

    /// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
    func xsetidCommand(_ c: Client) throws {
        let id = try StreamID.parseStrict(c.arg(2))
        var entriesAdded: Int64 = -1
        var maxDeleted = StreamID.zero
        var i = 3
        while i < c.argc {
            let more = c.argc - 1 - i
            let opt = c.option(i)
            if opt == "ENTRIESADDED" && more > 0 {
                entriesAdded = try integerArgument(c.arg(i + 1))
                if entriesAdded < 0 { throw CommandError("ERR entries_added must be positive") }
            } else if opt == "MAXDELETEDID" && more > 0 {
                maxDeleted = try StreamID.parseStrict(c.arg(i + 1))
                if id < maxDeleted { throw CommandError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id") }
            } else {
                throw CommandError.syntax
            }
            i += 2
        }
        let key = c.key(1)
        guard let s = try writableStream(c.db, key) else { throw CommandError.noSuchKey }
        if s.length > 0 {
            if id < s.lastValidID { throw CommandError("ERR The ID specified in XSETID is smaller than the target stream top item") }
            if entriesAdded != -1 && s.length > UInt64(entriesAdded) {
                throw CommandError("ERR The entries_added specified in XSETID is smaller than the target stream length")
            }
        }
        s.lastID = id
        if entriesAdded != -1 { s.entriesAdded = UInt64(entriesAdded) }
        if !maxDeleted.isZero { s.maxDeletedID = maxDeleted }
        dirty += 1  // Redis 7.0 signals neither WATCH nor blocked readers here
        streamEvent("xsetid", c.db, key)
        c.out.ok()
    }
}

extension RESPWriter {
    /// Inserts an array header at `mark` once the number of elements written after it is known
    /// (Redis's deferred lengths).
    mutating func insertArrayHeader(_ n: Int, at mark: Int) {
        var h = RESPWriter(proto: proto)
        h.arrayHeader(n)
        bytes.insert(contentsOf: h.bytes, at: mark)
    }

    /// As `insertArrayHeader`, for a map of `n` pairs (a flat array of 2n in RESP2).
    mutating func insertMapHeader(_ n: Int, at mark: Int) {
        var h = RESPWriter(proto: proto)
        h.mapHeader(n)
        bytes.insert(contentsOf: h.bytes, at: mark)
    }
}

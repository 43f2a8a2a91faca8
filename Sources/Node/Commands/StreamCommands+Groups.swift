// Consumer-group management: XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP,
// XACK and XPENDING (summary and extended form, IDLE), as xgroupCommand, xackCommand and
// xpendingCommand answer them.
import Shared

extension Server {
    /// Arity of each XGROUP / XINFO subcommand (Redis checks it before the handler runs).
    static let streamSubcommandArity: [String: Int] = [
        "xgroup|create": -5, "xgroup|createconsumer": 5, "xgroup|delconsumer": 5, "xgroup|destroy": 4,
        "xgroup|help": 2, "xgroup|setid": -5,
        "xinfo|consumers": 4, "xinfo|groups": 3, "xinfo|help": 2, "xinfo|stream": -3,
    ]

    /// The container's subcommand name after Redis's checks: known, and with its own arity.
    func streamSubcommand(_ c: Client, _ container: String) throws -> String {
        let sub = c.arg(1).text.lowercased()
        let full = container + "|" + sub
        guard let arity = Server.streamSubcommandArity[full] else {
            throw CommandError.unknownSubcommand(c.arg(1), container.uppercased())
        }
        if (arity > 0 && c.argc != arity) || c.argc < -arity { throw CommandError.wrongArity(full) }
        return sub
    }

    /// Redis's addReplySubcommandSyntaxError.
    static func subcommandSyntaxError(_ c: Client) -> CommandError {
        CommandError("ERR unknown subcommand or wrong number of arguments for '\(String(decoding: c.arg(1).prefix(128), as: UTF8.self))'. Try \(c.arg(0).text.uppercased()) HELP.")
    }

    /// Wakes clients blocked on `key` without counting a modification (signalKeyAsReady without
    /// signalModifiedKey): XGROUP DESTROY, so XREADGROUP clients fail with -NOGROUP.
    func signalStreamReady(_ db: Database, _ key: Key) {
        signalKeyAsReady(db, key)
    }

    // MARK: - XGROUP

    /// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP.
    func xgroupCommand(_ c: Client) throws {
        let sub = try streamSubcommand(c, "xgroup")
        if sub == "help" {
            replyHelp(c, "XGROUP", [
                "CREATE <key> <groupname> <id|$> [option]",
                "    Create a new consumer group. Options are:",
                "    * MKSTREAM",
                "      Create the empty stream if it does not exist.",
                "    * ENTRIESREAD entries_read",
                "      Set the group's entries_read counter (internal use).",
                "CREATECONSUMER <key> <groupname> <consumer>",
                "    Create a new consumer in the specified group.",
                "DELCONSUMER <key> <groupname> <consumer>",
                "    Remove the specified consumer.",
                "DESTROY <key> <groupname>",
                "    Remove the specified group.",
                "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                "    Set the current group ID and entries_read counter."])
            return
        }
        var mkstream = false
        var entriesRead = StreamGroup.invalidEntriesRead
        var i = 5
        while i < c.argc {
            let opt = c.option(i)
            if sub == "create" && opt == "MKSTREAM" {
                mkstream = true
                i += 1
            } else if (sub == "create" || sub == "setid") && opt == "ENTRIESREAD" && i + 1 < c.argc {
                entriesRead = try integerArgument(c.arg(i + 1))
                if entriesRead < 0 && entriesRead != StreamGroup.invalidEntriesRead {
                    throw CommandError("ERR value for ENTRIESREAD must be positive or -1")
                }
                i += 2
            } else {
                throw Server.subcommandSyntaxError(c)
            }
        }
        let key = c.key(2)
        let groupName = c.arg(3)
        var s = try writableStream(c.db, key)
        var group: StreamGroup? = nil
        if !mkstream {
            guard let s else {
                throw CommandError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
            }
            group = s.group(groupName)
            if group == nil && sub != "create" && sub != "destroy" {
                throw CommandError("NOGROUP No such consumer group '\(Server.errorText(groupName))' for key name '\(Server.errorText(key.bytes))'")
            }
        }
        switch sub {
        case "create":
            guard c.argc <= 8 else { throw Server.subcommandSyntaxError(c) }
            let id: StreamID
            if c.arg(4) == [UInt8(ascii: "$")] { id = s?.lastID ?? .zero } else { id = try StreamID.parseStrict(c.arg(4)) }
            if s == nil {
                s = createStream(c.db, key)
                signalModifiedKey(c.db, key)
            }
            guard s?.createGroup(groupName, lastID: id, entriesRead: entriesRead) != nil else {
                throw CommandError("BUSYGROUP Consumer Group name already exists")
            }
            dirty += 1
            streamEvent("xgroup-create", c.db, key)
            c.out.ok()
        case "setid":
            guard c.argc == 5 || c.argc == 7, let s, let g = group else { throw Server.subcommandSyntaxError(c) }
            let id: StreamID
            if c.arg(4) == [UInt8(ascii: "$")] {
                id = s.lastID
            } else {
                guard let r = StreamID.parse(c.arg(4)) else { throw StreamID.invalidError }
                id = r.id
            }
            g.lastID = id
            g.entriesRead = entriesRead
            // As in Redis 7.0, group changes count as writes but signal nobody: WATCH does not
            // fire and blocked readers are not woken (XACK, XCLAIM, XREADGROUP alike).
            dirty += 1
            streamEvent("xgroup-setid", c.db, key)
            c.out.ok()
        case "destroy":
            guard let s else { throw Server.subcommandSyntaxError(c) }
            if group != nil && s.destroyGroup(groupName) {
                dirty += 1
                streamEvent("xgroup-destroy", c.db, key)
                signalStreamReady(c.db, key)
                c.out.integer(1)
            } else {
                c.out.integer(0)
            }
        case "createconsumer":
            guard let g = group else { throw Server.subcommandSyntaxError(c) }
            if g.createConsumer(c.arg(4), now: clock.wallMillis()) != nil {
                dirty += 1
                streamEvent("xgroup-createconsumer", c.db, key)
                c.out.integer(1)
            } else {
                c.out.integer(0)
            }
        case "delconsumer":
            guard let g = group else { throw Server.subcommandSyntaxError(c) }
            var pending = 0
            if let consumer = g.consumer(c.arg(4)) {
                pending = g.deleteConsumer(consumer)
                dirty += 1
                streamEvent("xgroup-delconsumer", c.db, key)
            }
            c.out.integer(pending)
        default:
            throw Server.subcommandSyntaxError(c)
        }
    }

    // MARK: - XACK

    /// XACK key group id [id ...]: all IDs are checked before any is acknowledged.
    func xackCommand(_ c: Client) throws {
        let key = c.key(1)
        guard let s = try readStream(c.db, key), let g = s.group(c.arg(2)) else { c.out.integer(0); return }
        var ids: [StreamID] = []
        ids.reserveCapacity(c.argc - 3)
        for j in 3..<c.argc { ids.append(try StreamID.parseStrict(c.arg(j))) }
        var acked = 0
        for id in ids where g.acknowledge(id) { acked += 1 }
        dirty += acked
        c.out.integer(acked)
    }

    // MARK: - XPENDING

    /// XPENDING key group [[IDLE min-idle] start end count [consumer]].
    func xpendingCommand(_ c: Client) throws {
        let summary = c.argc == 3
        if c.argc != 3 && (c.argc < 6 || c.argc > 9) { throw CommandError.syntax }
        var start = StreamID.zero, end = StreamID.max
        var count: Int64 = 0
        var minIdle: Int64 = 0
        var consumerName: Bytes? = nil
        if c.argc >= 6 {
            var at = 3
            if c.option(3) == "IDLE" {
                minIdle = try integerArgument(c.arg(4))
                if c.argc < 8 { throw CommandError.syntax }
                at += 2
            }
            count = try integerArgument(c.arg(at + 2))
            if count < 0 { count = 0 }
            var ex = false
            (start, ex) = try StreamAddArgs.intervalID(c.arg(at), missingSeq: 0)
            if ex {
                guard let n = start.successor else { throw CommandError("ERR invalid start ID for the interval") }
                start = n
            }
            (end, ex) = try StreamAddArgs.intervalID(c.arg(at + 1), missingSeq: UInt64.max)
            if ex {
                guard let p = end.predecessor else { throw CommandError("ERR invalid end ID for the interval") }
                end = p
            }
            if at + 3 < c.argc { consumerName = c.arg(at + 3) }
        }
        let key = c.key(1)
        let groupName = c.arg(2)
        guard let s = try readStream(c.db, key), let g = s.group(groupName) else {
            throw CommandError("NOGROUP No such key '\(Server.errorText(key.bytes))' or consumer group '\(Server.errorText(groupName))'")
        }
        if summary {
            c.out.arrayHeader(4)
            c.out.integer(g.pel.count)
            guard let first = g.pel.first, let last = g.pel.last else {
                c.out.null(); c.out.null(); c.out.nullArray()
                return
            }
            c.out.streamID(g.pel.key(first))
            c.out.streamID(g.pel.key(last))
            let owners = g.consumers.filter { !$0.pel.isEmpty }
            c.out.arrayHeader(owners.count)
            for o in owners {
                c.out.arrayHeader(2)
                c.out.bulk(o.name)
                c.out.bulk(int: o.pel.count)
            }
            return
        }
        var consumer: StreamConsumer? = nil
        if let name = consumerName {
            guard let found = g.consumer(name) else { c.out.arrayHeader(0); return }
            consumer = found
        }
        let now = clock.wallMillis()
        let mark = c.out.count
        var n = 0
        // Walk either PEL by ID; the NACK always comes from the group's.
        var next: (StreamID) -> StreamID? = { _ in nil }
        if let consumer {
            next = { from in consumer.pel.lowerBound(from).map { consumer.pel.key($0) } }
        } else {
            next = { from in g.pel.lowerBound(from).map { g.pel.key($0) } }
        }
        var from: StreamID? = start
        while count > 0, let f = from, let id = next(f), id <= end {
            from = id.successor
            guard let nack = g.pel.get(id) else { continue }
            if minIdle != 0 && now &- nack.deliveryTime < minIdle { continue }
            n += 1
            count -= 1
            c.out.arrayHeader(4)
            c.out.streamID(id)
            c.out.bulk(nack.consumer?.name ?? [])
            c.out.integer(max(0, now &- nack.deliveryTime))
            c.out.integer(Int(truncatingIfNeeded: nack.deliveryCount))
        }
        c.out.insertArrayHeader(n, at: mark)
    }
}

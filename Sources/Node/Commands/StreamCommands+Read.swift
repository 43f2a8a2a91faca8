// XREAD and XREADGROUP (xreadCommand): serve every stream that has something for the caller
// now, else block (StreamCommands+Blocking.swift) or answer a null array. Reading in a group
// moves its last-delivered ID and read counter and fills the PELs (streamReplyWithRange);
// those side effects reach replicas and the AOF as idempotent XCLAIM / XGROUP SETID /
// XGROUP CREATECONSUMER commands, never as the XREADGROUP itself.
import Shared

extension Server {
    /// XREAD [COUNT n] [BLOCK ms] STREAMS key... id... and
    /// XREADGROUP GROUP g consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key... id...
    func xreadCommand(_ c: Client, group xreadgroup: Bool) throws {
        let a = try StreamReadArgs.parse(c, group: xreadgroup)
        if xreadgroup { streamPropagate(c, []) }  // its effects propagate as other commands
        if blocking.rerunning {
            try serveBlockedRead(c, a)
            return
        }
        var ids: [StreamID] = []
        var groups: [StreamGroup?] = []
        ids.reserveCapacity(a.streams)
        for i in 0..<a.streams {
            let key = c.key(a.streamsAt + i)
            let idArg = c.arg(a.streamsAt + a.streams + i)
            let s = try readStream(c.db, key)
            var g: StreamGroup? = nil
            if let name = a.group {
                guard let s, let found = s.group(name) else {
                    throw CommandError("NOGROUP No such key '\(Server.errorText(key.bytes))' or consumer group '\(Server.errorText(name))' in XREADGROUP with GROUP option")
                }
                g = found
            }
            groups.append(g)
            if idArg == [UInt8(ascii: "$")] {
                if xreadgroup {
                    throw CommandError("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
                }
                ids.append(s?.lastID ?? .zero)
            } else if idArg == [UInt8(ascii: ">")] {
                if !xreadgroup {
                    throw CommandError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
                }
                ids.append(.max)  // "new messages", resolved against the group below
            } else {
                ids.append(try StreamID.parseStrict(idArg))
            }
        }

        var propagated: [[Bytes]] = []
        let mark = c.out.count
        var served = 0
        let now = clock.wallMillis()
        for i in 0..<a.streams {
            let key = c.key(a.streamsAt + i)
            guard let s = try readStream(c.db, key) else { continue }
            var gt = ids[i]
            var sync = false, history = false
            if let g = groups[i] {
                if gt != .max {
                    sync = true
                    history = true
                } else if s.length > 0 && s.lastValidID > g.lastID {
                    sync = true
                    gt = g.lastID
                }
            } else if s.length > 0 && s.lastValidID > gt {
                sync = true
            }
            guard sync else { continue }
            served += 1
            if c.proto == 2 { c.out.arrayHeader(2) }
            c.out.bulk(key.bytes)
            let start = gt.successor ?? .zero
            if let g = groups[i], let gname = a.group {
                let (consumer, created) = g.lookupOrCreate(a.consumer, now: now)
                if created {
                    dirty += 1
                    streamEvent("xgroup-createconsumer", c.db, key)
                    if a.noAck { propagated.append(Server.createConsumerArgv(key.bytes, gname, a.consumer)) }
                }
                if history {
                    streamWriteHistory(&c.out, s, g, consumer, start: start, count: a.count, now: now)
                } else {
                    streamWriteGroupRange(&c.out, s, key: key.bytes, group: g, groupName: gname, consumer: consumer,
                                          start: start, count: a.count, noAck: a.noAck, now: now, propagated: &propagated)
                }
                dirty += 1
            } else {
                let m = c.out.count
                let n = streamWriteRange(&c.out, s, start: start, end: nil, count: a.count, reverse: false)
                c.out.insertArrayHeader(n, at: m)
            }
        }
        if served > 0 {
            if c.proto == 2 { c.out.insertArrayHeader(served, at: mark) } else { c.out.insertMapHeader(served, at: mark) }
            if xreadgroup { streamPropagate(c, propagated) }
            return
        }
        if let ms = a.block {
            guard canBlock(c) else { c.out.nullArray(); return }
            blockOnStreams(c, a, resolved: ids, timeout: ms)
            return
        }
        c.out.nullArray()
    }

    /// Writes the entries after `start` for a group read (`>`): each moves the group's last ID
    /// and read counter and, without NOACK, becomes pending for `consumer` (taken over if it was
    /// pending for another one). Appends the XCLAIM (or, with NOACK, one XGROUP SETID) that
    /// replays it on a replica. Returns the number of entries, after writing the array header.
    @discardableResult
    func streamWriteGroupRange(_ out: inout RESPWriter, _ s: StreamValue, key: Bytes, group g: StreamGroup, groupName: Bytes,
                               consumer: StreamConsumer, start: StreamID, count: Int, noAck: Bool, now: Int64,
                               propagated: inout [[Bytes]]) -> Int {
        let mark = out.count
        var it = StreamIterator(s, start: start, end: nil, reverse: false)
        var n = 0
        var propagateLastID = false
        let wanted = shouldPropagate
        while let (id, fields) = it.nextID() {
            if id > g.lastID {
                if g.entriesRead != StreamGroup.invalidEntriesRead && !s.rangeHasTombstones(from: id, to: nil) {
                    g.entriesRead &+= 1
                } else if s.entriesAdded != 0 {
                    g.entriesRead = s.estimateDistance(to: id) ?? StreamGroup.invalidEntriesRead
                }
                g.lastID = id
                if noAck { propagateLastID = true }
            }
            Server.writeEntry(&out, &it, id, fields)
            if !noAck {
                let nack: StreamNACK
                if let p = g.pel.find(id) {
                    nack = g.pel.modify(p) { x -> StreamNACK in
                        x.consumer?.pel.remove(id)
                        x.consumer = consumer
                        x.deliveryTime = now
                        x.deliveryCount = 1
                        return x
                    }
                } else {
                    nack = StreamNACK(deliveryTime: now, deliveryCount: 1, consumer: consumer)
                    g.pel.insert(id, nack)
                }
                consumer.pel.insert(id, ())
                if wanted { propagated.append(Server.xclaimArgv(key, groupName, g, idArg: id.bytes, nack)) }
            }
            n += 1
            if count > 0 && n == count { break }
        }
        if propagateLastID && wanted { propagated.append(Server.setIDArgv(key, groupName, g)) }
        out.insertArrayHeader(n, at: mark)
        return n
    }

    /// A consumer's own history (streamReplyWithRangeFromConsumerPEL): its pending entries from
    /// `start`, each delivered once more; an entry deleted meanwhile shows as [id, nil].
    @discardableResult
    func streamWriteHistory(_ out: inout RESPWriter, _ s: StreamValue, _ g: StreamGroup, _ consumer: StreamConsumer,
                            start: StreamID, count: Int, now: Int64) -> Int {
        let mark = out.count
        var n = 0
        var pos = consumer.pel.lowerBound(start)
        while let p = pos, count == 0 || n < count {
            let id = consumer.pel.key(p)
            if streamWriteRange(&out, s, start: id, end: id, count: 1, reverse: false) == 0 {
                out.arrayHeader(2)
                out.streamID(id)
                out.nullArray()
            } else if let gp = g.pel.find(id) {
                g.pel.modify(gp) { $0.deliveryTime = now; $0.deliveryCount &+= 1 }
            }
            n += 1
            pos = consumer.pel.after(p)
        }
        out.insertArrayHeader(n, at: mark)
        return n
    }

    // MARK: - Propagated forms

    /// XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last-id: recreates
    /// a pending entry exactly, whatever the replica's clock (streamPropagateXCLAIM).
    static func xclaimArgv(_ key: Bytes, _ groupName: Bytes, _ g: StreamGroup, idArg: Bytes, _ nack: StreamNACK) -> [Bytes] {
        var time = RESPWriter()
        time.decimal(Int(nack.deliveryTime))
        var count = RESPWriter()
        count.unsignedDecimal(nack.deliveryCount)
        return [Words.xclaim, key, groupName, nack.consumer?.name ?? [], Words.zero, idArg, Words.time, time.bytes,
                Words.retryCount, count.bytes, Words.force, Words.justID, Words.lastID, g.lastID.bytes]
    }

    /// The constant words of the propagated forms, allocated once (as Redis's shared objects).
    enum Words {
        static let xclaim = Bytes("XCLAIM".utf8), zero = Bytes("0".utf8), time = Bytes("TIME".utf8)
        static let retryCount = Bytes("RETRYCOUNT".utf8), force = Bytes("FORCE".utf8), justID = Bytes("JUSTID".utf8)
        static let lastID = Bytes("LASTID".utf8), xgroup = Bytes("XGROUP".utf8), setID = Bytes("SETID".utf8)
        static let entriesRead = Bytes("ENTRIESREAD".utf8), createConsumer = Bytes("CREATECONSUMER".utf8)
    }

    /// XGROUP SETID key group last-id ENTRIESREAD n (streamPropagateGroupID).
    static func setIDArgv(_ key: Bytes, _ groupName: Bytes, _ g: StreamGroup) -> [Bytes] {
        [Words.xgroup, Words.setID, key, groupName, g.lastID.bytes, Words.entriesRead, Bytes(String(g.entriesRead).utf8)]
    }

    /// XGROUP CREATECONSUMER key group consumer (streamPropagateConsumerCreation).
    static func createConsumerArgv(_ key: Bytes, _ groupName: Bytes, _ consumer: Bytes) -> [Bytes] {
        [Words.xgroup, Words.createConsumer, key, groupName, consumer]
    }

    /// A key or name inside an error text: cut at a NUL and without line breaks, as Redis's
    /// `%s` formatting and addReplyErrorFormat leave it.
    static func errorText(_ b: Bytes) -> String {
        let cut = b.firstIndex(of: 0).map { Array(b[..<$0]) } ?? b
        return String(decoding: cut.map { $0 == 0x0D || $0 == 0x0A ? 0x20 : $0 }, as: UTF8.self)
    }
}

// XCLAIM and XAUTOCLAIM (xclaimCommand, xautoclaimCommand): move pending entries to another
// consumer. Each claim, and each pending entry dropped because its entry is gone, propagates as
// an idempotent XCLAIM; the command itself never does.
import Shared

extension Server {
    /// Moves the pending entry `id` to `consumer` with the given delivery time and count rule.
    private func reassign(_ g: StreamGroup, _ id: StreamID, to consumer: StreamConsumer, time: Int64,
                          retryCount: Int64?, incrementCount: Bool) -> StreamNACK? {
        guard let p = g.pel.find(id) else { return nil }
        return g.pel.modify(p) { nack -> StreamNACK in
            if nack.consumer !== consumer { nack.consumer?.pel.remove(id) }
            nack.deliveryTime = time
            if let r = retryCount { nack.deliveryCount = UInt64(r) } else if incrementCount { nack.deliveryCount &+= 1 }
            if nack.consumer !== consumer {
                consumer.pel.insert(id, ())
                nack.consumer = consumer
            }
            return nack
        }
    }

    /// Drops a pending entry whose stream entry no longer exists, propagating that as XCLAIM.
    private func dropPending(_ c: Client, _ key: Bytes, _ g: StreamGroup, _ id: StreamID, idArg: Bytes,
                             propagated: inout [[Bytes]]) {
        guard let nack = g.pel.get(id) else { return }
        propagated.append(Server.xclaimArgv(key, c.arg(2), g, idArg: idArg, nack))
        dirty += 1
        g.acknowledge(id)
    }

    // MARK: - XCLAIM

    /// XCLAIM key group consumer min-idle id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE]
    /// [JUSTID] [LASTID id].
    func xclaimCommand(_ c: Client) throws {
        let key = c.key(1)
        guard let s = try readStream(c.db, key), let g = s.group(c.arg(2)) else {
            throw CommandError("NOGROUP No such key '\(Server.errorText(key.bytes))' or consumer group '\(Server.errorText(c.arg(2)))'")
        }
        guard var minIdle = NumberFormat.parseInt(c.arg(4)) else { throw CommandError("ERR Invalid min-idle-time argument for XCLAIM") }
        if minIdle < 0 { minIdle = 0 }
        var ids: [(StreamID, Int)] = []
        var j = 5
        while j < c.argc, let r = StreamID.parse(c.arg(j), strict: true) {
            ids.append((r.id, j))
            j += 1
        }
        let now = clock.wallMillis()
        var force = false, justID = false
        var deliveryTime: Int64 = -1
        var retryCount: Int64 = -1
        var lastID = StreamID.zero
        while j < c.argc {
            let more = c.argc - 1 - j
            let opt = c.option(j)
            if opt == "FORCE" {
                force = true
            } else if opt == "JUSTID" {
                justID = true
            } else if opt == "IDLE" && more > 0 {
                j += 1
                guard let v = NumberFormat.parseInt(c.arg(j)) else { throw CommandError("ERR Invalid IDLE option argument for XCLAIM") }
                deliveryTime = now &- v
            } else if opt == "TIME" && more > 0 {
                j += 1
                guard let v = NumberFormat.parseInt(c.arg(j)) else { throw CommandError("ERR Invalid TIME option argument for XCLAIM") }
                deliveryTime = v
            } else if opt == "RETRYCOUNT" && more > 0 {
                j += 1
                guard let v = NumberFormat.parseInt(c.arg(j)) else { throw CommandError("ERR Invalid RETRYCOUNT option argument for XCLAIM") }
                retryCount = v
            } else if opt == "LASTID" && more > 0 {
                j += 1
                lastID = try StreamID.parseStrict(c.arg(j))
            } else {
                throw CommandError("ERR Unrecognized XCLAIM option '\(Server.errorText(c.arg(j)))'")
            }
            j += 1
        }
        var propagated: [[Bytes]] = []
        var propagateLastID = false
        if lastID > g.lastID {
            g.lastID = lastID
            propagateLastID = true
        }
        // A bogus time (in the future, negative) means "now", as Redis does.
        if deliveryTime < 0 || deliveryTime > now { deliveryTime = now }

        var consumer: StreamConsumer? = nil
        let mark = c.out.count
        var n = 0
        for (id, argIndex) in ids {
            let exists = s.contains(id)
            if !exists {
                if g.pel.get(id) != nil {
                    dropPending(c, key.bytes, g, id, idArg: c.arg(argIndex), propagated: &propagated)
                    propagateLastID = false
                }
                continue
            }
            if force && g.pel.get(id) == nil {
                g.pel.insert(id, StreamNACK(deliveryTime: now, deliveryCount: 1, consumer: nil))
            }
            guard let nack = g.pel.get(id) else { continue }
            if nack.consumer != nil && minIdle != 0 && now &- nack.deliveryTime < minIdle { continue }
            if consumer == nil {
                let (found, created) = g.lookupOrCreate(c.arg(3), now: now)
                if created { dirty += 1; streamEvent("xgroup-createconsumer", c.db, key) }
                consumer = found
            }
            guard let owner = consumer,
                  let updated = reassign(g, id, to: owner, time: deliveryTime, retryCount: retryCount >= 0 ? retryCount : nil,
                                         incrementCount: !justID) else { continue }
            if justID {
                c.out.streamID(id)
            } else {
                streamWriteRange(&c.out, s, start: id, end: id, count: 1, reverse: false)
            }
            n += 1
            propagated.append(Server.xclaimArgv(key.bytes, c.arg(2), g, idArg: c.arg(argIndex), updated))
            propagateLastID = false
            dirty += 1
        }
        if propagateLastID {
            propagated.append(Server.setIDArgv(key.bytes, c.arg(2), g))
            dirty += 1
        }
        c.out.insertArrayHeader(n, at: mark)
        streamPropagate(c, propagated)
    }

    // MARK: - XAUTOCLAIM

    /// XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID]: claims idle pending
    /// entries from `start`, answering [next cursor, claimed, IDs of deleted entries dropped].
    func xautoclaimCommand(_ c: Client) throws {
        guard var minIdle = NumberFormat.parseInt(c.arg(4)) else { throw CommandError("ERR Invalid min-idle-time argument for XAUTOCLAIM") }
        if minIdle < 0 { minIdle = 0 }
        var (start, ex) = try StreamAddArgs.intervalID(c.arg(5), missingSeq: 0)
        if ex {
            guard let n = start.successor else { throw CommandError("ERR invalid start ID for the interval") }
            start = n
        }
        var count = 100
        var justID = false
        var j = 6
        while j < c.argc {
            let more = c.argc - 1 - j
            let opt = c.option(j)
            if opt == "COUNT" && more > 0 {
                // At most LONG_MAX / max(sizeof(streamID), attempts factor) = LONG_MAX / 16.
                guard let v = NumberFormat.parseInt(c.arg(j + 1)), v >= 1, v <= Int64.max / 16 else {
                    throw CommandError("ERR COUNT must be > 0")
                }
                count = Int(v)
                j += 1
            } else if opt == "JUSTID" {
                justID = true
            } else {
                throw CommandError.syntax
            }
            j += 1
        }
        let key = c.key(1)
        guard let s = try readStream(c.db, key), let g = s.group(c.arg(2)) else {
            throw CommandError("NOGROUP No such key '\(Server.errorText(key.bytes))' or consumer group '\(Server.errorText(c.arg(2)))'")
        }
        var attempts = count * 10
        let now = clock.wallMillis()
        var consumer: StreamConsumer? = nil
        var claimed = RESPWriter(proto: c.proto)
        var claimedCount = 0
        var deleted: [StreamID] = []
        var propagated: [[Bytes]] = []
        var from: StreamID? = start
        while true {
            // Redis's `while (attempts-- && count && raxNext(&ri))`.
            if attempts == 0 { break }
            attempts -= 1
            if count == 0 { break }
            guard let f = from, let p = g.pel.lowerBound(f) else { from = nil; break }
            let id = g.pel.key(p)
            from = id.successor
            let nack = g.pel.value(p)
            if !s.contains(id) {
                dropPending(c, key.bytes, g, id, idArg: id.bytes, propagated: &propagated)
                deleted.append(id)
                count -= 1
                continue
            }
            if minIdle != 0 && now &- nack.deliveryTime < minIdle { continue }
            if consumer == nil {
                let (found, created) = g.lookupOrCreate(c.arg(3), now: now)
                if created { dirty += 1; streamEvent("xgroup-createconsumer", c.db, key) }
                consumer = found
            }
            guard let owner = consumer,
                  let updated = reassign(g, id, to: owner, time: now, retryCount: nil, incrementCount: !justID) else { continue }
            if justID {
                claimed.streamID(id)
            } else {
                streamWriteRange(&claimed, s, start: id, end: id, count: 1, reverse: false)
            }
            claimedCount += 1
            count -= 1
            propagated.append(Server.xclaimArgv(key.bytes, c.arg(2), g, idArg: id.bytes, updated))
            dirty += 1
        }
        // The cursor is the next pending ID after the last one looked at, 0-0 at the end.
        let cursor = from.flatMap { f in g.pel.lowerBound(f).map { g.pel.key($0) } } ?? .zero
        c.out.arrayHeader(3)
        c.out.streamID(cursor)
        c.out.arrayHeader(claimedCount)
        c.out.raw(claimed.bytes)
        c.out.arrayHeader(deleted.count)
        for id in deleted { c.out.streamID(id) }
        streamPropagate(c, propagated)
    }
}

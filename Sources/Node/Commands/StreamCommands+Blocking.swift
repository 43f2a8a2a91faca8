// Blocking XREAD / XREADGROUP on the execution core's blocking (Blocking.swift): the client
// blocks on its keys with an argv rewritten so that a re-run means what the first run meant (`$`
// resolved to the IDs it stood for, COUNT defaulting to 1000 as Redis's xread_count does). When
// one of the keys is signalled (`signalKeyAsReady`), the command re-runs through `call` in
// "serve" mode for that key only, as serveClientsBlockedOnStreamKey does: new entries are
// served, a deleted or retyped key fails an XREADGROUP with -UNBLOCKED (an XREAD keeps
// waiting), a destroyed group with -NOGROUP. The served client is unblocked through the core's
// queue like any other.
import Shared

extension Server {
    /// Signals every stream of `db` before the database is emptied or swapped, so XREADGROUP
    /// clients blocked on them fail instead of waiting forever (scanDatabaseForDeletedStreams).
    func signalStreamsGoing(_ db: Database) {
        guard blocking.hasWaiters else { return }
        for (k, v) in db.dict {
            if case .stream = v { signalKeyAsReady(db, k) }
        }
    }

    /// Blocks the client on its streams, remembering the resolved IDs in its argv.
    func blockOnStreams(_ c: Client, _ a: StreamReadArgs, resolved ids: [StreamID], timeout: Int64) {
        var argv = c.argv
        for i in 0..<a.streams where argv[a.streamsAt + a.streams + i] == [UInt8(ascii: "$")] {
            argv[a.streamsAt + a.streams + i] = ids[i].bytes
        }
        if a.count == 0 {
            // Insert before STREAMS: a later COUNT wins, so an explicit COUNT 0 is replaced too.
            argv.insert(contentsOf: [Bytes("COUNT".utf8), Bytes(String(StreamReadArgs.blockedDefaultCount).utf8)], at: a.streamsAt - 1)
        }
        var keys: [Key] = []
        for i in 0..<a.streams { keys.append(c.key(a.streamsAt + i)) }
        let saved = c.argv
        c.argv = argv
        blockClient(c, keys: keys, timeout: timeout)
        c.argv = saved
    }

    /// The re-run of a blocked XREAD / XREADGROUP after one of its keys changed.
    func serveBlockedRead(_ c: Client, _ a: StreamReadArgs) throws {
        var keys: [Key] = []
        for i in 0..<a.streams { keys.append(c.key(a.streamsAt + i)) }
        let ready = blocking.servingKey.map { $0.key } ?? keys.first
        guard let key = ready, let i = keys.firstIndex(of: key) else {
            blockClient(c, keys: keys, timeout: 0)
            return
        }
        let value = lookupWrite(c.db, key)
        guard case .stream(let s)? = value else {
            if a.group != nil { throw CommandError("UNBLOCKED the stream key no longer exists") }
            blockClient(c, keys: keys, timeout: 0)  // an XREAD waits for a stream to come back
            return
        }
        var gt: StreamID
        var group: StreamGroup? = nil
        if let name = a.group {
            guard let g = s.group(name) else {
                throw CommandError("NOGROUP the consumer group this client was blocked on no longer exists")
            }
            group = g
            gt = g.lastID
        } else {
            gt = try StreamID.parseStrict(c.arg(a.streamsAt + a.streams + i))
        }
        // Redis compares with the last ID ever added, so entries added and deleted since can
        // still wake the client with an empty list.
        guard s.lastID > gt else {
            blockClient(c, keys: keys, timeout: 0)
            return
        }
        let start = gt.successor ?? .zero
        if c.proto == 2 { c.out.arrayHeader(1); c.out.arrayHeader(2) } else { c.out.mapHeader(1) }
        c.out.bulk(key.bytes)
        if let g = group, let gname = a.group {
            let now = clock.wallMillis()
            var propagated: [[Bytes]] = []
            let (consumer, created) = g.lookupOrCreate(a.consumer, now: now)
            if created { streamEvent("xgroup-createconsumer", c.db, key) }
            if created && a.noAck { propagated.append(Server.createConsumerArgv(key.bytes, gname, a.consumer)) }
            streamWriteGroupRange(&c.out, s, key: key.bytes, group: g, groupName: gname, consumer: consumer,
                                  start: start, count: a.count, noAck: a.noAck, now: now, propagated: &propagated)
            // The blocking table propagates only when the dataset changed.
            dirty += 1
            streamPropagate(c, propagated)
        } else {
            let m = c.out.count
            let n = streamWriteRange(&c.out, s, start: start, end: nil, count: a.count, reverse: false)
            c.out.insertArrayHeader(n, at: m)
        }
    }
}

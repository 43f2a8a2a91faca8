// Fuzz target: the stream RDB payload (RDBReader.stream), compiled with the Node sources. The first
// byte picks the layout (15, 19 or 21, Redis 5-6.2 / 7.0 / 7.2; other values modulo 3), the rest is
// the payload after the type byte and key: a DUMP payload without its 10-byte trailer. Whatever
// the reader accepts must then survive everything the commands do with a stream: walking it both
// ways with fields, the lag and counter arithmetic, XINFO's radix-tree count, writing it back (and
// reading that again, identically), the AOF rewrite, deletions, trims, appends and copies, and
// every stream command run on it through a real (socket-less) Server.
import Shared
import Glibc

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreamRDB(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    StreamFuzz.run(input)
    return 0
}

enum StreamFuzz {
    static func run(_ input: [UInt8]) {
        let types = [RDB.typeStreamListpacks, RDB.typeStreamListpacks2, RDB.typeStreamListpacks3]
        let type = types.contains(input[0]) ? input[0] : types[Int(input[0]) % 3]
        var r = RDBReader(Array(input[1...]))
        guard let s = try? r.stream(type: type, at: 0) else { return }
        if let server = FuzzServer.shared { server.commands(on: s.copy()) }
        exercise(s)
    }

    static func exercise(_ s: StreamValue) {
        var ids: [StreamID] = []
        for reverse in [false, true] {
            var it = StreamIterator(s, start: nil, end: nil, reverse: reverse)
            var n = 0
            while let (id, fields) = it.nextID(), n < 100_000 {
                _ = it.fieldPairs(fields)
                if !reverse { ids.append(id) }
                n += 1
            }
            var t = StreamIterator(s, start: nil, end: nil, reverse: reverse)
            t.skipTombstones = false
            while t.nextID() != nil, n < 200_000 { n += 1 }  // fields left unread on purpose
        }
        _ = s.radixTreeNodes
        _ = s.memoryEstimate
        _ = s.lastValidID
        _ = s.edgeID(first: true, skipTombstones: false)
        for g in s.groups {
            _ = s.lag(of: g)
            _ = s.estimateDistance(to: g.lastID)
            g.pel.forEach { id, nack in _ = nack.consumer?.name; _ = s.contains(id) }
            for c in g.consumers { c.pel.forEach { id, _ in _ = g.pel.get(id) } }
        }
        // The writer's output must read back to the same entries.
        var w = RDBWriter(options: RDBWriter.Options())
        w.writeStream(s)
        var again = RDBReader(w.buffer)
        guard let copy = try? again.stream(type: RDB.typeStreamListpacks2, at: 0) else {
            fatalError("a loaded stream did not read back from its own RDB form")
        }
        if copy.length != s.length || copy.groups.count != s.groups.count { fatalError("RDB round trip changed the stream") }
        try? AOFBaseWriter.rewriteStream([0x6B], s) { _ in }
        // Mutations, on a copy and on the original.
        let dup = s.copy()
        for id in ids.prefix(5) { _ = dup.delete(id) }
        var a = StreamTrimArgs()
        a.strategy = .maxLen
        a.maxLen = Int64(ids.count / 2)
        _ = dup.trim(a)
        a.strategy = .minID
        a.minID = ids.last ?? .zero
        a.approximate = true
        _ = s.trim(a)
        if s.lastID != .max {
            _ = try? s.append([[0x66], [0x76]][...], id: nil, seqGiven: true, nowMillis: s.lastID.ms,
                              nodeMaxBytes: 4096, nodeMaxEntries: 100)
        }
        _ = try? dup.append([[0x66], [0x31], [0x67], [0x32]][...], id: .max, seqGiven: false, nowMillis: 0,
                            nodeMaxBytes: 0, nodeMaxEntries: 2)
        var it = StreamIterator(s, start: nil, end: nil, reverse: true)
        while let (_, fields) = it.nextID() { _ = it.fieldPairs(fields) }
    }
}

/// One server for the whole run, with a socket-less client; replies are discarded.
final class FuzzServer {
    nonisolated(unsafe) static let shared = try? FuzzServer()
    let loop: EventLoop
    let server: Server
    let client: Client

    init() throws {
        loop = try EventLoop()
        let config = ServerConfig()
        config.saveRules = []
        server = Server(config: config, loop: loop, log: Logger())
        client = server.makeLocalClient(id: 1)
        server.clients[1] = client
    }

    func run(_ args: [String]) {
        client.argv = args.map { Array($0.utf8) }
        server.processCommand(client)
        client.argv = []
        client.out.bytes.removeAll(keepingCapacity: true)
    }

    /// Every stream command, with the stream's own group, consumer and entry IDs as arguments.
    func commands(on s: StreamValue) {
        let db = server.databases[0]
        db.clear()
        db.set(Key("k"), .stream(s))
        var it = StreamIterator(s, start: nil, end: nil, reverse: false)
        var ids: [String] = []
        while let (id, _) = it.nextID(), ids.count < 4 { ids.append(id.text) }
        let groups = s.groups.prefix(2).map { String(decoding: $0.name, as: UTF8.self) } + ["nogroup"]
        var pending: [String] = []
        for g in s.groups.prefix(1) { g.pel.forEach { id, _ in if pending.count < 4 { pending.append(id.text) } } }
        let consumers = s.groups.first?.consumers.prefix(2).map { String(decoding: $0.name, as: UTF8.self) } ?? []
        let first = ids.first ?? "0-1", last = ids.last ?? "0-1"
        run(["XINFO", "STREAM", "k"])
        run(["XINFO", "STREAM", "k", "FULL", "COUNT", "3"])
        run(["XINFO", "GROUPS", "k"])
        run(["XLEN", "k"])
        run(["XRANGE", "k", "-", "+"])
        run(["XREVRANGE", "k", "+", "-", "COUNT", "2"])
        run(["XRANGE", "k", "(" + first, last])
        run(["XREAD", "COUNT", "2", "STREAMS", "k", "0"])
        run(["DEBUG", "DIGEST"])
        run(["MEMORY", "USAGE", "k"])
        for g in groups {
            run(["XINFO", "CONSUMERS", "k", g])
            run(["XPENDING", "k", g])
            run(["XPENDING", "k", g, "IDLE", "1", "-", "+", "5"])
            for c in consumers + ["fresh"] {
                run(["XPENDING", "k", g, "-", "+", "5", c])
                run(["XREADGROUP", "GROUP", g, c, "COUNT", "2", "STREAMS", "k", "0"])
                run(["XREADGROUP", "GROUP", g, c, "COUNT", "2", "STREAMS", "k", ">"])
                run(["XCLAIM", "k", g, c, "1"] + pending + [first, "JUSTID"])
                run(["XCLAIM", "k", g, c, "0"] + pending + ["FORCE", "RETRYCOUNT", "3"])
                run(["XAUTOCLAIM", "k", g, c, "1", "0", "COUNT", "3"])
                run(["XAUTOCLAIM", "k", g, c, "0", "-", "JUSTID"])
            }
            run(["XACK", "k", g] + pending + [first])
            run(["XGROUP", "SETID", "k", g, "0", "ENTRIESREAD", "2"])
            run(["XREADGROUP", "GROUP", g, "x", "NOACK", "STREAMS", "k", ">"])
            run(["XGROUP", "DELCONSUMER", "k", g, consumers.first ?? "x"])
        }
        run(["XDEL", "k", first, last])
        run(["XADD", "k", "MAXLEN", "~", "2", "*", "f", "v"])
        run(["XTRIM", "k", "MINID", "=", last])
        run(["XSETID", "k", "18446744073709551615-18446744073709551614"])
        run(["XADD", "k", "*", "f", "v"])
        run(["XINFO", "STREAM", "k", "FULL"])
        run(["COPY", "k", "k2"])
        run(["XGROUP", "DESTROY", "k", groups[0]])
        _ = try? RDBWriter.snapshot(server.databases, options: RDBWriter.Options(), now: 0)
        db.clear()
    }
}

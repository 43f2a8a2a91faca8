// XINFO STREAM [FULL [COUNT n]] | GROUPS | CONSUMERS | HELP, with xinfoCommand's fields, order
// and null rules (entries-read and lag are null when unknown).
import Shared

extension Server {
    /// XINFO's subcommands.
    func xinfoCommand(_ c: Client) throws {
        let sub = try streamSubcommand(c, "xinfo")
        if sub == "help" {
            replyHelp(c, "XINFO", [
                "CONSUMERS <key> <groupname>",
                "    Show consumers of <groupname>.",
                "GROUPS <key>",
                "    Show the stream consumer groups.",
                "STREAM <key> [FULL [COUNT <count>]",
                "    Show information about the stream."])
            return
        }
        let key = c.key(2)
        guard let s = try readStream(c.db, key) else { throw CommandError.noSuchKey }
        switch sub {
        case "consumers":
            guard let g = s.group(c.arg(3)) else {
                throw CommandError("NOGROUP No such consumer group '\(Server.errorText(c.arg(3)))' for key name '\(Server.errorText(key.bytes))'")
            }
            let now = clock.wallMillis()
            c.out.arrayHeader(g.consumers.count)
            for consumer in g.consumers {
                c.out.mapHeader(3)
                c.out.bulk("name"); c.out.bulk(consumer.name)
                c.out.bulk("pending"); c.out.integer(consumer.pel.count)
                c.out.bulk("idle"); c.out.integer(max(0, now &- consumer.seenTime))
            }
        case "groups":
            c.out.arrayHeader(s.groups.count)
            for g in s.groups {
                c.out.mapHeader(6)
                c.out.bulk("name"); c.out.bulk(g.name)
                c.out.bulk("consumers"); c.out.integer(g.consumers.count)
                c.out.bulk("pending"); c.out.integer(g.pel.count)
                c.out.bulk("last-delivered-id"); c.out.streamID(g.lastID)
                writeGroupCounters(c, s, g)
            }
        default:
            try xinfoStream(c, s)
        }
    }

    /// entries-read and lag of a group.
    private func writeGroupCounters(_ c: Client, _ s: StreamValue, _ g: StreamGroup) {
        c.out.bulk("entries-read")
        if g.entriesRead != StreamGroup.invalidEntriesRead { c.out.integer(g.entriesRead) } else { c.out.null() }
        c.out.bulk("lag")
        if let lag = s.lag(of: g) { c.out.integer(lag) } else { c.out.null() }
    }

    /// XINFO STREAM key [FULL [COUNT n]] (xinfoReplyWithStreamInfo).
    private func xinfoStream(_ c: Client, _ s: StreamValue) throws {
        var full = false
        var count: Int64 = 10
        let optc = c.argc - 3
        if optc > 0 {
            guard optc == 1 || optc == 3, c.option(3) == "FULL" else { throw Server.subcommandSyntaxError(c) }
            full = true
            if optc == 3 {
                guard c.option(4) == "COUNT" else { throw Server.subcommandSyntaxError(c) }
                count = try integerArgument(c.arg(5))
                if count < 0 { count = 10 }
            }
        }
        let limit = count > Int64(Int.max) ? Int.max : Int(count)
        c.out.mapHeader(full ? 9 : 10)
        c.out.bulk("length"); c.out.integer(Int(truncatingIfNeeded: s.length))
        c.out.bulk("radix-tree-keys"); c.out.integer(s.nodes.count)
        c.out.bulk("radix-tree-nodes"); c.out.integer(s.radixTreeNodes)
        c.out.bulk("last-generated-id"); c.out.streamID(s.lastID)
        c.out.bulk("max-deleted-entry-id"); c.out.streamID(s.maxDeletedID)
        c.out.bulk("entries-added"); c.out.integer(Int(truncatingIfNeeded: s.entriesAdded))
        c.out.bulk("recorded-first-entry-id"); c.out.streamID(s.firstID)
        if !full {
            c.out.bulk("groups"); c.out.integer(s.groups.count)
            c.out.bulk("first-entry")
            if streamWriteRange(&c.out, s, start: .zero, end: .max, count: 1, reverse: false) == 0 { c.out.null() }
            c.out.bulk("last-entry")
            if streamWriteRange(&c.out, s, start: .zero, end: .max, count: 1, reverse: true) == 0 { c.out.null() }
            return
        }
        c.out.bulk("entries")
        let mark = c.out.count
        let n = streamWriteRange(&c.out, s, start: nil, end: nil, count: limit, reverse: false)
        c.out.insertArrayHeader(n, at: mark)
        c.out.bulk("groups")
        c.out.arrayHeader(s.groups.count)
        for g in s.groups {
            c.out.mapHeader(7)
            c.out.bulk("name"); c.out.bulk(g.name)
            c.out.bulk("last-delivered-id"); c.out.streamID(g.lastID)
            writeGroupCounters(c, s, g)
            c.out.bulk("pel-count"); c.out.integer(g.pel.count)
            c.out.bulk("pending")
            let shown = limit == 0 ? g.pel.count : min(limit, g.pel.count)
            c.out.arrayHeader(shown)
            var pos = g.pel.first
            for _ in 0..<shown {
                guard let p = pos else { break }
                let nack = g.pel.value(p)
                c.out.arrayHeader(4)
                c.out.streamID(g.pel.key(p))
                c.out.bulk(nack.consumer?.name ?? [])
                c.out.integer(nack.deliveryTime)
                c.out.integer(Int(truncatingIfNeeded: nack.deliveryCount))
                pos = g.pel.after(p)
            }
            c.out.bulk("consumers")
            c.out.arrayHeader(g.consumers.count)
            for consumer in g.consumers {
                c.out.mapHeader(4)
                c.out.bulk("name"); c.out.bulk(consumer.name)
                c.out.bulk("seen-time"); c.out.integer(consumer.seenTime)
                c.out.bulk("pel-count"); c.out.integer(consumer.pel.count)
                c.out.bulk("pending")
                let mine = limit == 0 ? consumer.pel.count : min(limit, consumer.pel.count)
                c.out.arrayHeader(mine)
                var cp = consumer.pel.first
                for _ in 0..<mine {
                    guard let p = cp else { break }
                    let id = consumer.pel.key(p)
                    let nack = g.pel.get(id)
                    c.out.arrayHeader(3)
                    c.out.streamID(id)
                    c.out.integer(nack?.deliveryTime ?? 0)
                    c.out.integer(Int(truncatingIfNeeded: nack?.deliveryCount ?? 0))
                    cp = consumer.pel.after(p)
                }
            }
        }
    }
}

extension StreamValue {
    /// The number of nodes Redis's radix tree would have for the current node keys (XINFO's
    /// radix-tree-nodes). A rax over 16-byte keys is a compressed trie: a head node holding the
    /// keys' common prefix (when there is one), a node per branching point and per key, and an
    /// extra compressed node on every edge longer than one byte. Computed from the sorted keys
    /// with a stack over their longest common prefixes.
    var radixTreeNodes: Int {
        let n = nodes.count
        if n == 0 { return 1 }
        if n == 1 { return 2 }
        var keys: [[UInt8]] = []
        keys.reserveCapacity(n)
        nodes.forEach { id, _ in keys.append(id.encoded) }
        func lcp(_ a: [UInt8], _ b: [UInt8]) -> Int {
            var i = 0
            while i < 16 && a[i] == b[i] { i += 1 }
            return i
        }
        var lcps: [Int] = []
        lcps.reserveCapacity(n - 1)
        for i in 0..<(n - 1) { lcps.append(lcp(keys[i], keys[i + 1])) }
        var longEdges = 0
        // Leaves hang below the deeper of their two neighbouring branching points.
        for i in 0..<n {
            let parent = max(i > 0 ? lcps[i - 1] : -1, i < n - 1 ? lcps[i] : -1)
            if 16 - parent > 1 { longEdges += 1 }
        }
        var stack: [Int] = []
        var branching = 0
        for l in lcps {
            while let top = stack.last, top > l {
                stack.removeLast()
                if top - max(stack.last ?? -1, l) > 1 { longEdges += 1 }
            }
            if stack.last != l {
                stack.append(l)
                branching += 1
            }
        }
        while stack.count > 1 {
            let top = stack.removeLast()
            if top - (stack.last ?? 0) > 1 { longEdges += 1 }
        }
        let prefix = lcps.min() ?? 0
        return (prefix > 0 ? 1 : 0) + branching + n + longEdges
    }

    /// An estimate of the memory a stream holds (MEMORY USAGE, and the hook maxmemory
    /// accounting will use): node buffers, index and group structures.
    var memoryEstimate: Int {
        var total = 96
        nodes.forEach { _, lp in total += lp.bytes.capacity + 48 }
        for g in groups {
            total += 96 + g.name.count + g.pel.count * 48
            for c in g.consumers { total += 80 + c.name.count + c.pel.count * 24 }
        }
        return total
    }
}

import Testing
@testable import Node
import Shared

/// The stream's building blocks in process: ID parsing, the listpack encoding, the ordered map,
/// and the stream itself against a plain array model under random appends, deletions and trims.
@Suite struct StreamStructureTests {
    static func b(_ s: String) -> Bytes { Array(s.utf8) }

    // MARK: - IDs

    @Test func idParsingFollowsString2ullAndTheSpecialForms() {
        func p(_ s: String, strict: Bool = false, auto: Bool = false, missing: UInt64 = 0) -> String? {
            StreamID.parse(Self.b(s), missingSeq: missing, strict: strict, allowAutoSeq: auto).map { "\($0.id.text)\($0.seqGiven ? "" : "*")" }
        }
        #expect(p("1-2") == "1-2")
        #expect(p("5") == "5-0")
        #expect(p("5", missing: UInt64.max) == "5-18446744073709551615")
        #expect(p("-") == "0-0")
        #expect(p("+") == "18446744073709551615-18446744073709551615")
        #expect(p("-", strict: true) == nil)
        #expect(p("+", strict: true) == nil)
        #expect(p("7-*", auto: true) == "7-0*")
        #expect(p("7-*") == nil)
        // strtoull's leniency: blanks, a sign, a negated value wrapping around.
        #expect(p(" 3") == "3-0")
        #expect(p("3- 5") == "3-5")
        #expect(p("4-+1") == "4-1")
        #expect(p("4- -5") == "4-18446744073709551611")
        #expect(p("4--5") == nil)  // a canonical negative goes through string2ll and is refused
        #expect(p("-5") == nil)
        #expect(p("18446744073709551616") == nil)
        #expect(p("1-2-3") == nil)
        #expect(p("") == nil)
        #expect(p("1-") == nil)
        #expect(p("007-1") == "7-1")
        #expect(StreamID.parse(Self.b("9") + [0] + Self.b("zz"))?.id == StreamID(9, 0))  // a C string ends at NUL
        #expect(StreamID.parse(Array(repeating: 0x31, count: 128)) == nil)
        #expect(StreamID(5, UInt64.max).successor == StreamID(6, 0))
        #expect(StreamID.max.successor == nil)
        #expect(StreamID(6, 0).predecessor == StreamID(5, UInt64.max))
        #expect(StreamID.zero.predecessor == nil)
        #expect(StreamID(encoded: StreamID(0x0102, 0xAABB).encoded) == StreamID(0x0102, 0xAABB))
    }

    // MARK: - Listpack

    @Test func elementsUseListpackEncodingsAndReadBack() {
        var lp = StreamListpack(capacity: 64)
        let ints: [Int64] = [0, 127, 128, -1, -4096, 4095, 4096, -4097, 32767, -32768, 32768, 8388607, -8388608,
                             8388608, Int64(Int32.max), Int64(Int32.min), Int64(Int32.max) + 1, Int64.max, Int64.min]
        let strings: [Bytes] = [[], Self.b("a"), Array(repeating: 0x61, count: 63), Array(repeating: 0x62, count: 64),
                                Array(repeating: 0x63, count: 4095), Array(repeating: 0x64, count: 4096), Self.b("007"), Self.b("-0")]
        lp.append { w in
            for v in ints { w.integer(v) }
            for s in strings { w.string(s) }
            w.string(Self.b("12345"))  // a canonical decimal is stored as an integer
        }
        #expect(lp.headerCount == ints.count + strings.count + 1)
        #expect(StreamListpack.validateNode(lp.bytes) == nil)  // a listpack, but not a stream node
        #expect(StreamListpack.elementOffsets(lp.bytes)?.count == lp.headerCount)
        var p = lp.first
        for v in ints {
            #expect(lp.isInteger(p!) && lp.rawInteger(p!) == v)
            p = lp.next(p!)
        }
        for s in strings {
            #expect(!lp.isInteger(p!) && lp.element(p!) == s)
            p = lp.next(p!)
        }
        #expect(lp.isInteger(p!) && lp.integer(p!) == 12345)
        #expect(lp.next(p!) == nil)
        // Walking back lands on the same elements.
        var back: [Int] = []
        var q = lp.last
        while let x = q { back.append(x); q = lp.previous(x) }
        #expect(back.reversed() == StreamListpack.elementOffsets(lp.bytes))
        // Encodings of known sizes (listpack.c): 7-bit, 13-bit, 16/24/32/64-bit, 6/12/32-bit strings.
        let sizes = StreamListpack.elementOffsets(lp.bytes)!.map { lp.encodedSize($0) }
        #expect(Array(sizes.prefix(ints.count)) == [1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 9, 9, 9])
        #expect(Array(sizes[ints.count..<(ints.count + 6)]) == [1, 2, 64, 66, 4097, 4101])
    }

    @Test func replacingAnIntegerWithAWiderOneShiftsTheRest() {
        var lp = StreamListpack(capacity: 16)
        lp.append { w in w.integer(127); w.string(Self.b("tail")) }
        let before = lp.totalBytes
        lp.replaceInteger(StreamListpack.headerSize, 128)
        #expect(lp.totalBytes == before + 1)
        #expect(lp.rawInteger(StreamListpack.headerSize) == 128)
        #expect(lp.element(lp.next(StreamListpack.headerSize)!) == Self.b("tail"))
        #expect(StreamListpack.elementOffsets(lp.bytes)?.count == 2)
        lp.replaceInteger(StreamListpack.headerSize, 5)
        #expect(lp.totalBytes == before)
    }

    // MARK: - Ordered map

    @Test func sortedMapMatchesASortedArrayUnderRandomOperations() {
        var rng = SystemRandomNumberGenerator()
        var m = StreamSortedMap<Int>()
        var model: [(StreamID, Int)] = []
        for step in 0..<6000 {
            let id = StreamID(UInt64.random(in: 0..<400, using: &rng), UInt64.random(in: 0..<3, using: &rng))
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                let fresh = m.insert(id, step)
                let i = model.firstIndex { $0.0 >= id } ?? model.count
                #expect(fresh == !(i < model.count && model[i].0 == id))
                if fresh { model.insert((id, step), at: i) }
            case 5..<8:
                let removed = m.remove(id)
                if let i = model.firstIndex(where: { $0.0 == id }) { #expect(removed == model[i].1); model.remove(at: i) } else { #expect(removed == nil) }
            default:
                let lb = m.lowerBound(id).map { m.key($0) }
                #expect(lb == model.first { $0.0 >= id }?.0)
                let fl = m.floor(id).map { m.key($0) }
                #expect(fl == model.last { $0.0 <= id }?.0)
            }
        }
        #expect(m.count == model.count)
        var all: [StreamID] = []
        m.forEach { k, _ in all.append(k) }
        #expect(all == model.map(\.0))
        var back: [StreamID] = []
        var p = m.last
        while let x = p { back.append(m.key(x)); p = m.before(x) }
        #expect(back == all.reversed())
    }

    // MARK: - The stream against a model

    struct Model {
        var entries: [(id: StreamID, pairs: [Bytes])] = []
    }

    static func dump(_ s: StreamValue, reverse: Bool = false, from: StreamID? = nil, to: StreamID? = nil) -> [(StreamID, [Bytes])] {
        var it = StreamIterator(s, start: from, end: to, reverse: reverse)
        var out: [(StreamID, [Bytes])] = []
        while let (id, n) = it.nextID() { out.append((id, it.fieldPairs(n))) }
        return out
    }

    static func same(_ a: [(StreamID, [Bytes])], _ b: [(id: StreamID, pairs: [Bytes])]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.id && $0.1 == $1.pairs }
    }

    /// Every node is a valid stream node and the live counts add up to the length.
    static func checkInvariants(_ s: StreamValue) {
        var live: Int64 = 0
        s.nodes.forEach { _, lp in
            let summary = StreamListpack.validateNode(lp.bytes)
            #expect(summary != nil)
            live += summary?.live ?? 0
        }
        #expect(UInt64(live) == s.length)
    }

    /// The rax node count by brute force: the root, every branching prefix, every key, and every
    /// child of a branching prefix.
    static func bruteForceRaxNodes(_ keys: [[UInt8]]) -> Int {
        var children: [[UInt8]: Set<UInt8>] = [:]
        for k in keys { for i in 0..<k.count { children[Array(k[0..<i]), default: []].insert(k[i]) } }
        var nodes: Set<[UInt8]> = [[]]
        for k in keys { nodes.insert(k) }
        for (prefix, next) in children where next.count >= 2 {
            nodes.insert(prefix)
            for c in next { nodes.insert(prefix + [c]) }
        }
        return nodes.count
    }

    @Test(arguments: [(1, 0), (2, 50), (5, 4096), (100, 4096), (0, 120)])
    func streamMatchesModelUnderRandomAppendsDeletesAndTrims(maxEntries: Int, maxBytes: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let s = StreamValue()
        var model = Model()
        var ms: UInt64 = 1
        for _ in 0..<1500 {
            let r = Int.random(in: 0..<100, using: &rng)
            if r < 60 {
                ms += [0, 1, 1, 7, 1 << 20, 1 << 40].randomElement(using: &rng)!
                let n = Int.random(in: 1...3, using: &rng)
                let same = Bool.random(using: &rng)
                var pairs: [Bytes] = []
                for i in 0..<n {
                    pairs.append(same ? Self.b("f\(i)") : Self.b("x\(Int.random(in: 0..<4, using: &rng))"))
                    pairs.append([Self.b("v"), Self.b("42"), Self.b("-9000000000"), Bytes(repeating: 0x7A, count: Int.random(in: 0..<90, using: &rng))].randomElement(using: &rng)!)
                }
                let seqGiven = Int.random(in: 0..<4, using: &rng) != 0
                let want = StreamID(ms, UInt64.random(in: 0..<2, using: &rng))
                let last = s.lastID
                guard let id = try? s.append(pairs[...], id: want, seqGiven: seqGiven, nowMillis: 0, nodeMaxBytes: maxBytes, nodeMaxEntries: maxEntries) else {
                    #expect(seqGiven && want <= last)  // only an explicit ID at or below the last one fails
                    continue
                }
                #expect(id > last)
                model.entries.append((id, pairs))
            } else if r < 85, !model.entries.isEmpty {
                let i = Int.random(in: 0..<model.entries.count, using: &rng)
                #expect(s.delete(model.entries[i].id))
                #expect(!s.delete(model.entries[i].id))
                model.entries.remove(at: i)
            } else if r < 92 {
                var a = StreamTrimArgs()
                a.strategy = .maxLen
                a.maxLen = Int64(Int.random(in: 0...40, using: &rng))
                let before = model.entries.count
                let removed = s.trim(a)
                model.entries.removeFirst(Int(removed))
                // An exact trim without LIMIT always reaches the length asked for.
                #expect(model.entries.count == Swift.min(before, Int(a.maxLen)))
            } else if r < 96, let first = model.entries.first {
                var a = StreamTrimArgs()
                a.strategy = .minID
                a.minID = StreamID(first.id.ms + UInt64.random(in: 0..<3, using: &rng), 0)
                a.approximate = Bool.random(using: &rng)
                let removed = s.trim(a)
                #expect(model.entries.prefix(Int(removed)).allSatisfy { $0.id < a.minID })
                model.entries.removeFirst(Int(removed))
                if !a.approximate { #expect(model.entries.first.map { $0.id >= a.minID } ?? true) }
            } else {
                #expect(Self.same(Self.dump(s), model.entries))
                #expect(Self.same(Self.dump(s, reverse: true), model.entries.reversed()))
                if let mid = model.entries.randomElement(using: &rng) {
                    let want = model.entries.filter { $0.id >= mid.id }
                    #expect(Self.same(Self.dump(s, from: mid.id), want))
                    #expect(Self.same(Self.dump(s, reverse: true, to: mid.id), model.entries.filter { $0.id <= mid.id }.reversed()))
                }
            }
            #expect(s.length == UInt64(model.entries.count))
        }
        Self.checkInvariants(s)
        #expect(Self.same(Self.dump(s), model.entries))
        #expect(s.lastValidID == (model.entries.last?.id ?? .zero))
        var keys: [[UInt8]] = []
        s.nodes.forEach { id, _ in keys.append(id.encoded) }
        #expect(s.radixTreeNodes == Self.bruteForceRaxNodes(keys))
    }

    @Test func radixNodeCountMatchesBruteForceOnRandomKeySets() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let s = StreamValue()
            let n = Int.random(in: 0..<40, using: &rng)
            let spread = [UInt64(3), 300, 1 << 20, 1 << 50].randomElement(using: &rng)!
            for _ in 0..<n {
                let id = StreamID(UInt64.random(in: 0..<spread, using: &rng), UInt64.random(in: 0..<3, using: &rng))
                s.nodes.insert(id, StreamListpack(capacity: 8))
            }
            var keys: [[UInt8]] = []
            s.nodes.forEach { id, _ in keys.append(id.encoded) }
            #expect(s.radixTreeNodes == Self.bruteForceRaxNodes(keys), "keys \(keys.count)")
        }
    }

    @Test func corruptedNodesAreRefusedOrStaySafeToWalk() throws {
        var rng = SystemRandomNumberGenerator()
        let s = StreamValue()
        for i in 1...20 {
            _ = try s.append([Self.b("f"), Self.b("\(i)"), Self.b("g"), Bytes(repeating: 0x41, count: i * 7)][...],
                             id: StreamID(UInt64(i), 0), seqGiven: true, nowMillis: 0, nodeMaxBytes: 0, nodeMaxEntries: 0)
        }
        _ = s.delete(StreamID(3, 0))
        let good = try #require(s.nodes.first.map { s.nodes.value($0).bytes })
        #expect(StreamListpack.validateNode(good)?.live == 19)
        #expect(StreamListpack.validateNode(good)?.deleted == 1)
        for _ in 0..<3000 {
            var bad = good
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: bad[Int.random(in: 0..<bad.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1: bad.removeLast(Int.random(in: 1..<bad.count, using: &rng))
            default:
                let i = Int.random(in: 6..<bad.count, using: &rng)
                bad.insert(UInt8.random(in: 0...255, using: &rng), at: i)
            }
            guard StreamListpack.validateNode(bad) != nil else { continue }
            // Accepted: it is a well-formed node, so walking it must work.
            let t = StreamValue()
            t.nodes.insert(StreamID(1, 0), StreamListpack(validated: bad))
            _ = Self.dump(t)
            _ = Self.dump(t, reverse: true)
        }
    }
}

import Testing
import Shared
@testable import Node

/// The pure halves of the issue-16 data types, against bytes and numbers redis-server 7.0.15
/// produced for the same inputs.
@Suite struct DataTypeStructureTests {
    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// PFADD h a b c on redis-server leaves exactly these bytes; PFCOUNT then caches 3.
    @Test func hyperLogLogBytesMatchRedis() {
        var h = HyperLogLog.makeEmpty()
        for e in ["a", "b", "c"] {
            #expect(Array(e.utf8).withUnsafeBytes { HyperLogLog.add(&h, $0, maxBytes: 3000) } == 1)
        }
        HyperLogLog.invalidateCache(&h)
        #expect(h == Self.hex("48594c4c01000000000000000000008060f38050b1844bfb80425a"))
        #expect(HyperLogLog.count(h) == 3)
        #expect(HyperLogLog.cachedCardinality(h) == nil)
        // Adding an element already counted changes nothing.
        #expect(Array("a".utf8).withUnsafeBytes { HyperLogLog.add(&h, $0, maxBytes: 3000) } == 0)
    }

    /// Sparse and dense forms of the same elements count the same, and promotion keeps every register.
    @Test func sparseAndDenseAgree() {
        var sparse = HyperLogLog.makeEmpty()
        var dense = HyperLogLog.makeEmpty()
        #expect(HyperLogLog.sparseToDense(&dense))
        #expect(dense.count == HyperLogLog.denseSize)
        for i in 0..<5000 {
            let e = Array("element-\(i)".utf8)
            _ = e.withUnsafeBytes { HyperLogLog.add(&sparse, $0, maxBytes: 3000) }
            _ = e.withUnsafeBytes { HyperLogLog.add(&dense, $0, maxBytes: 3000) }
            if i == 100 { #expect(sparse[4] == HyperLogLog.sparse) }
        }
        #expect(sparse[4] == HyperLogLog.dense)  // outgrew hll-sparse-max-bytes
        #expect(HyperLogLog.count(sparse) == HyperLogLog.count(dense))
        let c = HyperLogLog.count(dense) ?? 0
        #expect(c > 4800 && c < 5200)
    }

    /// A sparse code that does not cover exactly 16384 registers is corrupted, not a crash.
    @Test func corruptedSparseIsDetected() {
        var h = HyperLogLog.makeEmpty()
        h.append(0x00)  // one register too many
        #expect(HyperLogLog.count(h) == nil)
        var d = h
        #expect(!HyperLogLog.sparseToDense(&d))
        #expect(Array("x".utf8).withUnsafeBytes { HyperLogLog.add(&h, $0, maxBytes: 3000) } != 1 || HyperLogLog.count(h) == nil)
        h = Array("HYLL".utf8) + [0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        #expect(!HyperLogLog.isValid(h))  // dense with the wrong size
    }

    /// Palermo's GEOADD score on redis-server, its GEOHASH and GEOPOS.
    @Test func geohashMatchesRedis() {
        #expect(GeoHash.score(lon: 13.361389, lat: 38.115556) == 3479099956230698)
        #expect(GeoHash.standardString(ofScore: 3479099956230698) == Array("sqc8b49rny0".utf8))
        let p = GeoHash.position(ofScore: 3479099956230698)
        #expect(LongDouble.humanString(LongDouble(p.lon)) == "13.36138933897018433")
        #expect(LongDouble.humanString(LongDouble(p.lat)) == "38.11555639549629859")
        #expect(GeoHash.score(lon: 181, lat: 0) == nil)
        #expect(GeoHash.score(lon: 0, lat: 85.06) == nil)
        #expect(Server.geoDistanceText(166274.15156960033) == Array("166274.1516".utf8))
        #expect(Server.geoDistanceText(0.00001) == Array("0.0000".utf8))
    }

    /// Redis's partial sort leaves the requested ranks as a full sort would, for a total order.
    @Test func partialSortRanksMatchFullSort() {
        var rng = SplitMix64(seed: 42)
        for n in [1, 6, 7, 8, 40, 41, 200] {
            let base = (0..<n).map { _ in Int.random(in: 0..<1000, using: &rng) * 1000 + Int.random(in: 0..<1000, using: &rng) }
            let full = base.sorted()
            for (lo, hi) in [(0, 0), (0, n - 1), (n / 3, n / 2), (n - 1, n - 1)] where lo <= hi {
                var part = base
                RedisSort.partial(&part, lo: lo, hi: hi) { $0 < $1 ? -1 : $0 > $1 ? 1 : 0 }
                #expect(Array(part[lo...hi]) == Array(full[lo...hi]), "n=\(n) \(lo)...\(hi)")
                #expect(part.sorted() == full)
            }
        }
        var pairs = [(1, "a"), (0, "b"), (1, "c"), (0, "d")]
        RedisSort.stable(&pairs) { $0.0 - $1.0 }
        #expect(pairs.map(\.1) == ["b", "d", "a", "c"])
    }

    /// Score updates (GEOADD of existing members does millions) keep the index ordered and
    /// ranked, whether the node stays in place or moves.
    @Test func skiplistScoreUpdatesKeepOrderAndRanks() {
        var rng = SplitMix64(seed: 7)
        let z = SortedSetValue()
        z.wasSkiplist = true
        for i in 0..<2000 { z.set(Key("m\(i)"), Double(Int.random(in: 0..<100_000, using: &rng))) }
        for round in 0..<20_000 {
            let m = Key("m\(Int.random(in: 0..<2000, using: &rng))")
            let old = z.score(m) ?? 0
            let delta = round % 3 == 0 ? Double(Int.random(in: -50_000..<50_000, using: &rng)) : (round % 3 == 1 ? 0.5 : -0.25)
            z.set(m, old + delta)
        }
        let expected = z.scores.map { (member: $0.key.bytes, score: $0.value) }
            .sorted { $0.score < $1.score || ($0.score == $1.score && compareBytes($0.member, $1.member) < 0) }
        let got = z.ordered
        #expect(got.map(\.member) == expected.map(\.member))
        #expect(got.map(\.score) == expected.map(\.score))
        for (r, e) in expected.enumerated() where r % 97 == 0 { #expect(z.rank(Key(e.member)) == r) }
    }

    /// BITFIELD's overflow arithmetic at the edges of signed and unsigned fields.
    @Test func bitfieldOverflow() {
        #expect(Bitmap.unsignedOverflow(250, 10, bits: 8, .wrap) == (1, 4))
        #expect(Bitmap.unsignedOverflow(250, 10, bits: 8, .sat) == (1, 255))
        #expect(Bitmap.unsignedOverflow(5, -10, bits: 8, .sat) == (-1, 0))
        #expect(Bitmap.signedOverflow(120, 10, bits: 8, .wrap) == (1, -126))
        #expect(Bitmap.signedOverflow(-120, -10, bits: 8, .sat) == (-1, -128))
        #expect(Bitmap.signedOverflow(.max, 1, bits: 64, .wrap) == (1, .min))
        #expect(Bitmap.signedOverflow(0, 5, bits: 64, .fail) == (0, 5))
        var b: [UInt8] = [0, 0]
        b.withUnsafeMutableBytes { Bitmap.setBits($0, offset: 4, bits: 8, value: 0xab) }
        #expect(b == [0x0a, 0xb0])
        #expect(b.withUnsafeBytes { Bitmap.getSigned($0, offset: 4, bits: 8) } == -85)
        #expect(b.withUnsafeBytes { Bitmap.firstBit($0, from: 0, to: 2, bit: 1) } == 4)
        #expect([UInt8](repeating: 0xff, count: 20).withUnsafeBytes { Bitmap.firstBit($0, from: 0, to: 20, bit: 0) } == 160)
    }
}

import Foundation
import Testing
import Shared
@testable import Node

/// Replays every saved input of the `payload` fuzz target (Fuzz/corpus/payload, Fuzz/crashes/payload)
/// through the same driver as Fuzz/targets/payload.swift: HyperLogLog strings, DUMP payload bodies
/// and GEO scores. Errors are fine; a crash fails the run. The redis-server seeds must decode.
@Suite struct FuzzRegressionPayloadTests {
    static func inputs() -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for kind in ["corpus", "crashes"] {
            let dir = FuzzRegressionRDBTests.root.appendingPathComponent(kind).appendingPathComponent("payload")
            for n in ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() where !n.hasPrefix(".") {
                if let d = FileManager.default.contents(atPath: dir.appendingPathComponent(n).path) { out.append((n, [UInt8](d))) }
            }
        }
        return out
    }

    /// Same as `fuzzPayloadInput` in Fuzz/targets/payload.swift; returns whether the input decoded.
    @discardableResult
    static func replay(_ input: [UInt8]) -> Bool {
        guard let mode = input.first else { return false }
        var body = Array(input.dropFirst())
        switch mode & 3 {
        case 0:
            if mode & 0x80 != 0 && body.count >= 5 {
                body.replaceSubrange(0..<4, with: Array("HYLL".utf8))
                body[4] &= 1
            }
            guard HyperLogLog.isValid(body) else { return false }
            let counted = HyperLogLog.count(body) != nil
            var regs = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
            _ = HyperLogLog.merge(into: &regs, body)
            _ = HyperLogLog.decode(body)
            var h = body
            for e in [[UInt8](), [1], Array("element".utf8)] {
                _ = e.withUnsafeBytes { HyperLogLog.add(&h, $0, maxBytes: 3000) }
            }
            var d = body
            if HyperLogLog.sparseToDense(&d) { _ = HyperLogLog.count(d) }
            var m = HyperLogLog.makeEmpty()
            for (i, v) in regs.enumerated() where v != 0 { _ = HyperLogLog.sparseRaise(&m, i, v, maxBytes: 3000) }
            return counted
        case 1:
            body += [UInt8(RDB.version & 0xff), UInt8(RDB.version >> 8)]
            let crc = CRC64.update(0, body)
            for i in 0..<8 { body.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i)))) }
            guard DumpPayload.verify(body), let v = DumpPayload.value(body) else { return false }
            return DumpPayload.value(DumpPayload.make(v, compression: true)) != nil
        default:
            var i = 0
            while i + 8 <= body.count {
                var bits: UInt64 = 0
                for k in 0..<8 { bits |= UInt64(body[i + k]) << (8 * UInt64(k)) }
                let score = Double(bitPattern: bits)
                let p = GeoHash.position(ofScore: score)
                _ = GeoHash.standardString(ofScore: score)
                _ = GeoHash.distance(p.lon, p.lat, 13.4, 38.1)
                let shape = GeoShape(kind: .circle(radius: Double(body[i] % 200) * 1000), lon: p.lon, lat: p.lat, conversion: 1)
                _ = GeoHash.searchAreas(shape)
                _ = GeoHash.within(shape, score: score)
                i += 8
            }
            return true
        }
    }

    @Test func payloadDecodersSurviveCorpusAndCrashes() {
        let inputs = Self.inputs()
        #expect(inputs.count >= 20, "payload seeds missing")
        for (_, bytes) in inputs { Self.replay(bytes) }
        // What redis-server wrote decodes here: the replay exercises the real decoders.
        for (name, bytes) in inputs where name.hasPrefix("seed-") {
            #expect(Self.replay(bytes), "\(name) should decode")
        }
    }

    /// Truncations of a redis-server DUMP body and byte flips of a sparse HLL (a sample of each)
    /// are handled without a crash; a body missing more than the footer's 10 bytes can stand in
    /// for (the reader, like Redis's, may run into the footer) never decodes.
    @Test func truncationsAndFlipsAreHandled() {
        let inputs = Dictionary(Self.inputs(), uniquingKeysWith: { a, _ in a })
        guard let dump = inputs["seed-dump-h-big"], let hll = inputs["seed-hll-sparse"] else {
            Issue.record("seeds missing"); return
        }
        for n in stride(from: 2, to: dump.count - 1, by: 11) {
            let decoded = Self.replay(Array(dump[0..<n]))
            if n < dump.count - 40 { #expect(!decoded, "truncated at \(n)") }
        }
        for i in stride(from: 17, to: hll.count, by: 5) {
            var b = hll
            b[i] ^= 0x5a
            Self.replay(b)
        }
    }
}

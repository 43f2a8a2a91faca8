import Testing
@testable import Shared

/// LZF compression is liblzf-compatible.
@Suite struct LZFTests {
    /// Compressed bytes taken from a DUMP payload written by redis-server 7.0.15 (liblzf).
    @Test func decompressesLiblzfOutput() {
        let compressed: [UInt8] = [0x03, 0x61, 0x62, 0x63, 0x61, 0xe0, 0x1a, 0x02, 0x05, 0x2d, 0x68, 0x65, 0x6c, 0x6c,
                                   0x6f, 0xe0, 0x07, 0x05, 0x01, 0x6c, 0x6f]
        let expected = String(repeating: "abc", count: 13) + "-hello-hello-hello-hello"
        #expect(LZF.decompress(compressed, expectedLength: 63) == Array(expected.utf8))
        // A wrong expected length or a truncated stream is refused, not a crash.
        #expect(LZF.decompress(compressed, expectedLength: 62) == nil)
        #expect(LZF.decompress(compressed.dropLast(), expectedLength: 63) == nil)
        // A back reference before the start of the output is refused.
        #expect(LZF.decompress([0x20, 0x05], expectedLength: 3) == nil)
        // An absurd claimed length is refused up front.
        #expect(LZF.decompress(compressed, expectedLength: 1 << 40) == nil)
        // Maximal expansion (a literal, then 264-byte references) is still accepted.
        let run = [UInt8](repeating: 7, count: 1 + 264 * 3)
        #expect(LZF.decompress([0x00, 7, 0xe0, 0xff, 0x00, 0xe0, 0xff, 0x00, 0xe0, 0xff, 0x00], expectedLength: run.count) == run)
    }

    @Test func roundTrips() {
        var g = SystemRandomNumberGenerator()
        let random = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &g) }
        let inputs: [[UInt8]] = [
            Array("a".utf8), Array("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8),
            Array(String(repeating: "hello world ", count: 2000).utf8),
            random,
            random + random,  // a repeat 5000 bytes back: within the 8 KB window
            (0..<70_000).map { UInt8(truncatingIfNeeded: $0 / 7) },
        ]
        for input in inputs {
            guard let c = LZF.compress(input, limit: input.count + input.count / 16 + 64) else {
                Issue.record("compress failed for \(input.count) bytes"); continue
            }
            #expect(LZF.decompress(c, expectedLength: input.count) == input)
        }
        // Repetitive text compresses well; random bytes do not fit under a "saves space" limit.
        let text = Array(String(repeating: "hello world ", count: 2000).utf8)
        #expect((LZF.compress(text, limit: text.count - 4)?.count ?? Int.max) < text.count / 10)
        #expect(LZF.compress(random, limit: random.count - 4) == nil)
    }

    /// A reused compressor (stale hash entries from earlier inputs) still produces correct output.
    @Test func reusedCompressorIsCorrect() {
        var c = LZF.Compressor()
        for i in 0..<50 {
            let s = Array(String(repeating: "key:\(i)-value:\(i * 31)|", count: 20 + i).utf8)
            guard let out = c.compress(s, limit: s.count) else { Issue.record("no output"); continue }
            #expect(LZF.decompress(out, expectedLength: s.count) == s)
        }
    }
}

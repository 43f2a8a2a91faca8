import Testing
@testable import Shared

/// CRC64 matches Redis's crc64.c.
@Suite struct CRC64Tests {
    @Test func standardTestVector() {
        #expect(CRC64.checksum(Array("123456789".utf8)) == 0xe9c6_d914_c4b8_d9ca)
        #expect(CRC64.checksum([UInt8]()) == 0)
    }

    /// The trailer of a DUMP payload produced by redis-server 7.0.15 is the CRC64 of what precedes it.
    @Test func matchesRedisDumpPayloadTrailer() {
        let body: [UInt8] = [0x00, 0xc3, 0x15, 0x3f, 0x03, 0x61, 0x62, 0x63, 0x61, 0xe0, 0x1a, 0x02, 0x05, 0x2d, 0x68,
                             0x65, 0x6c, 0x6c, 0x6f, 0xe0, 0x07, 0x05, 0x01, 0x6c, 0x6f, 0x0a, 0x00]
        let trailer: [UInt8] = [0xac, 0x59, 0x49, 0xc5, 0x95, 0x0d, 0x2f, 0xf9]
        let expected = trailer.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        #expect(CRC64.checksum(body) == expected)
    }

    /// The 8-bytes-at-a-time path and incremental updates agree with byte-at-a-time over odd splits.
    @Test func incrementalEqualsWhole() {
        var g = SystemRandomNumberGenerator()
        let data = (0..<10_007).map { _ in UInt8.random(in: 0...255, using: &g) }
        let whole = CRC64.checksum(data)
        for split in [0, 1, 7, 8, 9, 4096, 10_006, 10_007] {
            let a = CRC64.update(0, data[..<split])
            #expect(CRC64.update(a, data[split...]) == whole)
        }
        var bytewise: UInt64 = 0
        for b in data { bytewise = CRC64.update(bytewise, [b]) }
        #expect(bytewise == whole)
    }
}

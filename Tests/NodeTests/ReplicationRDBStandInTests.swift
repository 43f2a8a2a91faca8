// DELETE TOGETHER WITH Sources/Node/Replication/RDBStandIn.swift when the real persistence lands.
import Testing
@testable import Node

/// Checks of the stand-in RDB helpers the replication work relies on until persistence lands.
struct ReplicationRDBStandInTests {
    @Test func crc64MatchesRedisTestVector() {
        // Redis's crc64 self-test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
        #expect(StandInCRC64.checksum(Array("123456789".utf8)) == 0xe9c6d914c4b8d9ca)
    }

    @Test func lzfRejectsMalformedInputInsteadOfCrashing() throws {
        #expect(throws: (any Error).self) { try StandInLZF.decompress([0xE0], expectedLength: 10) }
        #expect(throws: (any Error).self) { try StandInLZF.decompress([0x20, 0x05], expectedLength: 3) }
        // A literal run of 3 bytes then a back-reference copying them.
        #expect(try StandInLZF.decompress([0x02, 0x61, 0x62, 0x63, 0x20, 0x02], expectedLength: 6) == Array("abcabc".utf8))
    }
}

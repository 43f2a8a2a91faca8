import Testing
@testable import Node

/// The replication backlog ring buffer: offsets, wrap-around and the PSYNC range checks.
struct BacklogTests {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func startsAfterTheStreamOffset() {
        let b = ReplicationBacklog(capacity: 64, streamOffset: 100)
        #expect(b.firstByteOffset == 101)
        #expect(b.histlen == 0)
        #expect(b.endOffset == 100)
        #expect(b.bytes(from: 101) == [])
        #expect(b.bytes(from: 100) == nil)
        #expect(b.bytes(from: 102) == nil)
    }

    @Test func servesEveryOffsetInsideTheHistory() {
        var b = ReplicationBacklog(capacity: 64, streamOffset: 0)
        b.append(bytes("hello world"))
        #expect(b.histlen == 11)
        #expect(b.endOffset == 11)
        #expect(b.bytes(from: 1) == bytes("hello world"))
        #expect(b.bytes(from: 7) == bytes("world"))
        #expect(b.bytes(from: 12) == [])
        #expect(b.bytes(from: 13) == nil)
        #expect(b.bytes(from: 0) == nil)
    }

    @Test func wrapsAroundKeepingTheNewestBytes() {
        var b = ReplicationBacklog(capacity: 16, streamOffset: 0)
        b.append(bytes("0123456789"))
        b.append(bytes("abcdefghij"))  // 20 bytes into 16: the first 4 are gone
        #expect(b.histlen == 16)
        #expect(b.firstByteOffset == 5)
        #expect(b.endOffset == 20)
        #expect(b.bytes(from: 5) == bytes("456789abcdefghij"))
        #expect(b.bytes(from: 15) == bytes("efghij"))
        #expect(b.bytes(from: 4) == nil)
        #expect(b.canServe(from: 21))
        #expect(!b.canServe(from: 22))
    }

    @Test func aSingleAppendLargerThanTheBufferKeepsItsTail() {
        var b = ReplicationBacklog(capacity: 16, streamOffset: 1000)
        b.append(bytes("xy"))
        b.append(Array(repeating: UInt8(ascii: "z"), count: 30) + bytes("END"))
        #expect(b.endOffset == 1000 + 2 + 33)
        #expect(b.histlen == 16)
        #expect(b.firstByteOffset == b.endOffset - 15)
        #expect(b.bytes(from: b.endOffset - 2) == bytes("END"))
    }

    @Test func manySmallAppendsMatchAReferenceStream() {
        var b = ReplicationBacklog(capacity: 37, streamOffset: 5)
        var all: [UInt8] = []
        for i in 0..<500 {
            let chunk = Array(repeating: UInt8(truncatingIfNeeded: i), count: i % 7 + 1)
            b.append(chunk)
            all += chunk
        }
        #expect(b.endOffset == 5 + Int64(all.count))
        #expect(b.bytes(from: b.firstByteOffset) == Array(all.suffix(37)))
    }

    @Test func resizeKeepsTheNewestHistory() {
        var b = ReplicationBacklog(capacity: 32, streamOffset: 0)
        b.append(bytes("abcdefghijklmnopqrstuvwxyz"))
        b.resize(16)
        #expect(b.capacity == 16)
        #expect(b.endOffset == 26)
        #expect(b.bytes(from: b.firstByteOffset) == bytes("klmnopqrstuvwxyz"))
        b.append(bytes("12"))
        #expect(b.bytes(from: 25) == bytes("yz12"))
    }
}

import Foundation
import Testing
@testable import Node
import Shared

/// The two halves of a full sync's payload transfer that run without a server: the diskless
/// child's fan-out to replica sockets, and the parent's chunked reading of the RDB file.
@Suite struct SnapshotTransferTests {
    private func nonBlockingPair() -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        return (fds[0], fds[1])
    }

    @Test func fanoutDropsAGoneReplicaAndKeepsWritingToTheOther() {
        signal(SIGPIPE, SIG_IGN)
        let (a, aPeer) = nonBlockingPair()
        let (b, bPeer) = nonBlockingPair()
        defer { close(a); close(aPeer); close(b) }
        close(bPeer)
        var out = SocketFanout(live: [a, b], timeoutMillis: 1000)
        let first = out.write(Bytes("$EOF:".utf8))
        #expect(first)
        #expect(out.live == [a])
        let second = out.write(Bytes("rest".utf8))
        #expect(second)
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(aPeer, &buf, 64)
        #expect(n == 9)
        #expect(Array(buf[0..<max(0, n)]) == Bytes("$EOF:rest".utf8))
    }

    @Test func fanoutGivesUpOnAReplicaThatStopsReading() {
        let (a, aPeer) = nonBlockingPair()
        defer { close(a); close(aPeer) }
        // Nobody reads aPeer: the socket fills, poll times out, the replica is dropped.
        var out = SocketFanout(live: [a], timeoutMillis: 50)
        let kept = out.write(Bytes(repeating: 7, count: 16 << 20))
        #expect(!kept)
        #expect(out.live.isEmpty)
    }

    @Test func fileSenderReadsTheFileInChunks() throws {
        let path = NSTemporaryDirectory() + "vigil-sender-\(UUID().uuidString.prefix(8)).rdb"
        let size = SnapshotFileSender.chunk * 2 + 1000
        let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(data).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sender = try #require(SnapshotFileSender(path: path))
        #expect(sender.remaining == size)
        var got = Bytes()
        var chunks = 0
        while sender.remaining > 0, let c = sender.next() {
            got += c
            chunks += 1
        }
        #expect(chunks == 3)
        #expect(got == data)
        #expect(sender.next() == [])
        #expect(SnapshotFileSender(path: path + ".missing") == nil)
    }
}

// The replication backlog: a fixed-size ring buffer holding the most recent bytes of the
// replication stream, addressed by their global stream offsets, so a replica that lost its link
// can resume (PSYNC) from where it stopped instead of loading a full snapshot again.
import Shared

/// A ring buffer of the latest `capacity` bytes of the replication stream.
///
/// Offsets follow Redis: the first byte ever written to a stream has offset 1, so a backlog
/// created when the stream is at offset `o` starts at `o + 1`.
struct ReplicationBacklog {
    private var buffer: Bytes
    /// Where the next byte goes in `buffer`.
    private var writeIndex = 0
    /// Bytes of valid history (at most `capacity`).
    private(set) var histlen = 0
    /// Stream offset of the oldest byte held (valid when `histlen > 0`, else of the next byte).
    private(set) var firstByteOffset: Int64

    /// The configured size (repl-backlog-size).
    var capacity: Int { buffer.count }

    /// Offset of the last byte written (the stream's master_repl_offset).
    var endOffset: Int64 { firstByteOffset + Int64(histlen) - 1 }

    /// Creates an empty backlog whose next byte will have offset `streamOffset + 1`.
    init(capacity: Int, streamOffset: Int64) {
        buffer = Bytes(repeating: 0, count: max(16, capacity))
        firstByteOffset = streamOffset + 1
    }

    /// Appends stream bytes, dropping the oldest when full.
    mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        var data = ArraySlice(bytes)
        let cap = buffer.count
        if data.count > cap {
            // Only the tail can survive; the dropped head still counts as history that passed.
            let skip = data.count - cap
            firstByteOffset += Int64(histlen + skip)
            histlen = 0
            data = data.suffix(cap)
        }
        buffer.withUnsafeMutableBufferPointer { buf in
            for b in data {
                buf[writeIndex] = b
                writeIndex += 1
                if writeIndex == cap { writeIndex = 0 }
            }
        }
        let total = histlen + data.count
        if total > cap {
            firstByteOffset += Int64(total - cap)
            histlen = cap
        } else {
            histlen = total
        }
    }

    /// True if a replica asking for the stream from `offset` (its next wanted byte) can be served.
    func canServe(from offset: Int64) -> Bool {
        offset >= firstByteOffset && offset <= firstByteOffset + Int64(histlen)
    }

    /// The bytes from `offset` (inclusive) to the end, or nil when `offset` is outside the history.
    func bytes(from offset: Int64) -> Bytes? {
        guard canServe(from: offset) else { return nil }
        let skip = Int(offset - firstByteOffset)
        let count = histlen - skip
        if count == 0 { return [] }
        let cap = buffer.count
        // The oldest byte sits `histlen` bytes behind the write position.
        var start = writeIndex - histlen + skip
        if start < 0 { start += cap }
        var out = Bytes()
        out.reserveCapacity(count)
        let firstPart = min(count, cap - start)
        out.append(contentsOf: buffer[start..<(start + firstPart)])
        if firstPart < count { out.append(contentsOf: buffer[0..<(count - firstPart)]) }
        return out
    }

    /// Changes the capacity, keeping as much of the most recent history as fits.
    mutating func resize(_ newCapacity: Int) {
        let cap = max(16, newCapacity)
        guard cap != buffer.count else { return }
        let kept = bytes(from: firstByteOffset) ?? []
        let end = endOffset
        buffer = Bytes(repeating: 0, count: cap)
        writeIndex = 0
        histlen = 0
        firstByteOffset = end + 1
        let tail = kept.suffix(cap)
        firstByteOffset -= Int64(tail.count)
        append(tail)
    }
}

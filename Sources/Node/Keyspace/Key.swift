// Keys are binary-safe byte strings. Short ones (up to 14 bytes, which covers most real keys and
// hash fields) are stored inline in the 16-byte value instead of in a heap array: that saves the
// array's 32-byte header, its malloc chunk (64 bytes for a 10-byte key) and a retain/release per
// copy. Longer keys keep their `[UInt8]`. The representation is canonical (a key fits inline iff it
// is at most `inlineCapacity` bytes), so equality and hashing never compare an inline key with a
// heap one. Hashing feeds whole words/buffers to the hasher, much faster than the default
// element-by-element hashing of [UInt8].
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// A key (or member, field, channel): bytes with a fast hash and small-string storage.
struct Key: Hashable, Comparable {
    /// Inline: 14 bytes spread over (UInt64, UInt32, UInt16) plus the length; the payload is 15
    /// bytes, so with the enum tag the whole key stays 16 bytes.
    private enum Storage {
        case inline(UInt64, UInt32, UInt16, UInt8)
        case heap(Bytes)
    }

    private var storage: Storage

    /// Longest key kept inline.
    static let inlineCapacity = 14

    /// A key holding `bytes` (inline when short enough).
    @inline(__always) init(_ bytes: Bytes) {
        if bytes.count <= Key.inlineCapacity {
            storage = bytes.withUnsafeBytes { Key.pack($0) }
        } else {
            storage = .heap(bytes)
        }
    }

    /// A key from raw bytes (copied).
    @inline(__always) init(_ raw: UnsafeRawBufferPointer) {
        storage = raw.count <= Key.inlineCapacity ? Key.pack(raw) : .heap(Bytes(raw))
    }

    /// A key holding the string's UTF-8 bytes.
    init(_ s: String) { self.init(Bytes(s.utf8)) }

    /// Packs at most `inlineCapacity` bytes; unused bytes stay zero so equal keys have equal words.
    @inline(__always) private static func pack(_ p: UnsafeRawBufferPointer) -> Storage {
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { w in
            if let base = p.baseAddress, p.count > 0 { w.baseAddress!.copyMemory(from: base, byteCount: p.count) }
        }
        // Bytes 8..<14 live in the low 48 bits of the second word (little-endian memory order;
        // `withUnsafeBytes` rebuilds the same words, so the round trip holds on any byte order
        // for the bytes that fit).
        return .inline(words.0, UInt32(truncatingIfNeeded: words.1), UInt16(truncatingIfNeeded: words.1 >> 32), UInt8(p.count))
    }

    /// The key's bytes (allocates for inline keys; prefer `withUnsafeBytes` or `count` on hot paths).
    var bytes: Bytes {
        switch storage {
        case .heap(let b): return b
        case .inline: return withUnsafeBytes { Bytes($0) }
        }
    }

    /// Number of bytes.
    var count: Int {
        switch storage {
        case .heap(let b): return b.count
        case .inline(_, _, _, let n): return Int(n)
        }
    }

    /// Calls `body` with the key's bytes, without allocating.
    @inline(__always)
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .heap(let b):
            return try b.withUnsafeBytes(body)
        case .inline(let w0, let w1, let w2, let n):
            var words = (w0, UInt64(w1) | UInt64(w2) << 32)
            return try Swift.withUnsafeBytes(of: &words) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<Int(n)])) }
        }
    }

    /// Inline keys hash their two words (canonical: unused bytes are zero); heap keys their buffer.
    @inline(__always) func hash(into hasher: inout Hasher) {
        switch storage {
        case .heap(let b):
            b.withUnsafeBytes { hasher.combine(bytes: $0) }
        case .inline(let w0, let w1, let w2, let n):
            hasher.combine(w0)
            hasher.combine(UInt64(w1) | UInt64(w2) << 32 | UInt64(n) << 56)
        }
    }

    /// Byte-wise equality (an inline key never equals a heap one: the representation is canonical).
    @inline(__always) static func == (a: Key, b: Key) -> Bool {
        switch (a.storage, b.storage) {
        case let (.inline(a0, a1, a2, an), .inline(b0, b1, b2, bn)):
            return a0 == b0 && a1 == b1 && a2 == b2 && an == bn
        case let (.heap(x), .heap(y)):
            return x == y
        default:
            return false
        }
    }

    /// Byte-wise ordering, as memcmp (Redis's lexicographic order).
    static func < (a: Key, b: Key) -> Bool {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                let n = Swift.min(x.count, y.count)
                if n > 0, let xb = x.baseAddress, let yb = y.baseAddress {
                    let r = memcmp(xb, yb, n)
                    if r != 0 { return r < 0 }
                }
                return x.count < y.count
            }
        }
    }

    /// The key as text (lossy for invalid UTF-8), for logs and error messages.
    var string: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
}

extension Array where Element == UInt8 {
    /// The bytes as text (lossy for invalid UTF-8), for logs and error messages.
    var text: String { String(decoding: self, as: UTF8.self) }
}

extension String {
    /// The string's UTF-8 bytes.
    var bytes: Bytes { Bytes(self.utf8) }
}

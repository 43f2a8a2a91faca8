// Keys are binary-safe byte strings. Hashing feeds the whole buffer to the hasher at once,
import Shared
// which is much faster than the default element-by-element hashing of [UInt8].

/// A key (or member, field, channel): bytes with a fast hash.
struct Key: Hashable, Comparable {
    var bytes: Bytes

    @inline(__always) init(_ bytes: Bytes) { self.bytes = bytes }
    init(_ s: String) { self.bytes = Bytes(s.utf8) }

    @inline(__always) func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    @inline(__always) static func == (a: Key, b: Key) -> Bool { a.bytes == b.bytes }

    /// Byte-wise ordering, as memcmp (Redis's lexicographic order).
    static func < (a: Key, b: Key) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}

extension Array where Element == UInt8 {
    /// The bytes as text (lossy for invalid UTF-8), for logs and error messages.
    var text: String { String(decoding: self, as: UTF8.self) }
}

extension String {
    /// The string's UTF-8 bytes.
    var bytes: Bytes { Bytes(self.utf8) }
}

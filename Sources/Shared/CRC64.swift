// CRC-64 with the Jones polynomial, reflected in and out, initial value 0 and no final xor:
// the checksum Redis appends to RDB files and DUMP payloads (crc64.c).

/// Redis's CRC-64 (Jones polynomial, reflected).
public enum CRC64 {
    /// The reflected form of 0xad93d23594c935a9.
    static let reflectedPoly: UInt64 = 0x95ac_9329_ac4b_c9b5

    /// One table per byte position ("slice by 8"): eight bytes per step instead of one.
    static let tables: [[UInt64]] = {
        var t0 = [UInt64](repeating: 0, count: 256)
        for i in 0..<256 {
            var c = UInt64(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ reflectedPoly : c >> 1 }
            t0[i] = c
        }
        var all = [t0]
        for k in 1..<8 {
            var t = [UInt64](repeating: 0, count: 256)
            for i in 0..<256 {
                let prev = all[k - 1][i]
                t[i] = t0[Int(prev & 0xff)] ^ (prev >> 8)
            }
            all.append(t)
        }
        return all
    }()

    /// The eight tables in one flat array (table k at k*256), read through one unsafe pointer:
    /// nested-array subscripts were bounds-checked per lookup (~8.5 instructions per byte).
    static let flatTables: [UInt64] = tables.flatMap { $0 }

    /// Continues `crc` over `bytes` (start with 0).
    public static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var c = crc
        let n = bytes.count
        var i = 0
        flatTables.withUnsafeBufferPointer { tb in
            // Every index below is (k * 256 + a byte value) with k < 8: within the 2048 entries.
            guard tb.count == 2048, let t = tb.baseAddress else { return }
            while i + 8 <= n {
                c ^= UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                c = t[7 * 256 + Int(c & 0xff)] ^ t[6 * 256 + Int((c >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((c >> 16) & 0xff)] ^ t[4 * 256 + Int((c >> 24) & 0xff)]
                    ^ t[3 * 256 + Int((c >> 32) & 0xff)] ^ t[2 * 256 + Int((c >> 40) & 0xff)]
                    ^ t[256 + Int((c >> 48) & 0xff)] ^ t[Int(c >> 56)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt64(bytes[i])) & 0xff)] ^ (c >> 8)
                i += 1
            }
        }
        return c
    }

    /// Continues `crc` over a byte collection.
    public static func update<C: Collection>(_ crc: UInt64, _ bytes: C) -> UInt64 where C.Element == UInt8 {
        if let r = bytes.withContiguousStorageIfAvailable({ update(crc, UnsafeRawBufferPointer($0)) }) { return r }
        let copy = Array(bytes)
        return copy.withUnsafeBytes { update(crc, $0) }
    }

    /// The checksum of `bytes`.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 { update(0, bytes) }
}

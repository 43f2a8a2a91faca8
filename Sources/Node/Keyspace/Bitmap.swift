// Bit-level reads and writes on string values (bitops.c's low-level half): bits are numbered from
// the most significant bit of the first byte, and a string reads as if followed by zero bytes.
// Pure functions over byte buffers, so BITCOUNT/BITPOS/BITFIELD and the HyperLogLog code share
// them and they are unit-testable.
import Shared

/// Bit arithmetic on byte strings, as Redis's bitops.c defines it.
enum Bitmap {
    /// Number of set bits in `p[from..<to]`, eight bytes at a time.
    static func popcount(_ p: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        guard from < to, let base = p.baseAddress else { return 0 }
        var i = from, n = 0
        while i + 32 <= to {
            n += (base.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
                + base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self).nonzeroBitCount
                + base.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self).nonzeroBitCount
                + base.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self).nonzeroBitCount)
            i += 32
        }
        while i + 8 <= to { n += base.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount; i += 8 }
        while i < to { n += p[i].nonzeroBitCount; i += 1 }
        return n
    }

    /// Position of the first bit equal to `bit` in `p[from..<to]`, counted from `from`, with the
    /// bytes after `to` read as zeros (Redis's redisBitpos): looking for a 1 in all-zero bytes
    /// gives -1; looking for a 0 in all-one bytes gives the first bit after the range.
    static func firstBit(_ p: UnsafeRawBufferPointer, from: Int, to: Int, bit: Int) -> Int64 {
        let skip: UInt64 = bit == 1 ? 0 : .max
        var i = from
        if let base = p.baseAddress {
            while i + 8 <= to && base.loadUnaligned(fromByteOffset: i, as: UInt64.self) == skip { i += 8 }
        }
        while i < to {
            let b = p[i]
            if bit == 1 && b != 0 { return Int64(i - from) * 8 + Int64(b.leadingZeroBitCount) }
            if bit == 0 && b != 0xff { return Int64(i - from) * 8 + Int64((~b).leadingZeroBitCount) }
            i += 1
        }
        return bit == 1 ? -1 : Int64(to - from) * 8
    }

    /// The unsigned value of `bits` bits starting at bit `offset` (the bytes must cover them).
    static func getUnsigned(_ p: UnsafeRawBufferPointer, offset: UInt64, bits: Int) -> UInt64 {
        var v: UInt64 = 0
        var o = offset
        for _ in 0..<bits {
            let byte = p[Int(o >> 3)]
            v = v << 1 | UInt64((byte >> (7 - UInt8(o & 7))) & 1)
            o += 1
        }
        return v
    }

    /// The signed (two's complement) value of `bits` bits starting at bit `offset`.
    static func getSigned(_ p: UnsafeRawBufferPointer, offset: UInt64, bits: Int) -> Int64 {
        var v = getUnsigned(p, offset: offset, bits: bits)
        if bits < 64 && v & (1 << UInt64(bits - 1)) != 0 { v |= UInt64.max << UInt64(bits) }
        return Int64(bitPattern: v)
    }

    /// Writes the low `bits` bits of `value` at bit `offset`, most significant first.
    static func setBits(_ p: UnsafeMutableRawBufferPointer, offset: UInt64, bits: Int, value: UInt64) {
        var o = offset
        for j in 0..<bits {
            let bitval = UInt8((value >> UInt64(bits - 1 - j)) & 1)
            let idx = Int(o >> 3), shift = 7 - UInt8(o & 7)
            p[idx] = (p[idx] & ~(1 << shift)) | (bitval << shift)
            o += 1
        }
    }
}

// MARK: - BITFIELD overflow

/// BITFIELD's OVERFLOW behaviours.
enum BitfieldOverflow {
    case wrap, sat, fail
}

extension Bitmap {
    /// Whether `value + incr` fits an unsigned field of `bits` bits: 0 if it does, 1 or -1 for an
    /// overflow up or down, with the value to store under `wrap`/`sat` (checkUnsignedBitfieldOverflow).
    static func unsignedOverflow(_ value: UInt64, _ incr: Int64, bits: Int, _ mode: BitfieldOverflow) -> (Int, UInt64) {
        let max: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        let maxincr = Int64(bitPattern: max &- value)
        let minincr = Int64(bitPattern: 0 &- value)
        func wrapped() -> UInt64 { (value &+ UInt64(bitPattern: incr)) & ~(UInt64.max << UInt64(bits)) }
        if value > max || (incr > 0 && incr > maxincr) {
            return (1, mode == .wrap ? wrapped() : max)
        } else if incr < 0 && incr < minincr {
            return (-1, mode == .wrap ? wrapped() : 0)
        }
        return (0, value &+ UInt64(bitPattern: incr))
    }

    /// The signed counterpart (checkSignedBitfieldOverflow), 1 to 64 bits.
    static func signedOverflow(_ value: Int64, _ incr: Int64, bits: Int, _ mode: BitfieldOverflow) -> (Int, Int64) {
        let max: Int64 = bits == 64 ? .max : (1 << Int64(bits - 1)) - 1
        let min = -max - 1
        let maxincr = Int64(bitPattern: UInt64(bitPattern: max) &- UInt64(bitPattern: value))
        let minincr = min &- value
        func wrapped() -> Int64 {
            var c = UInt64(bitPattern: value) &+ UInt64(bitPattern: incr)
            if bits < 64 {
                let mask = UInt64.max << UInt64(bits)
                if c & (1 << UInt64(bits - 1)) != 0 { c |= mask } else { c &= ~mask }
            }
            return Int64(bitPattern: c)
        }
        if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
            return (1, mode == .wrap ? wrapped() : max)
        } else if value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
            return (-1, mode == .wrap ? wrapped() : min)
        }
        return (0, value &+ incr)
    }
}

// MARK: - In-place string edits

extension Database {
    /// Runs `body` on the string stored at `key` with its buffer uniquely referenced, so edits
    /// happen in place (the dictionary's copy is swapped out for the duration). nil if `key`
    /// holds no string; the expiry is untouched. Callers check expiry and type first. The string
    /// becomes "raw" for OBJECT ENCODING, as Redis's dbUnshareStringValue makes it.
    @inline(__always)
    func withStringInPlace<R>(_ key: Key, _ body: (inout Bytes) throws -> R) rethrows -> R? {
        guard let r = try dict.withValue(forKey: key, addingMeta: KeyAging.rawStringBit, { v in try modifyValue(&v, body) }) else { return nil }
        return r
    }

    /// Stores a string built by a bit/HLL/SETRANGE command (SET semantics for the expiry): Redis
    /// creates those as raw objects, never int or embstr.
    func setRawString(_ key: Key, _ bytes: Bytes) {
        set(key, .string(bytes))
        dict.markRawString(key)
    }

    @inline(__always)
    private func modifyValue<R>(_ v: inout Value, _ body: (inout Bytes) throws -> R) rethrows -> R? {
        guard case .string(var b) = v else { return nil }
        v = .string([])
        defer { v = .string(b) }
        return try body(&b)
    }
}

// HyperLogLog in Redis's exact representation (hyperloglog.c), so the strings PFADD writes here
// are the bytes redis-server writes and either side counts the other's HLLs:
//
//   "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | cached cardinality (8 bytes LE,
//   top bit set = stale) | registers
//
// 16384 six-bit registers; dense packs them LSB first into 12288 bytes; sparse is a run-length
// code of ZERO (00xxxxxx: 1-64 zeros), XZERO (01xxxxxx yyyyyyyy: 1-16384 zeros) and VAL
// (1vvvvvxx: 1-4 registers of value 1-32). Elements hash with MurmurHash64A (seed 0xadc83b19);
// the low 14 bits pick the register, the run of zeros after them (plus one) is the value. The
// estimate is Ertl's improved estimator over the register histogram.
//
// Everything works on the whole string value and is bounds-checked: a corrupted HLL (from a
// client's SETRANGE, a RESTORE or an RDB) reads as invalid, never out of range.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// HyperLogLog operations on a string value holding Redis's HLL layout.
enum HyperLogLog {
    static let headerSize = 16
    static let precision = 14
    static let registerCount = 1 << 14
    static let registerMax: UInt8 = 63
    /// Bytes of a dense HLL: header plus 16384 six-bit registers.
    static let denseSize = headerSize + (registerCount * 6 + 7) / 8
    static let dense: UInt8 = 0
    static let sparse: UInt8 = 1
    static let sparseValMax: UInt8 = 32
    static let sparseValMaxLen = 4
    static let sparseZeroMaxLen = 64
    static let sparseXZeroMaxLen = 16384

    /// The reply to a corrupted HLL.
    static let corrupted = CommandError("INVALIDOBJ Corrupted HLL object detected")
    /// The reply to a string that is not an HLL.
    static let notHLL = CommandError("WRONGTYPE Key is not a valid HyperLogLog string value.")

    // MARK: - Creation and validation

    /// An empty sparse HLL: the header and one XZERO run covering every register.
    static func makeEmpty() -> Bytes {
        var b = Bytes(repeating: 0, count: headerSize + 2)
        b[0] = UInt8(ascii: "H"); b[1] = UInt8(ascii: "Y"); b[2] = UInt8(ascii: "L"); b[3] = UInt8(ascii: "L")
        b[4] = sparse
        let l = sparseXZeroMaxLen - 1
        b[headerSize] = UInt8(l >> 8) | 0x40
        b[headerSize + 1] = UInt8(l & 0xff)
        return b
    }

    /// Whether `b` passes Redis's isHLLObjectOrReply checks (magic, known encoding, dense size).
    static func isValid(_ b: Bytes) -> Bool {
        guard b.count >= headerSize, b[0] == UInt8(ascii: "H"), b[1] == UInt8(ascii: "Y"),
              b[2] == UInt8(ascii: "L"), b[3] == UInt8(ascii: "L"), b[4] <= sparse else { return false }
        return b[4] != dense || b.count == denseSize
    }

    /// The cached cardinality, or nil when marked stale.
    static func cachedCardinality(_ b: Bytes) -> UInt64? {
        guard b[15] & 0x80 == 0 else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(b[8 + i]) << (8 * UInt64(i)) }
        return v
    }

    static func setCachedCardinality(_ b: inout Bytes, _ v: UInt64) {
        for i in 0..<8 { b[8 + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }

    static func invalidateCache(_ b: inout Bytes) { b[15] |= 0x80 }

    // MARK: - Hashing

    /// MurmurHash2, 64-bit (MurmurHash64A), reading 8-byte blocks little-endian as Redis does.
    static func murmur64A(_ p: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let m: UInt64 = 0xc6a4a7935bd1e995
        let len = p.count
        var h = seed ^ (UInt64(len) &* m)
        var i = 0
        if let base = p.baseAddress {
            while i + 8 <= len {
                var k = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                k &*= m
                k ^= k >> 47
                k &*= m
                h ^= k
                h &*= m
                i += 8
            }
        }
        let rest = len & 7
        if rest > 0 {
            for j in stride(from: rest - 1, through: 0, by: -1) { h ^= UInt64(p[i + j]) << (8 * UInt64(j)) }
            h &*= m
        }
        h ^= h >> 47
        h &*= m
        h ^= h >> 47
        return h
    }

    /// The register an element maps to and the length of its 00..1 pattern (1...51).
    @inline(__always)
    static func patternLength(_ p: UnsafeRawBufferPointer) -> (index: Int, count: UInt8) {
        var hash = murmur64A(p, seed: 0xadc83b19)
        let index = Int(hash & UInt64(registerCount - 1))
        hash >>= UInt64(precision)
        hash |= 1 << UInt64(64 - precision)
        return (index, UInt8(hash.trailingZeroBitCount + 1))
    }

    // MARK: - Dense registers

    @inline(__always)
    static func denseGet(_ b: UnsafeRawBufferPointer, _ reg: Int) -> UInt8 {
        let bit = reg * 6
        let byte = headerSize + bit >> 3, fb = UInt8(bit & 7)
        let b0 = b[byte]
        let b1: UInt8 = byte + 1 < b.count ? b[byte + 1] : 0
        return (b0 >> fb | (fb == 0 ? 0 : b1 << (8 - fb))) & registerMax
    }

    @inline(__always)
    static func denseSet(_ b: UnsafeMutableRawBufferPointer, _ reg: Int, _ v: UInt8) {
        let bit = reg * 6
        let byte = headerSize + bit >> 3, fb = UInt8(bit & 7)
        b[byte] = b[byte] & ~(registerMax << fb) | v << fb
        if fb > 2 && byte + 1 < b.count {
            b[byte + 1] = b[byte + 1] & ~(registerMax >> (8 - fb)) | v >> (8 - fb)
        }
    }

    /// Raises register `reg` of a dense HLL to `count`; true if it changed.
    @inline(__always)
    static func denseRaise(_ b: inout Bytes, _ reg: Int, _ count: UInt8) -> Bool {
        guard b.count == denseSize, reg >= 0, reg < registerCount else { return false }
        return b.withUnsafeMutableBytes { p in
            guard count > denseGet(UnsafeRawBufferPointer(p), reg) else { return false }
            denseSet(p, reg, count)
            return true
        }
    }

    // MARK: - Sparse opcodes

    @inline(__always) private static func isZero(_ b: UInt8) -> Bool { b & 0xc0 == 0 }
    @inline(__always) private static func isXZero(_ b: UInt8) -> Bool { b & 0xc0 == 0x40 }
    @inline(__always) private static func isVal(_ b: UInt8) -> Bool { b & 0x80 != 0 }
    @inline(__always) private static func zeroLen(_ b: UInt8) -> Int { Int(b & 0x3f) + 1 }
    @inline(__always) private static func xzeroLen(_ b: UInt8, _ b2: UInt8) -> Int { (Int(b & 0x3f) << 8 | Int(b2)) + 1 }
    @inline(__always) private static func valValue(_ b: UInt8) -> UInt8 { (b >> 2) & 0x1f + 1 }
    @inline(__always) private static func valLen(_ b: UInt8) -> Int { Int(b & 0x3) + 1 }
    @inline(__always) private static func val(_ v: UInt8, _ len: Int) -> UInt8 { (v - 1) << 2 | UInt8(len - 1) | 0x80 }

    /// Appends the ZERO or XZERO opcode for `len` zero registers.
    private static func appendZeros(_ seq: inout [UInt8], _ len: Int) {
        if len > sparseZeroMaxLen {
            seq.append(UInt8((len - 1) >> 8) | 0x40)
            seq.append(UInt8((len - 1) & 0xff))
        } else {
            seq.append(UInt8(len - 1))
        }
    }

    /// Rewrites a sparse HLL as dense (the cached cardinality is kept); false if the sparse
    /// code does not describe exactly 16384 registers.
    static func sparseToDense(_ b: inout Bytes) -> Bool {
        if b[4] == dense { return true }
        var out = Bytes(repeating: 0, count: denseSize)
        for i in 0..<headerSize { out[i] = b[i] }
        out[4] = dense
        var idx = 0, p = headerSize
        let end = b.count
        let ok = out.withUnsafeMutableBytes { d -> Bool in
            while p < end {
                let op = b[p]
                if isZero(op) {
                    idx += zeroLen(op); p += 1
                } else if isXZero(op) {
                    idx += xzeroLen(op, p + 1 < end ? b[p + 1] : 0); p += 2
                } else {
                    var run = valLen(op)
                    let v = valValue(op)
                    if run + idx > registerCount { break }
                    while run > 0 { denseSet(d, idx, v); idx += 1; run -= 1 }
                    p += 1
                }
            }
            return idx == registerCount
        }
        guard ok else { return false }
        b = out
        return true
    }

    /// Raises register `index` of a sparse HLL to `count` (hllSparseSet), editing the run-length
    /// code in place and promoting to dense when the value needs more than 5 bits or the string
    /// would outgrow `maxBytes`. Returns 1 if a register changed, 0 if not, -1 if corrupted.
    static func sparseRaise(_ b: inout Bytes, _ index: Int, _ count: UInt8, maxBytes: Int) -> Int {
        // Callers pick by encoding; a dense HLL handed here is still updated correctly.
        if b[4] == dense { return denseRaise(&b, index, count) ? 1 : 0 }
        if count > sparseValMax { return promote(&b, index, count) }
        // Step 1: find the opcode covering `index`. The hot loop of PFADD on a sparse HLL: it reads
        // through a raw pointer with wrapping arithmetic (sums stay below 2^15 + 2^16).
        var end = b.count
        var p = headerSize, first = 0, span = 0, prev = -1
        let ok: Bool = b.withUnsafeBufferPointer { q in
            while p < end {
                let op = q[p]
                var oplen = 1
                if op & 0xc0 == 0x40 {  // XZERO: rare, the only two-byte opcode
                    guard p &+ 1 < end else { return false }
                    span = (Int(op & 0x3f) << 8 | Int(q[p &+ 1])) &+ 1
                    oplen = 2
                } else {
                    // ZERO (00xxxxxx) or VAL (1vvvvvxx) picked by a mask, not a branch: the two
                    // alternate unpredictably and mispredictions dominated the scan.
                    let mask: UInt8 = op & 0x80 != 0 ? 0x03 : 0x3f
                    span = Int(op & mask) &+ 1
                }
                if index < first &+ span { return true }
                prev = p
                p &+= oplen
                first &+= span
            }
            return false
        }
        guard ok, span > 0 else { return -1 }
        let op = b[p]
        let runlen = isZero(op) ? zeroLen(op) : isXZero(op) ? xzeroLen(op, b[p + 1]) : valLen(op)

        // Step 2: the trivial in-place updates.
        var updated = false
        if isVal(op) {
            if valValue(op) >= count { return 0 }
            if runlen == 1 { b[p] = val(count, 1); updated = true }
        }
        if !updated && isZero(op) && runlen == 1 {
            b[p] = val(count, 1)
            updated = true
        }
        if !updated {
            // General case: split the opcode around `index` into at most 5 bytes.
            var seq: [UInt8] = []
            let last = first + span - 1
            if isZero(op) || isXZero(op) {
                if index != first { appendZeros(&seq, index - first) }
                seq.append(val(count, 1))
                if index != last { appendZeros(&seq, last - index) }
            } else {
                let cur = valValue(op)
                if index != first { seq.append(val(cur, index - first)) }
                seq.append(val(count, 1))
                if index != last { seq.append(val(cur, last - index)) }
            }
            // Step 3: substitute it, or go dense if the string would grow too large.
            let oldlen = isXZero(op) ? 2 : 1
            let delta = seq.count - oldlen
            if delta > 0 && b.count + delta > maxBytes { return promote(&b, index, count) }
            b.replaceSubrange(p..<(p + oldlen), with: seq)
            end += delta
        }
        // Step 4: merge adjacent VAL opcodes of equal value, looking at most 5 opcodes from
        // the one before the change.
        var q = prev >= 0 ? prev : headerSize
        var scan = 5
        while q < end && scan > 0 {
            scan -= 1
            let o = b[q]
            if isXZero(o) { q += 2; continue }
            if isZero(o) { q += 1; continue }
            if q + 1 < end && isVal(b[q + 1]) {
                let v1 = valValue(o), v2 = valValue(b[q + 1])
                let len = valLen(o) + valLen(b[q + 1])
                if v1 == v2 && len <= sparseValMaxLen {
                    b[q + 1] = val(v1, len)
                    b.remove(at: q)
                    end -= 1
                    continue
                }
            }
            q += 1
        }
        invalidateCache(&b)
        return 1
    }

    private static func promote(_ b: inout Bytes, _ index: Int, _ count: UInt8) -> Int {
        guard sparseToDense(&b) else { return -1 }
        return denseRaise(&b, index, count) ? 1 : 0
    }

    /// Adds one element; 1 if the estimate may have changed, 0 if not, -1 if corrupted.
    static func add(_ b: inout Bytes, _ element: UnsafeRawBufferPointer, maxBytes: Int) -> Int {
        let (index, count) = patternLength(element)
        switch b[4] {
        case dense: return denseRaise(&b, index, count) ? 1 : 0
        case sparse: return sparseRaise(&b, index, count, maxBytes: maxBytes)
        default: return -1
        }
    }

    // MARK: - Counting and merging

    /// The register histogram of a valid HLL; nil if a sparse code is corrupted.
    static func histogram(_ b: Bytes) -> [Int]? {
        var h = [Int](repeating: 0, count: 64)
        if b[4] == dense {
            b.withUnsafeBytes { p in
                var r = headerSize
                for _ in 0..<(registerCount / 4) {
                    // Four registers in every three bytes.
                    let x = UInt32(p[r]) | UInt32(p[r + 1]) << 8 | UInt32(p[r + 2]) << 16
                    h[Int(x & 63)] += 1
                    h[Int(x >> 6 & 63)] += 1
                    h[Int(x >> 12 & 63)] += 1
                    h[Int(x >> 18 & 63)] += 1
                    r += 3
                }
            }
            return h
        }
        var idx = 0, p = headerSize
        let end = b.count
        while p < end {
            let op = b[p]
            if isZero(op) {
                let n = zeroLen(op); idx += n; h[0] += n; p += 1
            } else if isXZero(op) {
                let n = xzeroLen(op, p + 1 < end ? b[p + 1] : 0); idx += n; h[0] += n; p += 2
            } else {
                let n = valLen(op); idx += n; h[Int(valValue(op))] += n; p += 1
            }
        }
        return idx == registerCount ? h : nil
    }

    /// The histogram of plain one-byte registers (PFCOUNT over several keys).
    static func histogram(raw regs: [UInt8]) -> [Int] {
        var h = [Int](repeating: 0, count: 64)
        h.withUnsafeMutableBufferPointer { hp in
            regs.withUnsafeBufferPointer { rp in for r in rp { hp[Int(r & 63)] += 1 } }
        }
        return h
    }

    /// Ertl's estimator ("New cardinality estimation algorithms for HyperLogLog sketches"), with
    /// the same floating-point steps as Redis so the result is identical.
    static func estimate(_ h: [Int]) -> UInt64 {
        let m = Double(registerCount)
        let q = 64 - precision
        var z = m * tau((m - Double(h[q + 1])) / m)
        for j in stride(from: q, through: 1, by: -1) {
            z += Double(h[j])
            z *= 0.5
        }
        z += m * sigma(Double(h[0]) / m)
        let alphaInf = 0.721347520444481703680
        let e = (alphaInf * m * m / z).rounded(.toNearestOrAwayFromZero)
        // Cannot happen for 16384 registers, but a conversion trap must not be reachable.
        guard e.isFinite, e >= 0, e < 0x1p63 else { return 0 }
        return UInt64(e)
    }

    private static func sigma(_ x0: Double) -> Double {
        if x0 == 1 { return .infinity }
        var x = x0, y = 1.0, z = x0, zPrime: Double
        repeat {
            x *= x
            zPrime = z
            z += x * y
            y += y
        } while zPrime != z
        return z
    }

    private static func tau(_ x0: Double) -> Double {
        if x0 == 0 || x0 == 1 { return 0 }
        var x = x0, y = 1.0, z = 1 - x0, zPrime: Double
        repeat {
            x = sqrt(x)
            zPrime = z
            y *= 0.5
            z -= pow(1 - x, 2) * y
        } while zPrime != z
        return z / 3
    }

    /// The cardinality of a valid HLL; nil if corrupted.
    static func count(_ b: Bytes) -> UInt64? { histogram(b).map(estimate) }

    /// Raises `regs[i]` to each register of `b` (hllMerge); false if a sparse code is corrupted.
    static func merge(into regs: inout [UInt8], _ b: Bytes) -> Bool {
        if b[4] == dense {
            // Four registers in every three bytes, straight into the byte registers.
            b.withUnsafeBytes { p in
                regs.withUnsafeMutableBufferPointer { r in
                    var byte = headerSize, reg = 0
                    while reg < registerCount {
                        let x = UInt32(p[byte]) | UInt32(p[byte + 1]) << 8 | UInt32(p[byte + 2]) << 16
                        for k in 0..<4 {
                            let v = UInt8(truncatingIfNeeded: x >> (6 * UInt32(k))) & registerMax
                            if v > r[reg + k] { r[reg + k] = v }
                        }
                        byte += 3
                        reg += 4
                    }
                }
            }
            return true
        }
        var i = 0, p = headerSize
        let end = b.count
        while p < end {
            let op = b[p]
            if isZero(op) {
                i += zeroLen(op); p += 1
            } else if isXZero(op) {
                i += xzeroLen(op, p + 1 < end ? b[p + 1] : 0); p += 2
            } else {
                var run = valLen(op)
                let v = valValue(op)
                if run + i > registerCount { break }
                while run > 0 { if v > regs[i] { regs[i] = v }; i += 1; run -= 1 }
                p += 1
            }
        }
        return i == registerCount
    }

    /// PFDEBUG DECODE's text for a sparse HLL: `z:<n>`, `Z:<n>` and `v:<value>,<n>` runs.
    static func decode(_ b: Bytes) -> String {
        var parts: [String] = []
        var p = headerSize
        let end = b.count
        while p < end {
            let op = b[p]
            if isZero(op) {
                parts.append("z:\(zeroLen(op))"); p += 1
            } else if isXZero(op) {
                parts.append("Z:\(xzeroLen(op, p + 1 < end ? b[p + 1] : 0))"); p += 2
            } else {
                parts.append("v:\(valValue(op)),\(valLen(op))"); p += 1
            }
        }
        return parts.joined(separator: " ")
    }
}

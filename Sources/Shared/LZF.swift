// LZF compression in the liblzf format (lzf_c.c / lzf_d.c), used by RDB for long strings.
// Our compressor need not produce liblzf's exact bytes, only a stream liblzf decompresses.

/// liblzf-compatible compression.
public enum LZF {
    static let maxLiteral = 32
    static let maxOffset = 1 << 13
    /// Longest back reference: 2 + 7 + 255.
    static let maxMatch = 264
    static let hashLog = 14

    /// Reusable hash table, so compressing many strings does not allocate a table each time.
    /// Stale entries from earlier inputs are harmless: every candidate match is verified.
    public struct Compressor {
        var table: [Int32]
        /// Creates a compressor with an empty hash table.
        public init() { table = [Int32](repeating: -1, count: 1 << LZF.hashLog) }

        /// Compresses `input`; nil if the output would exceed `limit` bytes (not worth it).
        public mutating func compress(_ input: [UInt8], limit: Int) -> [UInt8]? {
            let n = input.count
            guard n > 0, limit > 0 else { return nil }
            var out = [UInt8]()
            out.reserveCapacity(min(limit, n + n / 16 + 2))
            return input.withUnsafeBufferPointer { inp -> [UInt8]? in
                table.withUnsafeMutableBufferPointer { tab -> [UInt8]? in
                    var lit = 0
                    var litStart = 0
                    out.append(0)  // placeholder for the first literal run's length
                    var ip = 0
                    @inline(__always) func hash(_ p: Int) -> Int {
                        let v = UInt32(inp[p]) << 16 | UInt32(inp[p + 1]) << 8 | UInt32(inp[p + 2])
                        return Int((v &* 2654435761) >> UInt32(32 - LZF.hashLog))
                    }
                    while ip + 2 < n {
                        let h = hash(ip)
                        let ref = Int(tab[h])
                        tab[h] = Int32(truncatingIfNeeded: ip)
                        let off = ip - ref - 1
                        if ref >= 0 && ref < ip && off < LZF.maxOffset
                            && inp[ref] == inp[ip] && inp[ref + 1] == inp[ip + 1] && inp[ref + 2] == inp[ip + 2] {
                            var len = 3
                            let maxLen = min(LZF.maxMatch, n - ip)
                            while len < maxLen && inp[ref + len] == inp[ip + len] { len += 1 }
                            // Close the pending literal run (or drop its unused placeholder).
                            if lit > 0 { out[litStart] = UInt8(lit - 1) } else { out.removeLast() }
                            let l = len - 2
                            if l < 7 {
                                out.append(UInt8(l << 5 | off >> 8))
                            } else {
                                out.append(UInt8(7 << 5 | off >> 8))
                                out.append(UInt8(l - 7))
                            }
                            out.append(UInt8(off & 0xff))
                            var k = ip + 1
                            ip += len
                            while k < ip && k + 2 < n { tab[hash(k)] = Int32(truncatingIfNeeded: k); k += 1 }
                            litStart = out.count
                            out.append(0)
                            lit = 0
                        } else {
                            out.append(inp[ip]); ip += 1; lit += 1
                            if lit == LZF.maxLiteral {
                                out[litStart] = UInt8(lit - 1)
                                litStart = out.count
                                out.append(0)
                                lit = 0
                            }
                        }
                        if out.count > limit { return nil }
                    }
                    while ip < n {
                        out.append(inp[ip]); ip += 1; lit += 1
                        if lit == LZF.maxLiteral {
                            out[litStart] = UInt8(lit - 1)
                            litStart = out.count
                            out.append(0)
                            lit = 0
                        }
                    }
                    if lit > 0 { out[litStart] = UInt8(lit - 1) } else { out.removeLast() }
                    return out.count > limit ? nil : out
                }
            }
        }
    }

    /// Compresses with a fresh table; nil if the result would exceed `limit` bytes.
    public static func compress(_ input: [UInt8], limit: Int) -> [UInt8]? {
        var c = Compressor()
        return c.compress(input, limit: limit)
    }

    /// Decompresses `input`, which must expand to exactly `expectedLength` bytes; nil if corrupt.
    public static func decompress<C: Collection>(_ input: C, expectedLength: Int) -> [UInt8]? where C.Element == UInt8 {
        // One 3-byte back reference yields at most 264 bytes: a larger claim is corrupt, and
        // refusing it early keeps a bad length from reserving absurd amounts of memory.
        guard expectedLength >= 0, expectedLength <= input.count * 88 + 32 else { return nil }
        let src = Array(input)
        var out = [UInt8]()
        out.reserveCapacity(expectedLength)
        var ip = 0
        let n = src.count
        while ip < n {
            let ctrl = Int(src[ip]); ip += 1
            if ctrl < 32 {
                let len = ctrl + 1
                guard ip + len <= n, out.count + len <= expectedLength else { return nil }
                out.append(contentsOf: src[ip..<(ip + len)])
                ip += len
            } else {
                var len = ctrl >> 5
                if len == 7 {
                    guard ip < n else { return nil }
                    len += Int(src[ip]); ip += 1
                }
                guard ip < n else { return nil }
                let back = ((ctrl & 0x1f) << 8) + Int(src[ip]) + 1
                ip += 1
                len += 2
                guard back <= out.count, out.count + len <= expectedLength else { return nil }
                // Byte by byte: a reference may overlap the bytes it produces (runs).
                var r = out.count - back
                for _ in 0..<len { out.append(out[r]); r += 1 }
            }
        }
        return out.count == expectedLength ? out : nil
    }
}

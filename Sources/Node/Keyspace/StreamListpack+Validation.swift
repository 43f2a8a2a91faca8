// Checks a stream node from an RDB payload or RESTORE before it is adopted: the listpack itself
// (lpValidateIntegrity, deep: every element in bounds, back-lengths consistent, the header's
// size and count) and the stream layout on top (streamValidateListpackIntegrity), plus what our
// readers rely on that Redis only asserts: non-negative counts, at least one entry, and live
// entries matching the header's count. Redis checks the deep part only with
// sanitize-dump-payload; we always do, since nothing a file holds may crash the node.
import Shared

extension StreamListpack {
    /// What a valid node holds.
    struct NodeSummary {
        /// Live entries (the header count).
        var live: Int64
        /// Tombstones.
        var deleted: Int64
    }

    /// Validates `b` as a stream node; nil if it is not one.
    static func validateNode(_ b: [UInt8]) -> NodeSummary? {
        guard let offsets = elementOffsets(b) else { return nil }
        let lp = StreamListpack(validated: b)
        var i = 0
        func int() -> Int64? {
            guard i < offsets.count else { return nil }
            let p = offsets[i]
            i += 1
            if lp.isInteger(p) { return lp.rawInteger(p) }
            return NumberFormat.parseInt(b[lp.stringRange(p)])
        }
        func skip(_ n: Int64) -> Bool {
            guard n >= 0, n <= Int64(offsets.count - i) else { return false }
            i += Int(n)
            return true
        }
        guard let live = int(), let deleted = int(), let masterFields = int(),
              live >= 0, deleted >= 0, masterFields >= 0, live + deleted >= 1,
              skip(masterFields), int() == 0 else { return nil }
        var liveSeen: Int64 = 0
        for _ in 0..<(live + deleted) {
            guard let flags = int(), int() != nil, int() != nil else { return nil }
            var fields = masterFields
            var extra: Int64 = 3
            if flags & StreamValue.flagSameFields == 0 {
                guard let nf = int(), nf >= 0, skip(nf) else { return nil }
                fields = nf
                extra += nf + 1
            }
            guard skip(fields), let lpCount = int(), lpCount == fields + extra else { return nil }
            if flags & StreamValue.flagDeleted == 0 { liveSeen += 1 }
        }
        guard i == offsets.count, liveSeen == live else { return nil }
        return NodeSummary(live: live, deleted: deleted)
    }

    /// Offsets of every element of a well-formed listpack, or nil.
    static func elementOffsets(_ b: [UInt8]) -> [Int]? {
        let n = b.count
        guard n >= headerSize + 1, n <= Int(UInt32.max) else { return nil }
        let total = Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
        guard total == n, b[n - 1] == eof else { return nil }
        var offsets: [Int] = []
        var p = headerSize
        let lastByte = n - 1
        while p < lastByte {
            let e = b[p]
            if e == eof { break }
            let lenBytes: Int
            if e & 0x80 == 0 || e & 0xC0 == 0x80 || e & 0xE0 == 0xC0 || (e >= 0xF1 && e <= 0xF4) {
                lenBytes = 1
            } else if e & 0xF0 == 0xE0 {
                lenBytes = 2
            } else if e == 0xF0 {
                lenBytes = 5
            } else {
                return nil
            }
            guard p + lenBytes <= lastByte else { return nil }
            let size = StreamListpack(validated: b).encodedSize(p)
            let back = backlenSize(size)
            guard p + size + back <= lastByte else { return nil }
            // The back-length, read right to left from the entry's last byte, must match.
            var q = p + size + back - 1
            var val = 0, shift = 0, used = 0
            while true {
                let x = b[q]
                val |= Int(x & 127) << shift
                used += 1
                if x & 128 == 0 { break }
                shift += 7
                q -= 1
                guard used < back, q >= p + size else { return nil }
            }
            guard val == size, used == back else { return nil }
            offsets.append(p)
            p += size + back
        }
        guard p == lastByte else { return nil }
        let count = Int(b[4]) | Int(b[5]) << 8
        guard count == unknownCount || count == offsets.count else { return nil }
        return offsets
    }
}

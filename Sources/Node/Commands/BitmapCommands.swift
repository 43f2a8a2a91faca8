// Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP (bitops.c). BITFIELD
// lives in BitfieldCommands.swift. Offsets are bounded by proto-max-bulk-len for clients (not for
// our master's stream or the AOF), replies and error texts are Redis 7.0.15's, and every command
// propagates as sent (each is deterministic).
import Shared

extension CommandTable {
    static var bitmaps: [CommandSpec] {
        let k1 = (1, 1, 1)
        return [
            CommandSpec("setbit", 4, [.write, .denyOOM], ["write", "bitmap", "slow"], keys: k1) { s, c in try s.setbitCommand(c) },
            CommandSpec("getbit", 3, [.readonly, .fast], ["read", "bitmap", "fast"], keys: k1) { s, c in try s.getbitCommand(c) },
            CommandSpec("bitcount", -2, [.readonly], ["read", "bitmap", "slow"], keys: k1) { s, c in try s.bitcountCommand(c) },
            CommandSpec("bitpos", -3, [.readonly], ["read", "bitmap", "slow"], keys: k1) { s, c in try s.bitposCommand(c) },
            CommandSpec("bitop", -4, [.write, .denyOOM], ["write", "bitmap", "slow"], keys: (2, -1, 1)) { s, c in try s.bitopCommand(c) },
            CommandSpec("bitfield", -2, [.write, .denyOOM], ["write", "bitmap", "slow"], keys: k1) { s, c in
                try s.bitfieldCommand(c, readOnly: false)
            },
            CommandSpec("bitfield_ro", -2, [.readonly, .fast], ["read", "bitmap", "fast"], keys: k1) { s, c in
                try s.bitfieldCommand(c, readOnly: true)
            },
        ]
    }
}

extension Server {
    // MARK: - Arguments

    /// A bit offset (getBitOffsetFromArgument): a non-negative integer, `#N` meaning N * `bits`
    /// when `hash` (BITFIELD), and within proto-max-bulk-len bytes unless the client is our master.
    func bitOffsetArgument(_ c: Client, _ arg: Bytes, hash: Bool = false, bits: Int = 0) throws -> UInt64 {
        let err = CommandError("ERR bit offset is not an integer or out of range")
        let useHash = hash && bits > 0 && arg.first == UInt8(ascii: "#")
        guard var v = NumberFormat.parseInt(useHash ? arg[1...] : arg[...]) else { throw err }
        if useHash {
            let (m, o) = v.multipliedReportingOverflow(by: Int64(bits))
            if o { throw err }
            v = m
        }
        if v < 0 || (!c.flags.contains(.master) && (v >> 3) >= Int64(config.protoMaxBulkLen)) { throw err }
        return UInt64(v)
    }

    /// The string at `key` grown with zero bytes so that bit `maxbit` exists (created if absent),
    /// edited in place by `body`; `grown` tells whether the key was created or lengthened
    /// (lookupStringForBitCommand). WRONGTYPE for other types.
    func editBitString<R>(_ db: Database, _ key: Key, maxbit: UInt64,
                          _ body: (_ bytes: inout Bytes, _ grown: Bool) throws -> R) throws -> R {
        let need = Int(maxbit >> 3) + 1
        switch lookupWrite(db, key) {
        case nil:
            var b = Bytes(repeating: 0, count: need)
            let r = try body(&b, true)
            db.setRawString(key, b)
            return r
        case .string?:
            let r: R? = try db.withStringInPlace(key) { b in
                let grown = b.count < need
                if grown { b.append(contentsOf: repeatElement(0, count: need - b.count)) }
                return try body(&b, grown)
            }
            guard let r else { throw CommandError.wrongType }
            return r
        default:
            throw CommandError.wrongType
        }
    }

    // MARK: - SETBIT / GETBIT

    func setbitCommand(_ c: Client) throws {
        let offset = try bitOffsetArgument(c, c.arg(2))
        let err = CommandError("ERR bit is not an integer or out of range")
        guard let on = NumberFormat.parseInt(c.arg(3)) else { throw err }
        guard on & ~1 == 0 else { throw err }
        let key = c.key(1)
        let byte = Int(offset >> 3), shift = 7 - UInt8(offset & 7)
        let (old, changed) = try editBitString(c.db, key, maxbit: offset) { b, grown -> (Int, Bool) in
            let old = Int((b[byte] >> shift) & 1)
            if grown || old != Int(on) {
                b[byte] = (b[byte] & ~(1 << shift)) | (UInt8(on) << shift)
                return (old, true)
            }
            return (old, false)
        }
        if changed { keyWritten(c.db, key); notifyKeyspaceEvent(.string, "setbit", c.db, key) }
        c.out.integer(old)
    }

    func getbitCommand(_ c: Client) throws {
        let offset = try bitOffsetArgument(c, c.arg(2))
        guard let v = try readString(c.db, c.key(1)) else { c.out.integer(0); return }
        let byte = Int(offset >> 3)
        c.out.integer(byte < v.count ? Int((v[byte] >> (7 - UInt8(offset & 7))) & 1) : 0)
    }

    // MARK: - BITCOUNT / BITPOS

    /// The `start end [BYTE|BIT]` range of BITCOUNT/BITPOS turned into a byte range plus the
    /// masks of bits outside a BIT range in its first and last bytes (nil: empty range).
    private struct BitRange {
        var start: Int64
        var end: Int64
        var firstMask: UInt8 = 0
        var lastMask: UInt8 = 0
    }

    private func bitRange(len: Int, start s: Int64, end e: Int64, isBit: Bool) -> BitRange {
        var total = Int64(len)
        if isBit { total <<= 3 }
        var start = s, end = e
        if start < 0 { start = total + start }
        if end < 0 { end = total + end }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= total { end = total - 1 }
        var r = BitRange(start: start, end: end)
        if isBit && start <= end {
            r.firstMask = ~UInt8(truncatingIfNeeded: (1 << (8 - (start & 7))) - 1)
            r.lastMask = UInt8(truncatingIfNeeded: (1 << (7 - (end & 7))) - 1)
            r.start = start >> 3
            r.end = end >> 3
        }
        return r
    }

    /// `BYTE` or `BIT` (any case), else a syntax error.
    private func bitUnit(_ b: Bytes) throws -> Bool {
        switch String(decoding: b, as: UTF8.self).lowercased() {
        case "bit": return true
        case "byte": return false
        default: throw CommandError.syntax
        }
    }

    func bitcountCommand(_ c: Client) throws {
        guard let v = try readString(c.db, c.key(1)) else { c.out.integer(0); return }
        var r: BitRange
        if c.argc == 4 || c.argc == 5 {
            let start = try integerArgument(c.arg(2)), end = try integerArgument(c.arg(3))
            if start < 0 && end < 0 && start > end { c.out.integer(0); return }
            let isBit = c.argc == 5 ? try bitUnit(c.arg(4)) : false
            r = bitRange(len: v.count, start: start, end: end, isBit: isBit)
        } else if c.argc == 2 {
            r = BitRange(start: 0, end: Int64(v.count) - 1)
        } else {
            throw CommandError.syntax
        }
        guard r.start <= r.end else { c.out.integer(0); return }
        let count = v.withUnsafeBytes { p -> Int in
            var n = Bitmap.popcount(p, from: Int(r.start), to: Int(r.end) + 1)
            n -= (p[Int(r.start)] & r.firstMask).nonzeroBitCount + (p[Int(r.end)] & r.lastMask).nonzeroBitCount
            return n
        }
        c.out.integer(count)
    }

    func bitposCommand(_ c: Client) throws {
        guard let bit = NumberFormat.parseInt(c.arg(2)) else { throw CommandError.notInteger }
        guard bit == 0 || bit == 1 else { throw CommandError("ERR The bit argument must be 1 or 0.") }
        let b = Int(bit)
        guard let v = try readString(c.db, c.key(1)) else { c.out.integer(b == 1 ? -1 : 0); return }
        var r: BitRange
        var endGiven = false
        if c.argc >= 4 && c.argc <= 6 {
            let start = try integerArgument(c.arg(3))
            let isBit = c.argc == 6 ? try bitUnit(c.arg(5)) : false
            var end: Int64
            if c.argc >= 5 {
                end = try integerArgument(c.arg(4))
                endGiven = true
            } else {
                end = isBit ? (Int64(v.count) << 3) + 7 : Int64(v.count) - 1
            }
            r = bitRange(len: v.count, start: start, end: end, isBit: isBit)
        } else if c.argc == 3 {
            r = BitRange(start: 0, end: Int64(v.count) - 1)
        } else {
            throw CommandError.syntax
        }
        guard r.start <= r.end else { c.out.integer(-1); return }
        c.out.integer(v.withUnsafeBytes { p in Server.bitpos(p, r, bit: b, endGiven: endGiven) })
    }

    /// BITPOS over a non-empty range: the partial first and last bytes of a BIT range are
    /// searched with the out-of-range bits forced to the opposite value.
    private static func bitpos(_ p: UnsafeRawBufferPointer, _ r: BitRange, bit: Int, endGiven: Bool) -> Int64 {
        var start = Int(r.start)
        let end = Int(r.end)
        var bytes = end - start + 1
        func edge(_ byte: UInt8, _ mask: UInt8) -> UInt8 { bit == 1 ? byte & ~mask : byte | mask }
        func one(_ byte: UInt8) -> Int64 { withUnsafeBytes(of: byte) { Bitmap.firstBit($0, from: 0, to: 1, bit: bit) } }
        var pos: Int64
        search: do {
            if r.firstMask != 0 {
                var t = edge(p[start], r.firstMask)
                if r.lastMask != 0 && bytes == 1 { t = edge(t, r.lastMask) }
                pos = one(t)
                if bytes == 1 || (pos != -1 && pos != 8) { break search }
                start += 1
                bytes -= 1
            }
            let cur = bytes - (r.lastMask != 0 ? 1 : 0)
            if cur > 0 {
                pos = Bitmap.firstBit(p, from: start, to: start + cur, bit: bit)
                if bytes == cur || (pos != -1 && pos != Int64(cur) << 3) { break search }
                start += cur
                bytes -= cur
            }
            pos = one(edge(p[end], r.lastMask))
        }
        // An explicit end: a range of all ones holds no 0, rather than one just past it.
        if endGiven && bit == 0 && pos == Int64(bytes) << 3 { return -1 }
        if pos != -1 { pos += Int64(start) << 3 }
        return pos
    }

    // MARK: - BITOP

    func bitopCommand(_ c: Client) throws {
        enum Op { case and, or, xor, not }
        let op: Op
        switch c.arg(1).text.lowercased() {
        case "and": op = .and
        case "or": op = .or
        case "xor": op = .xor
        case "not": op = .not
        default: throw CommandError.syntax
        }
        if op == .not && c.argc != 4 { throw CommandError("ERR BITOP NOT must be called with a single source key.") }
        var sources: [Bytes] = []
        sources.reserveCapacity(c.argc - 3)
        for i in 3..<c.argc {
            switch lookupRead(c.db, c.key(i)) {
            case nil: sources.append([])
            case .string(let b)?: sources.append(b)
            default: throw CommandError.wrongType
            }
        }
        let maxlen = sources.reduce(0) { max($0, $1.count) }
        let target = c.key(2)
        if maxlen == 0 {
            if lookupWrite(c.db, target) != nil, c.db.remove(target) != nil {
                keyWritten(c.db, target)
                notifyKeyspaceEvent(.generic, "del", c.db, target)
            }
            c.out.integer(0)
            return
        }
        var res = Bytes(repeating: 0, count: maxlen)
        res.withUnsafeMutableBytes { out in
            let first = sources[0]
            first.withUnsafeBytes { src in
                for j in 0..<first.count { out[j] = src[j] }
            }
            if op == .not {
                for j in 0..<maxlen { out[j] = ~out[j] }
                return
            }
            for s in sources.dropFirst() {
                s.withUnsafeBytes { src in
                    let n = s.count
                    switch op {
                    case .and:
                        for j in 0..<min(n, maxlen) { out[j] &= src[j] }
                        for j in n..<maxlen { out[j] = 0 }
                    case .or:
                        for j in 0..<n { out[j] |= src[j] }
                    case .xor:
                        for j in 0..<n { out[j] ^= src[j] }
                    case .not:
                        break
                    }
                }
            }
        }
        c.db.setRawString(target, res)
        keyWritten(c.db, target)
        notifyKeyspaceEvent(.string, "set", c.db, target)
        c.out.integer(maxlen)
    }
}

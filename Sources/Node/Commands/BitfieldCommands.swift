// BITFIELD and BITFIELD_RO (bitops.c's bitfieldGeneric): every operation is parsed and checked
// before any runs, the string is grown once to the farthest bit written, then GET/SET/INCRBY run
// in order under the OVERFLOW mode in force when each was given. Propagated as sent: replaying
// the same operations on the same string gives the same bits.
import Shared

/// One parsed BITFIELD operation.
private struct BitfieldOp {
    enum Kind { case get, set, incrby }
    var kind: Kind
    var offset: UInt64
    var bits: Int
    var signed: Bool
    /// SET value or INCRBY increment.
    var value: Int64
    var overflow: BitfieldOverflow
}

extension Server {
    /// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
    /// [OVERFLOW WRAP|SAT|FAIL] ...; BITFIELD_RO accepts only GET.
    func bitfieldCommand(_ c: Client, readOnly: Bool) throws {
        var ops: [BitfieldOp] = []
        var overflow = BitfieldOverflow.wrap
        var writes = false
        var highest: UInt64 = 0
        var j = 2
        while j < c.argc {
            let remaining = c.argc - j - 1
            let kind: BitfieldOp.Kind
            switch c.arg(j).text.lowercased() {
            case "get" where remaining >= 2: kind = .get
            case "set" where remaining >= 3: kind = .set
            case "incrby" where remaining >= 3: kind = .incrby
            case "overflow" where remaining >= 1:
                switch c.arg(j + 1).text.lowercased() {
                case "wrap": overflow = .wrap
                case "sat": overflow = .sat
                case "fail": overflow = .fail
                default: throw CommandError("ERR Invalid OVERFLOW type specified")
                }
                j += 2
                continue
            default:
                throw CommandError.syntax
            }
            let (signed, bits) = try bitfieldType(c.arg(j + 1))
            let offset = try bitOffsetArgument(c, c.arg(j + 2), hash: true, bits: bits)
            var value: Int64 = 0
            if kind != .get {
                writes = true
                highest = max(highest, offset + UInt64(bits) - 1)
                value = try integerArgument(c.arg(j + 3))
            }
            ops.append(BitfieldOp(kind: kind, offset: offset, bits: bits, signed: signed, value: value, overflow: overflow))
            j += kind == .get ? 3 : 4
        }
        let key = c.key(1)
        if !writes {
            let v = try readString(c.db, key) ?? []
            c.out.arrayHeader(ops.count)
            for op in ops { c.out.integer(Server.bitfieldGet(v, op)) }
            return
        }
        if readOnly { throw CommandError("ERR BITFIELD_RO only supports the GET subcommand") }
        // The reply is built while the string is edited in place, then sent.
        var reply = RESPWriter(proto: c.proto)
        let changes = try editBitString(c.db, key, maxbit: highest) { b, grown -> Int in
            var changes = 0
            reply.arrayHeader(ops.count)
            for op in ops {
                if op.kind == .get { reply.integer(Server.bitfieldGet(b, op)); continue }
                switch Server.bitfieldWrite(&b, op, into: &reply) {
                case .changed: changes += 1
                case .unchanged: if grown { changes += 1 }  // Redis counts every write to a grown string
                case .failed: break
                }
            }
            // A key created or grown counts as one change even when every write failed (Redis
            // would then leave the new key out of the replication stream).
            return changes == 0 && grown ? 1 : changes
        }
        c.out.raw(reply.bytes)
        if changes > 0 { keyWritten(c.db, key, dirty: changes) }
    }

    /// `i<1..64>` or `u<1..63>`.
    private func bitfieldType(_ b: Bytes) throws -> (signed: Bool, bits: Int) {
        let err = CommandError("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
        guard let first = b.first, first == UInt8(ascii: "i") || first == UInt8(ascii: "u") else { throw err }
        let signed = first == UInt8(ascii: "i")
        // strlen semantics: the number ends at the first NUL byte.
        let digits = b[1...].prefix { $0 != 0 }
        guard let n = NumberFormat.parseInt(digits), n >= 1, n <= (signed ? 64 : 63) else { throw err }
        return (signed, Int(n))
    }

    /// GET: reads past the end of the string as zeros.
    private static func bitfieldGet(_ v: Bytes, _ op: BitfieldOp) -> Int64 {
        // Copy the (at most 9) bytes the field spans into a zero-padded buffer.
        let byte = op.offset >> 3
        var buf = Bytes(repeating: 0, count: 9)
        var i = 0
        while i < 9 && byte + UInt64(i) < UInt64(v.count) { buf[i] = v[Int(byte) + i]; i += 1 }
        let rel = op.offset - byte * 8
        return buf.withUnsafeBytes { p in
            op.signed ? Bitmap.getSigned(p, offset: rel, bits: op.bits)
                : Int64(bitPattern: Bitmap.getUnsigned(p, offset: rel, bits: op.bits))
        }
    }

    /// What one SET/INCRBY did.
    private enum WriteOutcome { case changed, unchanged, failed }

    /// SET or INCRBY on a string already long enough; writes the reply element. Under OVERFLOW
    /// FAIL an overflowing operation writes nothing and replies null.
    private static func bitfieldWrite(_ b: inout Bytes, _ op: BitfieldOp, into reply: inout RESPWriter) -> WriteOutcome {
        b.withUnsafeMutableBytes { p -> WriteOutcome in
            let ro = UnsafeRawBufferPointer(p)
            var reply0: Int64, oldBits: UInt64, newBits: UInt64, overflowed: Bool
            if op.signed {
                let old = Bitmap.getSigned(ro, offset: op.offset, bits: op.bits)
                var new: Int64
                if op.kind == .incrby {
                    let (o, v) = Bitmap.signedOverflow(old, op.value, bits: op.bits, op.overflow)
                    overflowed = o != 0
                    new = v
                    reply0 = new
                } else {
                    new = op.value
                    let (o, v) = Bitmap.signedOverflow(new, 0, bits: op.bits, op.overflow)
                    overflowed = o != 0
                    if overflowed { new = v }
                    reply0 = old
                }
                oldBits = UInt64(bitPattern: old)
                newBits = UInt64(bitPattern: new)
            } else {
                let old = Bitmap.getUnsigned(ro, offset: op.offset, bits: op.bits)
                var new: UInt64
                if op.kind == .incrby {
                    let (o, v) = Bitmap.unsignedOverflow(old, op.value, bits: op.bits, op.overflow)
                    overflowed = o != 0
                    new = v
                    reply0 = Int64(bitPattern: new)
                } else {
                    new = UInt64(bitPattern: op.value)
                    let (o, v) = Bitmap.unsignedOverflow(new, 0, bits: op.bits, op.overflow)
                    overflowed = o != 0
                    if overflowed { new = v }
                    reply0 = Int64(bitPattern: old)
                }
                oldBits = old
                newBits = new
            }
            if overflowed && op.overflow == .fail {
                reply.null()
                return .failed
            }
            reply.integer(Int(reply0))
            Bitmap.setBits(p, offset: op.offset, bits: op.bits, value: newBits)
            return oldBits != newBits ? .changed : .unchanged
        }
    }
}

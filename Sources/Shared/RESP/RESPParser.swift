// Parses replies (RESP2 and RESP3) for the client side of links: sentinel → node, replica → master,
// and tests. Pure: returns nil for "need more bytes", throws on a protocol error, and reports how
// many bytes a complete value used so the caller consumes input only on success.

/// Stateless RESP2/RESP3 value parser.
public enum RESPParser {
    /// Parses one value starting at `start`; nil if incomplete.
    public static func parse(_ buf: UnsafeRawBufferPointer, from start: Int = 0, maxBulk: Int = 1 << 32)
        throws -> (value: RESPValue, next: Int)? {
        try parseValue(buf, start, maxBulk, depth: 0)
    }

    /// Convenience for arrays of bytes.
    public static func parse(_ bytes: Bytes, from start: Int = 0) throws -> (value: RESPValue, next: Int)? {
        try bytes.withUnsafeBytes { (p) throws in try parse(p, from: start) }
    }

    private static func line(_ buf: UnsafeRawBufferPointer, _ from: Int) -> (Int, Int)? {
        var i = from
        while i + 1 < buf.count {
            if buf[i] == 0x0D && buf[i + 1] == 0x0A { return (i, i + 2) }
            i += 1
        }
        return nil
    }

    private static func text(_ buf: UnsafeRawBufferPointer, _ a: Int, _ b: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buf[a..<b]), as: UTF8.self)
    }

    private static func parseValue(_ buf: UnsafeRawBufferPointer, _ start: Int, _ maxBulk: Int, depth: Int)
        throws -> (value: RESPValue, next: Int)? {
        guard start < buf.count else { return nil }
        if depth > 64 { throw RESPError("nesting too deep") }
        let type = buf[start]
        guard let (end, next) = line(buf, start + 1) else {
            if buf.count - start > 64 * 1024 && type != UInt8(ascii: "+") && type != UInt8(ascii: "-") {
                throw RESPError("header too long")
            }
            return nil
        }
        let header = text(buf, start + 1, end)
        switch type {
        case UInt8(ascii: "+"): return (.simpleString(header), next)
        case UInt8(ascii: "-"): return (.error(header), next)
        case UInt8(ascii: ":"):
            guard let v = Int64(header) else { throw RESPError("invalid integer '\(header)'") }
            return (.integer(v), next)
        case UInt8(ascii: "_"): return (.null, next)
        case UInt8(ascii: "#"):
            guard header == "t" || header == "f" else { throw RESPError("invalid boolean") }
            return (.boolean(header == "t"), next)
        case UInt8(ascii: ","):
            switch header {
            case "inf": return (.double(.infinity), next)
            case "-inf": return (.double(-.infinity), next)
            case "nan": return (.double(.nan), next)
            default:
                guard let d = Double(header) else { throw RESPError("invalid double") }
                return (.double(d), next)
            }
        case UInt8(ascii: "("): return (.bigNumber(header), next)
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            guard let len = Int(header), len >= -1, len <= maxBulk else { throw RESPError("invalid bulk length") }
            if len == -1 { return (.null, next) }
            guard next + len + 2 <= buf.count else { return nil }
            let body = Bytes(UnsafeRawBufferPointer(rebasing: buf[next..<(next + len)]))
            guard buf[next + len] == 0x0D && buf[next + len + 1] == 0x0A else { throw RESPError("bulk not terminated") }
            if type == UInt8(ascii: "!") { return (.error(String(decoding: body, as: UTF8.self)), next + len + 2) }
            if type == UInt8(ascii: "=") {
                guard body.count >= 4 else { throw RESPError("invalid verbatim string") }
                return (.verbatim(format: String(decoding: body[0..<3], as: UTF8.self), text: Bytes(body[4...])), next + len + 2)
            }
            return (.bulkString(body), next + len + 2)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let count = Int(header), count >= -1, count <= 1 << 28 else { throw RESPError("invalid multibulk length") }
            if count == -1 { return (.null, next) }
            let isMap = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            let items = isMap ? count * 2 : count
            var values: [RESPValue] = []
            values.reserveCapacity(min(items, 4096))
            var pos = next
            for _ in 0..<items {
                guard let (v, n) = try parseValue(buf, pos, maxBulk, depth: depth + 1) else { return nil }
                values.append(v)
                pos = n
            }
            switch type {
            case UInt8(ascii: "~"): return (.set(values), pos)
            case UInt8(ascii: ">"): return (.push(values), pos)
            case UInt8(ascii: "%"):
                var pairs: [RESPPair] = []
                pairs.reserveCapacity(count)
                var k = 0
                while k < values.count { pairs.append(RESPPair(values[k], values[k + 1])); k += 2 }
                return (.map(pairs), pos)
            case UInt8(ascii: "|"):
                // An attribute is metadata ahead of the real reply: skip it and return what follows.
                return try parseValue(buf, pos, maxBulk, depth: depth + 1)
            default: return (.array(values), pos)
            }
        default:
            throw RESPError("unexpected byte '\(String(decoding: [type], as: UTF8.self))'")
        }
    }
}

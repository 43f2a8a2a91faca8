// Splits the command part of an AOF file into argument vectors. Pure and bounds-checked: a
// damaged file is an AOFFormatError with its byte offset, and a file that simply stops in the
// middle of a command says so (`truncated`), so the loader can apply aof-load-truncated.

/// A malformed AOF: what was wrong and where.
struct AOFFormatError: Error, Equatable, CustomStringConvertible {
    /// What is malformed.
    let message: String
    /// Byte offset in the file where the bad command starts.
    let offset: Int
    /// The message with the offset.
    var description: String { "\(message) at offset \(offset)" }
}

/// Reads `*<argc>\r\n($<len>\r\n<bytes>\r\n)*` commands, skipping `#...` annotation lines
/// (Redis 7's `aof-timestamp-enabled` writes `#TS:<unix>`).
struct AOFCommandReader {
    /// The whole file.
    let bytes: [UInt8]
    /// Offset of the next unread byte; always at a command boundary between calls.
    private(set) var pos: Int

    /// One step of reading.
    enum Step: Equatable {
        /// A whole command and the offset where it started.
        case command([[UInt8]], start: Int)
        /// Clean end of the file.
        case end
        /// The file ends inside the command that starts at `validUpTo`.
        case truncated(validUpTo: Int)
    }

    /// Longest argument count or bulk length accepted; larger is corruption, not data.
    static let maxLength = 1 << 32

    /// Reads `bytes` from `start` (after an RDB preamble, for instance).
    init(_ bytes: [UInt8], from start: Int = 0) {
        self.bytes = bytes
        self.pos = start
    }

    /// Reads the next command.
    mutating func next() throws(AOFFormatError) -> Step {
        while pos < bytes.count && bytes[pos] == UInt8(ascii: "#") {
            guard let eol = try lineEnd(from: pos) else { return .truncated(validUpTo: pos) }
            pos = eol + 2
        }
        let start = pos
        guard start < bytes.count else { return .end }
        guard bytes[start] == UInt8(ascii: "*") else {
            throw AOFFormatError(message: "expected '*'", offset: start)
        }
        var p = start
        guard let argc = try number(at: &p, prefix: UInt8(ascii: "*"), commandStart: start) else { return .truncated(validUpTo: start) }
        guard argc >= 1 else { throw AOFFormatError(message: "argc < 1", offset: start) }
        var argv: [[UInt8]] = []
        argv.reserveCapacity(min(argc, 1024))
        for _ in 0..<argc {
            guard p < bytes.count else { return .truncated(validUpTo: start) }
            guard bytes[p] == UInt8(ascii: "$") else {
                throw AOFFormatError(message: "expected '$'", offset: start)
            }
            guard let len = try number(at: &p, prefix: UInt8(ascii: "$"), commandStart: start) else { return .truncated(validUpTo: start) }
            guard bytes.count - p >= len + 2 else { return .truncated(validUpTo: start) }
            guard bytes[p + len] == 0x0D && bytes[p + len + 1] == 0x0A else {
                throw AOFFormatError(message: "missing CRLF after argument", offset: start)
            }
            argv.append(Array(bytes[p..<(p + len)]))
            p += len + 2
        }
        pos = p
        return .command(argv, start: start)
    }

    /// Parses `<prefix><digits>\r\n` at `p`; nil when the file ends first.
    private func number(at p: inout Int, prefix: UInt8, commandStart: Int) throws(AOFFormatError) -> Int? {
        guard let eol = try lineEnd(from: p) else {
            // Without a line end, only a short tail of digits can still be a truncation.
            if bytes.count - p > 24 { throw AOFFormatError(message: "line too long", offset: commandStart) }
            return nil
        }
        let digits = bytes[(p + 1)..<eol]
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw AOFFormatError(message: "invalid number", offset: commandStart)
        }
        var v = 0
        for d in digits { v = v * 10 + Int(d - 0x30) }
        guard v <= AOFCommandReader.maxLength else {
            throw AOFFormatError(message: "length out of range", offset: commandStart)
        }
        p = eol + 2
        return v
    }

    /// Index of the `\r` of the next `\r\n` at or after `from`, nil when the file ends first;
    /// a lone `\r` or `\n` is corruption.
    private func lineEnd(from: Int) throws(AOFFormatError) -> Int? {
        var i = from
        while i < bytes.count {
            if bytes[i] == 0x0D {
                guard i + 1 < bytes.count else { return nil }
                if bytes[i + 1] == 0x0A { return i }
                throw AOFFormatError(message: "bad line ending", offset: from)
            }
            if bytes[i] == 0x0A { throw AOFFormatError(message: "bad line ending", offset: from) }
            i += 1
        }
        return nil
    }
}

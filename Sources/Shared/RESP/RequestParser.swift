// Parses client requests (multibulk or inline) into argument vectors. Pure: bytes in, commands out.
// It keeps the state of a half-received multibulk so large pipelines are not re-scanned, and
// consumes bytes as soon as a whole argument is in (`consumed`), never a partial one.

/// Incremental request parser with Redis's limits and exact protocol error texts.
public struct RequestParser: Sendable {
    /// Redis's PROTO_INLINE_MAX_SIZE: an inline line or a count line may not be longer.
    public static let inlineMaxSize = 64 * 1024
    public var maxBulkLength: Int
    /// Unauthenticated clients get tight limits, as in Redis (10 args, 16 KB bulks).
    public var authenticated = true
    /// Replication links from our master are exempt from proto-max-bulk-len.
    public var isMasterLink = false

    private var pendingArgs: [Bytes] = []
    /// The last command name seen (argv[0]), shared by the next command if it is the same.
    private var lastName: Bytes = []
    private var remaining = 0      // bulks still expected in the current multibulk; 0 = none open
    private var inMultibulk = false

    public init(maxBulkLength: Int = 512 * 1024 * 1024) { self.maxBulkLength = maxBulkLength }

    /// True while a multibulk is partly received (so the caller knows more bytes are awaited).
    public var isMidCommand: Bool { inMultibulk }

    /// Parses from `buf`. Returns bytes consumed and, if complete, one command's arguments
    /// (an empty array means an empty command to skip). Throws on protocol errors.
    public mutating func parse(_ buf: UnsafeRawBufferPointer) throws -> (consumed: Int, command: [Bytes]?) {
        var argv: [Bytes] = []
        let r = try parse(buf, into: &argv)
        return (r.consumed, r.complete ? argv : nil)
    }

    /// Like `parse(_:)`, but a complete command's arguments replace the contents of `argv`. The
    /// server passes the previous command's emptied argv back in, so the array buffers are reused
    /// (ping-ponged with the parser's own) instead of allocated per command.
    public mutating func parse(_ buf: UnsafeRawBufferPointer, into argv: inout [Bytes]) throws -> (consumed: Int, complete: Bool) {
        guard !buf.isEmpty else { return (0, false) }
        if !inMultibulk {
            if buf[0] == UInt8(ascii: "*") { return try startMultibulk(buf, &argv) }
            let r = try parseInline(buf)
            if let args = r.command { argv = args }
            return (r.consumed, r.command != nil)
        }
        return try continueMultibulk(buf, from: 0, &argv)
    }

    private func findCRLF(_ buf: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        let n = buf.count
        while i < n {
            if buf[i] == 0x0D {
                if i + 1 < n && buf[i + 1] == 0x0A { return i }
                if i + 1 >= n { return nil }
            }
            i += 1
        }
        return nil
    }

    /// Parses a signed decimal between `from` and `to` exactly as Redis's string2ll (no spaces, no +).
    private func parseInt(_ buf: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Int64? {
        guard to > from, to - from <= 20 else { return nil }
        var i = from
        var neg = false
        if buf[i] == UInt8(ascii: "-") { neg = true; i += 1; if i == to { return nil } }
        var v: Int64 = 0
        while i < to {
            let c = buf[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return neg ? -v : v
    }

    private mutating func startMultibulk(_ buf: UnsafeRawBufferPointer, _ argv: inout [Bytes]) throws -> (consumed: Int, complete: Bool) {
        guard let cr = findCRLF(buf, from: 1) else {
            if buf.count > Self.inlineMaxSize { throw RESPError("too big mbulk count string") }
            return (0, false)
        }
        guard let count = parseInt(buf, 1, cr), count <= Int64(Int32.max) else {
            throw RESPError("invalid multibulk length")
        }
        if count > 10 && !authenticated { throw RESPError("unauthenticated multibulk length") }
        let headerEnd = cr + 2
        if count <= 0 { argv.removeAll(keepingCapacity: true); return (headerEnd, true) }
        inMultibulk = true
        remaining = Int(count)
        // Keep a small buffer from earlier commands; drop a huge one so one big MSET does not pin it.
        if pendingArgs.capacity > 1024 { pendingArgs = [] } else if !pendingArgs.isEmpty { pendingArgs.removeAll(keepingCapacity: true) }
        pendingArgs.reserveCapacity(min(Int(count), 1024))
        return try continueMultibulk(buf, from: headerEnd, &argv)
    }

    private mutating func continueMultibulk(_ buf: UnsafeRawBufferPointer, from start: Int, _ argv: inout [Bytes]) throws -> (consumed: Int, complete: Bool) {
        var pos = start
        let n = buf.count
        while remaining > 0 {
            guard pos < n else { return (pos, false) }
            guard let cr = findCRLF(buf, from: pos) else {
                if n - pos > Self.inlineMaxSize { throw RESPError("too big bulk count string") }
                return (pos, false)
            }
            if buf[pos] != UInt8(ascii: "$") {
                throw RESPError("expected '$', got '\(String(decoding: [buf[pos]], as: UTF8.self))'")
            }
            guard let len = parseInt(buf, pos + 1, cr), len >= 0,
                  isMasterLink || len <= Int64(maxBulkLength) else {
                throw RESPError("invalid bulk length")
            }
            if len > 16384 && !authenticated { throw RESPError("unauthenticated bulk length") }
            let dataStart = cr + 2
            let total = dataStart + Int(len) + 2
            if total > n { return (pos, false) }
            let arg = UnsafeRawBufferPointer(rebasing: buf[dataStart..<(dataStart + Int(len))])
            if pendingArgs.isEmpty {
                // The command name: clients repeat the same few, so share the previous name's
                // array when the bytes match instead of a malloc, copy and free per command.
                if !lastName.elementsEqual(arg) { lastName = len <= 32 ? Bytes(arg) : [] }
                pendingArgs.append(len <= 32 ? lastName : Bytes(arg))
            } else {
                pendingArgs.append(Bytes(arg))
            }
            pos = total
            remaining -= 1
        }
        inMultibulk = false
        if !argv.isEmpty { argv.removeAll(keepingCapacity: true) }
        swap(&argv, &pendingArgs)
        return (pos, true)
    }

    private mutating func parseInline(_ buf: UnsafeRawBufferPointer) throws -> (consumed: Int, command: [Bytes]?) {
        var nl: Int? = nil
        for i in 0..<buf.count where buf[i] == 0x0A { nl = i; break }
        guard let newline = nl else {
            if buf.count > Self.inlineMaxSize { throw RESPError("too big inline request") }
            return (0, nil)
        }
        var end = newline
        if end > 0 && buf[end - 1] == 0x0D { end -= 1 }
        guard let args = ArgSplitter.split(UnsafeRawBufferPointer(rebasing: buf[0..<end])) else {
            throw RESPError("unbalanced quotes in request")
        }
        return (newline + 1, args)
    }
}

// Argument parsing of the stream commands, with Redis 7.0.15's order of checks and texts:
// XADD/XTRIM options (streamParseAddOrTrimArgsOrReply), interval IDs with `(`, and XREAD /
// XREADGROUP's options and STREAMS list.
import Shared

extension Array where Element == UInt8 {
    /// Whether these bytes spell `word` (upper-case ASCII) in any case, without building a String:
    /// option parsing runs on every XADD and XREADGROUP.
    @inline(__always) func isOption(_ word: StaticString) -> Bool {
        guard count == word.utf8CodeUnitCount else { return false }
        return word.withUTF8Buffer { w in
            for i in 0..<count {
                let b = self[i]
                if (b >= 0x61 && b <= 0x7A ? b - 0x20 : b) != w[i] { return false }
            }
            return true
        }
    }
}

/// Parsed XADD / XTRIM arguments.
struct StreamAddArgs {
    /// The trimming options.
    var trim = StreamTrimArgs()
    /// XADD's explicit ID (`idGiven`), possibly `ms-*` (`seqGiven` false).
    var id = StreamID.zero
    var idGiven = false
    var seqGiven = true
    /// NOMKSTREAM.
    var noMkStream = false
    /// Where XADD's ID argument is (fields follow it).
    var idPos = 0

    /// Parses from argv[2]. `obey`: the client is our master or the AOF (no LIMIT enforced).
    static func parse(_ c: Client, xadd: Bool, obey: Bool, nodeMaxEntries: Int) throws -> StreamAddArgs {
        var a = StreamAddArgs()
        var limitGiven = false
        var i = 2
        while i < c.argc {
            let more = c.argc - 1 - i
            let opt = c.arg(i)
            if xadd && opt.count == 1 && opt[0] == UInt8(ascii: "*") { break }
            let isMaxLen = opt.isOption("MAXLEN")
            if (isMaxLen || opt.isOption("MINID")) && more > 0 {
                if a.trim.strategy != .none {
                    throw CommandError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
                }
                a.trim.approximate = false
                let next = c.arg(i + 1)
                if more >= 2 && next == [UInt8(ascii: "~")] {
                    a.trim.approximate = true
                    i += 1
                } else if more >= 2 && next == [UInt8(ascii: "=")] {
                    i += 1
                }
                if isMaxLen {
                    guard let n = NumberFormat.parseInt(c.arg(i + 1)) else { throw CommandError.notInteger }
                    if n < 0 { throw CommandError("ERR The MAXLEN argument must be >= 0.") }
                    a.trim.maxLen = n
                    a.trim.strategy = .maxLen
                } else {
                    a.trim.minID = try StreamID.parseStrict(c.arg(i + 1))
                    a.trim.strategy = .minID
                }
                i += 1
                a.trim.argIndex = i
            } else if opt.isOption("LIMIT") && more > 0 {
                guard let n = NumberFormat.parseInt(c.arg(i + 1)) else { throw CommandError.notInteger }
                if n < 0 { throw CommandError("ERR The LIMIT argument must be >= 0.") }
                a.trim.limit = n
                limitGiven = true
                i += 1
            } else if xadd && opt.isOption("NOMKSTREAM") {
                a.noMkStream = true
            } else if xadd {
                guard let r = StreamID.parse(opt, strict: true, allowAutoSeq: true) else { throw StreamID.invalidError }
                a.id = r.id
                a.seqGiven = r.seqGiven
                a.idGiven = true
                break
            } else {
                throw CommandError.syntax
            }
            i += 1
        }
        a.idPos = i
        if a.trim.limit != 0 && a.trim.strategy == .none {
            throw CommandError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
        }
        if !xadd && a.trim.strategy == .none {
            throw CommandError("ERR syntax error, XTRIM must be called with a trimming strategy")
        }
        if obey {
            a.trim.limit = 0
        } else if limitGiven {
            if !a.trim.approximate { throw CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option") }
        } else if a.trim.approximate {
            // At most 100 nodes' worth of work per call, whatever stream-node-max-entries says.
            let (l, overflow) = Int64(nodeMaxEntries).multipliedReportingOverflow(by: 100)
            var limit = overflow ? Int64.max : l
            if limit <= 0 { limit = 10000 }
            if limit > 1_000_000 { limit = 1_000_000 }
            a.trim.limit = limit
        } else {
            a.trim.limit = 0
        }
        return a
    }

    /// A range bound: an ID, `-`, `+`, or `(id` for an exclusive one (strict: no `(-`, `(+`).
    static func intervalID(_ arg: Bytes, missingSeq: UInt64) throws -> (StreamID, Bool) {
        if arg.count > 1 && arg[0] == UInt8(ascii: "(") {
            guard let r = StreamID.parse(Array(arg[1...]), missingSeq: missingSeq, strict: true) else { throw StreamID.invalidError }
            return (r.id, true)
        }
        guard let r = StreamID.parse(arg, missingSeq: missingSeq) else { throw StreamID.invalidError }
        return (r.id, false)
    }
}

/// Parsed XREAD / XREADGROUP arguments.
struct StreamReadArgs {
    /// BLOCK's milliseconds (nil: no BLOCK).
    var block: Int64? = nil
    /// COUNT (0: no limit).
    var count = 0
    /// GROUP name and consumer (XREADGROUP).
    var group: Bytes? = nil
    var consumer: Bytes = []
    /// NOACK.
    var noAck = false
    /// Index of the first key after STREAMS, and the number of streams.
    var streamsAt = 0
    var streams = 0

    /// Redis's default COUNT for a client served after blocking (XREAD_BLOCKED_DEFAULT_COUNT).
    static let blockedDefaultCount = 1000

    /// Parses the options up to STREAMS, in Redis's order of checks.
    static func parse(_ c: Client, group xreadgroup: Bool) throws -> StreamReadArgs {
        var a = StreamReadArgs()
        var i = 1
        while i < c.argc {
            let more = c.argc - i - 1
            let opt = c.arg(i)
            if opt.isOption("BLOCK") && more > 0 {
                // Redis refuses BLOCK from scripts outright (there is no sense waiting in Lua).
                if c.flags.contains(.script) {
                    throw CommandError("ERR \(c.arg(0).text) command is not allowed with BLOCK option from scripts")
                }
                i += 1
                guard let t = NumberFormat.parseInt(c.arg(i)) else { throw CommandError("ERR timeout is not an integer or out of range") }
                if t < 0 { throw CommandError("ERR timeout is negative") }
                a.block = t
            } else if opt.isOption("COUNT") && more > 0 {
                i += 1
                guard let n = NumberFormat.parseInt(c.arg(i)) else { throw CommandError.notInteger }
                a.count = n < 0 ? 0 : Int(n)
            } else if opt.isOption("STREAMS") && more > 0 {
                a.streamsAt = i + 1
                let n = c.argc - a.streamsAt
                if n % 2 != 0 {
                    throw CommandError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
                }
                a.streams = n / 2
                break
            } else if opt.isOption("GROUP") && more >= 2 {
                if !xreadgroup { throw CommandError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.") }
                a.group = c.arg(i + 1)
                a.consumer = c.arg(i + 2)
                i += 2
            } else if opt.isOption("NOACK") {
                if !xreadgroup { throw CommandError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.") }
                a.noAck = true
            } else {
                throw CommandError.syntax
            }
            i += 1
        }
        if a.streamsAt == 0 { throw CommandError.syntax }
        if xreadgroup && a.group == nil { throw CommandError("ERR Missing GROUP option for XREADGROUP") }
        return a
    }
}

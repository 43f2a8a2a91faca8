// SLOWLOG, as Redis's slowlog.c: commands whose handler took at least slowlog-log-slower-than
// microseconds are kept, newest first, up to slowlog-max-len entries. Arguments are trimmed as
// Redis trims them (32 arguments, 128 bytes each) and secrets appear as "(redacted)".
import Shared

/// One slow log entry.
struct SlowLogEntry {
    let id: Int
    /// Unix time, seconds.
    let time: Int64
    /// µs.
    let duration: Int64
    let argv: [Bytes]
    let peer: String
    let clientName: Bytes
}

/// The slow log: entries newest first.
struct SlowLog {
    static let maxArgs = 32
    static let maxArgBytes = 128

    private(set) var entries: [SlowLogEntry] = []
    private var nextID = 0

    /// Adds an entry when `duration` reaches the threshold (a negative threshold or a zero
    /// length disables the log), then trims to `maxLen`.
    mutating func push(_ argv: [Bytes], duration: Int64, peer: String, name: Bytes, threshold: Int, maxLen: Int, now: Int64) {
        guard threshold >= 0, maxLen > 0, duration >= Int64(threshold) else { return }
        entries.insert(SlowLogEntry(id: nextID, time: now, duration: duration, argv: SlowLog.trimmed(argv),
                                    peer: peer, clientName: name), at: 0)
        nextID += 1
        if entries.count > maxLen { entries.removeLast(entries.count - maxLen) }
    }

    mutating func reset() { entries = [] }

    /// Redis's slowlogCreateEntry trimming: at most 32 arguments, the last one saying how many
    /// more there were; arguments over 128 bytes cut, saying how many bytes more.
    static func trimmed(_ argv: [Bytes]) -> [Bytes] {
        let n = min(argv.count, maxArgs)
        var out: [Bytes] = []
        out.reserveCapacity(n)
        for j in 0..<n {
            if n != argv.count && j == n - 1 {
                out.append(Bytes("... (\(argv.count - n + 1) more arguments)".utf8))
            } else if argv[j].count > maxArgBytes {
                out.append(Array(argv[j][0..<maxArgBytes]) + Bytes("... (\(argv[j].count - maxArgBytes) more bytes)".utf8))
            } else {
                out.append(argv[j])
            }
        }
        return out
    }
}

extension Server {
    /// Logs the current command of `c` if it was slow enough.
    func slowlogPush(_ c: Client, _ usec: Int64) {
        guard config.slowlogLogSlowerThan >= 0, usec >= Int64(config.slowlogLogSlowerThan) else { return }
        slowlog.push(c.redactedArgv ?? c.argv, duration: usec, peer: c.addr, name: c.name,
                     threshold: config.slowlogLogSlowerThan, maxLen: config.slowlogMaxLen, now: clock.wallSeconds())
    }

    /// SLOWLOG GET [count] | LEN | RESET | HELP
    func slowlogCommand(_ c: Client) throws {
        switch c.option(1) {
        case "GET":
            guard c.argc <= 3 else { throw CommandError.wrongArity("slowlog|get") }
            var count = 10
            if c.argc == 3 {
                guard let n = NumberFormat.parseInt(c.arg(2)), n >= -1 else {
                    throw CommandError("ERR count should be greater than or equal to -1")
                }
                count = n == -1 ? Int.max : Int(n)
            }
            let list = slowlog.entries.prefix(count)
            c.out.arrayHeader(list.count)
            for e in list {
                c.out.arrayHeader(6)
                c.out.integer(e.id)
                c.out.integer(e.time)
                c.out.integer(e.duration)
                c.out.bulks(e.argv)
                c.out.bulk(e.peer)
                c.out.bulk(e.clientName)
            }
        case "LEN":
            guard c.argc == 2 else { throw CommandError.wrongArity("slowlog|len") }
            c.out.integer(slowlog.entries.count)
        case "RESET":
            guard c.argc == 2 else { throw CommandError.wrongArity("slowlog|reset") }
            slowlog.reset()
            c.out.ok()
        case "HELP":
            guard c.argc == 2 else { throw CommandError.wrongArity("slowlog|help") }
            replyHelp(c, "SLOWLOG", ["GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                                     "    Entries are made of:", "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                                     "    client name", "LEN", "    Return the length of the slowlog.", "RESET", "    Reset the slowlog."])
        default: throw CommandError.unknownSubcommand(c.arg(1), "SLOWLOG")
        }
    }
}

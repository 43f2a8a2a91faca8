// Per-command statistics (INFO commandstats / latencystats, LATENCY HISTOGRAM), error statistics
// (INFO errorstats) and what `call()` hands over after each command: the counters, the latency
// sample, the slow log entry. Redis's call() / updateStatsOnUnblock / afterErrorReply, in small.
import Shared

/// The counters of one command or subcommand (Redis's redisCommand stats fields).
final class CommandStat {
    /// `name` or `parent|sub`, as INFO and LATENCY HISTOGRAM show it.
    let fullName: String
    var calls = 0
    var usec: Int64 = 0
    var rejectedCalls = 0
    var failedCalls = 0
    /// Made on the first sample, as Redis allocates its histogram lazily.
    var histogram: LatencyHistogram? = nil

    init(_ fullName: String) { self.fullName = fullName }

    /// CONFIG RESETSTAT.
    func reset() {
        calls = 0; usec = 0; rejectedCalls = 0; failedCalls = 0; histogram = nil
    }

    /// Whether INFO commandstats lists it.
    var isUsed: Bool { calls > 0 || failedCalls > 0 || rejectedCalls > 0 }
}

extension CommandSpec {
    /// The counters a command line is accounted to: its subcommand's when it has one.
    @inline(__always) func stat(for argv: [Bytes]) -> CommandStat {
        if subStats.isEmpty || argv.count < 2 { return stat }
        return subStats[String(decoding: argv[1], as: UTF8.self).lowercased()] ?? stat
    }

    /// The command's counters and its subcommands'.
    var allStats: [CommandStat] {
        [stat] + subcommands.compactMap { subStats[$0] }
    }
}

extension Server {
    /// After a command ran in `call` (`usec` is how long its handler took): failed calls,
    /// calls and time, the latency histogram, the latency monitor and the slow log. A client
    /// that blocked is accounted for the rest when it is served or times out
    /// (`statsOnUnblock`), as Redis's updateStatsOnUnblock.
    func afterCall(_ c: Client, _ cmd: borrowing CommandSpec, _ flags: CallFlags, usec: Int64) {
        let stat = cmd.stat(for: c.argv)
        if stats.totalErrorReplies > errorMark { stat.failedCalls += 1 }
        errorMark = stats.totalErrorReplies
        let blocked = c.flags.contains(.blocked)
        if flags.contains(.stats) {
            c.lastDuration = usec
            stat.calls += 1
            stat.usec += usec
            if !blocked && config.latencyTracking { recordLatency(stat, usec) }
        }
        if flags.contains(.slowlog) {
            // Checked here so the clock is read only for a sample (once per command cost 2% of
            // a pipelined SET's instructions).
            let threshold = config.latencyMonitorThreshold
            if threshold > 0 && usec / 1000 >= Int64(threshold) {
                latency.addSample(cmd.flags.contains(.fast) ? "fast-command" : "command", usec / 1000,
                                  now: clock.wallSeconds())
            }
            if !blocked && !cmd.flags.contains(.skipSlowlog) { slowlogPush(c, usec) }
        }
        if blocked { return }
        c.redactedArgv = nil
    }

    /// A blocked command finished (served after a key changed, or timed out): its time is the
    /// first run's plus the serving run's (a failure of the serving run was counted by its call).
    func statsOnUnblock(_ c: Client, _ cmd: CommandSpec, replyUsec: Int64) {
        let stat = cmd.stat(for: c.argv)
        let total = c.lastDuration + replyUsec
        stat.usec += replyUsec
        if config.latencyTracking { recordLatency(stat, total) }
        slowlogPush(c, total)
        latency.addSampleIfNeeded("command-unblocking", replyUsec / 1000,
                                  threshold: config.latencyMonitorThreshold, now: clock.wallSeconds())
        c.redactedArgv = nil
    }

    @inline(__always) private func recordLatency(_ stat: CommandStat, _ usec: Int64) {
        if stat.histogram == nil { stat.histogram = LatencyHistogram() }
        stat.histogram?.record(usec * 1000)
    }

    /// A command refused before it ran (arity, ACL, OOM, MISCONF...): Redis's rejected_calls.
    func countRejected(_ c: Client, _ ref: CommandRef) {
        ref.spec.stat(for: c.argv).rejectedCalls += 1
        errorMark = stats.totalErrorReplies
    }

    /// Counts an error reply in total_error_replies and errorstats, by the error's first word
    /// (searched within Redis's 32 bytes, `ERR` when there is none).
    func countErrorReply(_ c: Client, _ message: String) {
        stats.totalErrorReplies += 1
        var prefix = "ERR"
        let head = message.utf8.prefix(31)
        if let space = head.firstIndex(of: 0x20) {
            prefix = String(decoding: message.utf8[..<space], as: UTF8.self)
        }
        errorCounts[prefix, default: 0] += 1
        if !c.flags.isDisjoint(with: [.master, .replica, .aofLoader]) {
            stats.unexpectedErrorReplies += 1
            log.warning("== CRITICAL == This \(c.flags.contains(.replica) ? "master" : c.flags.contains(.master) ? "replica" : "server") is sending an error to its \(c.flags.contains(.replica) ? "replica" : c.flags.contains(.master) ? "master" : "AOF-loading-client"): '\(message)' after processing the command '\(c.lastCommand)'")
        }
    }

    /// Every command's and subcommand's counters, sorted by name.
    var allCommandStats: [CommandStat] {
        commandTable.values.sorted { $0.name < $1.name }.flatMap { $0.allStats }
    }

    /// `# Commandstats` lines.
    func infoCommandStats() -> [String] {
        allCommandStats.filter(\.isUsed).map { s in
            let perCall = s.calls == 0 ? 0 : Double(s.usec) / Double(s.calls)
            return "cmdstat_\(Server.infoSafe(s.fullName)):calls=\(s.calls),usec=\(s.usec),usec_per_call=\(NumberFormat.printf("%.2f", perCall)),rejected_calls=\(s.rejectedCalls),failed_calls=\(s.failedCalls)"
        }
    }

    /// `# Errorstats` lines.
    func infoErrorStats() -> [String] {
        errorCounts.sorted { $0.key < $1.key }.map { "errorstat_\(Server.infoSafe($0.key)):count=\($0.value)" }
    }

    /// `# Latencystats` lines, with the percentiles of latency-tracking-info-percentiles.
    func infoLatencyStats() -> [String] {
        allCommandStats.compactMap { s in
            guard let h = s.histogram else { return nil }
            let parts = config.latencyPercentiles.map { p in
                "p\(Server.trimmedDouble(p))=\(NumberFormat.printf("%.3f", Double(h.value(atPercentile: p)) / 1000))"
            }
            return "latency_percentiles_usec_\(Server.infoSafe(s.fullName)):" + parts.joined(separator: ",")
        }
    }

    /// CONFIG RESETSTAT's share: command, error and latency counters.
    func resetCommandStats() {
        for s in allCommandStats { s.reset() }
        errorCounts = [:]
        errorMark = 0
    }

    /// INFO replaces `#`, `:` and line breaks in names it prints (getSafeInfoString).
    static func infoSafe(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x23 || $0 == 0x3A || $0 == 0x0A || $0 == 0x0D }) else { return s }
        return String(s.map { "#:\n\r".contains($0) ? "_" : $0 })
    }

    /// `%f` with the trailing zeros (and a bare dot) trimmed, as Redis's trimDoubleString.
    static func trimmedDouble(_ d: Double) -> String {
        var s = NumberFormat.printf("%f", d)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
}

extension Server {
    /// A fork for BGSAVE or an AOF rewrite took `usec`: total_forks, latest_fork_usec and the
    /// latency monitor's "fork" event.
    func forked(usec: Int64) {
        stats.totalForks += 1
        stats.latestForkUsec = usec
        latency.addSampleIfNeeded("fork", usec / 1000, threshold: config.latencyMonitorThreshold, now: clock.wallSeconds())
    }

    /// The expire cycle ran for `usec` (expire_cycle_cpu_milliseconds, "expire-cycle" event).
    func expireCycleRan(usec: Int64) {
        stats.expireCycleMicros += usec
        latency.addSampleIfNeeded("expire-cycle", usec / 1000, threshold: config.latencyMonitorThreshold, now: clock.wallSeconds())
    }
}

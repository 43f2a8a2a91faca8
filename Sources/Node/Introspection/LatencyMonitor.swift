// LATENCY, as Redis's latency.c: events (command, fast-command, expire-cycle, fork, aof-*...)
// that took at least latency-monitor-threshold milliseconds are sampled, one sample per event
// and second (the worst), 160 per event; LATEST, HISTORY, RESET, GRAPH, DOCTOR and HISTOGRAM
// (the per-command histograms of CommandStats) report them with Redis's shapes and texts.
import Shared

/// The sampled latency events.
struct LatencyMonitor {
    static let seriesLength = 160
    static let graphColumns = 80

    /// One event's ring of samples.
    struct Series {
        var samples: [(time: Int64, latency: Int64)] = Array(repeating: (0, 0), count: LatencyMonitor.seriesLength)
        var idx = 0
        /// All-time worst, ms.
        var max: Int64 = 0

        /// Samples oldest first.
        var ordered: [(time: Int64, latency: Int64)] {
            (0..<LatencyMonitor.seriesLength).map { samples[(idx + $0) % LatencyMonitor.seriesLength] }.filter { $0.time != 0 }
        }
        var last: (time: Int64, latency: Int64) { samples[(idx + LatencyMonitor.seriesLength - 1) % LatencyMonitor.seriesLength] }
    }

    /// Event names in the order first seen, and their series.
    private(set) var names: [String] = []
    private(set) var series: [String: Series] = [:]

    /// latencyAddSampleIfNeeded: only with a threshold set and when reached.
    @inline(__always)
    mutating func addSampleIfNeeded(_ event: String, _ ms: Int64, threshold: Int, now: Int64) {
        if threshold > 0 && ms >= Int64(threshold) { addSample(event, ms, now: now) }
    }

    /// Adds a sample; a second sample in the same second keeps only the worse of the two.
    mutating func addSample(_ event: String, _ ms: Int64, now: Int64) {
        if series[event] == nil { names.append(event); series[event] = Series() }
        var s = series[event]!
        if ms > s.max { s.max = ms }
        let prev = (s.idx + LatencyMonitor.seriesLength - 1) % LatencyMonitor.seriesLength
        if s.samples[prev].time == now {
            if ms > s.samples[prev].latency { s.samples[prev].latency = ms }
        } else {
            s.samples[s.idx] = (now, ms)
            s.idx = (s.idx + 1) % LatencyMonitor.seriesLength
        }
        series[event] = s
    }

    /// Forgets one event (or all with nil); returns how many were reset.
    mutating func reset(_ event: String?) -> Int {
        guard let event else {
            let n = names.count
            names = []; series = [:]
            return n
        }
        guard series.removeValue(forKey: event) != nil else { return 0 }
        names.removeAll { $0 == event }
        return 1
    }

    /// LATENCY GRAPH's ASCII art: a header, a rule, and a 4-row sparkline with age labels.
    func graph(_ event: String, now: Int64) -> String? {
        guard let s = series[event] else { return nil }
        let samples = s.ordered
        var lo = samples.first?.latency ?? 0, hi = lo
        var labels: [String] = []
        for x in samples {
            hi = Swift.max(hi, x.latency); lo = Swift.min(lo, x.latency)
            let e = now - x.time
            labels.append(e < 60 ? "\(e)s" : e < 3600 ? "\(e / 60)m" : e < 86400 ? "\(e / 3600)h" : "\(e / 86400)d")
        }
        var out = "\(event) - high \(hi) ms, low \(lo) ms (all time high \(s.max) ms)\n"
        out += String(repeating: "-", count: LatencyMonitor.graphColumns) + "\n"
        out += Sparkline.render(samples.map { Double($0.latency) }, labels: labels, columns: LatencyMonitor.graphColumns, rows: 4)
        return out
    }

    /// Redis's analyzeLatencyForEvent: samples, average, mean deviation, seconds covered.
    func analyze(_ event: String, now: Int64) -> (samples: Int, avg: Int64, mad: Int64, period: Int64) {
        guard let s = series[event] else { return (0, 0, 0, 0) }
        let xs = s.samples.filter { $0.time != 0 }
        guard !xs.isEmpty else { return (0, 0, 0, 0) }
        let avg = xs.reduce(Int64(0)) { $0 + $1.latency } / Int64(xs.count)
        let mad = xs.reduce(Int64(0)) { $0 + abs(avg - $1.latency) } / Int64(xs.count)
        var period = now - (xs.map(\.time).min() ?? now)
        if period == 0 { period = 1 }
        return (xs.count, avg, mad, period)
    }
}

/// Redis's sparkline.c renderer with the fill charset, as LATENCY GRAPH draws it.
enum Sparkline {
    static func render(_ values: [Double], labels: [String], columns: Int, rows: Int) -> String {
        guard let lo = values.min(), let hi = values.max() else { return "" }
        var out = ""
        var j = 0
        while j < values.count {
            let len = min(columns, values.count - j)
            if j != 0 { out += "\n" }
            out += renderRange(values, labels, lo: lo, hi: hi, rows: rows, offset: j, len: len)
            j += columns
        }
        return out
    }

    private static func renderRange(_ values: [Double], _ labels: [String], lo: Double, hi: Double,
                                    rows: Int, offset: Int, len: Int) -> String {
        let fill: [Character] = ["_", "o", "#"]
        let steps = fill.count * rows
        var relmax = hi - lo
        if relmax == 0 { relmax = 1 }
        let hasLabels = labels.contains { !$0.isEmpty }
        var out = ""
        var row = 0
        var loop = true
        while loop {
            loop = false
            var chars = [Character](repeating: " ", count: len)
            for j in 0..<len {
                let v = values[j + offset] - lo
                var step = Int(v * Double(steps) / relmax)
                step = max(0, min(steps - 1, step))
                if row < rows {
                    let idx = step - (rows - row - 1) * fill.count
                    loop = true
                    if idx >= 0 && idx < fill.count { chars[j] = fill[idx] } else if idx >= fill.count { chars[j] = "|" }
                } else {
                    if hasLabels && row - rows < 1 { loop = true; break }
                    let label = Array(labels[j + offset])
                    let k = row - rows - 1
                    if label.count > k { loop = true; chars[j] = label[k] }
                }
            }
            if loop {
                row += 1
                out += String(chars) + "\n"
            }
        }
        return out
    }
}

extension Server {
    /// LATENCY LATEST | HISTORY e | RESET [e...] | GRAPH e | DOCTOR | HISTOGRAM [cmd...] | HELP
    func latencyCommand(_ c: Client) throws {
        let sub = c.option(1)
        switch (sub, c.argc) {
        case ("HISTORY", 3):
            let samples = latency.series[c.arg(2).text]?.ordered ?? []
            c.out.arrayHeader(samples.count)
            for s in samples { c.out.arrayHeader(2); c.out.integer(s.time); c.out.integer(s.latency) }
        case ("GRAPH", 3):
            guard let g = latency.graph(c.arg(2).text, now: clock.wallSeconds()) else {
                throw CommandError("ERR No samples available for event '\(c.arg(2).text)'")
            }
            c.out.verbatim(g)
        case ("LATEST", 2):
            c.out.arrayHeader(latency.names.count)
            for name in latency.names {
                guard let s = latency.series[name] else { continue }
                c.out.arrayHeader(4)
                c.out.bulk(name)
                c.out.integer(s.last.time)
                c.out.integer(s.last.latency)
                c.out.integer(s.max)
            }
        case ("DOCTOR", 2):
            c.out.verbatim(latencyReport())
        case ("RESET", _):
            if c.argc == 2 { c.out.integer(latency.reset(nil)); return }
            var n = 0
            for i in 2..<c.argc { n += latency.reset(c.arg(i).text) }
            c.out.integer(n)
        case ("HISTOGRAM", _):
            var picked: [CommandStat] = []
            if c.argc == 2 {
                picked = allCommandStats
            } else {
                for i in 2..<c.argc {
                    let name = c.arg(i).text.lowercased()
                    let parts = name.split(separator: "|", maxSplits: 1).map(String.init)
                    guard let first = parts.first, let spec = commandTable[first] else { continue }
                    if parts.count == 2 {
                        if let s = spec.subStats[parts[1]] { picked.append(s) }
                    } else {
                        picked += spec.allStats
                    }
                }
            }
            let withData = picked.filter { $0.histogram != nil }
            c.out.mapHeader(withData.count)
            for s in withData {
                guard let h = s.histogram else { continue }
                c.out.bulk(s.fullName)
                c.out.mapHeader(2)
                c.out.bulk("calls"); c.out.integer(h.totalCount)
                c.out.bulk("histogram_usec")
                let buckets = h.cumulativeBuckets()
                c.out.mapHeader(buckets.count)
                for b in buckets { c.out.integer(b.usec); c.out.integer(b.count) }
            }
        case ("HELP", 2):
            replyHelp(c, "LATENCY", [
                "DOCTOR", "    Return a human readable latency analysis report.",
                "GRAPH <event>", "    Return an ASCII latency graph for the <event> class.",
                "HISTORY <event>", "    Return time-latency samples for the <event> class.",
                "LATEST", "    Return the latest latency samples for all events.",
                "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)",
                "HISTOGRAM [COMMAND ...]",
                "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
                "    If no commands are specified then all histograms are replied.",
            ])
        case ("HELP", _), ("LATEST", _), ("DOCTOR", _), ("HISTORY", _), ("GRAPH", _):
            throw CommandError.wrongArity("latency|" + sub.lowercased())
        default:
            throw CommandError.unknownSubcommand(c.arg(1), "LATENCY")
        }
    }

    /// LATENCY DOCTOR's report, in Redis's words, for the events we sample.
    func latencyReport() -> String {
        if latency.names.isEmpty && config.latencyMonitorThreshold == 0 {
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
        }
        guard !latency.names.isEmpty else {
            return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n"
        }
        let now = clock.wallSeconds()
        var out = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n"
        var advice: [String] = []
        for (n, event) in latency.names.enumerated() {
            let a = latency.analyze(event, now: now)
            let worst = latency.series[event]?.max ?? 0
            out += "\(n + 1). \(event): \(a.samples) latency spikes (average \(a.avg)ms, mean deviation \(a.mad)ms, period \(NumberFormat.printf("%.2f", Double(a.period) / Double(max(1, a.samples)))) sec). Worst all time event \(worst)ms."
            if event == "command" || event == "fast-command" {
                if config.slowlogLogSlowerThan < 0 {
                    advice.append("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than \(config.latencyMonitorThreshold * 1000)'. If the Slow log is disabled Redis is not able to log slow commands execution for you.")
                } else if config.slowlogLogSlowerThan / 1000 > config.latencyMonitorThreshold {
                    advice.append("- You should try to set a lower threshold for the slow log, using 'CONFIG SET slowlog-log-slower-than \(config.latencyMonitorThreshold * 1000)'.")
                }
                if event == "command" {
                    advice.append("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.")
                    advice.append("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.")
                }
            }
            if event.hasPrefix("aof-") {
                advice.append("- The AOF is being written or fsynced slowly: check the disk's load, or consider 'appendfsync everysec' and 'no-appendfsync-on-rewrite yes'.")
            }
            out += "\n"
        }
        out += "\n"
        var seen: Set<String> = []
        let unique = advice.filter { seen.insert($0).inserted }
        if unique.isEmpty {
            out += "While there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n"
        } else {
            out += "I have a few advices for you:\n\n" + unique.joined(separator: "\n") + "\n"
        }
        return out
    }
}

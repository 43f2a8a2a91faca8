// INFO's instantaneous_* figures, as Redis's trackInstantaneousMetric: every 100 ms the growth
// of a counter per second is sampled; the figure is the mean of the last 16 samples.
import Shared

/// Rolling per-second rates of a few counters.
struct InstantaneousMetrics {
    static let samples = 16
    /// Which counters: commands, net input, net output, repl input, repl output.
    static let count = 5

    private var last: [(time: Int64, value: Int)] = Array(repeating: (0, 0), count: InstantaneousMetrics.count)
    private var ring: [[Double]] = Array(repeating: Array(repeating: 0, count: InstantaneousMetrics.samples), count: InstantaneousMetrics.count)
    private var idx: [Int] = Array(repeating: 0, count: InstantaneousMetrics.count)
    /// When the last sampling ran (ms).
    var lastRun: Int64 = 0

    /// Records counter `metric`'s current value at `now` (ms).
    mutating func track(_ metric: Int, _ value: Int, now: Int64) {
        let prev = last[metric]
        if prev.time > 0 {
            let dt = now - prev.time
            let rate = dt > 0 ? Double(value - prev.value) * 1000 / Double(dt) : 0
            ring[metric][idx[metric]] = rate
            idx[metric] = (idx[metric] + 1) % InstantaneousMetrics.samples
        }
        last[metric] = (now, value)
    }

    /// The mean of the samples of `metric`, per second.
    func rate(_ metric: Int) -> Double {
        ring[metric].reduce(0, +) / Double(InstantaneousMetrics.samples)
    }
}

extension Server {
    /// Cron: samples the rates every 100 ms (the cron runs at hz, 10 by default).
    func sampleInstantaneousMetrics(now: Int64) {
        guard now - instantaneous.lastRun >= 100 else { return }
        instantaneous.lastRun = now
        instantaneous.track(0, stats.totalCommands, now: now)
        instantaneous.track(1, stats.netInputBytes, now: now)
        instantaneous.track(2, stats.netOutputBytes, now: now)
        instantaneous.track(3, stats.netReplInputBytes, now: now)
        instantaneous.track(4, stats.netReplOutputBytes, now: now)
    }

    /// instantaneous_ops_per_sec.
    var instantaneousOps: Int { Int(instantaneous.rate(0)) }

    /// An instantaneous rate in KB/s, `%.2f`.
    func instantaneousKbps(_ metric: Int) -> String { NumberFormat.printf("%.2f", instantaneous.rate(metric) / 1024) }
}

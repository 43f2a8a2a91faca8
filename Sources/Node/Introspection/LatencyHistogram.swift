// A high-dynamic-range histogram with the geometry Redis 7.0 gives its per-command latency
// histograms (hdr_histogram: 1 ns .. 1 s, 2 significant figures), so the percentiles of INFO
// latencystats and the buckets of LATENCY HISTOGRAM come out as Redis's do for the same samples.
// Values are nanoseconds. Buckets double in width; each holds 128 sub-buckets (256 in the first),
// so a value is kept with a relative error below 1%.

/// Counts of recorded values, HDR style.
struct LatencyHistogram {
    /// Lowest and highest trackable values (Redis's LATENCY_HISTOGRAM_MIN/MAX_VALUE), in ns.
    static let lowest: Int64 = 1
    static let highest: Int64 = 1_000_000_000
    /// 2 significant figures: 2 * 10^2 rounded up to a power of two.
    static let subBucketCount = 256
    static let subBucketHalfCount = 128
    static let subBucketHalfCountMagnitude = 7
    static let subBucketMask: Int64 = 255
    /// Buckets needed to reach `highest` (256 << 22 > 1e9).
    static let bucketCount = 23
    static let countsLength = (bucketCount + 1) * subBucketHalfCount

    private(set) var counts: [Int64] = Array(repeating: 0, count: LatencyHistogram.countsLength)
    private(set) var totalCount: Int64 = 0

    /// Records one value, clamped to the trackable range as Redis does.
    mutating func record(_ value: Int64) {
        let v = min(max(value, Self.lowest), Self.highest)
        counts[Self.index(of: v)] += 1
        totalCount += 1
    }

    static func bucketIndex(_ v: Int64) -> Int {
        let pow2ceiling = 64 - (v | subBucketMask).leadingZeroBitCount
        return pow2ceiling - (subBucketHalfCountMagnitude + 1)
    }

    static func index(of v: Int64) -> Int {
        let b = bucketIndex(v)
        let sub = Int(v >> Int64(b))
        return ((b + 1) << subBucketHalfCountMagnitude) + (sub - subBucketHalfCount)
    }

    static func value(at index: Int) -> Int64 {
        var b = (index >> subBucketHalfCountMagnitude) - 1
        var sub = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if b < 0 { sub -= subBucketHalfCount; b = 0 }
        return Int64(sub) << Int64(b)
    }

    static func lowestEquivalent(_ v: Int64) -> Int64 {
        let b = bucketIndex(v)
        return (v >> Int64(b)) << Int64(b)
    }

    static func highestEquivalent(_ v: Int64) -> Int64 {
        let b = bucketIndex(v)
        return lowestEquivalent(v) + (Int64(1) << Int64(b)) - 1
    }

    /// hdr_value_at_percentile: the highest value equivalent to the one at `percentile`.
    func value(atPercentile percentile: Double) -> Int64 {
        let p = min(percentile, 100)
        let target = max(Int64((p / 100) * Double(totalCount) + 0.5), 1)
        var seen: Int64 = 0
        var found: Int64 = 0
        for i in 0..<counts.count {
            seen += counts[i]
            if seen >= target { found = Self.value(at: i); break }
        }
        return percentile == 0 ? Self.lowestEquivalent(found) : Self.highestEquivalent(found)
    }

    /// LATENCY HISTOGRAM's buckets: powers of two from 1024 ns, each as (highest equivalent
    /// value in µs, cumulative count), only where the cumulative count grew (Redis walks
    /// hdr's log iterator the same way).
    func cumulativeBuckets() -> [(usec: Int64, count: Int64)] {
        var out: [(Int64, Int64)] = []
        var level: Int64 = 1024
        var i = 0
        var cumulative: Int64 = 0
        var previous: Int64 = 0
        while previous < totalCount && level <= Self.highest * 2 {
            let last = Self.index(of: min(level, Self.highest))
            while i <= last && i < counts.count { cumulative += counts[i]; i += 1 }
            if cumulative > previous {
                out.append((Self.highestEquivalent(min(level, Self.highest)) / 1000, cumulative))
                previous = cumulative
            }
            level *= 2
        }
        return out
    }
}

// Directives of the introspection features: the slow log, the latency monitor and per-command
// latency tracking, the ACL log's length. Defaults and ranges are Redis 7.0.15's.
import Shared

extension ConfigTable {
    /// Slow log, latency monitor, latency tracking, ACL log.
    static var introspection: [ConfigSpec] {
        [
            int("slowlog-log-slower-than", \.slowlogLogSlowerThan, -1, Int.max),
            int("slowlog-max-len", \.slowlogMaxLen, 0, Int.max),
            int("latency-monitor-threshold", \.latencyMonitorThreshold, 0, Int.max),
            bool("latency-tracking", \.latencyTracking),
            row("latency-tracking-info-percentiles", [], .special, .mutable, get: { c in
                c.latencyPercentiles.map(Server.trimmedDouble).joined(separator: " ")
            }, set: { c, v throws(ConfigValueError) in
                // `""` means no percentiles at all.
                var list: [Double] = []
                for w in v.split(separator: " ") {
                    guard let d = NumberFormat.parseDouble(Bytes(w.utf8)) else {
                        throw ConfigValueError("Invalid latency-tracking-info-percentiles parameters")
                    }
                    guard d >= 0 && d <= 100 else {
                        throw ConfigValueError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
                    }
                    list.append(d)
                }
                c.latencyPercentiles = list
            }),
            int("acllog-max-len", \.acllogMaxLen, 0, Int.max),
        ]
    }
}

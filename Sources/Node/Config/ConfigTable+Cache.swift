// The directives of vigil-node as a cache: eviction (maxmemory-samples, -eviction-tenacity, the
// LFU parameters, replica-ignore-maxmemory), keyspace notifications and client-side caching.
// `maxmemory` and `maxmemory-policy` are with the general directives. Ranges are Redis 7.0.15's.
import Shared

extension ConfigTable {
    /// Eviction, notification and tracking directives (all implemented).
    static var cache: [ConfigSpec] {
        [
            int("maxmemory-samples", \.maxmemorySamples, 1, intMax),
            int("maxmemory-eviction-tenacity", \.maxmemoryEvictionTenacity, 0, 100),
            int("lfu-log-factor", \.lfuLogFactor, 0, intMax),
            int("lfu-decay-time", \.lfuDecayTime, 0, intMax),
            bool("replica-ignore-maxmemory", \.replicaIgnoreMaxmemory, aliases: ["slave-ignore-maxmemory"]),
            int("tracking-table-max-keys", \.trackingTableMaxKeys, 0, Int.max),
            row("notify-keyspace-events", [], .string, .mutable, get: { $0.notifyKeyspaceEvents.letters },
                set: { c, v throws(ConfigValueError) in
                    guard let flags = KeyspaceEvents(letters: v) else { throw ConfigValueError(KeyspaceEvents.invalidMessage) }
                    c.notifyKeyspaceEvents = flags
                }),
        ]
    }
}

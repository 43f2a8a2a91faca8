// Memory as vigil-node reports it: INFO's memory section and the MEMORY command (USAGE, STATS,
// DOCTOR, MALLOC-STATS, PURGE), with Redis 7.0's field names. used_memory is the allocation
// counter of CAlloc (every malloc's usable size, as Redis's zmalloc counts), so it includes the
// Swift runtime, client buffers and the keyspace; RSS comes from /proc. MEMORY USAGE estimates a
// key from its contents (sampling big aggregates, as Redis does), in the allocator's size classes.
import CSystem
import Shared

/// Memory figures kept across calls: the peak and the start-up baseline.
struct MemoryBook {
    /// Highest used_memory seen (refreshed by the cron and by every report).
    var peak = 0
    /// used_memory right after start-up (Redis's used_memory_startup).
    var startup = 0

    /// Records `used` as a candidate peak and returns the peak.
    mutating func note(_ used: Int) -> Int {
        if used > peak { peak = used }
        return peak
    }
}

extension Server {
    /// Bytes the allocator hands out for a request of `n` (glibc: 16-byte granules, 8 of header,
    /// at least 32), so estimates land on what malloc_usable_size would say.
    static func allocSize(_ n: Int) -> Int {
        n <= 24 ? 32 : ((n + 8 + 15) & ~15)
    }

    /// A string's payload (Swift arrays: 32-byte header, elements after it).
    static func bytesSize(_ n: Int) -> Int { n == 0 ? 0 : allocSize(32 + n) }

    /// MEMORY USAGE's estimate for a key and its value: the key, its table entry, the value's
    /// structure and elements; aggregates are sampled (`samples` elements, 0 = all) and
    /// extrapolated, as Redis's objectComputeSize.
    func memoryUsage(key: Key, value: Value, samples: Int) -> Int {
        let entry = MemoryLayout<KeyEntry>.stride + 16  // entry + its index slots at 3/4 load
        let keyBytes = Server.bytesSize(key.count)
        func sampled<S: Sequence>(_ seq: S, count: Int, _ size: (S.Element) -> Int) -> Int {
            guard count > 0 else { return 0 }
            var n = 0, total = 0
            for e in seq {
                total += size(e)
                n += 1
                if samples > 0 && n >= samples { break }
            }
            return n == 0 ? 0 : total * count / n
        }
        let valueBytes: Int
        switch value {
        case .string(let b):
            valueBytes = Server.bytesSize(b.count)
        case .list(let l):
            valueBytes = Server.allocSize(64) + Server.allocSize(32 + l.items.capacity * 8)
                + sampled(l.elements, count: l.count) { Server.bytesSize($0.count) }
        case .hash(let h):
            // Dictionary buckets: key (16) + value (8) per slot at 3/4 load, plus the payloads.
            valueBytes = Server.allocSize(64) + Server.allocSize(32 + h.fields.capacity * 32)
                + sampled(h.fields, count: h.count) { Server.bytesSize($0.key.count) + Server.bytesSize($0.value.count) }
        case .set(let s):
            valueBytes = Server.allocSize(64) + Server.allocSize(32 + s.members.capacity * 22)
                + sampled(s.members, count: s.count) { Server.bytesSize($0.count) }
        case .stream(let st):
            valueBytes = st.memoryEstimate
        case .zset(let z):
            // Score dictionary entry, skip-list node (member, score, levels) and the member bytes.
            valueBytes = Server.allocSize(96) + sampled(z.ordered, count: z.count) {
                Server.bytesSize($0.member.count) * 2 + Server.allocSize(64) + 32
            }
        }
        return entry + keyBytes + valueBytes
    }

    /// used_memory now, with the peak refreshed.
    func usedMemoryNow() -> (used: Int, peak: Int) {
        let used = ProcessMemory.allocated
        return (used, memory.note(used))
    }

    /// Memory that is not dataset: client buffers, replication backlog, AOF buffer, start-up
    /// baseline and the keyspace tables (Redis's used_memory_overhead, as far as we can tell).
    func memoryOverhead() -> (total: Int, replicas: Int, normal: Int, backlog: Int, aof: Int, tables: Int) {
        var replicas = 0, normal = 0
        for c in clients.values {
            let bytes = c.pendingOutput + (c.conn?.input.capacity ?? 0) + 1024
            if c.flags.contains(.replica) { replicas += bytes } else { normal += bytes }
        }
        let backlog = replication.backlog?.capacity ?? 0
        let aofBytes = aof.state != .off ? aof.pendingBytes : 0
        var tables = 0
        for db in databases where db.count > 0 { tables += db.dict.tableBytes + db.expires.capacity * 24 }
        let total = memory.startup + replicas + normal + backlog + aofBytes + tables
        return (total, replicas, normal, backlog, aofBytes, tables)
    }

    /// The `# Memory` lines of INFO.
    func infoMemory() -> [String] {
        let (used, peak) = usedMemoryNow()
        let rss = ProcessMemory.rss()
        let total = ProcessMemory.systemTotal()
        let alloc = ProcessMemory.allocatorInfo()
        let oh = memoryOverhead()
        let dataset = max(0, used - oh.total)
        let netUsed = max(1, used - memory.startup)
        let active = alloc.allocated + alloc.free
        func ratio(_ a: Int, _ b: Int) -> String { NumberFormat.printf("%.2f", b == 0 ? 0 : Double(a) / Double(b)) }
        func pct(_ a: Int, _ b: Int) -> String { NumberFormat.printf("%.2f%%", b == 0 ? 0 : Double(a) * 100 / Double(b)) }
        return [
            "used_memory:\(used)",
            "used_memory_human:\(Server.humanBytes(used))",
            "used_memory_rss:\(rss)",
            "used_memory_rss_human:\(Server.humanBytes(rss))",
            "used_memory_peak:\(peak)",
            "used_memory_peak_human:\(Server.humanBytes(peak))",
            "used_memory_peak_perc:\(pct(used, peak))",
            "used_memory_overhead:\(oh.total)",
            "used_memory_startup:\(memory.startup)",
            "used_memory_dataset:\(dataset)",
            "used_memory_dataset_perc:\(pct(dataset, netUsed))",
            "allocator_allocated:\(alloc.allocated)",
            "allocator_active:\(active)",
            "allocator_resident:\(rss)",
            "total_system_memory:\(total)",
            "total_system_memory_human:\(Server.humanBytes(total))",
            "used_memory_lua:\(scripting.evalEngineMemory)",
            "used_memory_vm_eval:\(scripting.evalEngineMemory)",
            "used_memory_lua_human:\(Server.humanBytes(scripting.evalEngineMemory))",
            "used_memory_scripts_eval:\(scripting.scriptsMemory)",
            "number_of_cached_scripts:\(scripting.scripts.count)",
            "number_of_functions:\(scripting.functions.functionCount)",
            "number_of_libraries:\(scripting.functions.libraries.count)",
            "used_memory_vm_functions:\(scripting.functionEngineMemory)",
            "used_memory_vm_total:\(scripting.evalEngineMemory + scripting.functionEngineMemory)",
            "used_memory_vm_total_human:\(Server.humanBytes(scripting.evalEngineMemory + scripting.functionEngineMemory))",
            "used_memory_functions:\(scripting.functions.libraries.values.reduce(0) { $0 + $1.code.count })",
            "used_memory_scripts:\(scripting.scriptsMemory)",
            "used_memory_scripts_human:\(Server.humanBytes(scripting.scriptsMemory))",
            "maxmemory:\(config.maxmemory)",
            "maxmemory_human:\(Server.humanBytes(config.maxmemory))",
            "maxmemory_policy:\(config.maxmemoryPolicy)",
            "allocator_frag_ratio:\(ratio(active, alloc.allocated))",
            "allocator_frag_bytes:\(active - alloc.allocated)",
            "allocator_rss_ratio:\(ratio(rss, active))",
            "allocator_rss_bytes:\(rss - active)",
            "rss_overhead_ratio:\(ratio(rss, rss))",
            "rss_overhead_bytes:0",
            "mem_fragmentation_ratio:\(ratio(rss, used))",
            "mem_fragmentation_bytes:\(rss - used)",
            "mem_not_counted_for_evict:\(memoryNotCountedForEviction())",
            "mem_replication_backlog:\(oh.backlog)",
            "mem_total_replication_buffers:\(oh.backlog + oh.replicas)",
            "mem_clients_slaves:\(oh.replicas)",
            "mem_clients_normal:\(oh.normal)",
            "mem_cluster_links:0",
            "mem_aof_buffer:\(oh.aof)",
            "mem_allocator:libc",
            "active_defrag_running:0",
            "lazyfree_pending_objects:\(LazyFree.pendingObjects)",
            "lazyfreed_objects:\(LazyFree.freedObjects)",
        ]
    }

    /// The MEMORY command.
    func memoryCommand(_ c: Client) throws {
        switch c.option(1) {
        case "USAGE":
            guard c.argc == 3 || c.argc == 5 else { throw CommandError.syntax }
            var samples = 5
            if c.argc == 5 {
                guard c.option(3) == "SAMPLES" else { throw CommandError.syntax }
                guard let n = NumberFormat.parseInt(c.arg(4)) else { throw CommandError.notInteger }
                guard n >= 0 else { throw CommandError.syntax }
                samples = n == 0 ? 0 : Int(min(n, Int64(Int.max)))
            }
            let key = c.key(2)
            // A lookup that neither touches the key's age nor counts a hit (LOOKUP_NOTOUCH).
            guard !c.db.isExpired(key, now: clock.wallMillis()), let v = c.db.raw(key) else { c.out.null(); return }
            c.out.integer(memoryUsage(key: key, value: v, samples: samples))
        case "STATS":
            guard c.argc == 2 else { throw CommandError.wrongArity("memory|stats") }
            memoryStats(c)
        case "DOCTOR":
            guard c.argc == 2 else { throw CommandError.wrongArity("memory|doctor") }
            c.out.verbatim(memoryDoctor())
        case "MALLOC-STATS":
            guard c.argc == 2 else { throw CommandError.wrongArity("memory|malloc-stats") }
            let a = ProcessMemory.allocatorInfo()
            c.out.verbatim("glibc malloc (counted by vigil-node's allocation counter)\n"
                + "counted.allocated: \(ProcessMemory.allocated)\n"
                + "allocator.allocated: \(a.allocated)\narena.bytes: \(a.arena)\nmmapped.bytes: \(a.mmapped)\n"
                + "free.bytes: \(a.free)\nrss: \(ProcessMemory.rss())\n")
        case "PURGE":
            guard c.argc == 2 else { throw CommandError.wrongArity("memory|purge") }
            vigil_malloc_trim()
            c.out.ok()
        case "HELP":
            guard c.argc == 2 else { throw CommandError.wrongArity("memory|help") }
            replyHelp(c, "MEMORY", [
                "DOCTOR", "    Return memory problems reports.",
                "MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
                "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
                "STATS", "    Return information about the memory usage of the server.",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value. Nested values are",
                "    sampled up to <count> times (default: 5, 0 means sample all).",
            ])
        default:
            throw CommandError.unknownSubcommand(c.arg(1), "MEMORY")
        }
    }

    /// MEMORY STATS: Redis 7.0's keys, in its order.
    private func memoryStats(_ c: Client) {
        let (used, peak) = usedMemoryNow()
        let oh = memoryOverhead()
        let rss = ProcessMemory.rss()
        let alloc = ProcessMemory.allocatorInfo()
        let active = alloc.allocated + alloc.free
        let keys = databases.reduce(0) { $0 + $1.count }
        let dataset = max(0, used - oh.total)
        let netUsed = max(1, used - memory.startup)
        var dbs: [(Int, Int, Int)] = []
        for db in databases where db.count > 0 {
            dbs.append((db.id, db.dict.tableBytes, db.expires.capacity * 24))
        }
        c.out.mapHeader(27 + dbs.count)
        func int(_ k: String, _ v: Int) { c.out.bulk(k); c.out.integer(v) }
        func dbl(_ k: String, _ v: Double) { c.out.bulk(k); c.out.double(v) }
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        int("peak.allocated", peak)
        int("total.allocated", used)
        int("startup.allocated", memory.startup)
        int("replication.backlog", oh.backlog)
        int("clients.slaves", oh.replicas)
        int("clients.normal", oh.normal)
        int("cluster.links", 0)
        int("aof.buffer", oh.aof)
        int("lua.caches", scripting.scriptsMemory)
        int("functions.caches", 0)
        for (id, main, exp) in dbs {
            c.out.bulk("db.\(id)")
            c.out.mapHeader(2)
            int("overhead.hashtable.main", main)
            int("overhead.hashtable.expires", exp)
        }
        int("overhead.total", oh.total)
        int("keys.count", keys)
        int("keys.bytes-per-key", keys == 0 ? 0 : netUsed / keys)
        int("dataset.bytes", dataset)
        dbl("dataset.percentage", Double(dataset) * 100 / Double(netUsed))
        dbl("peak.percentage", peak == 0 ? 0 : Double(used) * 100 / Double(peak))
        int("allocator.allocated", alloc.allocated)
        int("allocator.active", active)
        int("allocator.resident", rss)
        dbl("allocator-fragmentation.ratio", ratio(active, alloc.allocated))
        int("allocator-fragmentation.bytes", active - alloc.allocated)
        dbl("allocator-rss.ratio", ratio(rss, active))
        int("allocator-rss.bytes", rss - active)
        dbl("rss-overhead.ratio", 1)
        int("rss-overhead.bytes", 0)
        dbl("fragmentation", ratio(rss, used))
        int("fragmentation.bytes", rss - used)
    }

    /// MEMORY DOCTOR's report (Redis's texts for the conditions we can measure).
    func memoryDoctor() -> String {
        let (used, peak) = usedMemoryNow()
        if used < 5 * 1024 * 1024 {
            return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."
        }
        var issues: [String] = []
        if Double(peak) / Double(used) > 1.5 {
            issues.append(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
        }
        let rss = ProcessMemory.rss()
        if Double(rss) / Double(used) > 1.4 && rss - used > 10 * 1024 * 1024 {
            issues.append(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n")
        }
        if issues.isEmpty {
            return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."
        }
        return "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + issues.joined()
            + "I'm here to keep you safe, Sam. I want to help you.\n"
    }
}

// Trimming (streamTrim): whole nodes go from the head while the strategy allows; then, unless
// the trim is approximate (`~`), entries of the first remaining node are flagged deleted one by
// one. LIMIT bounds the work of an approximate trim.
import Shared

/// The trimming half of XADD / XTRIM arguments.
struct StreamTrimArgs {
    /// What to trim by.
    enum Strategy { case none, maxLen, minID }
    var strategy = Strategy.none
    /// Only whole nodes (`~`).
    var approximate = false
    /// Most entries to remove, 0 = no limit.
    var limit: Int64 = 0
    /// MAXLEN's count.
    var maxLen: Int64 = 0
    /// MINID's ID.
    var minID = StreamID.zero
    /// Index in argv of the count/ID, for rewriting an approximate trim as an exact one.
    var argIndex = 0
}

extension StreamValue {
    /// Trims per `a`; returns the number of entries removed.
    func trim(_ a: StreamTrimArgs) -> Int64 {
        guard a.strategy != .none else { return 0 }
        var deleted: Int64 = 0
        while let p = nodes.first {
            if a.strategy == .maxLen && Int64(bitPattern: length) <= a.maxLen { break }
            let lp = nodes.value(p)
            let c = StreamListpack.headerSize
            let entries = lp.integer(c)
            if a.limit != 0 && deleted + entries > a.limit { break }
            let removeNode: Bool
            if a.strategy == .maxLen {
                removeNode = Int64(bitPattern: length) - entries >= a.maxLen
            } else {
                removeNode = (lastEntryID(ofNode: p) ?? .max) < a.minID
            }
            if removeNode {
                nodes.remove(at: p)
                length = UInt64(bitPattern: Int64(bitPattern: length) - entries)
                deleted += entries
                continue
            }
            if a.approximate { break }
            deleted += trimInsideFirstNode(a, entries: entries)
            break
        }
        if length == 0 {
            firstID = .zero
        } else if deleted > 0 {
            firstID = edgeID(first: true, skipTombstones: true)
        }
        return deleted
    }

    /// Flags entries of the first node deleted until the strategy is satisfied.
    private func trimInsideFirstNode(_ a: StreamTrimArgs, entries: Int64) -> Int64 {
        guard let p = nodes.first else { return 0 }
        let master = nodes.key(p)
        var removed: Int64 = 0
        nodes.modify(p) { lp in
            guard let c = lp.first, let d = lp.next(c), let nf = lp.next(d) else { return }
            let masterFields = Swift.max(0, Int(lp.integer(nf)))
            var e: Int? = lp.next(nf)
            for _ in 0..<masterFields { e = e.flatMap { lp.next($0) } }
            var cur = e.flatMap { lp.next($0) }  // past the master terminator: the first entry
            while let flagsAt = cur {
                let flags = lp.integer(flagsAt)
                guard let msAt = lp.next(flagsAt), let seqAt = lp.next(msAt) else { break }
                let stop: Bool
                if a.strategy == .maxLen {
                    stop = Int64(bitPattern: length) <= a.maxLen
                } else {
                    let id = StreamID(master.ms &+ UInt64(bitPattern: lp.integer(msAt)),
                                      master.seq &+ UInt64(bitPattern: lp.integer(seqAt)))
                    stop = id >= a.minID
                }
                if stop { break }
                var q = lp.next(seqAt)
                var skip: Int
                if flags & StreamValue.flagSameFields != 0 {
                    skip = masterFields
                } else {
                    skip = Swift.max(0, Int(q.map { lp.integer($0) } ?? 0)) * 2
                    q = q.flatMap { lp.next($0) }
                }
                while skip > 0, let x = q { q = lp.next(x); skip -= 1 }
                // q is the lp-count; the next entry follows it.
                var next = q.flatMap { lp.next($0) }
                if flags & StreamValue.flagDeleted == 0 {
                    let before = lp.totalBytes
                    lp.replaceInteger(flagsAt, flags | StreamValue.flagDeleted)
                    if let n = next { next = n + lp.totalBytes - before }
                    removed += 1
                    length -= 1
                }
                cur = next
            }
            lp.replaceInteger(c, entries - removed)
            if let d2 = lp.next(c) { lp.replaceInteger(d2, lp.integer(d2) + removed) }
        }
        return removed
    }
}

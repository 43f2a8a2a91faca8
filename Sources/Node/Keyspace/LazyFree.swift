// Lazy freeing (Redis's lazyfree.c): UNLINK, FLUSHALL/FLUSHDB ASYNC and the lazyfree-lazy-*
// directives hand big values and whole keyspaces to a background thread (CSystem's bio queue),
// so the event loop does not stall for the seconds that releasing millions of objects takes.
// Small values are freed at once: queueing costs more than freeing them (LAZYFREE_THRESHOLD).
//
// Why a value may be released on another thread: Swift's reference counts are atomic, and what
// is handed over is no longer reachable from the keyspace; buffers it shares with live values
// (copy-on-write strings) only lose one reference there. The values' deinits touch nothing but
// their own storage.
import CSystem

/// Frees values on the lazyfree thread.
enum LazyFree {
    /// Values with more elements than this are freed in the background (LAZYFREE_THRESHOLD).
    static let threshold = 64

    /// What freeing `value` costs, in allocations (lazyfreeGetFreeEffort).
    static func effort(_ value: Value) -> Int {
        switch value {
        case .string: return 1
        case .list(let l): return l.count
        case .hash(let h): return h.count
        case .set(let s): return s.count
        case .zset(let z): return z.count
        case .stream(let s): return Int(clamping: s.length)
        }
    }

    /// Frees `value` in the background if it is big, else here (freeObjAsync).
    static func dispose(_ value: Value) {
        let e = effort(value)
        guard e > threshold else { return }
        submit(Garbage(value), objects: 1)
    }

    /// Frees a whole database's contents in the background (emptyDbAsync); `objects` is its
    /// key count. `contents` must be the only reference to what it holds.
    static func disposeContents(_ contents: Any, objects: Int) {
        submit(Garbage(contents), objects: objects)
    }

    /// Objects queued and not yet freed (INFO lazyfree_pending_objects).
    static var pendingObjects: Int { Int(vigil_bio_pending_objects()) }
    /// Objects the thread freed (INFO lazyfreed_objects).
    static var freedObjects: Int { Int(vigil_bio_freed_objects()) }
    /// CONFIG RESETSTAT.
    static func resetStats() { vigil_bio_reset_freed() }

    private static func submit(_ g: Garbage, objects: Int) {
        let p = Unmanaged.passRetained(g).toOpaque()
        if vigil_bio_submit(releaseGarbage, p, objects) != 0 {
            // No thread (pthread_create failed): free here, as Redis would without bio.
            Unmanaged<Garbage>.fromOpaque(p).release()
        }
    }
}

/// A value on its way to the lazyfree thread; releasing the box frees it.
private final class Garbage {
    let payload: Any
    init(_ payload: Any) { self.payload = payload }
}

/// Runs on the lazyfree thread: drops the last reference.
private func releaseGarbage(_ p: UnsafeMutableRawPointer?) {
    guard let p else { return }
    Unmanaged<Garbage>.fromOpaque(p).release()
}

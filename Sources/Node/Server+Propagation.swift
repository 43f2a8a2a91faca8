// What reaches replicas and the AOF, as Redis's alsoPropagate / propagatePendingCommands: every
// top-level call has one buffer. A command that changed the dataset adds itself (or the form it
// asked for with `propagateAs`); anything may add more with `alsoPropagate` (a lazily expired
// key's DEL, PUBLISH). When the top-level call ends, the buffer goes out as one unit: wrapped in
// MULTI/EXEC when it holds more than one command (EXEC's queued writes, a command plus the DEL of a
// key it found expired), alone otherwise. Outside any call (active expiry) each op goes at once.
import Shared

/// One command to propagate, in the database it applies to.
struct PropagatedOp {
    /// Database id.
    let db: Int
    /// The command.
    let argv: [Bytes]
    /// Where it goes: `PropagatedOp.toAOF`, `.toReplicas` or both (redis.set_repl narrows a
    /// script's commands, as Redis's PROPAGATE_AOF / PROPAGATE_REPL).
    var targets: UInt8 = PropagatedOp.toAll

    static let toAOF: UInt8 = 1
    static let toReplicas: UInt8 = 2
    static let toAll: UInt8 = 3
}

/// The propagation state of the top-level call.
struct PropagationBuffer {
    /// What the current top-level call propagates so far.
    var ops: [PropagatedOp] = []
    /// Nesting of `call` (0 = no command running).
    private(set) var depth = 0
    /// The form the running command asked to be propagated as (nil: its own argv).
    var replacement: [[Bytes]]? = nil
    /// A spare array swapped in when the buffer is flushed (no allocation per command).
    var spare: [PropagatedOp] = []

    /// A call starts: returns the outer command's replacement, to restore at its end.
    @inline(__always) mutating func beginCall() -> [[Bytes]]? {
        depth += 1
        let outer = replacement
        replacement = nil
        return outer
    }

    /// A call ends: true when it was the top-level one (the buffer must be flushed now).
    @inline(__always) mutating func endCall(restoring outer: [[Bytes]]?) -> Bool {
        replacement = outer
        depth -= 1
        return depth == 0 && !ops.isEmpty
    }
}

extension Server {
    /// Whether anything would take a propagated command now (Redis's shouldPropagate): the AOF,
    /// or as a master a backlog or replicas. Loading the dataset propagates nothing.
    @inline(__always) var shouldPropagate: Bool {
        guard !loading else { return false }
        if aof.state != .off { return true }
        return !isReplica && (replication.backlog != nil || !replication.replicas.isEmpty)
    }

    /// Propagates `argv` (in database `db`) with the current top-level call, after what it
    /// propagated so far; outside any call, at once.
    func alsoPropagate(db: Int, _ argv: [Bytes]) {
        guard shouldPropagate else { return }
        propagation.ops.append(PropagatedOp(db: db, argv: argv))
        if propagation.depth == 0 { propagatePendingCommands() }
    }

    /// The running command propagates as `argv` instead of its own arguments, if it changed the
    /// dataset (relative expiries as absolute times, a served blocking pop as its plain pop).
    func propagateAs(_ argv: [Bytes]) {
        propagation.replacement = [argv]
    }

    /// As `propagateAs(_:)`, with several commands.
    func propagateAs(commands: [[Bytes]]) {
        propagation.replacement = commands
    }

    /// Called by `call` for a command that changed the dataset.
    /// A script's command goes where its redis.set_repl said.
    func propagateCurrentCommand(_ c: Client) {
        guard shouldPropagate else { return }
        var targets = PropagatedOp.toAll
        if c.flags.contains(.script), let run = scriptRun { targets = UInt8(truncatingIfNeeded: run.replFlags) & PropagatedOp.toAll }
        if let r = propagation.replacement {
            for argv in r { propagation.ops.append(PropagatedOp(db: c.db.id, argv: argv, targets: targets)) }
        } else {
            propagation.ops.append(PropagatedOp(db: c.db.id, argv: c.argv, targets: targets))
        }
    }

    /// Sends the top-level call's buffer to replicas and the AOF as one unit.
    func propagatePendingCommands() {
        guard !propagation.ops.isEmpty else { return }
        var ops = propagation.spare
        swap(&ops, &propagation.ops)
        defer {
            ops.removeAll(keepingCapacity: true)
            propagation.spare = ops
        }
        // One command is atomic by itself; a transaction's SELECT goes before its MULTI.
        let wrap = ops.count > 1
        if wrap, let first = ops.first { propagateNow(db: first.db, Server.multiArgv) }
        for op in ops { propagateNow(db: op.db, op.argv, targets: op.targets) }
        if wrap, let last = ops.last { propagateNow(db: last.db, Server.execArgv) }
    }

    /// Writes one command to the replication stream and the AOF buffer.
    @inline(__always) private func propagateNow(db: Int, _ argv: [Bytes], targets: UInt8 = PropagatedOp.toAll) {
        if targets & PropagatedOp.toReplicas != 0 { replication.feedCommand(db: db, argv) }
        if targets & PropagatedOp.toAOF != 0 { aof.feed(db: db, argv) }
    }

    static let multiArgv = [Bytes("MULTI".utf8)]
    static let execArgv = [Bytes("EXEC".utf8)]
}

// How far a replica is behind its master, in bytes, for `GET /replica?lag=` and the lag metric.
// A replica cannot know the master's offset from the replication stream (Redis's protocol never
// sends it), so while the HTTP listener is on, a replica asks its master once a second, on a
// plain client connection, `INFO replication`, and compares the master's `master_repl_offset` with
// what it has applied when the answer arrives. The answer is a lower bound of the true lag (the
// master's offset was read a moment earlier) and is dropped when older than `maxAge`, so a stalled
// master never looks like a caught-up one. Works against redis-server masters too.
import Shared

/// The periodic `INFO replication` probe of our master.
final class ReplicaLagProbe {
    /// A measurement: the master's offset, our lag behind it, and when it was taken (monotonic ms).
    struct Sample: Equatable {
        var masterOffset: Int64
        var lag: Int64
        var at: Int64
    }

    private unowned let server: Server
    private var conn: Connection?
    private var target: (host: String, port: Int)?
    /// What each reply still due answers, oldest first.
    private var due: [Bool] = []
    private var lastSent: Int64 = 0
    private(set) var sample: Sample?
    /// Milliseconds between two questions.
    let period: Int64 = 1000
    /// A sample older than this is no measurement.
    let maxAge: Int64 = 3000

    init(server: Server) { self.server = server }

    /// The lag in bytes if measured recently.
    func lag(now: Int64) -> Int64? {
        guard let s = sample, now - s.at <= maxAge else { return nil }
        return s.lag
    }

    /// Called from the cron: follows the master's address, reconnects, asks when due.
    func cron(now: Int64) {
        guard let host = server.masterHost else { stop(); return }
        let port = server.masterPort
        if target?.host != host || target?.port != port {
            stop()
            target = (host, port)
        }
        guard let c = conn, !c.isClosed else {
            connect(host: host, port: port, now: now)
            return
        }
        if c.isConnecting {
            if now - lastSent > maxAge { close() }
        } else if due.isEmpty {
            if now - lastSent >= period { ask(c, now: now) }
        } else if now - lastSent > maxAge {
            // No answer for a while: start over (the master may be stopped, or gone).
            close()
        }
    }

    /// Forgets the connection and the measurement (we are no longer a replica of that master).
    func stop() {
        close()
        target = nil
        sample = nil
    }

    private func close() {
        let c = conn
        conn = nil
        due = []
        c?.onClose = nil
        c?.close()
    }

    private func connect(host: String, port: Int, now: Int64) {
        // Not more often than the period, whatever the cron rate.
        guard now - lastSent >= period else { return }
        lastSent = now
        let c: Connection
        do { c = try Connection.connect(host: host, port: port, loop: server.loop) } catch { return }
        conn = c
        c.onConnect = { [weak self] c, err in
            guard let self, err == nil else { return }
            let cfg = self.server.config
            if let pass = cfg.masterauth {
                var args = ["AUTH"]
                if let user = cfg.masteruser { args.append(String(decoding: user, as: UTF8.self)) }
                args.append(String(decoding: pass, as: UTF8.self))
                c.send(RESPWriter.command(args))
                self.due.append(false)
            }
            self.ask(c, now: self.server.clock.monotonicMillis())
        }
        c.onInput = { [weak self] c in self?.read(c) }
        c.onClose = { [weak self] _, _ in
            self?.conn = nil
            self?.due = []
        }
    }

    private func ask(_ c: Connection, now: Int64) {
        c.send(RESPWriter.command(["INFO", "replication"]))
        due.append(true)
        lastSent = now
        c.flush()
    }

    private func read(_ c: Connection) {
        while c.pendingInput > 0 {
            let parsed: (value: RESPValue, next: Int)?
            do { parsed = try c.withInput { try RESPParser.parse($0) } } catch { close(); return }
            guard let (value, next) = parsed else { return }
            c.consume(next)
            guard !due.isEmpty else { continue }
            let isInfo = due.removeFirst()
            guard isInfo, !value.isError, let text = value.string else { continue }
            guard let offset = Self.masterOffset(text) else { continue }
            record(masterOffset: offset, now: server.clock.monotonicMillis())
        }
        c.compactInput()
    }

    /// Takes the master's answer: our lag is what it has beyond what we applied by now.
    func record(masterOffset offset: Int64, now: Int64) {
        sample = Sample(masterOffset: offset, lag: max(0, offset - server.replication.masterReplOffset), at: now)
    }

    /// `master_repl_offset` from an INFO text.
    static func masterOffset(_ info: String) -> Int64? {
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("master_repl_offset:") {
            return Int64(line.dropFirst("master_repl_offset:".count))
        }
        return nil
    }
}

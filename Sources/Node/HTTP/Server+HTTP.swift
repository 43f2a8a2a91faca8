// The node's HTTP health endpoints (a vigil extension, off while `http-port` is 0), in the spirit of
// Patroni's REST API, for load balancers and orchestrators that can only ask "is this the primary,
// is this replica usable" with an HTTP status:
//   GET /primary        200 iff a master that accepts writes now (not fenced, not paused, no MISCONF)
//   GET /replica?lag=N  200 iff a replica whose link is up (and, with lag, less than N bytes behind)
//   GET /health         200 while serving (503 while loading the dataset)
//   GET /metrics        Prometheus text (Server+Metrics.swift)
// Each answers a small JSON document saying why, so `curl` alone explains a 503.
import Shared

extension Server {
    // MARK: - Life cycle

    /// Starts, moves or stops the listener to match `http-port` / `http-bind` / `http-timeout`.
    func applyHTTPConfig() throws(ConfigValueError) {
        httpListener?.stop()
        httpListener = nil
        if config.httpPort == 0 {
            lagProbe?.stop()
            lagProbe = nil
            return
        }
        let http = HTTPServer(loop: loop, requestTimeout: Int64(config.httpTimeoutMillis)) { [unowned self] req in
            self.respond(to: req)
        }
        let addresses = config.httpBind.isEmpty ? config.bind : config.httpBind
        do {
            try http.start(bind: addresses, port: config.httpPort) { log.warning($0) }
        } catch let e as IOError {
            throw ConfigValueError("Unable to listen on HTTP port \(config.httpPort): \(Posix.strerror(e.errnoCode))")
        } catch {
            throw ConfigValueError("Unable to listen on HTTP port \(config.httpPort)")
        }
        httpListener = http
        if lagProbe == nil { lagProbe = ReplicaLagProbe(server: self) }
        log.notice("HTTP health and metrics endpoints on port \(config.httpPort)")
    }

    /// From the cron: the lag probe follows our master while the listener is on.
    func httpCron(now: Int64) {
        guard let probe = lagProbe else { return }
        if isReplica { probe.cron(now: now) } else { probe.stop() }
    }

    // MARK: - Routes

    /// Answers one request.
    func respond(to req: HTTPRequest) -> HTTPResponse {
        switch req.path {
        case "/primary", "/master", "/read-write": return primaryCheck()
        case "/replica", "/read-only": return replicaCheck(req.query["lag"])
        case "/health", "/": return healthCheck()
        case "/metrics": return .metrics(metricsText())
        default: return .text(404, "not found: try /primary, /replica, /health or /metrics")
        }
    }

    /// Why a master would refuse a write now, or nil when it accepts them.
    func primaryRefusal() -> String? {
        if isReplica { return "a replica" }
        if loading { return "loading the dataset" }
        if replication.failover.isActive { return "a FAILOVER is in progress" }
        if pause.kind != .off { return pause.kind == .all ? "clients are paused" : "writes are paused" }
        return writeRefusal()
    }

    private func primaryCheck() -> HTTPResponse {
        let refusal = primaryRefusal()
        var doc = commonFields()
        doc.append(("writable", .bool(refusal == nil)))
        if let refusal { doc.append(("reason", .string(refusal))) }
        doc.append(("connected_replicas", .int(replication.replicas.count)))
        return .json(refusal == nil ? 200 : 503, .object(doc))
    }

    private func replicaCheck(_ lagParam: String?) -> HTTPResponse {
        let now = clock.monotonicMillis()
        var doc = commonFields()
        var reason: String? = nil
        var bound: Int64? = nil
        if let p = lagParam {
            guard let b = Int64(p), b >= 0 else { return .text(400, "lag must be a number of bytes") }
            bound = b
        }
        let lag = lagProbe?.lag(now: now)
        if !isReplica {
            reason = "not a replica"
        } else {
            doc.append(("master", .string("\(masterHost ?? ""):\(masterPort)")))
            doc.append(("master_link_status", .string(masterLinkUp ? "up" : "down")))
            doc.append(("lag_bytes", lag.map { JSON.int($0) } ?? JSON.null))
            if loading { reason = "loading the dataset" }
            else if !masterLinkUp { reason = "the link to the master is down" }
            else if let b = bound {
                if let l = lag {
                    if l > b { reason = "lag \(l) bytes is above \(b)" }
                } else {
                    reason = "lag unknown (the master did not answer a recent INFO)"
                }
            }
        }
        if let reason { doc.append(("reason", .string(reason))) }
        return .json(reason == nil ? 200 : 503, .object(doc))
    }

    private func healthCheck() -> HTTPResponse {
        var doc = commonFields()
        doc.append(("state", .string(loading ? "loading" : "running")))
        doc.append(("uptime_seconds", .int(uptimeMillis / 1000)))
        return .json(loading ? 503 : 200, .object(doc))
    }

    /// The fields every document starts with.
    private func commonFields() -> [(String, JSON)] {
        var reason = "none"
        if case .fenced(let r) = fencing.state { reason = r.text }
        return [
            ("role", .string(isReplica ? "replica" : "master")),
            ("port", .int(config.port)),
            ("repl_offset", .int(replication.masterReplOffset)),
            ("fencing", .string(fencing.state.infoName)),
            ("fencing_reason", .string(reason)),
        ]
    }
}

// The sentinel's HTTP endpoints (a vigil extension, off while `http-port` is 0) and SENTINEL HISTORY:
//   GET /masters   JSON: each master's name, address, state, epoch, replicas and sentinels
//   GET /history   JSON: the master switches this sentinel saw (Sentinel+History.swift)
//   GET /health    200 while the sentinel acts (503 in TILT, when it would not fail over)
//   GET /metrics   Prometheus text, named as prometheus-redis-exporter names sentinel metrics
//                  (redis_sentinel_*), plus vigil_sentinel_* for what INFO has no field for
import Shared

extension SentinelServer {
    /// Binds the HTTP listener on `http-bind` (or the sentinel's own addresses) and `http-port`.
    func startHTTP() throws {
        let st = sentinel.settings
        let http = HTTPServer(loop: loop, requestTimeout: Int64(st.httpTimeoutMillis)) { [unowned self] req in
            self.respond(to: req)
        }
        let addresses = !st.httpBind.isEmpty ? st.httpBind : (st.bind.isEmpty ? ["*", "-::*"] : st.bind)
        try http.start(bind: addresses, port: st.httpPort) { sentinel.log.warning($0) }
        httpListener = http
        sentinel.log.notice("HTTP health and metrics endpoints on port \(st.httpPort)")
    }

    /// Answers one request.
    func respond(to req: HTTPRequest) -> HTTPResponse {
        let now = clock.monotonicMillis()
        switch req.path {
        case "/masters", "/primaries": return .json(200, .array(sortedMasters.map { masterJSON($0, now: now) }))
        case "/history": return .json(200, .array(sentinel.history.records(for: req.query["master"]).map(\.json)))
        case "/health", "/":
            let s = sentinel
            let doc: JSON = .object([
                ("role", .string("sentinel")), ("myid", .string(s.myID)), ("tilt", .bool(s.tilt)),
                ("masters", .int(s.masters.count)), ("current_epoch", .int(s.currentEpoch)),
            ])
            return .json(s.tilt ? 503 : 200, doc)
        case "/metrics": return .metrics(metricsText(now: now))
        default: return .text(404, "not found: try /masters, /history, /health or /metrics")
        }
    }

    private var sortedMasters: [MonitoredInstance] { sentinel.masters.values.sorted { $0.name < $1.name } }

    /// `ok`, `sdown` or `odown`, as INFO's master lines say.
    static func status(_ m: MonitoredInstance) -> String {
        m.flags.contains(.oDown) ? "odown" : m.flags.contains(.sDown) ? "sdown" : "ok"
    }

    private func address(_ ri: MonitoredInstance) -> String {
        InstanceAddress.join(sentinel.announced(ri.address), ri.address.port)
    }

    private func masterJSON(_ m: MonitoredInstance, now: Int64) -> JSON {
        let s = sentinel
        let a = s.currentMasterAddress(m)
        let replicas: [JSON] = m.replicas.values.filter(\.replicaAnnounced).sorted { $0.name < $1.name }.map { r in
            .object([
                ("address", .string(address(r))), ("flags", .string(r.flags.text(disconnected: r.link.disconnected))),
                ("master_link_status", .string(r.slaveMasterLinkUp ? "ok" : "err")), ("priority", .int(r.slavePriority)),
                ("repl_offset", .int(r.slaveReplOffset)), ("ping_rtt_ms", .int(r.link.lastPingRTT)),
            ])
        }
        let sentinels: [JSON] = m.sentinels.values.sorted { $0.name < $1.name }.map { p in
            .object([
                ("address", .string(address(p))), ("runid", .string(p.runID ?? "")),
                ("flags", .string(p.flags.text(disconnected: p.link.disconnected))),
                ("last_hello_ms", .int(now - (p.lastHelloTime != 0 ? p.lastHelloTime : p.createdAt))),
            ])
        }
        var o: [(String, JSON)] = [
            ("name", .string(m.name)), ("address", .string(InstanceAddress.join(s.announced(a), a.port))),
            ("ip", .string(s.announced(a))), ("port", .int(a.port)), ("state", .string(Self.status(m))),
            ("flags", .string(m.flags.text(disconnected: m.link.disconnected))), ("epoch", .int(m.configEpoch)),
            ("quorum", .int(m.quorum)), ("failover_state", .string(m.failoverState.name)),
            ("failovers", .int(s.history.counts[m.name] ?? 0)), ("ping_rtt_ms", .int(m.link.lastPingRTT)),
        ]
        o += [("replicas", .array(replicas)), ("sentinels", .array(sentinels))]
        return .object(o)
    }

    // MARK: - Metrics

    private func metricsText(now: Int64) -> String {
        let s = sentinel
        var p = PrometheusText()
        p.single("redis_up", .gauge, "1: the sentinel answered", 1)
        p.single("redis_sentinel_masters", .gauge, "Masters monitored", Double(s.masters.count))
        p.single("redis_sentinel_tilt", .gauge, "1 in TILT mode", s.tilt ? 1 : 0)
        p.single("redis_sentinel_running_scripts", .gauge, "Scripts running", Double(s.scripts.runningCount))
        p.single("redis_sentinel_scripts_queue_length", .gauge, "Scripts queued", Double(s.scripts.jobs.count))
        p.single("vigil_sentinel_current_epoch", .gauge, "The current epoch", Double(s.currentEpoch))
        typealias Samples = [(labels: [(String, String)], value: Double)]
        var status: Samples = [], slaves: Samples = [], sentinels: Samples = [], okSlaves: Samples = [], okSentinels: Samples = []
        var sdown: Samples = [], odown: Samples = [], epoch: Samples = [], failovers: Samples = [], inProgress: Samples = []
        var quorum: Samples = [], downAfter: Samples = [], linkUp: Samples = [], rtt: Samples = [], lastOK: Samples = []
        for m in sortedMasters {
            let a = s.currentMasterAddress(m)
            let base = [("master_name", m.name), ("master_address", InstanceAddress.join(s.announced(a), a.port))]
            status.append((base + [("master_status", Self.status(m))], 1))
            slaves.append((base, Double(m.replicas.count)))
            sentinels.append((base, Double(m.sentinels.count + 1)))
            okSlaves.append((base, Double(m.replicas.values.filter { $0.flags.isDisjoint(with: [.sDown, .oDown]) }.count)))
            okSentinels.append((base, Double(1 + m.sentinels.values.filter { $0.flags.isDisjoint(with: [.sDown, .oDown]) }.count)))
            let named = [("master_name", m.name)]
            sdown.append((named, m.flags.contains(.sDown) ? 1 : 0))
            odown.append((named, m.flags.contains(.oDown) ? 1 : 0))
            epoch.append((named, Double(m.configEpoch)))
            failovers.append((named, Double(s.history.counts[m.name] ?? 0)))
            inProgress.append((named, m.flags.contains(.failoverInProgress) ? 1 : 0))
            quorum.append((base, Double(m.quorum)))
            downAfter.append((base, Double(m.downAfterMillis)))
            let instances = [m] + m.replicas.values.sorted { $0.name < $1.name } + m.sentinels.values.sorted { $0.name < $1.name }
            for ri in instances {
                let labels = [("master_name", m.name), ("kind", ri.kindName), ("address", address(ri))]
                linkUp.append((labels, ri.link.disconnected ? 0 : 1))
                if ri.link.lastPingRTT >= 0 { rtt.append((labels, Double(ri.link.lastPingRTT) / 1000)) }
                lastOK.append((labels, Double(now - ri.link.lastAvailTime) / 1000))
            }
        }
        p.family("redis_sentinel_master_status", .gauge, "Master status (label master_status: ok, sdown, odown)", status)
        p.family("redis_sentinel_master_slaves", .gauge, "Replicas known per master", slaves)
        p.family("redis_sentinel_master_sentinels", .gauge, "Sentinels watching each master, this one included", sentinels)
        p.family("redis_sentinel_master_ok_slaves", .gauge, "Replicas not down per master", okSlaves)
        p.family("redis_sentinel_master_ok_sentinels", .gauge, "Sentinels not down per master, this one included", okSentinels)
        p.family("redis_sentinel_master_ckquorum", .gauge, "The quorum configured per master", quorum)
        p.family("redis_sentinel_master_setting_down_after_milliseconds", .gauge, "down-after-milliseconds per master", downAfter)
        p.family("vigil_sentinel_master_sdown", .gauge, "1 while this sentinel sees the master subjectively down", sdown)
        p.family("vigil_sentinel_master_odown", .gauge, "1 while the master is objectively down (quorum agrees)", odown)
        p.family("vigil_sentinel_master_config_epoch", .gauge, "The epoch of the master's configuration", epoch)
        p.family("vigil_sentinel_master_failovers_total", .counter, "Master switches this sentinel saw since it started", failovers)
        p.family("vigil_sentinel_master_failover_in_progress", .gauge, "1 while this sentinel runs a failover of the master", inProgress)
        p.family("vigil_sentinel_link_up", .gauge, "1 when the links to the instance are connected", linkUp)
        p.family("vigil_sentinel_link_ping_rtt_seconds", .gauge, "How long the last answered PING took", rtt)
        p.family("vigil_sentinel_link_last_ok_ping_seconds", .gauge, "Seconds since the instance last answered PING validly", lastOK)
        if let h = httpListener {
            p.single("vigil_http_requests_total", .counter, "HTTP requests answered", Double(h.stats.requests))
            p.single("vigil_http_bad_requests_total", .counter, "HTTP requests refused as malformed or too large", Double(h.stats.badRequests))
            p.single("vigil_http_timeouts_total", .counter, "HTTP connections closed for sending too slowly", Double(h.stats.timeouts))
        }
        return p.text
    }

    // MARK: - SENTINEL HISTORY

    /// SENTINEL HISTORY [master]: the switches remembered, oldest first, each as SENTINEL MASTERS
    /// writes an instance (field/value pairs; a map in RESP3).
    func replyHistory(_ c: SentinelClient, _ args: [String]) throws {
        guard args.count <= 1 else { throw CommandError("ERR wrong number of arguments for 'sentinel|history' command") }
        if let name = args.first { _ = try master(name) }
        let records = sentinel.history.records(for: args.first)
        c.conn.output.arrayHeader(records.count)
        for r in records { c.replyPairs(r.pairs) }
    }
}

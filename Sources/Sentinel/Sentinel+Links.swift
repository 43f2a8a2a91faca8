// Opening the links to instances: command link (AUTH, CLIENT SETNAME, PING) and pub/sub link
// (AUTH, CLIENT SETNAME, SUBSCRIBE __sentinel__:hello). Reconnects: sentinels once a ping period,
// data nodes every 250 ms. Dropping links when credentials change, so the new ones are used.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension Sentinel {
    /// The hello channel every sentinel publishes to and listens on.
    static let helloChannel = "__sentinel__:hello"

    /// Credentials for `ri`: the master's auth-pass/auth-user for data nodes; sentinel-user/pass
    /// (or requirepass, for old configs) for sentinels.
    func credentials(for ri: MonitoredInstance) -> (user: String?, pass: String?) {
        if ri.isSentinel {
            if let p = settings.sentinelPass { return (settings.sentinelUser, p) }
            return (nil, settings.requirepass)
        }
        let m = ri.isMaster ? ri : ri.master
        return (m?.authUser, m?.authPass)
    }

    /// Commands that start every link: AUTH if needed, then CLIENT SETNAME.
    func handshake(for ri: MonitoredInstance, kind: String) -> [[String]] {
        var out: [[String]] = []
        let (user, pass) = credentials(for: ri)
        if let pass {
            out.append([ri.command("AUTH")] + (user.map { [$0] } ?? []) + [pass])
        }
        out.append([ri.command("CLIENT"), "SETNAME", "sentinel-\(myID.prefix(8))-\(kind)"])
        return out
    }

    /// Opens whichever connections of `ri` are missing. A hostname is looked up again on every
    /// attempt (Redis does it too: a pod that came back with a new address is followed), off the
    /// loop: the links open when the answer arrives.
    func reconnect(_ ri: MonitoredInstance, now: Int64) {
        guard loop != nil, ri.link.simulatedSent == nil else { return }
        let link = ri.link
        guard link.disconnected, ri.address.port > 0, !link.resolving else { return }
        // Data nodes are retried 4× faster than Redis's once a ping period: a restarted old master
        // takes writes (which will be lost) until we reach it and demote it.
        let period = ri.isSentinel ? timings.pingPeriod : min(ri.pingPeriod(timings), SentinelTiming.nodeReconnectPeriod)
        if now - link.lastReconnTime < period { return }
        link.lastReconnTime = now
        let host = ri.address.host
        guard !Resolver.isIPLiteral(host), let resolver else {
            openLinks(ri, ip: Resolver.isIPLiteral(host) ? host : (Resolver.lookup(host) ?? ""), now: now)
            return
        }
        link.resolving = true
        resolver.resolve(host) { [weak self, weak ri] ip in
            guard let self, let ri else { return }
            ri.link.resolving = false
            guard let ip else {
                self.log.debug("Can't resolve instance hostname \(host)")
                return
            }
            // The instance moved meanwhile (a switch to the promoted replica): the next
            // reconnect resolves its new host.
            guard ri.address.host == host else { return }
            self.openLinks(ri, ip: ip, now: self.clock.monotonicMillis())
        }
    }

    /// Connects the missing links of `ri` to `ip` (its host, resolved).
    func openLinks(_ ri: MonitoredInstance, ip: String, now: Int64) {
        guard let loop, !ip.isEmpty else {
            if !ri.address.host.isEmpty { log.debug("Can't resolve instance hostname \(ri.address.host)") }
            return
        }
        let link = ri.link
        guard link.disconnected else { return }
        ri.address.ip = ip
        if link.cmd == nil {
            do {
                let c = try Connection.connect(host: ip, port: ri.address.port, loop: loop, source: settings.bindSourceAddr)
                link.cmd = c
                link.cmdConnTime = now
                c.onInput = { [weak self, weak ri] conn in
                    guard let self, let ri else { return }
                    do { try ri.link.drainReplies(conn) } catch {
                        self.log.verbose("Protocol error from \(ri.address.key): \(error)")
                        ri.link.close(now: self.clock.monotonicMillis())
                    }
                }
                c.onClose = { [weak self, weak ri] _, _ in
                    guard let self, let ri else { return }
                    ri.link.close(now: self.clock.monotonicMillis())
                }
                // hiredis-style: queue now, the bytes leave when the connect completes.
                link.disconnected = false
                for cmd in handshake(for: ri, kind: "cmd") { link.send(cmd) }
                sendPing(ri, now: now)
                link.disconnected = true
            } catch {
                event(.debug, "-cmd-link-reconnection", ri, "#\(error)")
                return
            }
        }
        if !ri.isSentinel && link.pubsub == nil {
            do {
                let c = try Connection.connect(host: ip, port: ri.address.port, loop: loop, source: settings.bindSourceAddr)
                link.pubsub = c
                link.pubsubConnTime = now
                link.pubsubLastActivity = now
                var out = handshake(for: ri, kind: "pubsub")
                // The replies to the handshake may be errors (a wrong password); after them, an
                // error is the answer to SUBSCRIBE and the link is useless (hiredis drops it too).
                link.pubsubHandshakeReplies = out.count
                out.append([ri.command("SUBSCRIBE"), Sentinel.helloChannel])
                for a in out { c.send(RESPWriter.command(a)) }
                c.onInput = { [weak self, weak ri] conn in
                    guard let self, let ri else { return }
                    self.readPubsub(ri, conn)
                }
                // Only the pub/sub side: the failover's own CLIENT KILL TYPE pubsub ends it, and the
                // command link must keep its pending replies (the INFO that shows the promotion).
                c.onClose = { [weak self, weak ri] _, _ in
                    guard let self, let ri else { return }
                    ri.link.closePubsub(now: self.clock.monotonicMillis())
                }
            } catch {
                event(.debug, "-pubsub-link-reconnection", ri, "#\(error)")
                link.close(now: now)
                return
            }
        }
        link.disconnected = link.cmd == nil || (!ri.isSentinel && link.pubsub == nil)
    }

    /// `host`'s address without waiting: an IP literal as is; with resolve-hostnames, a hostname's
    /// last answer, a lookup being started when there is none (nil until it arrives). Unit tests
    /// run without a loop and resolve in place.
    func resolveNow(_ host: String) -> String? {
        if Resolver.isIPLiteral(host) { return host }
        guard settings.resolveHostnames else { return nil }
        guard let resolver else { return Resolver.lookup(host) }
        if let ip = resolver.lastAnswer(host) { return ip }
        if !resolver.isResolving(host) { resolver.resolve(host) { [weak self] ip in if let ip { self?.learnAddress(host, ip) } } }
        return nil
    }

    /// A lookup answered: instances created with `host` unresolved get its address.
    func learnAddress(_ host: String, _ ip: String) {
        func fill(_ ri: MonitoredInstance) {
            if ri.address.ip.isEmpty && ri.address.host.lowercased() == host.lowercased() { ri.address.ip = ip }
        }
        for m in masters.values {
            fill(m)
            m.replicas.values.forEach(fill)
            m.sentinels.values.forEach(fill)
        }
    }

    /// An address for `host` (Redis's createSentinelAddr): nil for a bad port, or a hostname while
    /// resolve-hostnames is off. A hostname that has no answer yet is accepted unresolved (empty
    /// IP; Redis's accept_unresolved for instances): the link's reconnect resolves it.
    func makeAddress(host: String, port: Int) -> InstanceAddress? {
        guard port >= 0 && port <= 65535 else { return nil }
        if Resolver.isIPLiteral(host) { return InstanceAddress(ip: host, port: port) }
        guard settings.resolveHostnames else { return nil }
        return InstanceAddress(host: host, port: port, ip: resolveNow(host) ?? "")
    }

    /// Reads hello messages from the pub/sub link.
    func readPubsub(_ ri: MonitoredInstance, _ c: Connection) {
        let now = clock.monotonicMillis()
        let link = ri.link
        link.pubsubLastActivity = now
        while c.pendingInput > 0 {
            let parsed: (value: RESPValue, next: Int)?
            do { parsed = try c.withInput { try RESPParser.parse($0) } } catch {
                link.closePubsub(now: now)
                return
            }
            guard let (value, next) = parsed else { return }
            c.consume(next)
            if link.pubsubHandshakeReplies > 0 {
                link.pubsubHandshakeReplies -= 1
                continue
            }
            if value.isError {
                // SUBSCRIBE refused (NOAUTH, NOPERM): without the hello channel the link is useless.
                event(.debug, "-pubsub-link-error", ri, value.string ?? "")
                link.closePubsub(now: now)
                return
            }
            guard let items = value.elements, items.count == 3, items[0].string == "message",
                  items[1].string == Sentinel.helloChannel, let payload = items[2].string else { continue }
            processHello(payload, now: now)
        }
    }

    // MARK: - Dropping links

    /// Closes the links to a master and its replicas (Redis's dropInstanceConnections), after its
    /// credentials changed: the reconnect authenticates with the new ones.
    func dropInstanceConnections(_ m: MonitoredInstance, now: Int64) {
        m.link.close(now: now)
        m.link.lastReconnTime = 0
        for r in m.replicas.values {
            r.link.close(now: now)
            r.link.lastReconnTime = 0
        }
    }

    /// Closes the links to every peer sentinel (after sentinel-user/sentinel-pass changed); returns
    /// how many were connected.
    @discardableResult
    func dropSentinelConnections(now: Int64) -> Int {
        var dropped = 0
        for m in masters.values {
            for s in m.sentinels.values {
                if !s.link.disconnected { dropped += 1 }
                s.link.close(now: now)
                s.link.lastReconnTime = 0
            }
        }
        return dropped
    }
}

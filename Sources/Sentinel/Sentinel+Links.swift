// Opening the links to instances: command link (AUTH, CLIENT SETNAME, PING) and pub/sub link
// (AUTH, CLIENT SETNAME, SUBSCRIBE __sentinel__:hello). Reconnects: sentinels once a second, data
// nodes every 250 ms.
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

    /// Opens whichever connections of `ri` are missing.
    func reconnect(_ ri: MonitoredInstance, now: Int64) {
        guard let loop, ri.link.simulatedSent == nil else { return }
        let link = ri.link
        guard link.disconnected, ri.address.port > 0 else { return }
        // Data nodes are retried 4× faster than Redis's once a second: a restarted old master takes
        // writes (which will be lost) until we reach it and demote it.
        let period = ri.isSentinel ? SentinelTiming.pingPeriod : min(ri.pingPeriod, SentinelTiming.nodeReconnectPeriod)
        if now - link.lastReconnTime < period { return }
        link.lastReconnTime = now
        // Hostnames are resolved on every reconnect, so a moved host is followed (no stale IPs).
        guard let host = Sentinel.resolve(ri.address.ip) else {
            log.debug("Can't resolve instance hostname \(ri.address.ip)")
            return
        }
        if link.cmd == nil {
            do {
                let c = try Connection.connect(host: host, port: ri.address.port, loop: loop)
                link.cmd = c
                link.cmdConnTime = now
                c.onInput = { [weak self, weak ri] conn in
                    guard let self, let ri else { return }
                    do { try ri.link.drainReplies(conn) } catch {
                        self.log.verbose("Protocol error from \(ri.address.key): \(error)")
                        ri.link.close(now: self.clockNow())
                    }
                }
                c.onClose = { [weak self, weak ri] _, _ in
                    guard let self, let ri else { return }
                    ri.link.close(now: self.clockNow())
                }
                // hiredis-style: queue now, the bytes leave when the connect completes.
                link.disconnected = false
                for cmd in handshake(for: ri, kind: "cmd") { link.send(cmd) }
                sendPing(ri, now: now)
                link.disconnected = true
            } catch {
                log.debug("Failed to connect to \(ri.address.key): \(error)")
                return
            }
        }
        if !ri.isSentinel && link.pubsub == nil {
            do {
                let c = try Connection.connect(host: host, port: ri.address.port, loop: loop)
                link.pubsub = c
                link.pubsubConnTime = now
                link.pubsubLastActivity = now
                var out = handshake(for: ri, kind: "pubsub")
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
                    ri.link.closePubsub(now: self.clockNow())
                }
            } catch {
                log.debug("Failed to connect to \(ri.address.key): \(error)")
                link.close(now: now)
                return
            }
        }
        link.disconnected = link.cmd == nil || (!ri.isSentinel && link.pubsub == nil)
    }

    /// An IP literal as is; a hostname resolved with getaddrinfo (nil when it does not resolve).
    static func resolve(_ host: String) -> String? {
        if host == "localhost" || host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy({ $0.isNumber || $0 == "." }) {
            return host
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res else { return nil }
        defer { freeaddrinfo(res) }
        var buf = [CChar](repeating: 0, count: 64)
        guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads hello messages from the pub/sub link.
    func readPubsub(_ ri: MonitoredInstance, _ c: Connection) {
        let now = clockNow()
        ri.link.pubsubLastActivity = now
        while c.pendingInput > 0 {
            let parsed: (value: RESPValue, next: Int)?
            do { parsed = try c.withInput { try RESPParser.parse($0) } } catch {
                ri.link.close(now: now)
                return
            }
            guard let (value, next) = parsed else { return }
            c.consume(next)
            guard let items = value.elements, items.count == 3, items[0].string == "message",
                  items[1].string == Sentinel.helloChannel, let payload = items[2].string else { continue }
            processHello(payload, now: now)
        }
    }
}

// Sentinels supervising vigil-node nodes (1 master + 2 replicas, requirepass or ACL users):
// discovery, kill -9 failover, the old master demoted quickly and rejoining, node and sentinel
// config rewrites, manual failover, CKQUORUM, replica priority 0, persisted SET/CONFIG SET,
// scripts, and real redis-sentinels supervising vigil-node.
import Foundation
import Shared
import Testing
import TestSupport

/// vigil-node nodes from config files (so CONFIG REWRITE has a file to write) and sentinels.
final class VigilNodeDeployment {
    let password = "pw"
    /// With `acl`, sentinels authenticate to nodes as this user (not the default user).
    let aclUser = "watcher", aclPass = "watcher-pw"
    /// With `sentinelPassword`, sentinels require it from clients and use it with each other.
    let sentinelPassword: String?
    let acl: Bool
    var master: ServerProcess
    var replicas: [ServerProcess] = []
    var sentinels: [ServerProcess] = []
    let downAfter: Int
    var sentinelExtra: [String]

    init(acl: Bool = false, sentinelPassword: String? = nil, priorities: [Int] = [100, 100], downAfter: Int = 400, sentinelExtra: [String] = []) throws {
        self.acl = acl
        self.sentinelPassword = sentinelPassword
        self.downAfter = downAfter
        self.sentinelExtra = sentinelExtra
        let mport = FreePort.next()
        master = try ServerProcess.vigilNode(config: VigilNodeDeployment.nodeConfig(port: mport, acl: acl, pass: password, replicaOf: nil, priority: 100), port: mport, password: password)
        for prio in priorities {
            let p = FreePort.next()
            replicas.append(try ServerProcess.vigilNode(config: VigilNodeDeployment.nodeConfig(port: p, acl: acl, pass: password, replicaOf: mport, priority: prio), port: p, password: password))
        }
        let synced = waitUntil(timeout: 15) {
            try self.replicas.allSatisfy { (try self.nodeClient($0).call("INFO", "replication").string ?? "").contains("master_link_status:up") }
        }
        if !synced { stopAll(); throw TestClientError("replicas did not sync") }
    }

    static func nodeConfig(port: Int, acl: Bool, pass: String, replicaOf: Int?, priority: Int) -> String {
        var s = "port \(port)\nbind 127.0.0.1\nrequirepass \(pass)\nmasterauth \(pass)\nsave \"\"\nappendonly no\nreplica-priority \(priority)\n"
        if acl { s += "user watcher on >watcher-pw ~* &* +@all\n" }
        if let replicaOf { s += "replicaof 127.0.0.1 \(replicaOf)\n" }
        return s
    }

    /// The sentinel.conf text for a sentinel on `port`.
    func sentinelConfig(port: Int) -> String {
        var s = """
        port \(port)
        sentinel monitor mymaster 127.0.0.1 \(master.port) 2
        sentinel down-after-milliseconds mymaster \(downAfter)
        sentinel failover-timeout mymaster 6000

        """
        if acl {
            s += "sentinel auth-user mymaster \(aclUser)\nsentinel auth-pass mymaster \(aclPass)\n"
        } else {
            s += "sentinel auth-pass mymaster \(password)\n"
        }
        if let sp = sentinelPassword { s += "requirepass \(sp)\nsentinel sentinel-pass \(sp)\n" }
        for line in sentinelExtra { s += line + "\n" }
        return s
    }

    @discardableResult
    func startSentinel(binary: String = Binaries.vigilSentinel) throws -> ServerProcess {
        let port = FreePort.next()
        let s = try ServerProcess(binary: binary, port: port, config: sentinelConfig(port: port), configName: "sentinel.conf", password: sentinelPassword)
        sentinels.append(s)
        return s
    }

    func stopAll() {
        for s in sentinels { s.stop() }
        for p in [master] + replicas { p.stop() }
    }

    func nodeClient(_ p: ServerProcess, timeoutMillis: Int = 2000) throws -> TestClient {
        let c = try p.client(timeoutMillis: timeoutMillis)
        _ = try c.call("AUTH", password)
        return c
    }

    func sentinelClient(_ s: ServerProcess, timeoutMillis: Int = 2000) throws -> TestClient {
        let c = try s.client(timeoutMillis: timeoutMillis)
        if let sp = sentinelPassword { _ = try c.call("AUTH", sp) }
        return c
    }

    func masterAddress(_ s: ServerProcess) -> [String]? {
        guard let c = try? sentinelClient(s, timeoutMillis: 1000), let r = try? c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") else { return nil }
        return r.elements?.compactMap(\.string)
    }

    /// Every sentinel knows both replicas and the other sentinels, in its config file.
    func waitDiscovered(timeout: Double = 20) -> Bool {
        waitUntil(timeout: timeout) {
            self.sentinels.allSatisfy {
                let t = fileText($0.configPath)
                return lines(t, prefix: "sentinel known-replica mymaster").count == self.replicas.count
                    && lines(t, prefix: "sentinel known-sentinel mymaster").count == self.sentinels.count - 1
            }
        }
    }

    /// Every sentinel reports the same master, one of the former replicas; returns it.
    func waitAgreedNewMaster(timeout: Double = 10) -> ServerProcess? {
        let ports = Set(replicas.map { String($0.port) })
        var agreed: String?
        _ = waitUntil(timeout: timeout) {
            let addrs = self.sentinels.map { self.masterAddress($0) }
            guard let a = addrs.first ?? nil, a.count == 2, ports.contains(a[1]), addrs.allSatisfy({ $0 == a }) else { return false }
            agreed = a[1]
            return true
        }
        return replicas.first { String($0.port) == agreed }
    }

    func info(_ p: ServerProcess) -> String {
        (try? nodeClient(p, timeoutMillis: 1000).call("INFO", "replication").string) ?? ""
    }
}

@Suite(.serialized) struct SentinelVigilNodeTests {
    @Test func killedMasterFailsOverAndRejoinsQuicklyWithConfigsRewritten() throws {
        let d = try VigilNodeDeployment()
        defer { d.stopAll() }
        for _ in 0..<3 { try d.startSentinel() }
        #expect(d.waitDiscovered(), "configs did not gain known-replica and known-sentinel lines")
        let oldPort = d.master.port
        d.master.signal(SIGKILL)
        let newMaster = try #require(d.waitAgreedNewMaster(), "sentinels did not agree on a new master within 10 s")
        let other = try #require(d.replicas.first { $0 !== newMaster })
        #expect(waitUntil(timeout: 10) { d.info(other).contains("master_port:\(newMaster.port)") && d.info(other).contains("master_link_status:up") })
        // The promoted node's config lost its replicaof line; the other replica's points to it.
        #expect(waitUntil(timeout: 5) { !fileText(newMaster.configPath).contains("replicaof") })
        #expect(waitUntil(timeout: 5) { fileText(other.configPath).contains("replicaof 127.0.0.1 \(newMaster.port)") })
        #expect(waitUntil(timeout: 5) {
            d.sentinels.allSatisfy { fileText($0.configPath).contains("sentinel monitor mymaster 127.0.0.1 \(newMaster.port) 2") }
        })
        // Let a round of hellos confirm the new configuration everywhere, then restart the old master:
        // with our view confirmed by a majority it is demoted within 2 s of coming back.
        #expect(waitUntil(timeout: 5) {
            d.sentinels.allSatisfy { s in
                let sentinels = (try? d.sentinelClient(s).call("SENTINEL", "SENTINELS", "mymaster").elements) ?? []
                return sentinels.count == 2 && sentinels.allSatisfy { Int(fields($0)["last-hello-message"] ?? "") ?? 99_999 < 2500 }
            }
        })
        // (A restarted ServerProcess does not know its config path: keep it.)
        let oldMasterConf = d.master.configPath
        d.master = try d.master.restart(password: d.password)
        let back = Date()
        #expect(waitUntil(timeout: 2, interval: 0.01) { d.info(d.master).contains("role:slave") },
                "the old master was still a master 2 s after coming back")
        let demotedAfter = Date().timeIntervalSince(back)
        #expect(demotedAfter < 2.0)
        #expect(waitUntil(timeout: 15) { d.info(d.master).contains("master_port:\(newMaster.port)") && d.info(d.master).contains("master_link_status:up") })
        #expect(waitUntil(timeout: 5) { fileText(oldMasterConf).contains("replicaof 127.0.0.1 \(newMaster.port)") })
        #expect(waitUntil(timeout: 5) {
            d.sentinels.allSatisfy { fileText($0.configPath).contains("sentinel known-replica mymaster 127.0.0.1 \(oldPort)") }
        })
    }

    @Test func manualFailoverCkquorumAndPriorityZeroNeverPromoted() throws {
        let d = try VigilNodeDeployment(priorities: [0, 100])
        defer { d.stopAll() }
        for _ in 0..<3 { try d.startSentinel() }
        #expect(d.waitDiscovered())
        let c = try d.sentinelClient(d.sentinels[0])
        #expect(waitUntil(timeout: 10) {
            (try c.call("SENTINEL", "CKQUORUM", "mymaster")) == .simpleString("OK 3 usable Sentinels. Quorum and failover authorization can be reached")
        })
        #expect(try c.call("SENTINEL", "CKQUORUM", "nosuch") == .error("ERR No such master with that name"))
        let noPromotion = d.replicas[0]
        #expect(waitUntil(timeout: 10) {
            let rs = (try? c.call("SENTINEL", "REPLICAS", "mymaster").elements) ?? []
            return rs.count == 2 && rs.allSatisfy { fields($0)["master-link-status"] == "ok" }
                && rs.contains { fields($0)["port"] == String(noPromotion.port) && fields($0)["slave-priority"] == "0" }
        })
        var masters: [Int] = []
        for _ in 0..<2 {
            let before = d.masterAddress(d.sentinels[0])?.last
            #expect(try c.call("SENTINEL", "FAILOVER", "mymaster") == .simpleString("OK"))
            #expect(waitUntil(timeout: 15) {
                guard let now = d.masterAddress(d.sentinels[0])?.last, now != before else { return false }
                return d.sentinels.allSatisfy { d.masterAddress($0)?.last == now }
            })
            let port = Int(d.masterAddress(d.sentinels[0])?.last ?? "") ?? 0
            masters.append(port)
            // Wait for the failover to finish everywhere before the next one.
            #expect(waitUntil(timeout: 15) {
                let m = fields((try? c.call("SENTINEL", "MASTER", "mymaster")) ?? .null)
                return m["flags"] == "master" && m["num-slaves"] == "2"
            })
            #expect(waitUntil(timeout: 15) {
                let rs = (try? c.call("SENTINEL", "REPLICAS", "mymaster").elements) ?? []
                return rs.count == 2 && rs.allSatisfy { fields($0)["master-link-status"] == "ok" && fields($0)["flags"] == "slave" }
            })
        }
        #expect(masters.count == 2 && !masters.contains(noPromotion.port))
        #expect(masters.first == d.replicas[1].port && masters.last == d.master.port)
        #expect(d.info(noPromotion).contains("role:slave"))
    }

    @Test func setAndConfigSetPersistAcrossRestart() throws {
        let d = try VigilNodeDeployment(priorities: [100])
        defer { d.stopAll() }
        let s = try d.startSentinel()
        let c = try d.sentinelClient(s)
        #expect(try c.call("SENTINEL", "SET", "mymaster", "down-after-milliseconds", "777", "quorum", "1", "parallel-syncs", "3") == .simpleString("OK"))
        #expect(try c.call("SENTINEL", "CONFIG", "SET", "resolve-hostnames", "yes") == .simpleString("OK"))
        #expect(try c.call("SENTINEL", "CONFIG", "SET", "announce-port", "4242") == .simpleString("OK"))
        #expect(waitUntil(timeout: 10) { lines(fileText(s.configPath), prefix: "sentinel known-replica").count == 1 })
        s.stop()
        let again = try s.restart()
        d.sentinels = [again]
        let c2 = try d.sentinelClient(again)
        let m = fields(try c2.call("SENTINEL", "MASTER", "mymaster"))
        #expect(m["down-after-milliseconds"] == "777" && m["quorum"] == "1" && m["parallel-syncs"] == "3")
        #expect(fields(try c2.call("SENTINEL", "CONFIG", "GET", "resolve-hostnames")) == ["resolve-hostnames": "yes"])
        #expect(fields(try c2.call("SENTINEL", "CONFIG", "GET", "announce-port")) == ["announce-port": "4242"])
        // The known replica was remembered too.
        #expect((try c2.call("SENTINEL", "REPLICAS", "mymaster").elements ?? []).count == 1)
    }

    @Test func aclUsersForNodeAndSentinelLinks() throws {
        // Sentinels: the default user has requirepass; peers authenticate as the ACL user `peer`.
        let d = try VigilNodeDeployment(acl: true, sentinelPassword: "sentinel-pw", sentinelExtra: [
            "user peer on >peer-pw ~* &* +@all", "sentinel sentinel-user peer", "sentinel sentinel-pass peer-pw"])
        defer { d.stopAll() }
        for _ in 0..<3 { try d.startSentinel() }
        #expect(d.waitDiscovered(), "sentinels did not discover each other through ACL-protected links")
        // The links are authenticated as the ACL user, not the default user.
        let clients = try d.nodeClient(d.master).call("CLIENT", "LIST").string ?? ""
        let sentinelLinks = clients.split(separator: "\n").filter { $0.contains("name=sentinel-") }
        #expect(!sentinelLinks.isEmpty && sentinelLinks.allSatisfy { $0.contains("user=watcher") })
        // Sentinels refuse unauthenticated clients, and answer each other (SENTINEL SENTINELS shows no
        // disconnected peer).
        #expect(try d.sentinels[0].client().call("SENTINEL", "MASTERS").isError)
        #expect(waitUntil(timeout: 10) {
            let ss = (try? d.sentinelClient(d.sentinels[0]).call("SENTINEL", "SENTINELS", "mymaster").elements) ?? []
            return ss.count == 2 && ss.allSatisfy { fields($0)["flags"] == "sentinel" }
        })
        // Both peers connect to us (as soon as each has our hello) and authenticate as `peer`.
        var peerLinks: [Substring] = []
        #expect(waitUntil(timeout: 10) {
            peerLinks = (try d.sentinelClient(d.sentinels[0]).call("CLIENT", "LIST").string ?? "")
                .split(separator: "\n").filter { $0.contains("name=sentinel-") }
            return peerLinks.count == 2
        }, "\(peerLinks)")
        #expect(peerLinks.allSatisfy { $0.contains("user=peer") }, "\(peerLinks)")
        let asPeer = try d.sentinels[1].client()
        #expect(try asPeer.call("AUTH", "peer", "wrong") == .error("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(try asPeer.call("AUTH", "peer", "peer-pw") == .simpleString("OK"))
        d.master.signal(SIGKILL)
        #expect(d.waitAgreedNewMaster() != nil, "no failover through ACL-authenticated links within 10 s")
    }

    @Test func scriptsRunWithRedisArgumentsAndArePending() throws {
        let dir = NSTemporaryDirectory() + "vigil-scripts-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/calls.txt"
        let script = dir + "/record.sh"
        // Appends its arguments, then lingers a moment so SENTINEL PENDING-SCRIPTS can see it running.
        try "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> \(out)\nsleep 1\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let reconf = dir + "/reconf.sh"
        try "#!/bin/sh\necho \"reconf $*\" >> \(out)\n".write(toFile: reconf, atomically: true, encoding: .utf8)
        chmod(reconf, 0o755)
        let d = try VigilNodeDeployment(priorities: [100], sentinelExtra: [
            "sentinel notification-script mymaster \(script)", "sentinel client-reconfig-script mymaster \(reconf)"])
        defer { d.stopAll() }
        let s = try d.startSentinel()
        let c = try d.sentinelClient(s)
        #expect(waitUntil(timeout: 10) {
            let rs = (try? c.call("SENTINEL", "REPLICAS", "mymaster").elements) ?? []
            return rs.count == 1 && fields(rs[0])["master-link-status"] == "ok"
        })
        let oldPort = d.master.port, newPort = d.replicas[0].port
        #expect(try c.call("SENTINEL", "FAILOVER", "mymaster") == .simpleString("OK"))
        #expect(waitUntil(timeout: 10) {
            let jobs = (try? c.call("SENTINEL", "PENDING-SCRIPTS").elements) ?? []
            return jobs.contains { j in
                let f = fields(j)
                return f["flags"] == "running" && (Int(f["pid"] ?? "") ?? 0) > 0 && f["run-time"] != nil && f["retry-num"] == "1"
            }
        })
        #expect(waitUntil(timeout: 15) {
            let t = fileText(out)
            return t.contains("reconf mymaster leader start 127.0.0.1 \(oldPort) 127.0.0.1 \(newPort)")
                && t.contains("record.sh +try-failover master mymaster 127.0.0.1 \(oldPort)")
                && t.contains("record.sh +switch-master mymaster 127.0.0.1 \(oldPort) 127.0.0.1 \(newPort)")
        }, "calls: \(fileText(out))")
        #expect(waitUntil(timeout: 15) { ((try? c.call("SENTINEL", "PENDING-SCRIPTS").elements) ?? [.null]).isEmpty })
        #expect((try c.call("INFO", "sentinel").string ?? "").contains("sentinel_running_scripts:0"))
    }

    @Test func redisSentinelsSuperviseVigilNodes() throws {
        guard let redisSentinel = Binaries.redisSentinel else { return }
        let d = try VigilNodeDeployment()
        defer { d.stopAll() }
        for _ in 0..<3 { try d.startSentinel(binary: redisSentinel) }
        #expect(d.waitDiscovered(timeout: 30), "redis-sentinels did not discover the vigil-node replicas and each other")
        d.master.signal(SIGKILL)
        #expect(d.waitAgreedNewMaster(timeout: 20) != nil, "redis-sentinels did not fail over vigil-node within 20 s")
        // On a loaded machine Redis Sentinel may run a second failover in a later epoch (its
        // elections can split), so every check follows the master the sentinels agree on now.
        func follows(_ node: ServerProcess) -> Bool {
            guard let m = d.waitAgreedNewMaster(timeout: 0.5), m !== node else { return false }
            let info = d.info(node)
            return info.contains("master_port:\(m.port)") && info.contains("master_link_status:up")
                && fileText(node.configPath).contains("replicaof 127.0.0.1 \(m.port)")
        }
        #expect(waitUntil(timeout: 20) { d.replicas.contains { follows($0) } }, "the other replica does not follow the new master")
        // Redis converts a returning old master after its own guard (several seconds).
        let oldMasterConf = d.master.configPath
        d.master = try d.master.restart(password: d.password)
        let rejoined = waitUntil(timeout: 40) {
            guard let m = d.waitAgreedNewMaster(timeout: 0.5) else { return false }
            let info = d.info(d.master)
            return info.contains("master_port:\(m.port)") && info.contains("master_link_status:up")
                && fileText(oldMasterConf).contains("replicaof 127.0.0.1 \(m.port)")
        }
        #expect(rejoined, "the old master did not rejoin as a replica: \(d.info(d.master))\nsentinel log:\n\(d.sentinels[0].log().suffix(2500))")
    }
}

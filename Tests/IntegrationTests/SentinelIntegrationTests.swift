// vigil-sentinel against real redis-server nodes (1 master + 2 replicas, requirepass + auth-pass):
// discovery, failover after kill -9, +switch-master, the old master rejoining, config rewrites,
// and a mixed group with a real redis-sentinel.
import Foundation
import Shared
import Testing
import TestSupport

/// A small deployment: a master, two replicas, and sentinels.
final class SentinelDeployment {
    let password = "pw"
    var master: ServerProcess
    var replicas: [ServerProcess] = []
    var sentinels: [ServerProcess] = []
    var extra: [ServerProcess] = []

    init() throws {
        guard let m = try ServerProcess.redisServer(args: ["--requirepass", "pw", "--masterauth", "pw", "--save", "", "--appendonly", "no"], password: "pw") else {
            throw TestClientError("redis-server not installed")
        }
        master = m
        for _ in 0..<2 {
            guard let r = try ServerProcess.redisServer(args: ["--requirepass", "pw", "--masterauth", "pw", "--save", "", "--appendonly", "no",
                                                               "--replicaof", "127.0.0.1", String(m.port)], password: "pw") else { continue }
            replicas.append(r)
        }
    }

    /// The sentinel.conf text for a sentinel on `port`.
    func sentinelConfig(port: Int) -> String {
        """
        port \(port)
        sentinel monitor mymaster 127.0.0.1 \(master.port) 2
        sentinel down-after-milliseconds mymaster 400
        sentinel failover-timeout mymaster 6000
        sentinel auth-pass mymaster \(password)

        """
    }

    /// Starts a sentinel (vigil or redis) monitoring the master.
    @discardableResult
    func startSentinel(binary: String) throws -> ServerProcess {
        let port = FreePort.next()
        let s = try ServerProcess(binary: binary, port: port, config: sentinelConfig(port: port), configName: "sentinel.conf")
        sentinels.append(s)
        return s
    }

    func stopAll() {
        for s in sentinels { s.stop() }
        for p in [master] + replicas + extra { p.stop() }
    }

    func nodeClient(_ p: ServerProcess) throws -> TestClient {
        let c = try p.client(timeoutMillis: 2000)
        _ = try c.call("AUTH", password)
        return c
    }
}

/// Flat field/value arrays (RESP2) or maps (RESP3) as dictionaries.
func fields(_ v: RESPValue) -> [String: String] {
    var out: [String: String] = [:]
    if case .map(let pairs) = v {
        for p in pairs { if let k = p.key.string, let val = p.value.string { out[k] = val } }
        return out
    }
    let e = v.elements ?? []
    var i = 0
    while i + 1 < e.count {
        if let k = e[i].string, let val = e[i + 1].string { out[k] = val }
        i += 2
    }
    return out
}

/// Field names in order, from a flat RESP2 reply.
func fieldNames(_ v: RESPValue) -> [String] {
    let e = v.elements ?? []
    return stride(from: 0, to: e.count, by: 2).compactMap { e[$0].string }
}

func masterAddr(_ s: ServerProcess) -> [String]? {
    guard let c = try? s.client(timeoutMillis: 1000), let r = try? c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") else { return nil }
    return r.elements?.compactMap(\.string)
}

func fileText(_ path: String?) -> String {
    guard let path else { return "" }
    return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}

func lines(_ text: String, prefix: String) -> [String] {
    text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
}

@Suite(.serialized) struct SentinelIntegrationTests {
    @Test func refusesToStartWithoutConfigFile() throws {
        let port = FreePort.next()
        let p = try ServerProcess(binary: Binaries.vigilSentinel, port: port, args: ["--port", String(port)], waitReady: false)
        defer { p.stop() }
        #expect(p.waitExit(timeout: 10) == 1)
        #expect(p.log().contains("Sentinel needs config file on disk to save state. Exiting..."))
    }

    @Test func startupPersistsMyIDAndAnswersLikeRedisSentinel() throws {
        let d = try SentinelDeployment()
        defer { d.stopAll() }
        let s = try d.startSentinel(binary: Binaries.vigilSentinel)
        let c = try s.client()
        let id = try #require(try c.call("SENTINEL", "MYID").string)
        #expect(RunID.isValid(id))
        #expect(fileText(s.configPath).contains("sentinel myid \(id)"))
        #expect(s.log().contains(":X "))
        // Replicas are discovered from the master's INFO and persisted.
        #expect(waitUntil(timeout: 15) { lines(fileText(s.configPath), prefix: "sentinel known-replica mymaster").count == 2 })
        let m = fields(try c.call("SENTINEL", "MASTER", "mymaster"))
        for f in ["name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount", "last-ping-sent",
                  "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds", "info-refresh", "role-reported",
                  "role-reported-time", "config-epoch", "num-slaves", "num-other-sentinels", "quorum", "failover-timeout", "parallel-syncs"] {
            #expect(m[f] != nil, "missing field \(f)")
        }
        #expect(m["flags"] == "master" && m["num-slaves"] == "2" && m["quorum"] == "2")
        #expect(try c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster").elements?.compactMap(\.string) == ["127.0.0.1", String(d.master.port)])
        #expect(try c.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch") == .null)
        #expect(try c.call("SENTINEL", "MASTER", "nosuch") == .error("ERR No such master with that name"))
        // Replicas get their own links and INFO shortly after discovery.
        #expect(waitUntil(timeout: 15) {
            let replicas = (try? s.client().call("SENTINEL", "REPLICAS", "mymaster").elements) ?? []
            return replicas.count == 2 && replicas.allSatisfy { fields($0)["flags"] == "slave" && fields($0)["master-link-status"] == "ok" }
        })
        #expect(try c.call("SENTINEL", "CKQUORUM", "mymaster").isError)
        // RESP3: maps after HELLO 3.
        let hello = try c.call("HELLO", "3")
        #expect(fields(hello)["mode"] == "sentinel")
        let masters = try c.call("SENTINEL", "MASTERS")
        guard case .array(let ms) = masters, let first = ms.first, case .map = first else {
            Issue.record("expected an array of maps, got \(masters)"); return
        }
        #expect(fields(first)["name"] == "mymaster")
        let info = try c.call("INFO", "sentinel").string ?? ""
        #expect(info.contains("master0:name=mymaster,status=ok,address=127.0.0.1:\(d.master.port),slaves=2,sentinels=1"))
        // SET is persisted.
        #expect(try c.call("SENTINEL", "SET", "mymaster", "parallel-syncs", "2") == .simpleString("OK"))
        #expect(fileText(s.configPath).contains("sentinel parallel-syncs mymaster 2"))
        #expect(try c.call("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", String(d.master.port), "0", "*")
                == .array([.integer(0), .bulkString(Array("*".utf8)), .integer(0)]))
        // MONITOR and REMOVE rewrite the file.
        let r2 = try s.client()
        #expect(try r2.call("SENTINEL", "MONITOR", "other", "127.0.0.1", String(d.replicas[0].port), "1") == .simpleString("OK"))
        #expect(fileText(s.configPath).contains("sentinel monitor other 127.0.0.1 \(d.replicas[0].port) 1"))
        #expect(try r2.call("SENTINEL", "MONITOR", "other", "127.0.0.1", "1", "1") == .error("ERR Duplicate master name."))
        #expect(try r2.call("SENTINEL", "REMOVE", "other") == .simpleString("OK"))
        #expect(!fileText(s.configPath).contains("sentinel monitor other"))
    }

    @Test func redisPySentinelClientDiscoversMasterAndReplicas() throws {
        guard (try? runProgram("/usr/bin/env", ["python3", "-c", "import redis"]).status) == 0 else { return }
        let d = try SentinelDeployment()
        defer { d.stopAll() }
        let s = try d.startSentinel(binary: Binaries.vigilSentinel)
        #expect(waitUntil(timeout: 15) { ((try? s.client().call("SENTINEL", "REPLICAS", "mymaster").elements) ?? []).count == 2 })
        let script = """
            from redis.sentinel import Sentinel
            for proto in (2, 3):
                s = Sentinel([('127.0.0.1', \(s.port))], socket_timeout=2, sentinel_kwargs={'protocol': proto})
                print(proto, s.discover_master('mymaster'), sorted(p for _, p in s.discover_slaves('mymaster')))
            """
        let r = try runProgram("/usr/bin/env", ["python3", "-c", script])
        let ports = d.replicas.map(\.port).sorted()
        #expect(r.output.contains("2 ('127.0.0.1', \(d.master.port)) \(ports)"), "\(r.output)")
        #expect(r.output.contains("3 ('127.0.0.1', \(d.master.port)) \(ports)"), "\(r.output)")
    }

    @Test func manualFailoverWithOneSentinel() throws {
        let d = try SentinelDeployment()
        defer { d.stopAll() }
        let s = try d.startSentinel(binary: Binaries.vigilSentinel)
        let c = try s.client()
        // Wait until the replicas are known and have reported INFO.
        #expect(waitUntil(timeout: 20) {
            let replicas = (try? s.client().call("SENTINEL", "REPLICAS", "mymaster").elements) ?? []
            return replicas.count == 2 && replicas.allSatisfy { fields($0)["master-link-status"] == "ok" }
        })
        let sub = try s.client(timeoutMillis: 15_000)
        _ = try sub.call("PSUBSCRIBE", "+failover-*")
        #expect(try c.call("SENTINEL", "FAILOVER", "mymaster") == .simpleString("OK"))
        #expect(try c.call("SENTINEL", "FAILOVER", "mymaster") == .error("INPROG Failover already in progress"))
        let replicaPorts = Set(d.replicas.map { String($0.port) })
        #expect(waitUntil(timeout: 10) {
            guard let a = masterAddr(s) else { return false }
            return replicaPorts.contains(a[1])
        })
        let first = try sub.read().elements?.compactMap(\.string) ?? []
        #expect(first.count == 4 && first[2] == "+failover-state-select-slave")
        // The old master, still alive, is reconfigured as a replica of the new one.
        let newPort = masterAddr(s)?[1] ?? ""
        #expect(waitUntil(timeout: 15) {
            ((try? d.nodeClient(d.master).call("INFO", "replication").string) ?? "").contains("master_port:\(newPort)")
        })
    }

    @Test func threeVigilSentinelsFailOverAndTheOldMasterRejoins() throws {
        let d = try SentinelDeployment()
        defer { d.stopAll() }
        for _ in 0..<3 { try d.startSentinel(binary: Binaries.vigilSentinel) }
        // Discovery: every config gains the replicas and the two other sentinels.
        let discovered = waitUntil(timeout: 20) {
            d.sentinels.allSatisfy {
                let t = fileText($0.configPath)
                return lines(t, prefix: "sentinel known-replica mymaster").count == 2 && lines(t, prefix: "sentinel known-sentinel mymaster").count == 2
            }
        }
        #expect(discovered)
        guard discovered else { return }
        let sub = try d.sentinels[0].client(timeoutMillis: 15_000)
        _ = try sub.call("SUBSCRIBE", "+switch-master")
        let oldPort = d.master.port
        d.master.signal(SIGKILL)
        let replicaPorts = Set(d.replicas.map { String($0.port) })
        let agreed = waitUntil(timeout: 10) {
            let addrs = d.sentinels.map { masterAddr($0) }
            guard let a = addrs.first ?? nil, a.count == 2, replicaPorts.contains(a[1]) else { return false }
            return addrs.allSatisfy { $0 == a }
        }
        #expect(agreed, "sentinels did not agree on a new master within 10 s")
        guard agreed, let newAddr = masterAddr(d.sentinels[0]) else { return }
        let msg = try sub.read()
        #expect(msg.elements?.compactMap(\.string) == ["message", "+switch-master", "mymaster 127.0.0.1 \(oldPort) 127.0.0.1 \(newAddr[1])"])
        let newMaster = try #require(d.replicas.first { String($0.port) == newAddr[1] })
        let other = try #require(d.replicas.first { String($0.port) != newAddr[1] })
        #expect(waitUntil(timeout: 10) { (try? d.nodeClient(newMaster).call("ROLE").elements?.first?.string) == "master" })
        #expect(waitUntil(timeout: 10) {
            ((try? d.nodeClient(other).call("INFO", "replication").string) ?? "").contains("master_port:\(newAddr[1])")
        })
        // The old master comes back and is turned into a replica of the new one.
        d.master = try d.master.restart(password: d.password)
        #expect(waitUntil(timeout: 20) {
            let info = (try? d.nodeClient(d.master).call("INFO", "replication").string) ?? ""
            return info.contains("role:slave") && info.contains("master_port:\(newAddr[1])")
        })
        // Under heavy load a debug-built node can stall past the short down-after and the group may
        // legitimately fail over once more; check the configs against the master they agree on now.
        var agreedPort = newAddr[1]
        #expect(waitUntil(timeout: 10) {
            let ports = d.sentinels.map { s in (try? TestClient(port: s.port).call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster").elements?.last?.string) ?? nil }
            guard let first = ports.first, let p = first, ports.allSatisfy({ $0 == p }) else { return false }
            agreedPort = p
            return d.sentinels.allSatisfy { fileText($0.configPath).contains("sentinel monitor mymaster 127.0.0.1 \(p) 2") }
        })
        #expect(agreedPort != String(oldPort))
        #expect(waitUntil(timeout: 5) {
            d.sentinels.allSatisfy { fileText($0.configPath).contains("sentinel known-replica mymaster 127.0.0.1 \(oldPort)") }
        })
    }

    @Test func mixedGroupWithRedisSentinelAgreesOnFailover() throws {
        guard let redisSentinel = Binaries.redisSentinel else { return }
        let d = try SentinelDeployment()
        defer { d.stopAll() }
        try d.startSentinel(binary: Binaries.vigilSentinel)
        try d.startSentinel(binary: Binaries.vigilSentinel)
        let real = try d.startSentinel(binary: redisSentinel)
        let discovered = waitUntil(timeout: 20) {
            d.sentinels.allSatisfy { s in
                guard let c = try? s.client(timeoutMillis: 1000), let r = try? c.call("SENTINEL", "SENTINELS", "mymaster") else { return false }
                return r.elements?.count == 2
            }
        }
        #expect(discovered)
        guard discovered else { return }
        // Our SENTINEL MASTER lists the same fields, in the same order, as redis-sentinel's.
        let ours = try d.sentinels[0].client().call("SENTINEL", "MASTER", "mymaster")
        let theirs = try real.client().call("SENTINEL", "MASTER", "mymaster")
        #expect(fieldNames(ours) == fieldNames(theirs))
        d.master.signal(SIGKILL)
        let replicaPorts = Set(d.replicas.map { String($0.port) })
        let agreed = waitUntil(timeout: 10) {
            let addrs = d.sentinels.map { masterAddr($0) }
            guard let a = addrs.first ?? nil, a.count == 2, replicaPorts.contains(a[1]) else { return false }
            return addrs.allSatisfy { $0 == a }
        }
        #expect(agreed, "mixed group did not agree on a new master within 10 s")
    }
}

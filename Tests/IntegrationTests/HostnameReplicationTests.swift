import Foundation
import Testing
import TestSupport
import Shared

/// vigil-node takes hostnames where Redis does: `replicaof <name>` (command line and command),
/// `replica-announce-ip <name>`, and binds its replication link to `bind-source-addr`. Names are
/// looked up off the event loop, so a name that does not resolve leaves the node serving.
@Suite(.serialized) struct HostnameReplicationTests {
    private func slaveIPs(_ master: ServerProcess) throws -> [String] {
        try Repl.info(master, "replication").filter { $0.key.hasPrefix("slave") && $0.key.dropFirst(5).allSatisfy(\.isNumber) }
            .compactMap { $0.value.split(separator: ",").first { $0.hasPrefix("ip=") }.map { String($0.dropFirst(3)) } }
    }

    @Test func replicaofAHostnameByCommandLineAndByCommand() throws {
        let master = try ServerProcess.vigilNode()
        defer { master.stop() }
        _ = try master.client().call("SET", "k", "v")
        let replica = try ServerProcess.vigilNode(args: ["--replicaof", "localhost", String(master.port)])
        defer { replica.stop() }
        #expect(waitUntil { Repl.linkUp(replica) })
        #expect(try Repl.info(replica, "replication")["master_host"] == "localhost")
        #expect(try replica.client().call("GET", "k") == .bulkString(Array("v".utf8)))
        let c = try replica.client()
        #expect(try c.call("REPLICAOF", "NO", "ONE") == .simpleString("OK"))
        #expect(try c.call("REPLICAOF", "LocalHost", String(master.port)) == .simpleString("OK"))
        #expect(waitUntil { Repl.linkUp(replica) })
        #expect(try Repl.info(replica, "replication")["master_host"] == "LocalHost")
    }

    @Test func aNameThatDoesNotResolveLeavesTheNodeServing() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let c = try node.client()
        #expect(try c.call("REPLICAOF", "no-such-host.invalid", "6379") == .simpleString("OK"))
        // Answered while the lookup runs (or after it failed): the loop never waits for DNS.
        #expect(try c.call("PING") == .simpleString("PONG"))
        #expect(waitUntil(timeout: 30) { node.log().contains("can't resolve no-such-host.invalid") })
        #expect(try Repl.info(node, "replication")["master_link_status"] == "down")
        #expect(try c.call("PING") == .simpleString("PONG"))
    }

    @Test func theReplicationLinkBindsToBindSourceAddr() throws {
        let master = try ServerProcess.vigilNode()
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--bind-source-addr", "127.0.0.2", "--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop() }
        #expect(waitUntil { Repl.linkUp(replica) })
        // No announce-ip: the master lists the replica by the address it connected from.
        #expect(try slaveIPs(master) == ["127.0.0.2"])
        let cfg = try replica.client().call("CONFIG", "GET", "bind-source-addr")
        #expect(cfg.elements?.last?.string == "127.0.0.2")
    }

    /// Longer than an IP address (Redis's limit for REPLCONF ip-address is a hostname's, 255).
    static let longName = "replica-one.a-rather-long-subdomain.cluster.local"

    @Test func replicasAnnounceHostnamesToVigilAndRedisMasters() throws {
        var masters = [try ServerProcess.vigilNode()]
        if let r = try ServerProcess.redisServer(args: ["--save", ""]) { masters.append(r) }
        defer { masters.forEach { $0.stop() } }
        for master in masters {
            let replica = try ServerProcess.vigilNode(args: ["--replica-announce-ip", Self.longName, "--replicaof", "127.0.0.1", String(master.port)])
            defer { replica.stop() }
            #expect(waitUntil { Repl.linkUp(replica) }, "\(master.binary)")
            #expect(try slaveIPs(master) == [Self.longName], "\(master.binary)")
        }
    }
}

import Testing
import Foundation
import TestSupport
import Shared

/// The seeds' deployment shape: one vigil-node master and two vigil-node replicas, configured by
/// config file (requirepass/masterauth, or an ACL user with masteruser) or by REPLICAOF.
@Suite(.serialized) struct ReplicationTopologyTests {
    /// Starts the master and two replicas, writes every data type, and checks both replicas.
    private func runTopology(masterConfig: String, replicaConfig: (Int) -> String, password: String?,
                             byCommand: Bool = false) throws {
        let master = try ServerProcess(binary: Binaries.vigilNode, config: masterConfig, password: password)
        defer { master.stop() }
        let m = try Repl.client(master, password: password)
        try Repl.writeAllTypes(m, prefix: "pre:")   // reaches the replicas through the RDB payload
        var replicas: [ServerProcess] = []
        defer { for r in replicas { r.stop() } }
        for _ in 0..<2 {
            let conf = byCommand ? replicaConfig(0) : replicaConfig(master.port)
            replicas.append(try ServerProcess(binary: Binaries.vigilNode, config: conf, password: password))
        }
        if byCommand {
            for r in replicas {
                #expect(try Repl.client(r, password: password).call("REPLICAOF", "127.0.0.1", String(master.port)) == .simpleString("OK"))
            }
        }
        #expect(waitUntil { replicas.allSatisfy { Repl.linkUp($0, password: password) } })
        try Repl.writeAllTypes(m, prefix: "live:")  // reaches them through the stream
        #expect(waitUntil { Repl.inSync(master, replicas, password: password) })
        let expected = try Repl.snapshot(master, password: password)
        #expect(expected.count >= 36)
        for r in replicas {
            #expect(waitUntil { try Repl.snapshot(r, password: password) == Repl.snapshot(master, password: password) })
        }
        // Heartbeats: each replica acknowledges within the second.
        #expect(waitUntil {
            let inf = try Repl.info(master, "replication", password: password)
            guard inf["connected_slaves"] == "2" else { return false }
            return (0..<2).allSatisfy { i in
                let line = inf["slave\(i)"] ?? ""
                return line.contains("state=online") && (line.hasSuffix("lag=0") || line.hasSuffix("lag=1"))
            }
        })
        // Full-sync progress lines, as Redis logs them.
        let mlog = master.log()
        // A fresh replica asks `PSYNC ? -1`; a former master turned replica by REPLICAOF offers
        // its own history first, which the master refuses, as Redis does.
        #expect(mlog.contains(byCommand ? "Partial resynchronization not accepted: Replication ID mismatch" : "Full resync requested by replica"))
        #expect(mlog.contains("Starting BGSAVE for SYNC"))
        #expect(mlog.contains("Synchronization with replica 127.0.0.1:\(replicas[0].port) succeeded"))
        let rlog = replicas[0].log()
        #expect(rlog.contains("MASTER <-> REPLICA sync: receiving"))
        #expect(rlog.contains("MASTER <-> REPLICA sync: Loading DB in memory"))
        #expect(rlog.contains("MASTER <-> REPLICA sync: Finished with success"))
    }

    @Test func configFilesWithRequirepassAndMasterauth() throws {
        try runTopology(masterConfig: "requirepass pw\nmasterauth pw\nsave \"\"\n",
                        replicaConfig: { "replicaof 127.0.0.1 \($0)\nrequirepass pw\nmasterauth pw\nsave \"\"\n" },
                        password: "pw")
    }

    @Test func configFilesWithAnACLUser() throws {
        try runTopology(masterConfig: "user repl on >pw ~* &* +@all\nsave \"\"\n",
                        replicaConfig: { "replicaof 127.0.0.1 \($0)\nmasteruser repl\nmasterauth pw\nsave \"\"\n" },
                        password: nil)
    }

    @Test func replicaofCommand() throws {
        try runTopology(masterConfig: "save \"\"\n", replicaConfig: { _ in "save \"\"\n" }, password: nil, byCommand: true)
    }

    @Test func aWrongMasterauthKeepsTheLinkDown() throws {
        let master = try ServerProcess(binary: Binaries.vigilNode, config: "requirepass right\n", password: "right")
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--replicaof", "127.0.0.1", String(master.port), "--masterauth", "wrong"])
        defer { replica.stop() }
        #expect(waitUntil { replica.log().contains("Unable to AUTH to MASTER") })
        #expect(!Repl.linkUp(replica))
    }

    @Test func aWritableReplicaKeepsItsOwnWritesLocal() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        let writable = try ServerProcess.vigilNode(args: ["--replicaof", "127.0.0.1", String(master.port), "--replica-read-only", "no"])
        defer { writable.stop() }
        let other = try ServerProcess.vigilNode(args: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { other.stop() }
        #expect(waitUntil { Repl.linkUp(writable) && Repl.linkUp(other) })
        let w = try writable.client()
        #expect(try w.call("SET", "local", "only-here") == .simpleString("OK"))
        #expect(try w.call("RPUSH", "locallist", "a") == .integer(1))
        #expect(try other.client().call("SET", "x", "y").string?.hasPrefix("READONLY") == true)
        _ = try master.client().call("SET", "shared", "1")
        #expect(waitUntil { Repl.inSync(master, [writable, other]) })
        // Local writes neither reach the master nor the sibling, nor move the replication offset.
        #expect(try master.client().call("EXISTS", "local", "locallist") == .integer(0))
        #expect(try other.client().call("EXISTS", "local", "locallist") == .integer(0))
        #expect(try w.call("GET", "local") == .bulkString(Array("only-here".utf8)))
        #expect(try w.call("GET", "shared") == .bulkString(Array("1".utf8)))
        let inf = try Repl.info(writable, "replication")
        #expect(inf["slave_read_only"] == "0")
    }
}

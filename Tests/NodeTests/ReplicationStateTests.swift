import Testing
import Shared
@testable import Node

/// Role changes and the INFO replication section, on a server that is never started (no sockets).
struct ReplicationStateTests {
    private func makeServer(_ configure: (ServerConfig) -> Void = { _ in }) throws -> Server {
        let config = ServerConfig()
        configure(config)
        let log = Logger()
        log.level = .nothing
        return Server(config: config, loop: try EventLoop(), log: log)
    }

    private func fields(_ lines: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for l in lines {
            guard let i = l.firstIndex(of: ":") else { continue }
            out[String(l[..<i])] = String(l[l.index(after: i)...])
        }
        return out
    }

    @Test func masterInfoHasRedisFieldsInOrder() throws {
        let s = try makeServer()
        let lines = s.replicationInfo()
        let names = lines.map { String($0.prefix { $0 != ":" }) }
        #expect(names == ["role", "connected_slaves", "master_failover_state", "master_replid", "master_replid2",
                          "master_repl_offset", "second_repl_offset", "repl_backlog_active", "repl_backlog_size",
                          "repl_backlog_first_byte_offset", "repl_backlog_histlen"])
        let f = fields(lines)
        #expect(f["role"] == "master")
        #expect(RunID.isValid(f["master_replid"] ?? ""))
        #expect(f["master_replid2"] == String(repeating: "0", count: 40))
        #expect(f["second_repl_offset"] == "-1")
    }

    @Test func minReplicasAddsGoodReplicaCount() throws {
        let s = try makeServer { $0.minReplicasToWrite = 1 }
        #expect(fields(s.replicationInfo())["min_slaves_good_slaves"] == "0")
        #expect(s.replication.goodReplicaCount(now: s.clock.monotonicMillis()) == 0)
    }

    @Test func becomingAReplicaAndPromotionShiftTheHistory() throws {
        let s = try makeServer()
        let r = s.replication
        r.createBacklog()
        r.feedCommand(db: 0, [Array("SET".utf8), Array("k".utf8), Array("v".utf8)])
        #expect(r.masterReplOffset > 0)
        let offset = r.masterReplOffset
        let oldID = r.replID

        r.setMaster(host: "127.0.0.1", port: 1)
        #expect(s.isReplica)
        #expect(s.config.replicaof?.port == 1)
        let f = fields(s.replicationInfo())
        #expect(f["role"] == "slave")
        #expect(f["master_link_status"] == "down")
        #expect(f["master_link_down_since_seconds"] == "-1")
        #expect(f["slave_read_only"] == "1")
        // A former master continues its own history with the new master (PSYNC2).
        #expect(r.link?.hasHistory == true)
        // Writes from normal clients are not fed while we are a replica.
        r.feedCommand(db: 0, [Array("SET".utf8), Array("x".utf8), Array("y".utf8)])
        #expect(r.masterReplOffset == offset)

        r.unsetMaster()
        #expect(!s.isReplica)
        #expect(s.config.replicaof == nil)
        #expect(r.replID2 == oldID)
        #expect(r.secondReplOffset == offset + 1)
        #expect(r.replID != oldID)
        #expect(fields(s.replicationInfo())["role"] == "master")
    }

    @Test func streamSelectsTheDbOnlyWhenItChanges() throws {
        let s = try makeServer()
        let r = s.replication
        r.createBacklog()
        let set = [Array("SET".utf8), Array("k".utf8), Array("v".utf8)]
        r.feedCommand(db: 2, set)
        r.feedCommand(db: 2, set)
        let stream = r.backlog?.bytes(from: 1) ?? []
        let text = String(decoding: stream, as: UTF8.self)
        #expect(text == "*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n" + String(repeating: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", count: 2))
        #expect(r.masterReplOffset == Int64(stream.count))
    }
}

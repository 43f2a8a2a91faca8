import Testing
import Shared
@testable import Node

/// The shutdown wait decision and the stream db persisted for restarted replicas, on a server
/// that is never started (no sockets).
struct ReplicationShutdownTests {
    private func makeServer(_ configure: (ServerConfig) -> Void = { _ in }) throws -> Server {
        let config = ServerConfig()
        configure(config)
        let log = Logger()
        log.level = .nothing
        return Server(config: config, loop: try EventLoop(), log: log)
    }

    @Test func withoutReplicasShutdownIsNotDeferred() throws {
        let s = try makeServer()
        #expect(!s.replication.deferShutdown(save: nil, force: false, now: 0))
        #expect(!s.replication.shutdownPending)
        #expect(!s.replication.abortShutdown())
    }

    @Test func aZeroShutdownTimeoutNeverWaits() throws {
        let s = try makeServer { $0.shutdownTimeout = 0 }
        #expect(!s.replication.deferShutdown(save: nil, force: false, now: 0))
    }

    @Test func theStreamDBFollowsTheLastSelect() throws {
        let s = try makeServer()
        let r = s.replication
        r.createBacklog()
        #expect(r.streamDB == 0)
        r.feedCommand(db: 3, [Array("SET".utf8), Array("k".utf8), Array("v".utf8)])
        #expect(r.streamDB == 3)
        #expect(s.rdbWriterOptions.replStreamDB == 3)
    }

    @Test func aRestoredHistoryKeepsItsStreamDBForTheLink() throws {
        let s = try makeServer()
        let r = s.replication
        let id = RunID.make()
        r.restoreHistory(id: id, offset: 1234, streamDB: 5)
        r.setMaster(host: "127.0.0.1", port: 1, atStartup: true)
        #expect(r.replID == id)
        #expect(r.masterReplOffset == 1234)
        #expect(r.link?.hasHistory == true)
        #expect(r.streamDB == 5)
        r.unsetMaster()
    }

    @Test func anInvalidHistoryIsIgnored() throws {
        let s = try makeServer()
        let before = s.replication.replID
        s.replication.restoreHistory(id: "not-an-id", offset: 10, streamDB: 2)
        #expect(s.replication.replID == before)
        #expect(s.replication.masterReplOffset == 0)
    }
}

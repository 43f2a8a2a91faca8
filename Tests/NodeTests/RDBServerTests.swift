import Testing
import Shared
@testable import Node

/// The server-facing entry points: snapshots for replication, payload loading, INFO fields.
@Suite struct RDBServerTests {
    func makeServer() throws -> Server {
        let config = ServerConfig()
        return Server(config: config, loop: try EventLoop(), log: Logger())
    }

    @Test func snapshotLoadsIntoAnotherServer() throws {
        let a = try makeServer()
        a.databases = RDBTestData.databases()
        a.rdbReplicationInfo = { (id: String(repeating: "c", count: 40), offset: 777) }
        let snap = a.makeRDBSnapshot()
        let b = try makeServer()
        b.databases[5].dict[Key("stale")] = .string(Array("gone".utf8))
        let info = try b.loadRDBPayload(snap)
        #expect(info.replID == String(repeating: "c", count: 40))
        #expect(info.offset == 777)
        #expect(b.databases[5].count == 0)
        var r = RDBReader(b.makeRDBSnapshot())
        RDBTestData.expectMatches(try r.read(now: nil))
    }

    @Test func badPayloadLeavesDataUntouched() throws {
        let s = try makeServer()
        s.databases[0].dict[Key("keep")] = .string(Array("me".utf8))
        let snap = s.makeRDBSnapshot()
        #expect(throws: RDBError.self) { try s.loadRDBPayload(Array(snap.dropLast(3))) }
        #expect(s.databases[0].raw(Key("keep")) != nil)
    }

    @Test func infoPersistenceHasRedisFields() throws {
        let s = try makeServer()
        s.dirty = 3
        let lines = s.persistenceInfo()
        let names = lines.compactMap { $0.split(separator: ":").first.map(String.init) }
        #expect(names.first == "loading")
        #expect(names.contains("rdb_last_bgsave_status"))
        #expect(names.last == "module_fork_last_cow_size")
        #expect(names.count == 30)
        #expect(lines.contains("rdb_changes_since_last_save:3"))
        #expect(lines.contains("rdb_bgsave_in_progress:0"))
    }
}

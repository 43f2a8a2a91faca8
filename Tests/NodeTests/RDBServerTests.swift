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
        a.replication.replID = String(repeating: "c", count: 40)
        a.replication.masterReplOffset = 777
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

/// `save <seconds> <changes>` rules and the retry delay after a failed BGSAVE.
@Suite struct RDBSaveRuleTests {
    @Test func ruleFiresWhenBothLimitsAreReached() throws {
        let config = ServerConfig()
        config.saveRules = [SaveRule(seconds: 60, changes: 100), SaveRule(seconds: 10, changes: 1000)]
        let s = Server(config: config, loop: try EventLoop(), log: Logger())
        s.persistence.lastSave = 1000
        s.dirty = 99
        #expect(s.dueSaveRule(nowSec: 2000) == nil)
        s.dirty = 100
        #expect(s.dueSaveRule(nowSec: 1060) == nil)  // exactly 60 s is not "more than"
        #expect(s.dueSaveRule(nowSec: 1061)?.seconds == 60)
        s.dirty = 1000
        #expect(s.dueSaveRule(nowSec: 1011)?.seconds == 10)
        // After a failure, retry only once the delay has passed.
        s.persistence.lastBgsaveOK = false
        s.persistence.lastBgsaveTry = 1009
        #expect(s.dueSaveRule(nowSec: 1011) == nil)
        #expect(s.dueSaveRule(nowSec: 1015)?.seconds == 10)
        config.saveRules = []
        #expect(s.dueSaveRule(nowSec: 5000) == nil)
    }
}

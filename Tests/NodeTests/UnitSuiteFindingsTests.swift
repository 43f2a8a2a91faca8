// Behaviour Redis's unit suite (7.0.15, external mode) checks, found failing and fixed.
import Testing
import Shared
@testable import Node

/// DEBUG PAUSE-CRON: Redis's tracking tests stop the cron so only commands act.
@Suite(.serialized) struct DebugPauseCronTests {
    @Test func pausedCronClosesNoIdleClient() throws {
        let n = try TxInProcessNode()
        let admin = try n.client()
        let idle = try n.client()
        #expect(n.run(admin, "CONFIG", "SET", "timeout", "1") == "+OK\r\n")
        #expect(n.run(admin, "DEBUG", "PAUSE-CRON", "1") == "+OK\r\n")
        idle.lastInteraction = 0
        admin.lastInteraction = Int64.max / 2
        n.server.cron()
        #expect(n.server.clients[idle.id] != nil, "the paused cron leaves idle clients alone")
        #expect(n.run(admin, "DEBUG", "PAUSE-CRON", "0") == "+OK\r\n")
        admin.lastInteraction = Int64.max / 2
        n.server.cron()
        #expect(n.server.clients[idle.id] == nil, "the running cron closes it")
    }
}

/// RESET ends CLIENT TRACKING, as Redis's clearClientConnectionState (unit/other "RESET clears
/// client state").
@Suite(.serialized) struct ResetTrackingTests {
    @Test func resetTurnsTrackingOff() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "CLIENT", "TRACKING", "ON") == "+OK\r\n")
        #expect(c.flags.contains(.tracking))
        #expect(n.run(c, "RESET") == "+RESET\r\n")
        #expect(!c.flags.contains(.tracking))
        #expect(n.run(c, "CLIENT", "INFO").contains(" flags=N "))
    }
}

/// CONFIG GET patterns skip Redis's hidden configs; naming one exactly still answers.
@Suite(.serialized) struct HiddenConfigTests {
    @Test func hiddenConfigsOnlyByName() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(!n.run(c, "CONFIG", "GET", "*").contains("key-load-delay"))
        #expect(!n.run(c, "CONFIG", "GET", "key-*").contains("key-load-delay"))
        #expect(n.run(c, "CONFIG", "GET", "key-load-delay").contains("key-load-delay"))
    }
}

/// PFCOUNT may rewrite its key's representation and propagate it (Redis's MAY_REPLICATE): a
/// CLIENT PAUSE WRITE holds it (unit/pause "special commands are paused by RO").
@Suite(.serialized) struct PauseMayReplicateTests {
    @Test func pfcountWaitsForAWritePause() throws {
        let n = try TxInProcessNode()
        let admin = try n.client(), c = try n.client()
        #expect(n.run(admin, "PFADD", "h", "a") == ":1\r\n")
        #expect(n.run(admin, "CLIENT", "PAUSE", "100000", "WRITE") == "+OK\r\n")
        #expect(n.run(c, "PFCOUNT", "h") == "", "held until the pause ends")
        #expect(c.flags.contains(.blocked))
        #expect(n.run(admin, "GET", "x") == "$-1\r\n", "reads still run")
        #expect(n.run(admin, "CLIENT", "UNPAUSE") == "+OK\r\n")
    }
}

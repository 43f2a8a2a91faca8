@testable import Sentinel
import Shared
import Testing

/// The coordinated path's pure decisions and its start (SENTINEL FAILOVER ... COORDINATED).
@Suite struct CoordinatedFailoverTests {
    @Test func failoverCommandNeedsRedis62OrLater() {
        #expect(CoordinatedFailover.supportsFailoverCommand(version: "7.0.15"))
        #expect(CoordinatedFailover.supportsFailoverCommand(version: "6.2.0"))
        #expect(!CoordinatedFailover.supportsFailoverCommand(version: "6.0.16"))
        #expect(!CoordinatedFailover.supportsFailoverCommand(version: "5.0.14"))
        #expect(!CoordinatedFailover.supportsFailoverCommand(version: nil))
        #expect(CoordinatedFailover.version(fromInfo: "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n") == "7.0.15")
    }

    @Test func batchesAreValkeysSequenceWithRenamedCommands() {
        let target = InstanceAddress(ip: "10.0.0.2", port: 6380)
        let b = CoordinatedFailover.handoverBatch(target: target, pause: 4000) { $0 == "FAILOVER" ? "FO2" : $0 }
        #expect(b == [["MULTI"], ["CLIENT", "PAUSE", "4000", "WRITE"], ["FO2", "TO", "10.0.0.2", "6380", "TIMEOUT", "4000"], ["EXEC"]])
        #expect(CoordinatedFailover.finishBatch(unpause: true) { $0 }.contains(["CLIENT", "UNPAUSE"]))
        #expect(!CoordinatedFailover.finishBatch(unpause: false) { $0 }.contains(["CLIENT", "UNPAUSE"]))
        #expect(CoordinatedFailover.abortBatch { $0 }[1] == ["FAILOVER", "ABORT"])
        // The pause is bounded both ways.
        #expect(CoordinatedFailover.pauseMillis(failoverTimeout: 180_000) == 10_000)
        #expect(CoordinatedFailover.pauseMillis(failoverTimeout: 100) == 1000)
    }

    @Test func coordinatedStartNeedsAnElectionAndSuppressesHellosWhilePaused() {
        let (s, _, m) = Fixture.make(now: 30_000)
        s.startCoordinatedFailover(m, now: 30_000)
        #expect(m.flags.contains(.failoverInProgress) && m.flags.contains(.coordinatedFailover))
        #expect(!m.flags.contains(.forceFailover))
        #expect(m.failoverState == .waitStart)
        #expect(!s.helloSuppressed(m))
        m.failoverState = .waitPromotion
        #expect(s.helloSuppressed(m))
        // Abandoned: the flag goes, so hellos resume.
        s.abortFailover(m, now: 31_000)
        #expect(!m.flags.contains(.coordinatedFailover) && !s.helloSuppressed(m))
    }
}

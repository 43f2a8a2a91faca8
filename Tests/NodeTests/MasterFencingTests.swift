import Testing
@testable import Node

/// The self-fencing rule with an injected clock: hellos and sentinel contacts carry their time.
struct MasterFencingTests {
    private let ids = ["a", "b", "c"].map { String(repeating: $0, count: 40) }

    private func hello(_ id: String, epoch: UInt64 = 0, port: Int = 6379) -> SentinelHello {
        SentinelHello(ip: "127.0.0.1", port: 26379, runID: id, currentEpoch: epoch, masterName: "m",
                      masterIP: "127.0.0.1", masterPort: port, configEpoch: epoch)
    }

    /// Three sentinels announced themselves and keep in touch every 100 ms until `until`.
    private func supervised(until: Int64, fenceAfter: Int64 = 500) -> MasterFencing {
        var f = MasterFencing(enabled: true, fenceAfter: fenceAfter)
        for id in ids { f.hello(hello(id), namesUs: true, now: 0) }
        var t: Int64 = 0
        while t <= until {
            for id in ids { f.contact(id8: String(id.prefix(8)), now: t) }
            t += 100
        }
        return f
    }

    @Test func unsupervisedMasterNeverFences() {
        var f = MasterFencing(enabled: true, fenceAfter: 0)
        #expect(f.state == .unsupervised)
        #expect(f.evaluate(now: 1_000_000) == nil)
        #expect(f.refusal == nil)
    }

    @Test func healthyMasterStaysOpen() {
        var f = supervised(until: 5000)
        #expect(f.evaluate(now: 5050) == nil)
        #expect(f.state == .open && f.refusal == nil)
        #expect(f.healthyCount(now: 5050) == 3)
    }

    @Test func oneSentinelLostIsNoReasonToFence() {
        var f = MasterFencing(enabled: true, fenceAfter: 500)
        // (A monotonic clock is never 0: the rule reads lastContact 0 as "not yet".)
        for id in ids { f.hello(hello(id), namesUs: true, now: 50) }
        var t: Int64 = 100
        while t <= 10_000 {
            for id in ids.prefix(t < 2000 ? 3 : 2) { f.contact(id8: String(id.prefix(8)), now: t) }
            let tr = f.evaluate(now: t)
            #expect(tr == nil, "at \(t): \(String(describing: tr))")
            t += 100
        }
        #expect(f.state == .open)
    }

    @Test func losingTheMajorityFencesWithinFenceAfterAndContactUnfences() {
        var f = supervised(until: 1000)
        // Only one sentinel still reaches us.
        var fencedAt: Int64? = nil
        var t: Int64 = 1100
        while t <= 3000 {
            f.contact(id8: String(ids[0].prefix(8)), now: t)
            if case .fenced? = f.evaluate(now: t), fencedAt == nil { fencedAt = t }
            t += 100
        }
        #expect(fencedAt != nil && fencedAt! <= 1000 + 500 + 100)
        #expect(f.refusal?.hasPrefix("FENCED ") == true)
        // The others come back and confirm us with a fresh hello naming us.
        for id in ids { f.contact(id8: String(id.prefix(8)), now: 3100) }
        #expect(f.isFenced)
        for id in ids { f.hello(hello(id), namesUs: true, now: 3100 + MasterFencing.confirmDelay) }
        for id in ids { f.contact(id8: String(id.prefix(8)), now: 3100 + MasterFencing.confirmDelay) }
        #expect(f.evaluate(now: 3100 + MasterFencing.confirmDelay) == .unfenced)
        #expect(f.refusal == nil)
    }

    @Test func aHelloNamingAnotherMasterAtANewerEpochFencesAtOnce() {
        var f = supervised(until: 1000)
        f.hello(hello(ids[1], epoch: 5, port: 7000), namesUs: false, now: 1010)
        guard case .fenced(.newerConfiguration(let name, let master, let epoch))? = f.evaluate(now: 1010) else {
            Issue.record("not fenced: \(f.state)"); return
        }
        #expect(name == "m" && master == "127.0.0.1:7000" && epoch == 5)
        // Demoted: no longer fenced (replicas refuse writes anyway).
        #expect(f.roleChanged(isMaster: false, now: 1020) == .unfenced)
        #expect(f.state == .inactive)
    }

    @Test func aPromotionGivesTheSentinelsAGraceToReconnect() {
        var f = supervised(until: 1000)
        _ = f.roleChanged(isMaster: false, now: 1000)
        // As a replica, contact is rare; then we are promoted at 5000 and the links are killed.
        _ = f.roleChanged(isMaster: true, now: 5000)
        #expect(f.evaluate(now: 5000 + MasterFencing.promotionGrace - 1) == nil)
        #expect(!f.isFenced)
        // Past the grace with no contact at all, the rule applies again.
        if case .fenced? = f.evaluate(now: 5000 + MasterFencing.promotionGrace + 600) {} else { Issue.record("not fenced: \(f.state)") }
    }

    @Test func turnedOffNeverRefuses() {
        var f = supervised(until: 1000)
        _ = f.configure(enabled: false, fenceAfter: 0, now: 1000)
        #expect(f.evaluate(now: 100_000) == nil)
        #expect(f.state == .disabled && f.refusal == nil)
    }

    @Test func helloParsing() {
        let h = SentinelHello.parse("127.0.0.1,26379,\(ids[0]),3,mymaster,10.0.0.1,6380,2")
        #expect(h?.masterName == "mymaster" && h?.masterPort == 6380 && h?.configEpoch == 2 && h?.currentEpoch == 3)
        #expect(SentinelHello.parse("127.0.0.1,26379,short,3,mymaster,10.0.0.1,6380,2") == nil)
        #expect(SentinelHello.parse("a,b,c") == nil)
    }
}

@testable import Sentinel
import Shared
import Testing

/// Failure detection and failover driven the way the process runs them: the timer ticks with the
/// sentinel's clock and the instances' replies run their callbacks, which read that clock too.
/// The clock is a `ManualTime`, so time moves only when the test advances it and nothing sleeps.
@Suite struct ClockDrivenFailoverTests {
    /// A sentinel whose master stopped answering, while its replicas and peers stay healthy.
    final class World {
        let time: ManualTime
        let s: Sentinel
        let rec: EventRecorder
        let m: MonitoredInstance
        let start: Int64 = 5_000_000

        init() {
            time = ManualTime(monotonicMillis: start, wallMillis: 1_700_000_000_000)
            (s, rec, m) = Fixture.make(now: start, time: time)
            // The replicas and peers answered a PING just before: none is outstanding.
            for ri in Array(m.replicas.values) + Array(m.sentinels.values) { ri.link.actPingTime = 0 }
        }

        /// Milliseconds since the master's last answer.
        var elapsed: Int64 { time.monotonicMillis - start }

        /// One timer tick `ms` later, then the healthy instances answer everything sent so far
        /// (answers may send more: a peer's vote moves the election on, which asks again).
        func tick(after ms: Int64) {
            time.advance(by: ms)
            s.tick(now: s.clock.monotonicMillis())
            for _ in 0..<10 {
                var answered = false
                for r in m.replicas.values where !r.link.simulatedUnanswered.isEmpty {
                    answered = true
                    r.link.answerSimulated { Self.replicaAnswer(r, $0) }
                }
                for p in m.sentinels.values where !p.link.simulatedUnanswered.isEmpty {
                    answered = true
                    p.link.answerSimulated(Self.peerAnswer)
                }
                if !answered { break }
            }
        }

        /// Ticks every 100 ms (well under the TILT trigger) until `done` or `limit` ms passed.
        func run(for limit: Int64, until done: () -> Bool = { false }) {
            let end = time.monotonicMillis + limit
            while time.monotonicMillis < end && !done() { tick(after: 100) }
        }

        /// A replica that stays a replica of the old master (it never completes a promotion).
        static func replicaAnswer(_ r: MonitoredInstance, _ command: [String]) -> RESPValue {
            switch command.first?.uppercased() {
            case "PING": return .simpleString("PONG")
            case "INFO":
                return .bulkString(Bytes(Fixture.replicaInfo(master: InstanceAddress(ip: "10.0.0.1", port: 6000), runID: r.runID).utf8))
            default: return .simpleString("OK")
            }
        }

        /// A peer that sees the master down too and votes for whoever asks first in an epoch.
        static func peerAnswer(_ command: [String]) -> RESPValue {
            switch command.first?.uppercased() {
            case "PING": return .simpleString("PONG")
            case "PUBLISH": return .integer(1)
            case "SENTINEL" where command.count == 6 && command[1].lowercased() == "is-master-down-by-addr":
                return .array([.integer(1), .bulkString(Bytes(command[5].utf8)), .integer(Int64(command[4]) ?? 0)])
            default: return .simpleString("OK")
            }
        }
    }

    @Test func sdownAtDownAfterThenOdownAndElectionFromThePeersAnswers() {
        let w = World()
        // down-after-milliseconds is 500: not down at 500 ms, down on the first tick after.
        w.run(for: 500)
        #expect(w.elapsed == 500)
        #expect(!w.m.flags.contains(.sDown))
        w.tick(after: 100)
        #expect(w.m.flags.contains(.sDown))
        #expect(w.rec.message("+sdown") == "master mymaster 10.0.0.1 6000")
        // The peers' answers, applied by their callbacks at the clock's time, complete the
        // quorum and the election within the same tick: no timer period is waited for.
        #expect(w.m.flags.contains(.oDown))
        #expect(w.rec.message("+odown") == "master mymaster 10.0.0.1 6000 #quorum 2/2")
        #expect(w.rec.has("+try-failover"))
        #expect(w.rec.has("+elected-leader"))
        #expect(w.m.sentinels[Fixture.peerB]?.lastMasterDownReplyTime == w.time.monotonicMillis)
    }

    @Test func aPromotionThatNeverHappensIsAbortedAtFailoverTimeout() {
        let w = World()
        w.run(for: 3000) { w.rec.has("+failover-state-wait-promotion") }
        #expect(w.rec.has("+selected-slave"), "\(w.rec.types)")
        #expect(w.m.failoverState == .waitPromotion)
        let promoted = w.m.promotedReplica
        #expect(promoted?.link.simulatedSent?.contains(["SLAVEOF", "NO", "ONE"]) == true)
        let waitingSince = w.time.monotonicMillis
        #expect(w.m.failoverStateChangeTime == waitingSince)
        // failover-timeout is 5000: still waiting at 5000 ms, aborted on the first tick after.
        w.run(for: 5000)
        #expect(w.time.monotonicMillis - waitingSince == 5000)
        #expect(!w.rec.has("-failover-abort-slave-timeout"))
        #expect(w.m.flags.contains(.failoverInProgress))
        w.tick(after: 100)
        #expect(w.rec.has("-failover-abort-slave-timeout"))
        #expect(!w.m.flags.contains(.failoverInProgress))
        #expect(w.m.failoverState == .none)
        // No TILT on the way: the clock only moved by ticks.
        #expect(!w.rec.has("+tilt"))
    }
}

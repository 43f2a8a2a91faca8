@testable import Sentinel
import Shared
import Testing

@Suite struct ScriptQueueTests {
    @Test func jobsStartWhenDueWithinTheRunningLimit() {
        var q = ScriptQueue()
        for i in 0..<(ScriptQueue.maxRunning + 2) { q.schedule(["/bin/s", String(i)], now: 100) }
        #expect(q.due(now: 99).isEmpty)
        let due = q.due(now: 100)
        #expect(due.count == ScriptQueue.maxRunning)
        for (n, i) in due.enumerated() { q.started(i, pid: Int32(1000 + n), now: 100) }
        #expect(q.runningCount == ScriptQueue.maxRunning)
        #expect(q.due(now: 200).isEmpty)
        #expect(q.finished(pid: 1000, exitCode: 0, signal: 0, now: 300) == .done(argv: ["/bin/s", "0"], exitCode: 0, signal: 0))
        #expect(q.due(now: 300).count == 1)
        // Children that are not ours are ignored.
        #expect(q.finished(pid: 4242, exitCode: 0, signal: 0, now: 300) == nil)
    }

    @Test func exitOneAndSignalsAreRetriedWithDoublingDelay() {
        var q = ScriptQueue()
        q.schedule(["/bin/s"], now: 0)
        var now: Int64 = 0
        var delays: [Int64] = []
        for attempt in 1...ScriptQueue.maxRetries {
            let i = q.due(now: now)
            #expect(i == [0])
            q.started(0, pid: 77, now: now)
            #expect(q.jobs[0].retryNum == attempt)
            let outcome = q.finished(pid: 77, exitCode: attempt % 2 == 0 ? 0 : 1, signal: attempt % 2 == 0 ? 9 : 0, now: now)
            if attempt < ScriptQueue.maxRetries {
                guard case .retry(_, let at)? = outcome else { Issue.record("expected a retry, got \(String(describing: outcome))"); return }
                delays.append(at - now)
                #expect(q.due(now: at - 1).isEmpty)
                now = at
            } else {
                #expect(outcome == .gaveUp(argv: ["/bin/s"], exitCode: 1, signal: 0) || outcome == .gaveUp(argv: ["/bin/s"], exitCode: 0, signal: 9))
            }
        }
        #expect(delays.prefix(3) == [30_000, 60_000, 120_000])
        #expect(q.jobs.isEmpty)
    }

    @Test func exitTwoAndAboveIsNotRetried() {
        var q = ScriptQueue()
        q.schedule(["/bin/s"], now: 0)
        q.started(0, pid: 5, now: 0)
        #expect(q.finished(pid: 5, exitCode: 2, signal: 0, now: 10) == .done(argv: ["/bin/s"], exitCode: 2, signal: 0))
        #expect(q.jobs.isEmpty)
    }

    @Test func scriptsOverTheRuntimeLimitAreReportedForKilling() {
        var q = ScriptQueue()
        q.schedule(["/bin/s"], now: 0)
        q.started(0, pid: 9, now: 1000)
        #expect(q.timedOut(now: 1000 + q.maxRuntime).isEmpty)
        #expect(q.timedOut(now: 1001 + q.maxRuntime) == [9])
    }

    @Test func fullQueueDropsTheOldestJobNotRunning() {
        var q = ScriptQueue()
        q.schedule(["/bin/first"], now: 0)
        q.started(0, pid: 1, now: 0)
        for i in 1..<ScriptQueue.maxQueued { q.schedule(["/bin/s", String(i)], now: 0) }
        #expect(q.jobs.count == ScriptQueue.maxQueued)
        q.schedule(["/bin/last"], now: 0)
        #expect(q.jobs.count == ScriptQueue.maxQueued)
        #expect(q.jobs.first?.argv == ["/bin/first"])
        #expect(q.jobs[1].argv == ["/bin/s", "2"])
        #expect(q.jobs.last?.argv == ["/bin/last"])
    }

    @Test func pendingScriptsReplyHasRedisFields() {
        let (s, _, _) = Fixture.make()
        s.previousTime = 500
        s.queueScript(["/bin/notify", "+sdown", "master mymaster 10.0.0.1 6000"])
        var out = RESPWriter()
        s.writePendingScripts(&out, proto: 2, now: 700)
        let text = String(decoding: out.bytes, as: UTF8.self)
        #expect(text == "*1\r\n*10\r\n$4\r\nargv\r\n*3\r\n$11\r\n/bin/notify\r\n$6\r\n+sdown\r\n$29\r\nmaster mymaster 10.0.0.1 6000\r\n"
                 + "$5\r\nflags\r\n$9\r\nscheduled\r\n$3\r\npid\r\n$1\r\n0\r\n$9\r\nrun-delay\r\n$1\r\n0\r\n$9\r\nretry-num\r\n$1\r\n0\r\n")
    }
}

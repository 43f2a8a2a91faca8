import Testing
import Glibc
@testable import Shared

/// The syscall layer: exit statuses decoded from real children, reaping without blocking, the
/// C number parsers' range reports, and a manual clock.
@Suite(.serialized) struct PosixTests {
    @Test func aChildsExitCodeAndSignalAreDecoded() throws {
        let ok = try ChildProcess.fork(clock: .system) { 0 }
        let failed = try ChildProcess.fork(clock: .system) { 3 }
        let deadline = Clock.monotonicMillis() + 5000
        while (ok.reap() == nil || failed.reap() == nil) && Clock.monotonicMillis() < deadline { Posix.sleep(seconds: 0.01) }
        #expect(ok.status == .exited(0))
        #expect(ok.status?.succeeded == true)
        #expect(failed.status == .exited(3))
        #expect(failed.status?.code == 3)
    }

    @Test func reapDoesNotBlockAndTerminateKills() throws {
        // The start time comes from the caller's clock, so durations are measured on one clock.
        let time = ManualTime(monotonicMillis: 42_000)
        let sleeper = try ChildProcess.fork(clock: Clock(time)) { Posix.sleep(seconds: 30); return 0 }
        #expect(sleeper.startedMillis == 42_000)
        #expect(sleeper.reap() == nil)
        let status = sleeper.terminate()
        #expect(status.signal != 0)
        #expect(!status.succeeded)
        #expect(sleeper.reap() == status)
    }

    @Test func spawnReportsAProgramThatCannotRunAsCode2() throws {
        let child = try ChildProcess.spawn(["/nonexistent/vigil-no-such-program"], clock: .system)
        let deadline = Clock.monotonicMillis() + 5000
        while child.reap() == nil && Clock.monotonicMillis() < deadline { Posix.sleep(seconds: 0.01) }
        #expect(child.status == .exited(2))
    }

    @Test func waitStatusLayout() {
        #expect(Posix.ExitStatus(waitStatus: 0) == .exited(0))
        #expect(Posix.ExitStatus(waitStatus: 1 << 8) == .exited(1))
        #expect(Posix.ExitStatus(waitStatus: 9) == .signaled(9))
    }

    @Test func numberParsersReportRangeErrors() {
        let big = Posix.strtoull(Array("99999999999999999999999".utf8))
        #expect(big.outOfRange)
        let fine = Posix.strtoull(Array("42".utf8))
        #expect(fine.value == 42 && fine.consumed == 2 && !fine.outOfRange)
        let partial = Posix.strtoull(Array("42x".utf8))
        #expect(partial.consumed == 2)
        #expect(Posix.strtold(Array("1e999999".utf8)).outOfRange)
        #expect(!Posix.strtold(Array("1.5".utf8)).outOfRange)
    }

    @Test func aFailedCallNamesTheCallAndItsErrno() {
        do {
            _ = try Posix.open("/nonexistent/dir/file", O_RDONLY)
            Issue.record("open of a missing path succeeded")
        } catch let e as IOError {
            #expect(e.errnoCode == ENOENT)
            #expect(e.call.hasPrefix("open "))
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(Posix.writableError("/nonexistent/dir/file")?.errnoCode == ENOENT)
    }

    @Test func writesReportTheWriteCall() throws {
        let (a, b) = try Socket.pair()
        Posix.close(b)
        Posix.ignoreSIGPIPE()
        do {
            try Posix.writeAll(a, Array("x".utf8))
            Issue.record("a write to a closed peer succeeded")
        } catch let e as IOError {
            #expect(e.call == "write")
            #expect(e.errnoCode == EPIPE)
        }
        Posix.close(a)
    }

    @Test func aManualClockMovesOnlyWhenAdvanced() {
        let t = ManualTime(monotonicMillis: 1000, wallMillis: 5000)
        let clock = Clock(t)
        #expect(clock.monotonicMillis() == 1000 && clock.wallMillis() == 5000)
        t.advance(by: 250)
        #expect(clock.monotonicMillis() == 1250 && clock.wallSeconds() == 5)
        #expect(Clock.system.monotonicMillis() > 0)
    }
}

import Testing
@testable import Node

/// The FAILOVER command's decisions (Redis's updateFailoverStatus) with time and offsets passed in.
struct FailoverCoordinatorTests {
    private func replica(_ port: Int, ack: Int64, online: Bool = true) -> FailoverCandidate {
        FailoverCandidate(host: "127.0.0.1", port: port, ackOffset: ack, online: online)
    }

    @Test func waitsUntilTheTargetAcknowledgedTheWholeStream() {
        var f = FailoverCoordinator()
        f.start(targetHost: "127.0.0.1", port: 7001, force: false, timeoutMillis: 0, now: 1000)
        #expect(f.state == .waitingForSync && f.state.infoName == "waiting-for-sync")
        // Another replica that caught up is not the target.
        #expect(f.check(now: 1100, required: 500, replicas: [replica(7001, ack: 499), replica(7002, ack: 500)]) == .none)
        #expect(f.state == .waitingForSync)
        #expect(f.check(now: 1200, required: 500, replicas: [replica(7001, ack: 500)]) == .failOver(host: "127.0.0.1", port: 7001, forced: false))
        #expect(f.state == .inProgress && f.state.infoName == "failover-in-progress")
        // Once in progress, checks change nothing.
        #expect(f.check(now: 1300, required: 500, replicas: []) == .none)
        f.clear()
        #expect(f.state.infoName == "no-failover" && !f.isActive)
    }

    @Test func withoutTargetTheFirstOnlineCaughtUpReplicaIsChosen() {
        var f = FailoverCoordinator()
        f.start(targetHost: nil, port: 0, force: false, timeoutMillis: 0, now: 0)
        let rs = [replica(7001, ack: 10), replica(7002, ack: 20, online: false), replica(7003, ack: 20)]
        #expect(f.check(now: 5, required: 20, replicas: rs) == .failOver(host: "127.0.0.1", port: 7003, forced: false))
        #expect(f.targetDescription == "127.0.0.1:7003")
    }

    @Test func timeoutAbortsUnlessForcedThenFailsOverAnyway() {
        var f = FailoverCoordinator()
        f.start(targetHost: "h", port: 1, force: false, timeoutMillis: 100, now: 1000)
        #expect(f.check(now: 1099, required: 9, replicas: [replica(1, ack: 0)]) == .none)
        #expect(f.check(now: 1100, required: 9, replicas: []) == .abort(reason: "Replica never caught up before timeout"))
        var g = FailoverCoordinator()
        g.start(targetHost: "h", port: 1, force: true, timeoutMillis: 100, now: 1000)
        #expect(g.check(now: 1100, required: 9, replicas: []) == .failOver(host: "h", port: 1, forced: true))
        #expect(g.state == .inProgress)
    }

    @Test func targetHostMatchesCaseInsensitively() {
        var f = FailoverCoordinator()
        f.start(targetHost: "LocalHost", port: 5, force: false, timeoutMillis: 0, now: 0)
        let r = FailoverCandidate(host: "localhost", port: 5, ackOffset: 3, online: true)
        #expect(f.check(now: 1, required: 3, replicas: [r]) == .failOver(host: "localhost", port: 5, forced: false))
    }
}

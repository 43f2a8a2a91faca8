import Testing
@testable import Node

/// The replica handshake state machine, driven without sockets or sleeps.
struct ReplicaLinkTests {
    private let id = String(repeating: "a", count: 40)

    private func connected(_ m: inout ReplicaHandshake, now: Int64 = 0) {
        #expect(m.handle(.tick(now: now, lastIO: 0)) == .connect)
        #expect(m.handle(.connected(now: now)) == .send([["PING"]]))
    }

    @Test func fullHandshakeWithAuthAndAnnounceIP() {
        var m = ReplicaHandshake(listeningPort: 7000)
        m.auth = (user: "repl", password: "secret")
        m.announceIP = "10.0.0.5"
        connected(&m)
        #expect(m.state == .receivePong)
        #expect(m.handle(.reply("+PONG", now: 1)) == .send([
            ["AUTH", "repl", "secret"],
            ["REPLCONF", "listening-port", "7000"],
            ["REPLCONF", "ip-address", "10.0.0.5"],
            ["REPLCONF", "capa", "eof", "capa", "psync2"],
        ]))
        #expect(m.handle(.reply("+OK", now: 2)) == .none)
        #expect(m.state == .receivePort)
        #expect(m.handle(.reply("+OK", now: 2)) == .none)
        #expect(m.state == .receiveIP)
        #expect(m.handle(.reply("+OK", now: 2)) == .none)
        #expect(m.state == .receiveCapa)
        #expect(m.handle(.reply("+OK", now: 3)) == .send([["PSYNC", "?", "-1"]]))
        #expect(m.handle(.reply("+FULLRESYNC \(id) 42", now: 4)) == .fullResync(replID: id, offset: 42))
        #expect(m.state == .transfer)
        #expect(m.state.roleName == "sync")
        #expect(m.handle(.payloadLoaded(now: 5)) == .none)
        #expect(m.state == .connected)
    }

    @Test func withoutAuthGoesStraightToReplconf() {
        var m = ReplicaHandshake(listeningPort: 6390)
        connected(&m)
        #expect(m.handle(.reply("+PONG", now: 1)) == .send([
            ["REPLCONF", "listening-port", "6390"],
            ["REPLCONF", "capa", "eof", "capa", "psync2"],
        ]))
        #expect(m.state == .receivePort)
        #expect(m.state.roleName == "handshake")
    }

    @Test func partialResyncWithNewID() {
        var m = ReplicaHandshake(listeningPort: 1)
        m.psyncID = id
        m.psyncOffset = 101
        connected(&m)
        _ = m.handle(.reply("+PONG", now: 1))
        _ = m.handle(.reply("+OK", now: 1))
        #expect(m.handle(.reply("+OK", now: 1)) == .send([["PSYNC", id, "101"]]))
        // Keep-alive newlines before the answer are ignored.
        #expect(m.handle(.reply("", now: 2)) == .none)
        let newID = String(repeating: "b", count: 40)
        #expect(m.handle(.reply("+CONTINUE \(newID)", now: 3)) == .partialResync(newReplID: newID))
        #expect(m.state == .connected)
    }

    @Test func pingErrorsOtherThanAuthDropTheLinkAndBackOff() {
        var m = ReplicaHandshake(listeningPort: 1)
        connected(&m, now: 1000)
        guard case .drop = m.handle(.reply("-ERR something bad", now: 1000)) else {
            Issue.record("expected a drop"); return
        }
        #expect(m.state == .connect)
        #expect(m.failures == 1)
        // Backoff: not before 1 s.
        #expect(m.handle(.tick(now: 1500, lastIO: 0)) == .none)
        #expect(m.handle(.tick(now: 2000, lastIO: 0)) == .connect)
        // NOAUTH only means authentication comes next.
        var n = ReplicaHandshake(listeningPort: 1)
        connected(&n)
        if case .drop = n.handle(.reply("-NOAUTH Authentication required.", now: 0)) { Issue.record("NOAUTH must not drop") }
    }

    @Test func authFailureAndBadPsyncRepliesDrop() {
        var m = ReplicaHandshake(listeningPort: 1)
        m.auth = (nil, "pw")
        connected(&m)
        #expect(m.handle(.reply("+PONG", now: 0)) == .send([["AUTH", "pw"], ["REPLCONF", "listening-port", "1"], ["REPLCONF", "capa", "eof", "capa", "psync2"]]))
        guard case .drop = m.handle(.reply("-WRONGPASS invalid username-password pair or user is disabled.", now: 0)) else {
            Issue.record("expected a drop"); return
        }
        var p = ReplicaHandshake(listeningPort: 1)
        connected(&p)
        _ = p.handle(.reply("+PONG", now: 0)); _ = p.handle(.reply("+OK", now: 0)); _ = p.handle(.reply("+OK", now: 0))
        guard case .drop = p.handle(.reply("+FULLRESYNC short 1", now: 0)) else { Issue.record("bad FULLRESYNC must drop"); return }
        #expect(p.state == .connect)
    }

    @Test func timeoutsDependOnTheTimePassedIn() {
        var m = ReplicaHandshake(listeningPort: 1)
        m.timeoutMillis = 5000
        connected(&m, now: 0)
        #expect(m.handle(.tick(now: 4000, lastIO: 0)) == .none)
        guard case .drop = m.handle(.tick(now: 6000, lastIO: 0)) else { Issue.record("handshake must time out"); return }
        // A streaming link times out only after repl-timeout without data.
        var c = ReplicaHandshake(listeningPort: 1)
        c.timeoutMillis = 5000
        connected(&c, now: 0)
        _ = c.handle(.reply("+PONG", now: 0)); _ = c.handle(.reply("+OK", now: 0)); _ = c.handle(.reply("+OK", now: 0))
        _ = c.handle(.reply("+CONTINUE", now: 0))
        #expect(c.handle(.tick(now: 9000, lastIO: 8000)) == .none)
        guard case .drop = c.handle(.tick(now: 14000, lastIO: 8000)) else { Issue.record("link must time out"); return }
    }

    @Test func aWorkingLinkThatDropsReconnectsAtOnce() {
        var m = ReplicaHandshake(listeningPort: 1)
        connected(&m, now: 0)
        _ = m.handle(.reply("+PONG", now: 0)); _ = m.handle(.reply("+OK", now: 0)); _ = m.handle(.reply("+OK", now: 0))
        _ = m.handle(.reply("+CONTINUE", now: 0))
        #expect(m.handle(.linkLost(now: 10_000)) == .none)
        #expect(m.state == .connect)
        #expect(m.handle(.tick(now: 10_000, lastIO: 0)) == .connect)
        // A link that fails before working backs off, up to 5 s.
        _ = m.handle(.linkLost(now: 10_000))
        #expect(ReplicaHandshake.backoff(failures: 1) == 1000)
        #expect(ReplicaHandshake.backoff(failures: 2) == 2000)
        #expect(ReplicaHandshake.backoff(failures: 10) == 5000)
        #expect(m.handle(.tick(now: 10_500, lastIO: 0)) == .none)
    }
}

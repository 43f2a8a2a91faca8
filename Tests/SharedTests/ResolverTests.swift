import Testing
@testable import Shared

/// The resolver answers on the loop, from worker threads, and never blocks the caller.
@Suite struct ResolverTests {
    /// Runs `loop` until `done()` or the deadline; true when `done()` became true.
    private func spin(_ loop: EventLoop, seconds: Int64 = 10, until done: () -> Bool) -> Bool {
        let deadline = Clock.monotonicMillis() + seconds * 1000
        while !done() && Clock.monotonicMillis() < deadline { loop.runOnce(maxWaitMillis: 50) }
        return done()
    }

    @Test func ipLiteralsAnswerAtOnceWithoutAThread() throws {
        let loop = try EventLoop()
        let r = try Resolver(loop: loop)
        var got: [String?] = []
        r.resolve("10.1.2.3") { got.append($0) }
        r.resolve("::1") { got.append($0) }
        #expect(got == ["10.1.2.3", "::1"])
        #expect(r.started == 0)
        #expect(Resolver.isIPLiteral("127.0.0.1") && Resolver.isIPLiteral("fe80::1"))
        #expect(!Resolver.isIPLiteral("localhost") && !Resolver.isIPLiteral("1.2.3") && !Resolver.isIPLiteral("node-1"))
    }

    @Test func hostnamesAnswerOnTheLoopAndShareOneLookup() throws {
        let loop = try EventLoop()
        let r = try Resolver(loop: loop)
        var answers: [String?] = []
        r.resolve("localhost") { answers.append($0) }
        r.resolve("LOCALHOST") { answers.append($0) }
        // Nothing is answered synchronously: the callbacks run from the loop.
        #expect(answers.isEmpty)
        #expect(r.isResolving("localhost"))
        #expect(r.started == 1)
        #expect(spin(loop) { answers.count == 2 })
        #expect(answers.allSatisfy { $0 == "127.0.0.1" })
        #expect(r.lastAnswer("localhost") == "127.0.0.1")
        #expect(!r.isResolving("localhost"))
    }

    @Test func anUnknownNameAnswersNil() throws {
        let loop = try EventLoop()
        let r = try Resolver(loop: loop)
        var answered = false
        var answer: String? = "unset"
        r.resolve("no-such-host.invalid") { answer = $0; answered = true }
        #expect(spin(loop, seconds: 30) { answered })
        #expect(answer == nil)
        #expect(r.lastAnswer("no-such-host.invalid") == nil)
    }
}

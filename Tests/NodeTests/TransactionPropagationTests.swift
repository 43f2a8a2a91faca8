// In-process tests of what string, key, transaction and pub/sub commands send to replicas and
// the AOF (read back from the replication backlog), of SCAN's cursor guarantee, and of the
// pub/sub output-buffer limit. A Server is built around an idle event loop; clients have no
// socket, so every reply and pushed message stays inspectable in the client's buffer.
import Testing
import Glibc
@testable import Node
import Shared

/// A server, what it propagated, and socket-less clients.
final class TxInProcessNode {
    let loop: EventLoop
    let server: Server
    private let tap: PropagationTap
    private var log: [(db: Int, argv: [String])] = []
    /// Everything propagated so far (assign [] to start over).
    var propagated: [(db: Int, argv: [String])] {
        get { log += tap.take(); return log }
        set { _ = tap.take(); log = newValue }
    }

    init(clock: Clock = .system, configure: (ServerConfig) -> Void = { _ in }) throws {
        loop = try EventLoop()
        let config = ServerConfig()
        configure(config)
        let log = Logger()
        log.level = .nothing
        server = Server(config: config, loop: loop, log: log, clock: clock)
        tap = PropagationTap(server)
    }

    func client() throws -> Client {
        let c = server.makeLocalClient()
        server.clients[c.id] = c
        return c
    }

    /// Runs one command and returns (and clears) the client's pending output.
    @discardableResult
    func run(_ c: Client, _ args: String...) -> String {
        c.argv = args.map { Bytes($0.utf8) }
        server.processCommand(c)
        // As after a command read from a socket: CLIENT REPLY SKIP moves on, argv is reset.
        if !c.flags.contains(.pendingCommand) { server.commandDone(c) }
        return take(c)
    }

    func take(_ c: Client) -> String {
        String(decoding: c.takeReplies(), as: UTF8.self)
    }
}

struct TxTestFailure: Error { let what: String; init(_ w: String) { what = w } }

@Suite struct TransactionPropagationTests {
    @Test func relativeExpiriesPropagateAsAbsolute() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        let before = Clock.wallMillis()
        #expect(n.run(c, "SET", "k", "v", "EX", "100") == "+OK\r\n")
        #expect(n.run(c, "EXPIRE", "k", "200") == ":1\r\n")
        #expect(n.run(c, "GETEX", "k", "PERSIST") == "$1\r\nv\r\n")
        #expect(n.run(c, "SETEX", "s", "10", "x") == "+OK\r\n")
        #expect(n.run(c, "SET", "a", "v", "PXAT", "4102444800000") == "+OK\r\n")
        let p = n.propagated.map(\.argv)
        #expect(p.count == 5)
        guard p.count == 5 else { return }
        #expect(Array(p[0].prefix(4)) == ["SET", "k", "v", "PXAT"])
        let at = Int64(p[0][4]) ?? 0
        #expect(at >= before + 100_000 && at <= Clock.wallMillis() + 100_000)
        #expect(Array(p[1].prefix(2)) == ["PEXPIREAT", "k"])
        #expect((Int64(p[1][2]) ?? 0) >= before + 200_000)
        #expect(p[2] == ["PERSIST", "k"])
        #expect(Array(p[3].prefix(4)) == ["SET", "s", "x", "PXAT"])
        #expect(p[4] == ["SET", "a", "v", "PXAT", "4102444800000"])
    }

    @Test func deletionsAndRewritesPropagateAsRedisDoes() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "SET", "k", "v")
        #expect(n.run(c, "EXPIRE", "k", "-1") == ":1\r\n")
        n.run(c, "SET", "f", "1.5")
        #expect(n.run(c, "INCRBYFLOAT", "f", "0.25") == "$4\r\n1.75\r\n")
        #expect(n.run(c, "GETDEL", "f") == "$4\r\n1.75\r\n")
        #expect(n.run(c, "GET", "nothing") == "$-1\r\n")
        #expect(n.run(c, "PUBLISH", "ch", "m") == ":0\r\n")
        #expect(n.run(c, "FLUSHDB") == "+OK\r\n")
        let p = n.propagated.map(\.argv)
        #expect(p == [["SET", "k", "v"], ["DEL", "k"], ["SET", "f", "1.5"], ["SET", "f", "1.75", "KEEPTTL"],
                      ["DEL", "f"], ["PUBLISH", "ch", "m"], ["FLUSHDB"]])
    }

    @Test func execWrapsItsWritesInMultiExec() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        #expect(n.run(c, "MULTI") == "+OK\r\n")
        #expect(n.run(c, "SET", "a", "1") == "+QUEUED\r\n")
        #expect(n.run(c, "GET", "a") == "+QUEUED\r\n")
        #expect(n.run(c, "SELECT", "1") == "+QUEUED\r\n")
        #expect(n.run(c, "INCR", "a") == "+QUEUED\r\n")
        #expect(n.run(c, "EXEC") == "*4\r\n+OK\r\n$1\r\n1\r\n+OK\r\n:1\r\n")
        #expect(n.propagated.map(\.argv) == [["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["EXEC"]])
        #expect(n.propagated.map(\.db) == [0, 0, 1, 1])
        // A read-only transaction propagates nothing.
        n.propagated = []
        n.run(c, "MULTI")
        n.run(c, "GET", "a")
        #expect(n.run(c, "EXEC") == "*1\r\n$1\r\n1\r\n")
        #expect(n.propagated.isEmpty)
    }

    @Test func watchedKeyTouchedByAnotherClientFailsExec() throws {
        let n = try TxInProcessNode()
        let a = try n.client(), b = try n.client()
        n.run(a, "WATCH", "w")
        n.run(b, "SET", "w", "x")
        n.run(a, "MULTI")
        n.run(a, "SET", "w", "mine")
        #expect(n.run(a, "EXEC") == "*-1\r\n")
        #expect(n.run(a, "GET", "w") == "$1\r\nx\r\n")
        #expect(n.server.watchTable.isEmpty)
    }

    @Test func scanReturnsEveryKeyPresentThroughoutTheScan() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        for i in 0..<500 { n.run(c, "SET", "stable:\(i)", "v") }
        for i in 0..<200 { n.run(c, "SET", "gone:\(i)", "v") }
        var seen: [String: Int] = [:]
        var cursor = "0"
        var rounds = 0
        repeat {
            let reply = try RESPParser.parse(Bytes(n.run(c, "SCAN", cursor, "COUNT", "7").utf8))
            guard let (value, _) = reply, let parts = value.elements, parts.count == 2,
                  case .bulkString(let cur) = parts[0], let keys = parts[1].elements else {
                Issue.record("bad SCAN reply")
                return
            }
            for k in keys { if case .bulkString(let b) = k { seen[String(decoding: b, as: UTF8.self), default: 0] += 1 } }
            cursor = String(decoding: cur, as: UTF8.self)
            // Churn between calls: delete some keys, add new ones.
            if rounds < 200 {
                n.run(c, "DEL", "gone:\(rounds)")
                n.run(c, "SET", "new:\(rounds)", "v")
            }
            rounds += 1
        } while cursor != "0" && rounds < 10_000
        #expect(cursor == "0")
        for i in 0..<500 { #expect(seen["stable:\(i)"] == 1, "stable:\(i) seen \(seen["stable:\(i)"] ?? 0) times") }
        #expect(seen.values.allSatisfy { $0 == 1 })
    }

    @Test func slowPubSubSubscriberIsDisconnectedAtTheHardLimit() throws {
        let n = try TxInProcessNode { $0.outputLimitPubsub = OutputBufferLimit(hard: 4096, soft: 0, softSeconds: 0) }
        let sub = try n.client(), pub = try n.client()
        #expect(n.run(sub, "SUBSCRIBE", "ch") == "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n")
        let payload = String(repeating: "x", count: 500)
        var delivered = 0
        for _ in 0..<20 {
            let r = n.run(pub, "PUBLISH", "ch", payload)
            if r == ":1\r\n" { delivered += 1 }
        }
        // Nothing is flushed here, so the subscriber's buffer grows until it crosses 4096 bytes.
        #expect(sub.flags.contains(.closeASAP))
        #expect(delivered >= 7 && delivered < 20)
        #expect(!pub.flags.contains(.closeASAP))
    }

    @Test func softLimitNeedsToBeExceededForItsDuration() throws {
        let n = try TxInProcessNode { $0.outputLimitPubsub = OutputBufferLimit(hard: 0, soft: 1000, softSeconds: 1) }
        let sub = try n.client()
        n.run(sub, "SUBSCRIBE", "ch")
        sub.out.bytes.append(contentsOf: repeatElement(UInt8(0x78), count: 2000))
        #expect(n.server.checkOutputLimits(sub, now: 10_000) == false)  // first time over: clock starts
        #expect(n.server.checkOutputLimits(sub, now: 11_000) == false)  // not longer than 1 s yet
        #expect(n.server.checkOutputLimits(sub, now: 12_500) == true)
        #expect(sub.flags.contains(.closeASAP))
    }
}

// Protocol abuse against vigil-node and vigil-sentinel: malformed frames (compared byte for byte
// with redis-server 7.0), absurd lengths, random bytes, 1000 idle connections, half-sent commands,
// a subscriber that never reads, a giant unread pipeline, unauthenticated big bulks. Expected:
// Redis's error texts, bounded memory, and a control client that keeps getting answers.
import Foundation
import Shared
import Testing
import TestSupport

/// Resident set size and its peak (kB) of a process, from /proc.
func processMemoryKB(_ pid: Int32) -> (rss: Int, peak: Int) {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Int {
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
    return (field("VmRSS"), field("VmHWM"))
}

/// Deterministic bytes for the random-input cases (SplitMix64), so failures reproduce.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> Bytes { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// Sends `frame` on a fresh connection and returns the first reply (nil if none) and whether the
/// server then closed the connection.
func replyToFrame(port: Int, _ frame: Bytes) throws -> (reply: RESPValue?, closed: Bool) {
    let c = try TestClient(port: port, timeoutMillis: 600)
    try c.sendRaw(frame)
    let reply = try? c.read()
    return (reply, closedOrReset(c))
}

/// True if the peer closed the connection, by FIN or by RST (unread input makes close send RST).
func closedOrReset(_ c: TestClient) -> Bool {
    var buf = Bytes(repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress!, $0.count, 0) }
        if n == 0 { return true }
        if n < 0 { return errno == ECONNRESET }
    }
}

/// Frames whose replies must match redis-server's byte for byte.
let malformedFrames: [String] = [
    "*2147483648\r\n",
    "*1\r\n$9999999999\r\n",
    "*1\r\n$-5\r\n",
    "*abc\r\n",
    "*1\r\nfoo\r\n",
    "*1\r\n$4\r\nPINGxx\r\n",
    "GET \"unbalanced\r\n",
    "*-5\r\n*1\r\n$4\r\nPING\r\n",
    "*0\r\n*1\r\n$4\r\nPING\r\n",
    "\r\n\r\nPING\r\n",
    "*1\r\n$1048577\r\n",
]

@Suite(.serialized) struct AbuseTests {
    static let nodeArgs = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]

    @Test func malformedFramesGetRedisErrorTexts() throws {
        guard let redis = try ServerProcess.redisServer(args: Self.nodeArgs + ["--proto-max-bulk-len", "1048576"]) else {
            Issue.record("redis-server not installed"); return
        }
        defer { redis.stop() }
        let node = try ServerProcess.vigilNode(args: Self.nodeArgs + ["--proto-max-bulk-len", "1048576"])
        defer { node.stop() }
        for f in malformedFrames {
            let want = try replyToFrame(port: redis.port, Bytes(f.utf8))
            let got = try replyToFrame(port: node.port, Bytes(f.utf8))
            #expect(got.reply == want.reply, "frame \(f.debugDescription): redis \(String(describing: want.reply)), vigil \(String(describing: got.reply))")
            #expect(got.closed == want.closed, "frame \(f.debugDescription): redis closed=\(want.closed), vigil closed=\(got.closed)")
        }
        #expect(try node.client().call("PING") == .simpleString("PONG"))
    }

    @Test func unauthenticatedClientCannotSendBigFrames() throws {
        let args = Self.nodeArgs + ["--requirepass", "s3cret-abuse"]
        guard let redis = try ServerProcess.redisServer(args: args, password: "s3cret-abuse") else {
            Issue.record("redis-server not installed"); return
        }
        defer { redis.stop() }
        let node = try ServerProcess.vigilNode(args: args, password: "s3cret-abuse")
        defer { node.stop() }
        let frames = ["*11\r\n", "*1\r\n$16385\r\n", "*1\r\n$2000000\r\n", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"]
        for f in frames {
            let want = try replyToFrame(port: redis.port, Bytes(f.utf8))
            let got = try replyToFrame(port: node.port, Bytes(f.utf8))
            #expect(got.reply == want.reply, "frame \(f.debugDescription): redis \(String(describing: want.reply)), vigil \(String(describing: got.reply))")
            #expect(got.closed == want.closed, "frame \(f.debugDescription)")
        }
        // A 10 MB bulk from an unauthenticated client never gets buffered: the node answers
        // the header with an error and hangs up; its memory stays small.
        let before = processMemoryKB(node.pid).rss
        let c = try TestClient(port: node.port, timeoutMillis: 3000)
        try c.sendRaw("*2\r\n$4\r\nAUTH\r\n$10000000\r\n")
        try? c.sendRaw(Bytes(repeating: 0x61, count: 1 << 20))
        #expect(try c.read() == .error("ERR Protocol error: unauthenticated bulk length"))
        #expect(closedOrReset(c))
        #expect(processMemoryKB(node.pid).rss - before < 50_000)
        let ctl = try node.client()
        #expect(try ctl.call("AUTH", "s3cret-abuse") == .simpleString("OK"))
    }

    @Test func randomBytesDoNotHurtNodeOrSentinel() throws {
        let node = try ServerProcess.vigilNode(args: Self.nodeArgs)
        defer { node.stop() }
        let sentinel = try ServerProcess(binary: Binaries.vigilSentinel, config: "# abuse test\n", configName: "sentinel.conf")
        defer { sentinel.stop() }
        var rng = SplitMix(state: 0x5EED)
        for target in [node, sentinel] {
            let control = try target.client()
            for i in 0..<150 {
                let c = try TestClient(port: target.port, timeoutMillis: 500)
                // Half the inputs start like a multibulk so the deeper paths are reached.
                var bytes = rng.bytes(Int(rng.next() % 4096) + 1)
                if i % 2 == 0 { bytes = Bytes("*\(rng.next() % 20)\r\n$\(rng.next() % 50)\r\n".utf8) + bytes }
                try? c.sendRaw(bytes)
            }
            #expect(try control.call("PING") == .simpleString("PONG"))
            #expect(target.isRunning)
        }
        // The sentinel also answers malformed frames with errors and stays up.
        for f in malformedFrames {
            let r = try replyToFrame(port: sentinel.port, Bytes(f.utf8))
            if let reply = r.reply, f.hasPrefix("*2147") || f.hasPrefix("*1\r\n$9999") { #expect(reply.isError, "\(f.debugDescription)") }
        }
        #expect(try sentinel.client().call("PING") == .simpleString("PONG"))
    }

    @Test func thousandIdleConnectionsAndHalfSentCommands() throws {
        let node = try ServerProcess.vigilNode(args: Self.nodeArgs)
        defer { node.stop() }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 2048 {
            limit.rlim_cur = min(limit.rlim_max, 4096)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        var idle: [TestClient] = []
        for _ in 0..<1000 { idle.append(try TestClient(port: node.port, timeoutMillis: 2000)) }
        // Half of the extra clients stop mid-command, at different points of a frame.
        let partials = ["*3\r\n$3\r\nSET\r\n$1\r\nk", "*3\r\n", "*3\r\n$3\r\nSE", "SET k v", "*1\r\n$4\r\nPI"]
        var half: [TestClient] = []
        for p in partials {
            let c = try TestClient(port: node.port, timeoutMillis: 3000)
            try c.sendRaw(p)
            half.append(c)
        }
        let control = try node.client()
        #expect(try control.call("PING") == .simpleString("PONG"))
        #expect(try control.call("SET", "ctl", "1") == .simpleString("OK"))
        let info = try control.call("INFO", "clients").string ?? ""
        #expect(info.contains("connected_clients:1006"), "\(info)")
        // Finishing a half-sent command works: the parser kept its state.
        try half[0].sendRaw("\r\n$5\r\nvalue\r\n")
        #expect(try half[0].read() == .simpleString("OK"))
        #expect(try control.call("GET", "k") == .bulkString(Bytes("value".utf8)))
        idle.removeAll()
        half.removeAll()
        #expect(waitUntil(timeout: 10) {
            (try control.call("INFO", "clients").string ?? "").contains("connected_clients:1\r\n")
        })
    }

    @Test func subscriberThatNeverReadsIsDisconnectedAtTheLimit() throws {
        let node = try ServerProcess.vigilNode(args: Self.nodeArgs + ["--client-output-buffer-limit", "pubsub 1mb 256kb 1"])
        defer { node.stop() }
        let sub = try TestClient(port: node.port, timeoutMillis: 2000)
        var size: Int32 = 4096  // a small receive window so the server's buffer fills quickly
        setsockopt(sub.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        try sub.send(["SUBSCRIBE", "flood"])
        #expect(try sub.read().elements?.count == 3)
        let pub = try node.client()
        let before = processMemoryKB(node.pid).rss
        let payload = String(repeating: "x", count: 64 * 1024)
        var receivers: Int64 = 1
        var published = 0
        // 64 KB messages: the 1 MB hard limit is crossed after a few dozen (bounded loop).
        while receivers > 0 && published < 2000 {
            receivers = try pub.call("PUBLISH", "flood", payload).int ?? -1
            published += 1
        }
        #expect(receivers == 0, "subscriber still attached after \(published) messages")
        #expect(published < 2000)
        // The server dropped the connection (draining the kernel's buffers through a 4 KB window
        // would take minutes, so ask the server instead of reading to EOF).
        #expect(waitUntil(timeout: 5) { (try pub.call("INFO", "clients").string ?? "").contains("connected_clients:1\r\n") })
        let after = processMemoryKB(node.pid).rss
        #expect(after - before < 100_000, "RSS grew by \(after - before) kB")
        print("subscriberThatNeverReads: disconnected after \(published) messages of 64 KB, RSS \(before) -> \(after) kB")
        #expect(node.log().contains("output buffer limits"), "the disconnection is logged")
        #expect(try pub.call("PING") == .simpleString("PONG"))
    }

    @Test func giantUnreadPipelineHasBoundedMemory() throws {
        let node = try ServerProcess.vigilNode(args: Self.nodeArgs)
        defer { node.stop() }
        let count = 1_000_000
        let c = try TestClient(port: node.port, timeoutMillis: 120_000)
        let ping = Bytes("*1\r\n$4\r\nPING\r\n".utf8)
        var chunk = Bytes()
        chunk.reserveCapacity(ping.count * 10_000)
        for _ in 0..<10_000 { chunk += ping }
        // Write everything before reading a single byte of the replies.
        for _ in 0..<(count / 10_000) { try c.sendRaw(chunk) }
        let control = try node.client()
        #expect(try control.call("PING") == .simpleString("PONG"))
        let want = count * 7  // "+PONG\r\n"
        var got = 0
        var buf = Bytes(repeating: 0, count: 1 << 16)
        var ok = true
        while got < want {
            let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { ok = false; break }
            if got == 0 { ok = buf[0] == UInt8(ascii: "+") }
            got += n
        }
        #expect(ok && got == want, "read \(got) of \(want) reply bytes")
        let peak = processMemoryKB(node.pid).peak
        // 14 MB of requests and 7 MB of replies: the peak stays far below a copy per command.
        #expect(peak < 512_000, "peak RSS \(peak) kB")
        print("giantUnreadPipeline: \(count) PINGs unread, server peak RSS \(peak) kB")
        #expect(try control.call("PING") == .simpleString("PONG"))
    }
    @Test func sentinelSurvivesIdleConnectionsHalfFramesAndAnUnreadPipeline() throws {
        let sentinel = try ServerProcess(binary: Binaries.vigilSentinel, config: "# abuse test\n", configName: "sentinel.conf")
        defer { sentinel.stop() }
        var idle: [TestClient] = []
        for i in 0..<500 {
            let c = try TestClient(port: sentinel.port, timeoutMillis: 2000)
            if i % 50 == 0 { try c.sendRaw("*2\r\n$4\r\nPING\r\n$3\r\nab") }  // half-sent
            idle.append(c)
        }
        let control = try sentinel.client()
        #expect(try control.call("PING") == .simpleString("PONG"))
        let count = 200_000
        let c = try TestClient(port: sentinel.port, timeoutMillis: 60_000)
        let ping = Bytes("*1\r\n$4\r\nPING\r\n".utf8)
        var chunk = Bytes()
        for _ in 0..<10_000 { chunk += ping }
        for _ in 0..<(count / 10_000) { try c.sendRaw(chunk) }
        #expect(try control.call("PING") == .simpleString("PONG"))
        var got = 0
        var buf = Bytes(repeating: 0, count: 1 << 16)
        while got < count * 7 {
            let n = buf.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            got += n
        }
        #expect(got == count * 7)
        let peak = processMemoryKB(sentinel.pid).peak
        #expect(peak < 256_000, "sentinel peak RSS \(peak) kB")
        print("sentinel: 500 idle connections + \(count) unread PINGs, peak RSS \(peak) kB")
        idle.removeAll()
        #expect(try control.call("PING") == .simpleString("PONG"))
    }
}


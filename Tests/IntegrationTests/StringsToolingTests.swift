import Foundation
import Testing
import TestSupport
import Shared

/// Real Redis tools against vigil-node: redis-benchmark's string workloads and a redis-cli
/// --pipe mass insertion must complete, and the data they leave behind must be exact.
@Suite(.serialized) struct StringsToolingTests {
    @Test func redisBenchmarkStringWorkloads() throws {
        guard let bench = Binaries.which("redis-benchmark") else {
            Issue.record("redis-benchmark is not installed")
            return
        }
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let n = 10000
        let r = try runProgram(bench, ["-h", "127.0.0.1", "-p", String(node.port), "-t", "ping,set,get,incr,mset",
                                       "-c", "50", "-n", String(n), "-q"], timeout: 120)
        #expect(r.status == 0, "redis-benchmark failed: \(r.output)")
        for test in ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"] {
            #expect(r.output.contains("\(test): "), "no \(test) line in: \(r.output)")
        }
        #expect(!r.output.contains("ERR"), "error replies in: \(r.output)")
        // Every INCR reached the counter: nothing was lost or applied twice.
        let c = try node.client()
        #expect(try c.call("GET", "counter:__rand_int__") == .bulkString(Bytes(String(n).utf8)))
        #expect(try c.call("STRLEN", "key:__rand_int__") == .integer(3))
    }

    @Test func redisCliPipeMassInsertion() throws {
        guard let cli = Binaries.redisCli else {
            Issue.record("redis-cli is not installed")
            return
        }
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        let count = 100_000
        var input = ""
        input.reserveCapacity(count * 48)
        for i in 0..<count {
            let k = "key:\(i)", v = "value:\(i)"
            input += "*3\r\n$3\r\nSET\r\n$\(k.utf8.count)\r\n\(k)\r\n$\(v.utf8.count)\r\n\(v)\r\n"
        }
        let r = try runProgram(cli, ["-h", "127.0.0.1", "-p", String(node.port), "--pipe"], input: input, timeout: 120)
        #expect(r.status == 0, "redis-cli --pipe failed: \(r.output)")
        #expect(r.output.contains("errors: 0, replies: \(count)"), "unexpected summary: \(r.output)")
        let c = try node.client()
        #expect(try c.call("DBSIZE") == .integer(Int64(count)))
        #expect(try c.call("GET", "key:0") == .bulkString(Bytes("value:0".utf8)))
        #expect(try c.call("GET", "key:\(count - 1)") == .bulkString(Bytes("value:\(count - 1)".utf8)))
    }
}

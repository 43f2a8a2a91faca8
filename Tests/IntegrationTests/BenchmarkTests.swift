import Foundation
import Testing
import TestSupport
import Shared

/// redis-benchmark's test suites run to completion against vigil-node. Only completion and the
/// per-test report are checked; throughput numbers are never asserted.
@Suite(.serialized) struct BenchmarkTests {
    /// Runs redis-benchmark with `args` against `port`; returns (exit status, output) or nil if it
    /// is not installed. Output goes to a file so a long run cannot fill a pipe.
    static func runBenchmark(port: Int, _ args: [String]) throws -> (Int32, String)? {
        guard let bin = Binaries.which("redis-benchmark") else { return nil }
        let out = NSTemporaryDirectory() + "vigil-bench-\(UUID().uuidString.prefix(8)).txt"
        FileManager.default.createFile(atPath: out, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["-h", "127.0.0.1", "-p", String(port)] + args
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        let finished = waitUntil(timeout: 600, interval: 0.2) { !p.isRunning }
        if !finished { p.terminate(); p.waitUntilExit() }
        try handle.close()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return (finished ? p.terminationStatus : -1, text)
    }

    /// Final report lines (`NAME: N requests per second, ...`), by test name.
    static func reportedTests(_ output: String) -> [String] {
        output.split(whereSeparator: { $0 == "\r" || $0 == "\n" })
            .filter { $0.contains("requests per second") }
            .compactMap { line in line.range(of: ": ").map { String(line[..<$0.lowerBound]).trimmingCharacters(in: .whitespaces) } }
    }

    static let containerTests = ["LPUSH", "RPUSH", "LPOP", "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN",
                                 "LPUSH (needed to benchmark LRANGE)", "LRANGE_100 (first 100 elements)",
                                 "LRANGE_300 (first 300 elements)", "LRANGE_500 (first 500 elements)",
                                 "LRANGE_600 (first 600 elements)"]

    /// True when the node implements the strings family the full default suite needs.
    static var nodeHasStrings: Bool {
        guard let node = try? ServerProcess.vigilNode(args: ["--save", ""]) else { return false }
        defer { node.stop() }
        guard let reply = try? node.client().call("SET", "probe", "1") else { return false }
        return reply == .simpleString("OK")
    }

    @Test func containerSuitesComplete() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        guard let (status, output) = try Self.runBenchmark(port: node.port, ["-q", "-n", "20000", "-c", "50", "-t",
            "lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange"]) else {
            Issue.record("redis-benchmark is not installed")
            return
        }
        #expect(status == 0, "redis-benchmark failed:\n\(output.suffix(2000))")
        #expect(Self.reportedTests(output) == Self.containerTests, "\(output.suffix(2000))")
        #expect(node.isRunning)
    }

    @Test(.enabled(if: BenchmarkTests.nodeHasStrings, "the full default suite also needs SET, GET, INCR and MSET"))
    func fullDefaultSuiteCompletes() throws {
        let node = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { node.stop() }
        guard let (status, output) = try Self.runBenchmark(port: node.port, ["-q", "-n", "20000", "-c", "50"]) else {
            Issue.record("redis-benchmark is not installed")
            return
        }
        let expected = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR"] + Self.containerTests + ["MSET (10 keys)"]
        #expect(status == 0, "redis-benchmark failed:\n\(output.suffix(2000))")
        #expect(Self.reportedTests(output) == expected, "\(output.suffix(2000))")
        #expect(node.isRunning)
    }
}

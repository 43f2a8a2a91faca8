import Foundation
import Testing
import TestSupport

/// Every script in Scripts/ runs against redis-server and vigil-node; replies must match.
@Suite(.serialized) struct DifferentialTests {
    static let scriptDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts").path

    static var scripts: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: scriptDir)) ?? []).filter { $0.hasSuffix(".redis") }.sorted()
    }

    @Test(arguments: DifferentialTests.scripts)
    func script(_ name: String) throws {
        guard let redis = try ServerProcess.redisServer(args: ["--save", "", "--appendonly", "no"]) else {
            Issue.record("redis-server is not installed: scripts/test installs it")
            return
        }
        defer { redis.stop() }
        let vigil = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { vigil.stop() }
        let text = try String(contentsOfFile: Self.scriptDir + "/" + name, encoding: .utf8)
        let mismatches = try DifferentialRunner(redisPort: redis.port, vigilPort: vigil.port).run(script: text, name: name)
        for m in mismatches { Issue.record("\(m)") }
        #expect(mismatches.isEmpty)
    }
}

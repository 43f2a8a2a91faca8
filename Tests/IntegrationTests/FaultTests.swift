// The cheaper fault scenarios of scripts/faults.py, run as tests against the built binaries:
// kill -9 of the master under WAIT 1 loses no acknowledged write, and with two of three sentinels
// down a paused master is not failed over; coordinated switchovers lose nothing. (The SIGSTOP, partition and sentinel-restart scenarios
// take longer and stay in scripts/faults.) Needs python3 with redis-py (scripts/test installs it).
import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct FaultTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Runs scenarios and returns their table rows split into cells (scenario first).
    func run(_ scenarios: [String]) throws -> [[String]]? {
        // python3 from PATH (pyenv and friends), as scripts/test runs pytest.
        guard (try? runProgram("/usr/bin/env", ["python3", "-c", "import redis"]))?.status == 0 else {
            print("SKIP FaultTests: python3 with redis-py not installed"); return nil
        }
        let r = try runProgram("/usr/bin/env", ["VIGIL_BIN_DIR=\(Binaries.buildDir)", "python3", Self.root + "/scripts/faults.py"] + scenarios,
                               timeout: 180)
        #expect(r.status == 0, "\(r.output)")
        let rows = r.output.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| scenario") }
        return rows.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    @Test func killNineUnderWaitLosesNoAcknowledgedWrite() throws {
        guard let rows = try run(["kill9"]) else { return }
        #expect(rows.count == 1)
        guard let row = rows.first, row.count >= 5 else { Issue.record("no table row"); return }
        #expect((Int(row[1]) ?? 0) >= 200, "writes acknowledged: \(row)")
        #expect(row[2] == "0", "acknowledged writes lost: \(row)")
        #expect(row[4] == "failover", "\(row)")
    }

    /// SENTINEL FAILOVER m COORDINATED (and the plain form, which takes the same path with a
    /// reachable master) under plain SETs without WAIT: nothing acknowledged is lost, every round
    /// switches, and writes are held for under a second.
    @Test func coordinatedSwitchoverLosesNoAcknowledgedWrite() throws {
        guard let rows = try run(["switchover-quick", "switchover-plain-quick"]) else { return }
        #expect(rows.count == 2)
        for (row, rounds) in zip(rows, ["3/3", "2/2"]) {
            guard row.count >= 5 else { Issue.record("no table row"); continue }
            #expect((Int(row[1]) ?? 0) >= 300, "writes acknowledged: \(row)")
            #expect(row[2] == "0", "acknowledged writes lost: \(row)")
            #expect(row[4].hasPrefix(rounds + " rounds"), "\(row)")
            let pause = row[4].split(separator: " ").drop { $0 != "pause" }.dropFirst().first.flatMap { Int($0) } ?? 99_999
            #expect(pause <= 1500, "longest write pause: \(row)")
        }
    }

    /// The operator's `scripts/cluster switchover` (coordinated) under plain SETs: every round
    /// switches and nothing acknowledged is lost.
    @Test func clusterSwitchoverLosesNoAcknowledgedWrite() throws {
        guard let rows = try run(["cluster-switchover-quick"]) else { return }
        guard let row = rows.first, row.count >= 5 else { Issue.record("no table row"); return }
        #expect((Int(row[1]) ?? 0) >= 300, "writes acknowledged: \(row)")
        #expect(row[2] == "0", "acknowledged writes lost: \(row)")
        #expect(row[4].hasPrefix("2/2 rounds"), "\(row)")
    }

    @Test func twoSentinelsDownMeansNoFailoverAndNoHarm() throws {
        guard let rows = try run(["two-sentinels-down"]) else { return }
        guard let row = rows.first, row.count >= 5 else { Issue.record("no table row"); return }
        #expect((Int(row[1]) ?? 0) >= 100, "\(row)")
        #expect(row[2] == "0", "\(row)")
        #expect(row[4] == "no failover, master kept its role", "\(row)")
    }
}

import Foundation
import Testing
import TestSupport
import Shared

/// COMMAND, CLIENT, SHUTDOWN, MONITOR and connection limits, checked by rule (not vs redis).
@Suite(.serialized) struct ServerTests {
    func bulk(_ s: String) -> RESPValue { .bulkString(Bytes(s.utf8)) }

    @Test func commandCountMatchesCommandTable() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let c = try node.client()
        guard case .integer(let count) = try c.call("COMMAND", "COUNT") else { Issue.record("COUNT not an integer"); return }
        let all = try c.call("COMMAND").elements ?? []
        let list = try c.call("COMMAND", "LIST").elements ?? []
        #expect(count > 0)
        #expect(all.count == count)
        // LIST names the commands and, as Redis 7, their subcommands as `parent|sub`.
        let names = list.compactMap(\.string)
        #expect(names.filter { !$0.contains("|") }.count == count)
        #expect(names.contains("config|get") && names.contains("client|list"))
        // Every entry has Redis 7's ten fields, and the commands Sentinel sends are all there.
        #expect(all.allSatisfy { $0.elements?.count == 10 })
        for name in ["config", "client", "info", "ping", "command", "acl", "shutdown"] {
            #expect(list.contains(bulk(name)), "missing \(name)")
        }
        let info = try c.call("COMMAND", "INFO", "config", "nosuch").elements ?? []
        #expect(info.count == 2)
        #expect(info.first?.elements?.first == bulk("config"))
        #expect(info.last == .null)
    }

    @Test func interactiveRedisCliAsksForCommandDocs() throws {
        guard let cli = Binaries.redisCli else { Issue.record("redis-cli is not installed"); return }
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let monitor = try node.client()
        #expect(try monitor.call("MONITOR") == .simpleString("OK"))
        // A pseudo-terminal makes redis-cli interactive; TERM=dumb keeps linenoise in line mode.
        let r = try runProgram("/usr/bin/env", ["TERM=dumb", "/usr/bin/script", "-qec", "\(cli) -p \(node.port)", "/dev/null"],
                               input: "PING\nquit\n", timeout: 30)
        #expect(r.output.contains("PONG"))
        var seen: [String] = []
        let got = waitUntil(timeout: 10) {
            if case .simpleString(let line) = try monitor.read() { seen.append(line) }
            return seen.contains { $0.contains("\"COMMAND\" \"DOCS\"") } && seen.contains { $0.contains("\"PING\"") }
        }
        #expect(got, "monitor saw: \(seen)")
    }

    @Test func clientListFormatAndSentinelStyleKill() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let a = try node.client(), b = try node.client()
        #expect(try a.call("CLIENT", "SETNAME", "sentinel-1234abcd-cmd") == .simpleString("OK"))
        guard case .bulkString(let raw) = try a.call("CLIENT", "LIST") else { Issue.record("not a bulk"); return }
        let lines = String(decoding: raw, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let fields = lines.first?.split(separator: " ").map { String($0.split(separator: "=", maxSplits: 1).first ?? "") } ?? []
        #expect(fields == ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi",
                           "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem",
                           "events", "cmd", "user", "redir", "resp"])
        #expect(lines.contains { $0.contains("name=sentinel-1234abcd-cmd") && $0.contains("cmd=client|list") && $0.contains("flags=N") })
        guard case .integer(let bid) = try b.call("CLIENT", "ID") else { Issue.record("no id"); return }
        guard case .bulkString(let mine) = try b.call("CLIENT", "LIST", "ID", String(bid)) else { Issue.record("no list"); return }
        #expect(String(decoding: mine, as: UTF8.self).hasPrefix("id=\(bid) "))
        #expect(try a.call("CLIENT", "KILL", "TYPE", "normal") == .integer(1))
        #expect(b.isClosedByPeer())
        #expect(try a.call("PING") == .simpleString("PONG"))
    }

    @Test func shutdownNosaveStopsTheProcess() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let c = try node.client()
        #expect(try c.call("SHUTDOWN", "BOGUS") == .error("ERR syntax error"))
        try c.send(["SHUTDOWN", "NOSAVE"])
        #expect(node.waitExit(timeout: 10) == 0)
    }

    @Test func timeDebugSleepAndUnsupported() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        let c = try node.client()
        let t = try c.call("TIME").elements ?? []
        #expect(t.count == 2)
        if case .bulkString(let s) = t.first { #expect((Int(String(decoding: s, as: UTF8.self)) ?? 0) > 1_600_000_000) }
        #expect(try c.call("DEBUG", "SLEEP", "0") == .simpleString("OK"))
        // Scripting exists now (EVAL/FUNCTION); cluster mode still does not.
        #expect(try c.call("EVAL", "return 1", "0") == .integer(1))
        for cmd in [["CLUSTER", "INFO"]] {
            guard case .error(let e) = try c.call(cmd) else { Issue.record("\(cmd[0]) did not fail"); continue }
            #expect(e.hasPrefix("ERR \(cmd[0]) is not supported"))
        }
    }

    @Test func maxclientsRejectsExtraConnections() throws {
        let node = try ServerProcess.vigilNode(args: ["--maxclients", "2"])
        defer { node.stop() }
        let a = try node.client(), b = try node.client()
        #expect(try a.call("PING") == .simpleString("PONG"))
        #expect(try b.call("PING") == .simpleString("PONG"))
        let c = try node.client()
        #expect(try c.read() == .error("ERR max number of clients reached"))
    }

    @Test func idleTimeoutClosesClients() throws {
        let node = try ServerProcess.vigilNode(args: ["--timeout", "1"])
        defer { node.stop() }
        let c = try node.client()
        #expect(try c.call("PING") == .simpleString("PONG"))
        #expect(waitUntil(timeout: 10, interval: 0.1) { c.isClosedByPeer() })
    }

    @Test func protectedModeRefusesNonLoopbackPeers() throws {
        guard let ip = Self.nonLoopbackAddress() else { return }  // no such address on this machine: nothing to test
        let node = try ServerProcess.vigilNode(args: ["--bind", "0.0.0.0"])
        defer { node.stop() }
        let c = try TestClient(port: node.port, host: ip)
        guard case .error(let e) = try c.read() else { Issue.record("not refused"); return }
        #expect(e.hasPrefix("DENIED Redis is running in protected mode"))
        #expect(try node.client().call("PING") == .simpleString("PONG"))
    }

    static func nonLoopbackAddress() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>? = nil
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var p = list
        while let cur = p {
            if let sa = cur.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET) {
                var addr = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                var buf = [CChar](repeating: 0, count: 64)
                inet_ntop(AF_INET, &addr, &buf, 64)
                let s = String(cString: buf)
                if !s.hasPrefix("127.") { return s }
            }
            p = cur.pointee.ifa_next
        }
        return nil
    }
}

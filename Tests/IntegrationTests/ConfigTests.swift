import Foundation
import Testing
import TestSupport
import Shared

/// Config files: fatal reports, CONFIG REWRITE, `user` lines and requirepass.
@Suite(.serialized) struct ConfigTests {
    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "vigil-cfg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func badConfigFileExitsWithFatalReport() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bad.conf"
        try "# a comment\nport \(FreePort.next())\nmaxmemory 1x\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runProgram(Binaries.vigilNode, [path], timeout: 20)
        #expect(r.status == 1)
        #expect(r.output.contains("*** FATAL CONFIG FILE ERROR"))
        #expect(r.output.contains(path))
        #expect(r.output.contains("at line 3"))
        #expect(r.output.contains(">>> 'maxmemory 1x'"))
        #expect(r.output.contains("argument must be a memory value"))

        try "port 1\nnosuch-directive yes\n".write(toFile: path, atomically: true, encoding: .utf8)
        let u = try runProgram(Binaries.vigilNode, [path], timeout: 20)
        #expect(u.status == 1)
        #expect(u.output.contains("at line 2"))
        #expect(u.output.contains("Bad directive or wrong number of arguments"))

        let aof = try runProgram(Binaries.vigilNode, ["--port", "1", "--appendfsync", "sometimes"], timeout: 20)
        #expect(aof.status == 1)
        #expect(aof.output.contains("appendfsync"))
    }

    @Test func rewriteKeepsCommentsAndRoundTrips() throws {
        let port = FreePort.next()
        let conf = "# Operator notes: keep me\nport \(port)\n\n# timeout below\ntimeout 5\nsave \"\"\nactivedefrag no\n"
        let node = try ServerProcess.vigilNode(config: conf, port: port)
        defer { node.stop() }
        let c = try node.client()
        #expect(try c.call("CONFIG", "SET", "timeout", "7", "maxmemory", "2mb", "slave-priority", "42") == .simpleString("OK"))
        #expect(try c.call("CONFIG", "REWRITE") == .simpleString("OK"))
        let text = try String(contentsOfFile: node.configPath ?? "", encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "# Operator notes: keep me")
        #expect(lines.contains("# timeout below"))
        // Replaced in place, not duplicated.
        #expect(lines.filter { $0.hasPrefix("timeout ") } == ["timeout 7"])
        #expect(lines.firstIndex(of: "timeout 7") == lines.firstIndex(of: "# timeout below").map { $0 + 1 })
        #expect(lines.contains("maxmemory 2mb"))
        #expect(lines.contains("replica-priority 42"))
        #expect(lines.contains("activedefrag no"))
        #expect(!lines.contains { $0.hasPrefix("replicaof") })
        // A second rewrite changes nothing.
        #expect(try c.call("CONFIG", "REWRITE") == .simpleString("OK"))
        #expect(try String(contentsOfFile: node.configPath ?? "", encoding: .utf8) == text)

        node.stop()
        let again = try ServerProcess.vigilNode(config: text, port: port)
        defer { again.stop() }
        let c2 = try again.client()
        #expect(try c2.call("CONFIG", "GET", "timeout") == .array([.bulkString(Bytes("timeout".utf8)), .bulkString(Bytes("7".utf8))]))
        #expect(try c2.call("CONFIG", "GET", "maxmemory") == .array([.bulkString(Bytes("maxmemory".utf8)), .bulkString(Bytes("2097152".utf8))]))
        #expect(try c2.call("CONFIG", "GET", "slave-priority") == .array([.bulkString(Bytes("slave-priority".utf8)), .bulkString(Bytes("42".utf8))]))
    }

    @Test func rewriteWithoutConfigFileFails() throws {
        let node = try ServerProcess.vigilNode()
        defer { node.stop() }
        #expect(try node.client().call("CONFIG", "REWRITE") == .error("ERR The server is running without a config file"))
    }

    @Test func seedUserLinesAuthenticateWithRedisCli() throws {
        guard let cli = Binaries.redisCli else { Issue.record("redis-cli is not installed"); return }
        let conf = "user app on >s3cret ~* &* +@all\nuser ghost off >boo ~* &* +@all\n"
        let node = try ServerProcess.vigilNode(config: conf)
        defer { node.stop() }
        let ok = try runProgram(cli, ["-p", String(node.port), "--user", "app", "--pass", "s3cret", "--no-auth-warning", "ACL", "WHOAMI"])
        #expect(ok.output.trimmingCharacters(in: .whitespacesAndNewlines) == "app")
        let bad = try runProgram(cli, ["-p", String(node.port), "--user", "app", "--pass", "wrong", "--no-auth-warning", "PING"])
        #expect(bad.output.contains("WRONGPASS"))
        let off = try runProgram(cli, ["-p", String(node.port), "--user", "ghost", "--pass", "boo", "--no-auth-warning", "PING"])
        #expect(off.output.contains("WRONGPASS"))
        let list = try node.client().call("ACL", "LIST")
        let hash = SHA256.hex(Array("s3cret".utf8))
        #expect(list.elements?.contains(.bulkString(Bytes("user app on #\(hash) ~* &* +@all".utf8))) == true)
    }

    @Test func requirepassProtectsTheDefaultUser() throws {
        let node = try ServerProcess.vigilNode(args: ["--requirepass", "pw"], password: "pw")
        defer { node.stop() }
        let c = try node.client()
        #expect(try c.call("PING") == .error("NOAUTH Authentication required."))
        #expect(try c.call("AUTH", "nope") == .error("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(try c.call("AUTH", "pw") == .simpleString("OK"))
        #expect(try c.call("PING") == .simpleString("PONG"))
        // Changing it at run time applies to new connections; the old one stays authenticated.
        #expect(try c.call("CONFIG", "SET", "requirepass", "") == .simpleString("OK"))
        #expect(try node.client().call("PING") == .simpleString("PONG"))
        #expect(try c.call("CONFIG", "SET", "requirepass", "other") == .simpleString("OK"))
        let fresh = try node.client()
        #expect(try fresh.call("PING") == .error("NOAUTH Authentication required."))
        #expect(try fresh.call("AUTH", "default", "other") == .simpleString("OK"))
    }

    @Test func unimplementedDirectivesAreLogged() throws {
        let node = try ServerProcess.vigilNode(args: ["--activedefrag", "yes"])
        defer { node.stop() }
        #expect(waitUntil { node.log().contains("'activedefrag' is accepted but not implemented") })
    }
}

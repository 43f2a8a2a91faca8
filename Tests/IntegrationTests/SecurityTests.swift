// Security: protected mode (a non-loopback client of a password-less node gets Redis's DENIED
// text; the client lives in a network namespace the test creates, so needs root), requirepass on
// nodes and the sentinel, hellos only through authenticated links, and no password in any log or
// INFO output of a deployment that uses passwords everywhere.
import Foundation
import Shared
import Testing
import TestSupport

/// A network namespace joined to the root namespace by a veth pair (10.77.<n>.1 here, .2 inside).
/// Only these two addresses ever see traffic. nil when not root or `ip` is missing.
final class TestNetns {
    let name: String
    let hostIP: String
    let nsIP: String
    let hostIf: String
    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.fileExists(atPath: $0) }

    init?() {
        guard getuid() == 0, let ip = Self.ip else { return nil }
        let n = Int.random(in: 1...250)
        name = "vgl-sec-\(getpid())-\(n)"
        hostIf = "vgs\(n)a\(getpid() % 1000)"
        hostIP = "10.77.\(n).1"; nsIP = "10.77.\(n).2"
        let peer = "vgs\(n)b\(getpid() % 1000)"
        let steps: [[String]] = [
            ["netns", "add", name],
            ["link", "add", hostIf, "type", "veth", "peer", "name", peer],
            ["link", "set", peer, "netns", name],
            ["addr", "add", hostIP + "/30", "dev", hostIf],
            ["link", "set", hostIf, "up"],
            ["netns", "exec", name, ip, "addr", "add", nsIP + "/30", "dev", peer],
            ["netns", "exec", name, ip, "link", "set", peer, "up"],
            ["netns", "exec", name, ip, "link", "set", "lo", "up"],
        ]
        for s in steps where ((try? runProgram(ip, s, timeout: 10))?.status ?? 1) != 0 {
            cleanup(); return nil
        }
    }

    /// Runs a program inside the namespace.
    func run(_ program: String, _ args: [String]) -> String {
        guard let ip = Self.ip else { return "" }
        return (try? runProgram(ip, ["netns", "exec", name, program] + args, timeout: 15))?.output ?? ""
    }

    func cleanup() {
        guard let ip = Self.ip else { return }
        _ = try? runProgram(ip, ["link", "del", hostIf], timeout: 10)
        _ = try? runProgram(ip, ["netns", "del", name], timeout: 10)
    }
}

@Suite(.serialized) struct SecurityTests {
    @Test func protectedModeDeniesNonLoopbackClients() throws {
        guard let ns = TestNetns(), let cli = Binaries.redisCli else {
            print("SKIP protectedModeDeniesNonLoopbackClients: needs root, ip(8) and redis-cli for a network namespace"); return
        }
        defer { ns.cleanup() }
        let args = ["--save", "", "--appendonly", "no", "--protected-mode", "yes"]
        let node = try ServerProcess.vigilNode(args: args + ["--bind", "127.0.0.1", ns.hostIP])
        defer { node.stop() }
        let got = ns.run(cli, ["-h", ns.hostIP, "-p", String(node.port), "PING"])
        #expect(got.contains("DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user."), "\(got)")
        // The same text as redis-server's, word for word.
        if let redis = try ServerProcess.redisServer(args: args + ["--bind", "127.0.0.1", ns.hostIP]) {
            defer { redis.stop() }
            let want = ns.run(cli, ["-h", ns.hostIP, "-p", String(redis.port), "PING"])
            #expect(got.replacingOccurrences(of: String(node.port), with: "P") == want.replacingOccurrences(of: String(redis.port), with: "P"))
        }
        // The sentinel (protected-mode yes in its file, no requirepass) sends the same text.
        let sport = FreePort.next()
        let sentinel = try ServerProcess(binary: Binaries.vigilSentinel, port: sport,
                                         config: "port \(sport)\nbind 127.0.0.1 \(ns.hostIP)\nprotected-mode yes\n", configName: "sentinel.conf")
        defer { sentinel.stop() }
        let fromSentinel = ns.run(cli, ["-h", ns.hostIP, "-p", String(sport), "PING"])
        #expect(fromSentinel.replacingOccurrences(of: String(sport), with: "P") == got.replacingOccurrences(of: String(node.port), with: "P"), "\(fromSentinel)")
        #expect(try sentinel.client().call("PING") == .simpleString("PONG"))
        // Loopback clients are still served, and a password lifts the restriction.
        let c = try node.client()
        #expect(try c.call("PING") == .simpleString("PONG"))
        #expect(try c.call("CONFIG", "SET", "requirepass", "ns-pass-1") == .simpleString("OK"))
        let noAuth = ns.run(cli, ["-h", ns.hostIP, "-p", String(node.port), "PING"])
        #expect(noAuth.contains("NOAUTH"), "\(noAuth)")
        let authed = ns.run(cli, ["-h", ns.hostIP, "-p", String(node.port), "--no-auth-warning", "-a", "ns-pass-1", "PING"])
        #expect(authed.contains("PONG"), "\(authed)")
    }

    @Test func sentinelRequirepassAndAuthenticatedHellosOnly() throws {
        let nodePass = "NodePw-7c1e9", sentinelPass = "SentPw-44d0b"
        let master = try ServerProcess.vigilNode(args: ["--save", "", "--requirepass", nodePass, "--masterauth", nodePass], password: nodePass)
        defer { master.stop() }
        let replica = try ServerProcess.vigilNode(args: ["--save", "", "--requirepass", nodePass, "--masterauth", nodePass,
                                                         "--replicaof", "127.0.0.1", String(master.port)], password: nodePass)
        defer { replica.stop() }
        // The sentinel reads the master's INFO every 10 s: let the replica attach first.
        let mcheck = try master.client()
        _ = try mcheck.call("AUTH", nodePass)
        #expect(waitUntil(timeout: 10) { (try mcheck.call("INFO", "replication").string ?? "").contains("connected_slaves:1") })
        let sport = FreePort.next()
        let conf = """
        port \(sport)
        requirepass \(sentinelPass)
        sentinel monitor mymaster 127.0.0.1 \(master.port) 1
        sentinel down-after-milliseconds mymaster 400
        sentinel auth-pass mymaster \(nodePass)

        """
        let sentinel = try ServerProcess(binary: Binaries.vigilSentinel, port: sport, config: conf, configName: "sentinel.conf", password: sentinelPass)
        defer { sentinel.stop() }

        // The sentinel demands its password.
        let anon = try sentinel.client()
        #expect(try anon.call("PING").string?.hasPrefix("NOAUTH") == true)
        #expect(try anon.call("SENTINEL", "MASTERS").string?.hasPrefix("NOAUTH") == true)
        // A forged hello from an unauthenticated client is refused, on the sentinel and on the master.
        let fake = "127.0.0.1,1,0123456789012345678901234567890123456789,99,mymaster,127.0.0.1,\(master.port),99"
        #expect(try anon.call("PUBLISH", "__sentinel__:hello", fake).string?.hasPrefix("NOAUTH") == true)
        let anonMaster = try master.client()
        #expect(try anonMaster.call("PUBLISH", "__sentinel__:hello", fake).string?.hasPrefix("NOAUTH") == true)

        let s = try sentinel.client()
        #expect(try s.call("AUTH", sentinelPass) == .simpleString("OK"))
        // The sentinel's own links authenticate (auth-pass): it discovers the replica via INFO.
        let found = waitUntil(timeout: 10) { (try s.call("SENTINEL", "REPLICAS", "mymaster").elements?.count ?? 0) == 1 }
        #expect(found, "sentinel log:\n\(sentinel.log())\nreplica log:\n\(replica.log())")
        #expect(try s.call("SENTINEL", "SENTINELS", "mymaster").elements?.isEmpty == true, "the forged sentinel was not learned")
        #expect(try s.call("SENTINEL", "CKQUORUM", "mymaster").string?.hasPrefix("OK") == true)

        // ACL users on the node: a limited user, wrong passwords and forbidden keys get Redis's texts.
        let mc = try master.client()
        _ = try mc.call("AUTH", nodePass)
        let appPass = "AppPw-5a5a1"
        #expect(try mc.call("ACL", "SETUSER", "app", "on", ">" + appPass, "~app:*", "+get", "+set") == .simpleString("OK"))
        let app = try master.client()
        #expect(try app.call("AUTH", "app", "nope") == .error("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(try app.call("AUTH", "app", appPass) == .simpleString("OK"))
        #expect(try app.call("SET", "app:1", "x") == .simpleString("OK"))
        #expect(try app.call("SET", "other", "x").string?.hasPrefix("NOPERM") == true)
        #expect(try app.call("DEL", "app:1").string?.hasPrefix("NOPERM") == true)
        let aclList = try mc.call("ACL", "LIST").elements?.compactMap { $0.string }.joined(separator: "\n") ?? ""
        #expect(aclList.contains("user app on #"), "passwords are listed as hashes: \(aclList)")
        #expect(!aclList.contains(appPass))

        // No password anywhere in logs or INFO.
        let outputs = [master.log(), replica.log(), sentinel.log(),
                       try mc.call("INFO", "everything").string ?? "", try s.call("INFO").string ?? "",
                       try mc.call("CLIENT", "LIST").string ?? ""]
        for text in outputs {
            #expect(!text.contains(nodePass), "node password leaked")
            #expect(!text.contains(sentinelPass), "sentinel password leaked")
            #expect(!text.contains(appPass), "ACL user password leaked")
        }
        #expect(!outputs[0].isEmpty && !outputs[2].isEmpty, "logs were captured")
    }
}

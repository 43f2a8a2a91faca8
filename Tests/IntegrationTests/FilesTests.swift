// Files under faults: SIGKILL during SAVE and CONFIG REWRITE never leaves a torn file (always the
// old or the new one), a bind-mounted config file is rewritten in place with a logged warning, and
// a full disk makes BGSAVE fail visibly (INFO, log) with MISCONF on writes while reads go on.
// The bind-mount and full-disk cases need root (mount); they are skipped with a message otherwise.
import Foundation
import Shared
import Testing
import TestSupport

/// Runs mount/umount; false when not root or the call failed.
@discardableResult
func mountCommand(_ args: [String]) -> Bool {
    guard getuid() == 0, let bin = ["/usr/bin/mount", "/bin/mount"].first(where: { FileManager.default.fileExists(atPath: $0) }) else { return false }
    return ((try? runProgram(bin, args, timeout: 10))?.status ?? 1) == 0
}

@discardableResult
func umountCommand(_ path: String) -> Bool {
    guard let bin = ["/usr/bin/umount", "/bin/umount"].first(where: { FileManager.default.fileExists(atPath: $0) }) else { return false }
    return ((try? runProgram(bin, [path], timeout: 10))?.status ?? 1) == 0
}

@Suite(.serialized) struct FilesTests {
    static let baseArgs = ["--appendonly", "no", "--bind", "127.0.0.1"]

    /// Kills the node while SAVE writes its temp file (at different depths of the write), with
    /// complete saves in between; every restart must load a complete file whose generation marker
    /// is the last complete save or the interrupted one.
    @Test func rdbSaveIsNeverTornBySigkill() throws {
        let dir = NSTemporaryDirectory() + "vigil-files-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = FreePort.next()
        let args = Self.baseArgs + ["--save", "", "--dir", dir, "--port", String(port), "--rdbcompression", "no"]
        let value = String(repeating: "v", count: 8 * 1024)
        var lastComplete: Int? = nil
        var killedMidWrite = 0, checked = 0
        for gen in 0..<10 {
            let node = try ServerProcess(binary: Binaries.vigilNode, port: port, args: args, dir: dir)
            defer { node.stop() }
            let c = try node.client()
            let onDisk = try c.call("GET", "gen").string.flatMap { Int($0) }
            if let lastComplete {
                #expect(onDisk == lastComplete || onDisk == gen - 1, "generation \(String(describing: onDisk)) after gen \(gen - 1), last complete \(lastComplete)")
                #expect(try c.call("DBSIZE").int == 601)
                checked += 1
            }
            // ~5 MB of values so the write takes long enough to be interrupted.
            for k in stride(from: 0, to: 600, by: 100) {
                try c.send(["MSET"] + (k..<(k + 100)).flatMap { ["key:\($0)", value + String(gen)] })
                _ = try c.read()
            }
            #expect(try c.call("SET", "gen", String(gen)) == .simpleString("OK"))
            if gen % 2 == 0 {
                // A complete save, then a kill: the file must be this generation next time.
                #expect(try c.call("SAVE") == .simpleString("OK"))
                lastComplete = gen
            } else {
                try c.send(["SAVE"])
                let tmp = dir + "/temp-\(node.pid).rdb"
                let depth = UInt64((gen / 2) % 4) * 1_200_000  // 0, 1.2, 2.4, 3.6 MB into the write
                let caught = waitUntil(timeout: 5, interval: 0.0005) {
                    let size = (try? FileManager.default.attributesOfItem(atPath: tmp)[.size] as? UInt64) ?? nil
                    return (size ?? 0) >= depth && size != nil
                }
                if caught { killedMidWrite += 1 }
            }
            node.signal(SIGKILL)
            _ = node.waitExit()
        }
        #expect(checked == 9)
        print("rdbSaveIsNeverTornBySigkill: \(killedMidWrite)/5 interrupted saves were killed with the temp file present")
    }

    /// Same for CONFIG REWRITE, with a config file padded to make the rewrite window visible.
    @Test func configRewriteIsNeverTornBySigkill() throws {
        let dir = NSTemporaryDirectory() + "vigil-files-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = FreePort.next()
        let padding = (0..<20_000).map { "# padding line \($0) keeps the file big enough to be caught mid-write" }.joined(separator: "\n")
        let config = "port \(port)\nsave \"\"\nappendonly no\nbind 127.0.0.1\nmaxmemory 1000000\n\(padding)\n"
        let path = dir + "/node.conf"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        var expected: Set<String> = ["1000000"]
        for gen in 1...8 {
            let node = try ServerProcess(binary: Binaries.vigilNode, port: port, config: config, args: [], dir: dir)
            defer { node.stop() }
            let c = try node.client()
            let current = try c.call("CONFIG", "GET", "maxmemory").elements?.last?.string ?? "?"
            #expect(expected.contains(current), "maxmemory \(current) not one of \(expected)")
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            #expect(text.contains("# padding line 19999"), "the file lost its tail: torn")
            let next = String(1_000_000 + gen)
            #expect(try c.call("CONFIG", "SET", "maxmemory", next) == .simpleString("OK"))
            expected = [current, next]
            try c.send(["CONFIG", "REWRITE"])
            _ = waitUntil(timeout: 2, interval: 0.0005) {
                ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).contains { $0.hasPrefix("node.conf.tmp") }
                    || (try? String(contentsOfFile: path, encoding: .utf8))?.contains("maxmemory \(next)") == true
            }
            node.signal(SIGKILL)
            _ = node.waitExit()
        }
    }

    /// The sentinel rewrites its file on SENTINEL SET: killed mid-rewrite, the file is old or new.
    @Test func sentinelConfigIsNeverTornBySigkill() throws {
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        let dir = NSTemporaryDirectory() + "vigil-files-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = FreePort.next()
        let padding = (0..<20_000).map { "# padding line \($0) keeps the file big enough to be caught mid-write" }.joined(separator: "\n")
        let config = "port \(port)\nsentinel monitor m 127.0.0.1 \(master.port) 1\nsentinel down-after-milliseconds m 5000\n\(padding)\n"
        let path = dir + "/sentinel.conf"
        var expected: Set<String> = ["5000"]
        for gen in 1...6 {
            let s = try ServerProcess(binary: Binaries.vigilSentinel, port: port, config: config, configName: "sentinel.conf", dir: dir)
            defer { s.stop() }
            let c = try s.client()
            let fields = try c.call("SENTINEL", "MASTER", "m").elements?.compactMap { $0.string } ?? []
            let current = fields.firstIndex(of: "down-after-milliseconds").map { fields[$0 + 1] } ?? "?"
            #expect(expected.contains(current), "down-after \(current) not one of \(expected)")
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            #expect(text.contains("# padding line 19999"), "the sentinel file lost its tail: torn")
            #expect(text.contains("sentinel monitor m 127.0.0.1 \(master.port)"))
            let next = String(5000 + gen)
            try c.send(["SENTINEL", "SET", "m", "down-after-milliseconds", next])
            expected = [current, next]
            _ = waitUntil(timeout: 2, interval: 0.0005) {
                ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).contains { $0.hasPrefix("sentinel.conf.tmp") }
                    || (try? String(contentsOfFile: path, encoding: .utf8))?.contains("down-after-milliseconds m \(next)") == true
            }
            s.signal(SIGKILL)
            _ = s.waitExit()
        }
    }

    /// A config file that is itself a bind mount cannot be renamed over: the rewrite falls back
    /// to writing in place (with fsync) and says so in the log.
    @Test func bindMountedConfigIsRewrittenInPlace() throws {
        guard getuid() == 0 else { print("SKIP bindMountedConfigIsRewrittenInPlace: needs root for mount --bind"); return }
        let dir = NSTemporaryDirectory() + "vigil-files-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = FreePort.next()
        let host = dir + "/host.conf", target = dir + "/run/node.conf"
        try "port \(port)\nsave \"\"\nbind 127.0.0.1\n# a comment that must survive\n".write(toFile: host, atomically: true, encoding: .utf8)
        try "".write(toFile: target, atomically: true, encoding: .utf8)
        guard mountCommand(["--bind", host, target]) else { print("SKIP bindMountedConfigIsRewrittenInPlace: mount --bind failed"); return }
        defer { umountCommand(target) }
        let node = try ServerProcess(binary: Binaries.vigilNode, port: port, args: [target], dir: dir + "/run")
        defer { node.stop() }
        let c = try node.client()
        #expect(try c.call("CONFIG", "SET", "maxmemory", "7340032") == .simpleString("OK"))
        #expect(try c.call("CONFIG", "REWRITE") == .simpleString("OK"))
        let text = (try? String(contentsOfFile: host, encoding: .utf8)) ?? ""
        #expect(text.contains("maxmemory 7mb") || text.contains("maxmemory 7340032"), "\(text)")
        #expect(text.contains("# a comment that must survive"))
        #expect(node.log().contains("could not be replaced atomically"), "\(node.log())")
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/run")) ?? []).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty, "temp files left: \(leftovers)")
    }

    /// The same fallback for the sentinel's file (it rewrites it on SENTINEL SET).
    @Test func bindMountedSentinelConfigIsRewrittenInPlace() throws {
        guard getuid() == 0 else { print("SKIP bindMountedSentinelConfigIsRewrittenInPlace: needs root for mount --bind"); return }
        let master = try ServerProcess.vigilNode(args: ["--save", ""])
        defer { master.stop() }
        let dir = NSTemporaryDirectory() + "vigil-files-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = FreePort.next()
        let host = dir + "/host.conf", target = dir + "/run/sentinel.conf"
        try "port \(port)\nsentinel monitor m 127.0.0.1 \(master.port) 1\n# kept comment\n".write(toFile: host, atomically: true, encoding: .utf8)
        try "".write(toFile: target, atomically: true, encoding: .utf8)
        guard mountCommand(["--bind", host, target]) else { print("SKIP bindMountedSentinelConfigIsRewrittenInPlace: mount --bind failed"); return }
        defer { umountCommand(target) }
        let s = try ServerProcess(binary: Binaries.vigilSentinel, port: port, args: [target], dir: dir + "/run")
        defer { s.stop() }
        #expect(try s.client().call("SENTINEL", "SET", "m", "down-after-milliseconds", "4321") == .simpleString("OK"))
        #expect(waitUntil(timeout: 5) {
            ((try? String(contentsOfFile: host, encoding: .utf8)) ?? "").contains("down-after-milliseconds m 4321")
        })
        #expect(((try? String(contentsOfFile: host, encoding: .utf8)) ?? "").contains("# kept comment"))
        #expect(s.log().contains("not atomic"), "\(s.log())")
    }

    /// A tiny tmpfs as `dir`: BGSAVE fails, INFO and the log say so, reads go on, writes get MISCONF.
    @Test func fullDiskMakesBgsaveFailVisibly() throws {
        guard getuid() == 0 else { print("SKIP fullDiskMakesBgsaveFailVisibly: needs root to mount a tmpfs"); return }
        let base = NSTemporaryDirectory() + "vigil-files-\(UUID().uuidString.prefix(8))"
        let data = base + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        guard mountCommand(["-t", "tmpfs", "-o", "size=256k", "tmpfs", data]) else {
            print("SKIP fullDiskMakesBgsaveFailVisibly: mount -t tmpfs failed"); return
        }
        defer { umountCommand(data) }
        let node = try ServerProcess(binary: Binaries.vigilNode, args: Self.baseArgs + ["--dir", data, "--save", "3600 1",
                                                                                     "--stop-writes-on-bgsave-error", "yes"], dir: base)
        defer { node.stop() }
        let c = try node.client()
        // 1 MB of incompressible-enough data cannot fit in 256 KB.
        var rng = SplitMix(state: 42)
        for i in 0..<16 {
            let v = String(decoding: rng.bytes(64 * 1024).map { 0x61 + $0 % 26 }, as: UTF8.self)
            #expect(try c.call("SET", "big:\(i)", v) == .simpleString("OK"))
        }
        #expect(try c.call("BGSAVE").string?.contains("Background saving started") == true)
        #expect(waitUntil(timeout: 10) {
            (try c.call("INFO", "persistence").string ?? "").contains("rdb_last_bgsave_status:err")
        })
        #expect(node.log().contains("Background saving error"), "\(node.log())")
        #expect(try c.call("GET", "big:0").string?.count == 64 * 1024)
        let w = try c.call("SET", "k", "v")
        #expect(w.string?.hasPrefix("MISCONF") == true || "\(w)".contains("MISCONF"), "\(w)")
        // With stop-writes-on-bgsave-error no, writes go through again.
        #expect(try c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no") == .simpleString("OK"))
        #expect(try c.call("SET", "k", "v") == .simpleString("OK"))
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: data)) ?? []).filter { $0.hasPrefix("temp-") }
        #expect(leftovers.isEmpty, "temp files left on the full disk: \(leftovers)")
    }
}

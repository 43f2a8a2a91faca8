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

    /// Kills the node while SAVE writes its temp file, again and again; every restart must load a
    /// complete file whose generation marker is the last good save or the interrupted one.
    @Test func rdbSaveIsNeverTornBySigkill() throws {
        let dir = NSTemporaryDirectory() + "vigil-files-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = FreePort.next()
        let args = Self.baseArgs + ["--save", "", "--dir", dir, "--port", String(port)]
        let value = String(repeating: "v", count: 8 * 1024)
        var lastGood: Int? = nil  // generation known to be fully on disk
        var killedMidWrite = 0
        for gen in 0..<8 {
            let node = try ServerProcess(binary: Binaries.vigilNode, port: port, args: args, dir: dir)
            defer { node.stop() }
            let c = try node.client()
            let onDisk = try c.call("GET", "gen").string.flatMap { Int($0) }
            if let lastGood {
                // The file is the previous complete save or the one killed mid-way, never torn.
                #expect(onDisk == lastGood || onDisk == gen - 1, "generation \(String(describing: onDisk)) after kill in gen \(gen)")
                let n = try c.call("DBSIZE").int ?? -1
                #expect(n == 0 || n == 1 + 600, "DBSIZE \(n)")
            }
            if let onDisk { lastGood = onDisk }
            // ~5 MB of values so the write takes long enough to be interrupted.
            for k in stride(from: 0, to: 600, by: 100) {
                try c.send(["MSET"] + (k..<(k + 100)).flatMap { ["key:\($0)", value + String(gen)] })
                _ = try c.read()
            }
            #expect(try c.call("SET", "gen", String(gen)) == .simpleString("OK"))
            try c.send(["SAVE"])
            let tmp = dir + "/temp-\(node.pid).rdb"
            // Kill as soon as the temp file exists (or the save finished first).
            _ = waitUntil(timeout: 5, interval: 0.001) { FileManager.default.fileExists(atPath: tmp) }
            if FileManager.default.fileExists(atPath: tmp) { killedMidWrite += 1 }
            node.signal(SIGKILL)
            _ = node.waitExit()
        }
        // Leftover temp files are fine (Redis leaves them too); the real file is what matters.
        let final = try ServerProcess(binary: Binaries.vigilNode, port: port, args: args, dir: dir)
        defer { final.stop() }
        #expect(try final.client().call("PING") == .simpleString("PONG"))
        print("rdbSaveIsNeverTornBySigkill: \(killedMidWrite)/8 kills landed while the temp file existed")
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

// Starts real processes (vigil-node, vigil-sentinel, redis-server, redis-sentinel) on free
// loopback ports for integration tests, waits until they answer, and always stops them.
import Foundation
import Shared

/// Where the binaries are.
public enum Binaries {
    /// The package's build directory holding vigil-node and vigil-sentinel (debug unless
    /// VIGIL_BIN_DIR points elsewhere, e.g. a release build).
    public static var buildDir: String {
        if let d = ProcessInfo.processInfo.environment["VIGIL_BIN_DIR"] { return d }
        // .../Tests/TestSupport/ServerProcess.swift → package root
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").path
    }
    public static var vigilNode: String { buildDir + "/vigil-node" }
    public static var vigilSentinel: String { buildDir + "/vigil-sentinel" }
    public static func which(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let p = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
    public static var redisServer: String? { which("redis-server") }
    public static var redisSentinel: String? { which("redis-sentinel") }
    public static var redisCli: String? { which("redis-cli") }
}

/// Free TCP ports on loopback, handed out without reuse within one test process.
public enum FreePort {
    nonisolated(unsafe) private static var used: Set<Int> = []
    private static let lock = NSLock()

    /// A port nothing listens on now (bind to 0, read, close).
    public static func next() -> Int {
        lock.lock(); defer { lock.unlock() }
        while true {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = 0
            inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            close(fd)
            let p = Int(UInt16(bigEndian: addr.sin_port))
            // Keep clear of port+10000-style neighbours some tests use (cluster bus is not used).
            if p < 60000 && !used.contains(p) { used.insert(p); return p }
        }
    }
}

/// Polls `condition` until it holds or `timeout` seconds pass. No fixed sleeps.
@discardableResult
public func waitUntil(timeout: Double = 10, interval: Double = 0.02, _ condition: () throws -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if (try? condition()) == true { return true }
        Thread.sleep(forTimeInterval: interval)
    }
    return (try? condition()) == true
}

/// A running server process with its own temp directory; stopped on `stop()` or deinit.
public final class ServerProcess {
    public let port: Int
    public let dir: String
    public let process: Process
    public let logPath: String
    public let configPath: String?

    /// Starts `binary` with `args` in a fresh temp dir; `config` (if given) is written to
    /// `<dir>/<configName>` and passed as the first argument.
    public init(binary: String, port: Int? = nil, config: String? = nil, configName: String = "node.conf",
                args: [String] = [], dir: String? = nil, waitReady: Bool = true, password: String? = nil) throws {
        let p = port ?? FreePort.next()
        self.port = p
        let d = dir ?? NSTemporaryDirectory() + "vigil-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        self.dir = d
        self.logPath = d + "/server.log"
        var argv: [String] = []
        if let config {
            let cp = d + "/" + configName
            try config.write(toFile: cp, atomically: true, encoding: .utf8)
            argv.append(cp)
            configPath = cp
        } else { configPath = nil }
        argv += args
        if !args.contains("--port") && config.map({ !$0.contains("port ") }) ?? true { argv += ["--port", String(p)] }
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: binary)
        proc.arguments = argv
        proc.currentDirectoryURL = URL(fileURLWithPath: d)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let fh = FileHandle(forWritingAtPath: logPath)
        proc.standardOutput = fh
        proc.standardError = fh
        try proc.run()
        self.process = proc
        if waitReady {
            let ok = waitUntil(timeout: 10) {
                guard proc.isRunning else { return false }
                let c = try TestClient(port: p, timeoutMillis: 1000)
                if let password { _ = try c.call("AUTH", password) }
                let r = try c.call("PING")
                return r == .simpleString("PONG") || r.isError
            }
            if !ok {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                stop()
                throw TestClientError("server on port \(p) did not become ready; log:\n\(log)")
            }
        }
    }

    /// Starts vigil-node.
    public static func vigilNode(config: String? = nil, args: [String] = [], port: Int? = nil, password: String? = nil) throws -> ServerProcess {
        try ServerProcess(binary: Binaries.vigilNode, port: port, config: config, args: args, password: password)
    }

    /// Starts redis-server (nil if not installed).
    public static func redisServer(config: String? = nil, args: [String] = [], port: Int? = nil, password: String? = nil) throws -> ServerProcess? {
        guard let bin = Binaries.redisServer else { return nil }
        return try ServerProcess(binary: bin, port: port, config: config, args: args, password: password)
    }

    public func client(timeoutMillis: Int = 5000) throws -> TestClient { try TestClient(port: port, timeoutMillis: timeoutMillis) }

    public var isRunning: Bool { process.isRunning }
    public var pid: Int32 { process.processIdentifier }

    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends a signal (SIGKILL, SIGSTOP, SIGCONT...).
    public func signal(_ sig: Int32) { if process.isRunning { kill(process.processIdentifier, sig) } }

    /// Stops the process (SIGTERM, then SIGKILL after `grace` seconds) and waits for it.
    public func stop(grace: Double = 5) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGCONT)
        process.terminate()
        if !waitUntil(timeout: grace, { !process.isRunning }) {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Waits for the process to exit on its own; returns its status or nil on timeout.
    public func waitExit(timeout: Double = 10) -> Int32? {
        waitUntil(timeout: timeout) { !process.isRunning } ? process.terminationStatus : nil
    }

    deinit { stop(grace: 1) }
}

/// Runs a program to completion and returns (status, stdout+stderr).
@discardableResult
public func runProgram(_ path: String, _ args: [String], input: String? = nil, timeout: Double = 60) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    let inPipe = Pipe()
    if input != nil { p.standardInput = inPipe }
    try p.run()
    if let input {
        inPipe.fileHandleForWriting.write(input.data(using: .utf8)!)
        try? inPipe.fileHandleForWriting.close()
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

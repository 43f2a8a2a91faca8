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

/// A child process spawned with posix_spawn, with default signal dispositions and an empty
/// signal mask (Foundation's Process lets the test runner's blocked signals leak into children,
/// so a real redis-server would ignore SIGTERM).
public final class ChildProcess {
    public let pid: pid_t
    private var exitStatus: Int32? = nil

    public init(path: String, args: [String], cwd: String, output: String) throws {
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fa, 1, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t(); sigemptyset(&empty)
        var all = sigset_t(); sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)
        // `env -C` changes directory then execs the program, so the pid is the program's own
        // (posix_spawn_file_actions_addchdir_np needs _GNU_SOURCE, which Foundation tests cannot take).
        let argv = (["/usr/bin/env", "-C", cwd, path] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var p: pid_t = 0
        let r = posix_spawn(&p, "/usr/bin/env", &fa, &attr, argv, environ)
        guard r == 0 else { throw TestClientError("posix_spawn \(path) failed: \(r)") }
        pid = p
    }

    /// True until the child exited (reaps it when it did).
    public var isRunning: Bool {
        if exitStatus != nil { return false }
        var st: Int32 = 0
        let r = waitpid(pid, &st, WNOHANG)
        if r == pid { exitStatus = st; return false }
        return r == 0
    }

    /// Exit code (or 128+signal) once exited.
    public var terminationStatus: Int32 {
        guard let st = exitStatus else { return -1 }
        if st & 0x7f == 0 { return (st >> 8) & 0xff }
        return 128 + (st & 0x7f)
    }

    public func signal(_ sig: Int32) { if isRunning { kill(pid, sig) } }

    /// Blocks until the child exits.
    public func wait() {
        guard exitStatus == nil else { return }
        var st: Int32 = 0
        if waitpid(pid, &st, 0) == pid { exitStatus = st }
    }
}

/// A running server process with its own temp directory; stopped on `stop()` or deinit.
public final class ServerProcess {
    public let port: Int
    public let dir: String
    public let process: ChildProcess
    public let logPath: String
    public let configPath: String?
    public let binary: String
    public let arguments: [String]

    /// Starts `binary` with `args` in a fresh temp dir; `config` (if given) is written to
    /// `<dir>/<configName>` and passed as the first argument.
    public init(binary: String, port: Int? = nil, config: String? = nil, configName: String = "node.conf",
                args: [String] = [], dir: String? = nil, waitReady: Bool = true, password: String? = nil) throws {
        let p = port ?? FreePort.next()
        self.port = p
        self.binary = binary
        let d = dir ?? NSTemporaryDirectory() + "vigil-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        self.dir = d
        self.logPath = d + "/server.log"
        var argv: [String] = []
        if let config {
            let cp = d + "/" + configName
            if !FileManager.default.fileExists(atPath: cp) || dir == nil {
                try config.write(toFile: cp, atomically: true, encoding: .utf8)
            }
            argv.append(cp)
            configPath = cp
        } else { configPath = nil }
        argv += args
        if !args.contains("--port") && config.map({ !$0.contains("port ") }) ?? true { argv += ["--port", String(p)] }
        self.arguments = argv
        process = try ChildProcess(path: binary, args: argv, cwd: d, output: logPath)
        if waitReady {
            let proc = process
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

    /// Starts the same binary again in the same directory with the same arguments (restarts).
    public func restart(waitReady: Bool = true, password: String? = nil) throws -> ServerProcess {
        try ServerProcess(binary: binary, port: port, config: nil, args: arguments, dir: dir, waitReady: waitReady, password: password)
    }

    public func client(timeoutMillis: Int = 5000) throws -> TestClient { try TestClient(port: port, timeoutMillis: timeoutMillis) }

    public var isRunning: Bool { process.isRunning }
    public var pid: Int32 { process.pid }

    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends a signal (SIGKILL, SIGSTOP, SIGCONT...).
    public func signal(_ sig: Int32) { process.signal(sig) }

    /// Stops the process (SIGTERM, then SIGKILL after `grace` seconds) and waits for it.
    public func stop(grace: Double = 5) {
        guard process.isRunning else { return }
        process.signal(SIGCONT)
        process.signal(SIGTERM)
        if !waitUntil(timeout: grace, interval: 0.01, { !process.isRunning }) {
            process.signal(SIGKILL)
            process.wait()
        }
    }

    /// Waits for the process to exit on its own; returns its status or nil on timeout.
    public func waitExit(timeout: Double = 10) -> Int32? {
        waitUntil(timeout: timeout, interval: 0.01) { !process.isRunning } ? process.terminationStatus : nil
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

// Start-up: parse argv and the config file (`dir` takes effect as it is read, `sentinel` lines once
// the whole file is read, as in Redis), insist on a writable config (the state lives there),
// create and persist our id, bind, and run the loop with the timer at a jittered ~10 Hz.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// The process entry point, separate from main.swift so tests can reach the pieces.
enum SentinelMain {
    static func writeStderr(_ s: String) {
        var b = Array(s.utf8)
        _ = b.withUnsafeMutableBytes { write(2, $0.baseAddress!, $0.count) }
    }

    static func absolutePath(_ p: String) -> String { p.hasPrefix("/") ? p : Posix.getcwd() + "/" + p }

    /// Loads the configuration into `sentinel`; returns an error text to print, or nil.
    static func load(_ argv: [String], into sentinel: Sentinel, now: Int64) -> String? {
        var args = argv
        guard let first = args.first, !first.hasPrefix("--") else {
            return "Sentinel needs config file on disk to save state. Exiting...\n"
        }
        args.removeFirst()
        let path = absolutePath(first)
        do {
            let file = try ConfigFile.load(path: path)
            sentinel.settings.configFile = path
            try sentinel.loadConfig(file.directives + ConfigFile.parseCommandLine(args), now: now)
        } catch let e as ConfigError {
            return e.description
        } catch {
            return "\(error)\n"
        }
        if !Posix.isWritable(path) {
            return "Sentinel config file \(path) is not writable: \(Posix.strerror(Posix.writableError(path)?.errnoCode ?? 0)). Exiting...\n"
        }
        return nil
    }

    /// Runs the sentinel; returns the exit status.
    static func run(_ argv: [String]) -> Int32 {
        if let a = argv.first, a == "-v" || a == "--version" {
            print("Vigil sentinel v=\(VigilVersion.string) redis-compat=\(VigilVersion.redisCompat) bits=64")
            return 0
        }
        Posix.ignoreSIGPIPE()
        let log = Logger()
        log.role = "X"
        let sentinel = Sentinel(log: log, clock: .system)
        let now = sentinel.clock.monotonicMillis()
        if let err = load(argv, into: sentinel, now: now) {
            log.warning(err.hasSuffix("\n") ? String(err.dropLast()) : err)
            return 1
        }
        log.level = sentinel.settings.loglevel
        do { try log.setFile(sentinel.settings.logfile) } catch {
            writeStderr("Can't open the log file: \(error)\n")
            return 1
        }
        if sentinel.settings.daemonize && !Posix.daemonize() { return 1 }
        let loop: EventLoop
        do { loop = try EventLoop() } catch {
            log.warning("Failed creating the event loop: \(error)")
            return 1
        }
        sentinel.loop = loop
        log.warning("oO0OoO0OoO0Oo Vigil is starting oO0OoO0OoO0Oo")
        log.warning("Vigil version=\(VigilVersion.string) (redis \(VigilVersion.redisCompat) compatible), bits=64, pid=\(getpid()), just started")
        log.warning("Configuration loaded")
        let server = SentinelServer(sentinel: sentinel, loop: loop)
        do { try server.start() } catch {
            log.warning("Failed listening on port \(sentinel.settings.port) (tcp), aborting.")
            return 1
        }
        log.notice("Running mode=sentinel, port=\(sentinel.settings.port).")
        if sentinel.settings.httpPort != 0 {
            do { try server.startHTTP() } catch {
                log.warning("Failed listening on HTTP port \(sentinel.settings.httpPort), aborting.")
                return 1
            }
        }
        if sentinel.myID.isEmpty {
            sentinel.myID = RunID.make()
            if !sentinel.flushConfig() { return 1 }
        } else {
            sentinel.flushConfig()
        }
        log.notice("Sentinel ID is \(sentinel.myID)")
        for m in sentinel.masters.values.sorted(by: { $0.name < $1.name }) {
            sentinel.event(.warning, "+monitor", m, "quorum \(m.quorum)")
        }
        if !sentinel.settings.pidfile.isEmpty {
            try? Posix.writeFileAtomically(sentinel.settings.pidfile, Array("\(getpid())\n".utf8))
        }
        do {
            try loop.handleSignals([SIGTERM, SIGINT]) { sig in
                log.warning("Received \(sig == SIGINT ? "SIGINT" : "SIGTERM") scheduling shutdown...")
                sentinel.flushConfig()
                loop.stop()
            }
        } catch { log.warning("Can't set up signal handling: \(error)") }
        // Jittered period so sentinels that start together drift apart. Faster than Redis's hz
        // 10–19: every stage of failure handling waits for a tick, and a tick is cheap.
        loop.every({ 20 + Int64(UInt64.random(in: 0..<30)) }) {
            sentinel.tick(now: sentinel.clock.monotonicMillis())
        }
        loop.run()
        log.warning("Sentinel is now ready to exit, bye bye...")
        if !sentinel.settings.pidfile.isEmpty { Posix.unlink(sentinel.settings.pidfile) }
        return 0
    }

}

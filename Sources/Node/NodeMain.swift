// Start-up and shutdown of the node process.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// The process entry point, separated from main.swift so tests can reach the pieces.
enum NodeMain {
    static func usage() -> String {
        """
        Usage: ./vigil-node [/path/to/redis.conf] [options] [-]
               ./vigil-node - (read config from stdin)
               ./vigil-node -v or --version
               ./vigil-node -h or --help

        Examples:
               ./vigil-node (run the server with default config)
               ./vigil-node /etc/redis/6379.conf
               ./vigil-node --port 7777
               ./vigil-node --port 7777 --replicaof 127.0.0.1 8888
               ./vigil-node /etc/myredis.conf --loglevel verbose

        """
    }

    /// Parses argv into a configuration; prints errors like redis-server and returns nil on failure.
    static func loadConfig(_ argv: [String]) -> ServerConfig? {
        loadConfigReportingUnimplemented(argv)?.config
    }

    /// As `loadConfig`, also returning the accepted-but-unimplemented directives that were set.
    static func loadConfigReportingUnimplemented(_ argv: [String]) -> (config: ServerConfig, unimplemented: [String])? {
        var args = argv
        let config = ServerConfig()
        var directives: [ConfigDirective] = []
        var unimplemented: [String] = []
        do {
            if let first = args.first, !first.hasPrefix("--") || first == "-" {
                args.removeFirst()
                if first == "-" {
                    var text = ""
                    while let line = readLine(strippingNewline: false) { text += line }
                    directives += try ConfigFile.parse(text, path: "(stdin)").directives
                } else {
                    let path = absolutePath(first)
                    config.configFile = path
                    directives += try ConfigFile.load(path: path).directives
                }
            }
            directives += try ConfigFile.parseCommandLine(args)
            unimplemented = try ConfigTable.shared.load(directives, into: config)
        } catch let e as ConfigError {
            writeStderr(e.description)
            return nil
        } catch {
            writeStderr("\(error)\n")
            return nil
        }
        return (config, unimplemented)
    }

    static func absolutePath(_ p: String) -> String {
        p.hasPrefix("/") ? p : Posix.getcwd() + "/" + p
    }

    static func writeStderr(_ s: String) {
        var b = Array(s.utf8)
        _ = b.withUnsafeMutableBytes { write(2, $0.baseAddress!, $0.count) }
    }

    static func run(_ argv: [String]) -> Int32 {
        if let a = argv.first {
            if a == "-v" || a == "--version" {
                print("Vigil server v=\(VigilVersion.string) redis-compat=\(VigilVersion.redisCompat) bits=64")
                return 0
            }
            if a == "-h" || a == "--help" { print(usage()); return 0 }
        }
        Posix.ignoreSIGPIPE()
        // SORT ... ALPHA collates in the environment's locale, as redis-server does.
        _ = setlocale(LC_COLLATE, "")
        guard let (config, unimplemented) = loadConfigReportingUnimplemented(argv) else { return 1 }
        let log = Logger()
        log.level = config.loglevel
        // Redis changes directory when it reads `dir`, so a relative logfile lives in `dir`.
        do { try Posix.chdir(config.dir) } catch {
            writeStderr("Can't chdir to '\(config.dir)': \(error)\n")
            return 1
        }
        config.dir = Posix.getcwd()
        do { try log.setFile(config.logfile) } catch {
            writeStderr("Can't open the log file: \(error)\n")
            return 1
        }
        if config.daemonize && !Posix.daemonize() { return 1 }
        let loop: EventLoop
        do { loop = try EventLoop() } catch {
            log.warning("Failed creating the event loop: \(error)")
            return 1
        }
        let server = Server(config: config, loop: loop, log: log)
        log.notice("oO0OoO0OoO0Oo Vigil is starting oO0OoO0OoO0Oo")
        log.notice("Vigil version=\(VigilVersion.string) (redis \(VigilVersion.redisCompat) compatible), bits=64, pid=\(getpid()), just started")
        if let f = config.configFile { log.notice("Configuration loaded from \(f)") } else {
            log.warning("Warning: no config file specified, using the default config. In order to specify a config file use ./vigil-node /path/to/redis.conf")
        }
        for name in unimplemented {
            log.warning("Warning: config directive '\(name)' is accepted but not implemented by vigil-node; it has no effect")
        }
        // Listen before loading, as Redis: while the dataset loads, clients get -LOADING instead
        // of a refused connection (a sentinel then knows the node is alive, but not ready).
        do {
            try server.configureUsers()
            try server.start()
            try server.startSubsystems()
        } catch {
            log.warning("Failed to start: \(error)")
            return 1
        }
        if !config.pidfile.isEmpty { writePidfile(config.pidfile, log) }
        do {
            try loop.handleSignals([SIGTERM, SIGINT]) { sig in
                log.warning("Received \(sig == SIGINT ? "SIGINT" : "SIGTERM") scheduling shutdown...")
                server.requestShutdown(save: nil, now: false, force: false)
            }
        } catch { log.warning("Can't set up signal handling: \(error)") }
        log.notice("Server initialized")
        log.notice("Ready to accept connections tcp")
        loop.run()
        if !config.pidfile.isEmpty { Posix.unlink(config.pidfile) }
        return server.exitStatus
    }

    static func writePidfile(_ path: String, _ log: Logger) {
        do { try Posix.writeFileAtomically(path, Array("\(getpid())\n".utf8)) } catch {
            log.warning("Failed to write PID file: \(error)")
        }
    }

}

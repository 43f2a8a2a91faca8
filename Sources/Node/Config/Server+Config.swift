// CONFIG GET / SET / REWRITE / RESETSTAT / HELP, and the side effects of changing a directive at
// run time (requirepass reaches the ACL, loglevel the logger). SET is atomic: every pair is
// checked first, and a failure while applying restores every value already changed.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension Server {
    /// The CONFIG command.
    func configCommand(_ c: Client) throws {
        let sub = c.option(1)
        switch sub {
        case "GET":
            guard c.argc >= 3 else { throw CommandError.wrongArity("config|get") }
            configGet(c)
        case "SET":
            guard c.argc >= 4, c.argc % 2 == 0 else { throw CommandError.wrongArity("config|set") }
            try configSet(c)
        case "REWRITE":
            guard c.argc == 2 else { throw CommandError.wrongArity("config|rewrite") }
            guard config.configFile != nil else { throw CommandError("ERR The server is running without a config file") }
            do { try rewriteConfig() } catch {
                log.warning("CONFIG REWRITE failed: \(error)")
                throw CommandError("ERR Rewriting config file: \(error)")
            }
            log.notice("CONFIG REWRITE executed with success.")
            c.out.ok()
        case "RESETSTAT":
            guard c.argc == 2 else { throw CommandError.wrongArity("config|resetstat") }
            resetStats()
            c.out.ok()
        case "HELP":
            guard c.argc == 2 else { throw CommandError.wrongArity("config|help") }
            replyHelp(c, "CONFIG", [
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
            ])
        default:
            throw CommandError.unknownSubcommand(c.arg(1), "CONFIG")
        }
    }

    /// Writes Redis's `<CMD> <subcommand> ...` help reply followed by the HELP line.
    func replyHelp(_ c: Client, _ command: String, _ lines: [String]) {
        let all = ["\(command) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"] + lines
            + ["HELP", "    Prints this help."]
        c.out.arrayHeader(all.count)
        for l in all { c.out.simple(l) }
    }

    // MARK: - GET

    private func configGet(_ c: Client) {
        var seen: Set<String> = []
        var pairs: [(String, String)] = []
        let table = ConfigTable.shared
        for i in 2..<c.argc {
            let pattern = c.arg(i).text.lowercased()
            if !pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) {
                if let spec = table.spec(pattern), !seen.contains(pattern) {
                    seen.insert(pattern)
                    pairs.append((pattern, spec.get(config)))
                }
                continue
            }
            // Redis's hidden (debugging) configs answer only when named exactly.
            for spec in table.specs where !Server.hiddenConfigs.contains(spec.name) {
                for name in spec.names where !seen.contains(name) && Server.globMatch(pattern, name) {
                    seen.insert(name)
                    pairs.append((name, spec.get(config)))
                }
            }
        }
        c.out.mapHeader(pairs.count)
        for (k, v) in pairs { c.out.bulk(k); c.out.bulk(v) }
    }

    /// Redis 7.0's HIDDEN_CONFIG directives: left out of pattern matches in CONFIG GET.
    static let hiddenConfigs: Set<String> = ["use-exit-on-panic", "rdb-key-save-delay", "key-load-delay",
                                             "watchdog-period", "loading-process-events-interval-bytes"]

    /// Redis-style glob match (via fnmatch, which has the same `* ? [...]` and `\` escapes).
    static func globMatch(_ pattern: String, _ s: String) -> Bool {
        fnmatch(pattern, s, 0) == 0
    }

    // MARK: - SET

    private func configSet(_ c: Client) throws {
        let table = ConfigTable.shared
        var changes: [(spec: ConfigSpec, arg: String, value: String)] = []
        var index = 2
        while index < c.argc {
            let arg = c.arg(index).text
            let raw = c.arg(index + 1).text
            // Secrets never reach the slow log or MONITOR, even when the SET fails.
            if ["masterauth", "requirepass"].contains(arg.lowercased()) { c.redact(index + 1) }
            index += 2
            guard let spec = table.spec(arg) else {
                throw CommandError("ERR Unknown option or number of arguments for CONFIG SET - '\(arg)'")
            }
            func fail(_ reason: String) -> CommandError {
                CommandError("ERR CONFIG SET failed (possibly related to argument '\(arg)') - \(reason)")
            }
            switch spec.mutability {
            case .immutable: throw fail("can't set immutable config")
            case .protected:
                let allowed = config.enableProtectedConfigs == "yes" || (config.enableProtectedConfigs == "local" && (c.conn == nil || Socket.isLoopback(Socket.peerAddress(c.fd)?.ip ?? "")))
                if !allowed { throw fail("can't set protected config") }
            case .mutable: break
            }
            // Redis compares the names as typed: `slave-priority 1 replica-priority 2` is allowed.
            if changes.contains(where: { $0.arg.lowercased() == arg.lowercased() }) { throw fail("duplicate parameter") }
            changes.append((spec, arg, raw))
        }
        // Validate every value before changing anything.
        var canonical: [String] = []
        for ch in changes {
            do { canonical.append(try ch.spec.type.canonical(ch.value)) } catch {
                throw CommandError("ERR CONFIG SET failed (possibly related to argument '\(ch.arg)') - \(error.message)")
            }
        }
        var applied: [(ConfigSpec, String)] = []
        for (i, ch) in changes.enumerated() {
            let old = ch.spec.get(config)
            do {
                try ch.spec.set(config, canonical[i])
                applied.append((ch.spec, old))
                try configChanged(ch.spec.name)
            } catch {
                let reason = error.message
                for (spec, value) in applied.reversed() {
                    try? spec.set(config, value)
                    try? configChanged(spec.name)
                }
                throw CommandError("ERR CONFIG SET failed (possibly related to argument '\(ch.arg)') - \(reason)")
            }
        }
        c.out.ok()
    }

    /// Applies the run-time effect of a changed directive.
    func configChanged(_ name: String) throws(ConfigValueError) {
        switch name {
        case "requirepass": acl.setRequirePass(config.requirepass)
        case "loglevel": log.level = config.loglevel
        case "dir":
            // As Redis: the working directory is `dir`, so relative paths (dbfilename) follow it.
            do { try Posix.chdir(config.dir) } catch let e as IOError { throw ConfigValueError(Posix.strerror(e.errnoCode)) } catch {
                throw ConfigValueError("\(error)")
            }
            // CONFIG GET dir shows the absolute directory, as Redis (a relative value would mean
            // something else once we are there).
            config.dir = Posix.getcwd()
        case "appendonly": try aof.appendOnlyChanged()
        case "self-fencing", "fence-after-milliseconds": fencingSettingsChanged()
        case "http-port", "http-bind", "http-timeout": try applyHTTPConfig()
        case "maxmemory":
            // As Redis: lowering the limit evicts at once (and warns when it is below use).
            if config.maxmemory > 0 && ProcessMemory.allocated > config.maxmemory {
                log.warning("WARNING: the new maxmemory value set via CONFIG SET (\(config.maxmemory)) is smaller than the current memory usage (\(ProcessMemory.allocated)). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.")
            }
            performEvictions()
        case "maxmemory-policy", "lfu-log-factor", "lfu-decay-time": applyAgingConfig()
        case "notify-keyspace-events": applyKeyspaceEventsConfig()
        default: break
        }
    }

    /// Clears the counters INFO reports (CONFIG RESETSTAT).
    func resetStats() {
        stats = ServerStats()
        resetCommandStats()
        LazyFree.resetStats()
    }

    // MARK: - REWRITE

    /// Rewrites the config file with the current values, keeping comments and unknown lines.
    /// Throws when there is no config file or it cannot be written.
    func rewriteConfig() throws {
        guard let path = config.configFile else { throw ConfigValueError("The server is running without a config file") }
        let original: [String]
        if let bytes = try Posix.readFile(path) {
            var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            original = lines
        } else {
            original = []
        }
        let table = ConfigTable.shared
        func keyOf(_ words: [String]) -> String? {
            guard let first = words.first?.lowercased() else { return nil }
            if first == "user" { return "user" }
            return table.spec(first)?.name
        }
        var inFile: Set<String> = []
        for raw in original {
            let t = raw.drop { $0 == " " || $0 == "\t" }
            if t.isEmpty || t.hasPrefix("#") { continue }
            if let words = ArgSplitter.split(Array(t.utf8))?.map({ String(decoding: $0, as: UTF8.self) }), let k = keyOf(words) {
                inFile.insert(k)
            }
        }
        var entries: [(key: String, lines: [String])] = []
        for spec in table.specs {
            let value = spec.get(config)
            let lines = Server.rewriteLines(spec, value)
            if spec.name == "replicaof" {
                // Sentinel relies on this: the line follows the role exactly.
                entries.append((spec.name, lines))
                continue
            }
            if value == spec.defaultValue && !inFile.contains(spec.name) { continue }
            entries.append((spec.name, lines))
        }
        var userLines: [String] = []
        for name in acl.users.keys.sorted() {
            if let u = acl.users[name] { userLines.append("user \(name) \(u.description)") }
        }
        entries.append(("user", userLines))
        let text = ConfigRewrite.rewrite(original: original, entries: entries, keyOf: keyOf)
        let atomic = try ConfigRewrite.write(text, to: path)
        if !atomic { log.warning("CONFIG REWRITE: \(path) could not be replaced atomically (bind mount?); rewrote it in place") }
    }

    /// The config-file lines for one directive's current value.
    static func rewriteLines(_ spec: ConfigSpec, _ value: String) -> [String] {
        switch spec.name {
        case "save":
            let words = value.split(separator: " ")
            if words.isEmpty { return ["save \"\""] }
            return stride(from: 0, to: words.count - 1, by: 2).map { "save \(words[$0]) \(words[$0 + 1])" }
        case "client-output-buffer-limit":
            let w = value.split(separator: " ").map(String.init)
            return stride(from: 0, to: w.count - 3, by: 4).map { i in
                "client-output-buffer-limit \(w[i]) \(memoryText(w[i + 1])) \(memoryText(w[i + 2])) \(w[i + 3])"
            }
        case "replicaof":
            return value.isEmpty ? [] : ["replicaof \(value)"]
        case "masterauth", "masteruser", "requirepass", "replica-announce-ip":
            return value.isEmpty ? [] : ["\(spec.name) \(ConfigQuote.repr(value))"]
        default:
            break
        }
        switch spec.type {
        case .string: return ["\(spec.name) \(ConfigQuote.repr(value))"]
        case .memory: return ["\(spec.name) \(memoryText(value))"]
        case .special: return ["\(spec.name) \(value)"]
        default: return ["\(spec.name) \(value)"]
        }
    }

    /// Bytes in Redis's rewrite form: `1gb`, `64mb`, `4kb` when exact, else a plain number.
    static func memoryText(_ s: String) -> String {
        guard let v = Int(s), v > 0 else { return s }
        let gb = 1024 * 1024 * 1024, mb = 1024 * 1024, kb = 1024
        if v % gb == 0 { return "\(v / gb)gb" }
        if v % mb == 0 { return "\(v / mb)mb" }
        if v % kb == 0 { return "\(v / kb)kb" }
        return s
    }
}

extension CommandError {
    /// `ERR unknown subcommand 'x'. Try CMD HELP.`
    static func unknownSubcommand(_ sub: Bytes, _ command: String) -> CommandError {
        CommandError("ERR unknown subcommand '\(String(decoding: sub.prefix(128), as: UTF8.self))'. Try \(command) HELP.")
    }
}

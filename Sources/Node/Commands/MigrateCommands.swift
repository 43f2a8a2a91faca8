// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS k...]
// (cluster.c): sends each key as RESTORE (DUMP payload, remaining TTL) over a blocking connection
// with a deadline, then deletes the keys the target acknowledged (unless COPY) and replicates
// that as DEL. Like Redis it blocks the event loop for at most `timeout` per step. Unlike Redis,
// connections are not cached between calls (INFO's migrate_cached_sockets stays 0): every
// MIGRATE connects, sends SELECT, and closes.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension CommandTable {
    static var migrateSpec: CommandSpec {
        CommandSpec("migrate", -6, [.write], ["keyspace", "write", "slow", "dangerous"], keys: (3, 3, 1)) { s, c in
            try s.migrateCommand(c)
        }.movable(migrateKeys)
    }

    /// MIGRATE's keys as Redis's migrateGetKeys finds them: argv[3], or everything after KEYS
    /// (none if argv[3] is not empty then), skipping the arguments of AUTH and AUTH2.
    static func migrateKeys(_ argv: [Bytes]) -> [Int] {
        var i = 6
        while i < argv.count {
            switch argv[i].text.lowercased() {
            case "keys": return argv[3].isEmpty ? Array((i + 1)..<argv.count) : []
            case "auth": i += 1
            case "auth2": i += 2
            default: break
            }
            i += 1
        }
        return [3]
    }
}

/// Why a synchronous exchange with the MIGRATE target failed.
private enum MigrateIOError: Error {
    case timeout
    case failed
}

/// A blocking connection to the MIGRATE target: every step waits at most `timeout` ms.
private struct MigrateLink {
    let fd: Int32
    let timeout: Int32
    private var buffer: Bytes = []

    /// Connects within `timeout` ms; nil if the connect cannot start or does not finish in time.
    /// Like Redis's connBlockingConnect, a refused connection counts as done: the first write
    /// then fails (hence Redis's "error ... writing to target instance" for a closed port).
    static func open(host: String, port: Int, timeout: Int) -> MigrateLink? {
        guard let fd = try? Socket.connect(host: host, port: port) else { return nil }
        let link = MigrateLink(fd: fd, timeout: Int32(clamping: timeout))
        guard (try? link.wait(POLLOUT)) != nil else { Posix.close(fd); return nil }
        return link
    }

    private init(fd: Int32, timeout: Int32) { self.fd = fd; self.timeout = timeout }

    func close() { Posix.close(fd) }

    private func wait(_ events: Int32) throws(MigrateIOError) {
        var p = pollfd(fd: fd, events: Int16(events), revents: 0)
        // Posix.blocking retries EINTR (errno is read in Shared only).
        guard let r = try? Posix.blocking("poll", { poll(&p, 1, timeout) }) else { throw .failed }
        if r == 0 { throw .timeout }
    }

    /// Writes everything, 64 KB at a time as Redis does.
    func send(_ bytes: Bytes) throws(MigrateIOError) {
        var pos = 0
        while pos < bytes.count {
            try wait(POLLOUT)
            let n = min(64 * 1024, bytes.count - pos)
            let r: IOResult<Int>? = bytes.withUnsafeBytes { p in
                guard let base = p.baseAddress else { return nil }
                return try? Posix.write(fd, base + pos, n)
            }
            switch r {
            case .done(let w)?: pos += w
            case .wouldBlock?: continue
            case nil: throw .failed
            }
        }
    }

    /// One reply line without its CRLF.
    mutating func readLine() throws(MigrateIOError) -> Bytes {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<nl])
                buffer.removeSubrange(...nl)
                if line.last == 0x0D { line.removeLast() }
                return line
            }
            try wait(POLLIN)
            var chunk = Bytes(repeating: 0, count: 4096)
            let r: IOResult<Int>? = chunk.withUnsafeMutableBytes { p in
                guard let base = p.baseAddress else { return nil }
                return try? Posix.read(fd, base, p.count)
            }
            switch r {
            case .done(let n)? where n > 0: buffer.append(contentsOf: chunk[..<n])
            case .wouldBlock?: continue
            default: throw .failed
            }
        }
    }
}

extension Server {
    func migrateCommand(_ c: Client) throws {
        var copy = false, replace = false
        var username: Bytes? = nil, password: Bytes? = nil
        var firstKey = 3, keyCount = 1
        var j = 6
        while j < c.argc {
            let more = c.argc - 1 - j
            switch c.arg(j).text.lowercased() {
            case "copy": copy = true
            case "replace": replace = true
            case "auth":
                guard more >= 1 else { throw CommandError.syntax }
                j += 1
                password = c.arg(j)
                // SLOWLOG and MONITOR must not show the credentials (Redis redacts them here).
                c.redact(j)
            case "auth2":
                guard more >= 2 else { throw CommandError.syntax }
                username = c.arg(j + 1)
                password = c.arg(j + 2)
                c.redact(j + 1)
                c.redact(j + 2)
                j += 2
            case "keys":
                guard c.arg(3).isEmpty else {
                    throw CommandError("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
                }
                firstKey = j + 1
                keyCount = c.argc - j - 1
                j = c.argc
                continue
            default:
                throw CommandError.syntax
            }
            j += 1
        }
        var timeout = Int(try integerArgument(c.arg(5)))
        let dbid = try integerArgument(c.arg(4))
        if timeout <= 0 { timeout = 1000 }

        var keys: [Key] = []
        for i in firstKey..<(firstKey + keyCount) where lookupRead(c.db, c.key(i)) != nil { keys.append(c.key(i)) }
        if keys.isEmpty { c.out.raw("+NOKEY\r\n"); return }

        let host = c.arg(1).text, port = Int(NumberFormat.parseInt(c.arg(2)) ?? 0)
        var mayRetry = true
        while true {
            guard var link = MigrateLink.open(host: host, port: port, timeout: timeout) else {
                throw CommandError("IOERR error or timeout connecting to the client")
            }
            defer { link.close() }
            // Build the whole exchange: AUTH, SELECT, one RESTORE per key still alive.
            var out: Bytes = []
            if let password {
                out += RESPWriter.command([Array("AUTH".utf8)] + (username.map { [$0] } ?? []) + [password])
            }
            out += RESPWriter.command([Array("SELECT".utf8), Array(String(dbid).utf8)])
            var sent: [Key] = []
            let now = clock.wallMillis()
            for key in keys {
                var ttl: Int64 = 0
                if let at = c.db.expiry(key) {
                    ttl = at - now
                    if ttl < 0 { continue }
                    if ttl < 1 { ttl = 1 }
                }
                guard let value = c.db.raw(key) else { continue }
                var argv = [Array("RESTORE".utf8), key.bytes, Array(String(ttl).utf8),
                            DumpPayload.make(value, compression: config.rdbcompression)]
                if replace { argv.append(Array("REPLACE".utf8)) }
                out += RESPWriter.command(argv)
                sent.append(key)
            }
            var writing = false
            var failure: MigrateIOError? = nil
            var targetError: Bytes? = nil
            var acked: [Key] = []
            var readAny = false
            do {
                writing = true
                try link.send(out)
                writing = false
                var authReply: Bytes? = nil
                if password != nil { authReply = try link.readLine() }
                let selectReply = try link.readLine()
                for key in sent {
                    let reply: Bytes
                    do { reply = try link.readLine() } catch { failure = error; break }
                    readAny = true
                    let err = authReply?.first == UInt8(ascii: "-") ? authReply
                        : selectReply.first == UInt8(ascii: "-") ? selectReply
                        : reply.first == UInt8(ascii: "-") ? reply : nil
                    if let err {
                        if targetError == nil { targetError = Array(err.dropFirst()) }
                    } else if !copy {
                        c.db.remove(key)
                        keyWritten(c.db, key)
                        notifyKeyspaceEvent(.generic, "del", c.db, key)
                        acked.append(key)
                    }
                }
            } catch {
                failure = error
            }
            if !acked.isEmpty {
                // Replicas and the AOF see the keys leave as a DEL of exactly those keys.
                propagateDataWrite(c, as: [[Array("DEL".utf8)] + acked.map(\.bytes)])
            }
            if let targetError {
                throw CommandError("ERR Target instance replied with error: \(String(decoding: targetError, as: UTF8.self))")
            }
            guard let failure else { c.out.ok(); return }
            // A failure before any reply (a stale connection, say) is retried once, unless it
            // was a timeout.
            if mayRetry && !readAny && failure != .timeout && acked.isEmpty {
                mayRetry = false
                continue
            }
            throw CommandError("IOERR error or timeout \(writing ? "writing" : "reading") to target instance")
        }
    }
}

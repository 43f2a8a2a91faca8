// Reads redis.conf syntax: one directive a line, `#` comments, sdssplitargs quoting, repeated
// directives (`save`, `user`, `sentinel ...`) kept in order. The original lines are kept so a
// rewrite can preserve comments and lines it does not understand.

/// A configuration problem, formatted like Redis's "FATAL CONFIG FILE ERROR".
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var file: String?
    public var line: Int
    public var text: String
    public var message: String
    public init(file: String?, line: Int, text: String, message: String) {
        self.file = file; self.line = line; self.text = text; self.message = message
    }
    /// The multi-line report Redis prints to stderr before exiting with status 1.
    public var description: String {
        var s = "\n*** FATAL CONFIG FILE ERROR (Vigil \(VigilVersion.string), redis \(VigilVersion.redisCompat)) ***\n"
        if let file { s += "Reading the configuration file \(file), at line \(line)\n" }
        else { s += "Reading the configuration file, at line \(line)\n" }
        s += ">>> '\(text)'\n\(message)\n"
        return s
    }
}

/// One directive as found in a file or on the command line.
public struct ConfigDirective: Sendable, Equatable {
    /// Lower-cased directive name (`sentinel` for all `sentinel ...` lines).
    public var name: String
    /// Arguments after the name, unquoted.
    public var args: [String]
    /// 1-based line in `file` (or in the command-line pseudo-file).
    public var line: Int
    /// The line as written.
    public var text: String
    public var file: String?

    /// A config error pointing at this directive.
    public func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, text: text, message: message)
    }
}

/// A parsed configuration file with its original lines.
public struct ConfigFile: Sendable {
    public var path: String?
    /// Original lines, for rewriting.
    public var lines: [String]
    /// Directives in file order (includes expanded in place).
    public var directives: [ConfigDirective]

    public init(path: String? = nil, lines: [String] = [], directives: [ConfigDirective] = []) {
        self.path = path; self.lines = lines; self.directives = directives
    }

    /// Parses text; `include` lines are expanded from disk.
    public static func parse(_ text: String, path: String? = nil, depth: Int = 0) throws -> ConfigFile {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        if lines.last == "" { lines.removeLast() }
        var directives: [ConfigDirective] = []
        for (i, raw) in lines.enumerated() {
            var line = Substring(raw)
            while let f = line.first, f == " " || f == "\t" || f == "\r" { line.removeFirst() }
            while let l = line.last, l == " " || l == "\t" || l == "\r" { line.removeLast() }
            if line.isEmpty || line.first == "#" { continue }
            guard let parts = ArgSplitter.split(Array(line.utf8)) else {
                throw ConfigError(file: path, line: i + 1, text: raw, message: "Unbalanced quotes in configuration line")
            }
            guard let first = parts.first else { continue }
            let name = String(decoding: first, as: UTF8.self).lowercased()
            let args = parts.dropFirst().map { String(decoding: $0, as: UTF8.self) }
            if name == "include" {
                guard args.count == 1 else {
                    throw ConfigError(file: path, line: i + 1, text: raw, message: "Bad directive or wrong number of arguments")
                }
                guard depth < 16 else {
                    throw ConfigError(file: path, line: i + 1, text: raw, message: "Too many nested includes")
                }
                let bytes: Bytes?
                do { bytes = try Posix.readFile(args[0]) } catch {
                    throw ConfigError(file: path, line: i + 1, text: raw, message: "Can't open included file: \(error)")
                }
                guard let bytes else {
                    throw ConfigError(file: path, line: i + 1, text: raw, message: "Fatal error, can't open config file '\(args[0])'")
                }
                let sub = try parse(String(decoding: bytes, as: UTF8.self), path: args[0], depth: depth + 1)
                directives.append(contentsOf: sub.directives)
                continue
            }
            directives.append(ConfigDirective(name: name, args: args, line: i + 1, text: raw, file: path))
        }
        return ConfigFile(path: path, lines: lines, directives: directives)
    }

    /// Reads and parses a file; a missing or unreadable file is a config error.
    public static func load(path: String) throws -> ConfigFile {
        let bytes: Bytes?
        do { bytes = try Posix.readFile(path) } catch {
            throw ConfigError(file: path, line: 0, text: "", message: "Fatal error, can't open config file '\(path)': \(error)")
        }
        guard let bytes else {
            throw ConfigError(file: path, line: 0, text: "", message: "Fatal error, can't open config file '\(path)': No such file or directory")
        }
        return try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Turns `--port 6380 --replicaof 127.0.0.1 6379` into directives, as redis-server does:
    /// each `--name` starts a directive and the words after it are its arguments.
    public static func parseCommandLine(_ argv: [String]) throws -> [ConfigDirective] {
        var out: [ConfigDirective] = []
        var current: ConfigDirective? = nil
        var n = 0
        for a in argv {
            if a.hasPrefix("--") && a.count > 2 {
                if let c = current { out.append(c) }
                n += 1
                current = ConfigDirective(name: String(a.dropFirst(2)).lowercased(), args: [], line: n, text: String(a.dropFirst(2)), file: "(command line)")
            } else if var c = current {
                c.args.append(a)
                c.text += " " + a
                current = c
            } else {
                n += 1
                throw ConfigError(file: "(command line)", line: n, text: a, message: "Invalid argument: expected --directive")
            }
        }
        if let c = current { out.append(c) }
        return out
    }
}

/// Version strings reported by INFO and --version.
public enum VigilVersion {
    public static let string = "0.1.0"
    /// The Redis version we are compatible with and report as `redis_version` (clients test it).
    public static let redisCompat = "7.0.15"
}

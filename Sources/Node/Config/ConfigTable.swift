// Applies config directives to ServerConfig. (Minimal bootstrap version: the full table of every
// redis.conf directive, CONFIG GET/SET/REWRITE, comes with the config work.)
import Shared

enum ConfigTable {
    /// Applies one directive; throws a ConfigError naming the line on a bad directive or value.
    static func apply(_ d: ConfigDirective, to c: ServerConfig) throws {
        func int(_ i: Int = 0) throws -> Int {
            guard i < d.args.count, let v = Int(d.args[i]) else { throw d.error("argument couldn't be parsed into an integer") }
            return v
        }
        func bool() throws -> Bool {
            guard d.args.count == 1 else { throw d.error("wrong number of arguments") }
            switch d.args[0].lowercased() {
            case "yes": return true
            case "no": return false
            default: throw d.error("argument must be 'yes' or 'no'")
            }
        }
        switch d.name {
        case "port": c.port = try int()
        case "bind": c.bind = d.args
        case "protected-mode": c.protectedMode = try bool()
        case "daemonize": c.daemonize = try bool()
        case "pidfile": c.pidfile = d.args.first ?? ""
        case "logfile": c.logfile = d.args.first ?? ""
        case "loglevel":
            guard let l = LogLevel(name: d.args.first ?? "") else { throw d.error("argument(s) must be one of the following: debug, verbose, notice, warning, nothing") }
            c.loglevel = l
        case "dir": c.dir = d.args.first ?? "."
        case "dbfilename": c.dbfilename = d.args.first ?? "dump.rdb"
        case "databases": c.databases = try int()
        case "requirepass": c.requirepass = d.args.first.map { Bytes($0.utf8) }
        case "replicaof", "slaveof":
            guard d.args.count == 2, let p = Int(d.args[1]) else { throw d.error("wrong number of arguments") }
            c.replicaof = (d.args[0], p)
        case "masterauth": c.masterauth = d.args.first.map { Bytes($0.utf8) }
        case "user": c.userLines.append(d.args)
        case "save":
            if d.args.count == 1 && d.args[0].isEmpty { c.saveRules = []; break }
            guard d.args.count % 2 == 0 else { throw d.error("Invalid save parameters") }
            c.saveRules = stride(from: 0, to: d.args.count, by: 2).compactMap { i in
                guard let s = Int(d.args[i]), let n = Int(d.args[i + 1]) else { return nil }
                return SaveRule(seconds: s, changes: n)
            }
        case "appendonly":
            if try bool() { throw d.error("appendonly yes is not supported yet by vigil-node (AOF persistence is not implemented); refusing to start rather than silently losing durability") }
        default:
            c.passthrough[d.name] = d.args.joined(separator: " ")
        }
    }
}

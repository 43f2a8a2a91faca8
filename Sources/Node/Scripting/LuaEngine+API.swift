// The `redis` table (luaRegisterRedisAPI): call, pcall, log and its levels, the version, setresp,
// sha1hex, error_reply, status_reply, set_repl and its flags, acl_check_cmd.
import Lua
import Shared

extension LuaEngine {
    func registerRedisAPI(_ redis: LuaTable) {
        L.register("call", in: redis) { [unowned self] L, args throws(LuaError) -> Int in try self.redisCommand(L, args, raise: true) }
        L.register("pcall", in: redis) { [unowned self] L, args throws(LuaError) -> Int in try self.redisCommand(L, args, raise: false) }
        registerLog(redis)
        registerVersion(redis)
        L.register("setresp", in: redis) { [unowned self] L, args throws(LuaError) -> Int in
            guard self.server.scriptRun != nil else {
                throw L.error(value: self.errorTable("redis.setresp can only be called inside a script invocation"))
            }
            guard args.count == 1 else { throw L.error(value: self.errorTable("redis.setresp() requires one argument.")) }
            let resp = Int(args[1].numberValue ?? LuaEngine.number(args[1]))
            guard resp == 2 || resp == 3 else { throw L.error(value: self.errorTable("RESP version must be 2 or 3.")) }
            self.client.out.proto = resp
            return 0
        }
        L.register("sha1hex", in: redis) { [unowned self] L, args throws(LuaError) -> Int in
            guard args.count == 1 else { throw L.error(value: self.errorTable("wrong number of arguments")) }
            let bytes: [UInt8]
            switch args[1] {
            case .string(let s): bytes = Array(s.buffer)
            case .number(let n): bytes = Array(LuaEngine.numberText(n).utf8)
            default: bytes = []
            }
            L.push(.string(L.newString(SHA1.hex(bytes))))
            return 1
        }
        L.register("error_reply", in: redis) { [unowned self] L, args -> Int in
            guard args.count == 1, case .string(let s) = args[1] else {
                L.push(self.errorTable("wrong number or type of arguments"))
                return 1
            }
            var text = Array(s.buffer)
            if text.first != UInt8(ascii: "-") { text.insert(UInt8(ascii: "-"), at: 0) }
            L.push(LuaReply.errorTable(L, text, ignoreStats: false))
            return 1
        }
        L.register("status_reply", in: redis) { [unowned self] L, args -> Int in
            guard args.count == 1, case .string(let s) = args[1] else {
                L.push(self.errorTable("wrong number or type of arguments"))
                return 1
            }
            let t = L.newTable(nhash: 1)
            L.rawSet(t, "ok", .string(s))
            L.push(.table(t))
            return 1
        }
        L.register("set_repl", in: redis) { [unowned self] L, args throws(LuaError) -> Int in
            guard let run = self.server.scriptRun else {
                throw L.error(value: self.errorTable("redis.set_repl can only be called inside a script invocation"))
            }
            guard args.count == 1 else { throw L.error(value: self.errorTable("redis.set_repl() requires two arguments.")) }
            let flags = Int(LuaEngine.number(args[1]))
            guard flags & ~3 == 0 else {
                throw L.error(value: self.errorTable("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."))
            }
            run.replFlags = flags
            return 0
        }
        for (name, v) in [("REPL_NONE", 0), ("REPL_AOF", 1), ("REPL_SLAVE", 2), ("REPL_REPLICA", 2), ("REPL_ALL", 3)] {
            L.rawSet(redis, name, .number(Double(v)))
        }
        L.register("acl_check_cmd", in: redis) { [unowned self] L, args throws(LuaError) -> Int in
            guard let run = self.server.scriptRun else {
                throw L.error(value: self.errorTable("redis.acl_check_cmd can only be called inside a script invocation"))
            }
            guard args.count > 0 else {
                throw L.error(value: self.errorTable("Please specify at least one argument for this redis lib call"))
            }
            var argv: [Bytes] = []
            for i in 1...args.count {
                switch args[i] {
                case .string(let s): argv.append(Array(s.buffer))
                case .number(let n): argv.append(LuaEngine.argumentBytes(n))
                default: throw L.error(value: self.errorTable("Lua redis lib command arguments must be strings or integers"))
                }
            }
            guard let ref = self.server.lookupCommand(argv[0]) else {
                throw L.error(value: self.errorTable("Invalid command passed to redis.acl_check_cmd()"))
            }
            guard let user = run.caller.user else { L.push(.bool(true)); return 1 }
            L.push(.bool(user.check(ref.spec, argv) == nil))
            return 1
        }
    }

    /// redis.log and the LOG_* levels.
    func registerLog(_ redis: LuaTable) {
        L.register("log", in: redis) { [unowned self] L, args throws(LuaError) -> Int in
            guard args.count >= 2 else { throw L.error(value: self.errorTable("redis.log() requires two arguments or more.")) }
            guard let level = LuaEngine.toNumber(args[1]) else {
                throw L.error(value: self.errorTable("First argument must be a number (log level)."))
            }
            guard level >= 0 && level <= 3, let lvl = LogLevel(rawValue: Int(level)) else {
                throw L.error(value: self.errorTable("Invalid debug level."))
            }
            var parts: [String] = []
            for i in 2...args.count {
                switch args[i] {
                case .string(let s): parts.append(s.string)
                case .number(let n): parts.append(LuaEngine.numberText(n))
                default: continue
                }
            }
            self.server.log.log(lvl, parts.joined(separator: " "))
            return 0
        }
        for (name, v) in [("LOG_DEBUG", 0), ("LOG_VERBOSE", 1), ("LOG_NOTICE", 2), ("LOG_WARNING", 3)] {
            L.rawSet(redis, name, .number(Double(v)))
        }
    }

    /// redis.REDIS_VERSION and REDIS_VERSION_NUM.
    func registerVersion(_ redis: LuaTable) {
        let version = VigilVersion.redisCompat
        let parts = version.split(separator: ".").compactMap { Int($0) }
        let num = parts.count == 3 ? (parts[0] << 16) | (parts[1] << 8) | parts[2] : 0x07000f
        L.rawSet(redis, "REDIS_VERSION_NUM", .number(Double(num)))
        L.rawSet(redis, "REDIS_VERSION", .string(L.newString(version)))
    }

    /// lua_tonumber: numbers, and strings that read as numbers; 0 otherwise.
    static func number(_ v: LuaValue) -> Double { toNumber(v) ?? 0 }

    static func toNumber(_ v: LuaValue) -> Double? {
        switch v {
        case .number(let n): return n
        case .string(let s):
            let text = s.string.trimmingSpaces
            if let d = Double(text) { return d }
            if text.hasPrefix("0x") || text.hasPrefix("0X"), let i = Int(text.dropFirst(2), radix: 16) { return Double(i) }
            return nil
        default: return nil
        }
    }
}

extension String {
    /// Without leading and trailing ASCII white space.
    var trimmingSpaces: String {
        let u = Array(utf8)
        var a = 0, b = u.count
        while a < b && (u[a] == 32 || (u[a] >= 9 && u[a] <= 13)) { a += 1 }
        while b > a && (u[b - 1] == 32 || (u[b - 1] >= 9 && u[b - 1] <= 13)) { b -= 1 }
        return String(decoding: u[a..<b], as: UTF8.self)
    }
}

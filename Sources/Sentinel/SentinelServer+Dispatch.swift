// The one place every command goes through (Redis's processCommand): lookup in the table,
// subcommand lookup, arity, authentication, the RESP2 subscribed context; then the handler, and
// the statistics INFO and CLIENT LIST report.
import Shared

extension SentinelServer {
    /// Commands a RESP2 client may send while subscribed.
    static let allowedWhileSubscribed: Set<String> = ["ping", "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "quit", "reset"]

    /// Runs one command from `c`.
    func process(_ c: SentinelClient, _ args: [String]) {
        guard let first = args.first else { return }
        c.lastInteraction = Clock.monotonicMillis()
        guard let container = SentinelCommandTable.commands[first.lowercased()] else {
            return replyError(c, "ERR unknown command '\(SentinelServer.clip(first))', with args beginning with: \(SentinelServer.argsPreview(args))")
        }
        var cmd = container
        var fullName = container.name
        if !container.subcommands.isEmpty && args.count > 1 {
            guard let sub = container.subcommand(args[1]) else {
                return replyError(c, "ERR unknown subcommand '\(SentinelServer.clip(args[1]))'. Try \(container.name.uppercased()) HELP.")
            }
            cmd = sub
            fullName += "|" + sub.name
        }
        guard cmd.accepts(argc: args.count) else {
            return replyError(c, "ERR wrong number of arguments for '\(fullName)' command")
        }
        if !c.authenticated && !cmd.flags.contains(.noAuth) {
            return replyError(c, "NOAUTH Authentication required.")
        }
        if c.proto == 2 && c.subscriptionCount > 0 && !SentinelServer.allowedWhileSubscribed.contains(container.name) {
            return replyError(c, "ERR Can't execute '\(fullName)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        }
        c.lastCommand = fullName
        stats.commandsProcessed += 1
        guard let handler = cmd.handler else { return }
        let before = c.conn.output.count
        if c.replyMode == .skipNext { c.replyMode = .skipThis }
        do { try handler(self, c, args) } catch let e as SentinelCommandError {
            replyError(c, e.message)
        } catch {
            replyError(c, "ERR \(error)")
        }
        // CLIENT REPLY OFF / SKIP: the reply is produced (and counted) but not sent.
        switch c.replyMode {
        case .off, .skipThis:
            let extra = c.conn.output.count - before
            if extra > 0 && c.conn.outSent <= before { c.conn.output.bytes.removeLast(extra) }
            if c.replyMode == .skipThis { c.replyMode = .on }
        case .on, .skipNext: break
        }
    }

    /// At most 128 bytes of `s`, as Redis's `%.128s`.
    static func clip(_ s: String, _ n: Int = 128) -> String {
        s.utf8.count <= n ? s : String(decoding: Array(s.utf8.prefix(n)), as: UTF8.self)
    }

    /// `'arg1' 'arg2' ` for the unknown-command error: arguments until 128 bytes are shown.
    static func argsPreview(_ args: [String]) -> String {
        var out = ""
        for a in args.dropFirst() {
            if out.utf8.count >= 128 { break }
            out += "'" + clip(a, 128 - out.utf8.count) + "' "
        }
        return out
    }
}

// MARK: - Reply helpers

extension SentinelClient {
    /// A map header in RESP3, a flat array of twice the length in RESP2.
    func mapHeader(_ n: Int) {
        if proto >= 3 { conn.output.mapHeader(n) } else { conn.output.arrayHeader(n * 2) }
    }

    /// Field/value pairs of bulk strings as a map.
    func replyPairs(_ pairs: [(String, String)]) {
        mapHeader(pairs.count)
        for (k, v) in pairs { conn.output.bulk(k); conn.output.bulk(v) }
    }

    /// Redis's addReplyHelp: a title line, the lines, and the HELP line, as status strings.
    func replyHelp(_ command: String, _ lines: [String]) {
        let all = ["\(command) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"] + lines + ["HELP", "    Print this help."]
        conn.output.arrayHeader(all.count)
        for l in all { conn.output.simple(l) }
    }
}

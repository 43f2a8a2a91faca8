// The one place every command goes through (Redis's processCommand): Shared's CommandRegistry
// resolves the name and checks the arity with Redis's texts (CommandReply), then the subcommand,
// authentication and the RESP2 subscribed context; then the handler, and the statistics INFO and
// CLIENT LIST report.
import Shared

extension SentinelServer {
    /// Runs one command from `c`.
    func process(_ c: SentinelClient, _ argv: [Bytes]) {
        c.lastInteraction = clock.monotonicMillis()
        let container: SentinelCommandSpec
        switch commands.resolve(argv) {
        case .reject(let text): return replyError(c, text)
        case .run(let entry): container = entry.spec
        }
        let args = argv.map { String(decoding: $0, as: UTF8.self) }
        var cmd = container
        var fullName = container.name
        if !container.subcommands.isEmpty && args.count > 1 {
            guard let sub = container.subcommand(args[1]) else {
                return replyError(c, CommandReply.unknownSubcommand(args[1], of: args[0]))
            }
            cmd = sub
            fullName += "|" + sub.name
            guard CommandReply.arityMatches(cmd.arity, args.count) else {
                return replyError(c, CommandReply.wrongArity(fullName))
            }
        }
        if !c.authenticated && !cmd.flags.contains(.noAuth) {
            return replyError(c, CommandReply.noAuth)
        }
        if c.proto == 2 && c.subscriptionCount > 0 && !container.flags.contains(.okInSubscribe) {
            return replyError(c, CommandReply.subscribedContext(fullName))
        }
        c.lastCommand = fullName
        stats.commandsProcessed += 1
        guard let handler = cmd.handler else { return }
        let before = c.conn.output.count
        if c.replyMode == .skipNext { c.replyMode = .skipThis }
        do { try handler(self, c, args) } catch let e as CommandError {
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

// The wire texts every dispatcher shares, each written once: unknown command (arguments cut at
// 128 characters, as Redis's commandCheckExistence), wrong arity, NOAUTH, the RESP2 subscribed
// context and protocol errors. Reading one request off a connection lives here too, so both
// binaries handle a protocol error the same way.

/// Redis's exact error texts for the checks that come before any handler.
public enum CommandReply {
    /// Redis's arity rule: positive = exact argc, negative = at least -arity.
    @inlinable
    public static func arityMatches(_ arity: Int, _ argc: Int) -> Bool {
        arity > 0 ? argc == arity : argc >= -arity
    }

    /// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' ` — the name cut at
    /// 128 bytes and the arguments quoted until 128 characters were written; CR/LF become spaces
    /// so the reply stays one line.
    public static func unknownCommand(_ argv: [Bytes]) -> String {
        var args = ""
        for a in argv.dropFirst() {
            if args.utf8.count >= 128 { break }
            args += "'\(String(decoding: a.prefix(128 - args.utf8.count), as: UTF8.self))' "
        }
        let name = String(decoding: (argv.first ?? []).prefix(128), as: UTF8.self)
        return oneLine("ERR unknown command '\(name)', with args beginning with: \(args)")
    }

    /// `ERR wrong number of arguments for '<name>' command`.
    public static func wrongArity(_ name: String) -> String {
        "ERR wrong number of arguments for '\(name)' command"
    }

    /// `ERR unknown subcommand '<sub>'. Try <COMMAND> HELP.` — the subcommand cut at 128 bytes,
    /// the container upper-cased as the client typed it (Redis's commandCheckExistence).
    public static func unknownSubcommand(_ sub: String, of command: String) -> String {
        let cut = String(decoding: Array(sub.utf8.prefix(128)), as: UTF8.self)
        return oneLine("ERR unknown subcommand '\(cut)'. Try \(command.uppercased()) HELP.")
    }

    /// The reply to a command that needs authentication first.
    /// COMMAND HELP's lines (after its first), the same on a node and a sentinel (Redis 7.0's text).
    public static let commandHelp: [String] = [
        "(no subcommand)", "    Return details about all Redis commands.",
        "COUNT", "    Return the total number of commands in this Redis server.",
        "LIST", "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>", "    Return the keys and the access flags from a full Redis command.",
    ]

    public static let noAuth = "NOAUTH Authentication required."

    /// A RESP2 client with subscriptions may only run the subscription commands, PING, QUIT, RESET.
    public static func subscribedContext(_ name: String) -> String {
        "ERR Can't execute '\(name)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    }

    /// `ERR Protocol error: <what>`; the client is closed after this reply.
    public static func protocolError(_ message: String) -> String { "ERR Protocol error: \(message)" }

    /// Replaces CR and LF with spaces (error replies are single lines).
    public static func oneLine(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return s }
        return String(decoding: s.utf8.map { $0 == 0x0D || $0 == 0x0A ? 0x20 : $0 }, as: UTF8.self)
    }
}

/// What reading one request from a connection's input produced.
public enum RequestRead {
    /// A whole command is in the argv; the parser took this many bytes.
    case complete(consumed: Int)
    /// More bytes are needed; the parser took this many (whole arguments already in).
    case partial(consumed: Int)
    /// The input violates the protocol: reply `CommandReply.protocolError(message)` and close.
    case invalid(message: String)
}

extension Connection {
    /// Parses the next request of the unconsumed input into `argv`, reusing its storage. Bytes
    /// are not consumed here: the caller may need to look at them first (a replica proxies its
    /// master's stream), then calls `consume(n)`.
    @inlinable
    public func readRequest(_ parser: inout RequestParser, into argv: inout [Bytes]) -> RequestRead {
        do {
            let r = try withInput { buf in try parser.parse(buf, into: &argv) }
            return r.complete ? .complete(consumed: r.consumed) : .partial(consumed: r.consumed)
        } catch let e as RESPError {
            return .invalid(message: e.message)
        } catch {
            return .invalid(message: "invalid request")
        }
    }
}

// A client of the node: its selected database, auth state, transaction queue, subscriptions and
// the reply buffer it owns. The socket is optional: the AOF loader, in-process tests and (later)
// scripts run commands through a client without one, and read or drop its replies.
import Shared

/// Client state flags, as Redis's CLIENT_* flags.
struct ClientFlags: OptionSet {
    let rawValue: UInt32
    static let multi = ClientFlags(rawValue: 1 << 0)
    /// A watched key changed: EXEC must fail.
    static let dirtyCAS = ClientFlags(rawValue: 1 << 1)
    /// A command queued in MULTI was rejected: EXEC must abort.
    static let dirtyExec = ClientFlags(rawValue: 1 << 2)
    static let closeAfterReply = ClientFlags(rawValue: 1 << 3)
    static let closeASAP = ClientFlags(rawValue: 1 << 4)
    static let pubsub = ClientFlags(rawValue: 1 << 5)
    static let monitor = ClientFlags(rawValue: 1 << 6)
    /// This connection is a replica of ours.
    static let replica = ClientFlags(rawValue: 1 << 7)
    /// This connection is our master's replication stream.
    static let master = ClientFlags(rawValue: 1 << 8)
    /// Blocked (`Client.blockKind` says on what); only Blocking.swift sets and clears it.
    static let blocked = ClientFlags(rawValue: 1 << 9)
    static let pendingWrite = ClientFlags(rawValue: 1 << 10)
    /// CLIENT REPLY OFF.
    static let replyOff = ClientFlags(rawValue: 1 << 11)
    /// CLIENT REPLY SKIP was the last command: the next command's reply is dropped.
    static let replySkipNext = ClientFlags(rawValue: 1 << 12)
    /// The reply of the command running now is dropped (SKIP's target).
    static let replySkip = ClientFlags(rawValue: 1 << 13)
    /// `argv` holds a command that was postponed (CLIENT PAUSE) and must run when unblocked.
    static let pendingCommand = ClientFlags(rawValue: 1 << 14)
    /// Queued in the server's unblocked list, to be reprocessed in before-sleep.
    static let unblocked = ClientFlags(rawValue: 1 << 15)
    /// Blocking commands act as their non-blocking forms (inside EXEC, the master link, AOF).
    static let denyBlocking = ClientFlags(rawValue: 1 << 16)
    /// The AOF loader's client (Redis's CLIENT_ID_AOF): obeyed like the master link.
    static let aofLoader = ClientFlags(rawValue: 1 << 17)
    /// The client scripts run their commands through (Redis's CLIENT_SCRIPT).
    static let script = ClientFlags(rawValue: 1 << 18)
    /// CLIENT TRACKING ON (the options are in `Client.tracking`).
    static let tracking = ClientFlags(rawValue: 1 << 19)
    /// CLIENT NO-EVICT ON: exempt from client eviction (shown as `e` in CLIENT LIST).
    static let noEvict = ClientFlags(rawValue: 1 << 20)

    /// Flags whose replies never leave: the master link reads none.
    static let repliesDropped: ClientFlags = [.master, .replyOff, .replySkip]
}

/// A command queued by MULTI, with its spec resolved when it was queued (as Redis keeps c->cmd).
struct QueuedCommand {
    /// The arguments.
    let argv: [Bytes]
    /// The command.
    let entry: CommandRef
}

/// One client of the node.
final class Client: PubSubSubscriber {
    let id: Int
    /// The socket; nil for clients that run commands in-process (the AOF loader, tests).
    let conn: Connection?
    let addr: String
    let laddr: String
    var flags: ClientFlags = []
    var db: Database
    var name: Bytes = []
    var libName = ""
    var libVersion = ""
    /// The ACL user this connection runs as (nil until authenticated when auth is required).
    var user: ACLUser?
    var authenticated: Bool
    var parser: RequestParser
    /// The command being executed.
    var argv: [Bytes] = []
    /// The reply buffer, owned by the client; before-sleep hands it to the socket.
    var out: RESPWriter
    var lastCommand = "NULL"
    let createdAt: Int64
    var lastInteraction: Int64
    /// MULTI's queue, and the union (and the inverse union) of the queued commands' flags:
    /// EXEC is judged by them (a queued write makes EXEC a write; one queued command without
    /// `stale` makes it refused on a stale replica), as Redis's mstate.cmd_flags/cmd_inv_flags.
    var multiQueue: [QueuedCommand] = []
    var multiFlags: CommandFlags = []
    var multiLacks: CommandFlags = []
    var watchedKeys: [(db: Int, key: Key)] = []
    var subscriptions = Subscriptions()
    /// Replication offset right after this client's last command (WAIT waits for it).
    var woff: Int64 = 0
    var commandsProcessed = 0
    /// What the client is blocked on (meaningful while `.blocked` is set).
    var blockKind: BlockKind = .none
    /// Nesting of command execution for this client (EXEC runs queued commands inside).
    var callDepth = 0
    /// Start of the replies of the command running now: dropped at its end when suppressed.
    var replyMark = 0
    /// Bytes of our master's stream parsed for the command being run (counted once it ran).
    var streamPending: Bytes = []
    /// When the output first exceeded the soft client-output-buffer-limit (0 = not over).
    var softLimitSince: Int64 = 0
    /// The 8-character id prefix when the name is a sentinel's command link
    /// (`sentinel-<id8>-cmd`): its commands count as contact for self-fencing.
    var sentinelID8: String? = nil
    /// Client-side caching options (meaningful with `.tracking`; Tracking.swift).
    var tracking: TrackingFlags = []
    /// The client that receives this one's invalidations (0: itself).
    var trackingRedirect = 0
    /// BCAST prefixes this client follows.
    var trackingPrefixes: [Bytes] = []
    /// How long the last command's handler ran, µs (a blocked command's first run).
    var lastDuration: Int64 = 0
    /// The command line with secrets replaced by "(redacted)", for the slow log and MONITOR.
    var redactedArgv: [Bytes]? = nil
    /// Bytes of the running command as read from the socket (CLIENT LIST's qbuf includes them).
    var querySize = 0

    /// A client on an accepted (or our own outgoing) connection.
    init(id: Int, conn: Connection, db: Database, authenticated: Bool, maxBulk: Int, now: Int64) {
        self.id = id
        self.conn = conn
        self.db = db
        self.authenticated = authenticated
        self.parser = RequestParser(maxBulkLength: maxBulk)
        self.parser.authenticated = authenticated
        self.out = RESPWriter()
        self.createdAt = now
        self.lastInteraction = now
        self.addr = Socket.peerAddress(conn.fd).map { $0.isIPv6 ? "[\($0.ip)]:\($0.port)" : $0.description } ?? "?:0"
        self.laddr = Socket.localAddress(conn.fd).map { $0.isIPv6 ? "[\($0.ip)]:\($0.port)" : $0.description } ?? "?:0"
    }

    /// A client without a socket: its replies stay in `out` for the caller to read or drop.
    init(id: Int, db: Database, user: ACLUser?, now: Int64) {
        self.id = id
        self.conn = nil
        self.db = db
        self.user = user
        self.authenticated = true
        self.parser = RequestParser()
        self.out = RESPWriter()
        self.createdAt = now
        self.lastInteraction = now
        self.addr = "?:0"
        self.laddr = "?:0"
    }

    /// The protocol version (2, or 3 after HELLO 3).
    var proto: Int { out.proto }

    /// Channels plus patterns.
    var subscriptionCount: Int { subscriptions.count }

    /// Unsent reply bytes: in our buffer and queued on the socket.
    var pendingOutput: Int { out.count + (conn?.pendingOutput ?? 0) }

    /// Unparsed input bytes.
    var pendingInput: Int { conn?.pendingInput ?? 0 }

    /// The descriptor for CLIENT LIST (-1 without a socket, as Redis's fake clients).
    var fd: Int32 { conn?.fd ?? -1 }

    /// Takes the replies written so far (in-process callers: the AOF loader, tests).
    func takeReplies() -> Bytes {
        var b: Bytes = []
        swap(&b, &out.bytes)
        return b
    }

    /// Hides argument `i` of the running command from the slow log and MONITOR (passwords).
    func redact(_ i: Int) {
        guard i < argv.count else { return }
        if redactedArgv == nil { redactedArgv = argv }
        redactedArgv?[i] = Bytes("(redacted)".utf8)
    }

    /// Argument `i` of the current command.
    @inline(__always) func arg(_ i: Int) -> Bytes { argv[i] }
    @inline(__always) func key(_ i: Int) -> Key { Key(argv[i]) }
    /// Argument `i`, upper-cased, for option keywords.
    func option(_ i: Int) -> String { String(decoding: argv[i], as: UTF8.self).uppercased() }
    var argc: Int { argv.count }

    // MARK: - Replies and pushes

    /// Whether the replies of the command running now are dropped (CLIENT REPLY OFF/SKIP, the
    /// master link).
    var repliesSuppressed: Bool { !flags.isDisjoint(with: .repliesDropped) }

    /// True while the client can take pub/sub messages.
    var acceptsPushes: Bool { !flags.contains(.closeASAP) }

    /// A push (pub/sub message or confirmation) goes out even when replies are silenced: the
    /// silenced replies before it are dropped now, so the push survives the end of the command.
    func writePush(_ body: (inout RESPWriter) -> Void) {
        if repliesSuppressed && callDepth > 0 && out.bytes.count > replyMark {
            out.bytes.removeSubrange(replyMark...)
        }
        body(&out)
        if callDepth > 0 { replyMark = out.bytes.count }
    }
}

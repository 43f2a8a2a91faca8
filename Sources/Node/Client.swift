// A connected client: its socket, parser, selected database, auth state, transaction queue and
// subscriptions. Replies go straight into the connection's output buffer (`out`).
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
    static let blocked = ClientFlags(rawValue: 1 << 9)
    static let pendingWrite = ClientFlags(rawValue: 1 << 10)
    /// Replies are suppressed (the master link, CLIENT REPLY OFF).
    static let noReply = ClientFlags(rawValue: 1 << 11)
}

/// One client connection.
final class Client {
    let id: Int
    let conn: Connection
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
    var lastCommand = "NULL"
    let createdAt: Int64
    var lastInteraction: Int64
    var multiQueue: [[Bytes]] = []
    var watchedKeys: [(db: Int, key: Key)] = []
    var channels: Set<Key> = []
    var patterns: Set<Key> = []
    /// Shard channels (SSUBSCRIBE); counted apart from channels and patterns, as in Redis.
    var shardChannels: Set<Key> = []
    /// Replication offset right after this client's last propagated write (WAIT waits for it).
    var woff: Int64 = 0
    /// For replication: the replica's state is kept by the replication layer, keyed by client id.
    var commandsProcessed = 0

    init(id: Int, conn: Connection, db: Database, authenticated: Bool, maxBulk: Int, now: Int64) {
        self.id = id
        self.conn = conn
        self.db = db
        self.authenticated = authenticated
        self.parser = RequestParser(maxBulkLength: maxBulk)
        self.parser.authenticated = authenticated
        self.createdAt = now
        self.lastInteraction = now
        self.addr = Socket.peerAddress(conn.fd).map { $0.isIPv6 ? "[\($0.ip)]:\($0.port)" : $0.description } ?? "?:0"
        self.laddr = Socket.localAddress(conn.fd).map { $0.isIPv6 ? "[\($0.ip)]:\($0.port)" : $0.description } ?? "?:0"
    }

    /// The reply buffer, written in place.
    var out: RESPWriter {
        _read { yield conn.output }
        _modify { yield &conn.output }
    }

    var proto: Int { conn.output.proto }

    var subscriptionCount: Int { channels.count + patterns.count }

    /// Argument `i` of the current command.
    @inline(__always) func arg(_ i: Int) -> Bytes { argv[i] }
    @inline(__always) func key(_ i: Int) -> Key { Key(argv[i]) }
    /// Argument `i`, upper-cased, for option keywords.
    func option(_ i: Int) -> String { String(decoding: argv[i], as: UTF8.self).uppercased() }
    var argc: Int { argv.count }
}

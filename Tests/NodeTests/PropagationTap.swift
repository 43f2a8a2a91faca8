import Shared
@testable import Node

/// What a server propagated, read back from its replication backlog the way a replica reads the
/// stream: SELECTs attribute each command to its database and are not listed themselves.
final class PropagationTap {
    let server: Server
    private var next: Int64
    private var db = 0

    /// Starts a backlog on `server` (so it propagates) and reads from its current offset.
    init(_ server: Server) {
        self.server = server
        if server.replication.backlog == nil { server.replication.createBacklog() }
        next = server.replication.masterReplOffset + 1
    }

    /// The commands propagated since the last call, with their databases.
    func take() -> [(db: Int, argv: [String])] {
        guard let bytes = server.replication.backlog?.bytes(from: next), !bytes.isEmpty else { return [] }
        next += Int64(bytes.count)
        var out: [(db: Int, argv: [String])] = []
        var pos = 0
        while let (value, end) = try? RESPParser.parse(bytes, from: pos), let parts = value.elements {
            pos = end
            let argv = parts.compactMap { p -> String? in
                if case .bulkString(let b) = p { return String(decoding: b, as: UTF8.self) }
                return nil
            }
            if argv.first?.uppercased() == "SELECT", argv.count == 2, let n = Int(argv[1]) { db = n; continue }
            out.append((db, argv))
        }
        return out
    }
}

/// A server without sockets for in-process command tests: socket-less clients, replies read from
/// their output buffers without running the event loop, and what was propagated (`stream`).
final class PropagationHarness {
    let loop: EventLoop
    let server: Server
    private let tap: PropagationTap
    private var log: [[String]] = []
    /// The commands propagated so far, read from the backlog (assign [] to start over).
    var stream: [[String]] {
        get { log += tap.take().map(\.argv); return log }
        set { _ = tap.take(); log = newValue }
    }

    init() throws {
        loop = try EventLoop()
        let config = ServerConfig()
        config.saveRules = []
        server = Server(config: config, loop: loop, log: Logger())
        tap = PropagationTap(server)
    }

    /// A socket-less client with the given id (CLIENT UNBLOCK names it).
    func client(_ id: Int) throws -> Client {
        let c = server.makeLocalClient(id: id)
        server.clients[id] = c
        return c
    }

    /// Runs one command as `c` and returns (and clears) its reply bytes.
    @discardableResult
    func run(_ c: Client, _ args: String...) -> String {
        c.argv = args.map { Bytes($0.utf8) }
        server.processCommand(c)
        c.argv = []
        return take(c)
    }

    func take(_ c: Client) -> String {
        String(decoding: c.takeReplies(), as: UTF8.self)
    }
}

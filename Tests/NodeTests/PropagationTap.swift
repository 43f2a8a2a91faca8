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

// Replication commands: REPLCONF, PSYNC, SYNC (replica ↔ master protocol), REPLICAOF/SLAVEOF,
// ROLE and WAIT. The logic lives in Replication/; these are the command specs and argument checks.
import Shared

extension CommandTable {
    static var replication: [CommandSpec] {
        [
            CommandSpec("replconf", -1, [.admin, .noscript, .loading, .stale, .allowBusy, .skipMonitor], ["admin", "slow", "dangerous"]) { s, c in
                try s.replication.replconfCommand(c)
            },
            CommandSpec("psync", -3, [.admin, .noscript, .noMulti, .skipMonitor], ["admin", "slow", "dangerous"]) { s, c in
                try s.replication.syncCommand(c, psync: true)
            },
            CommandSpec("sync", 1, [.admin, .noscript, .noMulti, .skipMonitor], ["admin", "slow", "dangerous"]) { s, c in
                try s.replication.syncCommand(c, psync: false)
            },
            CommandSpec("replicaof", 3, [.admin, .noscript, .stale], ["admin", "slow", "dangerous"]) { s, c in try s.replicaofCommand(c) },
            CommandSpec("slaveof", 3, [.admin, .noscript, .stale], ["admin", "slow", "dangerous"]) { s, c in try s.replicaofCommand(c) },
            CommandSpec("role", 1, [.noscript, .loading, .stale, .fast], ["admin", "fast", "dangerous"]) { s, c in
                s.replication.writeRole(c)
            },
            CommandSpec("wait", 3, [.noscript], ["slow", "connection"]) { s, c in try s.replication.waitCommand(c) },
            CommandSpec("failover", -1, [.admin, .noscript, .stale], ["admin", "slow", "dangerous"]) { s, c in
                try s.replication.failoverCommand(c)
            },
        ]
    }
}

extension Server {
    /// REPLICAOF host port | NO ONE.
    func replicaofCommand(_ c: Client) throws {
        if replication.failover.isActive { throw CommandError("ERR REPLICAOF not allowed while failing over.") }
        if c.flags.contains(.replica) {
            throw CommandError("ERR Command is not valid when client is a replica.")
        }
        let host = String(decoding: c.arg(1), as: UTF8.self)
        let portText = String(decoding: c.arg(2), as: UTF8.self)
        if host.lowercased() == "no" && portText.lowercased() == "one" {
            if masterHost != nil {
                replication.unsetMaster()
                log.notice("MASTER MODE enabled (user request from 'id=\(c.id) addr=\(c.addr) laddr=\(c.laddr) fd=\(c.fd) name=\(c.name.text)')")
            }
            c.out.ok()
            return
        }
        guard let port = Int(portText), port >= 0, port <= 65535 else { throw CommandError("ERR Invalid master port") }
        if masterHost == host && masterPort == port {
            log.notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
            c.out.raw("+OK Already connected to specified master\r\n")
            return
        }
        replication.setMaster(host: host, port: port)
        log.notice("REPLICAOF \(host):\(port) enabled (user request from 'id=\(c.id) addr=\(c.addr) laddr=\(c.laddr) fd=\(c.fd) name=\(c.name.text)')")
        c.out.ok()
    }
}

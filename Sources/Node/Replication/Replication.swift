// Replication state and INFO fields. (Stub: filled in by the replication work.)
import Shared

extension Server {
    func replicationInfo() -> [String] {
        ["role:master", "connected_slaves:0", "master_failover_state:no-failover",
         "master_replid:\(runID)", "master_replid2:0000000000000000000000000000000000000000",
         "master_repl_offset:0", "second_repl_offset:-1", "repl_backlog_active:0",
         "repl_backlog_size:\(config.replBacklogSize)", "repl_backlog_first_byte_offset:0", "repl_backlog_histlen:0"]
    }
}

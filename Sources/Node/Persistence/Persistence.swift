// RDB persistence state and INFO fields. (Stub: filled in by the RDB work.)
import Shared

extension Server {
    func persistenceInfo() -> [String] {
        ["loading:0", "rdb_changes_since_last_save:\(dirty)", "rdb_bgsave_in_progress:0", "aof_enabled:0"]
    }
}

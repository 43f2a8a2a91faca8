// Hooks for INFO sections owned by other subsystems. INFO (ServerCommands) asks each subsystem
// for its lines; a subsystem replaces its stub here with real fields.
import Shared

extension Server {
    /// `# Persistence` lines (owned by the RDB/AOF work).
    func infoPersistenceLines() -> [String] { persistenceInfo() }
    /// `# Replication` lines (owned by the replication work).
    func infoReplicationLines() -> [String] { replicationInfo() }
}

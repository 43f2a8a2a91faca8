// Replication commands. (Filled in by the Replication work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var replication: [CommandSpec] { [] }
}

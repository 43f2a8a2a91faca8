// Persistence commands. (Filled in by the Persistence work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var persistence: [CommandSpec] { [] }
}

// Server commands. (Filled in by the Server work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var server: [CommandSpec] { [] }
}

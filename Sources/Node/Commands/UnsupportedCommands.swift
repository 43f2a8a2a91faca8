// Unsupported commands. (Filled in by the Unsupported work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var unsupported: [CommandSpec] { [] }
}

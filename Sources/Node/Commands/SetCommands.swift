// Set commands. (Filled in by the Set work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var sets: [CommandSpec] { [] }
}

// Strings commands. (Filled in by the Strings work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var strings: [CommandSpec] { [] }
}

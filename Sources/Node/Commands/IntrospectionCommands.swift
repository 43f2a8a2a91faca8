// Introspection commands. (Filled in by the Introspection work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var introspection: [CommandSpec] { [] }
}

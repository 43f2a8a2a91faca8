// Keys commands. (Filled in by the Keys work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var keys: [CommandSpec] { [] }
}

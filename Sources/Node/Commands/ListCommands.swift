// List commands. (Filled in by the List work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var lists: [CommandSpec] { [] }
}

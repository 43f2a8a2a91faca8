// Hash commands. (Filled in by the Hash work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var hashes: [CommandSpec] { [] }
}

// Transactions commands. (Filled in by the Transactions work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var transactions: [CommandSpec] { [] }
}

// SortedSet commands. (Filled in by the SortedSet work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var sortedSets: [CommandSpec] { [] }
}

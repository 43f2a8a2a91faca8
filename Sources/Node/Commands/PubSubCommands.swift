// PubSub commands. (Filled in by the PubSub work; empty lists keep the table building.)
import Shared

extension CommandTable {
    static var pubsubCommands: [CommandSpec] { [] }
}

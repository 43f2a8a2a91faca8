// Introspection commands: CLIENT (ClientCommands.swift), COMMAND (CommandCommand.swift), ACL.
import Shared

extension CommandTable {
    static var introspection: [CommandSpec] {
        [clientCommand, commandCommand, aclCommand]
    }
}

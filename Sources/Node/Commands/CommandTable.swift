// The command table: every family contributes its specs; the server indexes them by name once.
import Shared

/// Namespace for the command families. Each `Commands/*Commands.swift` file adds one list.
enum CommandTable {
    /// Every command, from every family.
    static var all: [CommandSpec] {
        let families: [[CommandSpec]] = [
            connection, strings, keys, transactions, pubsubCommands, server, introspection,
            lists, hashes, sets, sortedSets, streams, persistence, aofCommands, replication, unsupported,
            bitmaps, hyperloglog, geo, sort, intersections, dump, shardedPubSub,
        ]
        return Array(families.joined())
    }

    /// The registry the dispatcher looks commands up in.
    static func build() -> CommandRegistry<CommandSpec> { CommandRegistry(all) }
}

// The command table: every family contributes its specs; the server indexes them by name once.

/// Namespace for the command families. Each `Commands/*Commands.swift` file adds one list.
enum CommandTable {
    /// Every command, from every family.
    static var all: [CommandSpec] {
        let families: [[CommandSpec]] = [
            connection, strings, keys, transactions, pubsubCommands, server, introspection,
            lists, hashes, sets, sortedSets, persistence, aofCommands, replication, unsupported,
            bitmaps, hyperloglog, geo, sort, intersections, dump, shardedPubSub,
        ]
        return Array(families.joined())
    }

    static func build() -> [String: CommandSpec] {
        var t: [String: CommandSpec] = [:]
        for c in all { t[c.name] = c }
        return t
    }
}

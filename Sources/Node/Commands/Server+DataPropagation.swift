// The one place where the data-type commands (bitmaps, HyperLogLog, GEO, SORT, DUMP/RESTORE,
// MIGRATE) say what replicas and the AOF must receive when that is not the argv the client sent:
// RESTORE with a relative TTL goes out with an absolute one, GEOADD as the ZADD it performs,
// SORT/GEO... STORE as the stored result, MIGRATE as a DEL of the keys that moved, PFCOUNT's
// cache update as PFCOUNT although the command is flagged read-only, SPUBLISH although it
// changed no key. It maps onto the core's propagateAs (writes: sent only if the dataset changed)
// and alsoPropagate (anything else: sent with the call, unconditionally).
import Shared

extension Server {
    /// Replaces what the running command propagates with `commands` (none: propagate nothing).
    /// For a command flagged `write`, they replace its argv and go out only if it changed the
    /// dataset, as every write does; for any other command (PFCOUNT refreshing its cached
    /// cardinality, SPUBLISH) they are sent after it unconditionally.
    func propagateDataWrite(_ c: Client, as commands: [[Bytes]]) {
        let flags = lookupCommand(c.argv[0])?.spec.flags ?? []
        if flags.contains(.write) {
            propagateAs(commands: commands)
        } else {
            for argv in commands { alsoPropagate(db: c.db.id, argv) }
        }
    }
}

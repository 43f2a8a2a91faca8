// What a self-fencing vigil-node needs to know and cannot see in a hello: our down-after for the
// master it is. Published with every hello to a master, on a channel of its own
// (`__vigil__:sentinel`, payload `<run id>,<master name>,<down-after ms>`), so redis-server masters
// and other sentinels are not disturbed (nobody subscribes to it but the node's PUBLISH hook).
import Shared

extension Sentinel {
    /// The channel vigil-node reads our down-after from (Node/Replication/Server+Fencing.swift).
    static let vigilAnnounceChannel = "__vigil__:sentinel"

    /// Publishes our down-after for `m` through its command link.
    func announceDownAfter(_ m: MonitoredInstance) {
        _ = m.link.send([m.command("PUBLISH"), Sentinel.vigilAnnounceChannel, "\(myID),\(m.name),\(m.downAfterMillis)"]) { _ in }
    }
}

// A sentinel with no event loop: links are simulated (commands are recorded, not sent) and time
// is a `ManualTime` that starts at the `now` the test passes (the sentinel's clock reads it, so
// what runs from callbacks and replies sees the test's time, never the real one).
@testable import Sentinel
import Shared

/// Collects published events.
final class EventRecorder {
    var events: [SentinelEvent] = []
    var types: [String] { events.map(\.type) }
    func has(_ type: String) -> Bool { events.contains { $0.type == type } }
    func message(_ type: String) -> String? { events.last { $0.type == type }?.message }
}

/// Builds sentinels and topologies for unit tests.
enum Fixture {
    static let myID = String(repeating: "a", count: 40)
    static let peerB = String(repeating: "b", count: 40)
    static let peerC = String(repeating: "c", count: 40)

    /// A sentinel monitoring `mymaster` at 10.0.0.1:6000 with replicas and peers; its clock reads
    /// `time` (by default a manual time at `now`).
    static func make(quorum: Int = 2, now: Int64 = 1000, replicas: Int = 2, peers: [String] = [peerB, peerC],
                     time: ManualTime? = nil) -> (Sentinel, EventRecorder, MonitoredInstance) {
        let log = Logger()
        log.level = .nothing
        let s = Sentinel(log: log, clock: Clock(time ?? ManualTime(monotonicMillis: now)))
        s.myID = myID
        s.random = { 0 }
        let rec = EventRecorder()
        s.onEvent = { rec.events.append($0) }
        let m = MonitoredInstance(flags: .master, name: "mymaster", address: InstanceAddress(ip: "10.0.0.1", port: 6000), master: nil, now: now)
        m.quorum = quorum
        m.downAfterMillis = 500
        m.failoverTimeout = 5000
        m.link.simulatedSent = []
        s.masters["mymaster"] = m
        for i in 0..<replicas {
            let r = s.addReplica(to: m, address: InstanceAddress(ip: "10.0.0.\(2 + i)", port: 6000), now: now, announce: false)!
            r.link.simulatedSent = []
            r.runID = String(repeating: String(i + 1), count: 40)
            r.infoRefresh = now
            r.slaveMasterHost = "10.0.0.1"
            r.slaveMasterPort = 6000
            r.slaveMasterLinkUp = true
        }
        for (i, id) in peers.enumerated() {
            let p = s.addSentinel(to: m, address: InstanceAddress(ip: "10.0.1.\(i + 1)", port: 26379), runID: id, now: now)
            p.link.simulatedSent = []
        }
        return (s, rec, m)
    }

    /// INFO text of a replica.
    static func replicaInfo(master: InstanceAddress, offset: Int64 = 100, priority: Int = 100, linkUp: Bool = true, runID: String? = nil) -> String {
        var s = "# Server\r\n"
        if let runID { s += "run_id:\(runID)\r\n" }
        s += "# Replication\r\nrole:slave\r\nmaster_host:\(master.ip)\r\nmaster_port:\(master.port)\r\n"
        s += "master_link_status:\(linkUp ? "up" : "down")\r\nslave_repl_offset:\(offset)\r\nslave_priority:\(priority)\r\n"
        return s
    }

    /// INFO text of a master.
    static func masterInfo(replicas: [InstanceAddress] = [], runID: String? = nil) -> String {
        var s = "# Server\r\n"
        if let runID { s += "run_id:\(runID)\r\n" }
        s += "# Replication\r\nrole:master\r\nconnected_slaves:\(replicas.count)\r\n"
        for (i, r) in replicas.enumerated() { s += "slave\(i):ip=\(r.ip),port=\(r.port),state=online,offset=10,lag=0\r\n" }
        return s
    }
}

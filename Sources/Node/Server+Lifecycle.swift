// Configuration applied at start (ACL users, the dataset, replicaof), and shutdown (SHUTDOWN
// command, SIGTERM).
import Shared

extension Server {
    /// Applies the parts of the configuration that need the server (ACL users, requirepass).
    func configure() throws {
        try configureUsers()
        try startSubsystems()
    }

    /// ACL users and requirepass: in place before the first client is accepted.
    func configureUsers() throws {
        acl.setRequirePass(config.requirepass)
        for line in config.userLines {
            guard let name = line.first else { continue }
            if let bad = acl.checkedSetUser(name, rules: Array(line.dropFirst())) {
                throw ConfigError(file: config.configFile, line: 0, text: "user " + line.joined(separator: " "),
                                  message: "Error in user declaration '\(name)': \(bad.reason)")
            }
        }
    }

    /// The start-up steps that follow listening: loading the dataset (clients get -LOADING
    /// meanwhile), then starting replication.
    func startSubsystems() throws {
        // The baseline before any data (Redis's used_memory_startup).
        memory.startup = ProcessMemory.allocated
        try loadDataAtStartup()
        // The config file may have set self-fencing after the server was made.
        fencingSettingsChanged()
        replication.configure()
    }

    /// Starts a shutdown. `save`: nil = as configured (save if save rules exist), true/false forced.
    /// Returns false if a step refused (SHUTDOWN then replies an error).
    /// Unless `now`, lagging replicas first get up to shutdown-timeout to catch up: the loop keeps
    /// running and the replication layer calls `finishShutdown` when the wait ends.
    @discardableResult
    func requestShutdown(save: Bool?, now: Bool, force: Bool) -> Bool {
        if !now && replication.deferShutdown(save: save, force: force, now: clock.monotonicMillis()) { return true }
        return finishShutdown(save: save, force: force)
    }

    /// The last steps before exiting, in order: the final save, naming lagging replicas, the
    /// AOF's flush; then the loop stops. False if a step refused (without FORCE).
    func finishShutdown(save: Bool?, force: Bool) -> Bool {
        if !saveOnShutdown(save) && !force { return false }
        replication.logLaggingReplicas(now: clock.monotonicMillis())
        if !aof.shutdown() && !force { return false }
        log.warning("Vigil is now ready to exit, bye bye...")
        flushRepliesNow()
        shuttingDown = true
        loop.stop()
        return true
    }

    var exitStatus: Int32 { 0 }
}

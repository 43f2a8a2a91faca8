// Configuration applied at start, and shutdown (SHUTDOWN command, SIGTERM).
import Shared

extension Server {
    /// Applies the parts of the configuration that need the server (ACL users, requirepass).
    func configure() throws {
        try configureUsers()
        try runConfigureHooks()
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

    /// The subsystems' start-up steps (loading the dataset, starting replication).
    func runConfigureHooks() throws {
        for hook in configureHooks { try hook() }
    }

    /// Starts a shutdown. `save`: nil = as configured (save if save rules exist), true/false forced.
    /// Returns false if a hook refused (SHUTDOWN then replies an error).
    /// Unless `now`, lagging replicas first get up to shutdown-timeout to catch up: the loop keeps
    /// running and the replication layer calls `finishShutdown` when the wait ends.
    @discardableResult
    func requestShutdown(save: Bool?, now: Bool, force: Bool) -> Bool {
        if !now && replication.deferShutdown(save: save, force: force, now: Clock.monotonicMillis()) { return true }
        return finishShutdown(save: save, force: force)
    }

    /// Runs the shutdown hooks (save...) and stops the loop; false if a hook refused.
    func finishShutdown(save: Bool?, force: Bool) -> Bool {
        for hook in shutdownHooks {
            if !hook(save) && !force { return false }
        }
        log.warning("Vigil is now ready to exit, bye bye...")
        for c in Array(clients.values) { c.conn.flush() }
        shuttingDown = true
        loop.stop()
        return true
    }

    var exitStatus: Int32 { 0 }
}

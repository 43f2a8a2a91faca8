// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset to the RDB file and load it back, as
// Redis does, so a test (Redis's own units among them) can check that every type and encoding
// survives a save/load cycle without restarting the server.
import Shared

extension Server {
    /// DEBUG RELOAD: saves (unless NOSAVE), empties the databases (unless NOFLUSH) and loads the
    /// RDB file. With NOFLUSH the loaded keys are added to what is there; a key present on both
    /// sides is replaced by the file's only with MERGE, otherwise the load fails (Redis stops
    /// there with a panic; we answer the error and keep what was already loaded). Unlike Redis,
    /// a file that cannot be read or parsed leaves the dataset as it was. The AOF is left alone:
    /// it still describes the same data.
    func debugReload(_ c: Client) throws {
        var flush = true, save = true, merge = false
        for i in 2..<max(2, c.argc) {
            switch c.option(i) {
            case "MERGE": merge = true
            case "NOFLUSH": flush = false
            case "NOSAVE": save = false
            default: throw CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
            }
        }
        if save && !saveRDB() { throw CommandError("ERR") }
        let loadError = CommandError("ERR Error trying to load the RDB dump")
        let bytes: Bytes
        do {
            guard let b = try Posix.readFile(rdbPath) else { throw loadError }
            bytes = b
        } catch {
            log.warning("Fatal error loading the DB: \(error). Exiting.")
            throw loadError
        }
        let contents: RDBContents
        do {
            var reader = RDBReader(bytes)
            contents = try reader.read(now: isReplica ? nil : clock.wallMillis())
        } catch {
            log.warning("Error loading the RDB for DEBUG RELOAD: \(error)")
            throw loadError
        }
        for w in contents.warnings { log.warning(w) }
        if flush {
            for db in databases { watchTable.touchExisting(in: db, now: clock.wallMillis()) }
            do { try apply(contents) } catch {
                log.warning("\(error)")
                throw loadError
            }
        } else {
            for (index, loaded) in contents.databases {
                guard index < databases.count else { throw loadError }
                let db = databases[index]
                for (k, v) in loaded.dict {
                    if db.raw(k) != nil && !merge {
                        log.warning("RDB has duplicated key '\(k.bytes.text)' in DB \(index)")
                        throw loadError
                    }
                    db.dict[k] = v
                    _ = db.removeExpiry(k)
                    if let t = loaded.expires[k] { db.setExpiry(k, t) }
                }
            }
        }
        log.warning("DB reloaded by DEBUG RELOAD")
        c.out.ok()
    }
}

// Argument helpers shared by the string and key commands: expiry times (SET/GETEX and EXPIRE &
// co.) parsed into unix milliseconds with Redis's overflow checks and error texts, integer
// arguments, and the bookkeeping every write does (dirty counter, WATCH/blocked-client signal).
import Shared

/// The unit and base of an expiry argument.
struct ExpireSpec {
    /// Seconds (EX, EXAT, EXPIRE) rather than milliseconds.
    var seconds: Bool
    /// An absolute unix time (EXAT, PXAT, EXPIREAT) rather than a delay.
    var absolute: Bool
}

extension Server {
    /// Parses `arg` into absolute unix milliseconds as Redis's getExpireMillisecondsOrReply does
    /// for SET/GETEX: the number must be positive, and overflow is an invalid expire time.
    func expireAtMillis(_ arg: Bytes, _ spec: ExpireSpec, command: String) throws -> Int64 {
        guard var ms = NumberFormat.parseInt(arg) else { throw CommandError.notInteger }
        if ms <= 0 || (spec.seconds && ms > Int64.max / 1000) { throw CommandError.invalidExpireTime(command) }
        if spec.seconds { ms *= 1000 }
        if !spec.absolute {
            let (sum, overflow) = ms.addingReportingOverflow(clock.wallMillis())
            if overflow || sum <= 0 { throw CommandError.invalidExpireTime(command) }
            ms = sum
        }
        return ms
    }

    /// True when an absolute expiry is already in the past and this node may delete on its own
    /// (Redis's checkAlreadyExpired: masters only, and not while loading).
    func alreadyExpired(_ at: Int64) -> Bool {
        at <= clock.wallMillis() && !loading && masterHost == nil
    }

    /// Parses a signed 64-bit integer argument or throws Redis's "not an integer" error.
    func integerArgument(_ b: Bytes) throws -> Int64 {
        guard let v = NumberFormat.parseInt(b) else { throw CommandError.notInteger }
        return v
    }

    /// Counts a write: bumps the dirty counter and notifies WATCH and blocked clients.
    @inline(__always)
    func keyWritten(_ db: Database, _ key: Key, dirty n: Int = 1) {
        dirty += n
        signalModifiedKey(db, key)
    }
}

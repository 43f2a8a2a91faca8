// Diskless full sync (rdbSaveToSlavesSockets): a forked child writes `$EOF:<mark>\r\n`, the RDB
// image and the mark straight to the replicas' sockets while the parent keeps serving. The
// parent writes nothing to those sockets until the child is done (their stream is held, see
// Replication+FullSync.swift).
//
// What the child may do: it is a copy of a process that may have other threads (the lazyfree
// worker, a resolver thread), and only the forking thread exists in it. Any lock another thread
// held at the fork stays held forever in the child, so the child takes none of ours (it never
// queues lazyfree jobs), resolves no names, logs through the already open log file, and leaves
// with _exit. glibc's fork re-initializes malloc's locks, so allocating stays safe. It reads the
// keyspace but stamps nothing on it (no writes to shared pages beyond the reference counts Swift
// keeps in the objects it reads).
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// The child's writer: each chunk to every socket still alive, waiting in poll(2) while a socket
/// is full. A socket that fails or stays full past the timeout is shut down (its replica sees the
/// connection end, and the parent frees it) and dropped.
struct SocketFanout {
    /// Sockets still receiving.
    private(set) var live: [Int32]
    /// How long one socket may stay full (repl-timeout), ms.
    let timeoutMillis: Int32

    /// Writes `bytes` to every live socket; false once none is left.
    @discardableResult
    mutating func write(_ bytes: Bytes) -> Bool {
        live = live.filter { fd in
            if Self.writeAll(fd, bytes, timeoutMillis: timeoutMillis) { return true }
            shutdown(fd, Int32(SHUT_RDWR))
            return false
        }
        return !live.isEmpty
    }

    private static func writeAll(_ fd: Int32, _ bytes: Bytes, timeoutMillis: Int32) -> Bool {
        bytes.withUnsafeBytes { p in
            guard p.count > 0 else { return true }
            var off = 0
            while off < p.count {
                let n = Glibc.write(fd, p.baseAddress! + off, p.count - off)
                if n > 0 { off += n; continue }
                let e = errno
                if n < 0 && e == EINTR { continue }
                guard n < 0 && (e == EAGAIN || e == EWOULDBLOCK) else { return false }
                // The socket is non-blocking (its file status is shared with the parent, so it
                // stays that way): wait until the replica read some.
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let r = poll(&pfd, 1, timeoutMillis)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 || pfd.revents & Int16(POLLERR | POLLHUP) != 0 { return false }
            }
            return true
        }
    }
}

/// The child could not write to any replica.
private struct NoReplicaLeft: Error {}

extension Server {
    /// Forks the diskless child for the replica sockets `fds`. False if the fork failed.
    func startSocketSnapshot(fds: [Int32]) -> Bool {
        guard persistence.child == nil, !fds.isEmpty else { return false }
        let mark = Array(RunID.make().utf8)
        let timeout = Int32(clamping: max(1, config.replTimeout) * 1000)
        let options = rdbWriterOptions
        let forkStart = Clock.monotonicMicros()
        do {
            let child = try ChildProcess.fork(clock: clock) { [self] in
                var out = SocketFanout(live: fds, timeoutMillis: timeout)
                guard out.write(Array("$EOF:".utf8) + mark + [13, 10]) else { return 1 }
                do {
                    _ = try RDBWriter.snapshot(databases, options: options, now: Clock.wallMillis()) { chunk in
                        guard out.write(chunk) else { throw NoReplicaLeft() }
                    }
                } catch {
                    return 1
                }
                return out.write(mark) ? 0 : 1
            }
            persistence.child = child
            persistence.childTarget = .socket
            forked(usec: Clock.monotonicMicros() - forkStart)
            childrenChanged()
            log.notice("Background RDB transfer started by pid \(child.pid)")
            return true
        } catch {
            log.warning("Can't save in background: \(error)")
            return false
        }
    }
}

// The listening side of a server, for both binaries: binds every address of a `bind` list
// (a leading `-` marks an address that may be unavailable, as Redis's `bind -::1`), registers
// the sockets with the loop, and accepts up to Redis's MAX_ACCEPTS_PER_CALL connections per wake.
#if canImport(Glibc)
import Glibc
#endif

/// The listening sockets of one server.
public final class ListenerGroup {
    /// Redis's MAX_ACCEPTS_PER_CALL: enough to drain a burst, bounded so clients already
    /// connected are not starved by a flood of new ones.
    public static let acceptsPerWake = 1000

    private let loop: EventLoop
    private var sockets: [Listening] = []
    /// Called with each accepted, non-blocking, close-on-exec descriptor.
    public var onAccept: (Int32) -> Void = { Posix.close($0) }
    /// Called when accept fails for another reason than "nothing pending" (EMFILE...).
    public var onAcceptError: (IOError) -> Void = { _ in }

    /// Listeners for `loop`; nothing is bound until `bind`.
    public init(loop: EventLoop) { self.loop = loop }

    /// Binds `addresses` on `port`. A failure on a `-` address that the host simply lacks
    /// (no IPv6...) is skipped; any other failure is reported through `warn` and thrown, as is
    /// binding nothing at all.
    public func bind(_ addresses: [String], port: Int, backlog: Int32 = 511, warn: (String) -> Void) throws {
        var bound = 0
        for raw in addresses {
            let optional = raw.hasPrefix("-")
            let host = optional ? String(raw.dropFirst()) : raw
            do {
                let fd = try Socket.listen(host: host, port: port, backlog: backlog)
                let l = Listening(fd: fd, group: self)
                do { try loop.register(fd: fd, handler: l) } catch { Posix.close(fd); throw error }
                sockets.append(l)
                bound += 1
            } catch let e as IOError {
                if optional && Self.isUnavailableAddress(e.errnoCode) { continue }
                warn("Warning: Could not create server TCP listening socket \(host):\(port): \(Posix.strerror(e.errnoCode))")
                throw e
            }
        }
        if bound == 0 { throw IOError(errnoCode: EADDRNOTAVAIL, call: "bind") }
    }

    /// Number of bound sockets.
    public var count: Int { sockets.count }

    /// Closes every listening socket (shutdown).
    public func close() {
        for l in sockets {
            loop.unregister(fd: l.fd)
            Posix.close(l.fd)
        }
        sockets = []
    }

    /// errnos meaning "this host has no such address family or address".
    static func isUnavailableAddress(_ e: Int32) -> Bool {
        e == EADDRNOTAVAIL || e == EAFNOSUPPORT || e == EPROTONOSUPPORT || e == EINVAL
    }

    fileprivate func acceptBurst(_ fd: Int32) {
        for _ in 0..<Self.acceptsPerWake {
            do {
                switch try Socket.accept(fd) {
                case .done(let cfd): onAccept(cfd)
                case .wouldBlock: return
                }
            } catch let e as IOError {
                onAcceptError(e)
                return
            } catch { return }
        }
    }
}

/// One listening socket registered with the loop.
private final class Listening: EventHandler {
    let fd: Int32
    unowned let group: ListenerGroup
    init(fd: Int32, group: ListenerGroup) { self.fd = fd; self.group = group }
    func handleReadable() { group.acceptBurst(fd) }
    func handleWritable() {}
}

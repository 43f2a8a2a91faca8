// TCP sockets: listening, accepting, non-blocking connect, and address formatting.
import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// A resolved peer or local address as Redis prints it: `ip:port`, IPv6 as `[::1]:port` in CLIENT LIST.
public struct SocketAddress: Sendable, Equatable {
    public var ip: String
    public var port: Int
    public var isIPv6: Bool
    public init(ip: String, port: Int, isIPv6: Bool = false) { self.ip = ip; self.port = port; self.isIPv6 = isIPv6 }
    /// `ip:port` as Redis's CLIENT LIST `addr=` field writes it.
    public var description: String { "\(ip):\(port)" }
}

/// Socket helpers; all errors come back as `IOError`.
public enum Socket {
    /// Opens a non-blocking listening socket on `host:port` (IPv4 or IPv6 literal, or `*`/`::*`).
    public static func listen(host: String, port: Int, backlog: Int32 = 511) throws -> Int32 {
        let v6 = host.contains(":")
        let family = v6 ? AF_INET6 : AF_INET
        let fd = try Posix.blocking("socket") {
            Glibc.socket(family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if v6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        do {
            if v6 {
                var addr = sockaddr_in6()
                addr.sin6_family = sa_family_t(AF_INET6)
                addr.sin6_port = UInt16(port).bigEndian
                let h = (host == "::*" || host == "*") ? "::" : host
                guard inet_pton(AF_INET6, h, &addr.sin6_addr) == 1 else {
                    throw IOError(errnoCode: EINVAL, call: "bind \(host)")
                }
                _ = try withUnsafePointer(to: &addr) { (p) throws in
                    try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sp) throws in
                        try Posix.blocking("bind \(host):\(port)") { Glibc.bind(fd, sp, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
                    }
                }
            } else {
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = UInt16(port).bigEndian
                let h = host == "*" ? "0.0.0.0" : (host == "localhost" ? "127.0.0.1" : host)
                guard inet_pton(AF_INET, h, &addr.sin_addr) == 1 else {
                    throw IOError(errnoCode: EINVAL, call: "bind \(host)")
                }
                _ = try withUnsafePointer(to: &addr) { (p) throws in
                    try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sp) throws in
                        try Posix.blocking("bind \(host):\(port)") { Glibc.bind(fd, sp, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                }
            }
            _ = try Posix.blocking("listen") { Glibc.listen(fd, backlog) }
        } catch {
            Posix.close(fd)
            throw error
        }
        return fd
    }

    /// Accepts one connection, non-blocking and close-on-exec; `.wouldBlock` when none is pending.
    public static func accept(_ listenFD: Int32) throws -> IOResult<Int32> {
        try Posix.syscall("accept4") {
            accept4(listenFD, nil, nil, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
        }
    }

    /// Starts a non-blocking TCP connect to an IPv4/IPv6 literal or `localhost`. Completion is
    /// signalled by writability; check it with `connectResult`.
    public static func connect(host: String, port: Int, source: String? = nil) throws -> Int32 {
        let h = host == "localhost" ? "127.0.0.1" : host
        let v6 = h.contains(":")
        let fd = try Posix.blocking("socket") {
            Glibc.socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        if let source {
            do { try bindSource(fd, source, v6: v6) } catch { Posix.close(fd); throw error }
        }
        var r: Int32
        if v6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET6, h, &addr.sin6_addr) == 1 else {
                Posix.close(fd); throw IOError(errnoCode: EINVAL, call: "connect \(host)")
            }
            r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET, h, &addr.sin_addr) == 1 else {
                Posix.close(fd); throw IOError(errnoCode: EINVAL, call: "connect \(host)")
            }
            r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        do { try Posix.checkConnect(r, "connect \(host):\(port)") } catch { Posix.close(fd); throw error }
        setNoDelay(fd)
        return fd
    }

    /// Binds an outgoing socket to the local IP `source` (port chosen by the kernel), as Redis's
    /// anetTcpNonBlockBindConnect does for bind-source-addr.
    static func bindSource(_ fd: Int32, _ source: String, v6: Bool) throws {
        if v6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            guard inet_pton(AF_INET6, source, &addr.sin6_addr) == 1 else { throw IOError(errnoCode: EINVAL, call: "bind \(source)") }
            _ = try withUnsafePointer(to: &addr) { (p) throws in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sp) throws in
                    try Posix.blocking("bind \(source)") { Glibc.bind(fd, sp, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
                }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            guard inet_pton(AF_INET, source, &addr.sin_addr) == 1 else { throw IOError(errnoCode: EINVAL, call: "bind \(source)") }
            _ = try withUnsafePointer(to: &addr) { (p) throws in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sp) throws in
                    try Posix.blocking("bind \(source)") { Glibc.bind(fd, sp, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        }
    }

    /// A connected pair of Unix stream sockets (tests, in-process peers).
    public static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        _ = try Posix.blocking("socketpair") { socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds) }
        return (fds[0], fds[1])
    }

    /// After a non-blocking connect reports writable: nil on success, else the error.
    public static func connectResult(_ fd: Int32) -> IOError? {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        do { _ = try Posix.blocking("getsockopt") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) } } catch let e as IOError { return e } catch { return IOError(errnoCode: EIO, call: "getsockopt") }
        return err == 0 ? nil : IOError(errnoCode: err, call: "connect")
    }

    public static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Enables TCP keepalive with Redis's interval semantics (`tcp-keepalive` seconds).
    public static func setKeepAlive(_ fd: Int32, interval: Int) {
        guard interval > 0 else { return }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
        var idle = Int32(interval)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, socklen_t(MemoryLayout<Int32>.size))
        var intvl = Int32(max(1, interval / 3))
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &intvl, socklen_t(MemoryLayout<Int32>.size))
        var cnt: Int32 = 3
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &cnt, socklen_t(MemoryLayout<Int32>.size))
    }

    public static func peerAddress(_ fd: Int32) -> SocketAddress? { address(fd, peer: true) }
    public static func localAddress(_ fd: Int32) -> SocketAddress? { address(fd, peer: false) }

    private static func address(_ fd: Int32, peer: Bool) -> SocketAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &len) : getsockname(fd, $0, &len) }
        }
        guard r == 0 else { return nil }
        return format(&storage)
    }

    static func format(_ storage: inout sockaddr_storage) -> SocketAddress? {
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        if storage.ss_family == sa_family_t(AF_INET) {
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p -> SocketAddress? in
                    var a = p.pointee.sin_addr
                    guard inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count)) != nil else { return nil }
                    return SocketAddress(ip: String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port: Int(UInt16(bigEndian: p.pointee.sin_port)))
                }
            }
        } else if storage.ss_family == sa_family_t(AF_INET6) {
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p -> SocketAddress? in
                    var a = p.pointee.sin6_addr
                    guard inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count)) != nil else { return nil }
                    var ip = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if ip.hasPrefix("::ffff:") && ip.contains(".") { ip.removeFirst(7) }
                    return SocketAddress(ip: ip, port: Int(UInt16(bigEndian: p.pointee.sin6_port)), isIPv6: !ip.contains("."))
                }
            }
        }
        return nil
    }

    /// True if `ip` is a loopback address (protected mode lets these in).
    public static func isLoopback(_ ip: String) -> Bool {
        ip.hasPrefix("127.") || ip == "::1"
    }
}

// A blocking RESP client over a real socket for integration tests: send commands, read replies
// as RESPValue or raw bytes. Tests may use Foundation; this stays on Glibc for precise control.
import Shared
#if canImport(Glibc)
import Glibc
#endif

/// Errors from the test client.
public struct TestClientError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A synchronous RESP connection with a read timeout.
public final class TestClient {
    public let fd: Int32
    public let port: Int
    private var buffer: Bytes = []
    public var timeoutMillis: Int

    /// Connects to 127.0.0.1:`port` (blocking, with a timeout).
    public init(port: Int, host: String = "127.0.0.1", timeoutMillis: Int = 5000) throws {
        self.port = port
        self.timeoutMillis = timeoutMillis
        let fd = socket(host.contains(":") ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError("socket failed") }
        var tv = timeval(tv_sec: timeoutMillis / 1000, tv_usec: Int((timeoutMillis % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr)
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if r != 0 { close(fd); throw TestClientError("connect to \(port) failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends raw bytes.
    public func sendRaw(_ bytes: Bytes) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestClientError("send failed: errno \(errno)") }
            off += n
        }
    }

    public func sendRaw(_ s: String) throws { try sendRaw(Bytes(s.utf8)) }

    /// Sends a command as a multibulk.
    public func send(_ args: [String]) throws { try sendRaw(RESPWriter.command(args)) }
    public func send(bytes args: [Bytes]) throws { try sendRaw(RESPWriter.command(args)) }

    /// Reads more bytes into the buffer; false on EOF.
    @discardableResult
    private func fill() throws -> Bool {
        var chunk = Bytes(repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if n == 0 { return false }
        if n < 0 { throw TestClientError("recv failed or timed out: errno \(errno)") }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Reads one reply.
    public func read() throws -> RESPValue {
        while true {
            if let (v, next) = try RESPParser.parse(buffer) {
                buffer.removeFirst(next)
                return v
            }
            guard try fill() else { throw TestClientError("connection closed") }
        }
    }

    /// Reads one reply and returns its exact bytes (for byte-for-byte comparisons).
    public func readRaw() throws -> Bytes {
        while true {
            if let (_, next) = try RESPParser.parse(buffer) {
                let raw = Bytes(buffer[0..<next])
                buffer.removeFirst(next)
                return raw
            }
            guard try fill() else { throw TestClientError("connection closed") }
        }
    }

    /// True if the server closed the connection (reads until EOF or timeout).
    public func isClosedByPeer() -> Bool {
        do {
            while try fill() {}
            return true
        } catch { return false }
    }

    /// Sends a command and reads its reply.
    @discardableResult
    public func call(_ args: String...) throws -> RESPValue { try send(args); return try read() }
    @discardableResult
    public func call(_ args: [String]) throws -> RESPValue { try send(args); return try read() }
    @discardableResult
    public func call(bytes args: [Bytes]) throws -> RESPValue { try send(bytes: args); return try read() }
}

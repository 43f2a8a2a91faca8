// A buffered, non-blocking TCP connection: a read buffer the protocol layer parses in place, and a
// write queue flushed when the socket accepts more. No command logic lives here: a server's
// client owns its reply buffer and hands it over with `enqueue` (see CommandReply.swift for
// reading requests).
import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// One socket registered with the event loop, with its input buffer and pending output.
public final class Connection: EventHandler {
    public let fd: Int32
    public unowned let loop: EventLoop
    /// Received bytes not yet consumed start at `readStart`.
    public var input: Bytes = []
    public var readStart = 0
    /// Pending output; `outSent` bytes of it already went out.
    public var output = RESPWriter()
    public var outSent = 0
    public private(set) var isClosed = false
    /// True until a non-blocking connect completes.
    public private(set) var isConnecting = false
    /// Total bytes ever read (for stats and replication offsets of raw links).
    public private(set) var bytesRead = 0

    /// Called with the connection after new bytes arrived.
    public var onInput: ((Connection) -> Void)?
    /// Called once when the peer closed or an I/O error happened (after which the fd is closed).
    public var onClose: ((Connection, IOError?) -> Void)?
    /// Called when an outgoing connect completed (nil) or failed.
    public var onConnect: ((Connection, IOError?) -> Void)?
    /// Called after output drained completely.
    public var onDrained: ((Connection) -> Void)?

    public var readChunk = 64 * 1024
    private var watchingWrite = false

    /// Wraps an accepted socket and starts reading.
    public init(fd: Int32, loop: EventLoop) throws {
        self.fd = fd
        self.loop = loop
        try loop.register(fd: fd, handler: self, read: true, write: false)
    }

    /// Starts an outgoing connection; `onConnect` reports the result.
    /// `source`, when set, is the local address to bind first (bind-source-addr).
    public static func connect(host: String, port: Int, loop: EventLoop, source: String? = nil) throws -> Connection {
        let fd = try Socket.connect(host: host, port: port, source: source)
        let c: Connection
        do { c = try Connection(fd: fd, loop: loop, connecting: true) } catch { Posix.close(fd); throw error }
        return c
    }

    private init(fd: Int32, loop: EventLoop, connecting: Bool) throws {
        self.fd = fd
        self.loop = loop
        self.isConnecting = connecting
        try loop.register(fd: fd, handler: self, read: false, write: true)
        watchingWrite = true
    }

    /// Unconsumed input as a raw buffer view.
    @inline(__always)
    public func withInput<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try input.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[readStart...])) }
    }

    public var pendingInput: Int { input.count - readStart }

    /// Marks `n` input bytes as consumed.
    @inline(__always)
    public func consume(_ n: Int) {
        readStart += n
        if readStart == input.count { input.removeAll(keepingCapacity: true); readStart = 0 }
    }

    /// Drops consumed bytes from the front of the buffer once they dominate it.
    public func compactInput() {
        if readStart > 0 && (readStart >= 64 * 1024 || readStart * 2 >= input.count) {
            input.removeSubrange(0..<readStart)
            readStart = 0
        }
    }

    public var pendingOutput: Int { output.bytes.count - outSent }

    // MARK: - Event handling

    public func handleReadable() {
        guard !isClosed else { return }
        compactInput()
        // Read into the loop's scratch buffer, then append: one copy instead of zero-filling and
        // trimming the input array on every read.
        let scratch = loop.scratch
        var n = 0
        var failure: IOError? = nil
        var eof = false
        do {
            switch try Posix.read(fd, scratch.baseAddress!, min(readChunk, scratch.count)) {
            case .done(let k): n = k; if k == 0 { eof = true }
            case .wouldBlock: n = 0
            }
        } catch let e as IOError { failure = e } catch { failure = IOError(errnoCode: EIO, call: "read") }
        if n > 0 {
            input.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            bytesRead += n
            onInput?(self)
            return
        }
        if eof || failure != nil { close(failure) }
    }

    public func handleWritable() {
        guard !isClosed else { return }
        if isConnecting {
            isConnecting = false
            if let err = Socket.connectResult(fd) {
                onConnect?(self, err)
                close(err)
                return
            }
            loop.setInterest(fd: fd, read: true, write: pendingOutput > 0)
            watchingWrite = pendingOutput > 0
            onConnect?(self, nil)
            if isClosed { return }
            if pendingOutput == 0 { return }
        }
        flush()
    }

    // MARK: - Output

    /// Queues raw bytes.
    public func send(_ bytes: Bytes) {
        output.bytes.append(contentsOf: bytes)
    }

    /// Takes an owner's reply buffer for sending: swapped in when nothing is queued (no copy;
    /// the owner gets back an empty buffer with capacity), appended otherwise.
    @inline(__always)
    public func enqueue(_ buffer: inout Bytes) {
        guard !buffer.isEmpty else { return }
        if output.bytes.isEmpty {
            outSent = 0
            swap(&output.bytes, &buffer)
        } else {
            output.bytes.append(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Writes as much pending output as the socket takes; arms write interest for the rest.
    /// Returns false if the connection failed and was closed.
    @discardableResult
    public func flush() -> Bool {
        guard !isClosed else { return false }
        if isConnecting { return true }
        while outSent < output.bytes.count {
            let fd = self.fd, sent = outSent
            let res: Result<IOResult<Int>, IOError> = output.bytes.withUnsafeBytes { p in
                do { return .success(try Posix.write(fd, p.baseAddress! + sent, min(p.count - sent, 1 << 20))) }
                catch { return .failure(error as? IOError ?? IOError(errnoCode: EIO, call: "write")) }
            }
            let r: IOResult<Int>
            switch res {
            case .success(let v): r = v
            case .failure(let e): close(e); return false
            }
            switch r {
            case .done(let k): outSent += k
            case .wouldBlock:
                if !watchingWrite { watchingWrite = true; loop.setInterest(fd: fd, read: true, write: true) }
                return true
            }
        }
        output.bytes.removeAll(keepingCapacity: output.bytes.capacity <= 64 * 1024)
        outSent = 0
        if watchingWrite { watchingWrite = false; loop.setInterest(fd: fd, read: readEnabled, write: false) }
        onDrained?(self)
        return true
    }

    private var readEnabled = true

    /// Asks for a writable event instead of writing now: a producer that refills the output from
    /// `onDrained` (a file sent in chunks) sends one chunk per loop iteration, so other clients
    /// are served between chunks however fast the peer reads.
    public func wantWritable() {
        guard !isClosed, !isConnecting, !watchingWrite else { return }
        watchingWrite = true
        loop.setInterest(fd: fd, read: readEnabled, write: true)
    }

    /// Stops or resumes reading (CLIENT PAUSE, back-pressure).
    public func setReading(_ on: Bool) {
        guard !isClosed, !isConnecting else { return }
        readEnabled = on
        loop.setInterest(fd: fd, read: on, write: watchingWrite)
    }

    /// Closes the socket and reports it once through `onClose`.
    public func close(_ error: IOError? = nil) {
        guard !isClosed else { return }
        isClosed = true
        loop.unregister(fd: fd)
        Posix.close(fd)
        let cb = onClose
        onClose = nil; onInput = nil; onConnect = nil; onDrained = nil
        cb?(self, error)
    }
}

// One thread, one epoll instance, level-triggered (Redis's ae.c is the model). Timers live in a
// binary heap; the nearest deadline becomes epoll_wait's timeout. Signals arrive through a signalfd.
import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// Something that owns a file descriptor registered with the loop.
public protocol EventHandler: AnyObject {
    /// The descriptor has data (or EOF, or an error) to read.
    func handleReadable()
    /// The descriptor accepts more output (or a non-blocking connect finished).
    func handleWritable()
}

/// Identifies a timer so it can be cancelled.
public typealias TimerID = Int

/// A level-triggered epoll loop with timers, signals and before-sleep hooks.
public final class EventLoop {
    private let epfd: Int32
    private struct Registration {
        let handler: EventHandler
        var read: Bool
        var write: Bool
    }
    /// Indexed by fd: lookups on the hot path are an array access.
    private var registrations: [Registration?] = []
    private var running = false

    private struct Timer {
        var deadline: Int64
        var id: TimerID
    }
    private var heap: [Timer] = []
    private var timerCallbacks: [TimerID: () -> Void] = [:]
    private var nextTimerID: TimerID = 1

    private var beforeSleepHooks: [() -> Void] = []
    private var signalFD: Int32 = -1
    private var signalHandler: ((Int32) -> Void)?
    private var events = [epoll_event](repeating: epoll_event(), count: 1024)
    /// A read buffer shared by every connection of this (single-threaded) loop.
    public let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    public init() throws {
        epfd = try Posix.blocking("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    deinit {
        Posix.close(epfd)
        scratch.deallocate()
    }

    // MARK: - File descriptors

    /// Registers `fd`; the loop holds the handler until `unregister`.
    public func register(fd: Int32, handler: EventHandler, read: Bool = true, write: Bool = false) throws {
        let i = Int(fd)
        if i >= registrations.count { registrations.append(contentsOf: repeatElement(nil, count: i + 64 - registrations.count)) }
        registrations[i] = Registration(handler: handler, read: read, write: write)
        var ev = epoll_event()
        ev.events = mask(read: read, write: write)
        ev.data.fd = fd
        _ = try Posix.blocking("epoll_ctl add") { epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) }
    }

    /// Changes what the loop waits for on `fd`. Cheap when nothing changes.
    public func setInterest(fd: Int32, read: Bool, write: Bool) {
        let i = Int(fd)
        guard i < registrations.count, var reg = registrations[i] else { return }
        if reg.read == read && reg.write == write { return }
        reg.read = read
        reg.write = write
        registrations[i] = reg
        var ev = epoll_event()
        ev.events = mask(read: read, write: write)
        ev.data.fd = fd
        _ = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev)
    }

    /// Stops watching `fd` (does not close it).
    public func unregister(fd: Int32) {
        let i = Int(fd)
        guard i < registrations.count, registrations[i] != nil else { return }
        registrations[i] = nil
        var ev = epoll_event()
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev)
    }

    private func mask(read: Bool, write: Bool) -> UInt32 {
        var m: UInt32 = 0
        if read { m |= EPOLLIN.rawValue }
        if write { m |= EPOLLOUT.rawValue }
        return m
    }

    // MARK: - Timers

    /// Calls `callback` once at or after `deadline` (monotonic ms).
    @discardableResult
    public func schedule(at deadline: Int64, _ callback: @escaping () -> Void) -> TimerID {
        let id = nextTimerID
        nextTimerID += 1
        timerCallbacks[id] = callback
        heapPush(Timer(deadline: deadline, id: id))
        return id
    }

    /// Calls `callback` once after `millis`.
    @discardableResult
    public func schedule(after millis: Int64, _ callback: @escaping () -> Void) -> TimerID {
        schedule(at: Clock.monotonicMillis() + millis, callback)
    }

    /// Calls `callback` every `interval()` ms (re-read each time, so rates can change at run time).
    public func every(_ interval: @escaping () -> Int64, _ callback: @escaping () -> Void) {
        func arm() {
            schedule(after: max(1, interval())) {
                callback()
                arm()
            }
        }
        arm()
    }

    public func cancel(_ id: TimerID) { timerCallbacks[id] = nil }

    private func heapPush(_ t: Timer) {
        heap.append(t)
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if heap[p].deadline <= heap[i].deadline { break }
            heap.swapAt(p, i)
            i = p
        }
    }

    private func heapPop() -> Timer? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && heap[l].deadline < heap[m].deadline { m = l }
                if r < heap.count && heap[r].deadline < heap[m].deadline { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top
    }

    private func runDueTimers() {
        let now = Clock.monotonicMillis()
        while let top = heap.first, top.deadline <= now {
            _ = heapPop()
            if let cb = timerCallbacks.removeValue(forKey: top.id) { cb() }
        }
    }

    // MARK: - Hooks and signals

    /// Runs `hook` before every wait: the place to flush replies and feed replicas in batches.
    public func addBeforeSleep(_ hook: @escaping () -> Void) { beforeSleepHooks.append(hook) }

    /// Routes the given signals (blocked for normal delivery) to `handler` on the loop.
    public func handleSignals(_ signals: [Int32], _ handler: @escaping (Int32) -> Void) throws {
        signalFD = try Posix.makeSignalFD(signals)
        signalHandler = handler
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue
        ev.data.fd = signalFD
        _ = try Posix.blocking("epoll_ctl add") { epoll_ctl(epfd, EPOLL_CTL_ADD, signalFD, &ev) }
    }

    // MARK: - Running

    public func stop() { running = false }

    /// Runs until `stop()`.
    public func run() {
        running = true
        while running { runOnce() }
    }

    /// Serves I/O that is ready now without waiting and without running timers, then the
    /// before-sleep hooks (so replies go out): Redis's processEventsWhileBlocked, for work that
    /// blocks the loop for long (loading a dataset) but must keep answering.
    public func processReadyEvents() {
        dispatchEvents(timeout: 0)
        for hook in beforeSleepHooks { hook() }
    }

    /// One iteration: hooks, wait, dispatch, timers. Exposed for tests.
    public func runOnce(maxWaitMillis: Int64 = 1000) {
        for hook in beforeSleepHooks { hook() }
        var timeout = maxWaitMillis
        if let top = heap.first {
            timeout = max(0, min(timeout, top.deadline - Clock.monotonicMillis()))
        }
        dispatchEvents(timeout: timeout)
        runDueTimers()
    }

    /// Waits up to `timeout` ms for ready descriptors and calls their handlers.
    private func dispatchEvents(timeout: Int64) {
        let n = events.withUnsafeMutableBufferPointer { epoll_wait(epfd, $0.baseAddress!, Int32($0.count), Int32(timeout)) }
        if n > 0 {
            for k in 0..<Int(n) {
                let ev = events[k]
                let fd = ev.data.fd
                if fd == signalFD {
                    while let sig = Posix.readSignal(signalFD) { signalHandler?(sig) }
                    continue
                }
                let bits = ev.events
                let i = Int(fd)
                guard i < registrations.count, let reg = registrations[i] else { continue }
                let h = reg.handler
                if bits & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 && reg.read {
                    h.handleReadable()
                }
                // The read handler may have closed and unregistered the fd; re-check before writing.
                if bits & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0,
                   i < registrations.count, let r2 = registrations[i], r2.write, r2.handler === h {
                    h.handleWritable()
                }
            }
        }
    }
}

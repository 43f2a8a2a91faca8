// Name resolution that never blocks the event loop. getaddrinfo can take as long as the slowest DNS
// server in resolv.conf (seconds): on the loop that stalls every timer, and a sentinel whose timer
// stalls past its TILT trigger stops acting. So lookups run on worker threads (pthreads are libc)
// and the answers come back to the loop through an eventfd, where the callbacks run.
//
// Threads: started lazily on the first hostname lookup (IP literals never reach them), up to
// `maxThreads`, so one slow name does not queue every other lookup behind it; they live until the
// process exits and touch nothing but the request/answer queues under `mutex`. A forked child (the
// node's BGSAVE) must not call into the resolver: a worker may have held the mutex at fork time.
import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// Resolves hostnames off the loop; callbacks run on the loop.
public final class Resolver: EventHandler {
    private let loop: EventLoop
    private let queue: ResolverQueue
    /// Callbacks waiting for each host being looked up (lookups of one name are shared).
    private var waiting: [String: [(String?) -> Void]] = [:]
    /// The last answer for each name (monotonic ms): lets code that must not wait compare an
    /// address with a name (Redis's sentinelAddrEqualsHostname) without resolving on the loop.
    public private(set) var lastAnswers: [String: (ip: String, time: Int64)] = [:]
    /// Lookups started and answered (INFO, tests).
    public private(set) var started = 0
    public private(set) var answered = 0

    /// Registers the resolver's eventfd with `loop`; no thread starts until a hostname is looked up.
    public init(loop: EventLoop, maxThreads: Int = 4) throws {
        self.loop = loop
        let fd = try Posix.blocking("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        queue = ResolverQueue(eventFD: fd, maxThreads: maxThreads)
        try loop.register(fd: fd, handler: self, read: true, write: false)
    }

    /// Looks `host` up and calls `done` on the loop with its address (IPv4 preferred, as Redis's
    /// anetResolve), or nil when it does not resolve. IP literals answer at once, synchronously.
    public func resolve(_ host: String, _ done: @escaping (String?) -> Void) {
        if Resolver.isIPLiteral(host) { return done(host) }
        let key = host.lowercased()
        if waiting[key] != nil {
            waiting[key]?.append(done)
            return
        }
        waiting[key] = [done]
        started += 1
        queue.enqueue(key)
    }

    /// True while a lookup of `host` is in flight.
    public func isResolving(_ host: String) -> Bool { waiting[host.lowercased()] != nil }

    /// The last address `host` resolved to, if any (IP literals are their own answer).
    public func lastAnswer(_ host: String) -> String? {
        Resolver.isIPLiteral(host) ? host : lastAnswers[host.lowercased()]?.ip
    }

    public func handleReadable() {
        var counter: UInt64 = 0
        _ = Glibc.read(queue.eventFD, &counter, 8)
        let now = Clock.monotonicMillis()
        for (host, ip) in queue.takeAnswers() {
            answered += 1
            if let ip { lastAnswers[host] = (ip, now) }
            let callbacks = waiting.removeValue(forKey: host) ?? []
            for cb in callbacks { cb(ip) }
        }
    }

    public func handleWritable() {}

    // MARK: - Blocking lookups

    /// Resolves `host` now, blocking the caller: for worker threads, and for startup (the config
    /// file is read before the loop runs, as Redis does).
    public static func lookup(_ host: String) -> String? {
        if isIPLiteral(host) { return host }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res else { return nil }
        defer { freeaddrinfo(res) }
        var pick = first
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let cur = p {
            if cur.pointee.ai_family == AF_INET { pick = cur; break }
            p = cur.pointee.ai_next
        }
        var buf = [CChar](repeating: 0, count: 64)
        guard getnameinfo(pick.pointee.ai_addr, pick.pointee.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True for a dotted-quad IPv4 or an IPv6 literal (what needs no lookup).
    public static func isIPLiteral(_ s: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }
}

/// The queues shared by the loop and the worker threads, under one mutex.
final class ResolverQueue: @unchecked Sendable {
    let eventFD: Int32
    private let maxThreads: Int
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private var requests: [String] = []
    private var answers: [(String, String?)] = []
    private var threads = 0
    private var idle = 0

    init(eventFD: Int32, maxThreads: Int) {
        self.eventFD = eventFD
        self.maxThreads = max(1, maxThreads)
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    /// Queues a lookup; starts a worker when none is idle and the limit allows.
    func enqueue(_ host: String) {
        pthread_mutex_lock(mutex)
        requests.append(host)
        // Idle workers may already be claimed by requests queued before this one.
        let spawn = requests.count > idle && threads < maxThreads
        if spawn { threads += 1 }
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
        if spawn { startWorker() }
    }

    /// Answers delivered since the last call.
    func takeAnswers() -> [(String, String?)] {
        pthread_mutex_lock(mutex)
        let out = answers
        answers.removeAll()
        pthread_mutex_unlock(mutex)
        return out
    }

    private func startWorker() {
        var tid = pthread_t()
        let ctx = Unmanaged.passRetained(self).toOpaque()
        let r = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            Unmanaged<ResolverQueue>.fromOpaque(arg).takeRetainedValue().work()
            return nil
        }, ctx)
        if r == 0 {
            pthread_detach(tid)
        } else {
            // No thread: answer in place rather than never (the loop blocks, but only then).
            Unmanaged<ResolverQueue>.fromOpaque(ctx).release()
            pthread_mutex_lock(mutex)
            threads -= 1
            pthread_mutex_unlock(mutex)
            work(once: true)
        }
    }

    /// A worker: takes a request, resolves it without the lock, posts the answer, wakes the loop.
    private func work(once: Bool = false) {
        while true {
            pthread_mutex_lock(mutex)
            while requests.isEmpty {
                if once { pthread_mutex_unlock(mutex); return }
                idle += 1
                pthread_cond_wait(cond, mutex)
                idle -= 1
            }
            let host = requests.removeFirst()
            pthread_mutex_unlock(mutex)
            let ip = Resolver.lookup(host)
            pthread_mutex_lock(mutex)
            answers.append((host, ip))
            pthread_mutex_unlock(mutex)
            var one: UInt64 = 1
            _ = Glibc.write(eventFD, &one, 8)
        }
    }
}

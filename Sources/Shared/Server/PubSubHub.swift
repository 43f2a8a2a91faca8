// Pub/sub fan-out for both binaries: channel and pattern subscriptions kept in subscription order
// (the order Redis delivers in), the subscribe/unsubscribe confirmations, and `message` /
// `pmessage` delivery as pushes (arrays in RESP2, `>` frames in RESP3). What a delivery costs the
// receiver (output limits, flushing) is the server's business: it passes a callback.

/// A channel or pattern name; hashes its bytes in one go.
public struct ChannelName: Hashable, Sendable {
    /// The name's bytes.
    public let bytes: Bytes
    /// A name from its bytes.
    public init(_ bytes: Bytes) { self.bytes = bytes }
    public func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
}

/// One client's subscriptions.
public struct Subscriptions: Sendable {
    /// Channels, by name.
    public var channels: Set<ChannelName> = []
    /// Patterns, by pattern text.
    public var patterns: Set<ChannelName> = []
    /// None yet.
    public init() {}
    /// Channels plus patterns (the count confirmations report).
    public var count: Int { channels.count + patterns.count }
    /// True without any subscription.
    public var isEmpty: Bool { channels.isEmpty && patterns.isEmpty }
}

/// What the hub needs from a subscriber.
public protocol PubSubSubscriber: AnyObject {
    /// Its subscriptions (the hub keeps them in step with its tables).
    var subscriptions: Subscriptions { get set }
    /// False while the subscriber must not get messages (closing).
    var acceptsPushes: Bool { get }
    /// Writes one push into the subscriber's output. Pushes are sent even when the subscriber
    /// silenced its replies (CLIENT REPLY OFF), as Redis's CLIENT_PUSHING does.
    func writePush(_ body: (inout RESPWriter) -> Void)
}

/// The subscription tables of one server.
public struct PubSubHub<Subscriber: PubSubSubscriber> {
    /// Subscribers by channel, in subscription order.
    public private(set) var channels: [ChannelName: [Subscriber]] = [:]
    /// Subscribers by pattern, in subscription order.
    public private(set) var patterns: [ChannelName: [Subscriber]] = [:]

    /// Empty tables.
    public init() {}

    // MARK: - Subscribing

    /// SUBSCRIBE / PSUBSCRIBE: adds each name and confirms it with the new subscription count.
    public mutating func subscribe(_ s: Subscriber, _ names: [Bytes], pattern: Bool) {
        for n in names {
            let name = ChannelName(n)
            if pattern {
                if s.subscriptions.patterns.insert(name).inserted { patterns[name, default: []].append(s) }
            } else {
                if s.subscriptions.channels.insert(name).inserted { channels[name, default: []].append(s) }
            }
            let count = s.subscriptions.count
            s.writePush { w in
                w.pushHeader(3)
                w.bulk(pattern ? "psubscribe" : "subscribe")
                w.bulk(n)
                w.integer(count)
            }
        }
    }

    /// UNSUBSCRIBE / PUNSUBSCRIBE: the named channels, or all of them; with none to drop, one
    /// confirmation with a null name, as Redis answers.
    public mutating func unsubscribe(_ s: Subscriber, _ names: [Bytes], pattern: Bool) {
        let kind = pattern ? "punsubscribe" : "unsubscribe"
        var targets = names.map(ChannelName.init)
        if targets.isEmpty {
            targets = Array(pattern ? s.subscriptions.patterns : s.subscriptions.channels)
            if targets.isEmpty {
                let count = s.subscriptions.count
                s.writePush { w in
                    w.pushHeader(3)
                    w.bulk(kind)
                    w.null()
                    w.integer(count)
                }
                return
            }
        }
        for t in targets {
            if pattern {
                if s.subscriptions.patterns.remove(t) != nil { Self.remove(&patterns, t, s) }
            } else {
                if s.subscriptions.channels.remove(t) != nil { Self.remove(&channels, t, s) }
            }
            let count = s.subscriptions.count
            s.writePush { w in
                w.pushHeader(3)
                w.bulk(kind)
                w.bulk(t.bytes)
                w.integer(count)
            }
        }
    }

    /// Drops every subscription of `s` without confirmations (disconnect, RESET).
    public mutating func unsubscribeAll(_ s: Subscriber) {
        for ch in s.subscriptions.channels { Self.remove(&channels, ch, s) }
        for p in s.subscriptions.patterns { Self.remove(&patterns, p, s) }
        s.subscriptions = Subscriptions()
    }

    private static func remove(_ table: inout [ChannelName: [Subscriber]], _ k: ChannelName, _ s: Subscriber) {
        guard var list = table[k] else { return }
        list.removeAll { $0 === s }
        table[k] = list.isEmpty ? nil : list
    }

    // MARK: - Delivery

    /// Sends `message` to the subscribers of `channel`, then to those of matching patterns
    /// (`matches(pattern, channel)`); `delivered` runs once per push written. Returns how many
    /// pushes were written (PUBLISH's reply).
    @discardableResult
    public func publish(channel: Bytes, message: Bytes, matches: (Bytes, Bytes) -> Bool,
                        delivered: (Subscriber) -> Void) -> Int {
        var receivers = 0
        if let subscribers = channels[ChannelName(channel)] {
            for s in subscribers where s.acceptsPushes {
                s.writePush { w in
                    w.pushHeader(3)
                    w.bulk("message")
                    w.bulk(channel)
                    w.bulk(message)
                }
                delivered(s)
                receivers += 1
            }
        }
        if !patterns.isEmpty {
            for (pattern, subscribers) in patterns where matches(pattern.bytes, channel) {
                for s in subscribers where s.acceptsPushes {
                    s.writePush { w in
                        w.pushHeader(4)
                        w.bulk("pmessage")
                        w.bulk(pattern.bytes)
                        w.bulk(channel)
                        w.bulk(message)
                    }
                    delivered(s)
                    receivers += 1
                }
            }
        }
        return receivers
    }

    // MARK: - Introspection

    /// PUBSUB NUMSUB: subscribers of one channel (patterns excluded).
    public func subscriberCount(_ channel: Bytes) -> Int { channels[ChannelName(channel)]?.count ?? 0 }
    /// PUBSUB NUMPAT: distinct patterns with subscribers.
    public var patternCount: Int { patterns.count }
    /// Channels with at least one subscriber.
    public var channelCount: Int { channels.count }
}

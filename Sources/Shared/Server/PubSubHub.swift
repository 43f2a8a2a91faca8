// Pub/sub fan-out for both binaries: channel, pattern and shard-channel (Redis 7.0's sharded
// pub/sub) subscriptions kept in subscription order (the order Redis delivers in), the
// subscribe/unsubscribe confirmations, and `message` / `pmessage` / `smessage` delivery as pushes
// (arrays in RESP2, `>` frames in RESP3). Without cluster mode a server is its only shard, so
// shard channels are one more table: patterns never match them and their confirmations count
// only shard subscriptions, as Redis's pubSubShardType. What a delivery costs the
// receiver (output limits, flushing) is the server's business: it passes a callback.

/// A channel or pattern name; hashes its bytes in one go.
public struct ChannelName: Hashable, Sendable {
    /// The name's bytes.
    public let bytes: Bytes
    /// A name from its bytes.
    public init(_ bytes: Bytes) { self.bytes = bytes }
    public func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
}

/// Which table a subscription lives in.
public enum SubscriptionKind: Sendable {
    /// SUBSCRIBE: an exact channel name.
    case channel
    /// PSUBSCRIBE: a glob pattern over channel names.
    case pattern
    /// SSUBSCRIBE: a shard channel (SPUBLISH reaches it; patterns do not).
    case shard

    /// The confirmation names: (subscribe, unsubscribe).
    var confirmations: (String, String) {
        switch self {
        case .channel: return ("subscribe", "unsubscribe")
        case .pattern: return ("psubscribe", "punsubscribe")
        case .shard: return ("ssubscribe", "sunsubscribe")
        }
    }
}

/// One client's subscriptions.
public struct Subscriptions: Sendable {
    /// Channels, by name.
    public var channels: Set<ChannelName> = []
    /// Patterns, by pattern text.
    public var patterns: Set<ChannelName> = []
    /// Shard channels, by name.
    public var shardChannels: Set<ChannelName> = []
    /// None yet.
    public init() {}
    /// Channels plus patterns (the count SUBSCRIBE/PSUBSCRIBE confirmations report; shard
    /// channels are counted apart, as Redis's clientSubscriptionsCount).
    public var count: Int { channels.count + patterns.count }
    /// True without any subscription of any kind (the client leaves pub/sub mode).
    public var isEmpty: Bool { channels.isEmpty && patterns.isEmpty && shardChannels.isEmpty }

    /// The set of one kind.
    public subscript(kind: SubscriptionKind) -> Set<ChannelName> {
        get {
            switch kind {
            case .channel: return channels
            case .pattern: return patterns
            case .shard: return shardChannels
            }
        }
        set {
            switch kind {
            case .channel: channels = newValue
            case .pattern: patterns = newValue
            case .shard: shardChannels = newValue
            }
        }
    }

    /// The count a confirmation of `kind` reports.
    public func count(_ kind: SubscriptionKind) -> Int { kind == .shard ? shardChannels.count : count }
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
    /// Subscribers by shard channel, in subscription order.
    public private(set) var shardChannels: [ChannelName: [Subscriber]] = [:]

    /// Empty tables.
    public init() {}

    // MARK: - Subscribing

    /// SUBSCRIBE / PSUBSCRIBE: adds each name and confirms it with the new subscription count.
    public mutating func subscribe(_ s: Subscriber, _ names: [Bytes], pattern: Bool) {
        subscribe(s, names, kind: pattern ? .pattern : .channel)
    }

    /// UNSUBSCRIBE / PUNSUBSCRIBE (see `unsubscribe(_:_:kind:)`).
    public mutating func unsubscribe(_ s: Subscriber, _ names: [Bytes], pattern: Bool) {
        unsubscribe(s, names, kind: pattern ? .pattern : .channel)
    }

    /// SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE: adds each name and confirms it with the count of
    /// its kind (shard subscriptions for SSUBSCRIBE, channels plus patterns otherwise).
    public mutating func subscribe(_ s: Subscriber, _ names: [Bytes], kind: SubscriptionKind) {
        let verb = kind.confirmations.0
        for n in names {
            let name = ChannelName(n)
            if s.subscriptions[kind].insert(name).inserted { append(s, name, kind) }
            let count = s.subscriptions.count(kind)
            s.writePush { w in
                w.pushHeader(3)
                w.bulk(verb)
                w.bulk(n)
                w.integer(count)
            }
        }
    }

    /// UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE: the named channels, or all of that kind; with
    /// none to drop, one confirmation with a null name, as Redis answers.
    public mutating func unsubscribe(_ s: Subscriber, _ names: [Bytes], kind: SubscriptionKind) {
        let verb = kind.confirmations.1
        var targets = names.map(ChannelName.init)
        if targets.isEmpty {
            targets = Array(s.subscriptions[kind])
            if targets.isEmpty {
                let count = s.subscriptions.count(kind)
                s.writePush { w in
                    w.pushHeader(3)
                    w.bulk(verb)
                    w.null()
                    w.integer(count)
                }
                return
            }
        }
        for t in targets {
            if s.subscriptions[kind].remove(t) != nil { remove(s, t, kind) }
            let count = s.subscriptions.count(kind)
            s.writePush { w in
                w.pushHeader(3)
                w.bulk(verb)
                w.bulk(t.bytes)
                w.integer(count)
            }
        }
    }

    /// Drops every subscription of `s` without confirmations (disconnect, RESET).
    public mutating func unsubscribeAll(_ s: Subscriber) {
        for ch in s.subscriptions.channels { Self.remove(&channels, ch, s) }
        for p in s.subscriptions.patterns { Self.remove(&patterns, p, s) }
        for ch in s.subscriptions.shardChannels { Self.remove(&shardChannels, ch, s) }
        s.subscriptions = Subscriptions()
    }

    private mutating func append(_ s: Subscriber, _ name: ChannelName, _ kind: SubscriptionKind) {
        switch kind {
        case .channel: channels[name, default: []].append(s)
        case .pattern: patterns[name, default: []].append(s)
        case .shard: shardChannels[name, default: []].append(s)
        }
    }

    private mutating func remove(_ s: Subscriber, _ name: ChannelName, _ kind: SubscriptionKind) {
        switch kind {
        case .channel: Self.remove(&channels, name, s)
        case .pattern: Self.remove(&patterns, name, s)
        case .shard: Self.remove(&shardChannels, name, s)
        }
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

    /// SPUBLISH: sends `smessage` to the subscribers of shard channel `channel` (patterns do not
    /// apply); `delivered` runs once per push written. Returns the number of receivers.
    @discardableResult
    public func publishShard(channel: Bytes, message: Bytes, delivered: (Subscriber) -> Void) -> Int {
        guard let subscribers = shardChannels[ChannelName(channel)] else { return 0 }
        var receivers = 0
        for s in subscribers where s.acceptsPushes {
            s.writePush { w in
                w.pushHeader(3)
                w.bulk("smessage")
                w.bulk(channel)
                w.bulk(message)
            }
            delivered(s)
            receivers += 1
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
    /// PUBSUB SHARDNUMSUB: subscribers of one shard channel.
    public func shardSubscriberCount(_ channel: Bytes) -> Int { shardChannels[ChannelName(channel)]?.count ?? 0 }
    /// Shard channels with at least one subscriber (INFO's pubsubshard_channels).
    public var shardChannelCount: Int { shardChannels.count }
}

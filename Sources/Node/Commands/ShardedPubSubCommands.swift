// Sharded pub/sub (Redis 7.0): SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH. Without cluster mode a node
// is the only shard, so these work like SUBSCRIBE/UNSUBSCRIBE/PUBLISH on a separate set of
// channels: confirmations and `smessage` pushes count shard subscriptions only, patterns never
// match, and SPUBLISH reaches replicas' subscribers through the replication stream. Subscribers
// live in `PubSub.shardChannels` and `Client.shardChannels` (see PubSub.swift); delivery uses
// the same output-limit bookkeeping as PUBLISH.
import Shared

extension CommandTable {
    static var shardedPubSub: [CommandSpec] {
        let sub: CommandFlags = [.pubsub, .noscript, .loading, .stale, .okInSubscribe]
        return [
            // Shard channels are not keys: no key positions, so ACL key patterns do not apply.
            CommandSpec("ssubscribe", -2, sub, ["pubsub", "slow"]) { s, c in try s.ssubscribeCommand(c) },
            CommandSpec("sunsubscribe", -1, sub, ["pubsub", "slow"]) { s, c in s.sunsubscribeCommand(c) },
            CommandSpec("spublish", 3, [.pubsub, .loading, .stale, .fast, .mayReplicate], ["pubsub", "fast"]) { s, c in
                s.spublishCommand(c)
            },
        ]
    }
}

extension Server {
    /// SSUBSCRIBE shardchannel [shardchannel ...]
    func ssubscribeCommand(_ c: Client) throws {
        // Like Redis, refused where a reply per command is expected (inside MULTI).
        if c.flags.contains(.multi) { throw CommandError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client") }
        for i in 1..<c.argc {
            let ch = c.key(i)
            if c.shardChannels.insert(ch).inserted { pubsub.shardChannels[ch, default: []].append(c) }
            c.out.pushHeader(3)
            c.out.bulk("ssubscribe")
            c.out.bulk(ch.bytes)
            c.out.integer(c.shardChannels.count)
        }
        c.flags.insert(.pubsub)
    }

    /// SUNSUBSCRIBE [shardchannel ...]: the named ones or all; with none, one null confirmation.
    func sunsubscribeCommand(_ c: Client) {
        let targets = c.argc > 1 ? (1..<c.argc).map { c.key($0) } : Array(c.shardChannels)
        if targets.isEmpty {
            c.out.pushHeader(3)
            c.out.bulk("sunsubscribe")
            c.out.null()
            c.out.integer(0)
        }
        for t in targets {
            if c.shardChannels.remove(t) != nil { PubSub.remove(&pubsub.shardChannels, t, c) }
            c.out.pushHeader(3)
            c.out.bulk("sunsubscribe")
            c.out.bulk(t.bytes)
            c.out.integer(c.shardChannels.count)
        }
        if c.subscriptionCount == 0 && c.shardChannels.isEmpty { c.flags.remove(.pubsub) }
    }

    /// SPUBLISH shardchannel message: delivered to the channel's subscribers, and replicated so
    /// that replicas deliver it to theirs.
    func spublishCommand(_ c: Client) {
        var receivers = 0
        if let subscribers = pubsub.shardChannels[c.key(1)] {
            for s in subscribers where !s.flags.contains(.closeASAP) {
                s.out.pushHeader(3)
                s.out.bulk("smessage")
                s.out.bulk(c.arg(1))
                s.out.bulk(c.arg(2))
                markPendingWrite(s)
                checkOutputLimits(s)
                receivers += 1
            }
        }
        // No key changes, but replicas must see it (Redis forces its propagation).
        propagateDataWrite(c, as: [c.argv])
        c.out.integer(receivers)
    }
}

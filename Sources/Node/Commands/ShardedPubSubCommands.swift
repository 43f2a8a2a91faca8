// Sharded pub/sub (Redis 7.0): SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH. Without cluster mode a node
// is the only shard, so these work like SUBSCRIBE/UNSUBSCRIBE/PUBLISH on a separate set of
// channels kept by the shared PubSubHub (`.shard` subscriptions): confirmations and `smessage`
// pushes count shard subscriptions only, patterns never match, and SPUBLISH reaches replicas'
// subscribers through the replication stream. Delivery uses the same output-limit bookkeeping
// as PUBLISH.
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
        pubsub.subscribe(c, Array(c.argv.dropFirst()), kind: .shard)
        c.flags.insert(.pubsub)
    }

    /// SUNSUBSCRIBE [shardchannel ...]: the named ones or all; with none, one null confirmation.
    func sunsubscribeCommand(_ c: Client) {
        pubsub.unsubscribe(c, Array(c.argv.dropFirst()), kind: .shard)
        if c.subscriptions.isEmpty { c.flags.remove(.pubsub) }
    }

    /// SPUBLISH shardchannel message: delivered to the channel's subscribers, and replicated so
    /// that replicas deliver it to theirs.
    func spublishCommand(_ c: Client) {
        let receivers = pubsub.publishShard(channel: c.arg(1), message: c.arg(2)) { s in
            markPendingWrite(s)
            checkOutputLimits(s)
        }
        // No key changes, but replicas must see it (Redis forces its propagation).
        alsoPropagate(db: c.db.id, c.argv)
        c.out.integer(receivers)
    }
}

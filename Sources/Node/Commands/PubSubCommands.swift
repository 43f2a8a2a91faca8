// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and PUBSUB. Confirmations and
// messages are pushes: arrays in RESP2, `>` frames in RESP3. A client with subscriptions carries
// the .pubsub flag, which (in RESP2) limits the commands processCommand accepts from it.
import Shared

extension CommandTable {
    static var pubsubCommands: [CommandSpec] {
        let sub: CommandFlags = [.pubsub, .noscript, .loading, .stale, .okInSubscribe]
        return [
            CommandSpec("subscribe", -2, sub, ["pubsub", "slow"]) { s, c in s.subscribeCommand(c, pattern: false) },
            CommandSpec("psubscribe", -2, sub, ["pubsub", "slow"]) { s, c in s.subscribeCommand(c, pattern: true) },
            CommandSpec("unsubscribe", -1, sub, ["pubsub", "slow"]) { s, c in s.unsubscribeCommand(c, pattern: false) },
            CommandSpec("punsubscribe", -1, sub, ["pubsub", "slow"]) { s, c in s.unsubscribeCommand(c, pattern: true) },
            CommandSpec("publish", 3, [.pubsub, .loading, .stale, .fast, .mayReplicate], ["pubsub", "fast"]) { s, c in
                let n = s.publish(channel: c.arg(1), message: c.arg(2))
                s.stats.pubsubChannelsPublished += 1
                // Redis always replicates PUBLISH so replicas' subscribers see it, though no
                // key changed (dirty stays put, hence the explicit propagation).
                s.alsoPropagate(db: c.db.id, c.argv)
                c.out.integer(n)
            },
            CommandSpec("pubsub", -2, [.pubsub, .loading, .stale], ["pubsub", "slow"],
                        subcommands: ["channels", "help", "numpat", "numsub", "shardchannels", "shardnumsub"]) { s, c in
                try s.pubsubCommand(c)
            },
        ]
    }
}

extension Server {
    /// SUBSCRIBE/PSUBSCRIBE: each name is confirmed with the client's new subscription count.
    func subscribeCommand(_ c: Client, pattern: Bool) {
        pubsub.subscribe(c, Array(c.argv.dropFirst()), pattern: pattern)
        c.flags.insert(.pubsub)
    }

    /// UNSUBSCRIBE/PUNSUBSCRIBE: the named channels, or all of them; with none to drop, one
    /// confirmation with a null channel, as Redis answers.
    func unsubscribeCommand(_ c: Client, pattern: Bool) {
        pubsub.unsubscribe(c, Array(c.argv.dropFirst()), pattern: pattern)
        if c.subscriptions.isEmpty { c.flags.remove(.pubsub) }
    }

    func pubsubCommand(_ c: Client) throws {
        let sub = c.arg(1).text.lowercased()
        let arity: [String: Int] = ["channels": -2, "help": 2, "numpat": 2, "numsub": -2, "shardchannels": -2, "shardnumsub": -2]
        guard let n = arity[sub] else {
            throw CommandError("ERR unknown subcommand '\(c.arg(1).text.prefix(128))'. Try PUBSUB HELP.")
        }
        if (n > 0 && c.argc != n) || c.argc < -n { throw CommandError.wrongArity("pubsub|\(sub)") }
        switch sub {
        case "help":
            c.out.helpLines(Server.pubsubHelp)
        case "channels", "shardchannels":
            guard c.argc <= 3 else {
                throw CommandError("ERR unknown subcommand or wrong number of arguments for '\(c.arg(1).text)'. Try PUBSUB HELP.")
            }
            let table = sub == "shardchannels" ? pubsub.shardChannels : pubsub.channels
            let names = table.keys.filter { c.argc == 2 || GlobMatch.matches(c.arg(2), $0.bytes) }
            c.out.bulks(names.map { $0.bytes })
        case "numsub", "shardnumsub":
            c.out.arrayHeader((c.argc - 2) * 2)
            for i in 2..<c.argc {
                c.out.bulk(c.arg(i))
                c.out.integer(sub == "numsub" ? pubsub.subscriberCount(c.arg(i)) : pubsub.shardSubscriberCount(c.arg(i)))
            }
        default:  // numpat: the number of distinct patterns with subscribers
            c.out.integer(pubsub.patternCount)
        }
    }

    static let pubsubHelp = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]
}

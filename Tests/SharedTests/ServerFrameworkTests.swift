import Testing
@testable import Shared

/// The pieces of the shared server framework a second binary builds on: the command registry and
/// its pre-handler texts, and pub/sub fan-out, driven with a spec and a subscriber of the test's own.
struct ServerFrameworkTests {
    struct Spec: CommandDescriptor {
        let name: String
        let arity: Int
        let flags: CommandFlags
    }

    final class Subscriber: PubSubSubscriber {
        var subscriptions = Subscriptions()
        var acceptsPushes = true
        var out = RESPWriter()
        func writePush(_ body: (inout RESPWriter) -> Void) { body(&out) }
        func take() -> String {
            defer { out.bytes = [] }
            return String(decoding: out.bytes, as: UTF8.self)
        }
    }

    static func argv(_ a: String...) -> [Bytes] { a.map { Bytes($0.utf8) } }

    @Test func registryResolvesAnyCaseAndChecksArity() {
        let table = CommandRegistry<Spec>([Spec(name: "ping", arity: -1, flags: [.sentinel, .fast]),
                                           Spec(name: "get", arity: 2, flags: [.readonly])])
        guard case .run(let e) = table.resolve(Self.argv("PiNg")) else { Issue.record("ping not found"); return }
        #expect(e.spec.name == "ping" && e.spec.flags.contains(.sentinel))
        // The cache answers the same spelling with the same entry.
        #expect(table.lookup(Bytes("PiNg".utf8)) === e)
        guard case .reject(let arity) = table.resolve(Self.argv("get")) else { Issue.record("arity not checked"); return }
        #expect(arity == "ERR wrong number of arguments for 'get' command")
        guard case .reject(let unknown) = table.resolve(Self.argv("nope", "a", "b")) else { Issue.record("unknown accepted"); return }
        #expect(unknown == "ERR unknown command 'nope', with args beginning with: 'a' 'b' ")
        table["nope"] = Spec(name: "nope", arity: 1, flags: [])
        #expect(table.lookup(Bytes("NOPE".utf8))?.spec.name == "nope")
    }

    @Test func unknownCommandTextIsCutAt128AndKeptOnOneLine() {
        let long = String(repeating: "x", count: 300)
        let text = CommandReply.unknownCommand(Self.argv("bad\r\ncmd", long, "more"))
        #expect(text.hasPrefix("ERR unknown command 'bad  cmd', with args beginning with: '"))
        #expect(!text.utf8.contains(0x0D) && !text.utf8.contains(0x0A))
        // One argument fills the 128 characters; the next one is not quoted any more.
        #expect(!text.contains("more"))
        #expect(text.utf8.count < 128 + 80)
    }

    @Test func pubSubConfirmsAndDeliversInSubscriptionOrder() {
        var hub = PubSubHub<Subscriber>()
        let a = Subscriber(), b = Subscriber()
        hub.subscribe(a, Self.argv("news"), pattern: false)
        #expect(a.take() == "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
        hub.subscribe(a, Self.argv("n*"), pattern: true)
        hub.subscribe(b, Self.argv("news"), pattern: false)
        _ = a.take(); _ = b.take()
        var delivered: [ObjectIdentifier] = []
        let n = hub.publish(channel: Bytes("news".utf8), message: Bytes("hi".utf8), matches: { p, ch in p.first == ch.first }) {
            delivered.append(ObjectIdentifier($0))
        }
        #expect(n == 3)
        #expect(delivered == [ObjectIdentifier(a), ObjectIdentifier(b), ObjectIdentifier(a)])
        #expect(a.take() == "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n")
        #expect(hub.subscriberCount(Bytes("news".utf8)) == 2 && hub.patternCount == 1)
        #expect(b.take() == "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n")
        // RESP3 subscribers get push frames.
        b.out.proto = 3
        _ = hub.publish(channel: Bytes("news".utf8), message: Bytes("x".utf8), matches: { _, _ in false }) { _ in }
        #expect(b.take().hasPrefix(">3\r\n"))
        _ = a.take()
        hub.unsubscribeAll(a)
        #expect(a.subscriptions.isEmpty && hub.subscriberCount(Bytes("news".utf8)) == 1)
        hub.unsubscribe(a, [], pattern: true)
        #expect(a.take() == "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n")
    }

    @Test func shardChannelsAreATableOfTheirOwn() {
        var hub = PubSubHub<Subscriber>()
        let a = Subscriber()
        hub.subscribe(a, Self.argv("news"), pattern: false)
        hub.subscribe(a, Self.argv("*"), pattern: true)
        _ = a.take()
        // SSUBSCRIBE counts shard subscriptions only, as Redis's clientShardSubscriptionsCount.
        hub.subscribe(a, Self.argv("news", "sport"), kind: .shard)
        #expect(a.take() == "*3\r\n$10\r\nssubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$5\r\nsport\r\n:2\r\n")
        #expect(a.subscriptions.count == 2 && hub.shardChannelCount == 2 && hub.shardSubscriberCount(Bytes("news".utf8)) == 1)
        // SPUBLISH reaches shard subscribers only (no pattern, no plain channel); PUBLISH the reverse.
        let n = hub.publishShard(channel: Bytes("news".utf8), message: Bytes("hi".utf8)) { _ in }
        #expect(n == 1)
        #expect(a.take() == "*3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n")
        let m = hub.publish(channel: Bytes("sport".utf8), message: Bytes("x".utf8), matches: { _, _ in false }) { _ in }
        #expect(m == 0 && a.take() == "")
        // UNSUBSCRIBE of every plain channel leaves shard ones (and so pub/sub mode) in place.
        hub.unsubscribe(a, [], pattern: false)
        hub.unsubscribe(a, [], pattern: true)
        #expect(a.take().hasSuffix(":0\r\n") && !a.subscriptions.isEmpty)
        hub.unsubscribe(a, Self.argv("sport"), kind: .shard)
        #expect(a.take() == "*3\r\n$12\r\nsunsubscribe\r\n$5\r\nsport\r\n:1\r\n")
        hub.unsubscribeAll(a)
        #expect(a.subscriptions.isEmpty && hub.shardChannelCount == 0)
        hub.unsubscribe(a, [], kind: .shard)
        #expect(a.take() == "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n")
    }
}

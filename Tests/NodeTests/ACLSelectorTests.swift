import Testing
import Shared
@testable import Node

/// ACL rules, descriptions, selectors and channel permissions, against the answers redis-server
/// 7.0.15 gave for the same ACL SETUSER lines (recorded on loopback; its single-command order
/// follows its hash table, so only lines with one single-command difference are compared).
@Suite struct ACLSelectorTests {
    private func user(_ rules: [String]) -> ACLUser? {
        var acl = ACL()
        guard acl.setUser("t", rules: rules) == nil else { return nil }
        return acl.users["t"]
    }

    private func spec(_ name: String) -> CommandSpec? { CommandTable.all.first { $0.name == name } }
    private func line(_ words: String...) -> [Bytes] { words.map { Array($0.utf8) } }

    @Test func commandRulesDescribeAsRedis() {
        let cases: [(String, String)] = [
            ("+@all -get +get", "+@all"),
            ("+get", "-@all +get"),
            ("+@string", "-@all +@string"),
            ("+@all -@string", "+@all -@string"),
            ("+@all -@string +incr", "+@all -@string +incr"),
            ("-@all +@read -get", "-@all +@read -get"),
            ("+@all -config|set", "+@all -config|set"),
            ("-@all +config|get", "-@all +config|get"),
            ("+@all -config", "+@all -config"),
            ("-@all +select|0", "-@all +select|0"),
            ("+@hash +@set -hset", "-@all +@set +@hash -hset"),
            ("allcommands -@dangerous", "+@all -@dangerous"),
            ("+@all -@keyspace -@admin", "+@all -@admin -@keyspace"),
            ("-@all +@fast", "-@all +@fast"),
            ("+@write +@read", "-@all +@write +@read"),
        ]
        for (rules, expected) in cases {
            let u = user(rules.split(separator: " ").map(String.init))
            #expect(u?.root.commandRules == expected, "\(rules)")
        }
    }

    @Test func listLineWithKeyPermissionsAndSelectors() {
        let u = user(["on", ">pw", "+@all", "-get", "+get", "~foo", "%R~bar", "%W~baz", "&ch*", "(+set ~x* &y)", "(+get", "%R~r*)"])
        let hash = SHA256.hex(Array("pw".utf8))
        #expect(u?.description == "on #\(hash) ~foo %R~bar %W~baz resetchannels &ch* +@all (~x* resetchannels &y -@all +set) (%R~r* resetchannels -@all +get)")
        #expect(u?.root.keysText == "~foo %R~bar %W~baz")
        #expect(u?.root.channelsText == "&ch*")
        #expect(u?.selectors.count == 2)
        // The same pattern twice merges its permissions; `reset` adds sanitize-payload.
        #expect(user(["%RW~k", "%R~k2", "%W~k2"])?.description == "off ~k ~k2 resetchannels -@all")
        #expect(user(["reset"])?.description == "off sanitize-payload resetchannels -@all")
        #expect(user(["(", "+get", ")"])?.description == "off resetchannels -@all (resetchannels -@all +get)")
        #expect(user(["clearselectors"]) != nil)
    }

    @Test func ruleErrorsAsRedis() {
        var acl = ACL()
        let cases: [([String], String)] = [
            (["~*", "~x"], "Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"),
            (["&*", "&x"], "Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"),
            (["+nosuch"], "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"),
            (["+@nosuch"], "Error in ACL SETUSER modifier '+@nosuch': Unknown command or category name in ACL"),
            (["+config|get|x"], "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"),
            (["+get|"], "Error in ACL SETUSER modifier '+get|': Syntax error"),
            (["%X~k"], "Error in ACL SETUSER modifier '%X~k': Syntax error"),
            (["-select|0"], "Error in ACL SETUSER modifier '-select|0': Unknown command or category name in ACL"),
            (["+config|nosuch"], "Error in ACL SETUSER modifier '+config|nosuch': Unknown command or category name in ACL"),
            (["(+get", "~x"], "Unmatched parenthesis in acl selector starting at '(+get'."),
            (["(+get", "~x)", "(+set"], "Unmatched parenthesis in acl selector starting at '(+set'."),
            (["(+get ~x"], "Unmatched parenthesis in acl selector starting at '(+get ~x'."),
            (["(+nosuch)"], "Error in ACL SETUSER modifier '(+nosuch)': Unknown command or category name in ACL"),
        ]
        for (rules, expected) in cases {
            #expect(acl.setUser("e", rules: rules) == expected)
            #expect(acl.users["e"] == nil, "a refused line creates nothing")
        }
    }

    @Test func selectorsGrantIndependently() throws {
        let u = try #require(user(["on", "nopass", "+get", "~app:*", "(+set ~cache:*)", "(+get %R~ro:*)"]))
        let get = try #require(spec("get")), set = try #require(spec("set"))
        #expect(u.check(get, line("get", "app:1")) == nil)
        #expect(u.check(get, line("get", "ro:1")) == nil, "the second selector reads ro:*")
        #expect(u.check(set, line("set", "cache:1", "v")) == nil, "the first selector writes cache:*")
        #expect(u.check(set, line("set", "app:1", "v")) == .key(1), "root has no SET; the selector lacks app:*")
        #expect(u.check(set, line("set", "ro:1", "v")) == .key(1))
        #expect(u.check(get, line("get", "other")) == .key(1))
        let del = try #require(spec("del"))
        #expect(u.check(del, line("del", "app:1")) == .command, "no selector has DEL")
    }

    @Test func readAndWriteKeyPatterns() throws {
        let u = try #require(user(["on", "nopass", "+@all", "%R~r*", "%W~w*"]))
        let get = try #require(spec("get")), set = try #require(spec("set")), copy = try #require(spec("copy"))
        #expect(u.check(get, line("get", "r1")) == nil)
        #expect(u.check(get, line("get", "w1")) == .key(1))
        #expect(u.check(set, line("set", "w1", "v")) == nil)
        #expect(u.check(set, line("set", "r1", "v")) == .key(1))
        #expect(u.check(copy, line("copy", "r1", "w1")) == nil, "COPY reads its source and writes its destination")
        #expect(u.check(copy, line("copy", "w1", "r1")) == .key(1))
    }

    @Test func channelPermissions() throws {
        let u = try #require(user(["on", "nopass", "+@all", "~*", "resetchannels", "&news.*", "&exact"]))
        let publish = try #require(spec("publish")), psub = try #require(spec("psubscribe"))
        let sub = try #require(spec("subscribe"))
        #expect(u.check(publish, line("publish", "news.1", "x")) == nil)
        #expect(u.check(publish, line("publish", "other", "x")) == .channel(1))
        #expect(u.check(psub, line("psubscribe", "news.*")) == nil, "a pattern is compared literally")
        #expect(u.check(psub, line("psubscribe", "news.1")) == .channel(1))
        #expect(u.check(sub, line("subscribe", "exact", "other")) == .channel(2))
        // New users start with no channels (acl-pubsub-default resetchannels).
        let fresh = try #require(user(["on", "nopass", "+@all", "~*"]))
        #expect(fresh.check(publish, line("publish", "a", "x")) == .channel(1))
        let unsub = try #require(spec("unsubscribe"))
        #expect(fresh.check(unsub, line("unsubscribe", "a")) == nil, "unsubscribing is never refused")
    }

    @Test func firstArgumentsAndSubcommands() throws {
        let u = try #require(user(["on", "nopass", "-@all", "+select|0", "+config|get", "~*"]))
        let select = try #require(spec("select")), config = try #require(spec("config"))
        #expect(u.check(select, line("select", "0")) == nil)
        #expect(u.check(select, line("select", "1")) == .command)
        #expect(u.check(config, line("config", "get", "maxmemory")) == nil)
        #expect(u.check(config, line("config", "set", "maxmemory", "1")) == .command)
    }

    @Test func defaultUserFastPathAllowsEverything() throws {
        let acl = ACL()
        let set = try #require(spec("set"))
        #expect(acl.defaultUser.check(set, line("set", "k", "v")) == nil)
        #expect(acl.defaultUser.description == "on nopass ~* &* +@all")
    }
}

/// Channel permissions on a running (in-process) node: NOPERM, ACL LOG's `channel` entries, and
/// subscribers closed when SETUSER takes their channels away.
@Suite(.serialized) struct ACLChannelServerTests {
    @Test func deniedPublishIsLoggedAsChannel() throws {
        let n = try TxInProcessNode()
        let admin = try n.client()
        #expect(n.run(admin, "ACL", "SETUSER", "p", "on", "nopass", "+@all", "~*", "resetchannels", "&news.*") == "+OK\r\n")
        let c = try n.client()
        #expect(n.run(c, "AUTH", "p", "x") == "+OK\r\n")
        #expect(n.run(c, "PUBLISH", "news.1", "hi") == ":0\r\n")
        #expect(n.run(c, "PUBLISH", "other", "hi") == "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n")
        let log = n.run(admin, "ACL", "LOG", "1")
        #expect(log.contains("$6\r\nreason\r\n$7\r\nchannel\r\n"))
        #expect(log.contains("$6\r\nobject\r\n$5\r\nother\r\n"))
        #expect(log.contains("$7\r\ncontext\r\n$8\r\ntoplevel\r\n"))
    }

    @Test func subscribersLosingTheirChannelAreClosed() throws {
        let n = try TxInProcessNode()
        let admin = try n.client()
        #expect(n.run(admin, "ACL", "SETUSER", "s", "on", "nopass", "+@all", "~*", "resetchannels", "&news.*", "&x") == "+OK\r\n")
        let kept = try n.client(), lost = try n.client()
        #expect(n.run(kept, "AUTH", "s", "x") == "+OK\r\n")
        #expect(n.run(lost, "AUTH", "s", "x") == "+OK\r\n")
        #expect(n.run(kept, "SUBSCRIBE", "x").contains("subscribe"))
        #expect(n.run(lost, "PSUBSCRIBE", "news.*").contains("psubscribe"))
        // Adding a channel keeps everybody; taking `&news.*` away closes its pattern subscriber.
        #expect(n.run(admin, "ACL", "SETUSER", "s", "&y") == "+OK\r\n")
        #expect(!lost.flags.contains(.closeASAP))
        #expect(n.run(admin, "ACL", "SETUSER", "s", "resetchannels", "&x") == "+OK\r\n")
        #expect(lost.flags.contains(.closeASAP))
        #expect(!kept.flags.contains(.closeASAP))
        // The new rules apply to connections already authenticated as the user.
        #expect(n.run(kept, "PUBLISH", "y", "hi").hasPrefix("-NOPERM"))
    }
}

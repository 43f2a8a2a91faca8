import Testing
@testable import Node
import Shared

/// The skiplist behind sorted sets: order, ranks, ranges by score and lex, deletion, checked
/// against a plain sorted array model.
@Suite struct SortedSetStructureTests {
    /// Redis order: score, then member bytes.
    static func model(_ scores: [Key: Double]) -> [(member: Bytes, score: Double)] {
        scores.map { ($0.key.bytes, $0.value) }.sorted {
            $0.score < $1.score || ($0.score == $1.score && $0.member.lexicographicallyPrecedes($1.member))
        }
    }

    static func same(_ a: [(member: Bytes, score: Double)], _ b: [(member: Bytes, score: Double)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.member == $1.member && $0.score == $1.score }
    }

    @Test func orderingTiesBreakByMemberBytes() {
        let z = SortedSetValue([Key("b"): 1, Key("a"): 1, Key("c"): 0, Key("ab"): 1, Key("\u{7f}"): -1])
        #expect(z.ordered.map { $0.member.text } == ["\u{7f}", "c", "a", "ab", "b"])
        #expect(z.count == 5)
    }

    @Test func ranksMatchTheModelThroughInsertsUpdatesAndDeletes() {
        let z = SortedSetValue()
        var reference: [Key: Double] = [:]
        var rng = SystemRandomNumberGenerator()
        for i in 0..<3000 {
            let member = Key("m\(Int.random(in: 0..<800, using: &rng))")
            switch i % 5 {
            case 4:
                #expect(z.remove(member) == (reference.removeValue(forKey: member) != nil))
            default:
                let score = Double(Int.random(in: -50..<50, using: &rng)) / 4
                z.set(member, score)
                reference[member] = score
            }
        }
        let expected = Self.model(reference)
        #expect(Self.same(z.ordered, expected))
        #expect(z.scores == reference)
        for (rank, e) in expected.enumerated() {
            #expect(z.rank(Key(e.member)) == rank)
            #expect(z.index.node(atRank: rank)?.member == e.member)
        }
        #expect(z.rank(Key("absent")) == nil)
        #expect(z.index.node(atRank: expected.count) == nil)
        #expect(z.index.node(atRank: -1) == nil)
        // Walking backwards from the top yields the reverse order.
        #expect(Self.same(z.index.slice(0, z.count, reverse: true), expected.reversed()))
    }

    @Test func rangeByScoreWithExclusiveBounds() throws {
        let z = SortedSetValue([Key("a"): 1, Key("b"): 2, Key("c"): 2, Key("d"): 3, Key("e"): .infinity])
        func members(_ min: String, _ max: String) throws -> [String] {
            let r = try ScoreRange(min.bytes, max.bytes)
            let lo = z.index.countWhile { r.isBelow($0.score) }
            let hi = z.index.countWhile { r.isWithinMax($0.score) }
            return z.index.slice(lo, Swift.max(lo, hi), reverse: false).map { $0.member.text }
        }
        #expect(try members("2", "3") == ["b", "c", "d"])
        #expect(try members("(2", "3") == ["d"])
        #expect(try members("1", "(2") == ["a"])
        #expect(try members("-inf", "+inf") == ["a", "b", "c", "d", "e"])
        #expect(try members("(3", "inf") == ["e"])
        #expect(try members("3", "1") == [])
        #expect(throws: CommandError.self) { try ScoreRange("x".bytes, "1".bytes) }
        #expect(throws: CommandError.self) { try ScoreRange("(".bytes, "1".bytes) }
    }

    @Test func rangeByLex() throws {
        let z = SortedSetValue(Dictionary(uniqueKeysWithValues: ["a", "b", "bb", "c", "d"].map { (Key($0), 0.0) }))
        func members(_ min: String, _ max: String) throws -> [String] {
            let r = try LexRange(min.bytes, max.bytes)
            let lo = z.index.countWhile { r.isBelow($0.member) }
            let hi = z.index.countWhile { r.isWithinMax($0.member) }
            return z.index.slice(lo, Swift.max(lo, hi), reverse: false).map { $0.member.text }
        }
        #expect(try members("-", "+") == ["a", "b", "bb", "c", "d"])
        #expect(try members("[b", "(c") == ["b", "bb"])
        #expect(try members("(b", "[c") == ["bb", "c"])
        #expect(try members("+", "-") == [])
        #expect(throws: CommandError.self) { try LexRange("b".bytes, "+".bytes) }
        #expect(throws: CommandError.self) { try LexRange("".bytes, "+".bytes) }
    }

    @Test func deletingEverythingLeavesAnEmptyConsistentIndex() {
        let z = SortedSetValue()
        for i in 0..<500 { z.set(Key("k\(i)"), Double(i % 7)) }
        for i in stride(from: 0, to: 500, by: 2) { #expect(z.remove(Key("k\(i)"))) }
        #expect(z.count == 250 && z.index.count == 250)
        for i in stride(from: 1, to: 500, by: 2) { #expect(z.remove(Key("k\(i)"))) }
        #expect(z.count == 0 && z.index.count == 0)
        #expect(z.ordered.isEmpty)
        #expect(z.index.tail == nil)
        z.set(Key("again"), 1)
        #expect(z.rank(Key("again")) == 0)
    }

    @Test func largeSetsStayLogarithmic() {
        // 200k inserts and rank queries: quadratic behaviour would not finish in reasonable time,
        // and dropping the set must not overflow the stack releasing the node chain.
        var z: SortedSetValue? = SortedSetValue()
        for i in 0..<200_000 { z?.set(Key("member:\(i)"), Double(i)) }
        #expect(z?.rank(Key("member:199999")) == 199_999)
        #expect(z?.index.node(atRank: 100_000)?.member.text == "member:100000")
        z = nil
        #expect(z == nil)
    }

    @Test func encodingNamesFollowRedis70() {
        let config = ServerConfig()
        let small = SortedSetValue([Key("a"): 1])
        #expect(Value.zset(small).encodingName(config: config) == "listpack")
        let big = SortedSetValue()
        for i in 0...128 { big.set(Key("\(i)"), 1); big.noteAdd(Bytes("\(i)".utf8), config) }
        #expect(Value.zset(big).encodingName(config: config) == "skiplist")
        big.remove(Key("1"))
        #expect(Value.zset(big).encodingName(config: config) == "skiplist")
        #expect(Value.list(ListValue([[1]])).encodingName(config: config) == "quicklist")
        #expect(Value.set(SetValue([Key("1"), Key("2")])).encodingName(config: config) == "intset")
        #expect(Value.set(SetValue([Key("1"), Key("x")])).encodingName(config: config) == "hashtable")
        #expect(Value.hash(HashValue([Key("f"): [1]])).encodingName(config: config) == "listpack")
        #expect(Value.string(Bytes("123".utf8)).encodingName(config: config) == "int")
        #expect(Value.string(Bytes("abc".utf8)).encodingName(config: config) == "embstr")
    }
}

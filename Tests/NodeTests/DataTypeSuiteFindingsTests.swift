import Testing
import Shared
@testable import Node

/// What Redis's own unit/type/* and unit/geo, unit/sort, unit/multi (7.0.15, external mode)
/// found against vigil-node, checked in-process (socket-less clients) so CI, which cannot fetch
/// the suites, keeps them fixed. The expected replies are redis-server 7.0.15's.
@Suite(.serialized) struct DataTypeSuiteFindingsTests {
    static func bulk(_ s: String) -> String { "$\(s.utf8.count)\r\n\(s)\r\n" }

    // MARK: - String encodings (unit/type/string "SETRANGE against integer-encoded key")

    /// Redis keeps a string edited in place as a "raw" object whatever it holds; a new SET makes
    /// it int/embstr again, and an edit that changes nothing keeps the encoding.
    @Test func stringsEditedInPlaceAreRaw() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "SET", "k", "1234")
        #expect(n.run(c, "OBJECT", "ENCODING", "k") == Self.bulk("int"))
        #expect(n.run(c, "SETRANGE", "k", "0", "") == ":4\r\n")
        #expect(n.run(c, "OBJECT", "ENCODING", "k") == Self.bulk("int"))
        #expect(n.run(c, "SETRANGE", "k", "0", "2") == ":4\r\n")
        #expect(n.run(c, "OBJECT", "ENCODING", "k") == Self.bulk("raw"))
        #expect(n.run(c, "GET", "k") == Self.bulk("2234"))
        // Reads and a touch keep it raw; RENAME and COPY carry the object over.
        n.run(c, "GET", "k")
        n.run(c, "RENAME", "k", "k2")
        #expect(n.run(c, "OBJECT", "ENCODING", "k2") == Self.bulk("raw"))
        n.run(c, "COPY", "k2", "k3")
        #expect(n.run(c, "OBJECT", "ENCODING", "k3") == Self.bulk("raw"))
        // A new value is encoded afresh; INCR makes an integer.
        n.run(c, "SET", "k2", "1234")
        #expect(n.run(c, "OBJECT", "ENCODING", "k2") == Self.bulk("int"))
        n.run(c, "INCR", "k3")
        #expect(n.run(c, "OBJECT", "ENCODING", "k3") == Self.bulk("int"))

        n.run(c, "SET", "a", "12")
        n.run(c, "APPEND", "a", "3")
        #expect(n.run(c, "OBJECT", "ENCODING", "a") == Self.bulk("raw"))
        n.run(c, "APPEND", "fresh", "7")  // APPEND to a missing key stores the argument as SET would
        #expect(n.run(c, "OBJECT", "ENCODING", "fresh") == Self.bulk("int"))
        n.run(c, "SETRANGE", "new", "0", "5")  // a SETRANGE-created string is raw
        #expect(n.run(c, "OBJECT", "ENCODING", "new") == Self.bulk("raw"))
        n.run(c, "SET", "b", "1")
        n.run(c, "SETBIT", "b", "6", "1")
        #expect(n.run(c, "OBJECT", "ENCODING", "b") == Self.bulk("raw"))
        n.run(c, "SETBIT", "bits", "1", "1")
        #expect(n.run(c, "OBJECT", "ENCODING", "bits") == Self.bulk("raw"))
        n.run(c, "PFADD", "hll", "x")
        #expect(n.run(c, "OBJECT", "ENCODING", "hll") == Self.bulk("raw"))
        n.run(c, "SET", "s", "abc")
        #expect(n.run(c, "OBJECT", "ENCODING", "s") == Self.bulk("embstr"))
    }

    /// The raw mark lives beside the key's age: LFU stamping keeps it too.
    @Test func rawMarkSurvivesLFUAccesses() throws {
        let n = try TxInProcessNode()
        let c = try n.client()
        n.run(c, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        n.run(c, "SET", "k", "1")
        n.run(c, "APPEND", "k", "2")
        for _ in 0..<50 { n.run(c, "GET", "k") }
        #expect(n.run(c, "OBJECT", "ENCODING", "k") == Self.bulk("raw"))
        let freq = n.run(c, "OBJECT", "FREQ", "k")
        // The mark must not leak into the counter (bit 31 read as a frequency would be > 255).
        let counter = Int(freq.dropFirst().split(separator: "\r\n").first ?? "") ?? 999
        #expect(freq.hasPrefix(":") && counter >= 5 && counter <= 255, "\(freq)")
        n.run(c, "SET", "k", "12")
        #expect(n.run(c, "OBJECT", "ENCODING", "k") == Self.bulk("int"))
    }
}

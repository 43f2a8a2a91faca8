import Testing
@testable import Shared

/// Feeds `bytes` one at a time; every prefix must be "need more", the whole must parse.
private func parseChunked(_ bytes: Bytes) throws -> RESPValue? {
    for n in 0..<bytes.count {
        if try RESPParser.parse(Bytes(bytes[0..<n])) != nil { return nil }  // parsed too early
    }
    guard let (v, next) = try RESPParser.parse(bytes) else { return nil }
    #expect(next == bytes.count)
    return v
}

@Suite struct RESPParserTests {
    static let cases: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-ERR bad\r\n", .error("ERR bad")),
        (":-42\r\n", .integer(-42)),
        ("$5\r\nhello\r\n", .bulkString(Bytes("hello".utf8))),
        ("$0\r\n\r\n", .bulkString([])),
        ("$-1\r\n", .null),
        ("*-1\r\n", .null),
        ("*2\r\n$1\r\na\r\n:1\r\n", .array([.bulkString([97]), .integer(1)])),
        ("*0\r\n", .array([])),
        ("_\r\n", .null),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        (",1.5\r\n", .double(1.5)),
        (",inf\r\n", .double(.infinity)),
        (",-inf\r\n", .double(-.infinity)),
        ("(12345678901234567890\r\n", .bigNumber("12345678901234567890")),
        ("=8\r\ntxt:abcd\r\n", .verbatim(format: "txt", text: Bytes("abcd".utf8))),
        ("!5\r\nERR x\r\n", .error("ERR x")),
        ("%1\r\n+k\r\n:1\r\n", .map([RESPPair(.simpleString("k"), .integer(1))])),
        ("~1\r\n+a\r\n", .set([.simpleString("a")])),
        (">2\r\n+message\r\n$1\r\nx\r\n", .push([.simpleString("message"), .bulkString([120])])),
        ("|1\r\n+key\r\n+val\r\n:7\r\n", .integer(7)),
    ]

    @Test(arguments: 0..<cases.count)
    func everyTypeByteAtATime(_ i: Int) throws {
        let (text, expected) = Self.cases[i]
        #expect(try parseChunked(Bytes(text.utf8)) == expected)
    }

    @Test func errorsAreThrown() {
        for bad in ["?x\r\n", ":abc\r\n", "$-5\r\n", "#x\r\n", ",notanumber\r\n", "*-2\r\n", "$3\r\nabcXY"] {
            #expect(throws: RESPError.self, "\(bad)") { _ = try RESPParser.parse(Bytes(bad.utf8)) }
        }
    }

    @Test func writerRoundTripsThroughParser() throws {
        let values: [RESPValue] = [.integer(0), .integer(Int64.min + 1), .bulkString(Bytes(0...255)),
                                   .array([.null, .simpleString("x"), .array([])])]
        for v in values {
            var w = RESPWriter(proto: 2)
            w.value(v)
            #expect(try RESPParser.parse(w.bytes)?.value == v)
        }
    }

    @Test func resp2DegradesResp3Types() {
        var w = RESPWriter(proto: 2)
        w.mapHeader(1); w.boolean(true); w.double(0.1); w.null(); w.nullArray()
        #expect(String(decoding: w.bytes, as: UTF8.self) == "*2\r\n:1\r\n$19\r\n0.10000000000000001\r\n$-1\r\n*-1\r\n")
        var w3 = RESPWriter(proto: 3)
        w3.mapHeader(1); w3.boolean(true); w3.double(-.infinity); w3.null()
        #expect(String(decoding: w3.bytes, as: UTF8.self) == "%1\r\n#t\r\n,-inf\r\n_\r\n")
    }
}

@Suite struct RequestParserTests {
    /// Parses all commands in `text`, feeding it one byte at a time.
    func commands(_ text: String) throws -> [[String]] {
        var p = RequestParser()
        var pending: Bytes = []
        var out: [[String]] = []
        for b in Bytes(text.utf8) {
            pending.append(b)
            while true {
                let (consumed, cmd) = try pending.withUnsafeBytes { try p.parse($0) }
                pending.removeFirst(consumed)
                guard let cmd else { break }
                if !cmd.isEmpty { out.append(cmd.map { String(decoding: $0, as: UTF8.self) }) }
                if pending.isEmpty { break }
            }
        }
        #expect(pending.isEmpty)
        return out
    }

    @Test func multibulkAndInlineAndPipelines() throws {
        #expect(try commands("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") == [["GET", "k"]])
        #expect(try commands("PING\r\nSET a \"b c\"\n*1\r\n$4\r\nPING\r\n") == [["PING"], ["SET", "a", "b c"], ["PING"]])
        #expect(try commands("\r\n*0\r\n*-1\r\nECHO 'it\\'s'\r\n") == [["ECHO", "it's"]])
        #expect(try commands("*1\r\n$0\r\n\r\n") == [[""]])
        #expect(try commands("SET k \"\\x41\\n\"\r\n") == [["SET", "k", "A\n"]])
    }

    func error(_ text: String, authenticated: Bool = true, maxBulk: Int = 512 << 20) -> String? {
        var p = RequestParser(maxBulkLength: maxBulk)
        p.authenticated = authenticated
        do {
            _ = try Bytes(text.utf8).withUnsafeBytes { try p.parse($0) }
            return nil
        } catch let e as RESPError { return e.description } catch { return "\(error)" }
    }

    @Test func protocolErrorsUseRedisTexts() {
        #expect(error("*x\r\n") == "Protocol error: invalid multibulk length")
        #expect(error("*3000000000\r\n") == "Protocol error: invalid multibulk length")
        #expect(error("*1\r\n+x\r\n") == "Protocol error: expected '$', got '+'")
        #expect(error("*1\r\n$-3\r\n") == "Protocol error: invalid bulk length")
        #expect(error("*1\r\n$100\r\n", maxBulk: 10) == "Protocol error: invalid bulk length")
        #expect(error("*11\r\n", authenticated: false) == "Protocol error: unauthenticated multibulk length")
        #expect(error("*1\r\n$20000\r\n", authenticated: false) == "Protocol error: unauthenticated bulk length")
        #expect(error("SET \"a\r\n") == "Protocol error: unbalanced quotes in request")
        #expect(error(String(repeating: "a", count: 70000)) == "Protocol error: too big inline request")
        #expect(error("*" + String(repeating: "1", count: 70000)) == "Protocol error: too big mbulk count string")
    }
}

@Suite struct ArgSplitterTests {
    @Test func quotingRules() {
        func split(_ s: String) -> [String]? { ArgSplitter.split(Bytes(s.utf8))?.map { String(decoding: $0, as: UTF8.self) } }
        #expect(split("a  b\tc") == ["a", "b", "c"])
        #expect(split("\"a b\" 'c d'") == ["a b", "c d"])
        #expect(split("'it\\'s'") == ["it's"])
        #expect(split("\"x\"y") == nil)
        #expect(split("\"open") == nil)
        #expect(split("\"\"") == [""])
        #expect(ArgSplitter.quote(Bytes("plain".utf8)) == "plain")
        #expect(ArgSplitter.quote(Bytes("a b\n".utf8)) == "\"a b\\n\"")
        #expect(split(ArgSplitter.quote(Bytes([0, 1, 0x22, 0x5C]))).map { $0.map { Bytes($0.utf8) } } == [[0, 1, 0x22, 0x5C]])
    }

    @Test func numberParsingMatchesRedis() {
        #expect(NumberFormat.parseInt(Bytes("-9223372036854775808".utf8)) == Int64.min)
        #expect(NumberFormat.parseInt(Bytes("9223372036854775808".utf8)) == nil)
        #expect(NumberFormat.parseInt(Bytes("01".utf8)) == nil)
        #expect(NumberFormat.parseInt(Bytes("+1".utf8)) == nil)
        #expect(NumberFormat.parseInt(Bytes(" 1".utf8)) == nil)
        #expect(NumberFormat.parseDouble(Bytes("1e3".utf8)) == 1000)
        #expect(NumberFormat.parseDouble(Bytes("nan".utf8)) == nil)
        #expect(NumberFormat.parseDouble(Bytes("1.5x".utf8)) == nil)
        #expect(NumberFormat.double17g(0.1) == "0.10000000000000001")
        #expect(NumberFormat.double17g(3) == "3")
        #expect(NumberFormat.double17g(1e300) == "1.0000000000000001e+300")
    }
}

import Testing
@testable import Shared

/// The health listener's request parser: what it accepts, what it refuses with which status, and
/// that a head fed a byte at a time is "need more" until its last byte.
@Suite struct HTTPRequestParserTests {
    func parse(_ s: String, _ limits: HTTPLimits = HTTPLimits()) -> HTTPParseResult {
        HTTPRequestParser.parse(Bytes(s.utf8), limits: limits)
    }

    func status(_ s: String, _ limits: HTTPLimits = HTTPLimits()) -> Int? {
        if case .failure(let st, _) = parse(s, limits) { return st }
        return nil
    }

    @Test func curlRequestParses() throws {
        let head = "GET /replica?lag=1024&x=a%20b+c HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
        guard case .request(let r, let n) = parse(head + "GET /next") else { Issue.record("not parsed"); return }
        #expect(n == head.utf8.count)
        #expect(r.method == "GET" && r.path == "/replica" && r.version == .http11)
        #expect(r.query == ["lag": "1024", "x": "a b c"])
        #expect(r.headers["host"] == "127.0.0.1:8080" && r.headers["user-agent"] == "curl/7.88.1")
        #expect(r.keepAlive)
    }

    @Test func keepAliveFollowsVersionAndConnection() throws {
        func keep(_ s: String) -> Bool? {
            if case .request(let r, _) = parse(s) { return r.keepAlive }
            return nil
        }
        #expect(keep("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") == false)
        #expect(keep("GET / HTTP/1.0\r\n\r\n") == false)
        #expect(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") == true)
        #expect(keep("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n") == false)
    }

    @Test func bareLineFeedsAndLeadingBlankLinesAreAccepted() throws {
        guard case .request(let r, _) = parse("\r\nGET /health HTTP/1.0\nX: 1\n\n") else { Issue.record("not parsed"); return }
        #expect(r.path == "/health" && r.headers["x"] == "1")
    }

    @Test func byteAtATimeIsNeedMoreUntilTheEnd() throws {
        let head = Bytes("HEAD /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n".utf8)
        for k in 0..<head.count {
            #expect(HTTPRequestParser.parse(Array(head[0..<k])) == .needMore, "prefix of \(k) bytes")
        }
        guard case .request(let r, let n) = HTTPRequestParser.parse(head) else { Issue.record("not parsed"); return }
        #expect(r.method == "HEAD" && n == head.count)
    }

    @Test func garbageIsRefusedAtOnce() throws {
        // Binary junk and a Redis client on the wrong port: refused before any line ends.
        #expect(status("\u{01}\u{02}\u{03}") == 400)
        #expect(status("*1\r\n$4\r\nPING\r\n") == 400)
        #expect(status("hello world\r\n\r\n") == 400)
        #expect(status("GET\r\n\r\n") == 400)
        #expect(status("GET /x HTTP/1.1 extra\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET http://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET / HTTP/2.0\r\n\r\n") == 505)
        #expect(status("GET / HTTX/1.1\r\n\r\n") == 400)
        #expect(status("GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n") == nil, "the path is not decoded")
        #expect(status("GET /?a=%zz HTTP/1.1\r\nHost: a\r\n\r\n") == 400)
    }

    @Test func malformedHeadersAreRefused() throws {
        #expect(status("GET / HTTP/1.1\r\n\r\n") == 400, "HTTP/1.1 needs Host")
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}b\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello") == 413)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n") == nil)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == 501)
    }

    @Test func limitsAreEnforcedBeforeTheHeadEnds() throws {
        let limits = HTTPLimits(maxRequestLine: 64, maxHeaderBytes: 128, maxHeaders: 4)
        // An endless request line, an endless header, too many headers: refused without the end.
        #expect(status("GET /" + String(repeating: "a", count: 100), limits) == 414)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 200), limits) == 431)
        let many = (0..<5).map { "H\($0): v\r\n" }.joined()
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\n" + many, limits) == 431)
        // Within the limits, an incomplete head is simply incomplete.
        #expect(parse("GET / HTTP/1.1\r\nHost: a\r\nX: 12345", limits) == .needMore)
        // Default limits: 16 KB of headers is too much.
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "c", count: 16 * 1024) + "\r\n\r\n") == 431)
    }

    @Test func responsesSerializeWithLengthAndConnection() throws {
        let r = HTTPResponse.text(503, "no")
        let wire = String(decoding: r.serialized(version: .http11, keepAlive: false), as: UTF8.self)
        #expect(wire.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(wire.contains("Content-Length: 3\r\n") && wire.contains("Connection: close\r\n") && wire.hasSuffix("\r\n\r\nno\n"))
        let head = String(decoding: r.serialized(version: .http10, keepAlive: true, includeBody: false), as: UTF8.self)
        #expect(head.contains("Connection: keep-alive\r\n") && head.hasSuffix("\r\n\r\n") && head.contains("Content-Length: 3\r\n"))
    }

    @Test func jsonAndPrometheusEscape() throws {
        let j: JSON = .object([("a\"b", .string("line\nnext\u{01}")), ("n", .int(-3)), ("x", .array([.bool(true), .null]))])
        #expect(j.text == #"{"a\"b":"line\nnext\u0001","n":-3,"x":[true,null]}"#)
        var p = PrometheusText()
        p.family("m", .gauge, "help \\ text", [([("l", "a\"b\\c\nd")], 1.5), ([], 2)])
        p.single("m", .gauge, "again", 3)
        #expect(p.text == "# HELP m help \\\\ text\n# TYPE m gauge\nm{l=\"a\\\"b\\\\c\\nd\"} 1.5\nm 2\n")
        #expect(PrometheusText.format(.nan) == "NaN" && PrometheusText.format(-.infinity) == "-Inf" && PrometheusText.format(7) == "7")
    }
}

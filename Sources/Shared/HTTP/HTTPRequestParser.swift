// A strict HTTP/1.x request-head parser for the health and metrics listener. Pure: bytes in, a
// request or "need more" or the status to refuse with out; it never sees a socket. The listener
// serves GET/HEAD of small documents, so a request is its head only: a body is refused (413),
// chunked transfer is not implemented (501), and every limit that bounds memory is checked before
// the head is complete, so a peer cannot make us buffer more than the limits say.

/// HTTP versions we answer.
public enum HTTPVersion: Sendable, Equatable {
    case http10, http11

    /// The text on the wire.
    public var text: String { self == .http10 ? "HTTP/1.0" : "HTTP/1.1" }
}

/// One parsed request head.
public struct HTTPRequest: Sendable, Equatable {
    /// The method as sent (methods are case-sensitive: `get` is not `GET`).
    public var method: String
    /// The path without its query (`/replica`).
    public var path: String
    /// Query parameters, percent-decoded; the last of repeated names wins.
    public var query: [String: String]
    public var version: HTTPVersion
    /// Header fields by lower-cased name; repeated fields are joined with ", " (RFC 9110 5.3).
    public var headers: [String: String]

    /// Whether the connection stays open after the response (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool {
        let tokens = (headers["connection"] ?? "").lowercased().split(separator: ",").map { $0.trimmingSpaces() }
        if tokens.contains("close") { return false }
        return version == .http11 || tokens.contains("keep-alive")
    }

    public init(method: String, path: String, query: [String: String] = [:], version: HTTPVersion = .http11,
                headers: [String: String] = [:]) {
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
    }
}

/// Bounds on what one request head may use.
public struct HTTPLimits: Sendable {
    /// Longest request line (method, target, version): longer is 414.
    public var maxRequestLine = 8 * 1024
    /// Bytes of header fields: more is 431.
    public var maxHeaderBytes = 8 * 1024
    /// Number of header fields: more is 431.
    public var maxHeaders = 64

    public init(maxRequestLine: Int = 8 * 1024, maxHeaderBytes: Int = 8 * 1024, maxHeaders: Int = 64) {
        self.maxRequestLine = maxRequestLine
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaders = maxHeaders
    }
}

/// What one parse attempt found.
public enum HTTPParseResult: Sendable, Equatable {
    /// The head is not complete yet (and nothing seen so far is wrong).
    case needMore
    /// A complete head that used `consumed` bytes.
    case request(HTTPRequest, consumed: Int)
    /// Refuse with this status (400, 413, 414, 431, 501, 505) and close.
    case failure(status: Int, reason: String)
}

/// Parses request heads.
public enum HTTPRequestParser {
    /// Parses the head at the start of `buf`.
    public static func parse(_ buf: UnsafeRawBufferPointer, limits: HTTPLimits = HTTPLimits()) -> HTTPParseResult {
        // Blank lines before a request are to be ignored (RFC 9112 2.2), a few of them only.
        var start = 0
        while start < buf.count && start < 8 && (buf[start] == 0x0D || buf[start] == 0x0A) { start += 1 }
        guard start < buf.count else { return .needMore }
        // Reject garbage at the first byte: a method is a token, so a binary or RESP peer that
        // connected to the wrong port is told at once instead of after 8 KB.
        if !isTokenByte(buf[start]) { return .failure(status: 400, reason: "request line does not start with a method") }

        guard let (lineEnd, next) = lineBounds(buf, from: start, limit: limits.maxRequestLine) else {
            if buf.count - start > limits.maxRequestLine { return .failure(status: 414, reason: "request line too long") }
            return checkPartialLine(buf, start, buf.count)
        }
        if lineEnd - start > limits.maxRequestLine { return .failure(status: 414, reason: "request line too long") }
        var request: HTTPRequest
        switch parseRequestLine(buf, start, lineEnd) {
        case .success(let r): request = r
        case .failure(let f): return .failure(status: f.status, reason: f.reason)
        }

        // Header fields, up to the empty line.
        var pos = next
        var count = 0
        var fields: [String: String] = [:]
        var contentLength: String? = nil
        while true {
            let used = pos - next
            guard let (end, after) = lineBounds(buf, from: pos, limit: limits.maxHeaderBytes - used) else {
                if buf.count - next > limits.maxHeaderBytes { return .failure(status: 431, reason: "header fields too large") }
                return .needMore
            }
            if end == pos { pos = after; break }
            if after - next > limits.maxHeaderBytes { return .failure(status: 431, reason: "header fields too large") }
            count += 1
            if count > limits.maxHeaders { return .failure(status: 431, reason: "too many header fields") }
            let first = buf[pos]
            // obs-fold (a continuation line) must be refused by a server (RFC 9112 5.2).
            if first == 0x20 || first == 0x09 { return .failure(status: 400, reason: "folded header line") }
            var colon = pos
            while colon < end && buf[colon] != UInt8(ascii: ":") {
                guard isTokenByte(buf[colon]) else { return .failure(status: 400, reason: "invalid header name") }
                colon += 1
            }
            guard colon < end, colon > pos else { return .failure(status: 400, reason: "header line without a name and colon") }
            var vs = colon + 1, ve = end
            while vs < ve && (buf[vs] == 0x20 || buf[vs] == 0x09) { vs += 1 }
            while ve > vs && (buf[ve - 1] == 0x20 || buf[ve - 1] == 0x09) { ve -= 1 }
            for i in vs..<ve where buf[i] < 0x20 && buf[i] != 0x09 || buf[i] == 0x7F {
                return .failure(status: 400, reason: "control character in a header value")
            }
            let name = text(buf, pos, colon).lowercased()
            let value = text(buf, vs, ve)
            if name == "content-length" {
                // Differing repeated lengths are a request smuggling attempt (RFC 9112 6.3).
                if let cl = contentLength, cl != value { return .failure(status: 400, reason: "conflicting Content-Length") }
                contentLength = value
            }
            if let old = fields[name] { fields[name] = old + ", " + value } else { fields[name] = value }
            pos = after
        }
        request.headers = fields
        if fields["transfer-encoding"] != nil { return .failure(status: 501, reason: "Transfer-Encoding is not supported") }
        if let cl = contentLength {
            guard !cl.isEmpty, cl.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return .failure(status: 400, reason: "invalid Content-Length")
            }
            if cl.utf8.contains(where: { $0 != 0x30 }) { return .failure(status: 413, reason: "request bodies are not accepted") }
        }
        if request.version == .http11 && fields["host"] == nil { return .failure(status: 400, reason: "HTTP/1.1 request without Host") }
        return .request(request, consumed: pos)
    }

    /// Convenience for byte arrays (tests).
    public static func parse(_ bytes: Bytes, limits: HTTPLimits = HTTPLimits()) -> HTTPParseResult {
        bytes.withUnsafeBytes { parse($0, limits: limits) }
    }

    // MARK: - Request line

    private struct Refusal: Error { var status: Int; var reason: String }

    private static func parseRequestLine(_ buf: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Result<HTTPRequest, Refusal> {
        var i = start
        while i < end && isTokenByte(buf[i]) { i += 1 }
        guard i < end, buf[i] == 0x20, i > start else { return .failure(Refusal(status: 400, reason: "malformed request line")) }
        let method = text(buf, start, i)
        let ts = i + 1
        var j = ts
        while j < end && buf[j] > 0x20 && buf[j] < 0x7F { j += 1 }
        guard j < end, buf[j] == 0x20, j > ts else { return .failure(Refusal(status: 400, reason: "malformed request target")) }
        let version = text(buf, j + 1, end)
        let v: HTTPVersion
        switch version {
        case "HTTP/1.1": v = .http11
        case "HTTP/1.0": v = .http10
        default:
            let u = Array(version.utf8)
            if u.count == 8 && version.hasPrefix("HTTP/") && isDigit(u[5]) && u[6] == UInt8(ascii: ".") && isDigit(u[7]) {
                return .failure(Refusal(status: 505, reason: "HTTP version not supported"))
            }
            return .failure(Refusal(status: 400, reason: "malformed HTTP version"))
        }
        // Origin form only (`/path?query`): we are nobody's proxy.
        guard buf[ts] == UInt8(ascii: "/") else { return .failure(Refusal(status: 400, reason: "request target is not a path")) }
        let target = text(buf, ts, j)
        let path: Substring, queryText: Substring
        if let q = target.firstIndex(of: "?") {
            path = target[..<q]
            queryText = target[target.index(after: q)...]
        } else {
            path = target[...]
            queryText = ""
        }
        guard let query = parseQuery(queryText) else { return .failure(Refusal(status: 400, reason: "malformed query")) }
        return .success(HTTPRequest(method: method, path: String(path), query: query, version: v))
    }

    /// `a=1&b=x%20y` → ["a": "1", "b": "x y"]; nil on a bad percent escape.
    static func parseQuery(_ q: Substring) -> [String: String]? {
        var out: [String: String] = [:]
        for pair in q.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = percentDecode(parts[0]) else { return nil }
            let v = parts.count > 1 ? percentDecode(parts[1]) : ""
            guard let value = v else { return nil }
            out[k] = value
        }
        return out
    }

    /// Decodes `%XX` and `+` (form encoding); nil on a bad escape.
    static func percentDecode(_ s: Substring) -> String? {
        var out: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            let b = u[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < u.count, let h = hexValue(u[i + 1]), let l = hexValue(u[i + 2]) else { return nil }
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(b == UInt8(ascii: "+") ? 0x20 : b)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Bytes

    /// The next line from `from`: (end of its content, start of the next line). LF alone ends a
    /// line too (RFC 9112 2.2 lets a recipient accept it); a CR not followed by LF is refused later
    /// as a control character. Looks no further than `limit` bytes (+2 for the terminator).
    private static func lineBounds(_ buf: UnsafeRawBufferPointer, from: Int, limit: Int) -> (Int, Int)? {
        let stop = min(buf.count, from + max(0, limit) + 2)
        var i = from
        while i < stop {
            if buf[i] == 0x0A {
                let end = i > from && buf[i - 1] == 0x0D ? i - 1 : i
                return (end, i + 1)
            }
            i += 1
        }
        return nil
    }

    /// An incomplete request line can already be wrong: refuse garbage before the line ends.
    private static func checkPartialLine(_ buf: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HTTPParseResult {
        var i = start
        while i < end && isTokenByte(buf[i]) { i += 1 }
        if i < end && buf[i] != 0x20 && buf[i] != 0x0D { return .failure(status: 400, reason: "malformed request line") }
        if i - start > 32 { return .failure(status: 400, reason: "method too long") }
        return .needMore
    }

    private static func text(_ buf: UnsafeRawBufferPointer, _ a: Int, _ b: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buf[a..<b]), as: UTF8.self)
    }

    /// RFC 9110 tchar.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): return true
        default: return false
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

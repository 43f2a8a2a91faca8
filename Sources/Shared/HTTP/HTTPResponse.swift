// Responses of the health and metrics listener, and the two small text formats they carry: JSON
// (health documents, the sentinel's masters) and Prometheus's text exposition format 0.0.4.

/// One response: a status, a content type and a body.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: Bytes
    /// Extra header lines, e.g. `("Allow", "GET, HEAD")`.
    public var headers: [(String, String)] = []

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: Bytes, headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// A plain-text response (a trailing newline is added, as curl users expect).
    public static func text(_ status: Int, _ s: String) -> HTTPResponse {
        HTTPResponse(status: status, body: Bytes((s + "\n").utf8))
    }

    /// A JSON document.
    public static func json(_ status: Int, _ value: JSON) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: Bytes((value.text + "\n").utf8))
    }

    /// Prometheus's text format.
    public static func metrics(_ text: String) -> HTTPResponse {
        HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Bytes(text.utf8))
    }

    /// The bytes on the wire; `includeBody` false for HEAD (the length is still the body's).
    public func serialized(version: HTTPVersion, keepAlive: Bool, includeBody: Bool = true) -> Bytes {
        var head = "\(version.text) \(status) \(HTTPResponse.reason(status))\r\n"
        head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        head += "Cache-Control: no-store\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += keepAlive ? (version == .http10 ? "Connection: keep-alive\r\n" : "") : "Connection: close\r\n"
        head += "\r\n"
        var out = Bytes(head.utf8)
        if includeBody { out += body }
        return out
    }

    /// The reason phrases of the statuses we send.
    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }

    public static func == (a: HTTPResponse, b: HTTPResponse) -> Bool {
        a.status == b.status && a.contentType == b.contentType && a.body == b.body
            && a.headers.map { $0.0 + ":" + $0.1 } == b.headers.map { $0.0 + ":" + $0.1 }
    }
}

// MARK: - JSON

/// A JSON value, written compactly with object keys in the order given.
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    /// An integer from any fixed-width value.
    public static func int<T: BinaryInteger>(_ v: T) -> JSON { .integer(Int64(clamping: v)) }

    /// The serialized text.
    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .double(let d): out += d.isFinite ? String(d) : "null"
        case .string(let s): JSON.quote(s, into: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.write(to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, (k, v)) in o.enumerated() {
                if i > 0 { out += "," }
                JSON.quote(k, into: &out)
                out += ":"
                v.write(to: &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal (RFC 8259: quote, backslash and control characters escaped).
    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    public static func == (a: JSON, b: JSON) -> Bool { a.text == b.text }
}

// MARK: - Prometheus text format

/// Builds a Prometheus text exposition (format 0.0.4): each family once, with its HELP and TYPE,
/// then its samples.
public struct PrometheusText: Sendable {
    /// Metric types we expose.
    public enum Kind: String, Sendable { case gauge, counter }

    private var out = ""
    private var seen: Set<String> = []

    public init() {}

    /// Adds one family with its samples; a family already written is skipped (a name must not
    /// appear twice in one exposition). Empty `samples` writes nothing.
    public mutating func family(_ name: String, _ kind: Kind, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        guard !samples.isEmpty, !seen.contains(name) else { return }
        seen.insert(name)
        out += "# HELP \(name) \(PrometheusText.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        for s in samples {
            out += name
            if !s.labels.isEmpty {
                out += "{"
                out += s.labels.map { "\($0.0)=\"\(PrometheusText.escapeLabel($0.1))\"" }.joined(separator: ",")
                out += "}"
            }
            out += " " + PrometheusText.format(s.value) + "\n"
        }
    }

    /// A family with one unlabelled sample.
    public mutating func single(_ name: String, _ kind: Kind, _ help: String, _ value: Double) {
        family(name, kind, help, [([], value)])
    }

    /// The exposition text.
    public var text: String { out }

    /// Integers without a fraction, others in Swift's shortest round-trip form; Prometheus's
    /// spellings of the special values.
    public static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    static func escapeLabel(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func escapeHelp(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}

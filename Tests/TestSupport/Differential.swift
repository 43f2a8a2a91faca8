// Differential testing: the same script of commands runs against redis-server and vigil-node
// and the replies are compared byte for byte (or by a stated rule for unordered/random replies).
//
// Script format: one command per line in redis-cli quoting; `#` comments. A line may start with
// directives:
//   @unordered  the reply is an array compared as a multiset of elements (KEYS, SMEMBERS)
//   @pairs      a flat field/value array compared as a multiset of pairs (HGETALL, CONFIG GET)
//   @type       only the reply's RESP type must match (TIME, RANDOMKEY)
//   @ignore     run, read the reply, do not compare
//   @noreply    send without reading a reply (SUBSCRIBE on another connection, then @read)
//   @read       read one more reply on the current connection and compare (pushed messages)
//   @conn N     switch to connection N (created on first use, 0 is the default)
//   @sleep MS   let time pass (for expiry semantics only, never to wait for a peer)
import Foundation
import Shared

/// One difference found by a differential run.
public struct DifferentialMismatch: CustomStringConvertible {
    public let file: String
    public let line: Int
    public let command: String
    public let redis: String
    public let vigil: String
    public var description: String { "\(file):\(line): \(command)\n  redis: \(redis)\n  vigil: \(vigil)" }
}

/// Runs differential scripts against a pair of servers.
public final class DifferentialRunner {
    let redisPort: Int
    let vigilPort: Int
    public init(redisPort: Int, vigilPort: Int) { self.redisPort = redisPort; self.vigilPort = vigilPort }

    static func show(_ b: Bytes) -> String {
        var s = ""
        for c in b.prefix(600) {
            switch c {
            case 0x0D: s += "\\r"
            case 0x0A: s += "\\n"
            case 0x20...0x7E: s.unicodeScalars.append(Unicode.Scalar(c))
            default: s += String(format: "\\x%02x", c)
            }
        }
        return b.count > 600 ? s + "…(\(b.count) bytes)" : s
    }

    /// Elements of a top-level array reply as raw byte chunks; nil if not an array.
    static func elements(_ raw: Bytes) -> [Bytes]? {
        guard let first = raw.first, first == UInt8(ascii: "*") || first == UInt8(ascii: "~") || first == UInt8(ascii: "%") else { return nil }
        guard let (top, _) = try? RESPParser.parse(raw), let items = top.elements else { return nil }
        return items.map { v in var w = RESPWriter(proto: 3); w.value(v); return w.bytes }
    }

    /// Runs one script text; returns all mismatches.
    public func run(script: String, name: String) throws -> [DifferentialMismatch] {
        var redisConns: [Int: TestClient] = [:]
        var vigilConns: [Int: TestClient] = [:]
        var conn = 0
        func pair() throws -> (TestClient, TestClient) {
            if redisConns[conn] == nil {
                redisConns[conn] = try TestClient(port: redisPort)
                vigilConns[conn] = try TestClient(port: vigilPort)
            }
            return (redisConns[conn]!, vigilConns[conn]!)
        }
        let (r0, v0) = try pair()
        _ = try r0.call("FLUSHALL"); _ = try v0.call("FLUSHALL")
        var mismatches: [DifferentialMismatch] = []
        for (i, rawLine) in script.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var mode = "exact"
            var send = true, read = true
            while line.hasPrefix("@") {
                let word = String(line.prefix { $0 != " " })
                line = String(line.dropFirst(word.count)).trimmingCharacters(in: .whitespaces)
                switch word {
                case "@unordered": mode = "unordered"
                case "@pairs": mode = "pairs"
                case "@type": mode = "type"
                case "@ignore": mode = "ignore"
                case "@noreply": read = false
                case "@read": send = false
                case "@conn":
                    let n = String(line.prefix { $0 != " " })
                    conn = Int(n) ?? 0
                    line = String(line.dropFirst(n.count)).trimmingCharacters(in: .whitespaces)
                case "@sleep":
                    let n = String(line.prefix { $0 != " " })
                    Thread.sleep(forTimeInterval: Double(Int(n) ?? 0) / 1000)
                    line = String(line.dropFirst(n.count)).trimmingCharacters(in: .whitespaces)
                default: throw TestClientError("\(name):\(i + 1): unknown directive \(word)")
                }
            }
            let (r, v) = try pair()
            if send {
                if line.isEmpty { continue }
                guard let args = ArgSplitter.split(Array(line.utf8)) else { throw TestClientError("\(name):\(i + 1): bad quoting") }
                try r.send(bytes: args); try v.send(bytes: args)
            }
            guard read else { continue }
            let rr = try r.readRaw()
            let vr: Bytes
            do { vr = try v.readRaw() } catch {
                mismatches.append(.init(file: name, line: i + 1, command: line, redis: Self.show(rr), vigil: "<\(error)>"))
                vigilConns[conn] = try TestClient(port: vigilPort)
                continue
            }
            var same: Bool
            switch mode {
            case "unordered":
                same = Self.elements(rr).map { $0.sorted { $0.lexicographicallyPrecedes($1) } } == Self.elements(vr).map { $0.sorted { $0.lexicographicallyPrecedes($1) } }
                    && rr.first == vr.first
            case "pairs":
                func pairs(_ b: Bytes) -> [Bytes]? {
                    guard let e = Self.elements(b), e.count % 2 == 0 else { return nil }
                    return stride(from: 0, to: e.count, by: 2).map { e[$0] + e[$0 + 1] }.sorted { $0.lexicographicallyPrecedes($1) }
                }
                same = pairs(rr) == pairs(vr) && rr.first == vr.first
            case "type": same = rr.first == vr.first
            case "ignore": same = true
            default: same = rr == vr
            }
            if !same {
                mismatches.append(.init(file: name, line: i + 1, command: line, redis: Self.show(rr), vigil: Self.show(vr)))
            }
        }
        return mismatches
    }
}

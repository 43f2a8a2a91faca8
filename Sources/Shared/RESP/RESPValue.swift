// A decoded RESP2/RESP3 value, as a client (sentinel links, replica links, tests) sees replies.

/// Raw bytes: keys, values and arguments are binary-safe.
public typealias Bytes = [UInt8]

/// One RESP value. Maps keep their order as a flat list of pairs.
public indirect enum RESPValue: Equatable, Sendable {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    case bulkString(Bytes)
    case array([RESPValue])
    /// RESP2 `$-1`/`*-1` and RESP3 `_`.
    case null
    case double(Double)
    case boolean(Bool)
    case bigNumber(String)
    case verbatim(format: String, text: Bytes)
    case map([RESPPair])
    case set([RESPValue])
    case push([RESPValue])

    /// The value as text, for simple and bulk strings (and numbers, which clients often read as text).
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b): return String(decoding: b, as: UTF8.self)
        case .verbatim(_, let t): return String(decoding: t, as: UTF8.self)
        case .integer(let i): return String(i)
        case .error(let e): return e
        default: return nil
        }
    }

    /// Elements of arrays, sets and pushes; a map flattened to key, value, key, value.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let a), .set(let a), .push(let a): return a
        case .map(let pairs): return pairs.flatMap { [$0.key, $0.value] }
        default: return nil
        }
    }

    public var isError: Bool { if case .error = self { return true } else { return false } }

    public var int: Int64? {
        switch self {
        case .integer(let i): return i
        case .simpleString(let s): return Int64(s)
        case .bulkString(let b): return Int64(String(decoding: b, as: UTF8.self))
        default: return nil
        }
    }
}

/// A key/value pair of a RESP3 map.
public struct RESPPair: Equatable, Sendable {
    public var key: RESPValue
    public var value: RESPValue
    public init(_ key: RESPValue, _ value: RESPValue) { self.key = key; self.value = value }
}

/// Protocol violations, with the text Redis puts after `-ERR Protocol error: `.
public struct RESPError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Protocol error: \(message)" }
}

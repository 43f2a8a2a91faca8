// A data set that crosses every encoding threshold of Redis 7.0 (int/raw/LZF strings, listpack
// vs hashtable hashes and zsets, intset vs hashtable sets, small/large/plain-node lists), with
// TTLs and several databases; it can be written into redis-server or compared with our Value.
import Foundation
import Testing
import TestSupport
import Shared
@testable import Node

/// One key of the test data set, in a model independent of our Value classes.
struct RDBTestKey {
    enum Model: Equatable {
        case string(Bytes)
        case list([Bytes])
        case hash([Bytes: Bytes])
        case set(Set<Bytes>)
        case zset([Bytes: Double])
        /// A stream by its entries, as "id field value ..." lines (streams are built by commands).
        case stream([Bytes])
    }
    let db: Int
    let key: Bytes
    let model: Model
    /// Absolute unix ms expiry.
    var expiresAt: Int64? = nil
}

enum RDBTestData {
    static func b(_ s: String) -> Bytes { Array(s.utf8) }

    /// The data set. Expiries are far in the future so nothing expires during a test.
    static func keys() -> [RDBTestKey] {
        let future: Int64 = 4_102_444_800_000  // 2100-01-01
        let binary: Bytes = [0, 1, 2, 0xff, 0xfe, 0x0d, 0x0a, 0x80] + Array(repeating: 0x00, count: 30)
        var out: [RDBTestKey] = [
            .init(db: 0, key: b("str:small"), model: .string(b("hello"))),
            .init(db: 0, key: b("str:empty"), model: .string([])),
            .init(db: 0, key: b("str:int8"), model: .string(b("-7"))),
            .init(db: 0, key: b("str:int16"), model: .string(b("12345"))),
            .init(db: 0, key: b("str:int32"), model: .string(b("-2147483648"))),
            .init(db: 0, key: b("str:int64"), model: .string(b("9223372036854775807"))),
            .init(db: 0, key: b("str:leadingzero"), model: .string(b("007"))),
            .init(db: 0, key: b("str:binary"), model: .string(binary)),
            .init(db: 0, key: b("str:lzf"), model: .string(b(String(repeating: "compress me please ", count: 100)))),
            .init(db: 0, key: b("str:ttl"), model: .string(b("expiring")), expiresAt: future + 123),
            .init(db: 0, key: binary, model: .string(b("binary key"))),
            .init(db: 0, key: b("list:small"), model: .list([b("a"), b("1"), b("-300"), b("70000"), b("-9000000000"), b(""), b("x")])),
            .init(db: 0, key: b("list:large"), model: .list((0..<2000).map { i in i % 3 == 0 ? b("\(i * 1000)") : b("element-\(i)-" + String(repeating: "z", count: i % 50)) })),
            .init(db: 0, key: b("list:bigelement"), model: .list([b("head"), Bytes(repeating: 0x41, count: 10_000), b("tail")])),
            .init(db: 0, key: b("hash:small"), model: .hash([b("f1"): b("v1"), b("n"): b("42"), b("neg"): b("-5")])),
            .init(db: 0, key: b("hash:bigvalue"), model: .hash([b("f"): b(String(repeating: "v", count: 100))])),
            .init(db: 0, key: b("hash:large"), model: .hash(Dictionary(uniqueKeysWithValues: (0..<600).map { (b("field:\($0)"), b("value:\($0 * 7)")) })), expiresAt: future),
            .init(db: 0, key: b("set:intsmall"), model: .set(Set([1, -2, 300, 70000, 5_000_000_000].map { b("\($0)") }))),
            .init(db: 0, key: b("set:intlarge"), model: .set(Set((0..<1000).map { b("\($0 * 3)") }))),
            .init(db: 0, key: b("set:strsmall"), model: .set(Set([b("a"), b("b"), b("c")]))),
            .init(db: 0, key: b("set:strlarge"), model: .set(Set((0..<600).map { b("member-\($0)") }))),
            .init(db: 0, key: b("zset:small"), model: .zset([b("a"): 1, b("b"): -2.5, b("c"): 0.1, b("d"): .infinity, b("e"): -.infinity, b("f"): 1e300])),
            .init(db: 0, key: b("zset:large"), model: .zset(Dictionary(uniqueKeysWithValues: (0..<300).map { (b("m\($0)"), Double($0) / 3) }))),
            .init(db: 0, key: b("zset:bigmember"), model: .zset([b(String(repeating: "m", count: 100)): 5])),
        ]
        out.append(.init(db: 3, key: b("str:small"), model: .string(b("in db 3"))))
        out.append(.init(db: 3, key: b("list:small"), model: .list([b("only")]), expiresAt: future + 1))
        out.append(.init(db: 15, key: b("k"), model: .hash([b("a"): b("b")])))
        return out
    }

    /// The data set as the node's databases.
    static func databases(_ keys: [RDBTestKey] = keys()) -> [Database] {
        let dbs = (0..<16).map { Database(id: $0) }
        for k in keys {
            dbs[k.db].dict[Key(k.key)] = value(k.model)
            if let t = k.expiresAt { dbs[k.db].setExpiry(Key(k.key), t) }
        }
        return dbs
    }

    static func value(_ m: RDBTestKey.Model) -> Value {
        switch m {
        case .string(let s): return .string(s)
        case .list(let l): return .list(ListValue(l))
        case .hash(let h): return .hash(HashValue(Dictionary(uniqueKeysWithValues: h.map { (Key($0.key), $0.value) })))
        case .set(let s): return .set(SetValue(Set(s.map(Key.init))))
        case .zset(let z): return .zset(SortedSetValue(Dictionary(uniqueKeysWithValues: z.map { (Key($0.key), $0.value) })))
        case .stream: return .stream(StreamValue())
        }
    }

    static func model(_ v: Value) -> RDBTestKey.Model {
        switch v {
        case .string(let s): return .string(s)
        case .list(let l): return .list(Array(l.elements))
        case .hash(let h): return .hash(Dictionary(uniqueKeysWithValues: h.fields.map { ($0.key.bytes, $0.value) }))
        case .set(let s): return .set(Set(s.members.map(\.bytes)))
        case .zset(let z): return .zset(Dictionary(uniqueKeysWithValues: z.scores.map { ($0.key.bytes, $0.value) }))
        case .stream(let s):
            var lines: [Bytes] = []
            var it = StreamIterator(s, start: nil, end: nil, reverse: false)
            while let (id, n) = it.nextID() {
                lines.append(Array(id.text.utf8) + it.fieldPairs(n).flatMap { [0x20] + $0 })
            }
            return .stream(lines)
        }
    }

    /// Checks that `contents` holds exactly the data set.
    static func expectMatches(_ contents: RDBContents, _ keys: [RDBTestKey] = keys(), sourceLocation: SourceLocation = #_sourceLocation) {
        var expected: [Int: [Bytes: RDBTestKey]] = [:]
        for k in keys { expected[k.db, default: [:]][k.key] = k }
        #expect(contents.keyCount == keys.count, sourceLocation: sourceLocation)
        for (db, loaded) in contents.databases {
            for (key, value) in loaded.dict {
                guard let k = expected[db]?[key.bytes] else {
                    Issue.record("unexpected key \(key.string) in db \(db)", sourceLocation: sourceLocation); continue
                }
                #expect(model(value) == k.model, "key \(key.string)", sourceLocation: sourceLocation)
                #expect(loaded.expires[key] == k.expiresAt, "ttl of \(key.string)", sourceLocation: sourceLocation)
            }
            #expect(loaded.expires.keys.allSatisfy { loaded.dict[$0] != nil }, sourceLocation: sourceLocation)
        }
    }

    /// Writes the data set into a running redis-server with ordinary commands.
    static func populate(_ c: TestClient, _ keys: [RDBTestKey] = keys()) throws {
        var current = -1
        func ok(_ args: [Bytes]) throws {
            let r = try c.call(bytes: args)
            if r.isError { throw TestClientError("\(args.first.map { String(decoding: $0, as: UTF8.self) } ?? ""): \(r)") }
        }
        for k in keys {
            if k.db != current { try ok([b("SELECT"), b("\(k.db)")]); current = k.db }
            switch k.model {
            case .string(let s): try ok([b("SET"), k.key, s])
            case .list(let l): try ok([b("RPUSH"), k.key] + l)
            case .hash(let h): try ok([b("HSET"), k.key] + h.flatMap { [$0.key, $0.value] })
            case .set(let s): try ok([b("SADD"), k.key] + Array(s))
            case .zset(let z): try ok([b("ZADD"), k.key] + z.flatMap { [b(NumberFormat.double17g($0.value)), $0.key] })
            case .stream: break
            }
            if let t = k.expiresAt { try ok([b("PEXPIREAT"), k.key, b("\(t)")]) }
        }
    }
}

import Testing
@testable import Node
import Shared

/// HSCAN/SSCAN/ZSCAN cursors and MATCH patterns.
@Suite struct SetScanCursorTests {
    @Test func everyElementPresentThroughoutIsReturned() {
        var members = Set((0..<5000).map { Key("m\($0)") })
        let stable = members.filter { $0.bytes.last.map { $0 % 2 == 0 } ?? false }
        var seen = Set<Key>()
        var cursor: UInt64 = 0
        var steps = 0
        repeat {
            let (keys, next) = ScanCursor.step(ScanCursor.order(members), cursor: cursor, count: 37)
            seen.formUnion(keys)
            cursor = next
            steps += 1
            // Churn between calls: remove some unstable members, add new ones.
            if let k = members.first(where: { !stable.contains($0) }) { members.remove(k) }
            members.insert(Key("new\(steps)"))
        } while cursor != 0 && steps < 10_000
        #expect(cursor == 0)
        #expect(stable.isSubset(of: seen))
    }

    @Test func cursorParsingFollowsStrtoull() throws {
        #expect(try CollectionArgs.cursor("0".bytes) == 0)
        #expect(try CollectionArgs.cursor("18446744073709551615".bytes) == UInt64.max)
        #expect(try CollectionArgs.cursor("-1".bytes) == UInt64.max)
        #expect(throws: CommandError.self) { try CollectionArgs.cursor("18446744073709551616".bytes) }
        #expect(throws: CommandError.self) { try CollectionArgs.cursor("abc".bytes) }
    }

    @Test func globPatterns() {
        #expect(ScanCursor.matches("f*".bytes, "foo".bytes))
        #expect(!ScanCursor.matches("f*".bytes, "bar".bytes))
        #expect(ScanCursor.matches("h?llo".bytes, "hello".bytes))
        #expect(ScanCursor.matches("h[ae]llo".bytes, "hallo".bytes))
        #expect(!ScanCursor.matches("h[^e]llo".bytes, "hello".bytes))
        #expect(ScanCursor.matches("h[a-c]llo".bytes, "hbllo".bytes))
        #expect(ScanCursor.matches("a\\*".bytes, "a*".bytes))
        #expect(!ScanCursor.matches("a\\*".bytes, "ab".bytes))
        #expect(ScanCursor.matches("*".bytes, "".bytes))
    }
}

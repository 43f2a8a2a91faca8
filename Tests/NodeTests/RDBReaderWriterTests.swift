import Testing
import Shared
@testable import Node

/// The writer and reader agree, and the reader refuses damaged input with an offset.
@Suite struct RDBReaderWriterTests {
    func image(compression: Bool = true, checksum: Bool = true) throws -> [UInt8] {
        var o = RDBWriter.Options()
        o.compression = compression
        o.checksum = checksum
        o.replication = (id: String(repeating: "ab", count: 20), offset: 12345)
        return try RDBWriter.snapshot(RDBTestData.databases(), options: o, now: 1_700_000_000_000)
    }

    @Test(arguments: [true, false]) func roundTripEveryType(compression: Bool) throws {
        let bytes = try image(compression: compression)
        #expect(bytes.starts(with: Array("REDIS0010".utf8)))
        var r = RDBReader(bytes)
        let contents = try r.read(now: 1_700_000_000_000)
        RDBTestData.expectMatches(contents)
        #expect(contents.aux["redis-ver"] == Array("7.0.15".utf8))
        #expect(contents.aux["repl-id"] == Array(String(repeating: "ab", count: 20).utf8))
        #expect(contents.aux["repl-offset"] == Array("12345".utf8))
        #expect(contents.aux["ctime"] == Array("1700000000".utf8))
    }

    @Test func compressionShrinksCompressibleStrings() throws {
        #expect(try image(compression: true).count < image(compression: false).count - 1000)
    }

    @Test func checksumIsVerifiedAndZeroMeansUnchecked() throws {
        let good = try image()
        var bad = good
        // Flip a byte inside the long compressible string's data: parsing may still succeed,
        // but the checksum must catch it.
        let at = good.count / 2
        bad[at] ^= 0x01
        var r = RDBReader(bad)
        #expect(throws: RDBError.self) { _ = try r.read(now: nil) }

        let unchecked = try image(checksum: false)
        #expect(unchecked.suffix(8) == [0, 0, 0, 0, 0, 0, 0, 0])
        var r2 = RDBReader(unchecked)
        RDBTestData.expectMatches(try r2.read(now: nil))
    }

    /// Every truncation is an error (with an offset inside the file), never a crash or a partial load.
    @Test func everyTruncationIsRefused() throws {
        let small = RDBTestData.keys().filter { $0.db != 0 || $0.key.count < 12 && !$0.key.starts(with: Array("list:large".utf8)) }
        let bytes = try RDBWriter.snapshot(RDBTestData.databases(small), options: .init(), now: 0)
        var checked = 0
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 3000)) {
            var r = RDBReader(Array(bytes[..<cut]))
            do {
                _ = try r.read(now: nil)
                Issue.record("truncation at \(cut) of \(bytes.count) was accepted")
            } catch let e as RDBError {
                #expect(e.offset <= cut)
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    /// Random single-byte corruptions never crash; most are caught (by structure or by CRC).
    @Test func corruptionsNeverCrash() throws {
        let bytes = try image()
        var g = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var b = bytes
            let i = Int.random(in: 9..<b.count, using: &g)
            b[i] = UInt8.random(in: 0...255, using: &g)
            var r = RDBReader(b)
            if b[i] == bytes[i] { continue }
            #expect(throws: RDBError.self) { _ = try r.read(now: nil) }
        }
    }

    @Test func expiredKeysAreSkippedOnlyWhenAsked() throws {
        let bytes = try image()
        let after: Int64 = 4_102_444_800_000 + 10_000
        var r = RDBReader(bytes)
        let master = try r.read(now: after)
        #expect(master.expiredSkipped == 3)
        #expect(master.keyCount == RDBTestData.keys().count - 3)
        var r2 = RDBReader(bytes)
        #expect(try r2.read(now: nil).keyCount == RDBTestData.keys().count)
    }

    @Test func badSignatureAndVersion() {
        var r = RDBReader(Array("RUBBISH!!".utf8))
        #expect(throws: RDBError.self) { _ = try r.read(now: nil) }
        var r2 = RDBReader(Array("REDIS0012".utf8) + [0xff] + [UInt8](repeating: 0, count: 8))
        #expect { _ = try r2.read(now: nil) } throws: { ($0 as? RDBError)?.message.contains("version 12") == true }
    }

    /// Hand-built pre-7.0 encodings (ziplist lists/hashes/zsets, quicklist v1, zipmap, intset,
    /// ZSET with string scores, EXPIRETIME in seconds) in a version 9 file without checksum.
    @Test func olderEncodings() throws {
        func str(_ s: [UInt8]) -> [UInt8] { [UInt8(s.count)] + s }  // short strings only
        func ziplist(_ entries: [[UInt8]]) -> [UInt8] {
            var body: [UInt8] = []
            var prev = 0
            for e in entries {
                var entry: [UInt8] = [UInt8(prev)]
                if let v = Int(String(decoding: e, as: UTF8.self)), v >= 0 && v <= 12 {
                    entry.append(0xf1 + UInt8(v))
                } else if let v = Int16(String(decoding: e, as: UTF8.self)) {
                    entry += [0xc0, UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)]
                } else {
                    entry += [UInt8(e.count)] + e
                }
                body += entry
                prev = entry.count
            }
            let total = 11 + body.count
            return [UInt8(total), 0, 0, 0, 0, 0, 0, 0, UInt8(entries.count), 0] + body + [0xff]
        }
        let b = RDBTestData.b
        var f = Array("REDIS0009".utf8)
        f += [RDB.opSelectDB, 0]
        f += [RDB.typeListZiplist] + str(b("zl")) + str(ziplist([b("a"), b("7"), b("-1000")]))
        f += [RDB.typeListQuicklist] + str(b("ql")) + [2] + str(ziplist([b("x")])) + str(ziplist([b("y"), b("12")]))
        f += [RDB.typeHashZiplist] + str(b("hz")) + str(ziplist([b("f"), b("v"), b("n"), b("3")]))
        f += [RDB.typeZsetZiplist] + str(b("zz")) + str(ziplist([b("m"), b("2"), b("q"), b("1.5")]))
        let zipmap: [UInt8] = [1, 1] + b("k") + [2, 1] + b("vv") + [0x00, 0xff]
        f += [RDB.typeHashZipmap] + str(b("zm")) + str(zipmap)
        let intset: [UInt8] = [2, 0, 0, 0, 2, 0, 0, 0, 0xfe, 0xff, 5, 0]
        f += [RDB.opExpireTime, 0x00, 0xe1, 0xf5, 0x05]  // 100000000 seconds
        f += [RDB.typeSetIntset] + str(b("is")) + str(intset)
        f += [RDB.typeZset] + str(b("oz")) + [2] + str(b("a")) + str(b("1.25")) + str(b("b")) + [254]
        f += [RDB.opEOF] + [UInt8](repeating: 0, count: 8)  // zero checksum: not checked
        var r = RDBReader(f)
        let c = try r.read(now: nil)
        let loaded = c.databases[0] ?? .init()
        let db = Dictionary(uniqueKeysWithValues: loaded.dict.map { ($0.key.string, $0.value) })
        #expect(db.count == 7)
        #expect(db["zl"].map(RDBTestData.model) == .list([b("a"), b("7"), b("-1000")]))
        #expect(db["ql"].map(RDBTestData.model) == .list([b("x"), b("y"), b("12")]))
        #expect(db["hz"].map(RDBTestData.model) == .hash([b("f"): b("v"), b("n"): b("3")]))
        #expect(db["zz"].map(RDBTestData.model) == .zset([b("m"): 2, b("q"): 1.5]))
        #expect(db["zm"].map(RDBTestData.model) == .hash([b("k"): b("vv")]))
        #expect(db["is"].map(RDBTestData.model) == .set([b("-2"), b("5")]))
        #expect(loaded.expires[Key("is")] == 100_000_000_000)
        #expect(db["oz"].map(RDBTestData.model) == .zset([b("a"): 1.25, b("b"): .infinity]))
    }

    @Test func duplicateKeyIsRefusedWithItsOffset() {
        let pair: [UInt8] = [RDB.typeString, 1, 0x61, 1, 0x62]
        let f = Array("REDIS0010".utf8) + [RDB.opSelectDB, 0] + pair + pair + [RDB.opEOF] + [UInt8](repeating: 0, count: 8)
        var r = RDBReader(f)
        #expect { _ = try r.read(now: nil) } throws: { ($0 as? RDBError).map { $0.message.contains("Duplicate key") && $0.offset == 16 } == true }
    }

    /// Redis 7.2 (version 11) stores small sets as listpacks.
    @Test func version11SetListpack() throws {
        var lp = ListpackBuilder()
        for m in ["a", "17", "-5", "bb"] { lp.append(Array(m.utf8)) }
        let blob = lp.finish()
        let f = Array("REDIS0011".utf8) + [RDB.opSelectDB, 0, RDB.typeSetListpack, 1, 0x73, UInt8(blob.count)] + blob + [RDB.opEOF]
        let crc = CRC64.checksum(f)
        let image = f + (0..<8).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt64($0))) }
        var r = RDBReader(image)
        let c = try r.read(now: nil)
        #expect(c.version == 11)
        #expect(c.databases[0]?.dict[Key("s")].map(RDBTestData.model) == .set(Set(["a", "17", "-5", "bb"].map { Array($0.utf8) })))
    }

    @Test func unsupportedTypesAreRefusedClearly() {
        // A stream cut after its key is an error naming where the file ends (streams are read now).
        var f = Array("REDIS0010".utf8) + [RDB.opSelectDB, 0, RDB.typeStreamListpacks2, 1, 0x73]
        var r = RDBReader(f)
        #expect { _ = try r.read(now: nil) } throws: { ($0 as? RDBError).map { $0.message.contains("truncated") && $0.offset == 14 } == true }
        f = Array("REDIS0010".utf8) + [RDB.opModuleAux, 0]
        r = RDBReader(f)
        #expect { _ = try r.read(now: nil) } throws: { ($0 as? RDBError)?.message.contains("Module") == true }
    }

    /// The listpack builder's output is read back by the listpack parser for every integer width.
    @Test func listpackRoundTrip() throws {
        let items: [[UInt8]] = ["0", "127", "128", "-1", "4095", "-4096", "4096", "32767", "-32768", "8388607", "-8388608",
                                "2147483647", "-2147483648", "9223372036854775807", "-9223372036854775808", "01", "+1", "",
                                String(repeating: "s", count: 63), String(repeating: "t", count: 64), String(repeating: "u", count: 5000)].map { Array($0.utf8) }
        var lp = ListpackBuilder()
        for i in items { lp.append(i) }
        var r = BlobReader(lp.finish(), base: 0)
        #expect(try r.listpack() == items)
    }
}

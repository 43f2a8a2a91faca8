import Testing
import Shared
@testable import Node

/// The pure parts of the AOF: the manifest format, the command reader (truncation vs corruption),
/// and the command form of a base file.
@Suite struct AOFTests {
    // MARK: - Manifest

    @Test func manifestParsesRedisLayoutAndRendersItBack() throws {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        let m = try AOFManifest.parse(Array(text.utf8))
        #expect(m.base == AOFFileInfo(name: "appendonly.aof.1.base.rdb", seq: 1, type: .base))
        #expect(m.incrs.map(\.name) == ["appendonly.aof.1.incr.aof"])
        #expect(m.currentBaseSeq == 1 && m.currentIncrSeq == 1)
        #expect(m.render() == text)
    }

    @Test func manifestAcceptsAnyKeyOrderCommentsAndHistory() throws {
        let text = "# comment\r\ntype b seq 3 file a.3.base.aof\nfile a.2.incr.aof seq 2 type h\nfile a.3.incr.aof seq 3 type i\nfile a.4.incr.aof seq 4 type i\n"
        let m = try AOFManifest.parse(Array(text.utf8))
        #expect(m.base?.name == "a.3.base.aof")
        #expect(m.history.map(\.name) == ["a.2.incr.aof"])
        #expect(m.loadOrder.map(\.name) == ["a.3.base.aof", "a.3.incr.aof", "a.4.incr.aof"])
        var next = m
        #expect(next.addIncr(prefix: "a").name == "a.5.incr.aof")
    }

    @Test func manifestQuotesNamesThatNeedIt() throws {
        var m = AOFManifest()
        m.base = AOFFileInfo(name: "my file.1.base.rdb", seq: 1, type: .base)
        m.currentBaseSeq = 1
        let back = try AOFManifest.parse(Array(m.render().utf8))
        #expect(back.base?.name == "my file.1.base.rdb")
    }

    @Test func manifestRejectsMalformedContent() {
        func error(_ s: String) -> String? {
            do { _ = try AOFManifest.parse(Array(s.utf8)); return nil } catch { return error.message }
        }
        #expect(error("file a seq 1 type b\nfile b seq 2 type b\n")?.contains("duplicate base") == true)
        #expect(error("file a seq 2 type i\nfile b seq 1 type i\n")?.contains("non-monotonic") == true)
        #expect(error("file a seq x type i\n")?.contains("Invalid AOF manifest") == true)
        #expect(error("file a seq 1 type z\n")?.contains("Invalid AOF manifest") == true)
        #expect(error("file ../etc seq 1 type i\n")?.contains("Invalid AOF manifest") == true)
        #expect(error("file \"unbalanced seq 1 type i\n")?.contains("Invalid AOF manifest") == true)
        #expect(error("\n# only a comment\n")?.contains("empty") == true)
    }

    // MARK: - Command reader

    static let stream: [UInt8] = RESPWriter.command(["SELECT", "0"]) + Array("#TS:1700000000\r\n".utf8)
        + RESPWriter.command(["SET", "k", "v\r\nwith crlf"]) + RESPWriter.command(["RPUSH", "l", "", "x"])

    func readAll(_ bytes: [UInt8]) throws -> (commands: [[String]], end: AOFCommandReader.Step) {
        var r = AOFCommandReader(bytes)
        var out: [[String]] = []
        while true {
            let s = try r.next()
            if case .command(let argv, _) = s { out.append(argv.map { String(decoding: $0, as: UTF8.self) }); continue }
            return (out, s)
        }
    }

    @Test func readerReturnsCommandsAndSkipsAnnotations() throws {
        let (cmds, end) = try readAll(Self.stream)
        #expect(cmds == [["SELECT", "0"], ["SET", "k", "v\r\nwith crlf"], ["RPUSH", "l", "", "x"]])
        #expect(end == .end)
    }

    /// Every strict prefix of a valid stream is a truncation at the last whole command, never
    /// an error and never a partial command.
    @Test func everyPrefixIsATruncationAtACommandBoundary() throws {
        // Command ends, and command starts (an annotation line before a command is its own unit).
        var ends: [Int] = [0], boundaries: Set<Int> = [0]
        var r = AOFCommandReader(Self.stream)
        while case .command(_, let start) = try r.next() { ends.append(r.pos); boundaries.insert(start); boundaries.insert(r.pos) }
        for cut in 0..<Self.stream.count {
            let (cmds, end) = try readAll(Array(Self.stream[0..<cut]))
            let expected = boundaries.filter { $0 <= cut }.max()!
            #expect(end == .truncated(validUpTo: expected) || (end == .end && cut == expected), "cut \(cut): \(end)")
            #expect(cmds.count == ends.filter { $0 <= cut }.count - 1, "cut \(cut)")
        }
    }

    @Test func corruptionIsAnErrorWithTheCommandOffset() {
        let good = RESPWriter.command(["SET", "a", "1"])
        func failure(_ bytes: [UInt8]) -> AOFFormatError? {
            var r = AOFCommandReader(bytes)
            do { while case .command = try r.next() {} ; return nil } catch { return error }
        }
        #expect(failure(good + Array("garbage\r\n".utf8))?.offset == good.count)
        #expect(failure(good + Array("*2\r\n$3\r\nGET\r\n:1\r\n".utf8))?.offset == good.count)
        #expect(failure(good + Array("*1\r\n$3\r\nGETX\r\n".utf8))?.offset == good.count)  // no CRLF after the bulk
        #expect(failure(good + Array("*0\r\n".utf8))?.offset == good.count)
        #expect(failure(good + Array("*-1\r\n".utf8))?.offset == good.count)
        #expect(failure(good + Array("*1\n$1\r\na\r\n".utf8))?.offset == good.count)
        #expect(failure(good + Array("*99999999999999\r\n".utf8))?.offset == good.count)
        #expect(failure(good) == nil)
    }

    /// Random damage to a valid stream is always an error, a truncation or a clean end: the
    /// reader never traps and never reads past the buffer.
    @Test func randomDamageNeverTraps() throws {
        var rng = SystemRandomNumberGenerator()
        let valid = Self.stream + RESPWriter.command(["HSET", "h", "f", String(repeating: "v", count: 300)])
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
                if bytes.isEmpty { break }
            }
            var r = AOFCommandReader(bytes)
            var steps = 0
            do {
                loop: while steps < 100 {
                    steps += 1
                    switch try r.next() {
                    case .command(let argv, let start): #expect(!argv.isEmpty && start < r.pos && r.pos <= bytes.count)
                    case .end: #expect(r.pos == bytes.count); break loop
                    case .truncated(let v): #expect(v <= bytes.count); break loop
                    }
                }
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count)
            }
            #expect(steps < 100)
        }
    }

    // MARK: - Base as commands

    @Test func baseWriterEmitsBatchedCommandsThatRebuildTheData() throws {
        let db0 = Database(id: 0), db5 = Database(id: 5)
        db0.set(Key(Bytes("s".utf8)), .string(Bytes("v".utf8)))
        db0.set(Key(Bytes("l".utf8)), .list(ListValue((0..<130).map { Bytes("i\($0)".utf8) })))
        db0.set(Key(Bytes("gone".utf8)), .string(Bytes("x".utf8)))
        db0.setExpiry(Key(Bytes("gone".utf8)), 1000)
        db5.set(Key(Bytes("z".utf8)), .zset(SortedSetValue([Key(Bytes("m".utf8)): 1.5])))
        db5.set(Key(Bytes("h".utf8)), .hash(HashValue([Key(Bytes("f".utf8)): Bytes("1".utf8)])))
        db5.setExpiry(Key(Bytes("h".utf8)), 4_102_444_800_000)
        var bytes: [UInt8] = []
        try AOFBaseWriter.write([db0, db5], now: 2000) { bytes += $0 }
        let (cmds, end) = try readAll(bytes)
        #expect(end == .end)
        #expect(cmds.first == ["SELECT", "0"])
        #expect(cmds.contains(["SET", "s", "v"]))
        #expect(!cmds.contains { $0.count > 1 && $0[1] == "gone" })
        let pushes = cmds.filter { $0.first == "RPUSH" }
        #expect(pushes.map { $0.count - 2 } == [64, 64, 2])
        #expect(pushes.flatMap { $0.dropFirst(2) } == (0..<130).map { "i\($0)" })
        #expect(cmds.contains(["SELECT", "5"]))
        #expect(cmds.contains(["ZADD", "z", "1.5", "m"]))
        #expect(cmds.contains(["HMSET", "h", "f", "1"]))
        #expect(cmds.contains(["PEXPIREAT", "h", "4102444800000"]))
    }
}

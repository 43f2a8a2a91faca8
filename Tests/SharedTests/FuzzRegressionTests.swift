import Foundation
import Testing
@testable import Shared

/// Replays every saved fuzz input (Fuzz/corpus/<target> and Fuzz/crashes/<target>) through the
/// same entry points the libFuzzer harnesses use (Fuzz/targets/*.swift). A crash here is a test
/// run crash; errors are fine. The replay also checks the parsers' bookkeeping invariants.
enum FuzzFiles {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// All files for `target`, corpus and crashes, sorted for reproducible order.
    static func inputs(_ target: String) -> [(String, Bytes)] {
        var out: [(String, Bytes)] = []
        for kind in ["corpus", "crashes"] {
            let dir = root.appendingPathComponent(kind).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for n in names.sorted() where !n.hasPrefix(".") {
                if let d = FileManager.default.contents(atPath: dir.appendingPathComponent(n).path) {
                    out.append(("\(kind)/\(target)/\(n)", Bytes(d)))
                }
            }
        }
        return out
    }
}

/// Same as Fuzz/targets/request.swift.
func replayRequest(_ all: Bytes) -> Int {
    guard let first = all.first else { return 0 }
    var input = Array(all.dropFirst())
    var p = RequestParser(maxBulkLength: 1 << 20)
    p.authenticated = first & 1 == 0
    if first & 2 != 0 { input.insert(UInt8(ascii: "*"), at: 0) }
    let split = input.isEmpty ? 0 : Int(first >> 2) % (input.count + 1)
    var buffer: Bytes = []
    var commands = 0
    for chunk in [input[0..<split], input[split...]] {
        buffer.append(contentsOf: chunk)
        var rounds = 0
        while !buffer.isEmpty && rounds < 100_000 {
            rounds += 1
            let r: (consumed: Int, command: [Bytes]?)
            do { r = try buffer.withUnsafeBytes { try p.parse($0) } } catch { return commands }
            #expect(r.consumed >= 0 && r.consumed <= buffer.count)
            if r.command != nil { commands += 1 }
            if r.consumed == 0 && r.command == nil { break }
            buffer.removeFirst(r.consumed)
        }
    }
    return commands
}

/// Same as Fuzz/targets/inline.swift.
func replayInline(_ input: Bytes) {
    var buffer = input
    var p = RequestParser()
    var rounds = 0
    while !buffer.isEmpty && rounds < 100_000 {
        rounds += 1
        if buffer.first == UInt8(ascii: "*") { buffer[0] = UInt8(ascii: " ") }
        let r: (consumed: Int, command: [Bytes]?)
        do { r = try buffer.withUnsafeBytes { try p.parse($0) } } catch { return }
        #expect(r.consumed >= 0 && r.consumed <= buffer.count)
        if r.consumed == 0 { break }
        buffer.removeFirst(r.consumed)
    }
    _ = input.withUnsafeBytes { ArgSplitter.split($0) }
}

/// Same as Fuzz/targets/reply.swift.
func replayReply(_ input: Bytes) {
    input.withUnsafeBytes { buf in
        var pos = 0
        while pos < buf.count {
            guard let r = try? RESPParser.parse(buf, from: pos, maxBulk: 1 << 20) else { return }
            #expect(r.next > pos && r.next <= buf.count)
            pos = r.next
        }
    }
}

/// Same as Fuzz/targets/config.swift (`include` defused: it would read files).
func replayConfig(_ input: Bytes) {
    var text = String(decoding: input, as: UTF8.self)
    text = text.replacingOccurrences(of: "include", with: "inclxde", options: .caseInsensitive)
    guard let file = try? ConfigFile.parse(text, path: "fuzz.conf") else { return }
    _ = ConfigRewrite.rewrite(original: file.lines, entries: [(key: "port", lines: ["port 1234"]), (key: "save", lines: [])],
                              keyOf: { $0.first?.lowercased() })
    _ = try? ConfigFile.parseCommandLine(file.directives.flatMap { ["--" + $0.name] + $0.args })
}

@Suite struct FuzzRegressionTests {
    @Test func requestParserSurvivesCorpusAndCrashes() {
        let inputs = FuzzFiles.inputs("request")
        #expect(!inputs.isEmpty, "no seed corpus under \(FuzzFiles.root.path)/corpus/request")
        for (_, bytes) in inputs { _ = replayRequest(bytes) }
    }

    @Test func inlineParserSurvivesCorpusAndCrashes() {
        let inputs = FuzzFiles.inputs("inline")
        #expect(!inputs.isEmpty)
        for (_, bytes) in inputs { replayInline(bytes) }
    }

    @Test func replyParserSurvivesCorpusAndCrashes() {
        let inputs = FuzzFiles.inputs("reply")
        #expect(!inputs.isEmpty)
        for (_, bytes) in inputs { replayReply(bytes) }
    }

    @Test func configParserSurvivesCorpusAndCrashes() {
        let inputs = FuzzFiles.inputs("config")
        #expect(!inputs.isEmpty)
        for (_, bytes) in inputs { replayConfig(bytes) }
    }

    /// The replay really drives the parser: the hand-written seed pipeline yields its commands.
    @Test func seedPipelineParses() throws {
        let seed = Bytes("\u{0}*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n".utf8)
        #expect(replayRequest(seed) == 2)
    }

    /// Absurd lengths are protocol errors with Redis's texts, not allocations.
    @Test func absurdLengthsAreErrors() {
        var p = RequestParser()
        #expect(throws: RESPError("invalid multibulk length")) {
            try Bytes("*2147483648\r\n".utf8).withUnsafeBytes { try p.parse($0) }
        }
        var q = RequestParser()
        #expect(throws: RESPError("invalid bulk length")) {
            try Bytes("*1\r\n$9999999999\r\n".utf8).withUnsafeBytes { try q.parse($0) }
        }
        #expect(throws: RESPError.self) { _ = try RESPParser.parse(Bytes("*99999999999\r\n".utf8)) }
    }
}

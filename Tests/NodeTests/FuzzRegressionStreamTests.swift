import Foundation
import Testing
import Shared
@testable import Node

/// Replays every saved stream-payload fuzz input (Fuzz/corpus/streamrdb, Fuzz/crashes/streamrdb)
/// as Fuzz/targets/streamrdb.swift does: what the reader accepts must survive walking, writing
/// back and mutating; errors are fine, a crash fails the run.
@Suite struct FuzzRegressionStreamTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs() -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for kind in ["corpus", "crashes"] {
            let dir = root.appendingPathComponent(kind).appendingPathComponent("streamrdb")
            for n in ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() where !n.hasPrefix(".") {
                if let d = FileManager.default.contents(atPath: dir.appendingPathComponent(n).path) { out.append((n, [UInt8](d))) }
            }
        }
        return out
    }

    /// The fuzz target's body; returns the stream when the payload loaded.
    @discardableResult
    static func replay(_ input: [UInt8]) -> StreamValue? {
        guard !input.isEmpty else { return nil }
        let types = [RDB.typeStreamListpacks, RDB.typeStreamListpacks2, RDB.typeStreamListpacks3]
        let type = types.contains(input[0]) ? input[0] : types[Int(input[0]) % 3]
        var r = RDBReader(Array(input[1...]))
        guard let s = try? r.stream(type: type, at: 0) else { return nil }
        var ids: [StreamID] = []
        for reverse in [false, true] {
            var it = StreamIterator(s, start: nil, end: nil, reverse: reverse)
            while let (id, fields) = it.nextID() {
                _ = it.fieldPairs(fields)
                if !reverse { ids.append(id) }
            }
            var t = StreamIterator(s, start: nil, end: nil, reverse: reverse)
            t.skipTombstones = false
            while t.nextID() != nil {}
        }
        _ = s.radixTreeNodes
        _ = s.lastValidID
        for g in s.groups {
            _ = s.lag(of: g)
            g.pel.forEach { id, nack in _ = nack.consumer?.name; _ = s.contains(id) }
        }
        var w = RDBWriter(options: RDBWriter.Options())
        w.writeStream(s)
        var again = RDBReader(w.buffer)
        let copy = try? again.stream(type: RDB.typeStreamListpacks2, at: 0)
        #expect(copy?.length == s.length && copy?.groups.count == s.groups.count)
        try? AOFBaseWriter.rewriteStream([0x6B], s) { _ in }
        let dup = s.copy()
        for id in ids.prefix(5) { _ = dup.delete(id) }
        var a = StreamTrimArgs()
        a.strategy = .maxLen
        a.maxLen = Int64(ids.count / 2)
        _ = dup.trim(a)
        if s.lastID != .max {
            _ = try? s.append([[0x66], [0x76]][...], id: nil, seqGiven: true, nowMillis: s.lastID.ms, nodeMaxBytes: 4096, nodeMaxEntries: 100)
        }
        return s
    }

    /// The stream commands the fuzz target runs on an accepted payload.
    static func commands(_ h: StreamCommandTests.Harness, _ c: Client, _ s: StreamValue) {
        h.server.databases[0].clear()
        h.server.databases[0].set(Key("k"), .stream(s))
        let groups = s.groups.prefix(2).map { $0.name.text } + ["nogroup"]
        var pending: [String] = []
        for g in s.groups.prefix(1) { g.pel.forEach { id, _ in if pending.count < 4 { pending.append(id.text) } } }
        for cmd in [["XINFO", "STREAM", "k", "FULL"], ["XRANGE", "k", "-", "+"], ["XREVRANGE", "k", "+", "-"], ["DEBUG", "DIGEST"]] {
            c.argv = cmd.map { Bytes($0.utf8) }; h.server.processCommand(c); _ = h.take(c)
        }
        for g in groups {
            for cmd in [["XINFO", "CONSUMERS", "k", g], ["XPENDING", "k", g], ["XPENDING", "k", g, "IDLE", "1", "-", "+", "5"],
                        ["XREADGROUP", "GROUP", g, "c", "STREAMS", "k", "0"], ["XREADGROUP", "GROUP", g, "c", "STREAMS", "k", ">"],
                        ["XCLAIM", "k", g, "c", "1"] + pending + ["FORCE"], ["XAUTOCLAIM", "k", g, "c", "1", "0"], ["XACK", "k", g] + pending] {
                c.argv = cmd.map { Bytes($0.utf8) }; h.server.processCommand(c); _ = h.take(c)
            }
        }
        h.server.databases[0].clear()
    }

    @Test func streamPayloadsSurviveCorpusAndCrashes() throws {
        let inputs = Self.inputs()
        #expect(inputs.count >= 6, "no stream seeds under \(Self.root.path)/corpus/streamrdb")
        let h = try StreamCommandTests.Harness()
        let c = try h.client(1)
        for (_, bytes) in inputs {
            if let s = Self.replay(bytes) { Self.commands(h, c, s) }
        }
        // Payloads written by real redis-server load: the replay is not vacuous.
        for (name, bytes) in inputs where name.hasPrefix("seed-") {
            #expect(Self.replay(bytes) != nil, "\(name) should load")
        }
    }

    @Test func everyTruncationOfASeedIsAnError() throws {
        guard let (_, seed) = Self.inputs().first(where: { $0.0 == "seed-small-type19" }) else {
            Issue.record("seed-small-type19 missing"); return
        }
        for n in 1..<seed.count {
            var r = RDBReader(Array(seed[1..<n]))
            #expect(throws: RDBError.self) { _ = try r.stream(type: seed[0], at: 0) }
        }
    }
}

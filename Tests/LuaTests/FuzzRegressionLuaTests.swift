import Foundation
import Lua
import Testing

/// Replays every saved input of the `luaparse` fuzz target (Fuzz/corpus/luaparse and
/// Fuzz/crashes/luaparse) through the same driver as Fuzz/targets/luaparse.swift: each must
/// compile or raise a LuaError. The seeds (our differential scripts) must compile.
@Suite struct FuzzRegressionLuaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs() -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for kind in ["corpus", "crashes"] {
            let dir = root.appendingPathComponent(kind).appendingPathComponent("luaparse")
            for n in ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() where !n.hasPrefix(".") {
                if let d = FileManager.default.contents(atPath: dir.appendingPathComponent(n).path) { out.append((n, [UInt8](d))) }
            }
        }
        return out
    }

    /// As `fuzzLuaParseInput`; returns whether the input compiled.
    static func replay(_ L: LuaState, _ input: [UInt8]) -> Bool {
        do {
            _ = try L.load(input, chunkName: "=fuzz")
            _ = try L.load(input, chunkName: "@user_script")
            return true
        } catch {
            #expect(!error.message.isEmpty)
            return false
        }
    }

    @Test func everySavedInputCompilesOrFailsCleanly() {
        let inputs = Self.inputs()
        #expect(inputs.count >= 10, "no luaparse inputs under \(Self.root.path)")
        let L = LuaState()
        L.memoryLimit = 64 << 20
        for (name, input) in inputs {
            let ok = Self.replay(L, input)
            if name.hasPrefix("seed-") { #expect(ok, "seed \(name) no longer compiles") }
            L.collectIfNeeded()
        }
    }
}

import Foundation
import Lua
import Testing

/// Helpers shared by the interpreter tests.
enum LuaTest {
    static let scriptsDir: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")

    /// A state with every library, `print` writing into `output`.
    final class Session {
        let L = LuaState()
        var output: [UInt8] = []

        init(libraries: LuaLibraries = .all) {
            L.openLibraries(libraries)
            L.output = { [unowned self] bytes in self.output += bytes }
        }

        var text: String { String(decoding: output, as: UTF8.self) }

        /// Runs `code` and returns its results.
        @discardableResult
        func run(_ code: String, name: String = "=test") throws(LuaError) -> [LuaValue] {
            try L.run(code, chunkName: name)
        }

        /// Runs `code`, expecting it to fail; returns the error message.
        func error(_ code: String, name: String = "=test") -> String? {
            do {
                try L.run(code, chunkName: name)
                return nil
            } catch {
                return error.message
            }
        }

        /// The first result of `code` rendered as Lua's tostring would.
        func eval(_ code: String) throws(LuaError) -> String {
            let r = try run(code)
            guard let v = r.first else { return "<none>" }
            return try L.tostring(v).string
        }
    }

    /// Bytes of a file under Scripts/.
    static func file(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: scriptsDir.appendingPathComponent(name).path).map { [UInt8]($0) }
    }

    /// Names of the scripts in a folder of Scripts/ that have an expected output.
    static func scripts(in sub: String) -> [String] {
        let dir = sub.isEmpty ? scriptsDir : scriptsDir.appendingPathComponent(sub)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".lua") }.map { String($0.dropLast(4)) }.sorted()
            .filter { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0 + ".out").path) }
    }
}

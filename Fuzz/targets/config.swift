// Fuzz target: ConfigFile.parse (redis.conf syntax) and ConfigRewrite.rewrite over its lines.
// `include` would read files from disk: the fuzzer's input never names real files we care about,
// but to stay pure the word is defused.
import Shared

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if text.lowercased().contains("include") {
        text = text.replacingOccurrences("include", "inclxde")
    }
    guard let file = try? ConfigFile.parse(text, path: "fuzz.conf") else { return 0 }
    _ = ConfigRewrite.rewrite(original: file.lines,
                              entries: [(key: "port", lines: ["port 1234"]), (key: "save", lines: [])],
                              keyOf: { $0.first?.lowercased() })
    _ = try? ConfigFile.parseCommandLine(file.directives.flatMap { ["--" + $0.name] + $0.args })
    return 0
}

extension String {
    /// Case-insensitive literal replacement without Foundation.
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        let s = Array(self.utf8), pat = Array(a.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < s.count {
            if i + pat.count <= s.count,
               zip(s[i..<(i + pat.count)], pat).allSatisfy({ ($0 | 0x20) == ($1 | 0x20) }) {
                out.append(contentsOf: b.utf8); i += pat.count
            } else { out.append(s[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

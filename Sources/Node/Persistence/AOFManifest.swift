// The multi-part AOF manifest of Redis 7 (`<appenddirname>/<appendfilename>.manifest`): which
// base file and which incremental files make up the AOF, in order. Lines look like
// `file appendonly.aof.1.base.rdb seq 1 type b`. Pure: text in, model out, and back.
import Shared

/// The kind of a file listed in the manifest.
enum AOFFileType: String, Sendable {
    /// The base: an RDB preamble (`.base.rdb`) or commands (`.base.aof`).
    case base = "b"
    /// A base or incremental file replaced by a rewrite, waiting to be deleted.
    case history = "h"
    /// An incremental file of commands appended after the base.
    case incr = "i"
}

/// One `file <name> seq <n> type <t>` line.
struct AOFFileInfo: Equatable, Sendable {
    /// File name inside the AOF directory.
    var name: String
    /// Sequence number (bases and incrementals are numbered separately).
    var seq: Int
    /// Base, incremental or history.
    var type: AOFFileType
}

/// Why a manifest could not be read; the text is what start-up logs.
struct AOFManifestError: Error, CustomStringConvertible {
    /// What is wrong, with the line number.
    let message: String
    /// The message.
    var description: String { message }
}

/// The parsed manifest.
struct AOFManifest: Equatable {
    /// The base file, if any.
    var base: AOFFileInfo? = nil
    /// Incremental files in replay order.
    var incrs: [AOFFileInfo] = []
    /// Replaced files not yet deleted.
    var history: [AOFFileInfo] = []
    /// Highest base sequence handed out; the next rewrite's base gets this + 1.
    var currentBaseSeq = 0
    /// Highest incremental sequence handed out.
    var currentIncrSeq = 0

    /// Every listed file, base first, then incrementals in order (what loading reads).
    var loadOrder: [AOFFileInfo] { (base.map { [$0] } ?? []) + incrs }

    // MARK: - Names

    /// `<prefix>.<seq>.base.rdb` or `.base.aof`, as Redis names bases.
    static func baseName(_ prefix: String, seq: Int, rdbPreamble: Bool) -> String {
        "\(prefix).\(seq).base.\(rdbPreamble ? "rdb" : "aof")"
    }

    /// `<prefix>.<seq>.incr.aof`.
    static func incrName(_ prefix: String, seq: Int) -> String { "\(prefix).\(seq).incr.aof" }

    /// The manifest's own file name.
    static func manifestName(_ prefix: String) -> String { "\(prefix).manifest" }

    /// Where the incremental file lives while `appendonly yes` waits for its first rewrite.
    static func tempIncrName(_ prefix: String) -> String { "temp-\(prefix).incr" }

    /// Hands out the next incremental file (the caller persists the manifest).
    mutating func addIncr(prefix: String) -> AOFFileInfo {
        currentIncrSeq += 1
        let info = AOFFileInfo(name: AOFManifest.incrName(prefix, seq: currentIncrSeq), seq: currentIncrSeq, type: .incr)
        incrs.append(info)
        return info
    }

    // MARK: - Parsing

    /// Parses manifest text as Redis's aofLoadManifestFromFile: `#` comments, key/value pairs in
    /// any order, at most one base, increasing incremental sequence numbers.
    static func parse(_ text: [UInt8]) throws(AOFManifestError) -> AOFManifest {
        var m = AOFManifest()
        var lineNo = 0
        for rawLine in text.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNo += 1
            var line = Array(rawLine)
            while let last = line.last, last == 0x0D || last == 0x20 || last == 0x09 { line.removeLast() }
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            guard line.count <= 1024 else { throw AOFManifestError(message: "The AOF manifest file contains too long line (line \(lineNo))") }
            guard let words = ArgSplitter.split(line), words.count % 2 == 0, !words.isEmpty else {
                throw AOFManifestError(message: "Invalid AOF manifest file format (line \(lineNo))")
            }
            var name: String? = nil, seq: Int? = nil, type: AOFFileType? = nil
            for i in stride(from: 0, to: words.count, by: 2) {
                let k = String(decoding: words[i], as: UTF8.self), v = String(decoding: words[i + 1], as: UTF8.self)
                switch k {
                case "file": name = v
                case "seq": seq = Int(v)
                case "type": type = AOFFileType(rawValue: v)
                default: break  // unknown keys are skipped, as Redis does (forward compatibility)
                }
            }
            guard let name, !name.isEmpty, !name.contains("/"), let seq, seq > 0, let type else {
                throw AOFManifestError(message: "Invalid AOF manifest file format (line \(lineNo))")
            }
            let info = AOFFileInfo(name: name, seq: seq, type: type)
            switch type {
            case .base:
                guard m.base == nil else { throw AOFManifestError(message: "Found duplicate base file information (line \(lineNo))") }
                m.base = info
                m.currentBaseSeq = seq
            case .history:
                m.history.append(info)
            case .incr:
                guard seq > m.currentIncrSeq else { throw AOFManifestError(message: "Found a non-monotonic sequence number (line \(lineNo))") }
                m.incrs.append(info)
                m.currentIncrSeq = seq
            }
        }
        if m.base == nil && m.incrs.isEmpty && m.history.isEmpty {
            throw AOFManifestError(message: "Found an empty AOF manifest")
        }
        return m
    }

    // MARK: - Rendering

    /// The manifest text: base, history, then incrementals, as Redis writes it.
    func render() -> String {
        var out = ""
        func line(_ f: AOFFileInfo) {
            let needsQuote = f.name.utf8.contains { $0 <= 0x20 || $0 >= 0x7F || $0 == 0x22 || $0 == 0x27 || $0 == 0x5C }
            let name = needsQuote ? ConfigQuote.repr(f.name) : f.name
            out += "file \(name) seq \(f.seq) type \(f.type.rawValue)\n"
        }
        if let base { line(base) }
        for h in history { line(h) }
        for i in incrs { line(i) }
        return out
    }
}

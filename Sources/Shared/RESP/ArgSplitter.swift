// Redis's sdssplitargs: the quoting rules shared by inline commands, redis.conf lines and
// redis-cli. Double quotes take C escapes (\n \r \t \b \a \\ \" \xHH); single quotes take \'.
// A closing quote must be followed by a space or the end of the line.

/// Splits a line into arguments the way Redis does; nil for unbalanced quotes.
public enum ArgSplitter {
    public static func split(_ line: some Collection<UInt8>) -> [Bytes]? {
        let s = Array(line)
        var args: [Bytes] = []
        var i = 0
        let n = s.count
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        while true {
            while i < n && isSpace(s[i]) { i += 1 }
            if i >= n { return args }
            var inDQ = false, inSQ = false, done = false
            var cur: Bytes = []
            while !done {
                if inDQ {
                    if i >= n { return nil }
                    let c = s[i]
                    if c == 0x5C && i + 3 < n && s[i + 1] == 0x78, let h = hex(s[i + 2]), let l = hex(s[i + 3]) {
                        cur.append(h << 4 | l); i += 3
                    } else if c == 0x5C && i + 1 < n {
                        i += 1
                        switch s[i] {
                        case 0x6E: cur.append(0x0A)
                        case 0x72: cur.append(0x0D)
                        case 0x74: cur.append(0x09)
                        case 0x62: cur.append(0x08)
                        case 0x61: cur.append(0x07)
                        default: cur.append(s[i])
                        }
                    } else if c == 0x22 {
                        if i + 1 < n && !isSpace(s[i + 1]) { return nil }
                        done = true
                    } else {
                        cur.append(c)
                    }
                } else if inSQ {
                    if i >= n { return nil }
                    let c = s[i]
                    if c == 0x5C && i + 1 < n && s[i + 1] == 0x27 {
                        i += 1; cur.append(0x27)
                    } else if c == 0x27 {
                        if i + 1 < n && !isSpace(s[i + 1]) { return nil }
                        done = true
                    } else {
                        cur.append(c)
                    }
                } else {
                    if i >= n { done = true; break }
                    let c = s[i]
                    if isSpace(c) { done = true }
                    else if c == 0x22 { inDQ = true }
                    else if c == 0x27 { inSQ = true }
                    else { cur.append(c) }
                }
                if i < n { i += 1 }
            }
            args.append(cur)
        }
    }

    /// Quotes a value for writing back into a config file, the way Redis's rewrite does
    /// (plain when safe, else double-quoted with escapes).
    public static func quote(_ b: Bytes) -> String {
        let safe = !b.isEmpty && b.allSatisfy { c in c > 0x20 && c < 0x7F && c != 0x22 && c != 0x27 && c != 0x5C }
        if safe { return String(decoding: b, as: UTF8.self) }
        return "\"" + escape(b) + "\""
    }

    /// Redis's sdscatrepr without the surrounding quotes: printable ASCII as is, C escapes for
    /// `\\ \" \n \r \t \a \b`, `\xHH` for the rest (MONITOR lines, CONFIG GET of odd values).
    public static func escape(_ b: some Sequence<UInt8>) -> String {
        var out = ""
        let hex = Array("0123456789abcdef".unicodeScalars)
        for c in b {
            switch c {
            case 0x5C: out += "\\\\"
            case 0x22: out += "\\\""
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x07: out += "\\a"
            case 0x08: out += "\\b"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(c))
            default:
                out += "\\x"
                out.unicodeScalars.append(hex[Int(c >> 4)])
                out.unicodeScalars.append(hex[Int(c & 15)])
            }
        }
        return out
    }
}

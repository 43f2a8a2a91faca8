// LCS (t_string.c) and ZINTERCARD (t_zset.c): the two Redis 7 "how much do these have in common"
// commands that vigil lacked. SINTERCARD lives with the set commands; its key positions are
// declared here with ZINTERCARD's, since both take a numkeys argument.
import Shared

extension CommandTable {
    static var intersections: [CommandSpec] {
        [
            CommandSpec("lcs", -3, [.readonly], ["read", "string", "slow"], keys: (1, 2, 1)) { s, c in try s.lcsCommand(c) },
            CommandSpec("zintercard", -3, [.readonly], ["read", "sortedset", "slow"]) { s, c in try s.zintercardCommand(c) }
                .movable(numkeysKeys(at: 1)),
        ]
    }

    /// Key positions of `cmd numkeys key [key ...] ...`: none when numkeys is not a count the
    /// arguments can hold (COMMAND GETKEYS then reports invalid arguments, as Redis does).
    static func numkeysKeys(at index: Int) -> ([Bytes]) -> [Int] {
        { argv in
            guard index < argv.count, let n = NumberFormat.parseInt(argv[index]), n > 0,
                  n <= Int64(argv.count - index - 1) else { return [] }
            return Array((index + 1)...(index + Int(n)))
        }
    }
}

extension Server {
    /// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
    func lcsCommand(_ c: Client) throws {
        let va = lookupRead(c.db, c.key(1)), vb = lookupRead(c.db, c.key(2))
        var a: Bytes = [], b: Bytes = []
        switch (va, vb) {
        case (nil, nil): break
        case (.string(let x)?, nil): a = x
        case (nil, .string(let y)?): b = y
        case (.string(let x)?, .string(let y)?): a = x; b = y
        default: throw CommandError("ERR The specified keys must contain string values")
        }
        var getLen = false, getIdx = false, withMatchLen = false
        var minMatchLen = 0
        var j = 3
        while j < c.argc {
            let more = c.argc - 1 - j
            switch c.arg(j).text.lowercased() {
            case "idx": getIdx = true
            case "len": getLen = true
            case "withmatchlen": withMatchLen = true
            case "minmatchlen" where more > 0:
                minMatchLen = max(0, Int(try integerArgument(c.arg(j + 1))))
                j += 1
            default: throw CommandError.syntax
            }
            j += 1
        }
        if getLen && getIdx { throw CommandError("ERR If you want both the length and indexes, please just use IDX.") }
        if a.count >= Int(UInt32.max) - 1 || b.count >= Int(UInt32.max) - 1 { throw CommandError("ERR String too long for LCS") }
        let alen = a.count, blen = b.count
        let (cells, overflow) = (alen + 1).multipliedReportingOverflow(by: blen + 1)
        if overflow || cells > config.protoMaxBulkLen / 4 {
            throw CommandError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        }
        // The dynamic-programming table of LCS lengths of every pair of prefixes.
        var table = [UInt32](repeating: 0, count: cells)
        let w = blen + 1
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                table.withUnsafeMutableBufferPointer { t in
                    guard alen > 0 && blen > 0 else { return }
                    for i in 1...alen {
                        for k in 1...blen {
                            t[i * w + k] = pa[i - 1] == pb[k - 1] ? t[(i - 1) * w + k - 1] + 1
                                : max(t[(i - 1) * w + k], t[i * w + k - 1])
                        }
                    }
                }
            }
        }
        let total = Int(table[alen * w + blen])
        // Walk back from the end, collecting the common subsequence and its matching ranges.
        var result = Bytes(repeating: 0, count: total)
        var idx = total
        var ranges: [(a0: Int, a1: Int, b0: Int, b1: Int)] = []
        var aStart = alen, aEnd = 0, bStart = 0, bEnd = 0  // aStart == alen: no range open
        var i = alen, k = blen
        let computeLCS = getIdx || !getLen
        while computeLCS && i > 0 && k > 0 {
            var emit = false
            if a[i - 1] == b[k - 1] {
                result[idx - 1] = a[i - 1]
                if aStart == alen {
                    aStart = i - 1; aEnd = i - 1; bStart = k - 1; bEnd = k - 1
                } else if aStart == i && bStart == k {
                    aStart -= 1; bStart -= 1
                } else {
                    emit = true
                }
                if aStart == 0 || bStart == 0 { emit = true }
                idx -= 1; i -= 1; k -= 1
            } else {
                if table[(i - 1) * w + k] > table[i * w + k - 1] { i -= 1 } else { k -= 1 }
                if aStart != alen { emit = true }
            }
            if emit {
                let matchLen = aEnd - aStart + 1
                if minMatchLen == 0 || matchLen >= minMatchLen { ranges.append((aStart, aEnd, bStart, bEnd)) }
                aStart = alen
            }
        }
        if getIdx {
            c.out.mapHeader(2)
            c.out.bulk("matches")
            c.out.arrayHeader(ranges.count)
            for r in ranges {
                c.out.arrayHeader(withMatchLen ? 3 : 2)
                c.out.arrayHeader(2); c.out.integer(r.a0); c.out.integer(r.a1)
                c.out.arrayHeader(2); c.out.integer(r.b0); c.out.integer(r.b1)
                if withMatchLen { c.out.integer(r.a1 - r.a0 + 1) }
            }
            c.out.bulk("len")
            c.out.integer(total)
        } else if getLen {
            c.out.integer(total)
        } else {
            c.out.bulk(result)
        }
    }

    /// ZINTERCARD numkeys key [key ...] [LIMIT limit]: the size of the intersection (sets count
    /// as sorted sets), stopping at `limit` when one is given.
    func zintercardCommand(_ c: Client) throws {
        let n = try integerArgument(c.arg(1))
        if n < 1 { throw CommandError("ERR at least 1 input key is needed for 'zintercard' command") }
        if n > Int64(c.argc - 2) { throw CommandError.syntax }
        var members: [[Key]] = []
        var tests: [(Key) -> Bool] = []
        var empty = false
        for i in 2..<(2 + Int(n)) {
            switch lookupRead(c.db, c.key(i)) {
            case nil: empty = true
            case .zset(let z)?: members.append(Array(z.scores.keys)); tests.append { z.scores[$0] != nil }
            case .set(let s)?: members.append(Array(s.members)); tests.append { s.members.contains($0) }
            default: throw CommandError.wrongType
            }
        }
        var limit = 0
        var j = 2 + Int(n)
        while j < c.argc {
            guard c.arg(j).text.lowercased() == "limit", c.argc - j >= 2 else { throw CommandError.syntax }
            guard let l = NumberFormat.parseInt(c.arg(j + 1)), l >= 0 else { throw CommandError("ERR LIMIT can't be negative") }
            limit = Int(l)
            j += 2
        }
        if empty { c.out.integer(0); return }
        // Scan the smallest input, test membership in the others.
        let smallest = members.indices.min { members[$0].count < members[$1].count } ?? 0
        var count = 0
        for m in members[smallest] {
            if tests.indices.allSatisfy({ $0 == smallest || tests[$0](m) }) {
                count += 1
                if limit > 0 && count >= limit { break }
            }
        }
        c.out.integer(count)
    }
}

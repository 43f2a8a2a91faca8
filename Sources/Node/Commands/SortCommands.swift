// SORT and SORT_RO (sort.c): sort a list, set or sorted set numerically or lexicographically,
// by the element itself or by keys/hash fields named from a pattern, with LIMIT, GET and STORE.
// Element order, ties included, follows Redis: a full sort is stable (glibc's merge sort), a
// BY ... LIMIT sort is Redis's partial quicksort (RedisSort). STORE replicates as the stored
// list (DEL + RPUSH), not as a new sort on the replica.
import Shared
#if canImport(Glibc)
import Glibc
#endif

extension CommandTable {
    static var sort: [CommandSpec] {
        let cats = ["set", "sortedset", "list", "slow", "dangerous"]
        return [
            CommandSpec("sort", -2, [.write, .denyOOM], ["write"] + cats, keys: (1, 1, 1)) { s, c in
                try s.sortCommand(c, readOnly: false)
            }.movable(sortKeys),
            CommandSpec("sort_ro", -2, [.readonly], ["read"] + cats, keys: (1, 1, 1)) { s, c in
                try s.sortCommand(c, readOnly: true)
            },
        ]
    }

    /// SORT's keys as Redis's sortGetKeys finds them: the source and the key after the last
    /// STORE, skipping the arguments of LIMIT, GET and BY.
    static func sortKeys(_ argv: [Bytes]) -> [Int] {
        var keys = [1]
        var store: Int? = nil
        var i = 2
        while i < argv.count {
            switch argv[i].text.lowercased() {
            case "limit": i += 2
            case "store" where i + 1 < argv.count: store = i + 1
            case "get", "by": i += 1
            default: break
            }
            i += 1
        }
        if let store { keys.append(store) }
        return keys
    }
}

/// What the sort itself compares: the weight, or where the comparison string sits in the arena
/// (`length` -1: no BY value), and which element it belongs to.
private struct SortKey {
    var score: Double
    var index: Int
    var offset: Int
    var length: Int
}

/// One element being sorted: the element, its numeric weight or its comparison string.
private struct SortItem {
    var element: Bytes
    var score: Double = 0
    /// The BY value for ALPHA sorts by pattern (nil when the key or field is missing).
    var compare: Bytes? = nil
}

extension Server {
    /// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dst]
    func sortCommand(_ c: Client, readOnly: Bool) throws {
        var desc = false, alpha = false
        var limitStart = 0, limitCount = -1
        var storeKey: Bytes? = nil
        var sortBy: Bytes? = nil
        var dontSort = false
        var gets: [Bytes] = []
        let fullKeyAccess = c.user.map { u in lookupCommand(c.argv[0]).map { u.hasUnrestrictedKeyAccess($0.spec, c.argv, .read) } ?? false } ?? true
        var j = 2
        while j < c.argc {
            let left = c.argc - j - 1
            switch c.arg(j).text.lowercased() {
            case "asc": desc = false
            case "desc": desc = true
            case "alpha": alpha = true
            case "limit" where left >= 2:
                limitStart = Int(try integerArgument(c.arg(j + 1)))
                limitCount = Int(try integerArgument(c.arg(j + 2)))
                j += 2
            case "store" where !readOnly && left >= 1:
                storeKey = c.arg(j + 1)
                j += 1
            case "by" where left >= 1:
                sortBy = c.arg(j + 1)
                if Server.cString(c.arg(j + 1)).contains(UInt8(ascii: "*")) {
                    if !fullKeyAccess { throw CommandError("ERR BY option of SORT denied due to insufficient ACL permissions.") }
                } else {
                    dontSort = true
                }
                j += 1
            case "get" where left >= 1:
                if !fullKeyAccess { throw CommandError("ERR GET option of SORT denied due to insufficient ACL permissions.") }
                gets.append(c.arg(j + 1))
                j += 1
            default:
                throw CommandError.syntax
            }
            j += 1
        }

        let source = lookupRead(c.db, c.key(1))
        var isSet = false, isZSet = false
        switch source {
        case nil, .list?: break
        case .set?: isSet = true
        case .zset?: isZSet = true
        default: throw CommandError.wrongType
        }
        // An unsorted set is in hash order; stored results and a script's view (which its
        // effects may depend on) must not depend on it.
        if dontSort && isSet && (storeKey != nil || c.flags.contains(.script)) {
            dontSort = false
            alpha = true
            sortBy = nil
        }
        var length: Int
        switch source {
        case .list(let l)?: length = l.count
        case .set(let s)?: length = s.count
        case .zset(let z)?: length = z.count
        default: length = 0
        }
        var start = min(max(limitStart, 0), length)
        let count = min(max(limitCount, -1), length)
        var end = count < 0 ? length - 1 : start + count - 1
        if start >= length { start = length - 1; end = length - 2 }
        if end >= length { end = length - 1 }

        // Load the elements; lists and sorted sets that need no sorting load just the range.
        var items: [SortItem] = []
        switch source {
        case .list(let l)?:
            if dontSort {
                if end >= start {
                    let n = end - start + 1
                    if desc {
                        for k in 0..<n { items.append(SortItem(element: l[length - start - 1 - k])) }
                    } else {
                        for k in 0..<n { items.append(SortItem(element: l[start + k])) }
                    }
                    end -= start
                    start = 0
                }
            } else {
                items = l.elements.map { SortItem(element: $0) }
            }
        case .set(let s)?:
            items = s.members.map { SortItem(element: $0.bytes) }
        case .zset(let z)?:
            z.wasSkiplist = true  // Redis converts a sorted set to a skiplist to sort it
            if dontSort {
                if end >= start {
                    let slice = desc ? z.index.slice(length - 1 - end, length - start, reverse: true)
                        : z.index.slice(start, end + 1, reverse: false)
                    items = slice.map { SortItem(element: $0.member) }
                }
                end -= start
                start = 0
            } else {
                items = z.scores.keys.map { SortItem(element: $0.bytes) }
            }
        default:
            break
        }

        var conversionError = false
        if !dontSort {
            for k in items.indices {
                let by: Bytes
                if let pattern = sortBy {
                    guard let v = lookupByPattern(c.db, pattern, items[k].element) else { continue }
                    by = v
                } else {
                    by = items[k].element
                }
                if alpha {
                    if sortBy != nil { items[k].compare = by }
                } else if let d = Server.sortWeight(by) {
                    items[k].score = d
                } else {
                    conversionError = true
                }
            }
            let byPattern = sortBy != nil, store = storeKey != nil
            // The sort compares plain values: the weight, or a string in one arena (C strings for
            // strcoll, raw bytes for STORE), so no reference counting happens per comparison.
            var keys = items.indices.map { SortKey(score: items[$0].score, index: $0, offset: 0, length: -1) }
            var arena: [UInt8] = []
            if alpha {
                for k in items.indices {
                    guard let str = byPattern ? items[k].compare : items[k].element else { continue }
                    let bytes = store ? str[...] : Server.cString(str)
                    keys[k].offset = arena.count
                    keys[k].length = bytes.count
                    arena.append(contentsOf: bytes)
                    if !store { arena.append(0) }
                }
            }
            let bytewise = store || Server.collationIsBytewise()
            let elements = items
            arena.withUnsafeBufferPointer { ab in
                let base = ab.baseAddress
                let cmp: (SortKey, SortKey) -> Int = { a, b in
                    var r: Int
                    if !alpha {
                        r = a.score > b.score ? 1 : a.score < b.score ? -1 : compareBytes(elements[a.index].element, elements[b.index].element)
                    } else if a.length < 0 || b.length < 0 {
                        // A missing BY key or field sorts first.
                        r = a.length < 0 && b.length < 0 ? 0 : a.length < 0 ? -1 : 1
                    } else if let base, !bytewise {
                        r = base.advanced(by: a.offset).withMemoryRebound(to: CChar.self, capacity: a.length + 1) { x in
                            base.advanced(by: b.offset).withMemoryRebound(to: CChar.self, capacity: b.length + 1) { y in
                                Int(strcoll(x, y))
                            }
                        }
                    } else if let base {
                        let m = memcmp(base + a.offset, base + b.offset, min(a.length, b.length))
                        r = m != 0 ? Int(m) : a.length - b.length
                    } else {
                        r = 0  // every string empty
                    }
                    return desc ? -r : r
                }
                if sortBy != nil && (start != 0 || end != keys.count - 1) {
                    RedisSort.partial(&keys, lo: start, hi: end, cmp)
                } else if end >= start && end + 1 <= keys.count / 4 {
                    // Redis sorts everything stably; a stable order is the order of (comparison,
                    // position), so selecting just the first end+1 under it gives the same range.
                    RedisSort.smallest(&keys, count: end + 1) { a, b in
                        let r = cmp(a, b)
                        return r != 0 ? r < 0 : a.index < b.index
                    }
                } else {
                    keys.sort { a, b in
                        let r = cmp(a, b)
                        return r != 0 ? r < 0 : a.index < b.index
                    }
                }
            }
            // Only positions up to `end` are ever read.
            items = keys.prefix(max(0, end + 1)).map { elements[$0.index] }
        }

        if conversionError { throw CommandError("ERR One or more scores can't be converted into double") }
        let range = end >= start ? start...end : nil
        guard let storeKey else {
            let n = range?.count ?? 0
            c.out.arrayHeader(gets.isEmpty ? n : gets.count * n)
            if let range {
                for k in range {
                    if gets.isEmpty { c.out.bulk(items[k].element) }
                    for g in gets { c.out.bulkOrNull(lookupByPattern(c.db, g, items[k].element)) }
                }
            }
            return
        }
        var result: [Bytes] = []
        if let range {
            for k in range {
                if gets.isEmpty { result.append(items[k].element) }
                for g in gets { result.append(lookupByPattern(c.db, g, items[k].element) ?? []) }
            }
        }
        let dst = Key(storeKey)
        if result.isEmpty {
            if lookupWrite(c.db, dst) != nil, c.db.remove(dst) != nil {
                keyWritten(c.db, dst)
                notifyKeyspaceEvent(.generic, "del", c.db, dst)
            }
            propagateDataWrite(c, as: [[Array("DEL".utf8), storeKey]])
        } else {
            c.db.set(dst, .list(ListValue(result)))
            keyWritten(c.db, dst, dirty: result.count)
            notifyKeyspaceEvent(.list, "sortstore", c.db, dst)
            propagateDataWrite(c, as: [[Array("DEL".utf8), storeKey], [Array("RPUSH".utf8), storeKey] + result])
        }
        c.out.integer(result.count)
    }

    /// The weight of an element for a numeric sort: strtod over the C string (so leading blanks,
    /// hex and an empty string are accepted, as in Redis), nil on trailing garbage, overflow or NaN.
    private static func sortWeight(_ b: Bytes) -> Double? {
        if let v = NumberFormat.parseInt(b) { return Double(v) }
        var cs = cString(b).map { CChar(bitPattern: $0) }
        cs.append(0)
        return cs.withUnsafeMutableBufferPointer { p -> Double? in
            guard let base = p.baseAddress else { return nil }
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let d = strtod(base, &end)
            guard let end, end.pointee == 0, errno != ERANGE, !d.isNaN else { return nil }
            return d
        }
    }

    /// The bytes before the first NUL: what C string functions see of a value.
    static func cString(_ b: Bytes) -> ArraySlice<UInt8> {
        b.firstIndex(of: 0).map { b[..<$0] } ?? b[...]
    }

    /// Whether strcoll in the collation locale (set from the environment at start, as Redis
    /// does) is plain byte order, so comparisons can skip it.
    static func collationIsBytewise() -> Bool {
        guard let name = setlocale(LC_COLLATE, nil) else { return true }
        let s = String(cString: name)
        return s == "C" || s == "POSIX"
    }

    /// SORT's BY/GET patterns (lookupKeyByPattern): `#` is the element itself; the first `*` is
    /// replaced by the element; `key->field` reads a hash field. nil when there is no `*`, the key
    /// is missing or holds the wrong type.
    func lookupByPattern(_ db: Database, _ pattern: Bytes, _ element: Bytes) -> Bytes? {
        let c = Server.cString(pattern)
        if c.count == 1 && c.first == UInt8(ascii: "#") { return element }
        guard let star = c.firstIndex(of: UInt8(ascii: "*")) else { return nil }
        var fieldLen = 0
        var i = star + 1
        while i + 1 < c.endIndex {
            if c[i] == UInt8(ascii: "-") && c[i + 1] == UInt8(ascii: ">") {
                if i + 2 < c.endIndex { fieldLen = pattern.count - i - 2 }
                break
            }
            i += 1
        }
        let postfixLen = pattern.count - (star + 1) - (fieldLen > 0 ? fieldLen + 2 : 0)
        let keyBytes = Array(pattern[..<star]) + element + pattern[(star + 1)..<(star + 1 + postfixLen)]
        guard let v = lookupRead(db, Key(keyBytes)) else { return nil }
        if fieldLen > 0 {
            guard case .hash(let h) = v else { return nil }
            return h.fields[Key(Array(pattern[(pattern.count - fieldLen)...]))]
        }
        guard case .string(let s) = v else { return nil }
        return s
    }
}

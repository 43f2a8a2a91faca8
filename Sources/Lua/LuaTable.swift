// Tables, following Lua 5.1's ltable.c: an array part plus a power-of-two hash part whose
// collisions chain through free nodes (Brent's variation), the same main positions and the same
// rehash sizing. Same layout means `pairs` visits string keys in redis-server's order and `#` finds
// the same border in tables with holes.

nonisolated(unsafe) let sharedDummyNode: UnsafeMutablePointer<Node> = {
    let n = UnsafeMutablePointer<Node>.allocate(capacity: 1)
    n.initialize(to: Node(value: .nil, key: .nil, next: -1, deadKey: false))
    return n
}()

/// Largest array part (2^26), as Lua's MAXASIZE.
let maxArrayBits = 26

extension LuaTable {
    @inline(__always) var sizeNode: Int { 1 << Int(p.pointee.lsizenode) }
    @inline(__always) var nodes: UnsafeMutablePointer<Node> { p.pointee.node }
    @inline(__always) var arraySize: Int { Int(p.pointee.sizeArray) }

    /// The table's metatable.
    public var metatable: LuaTable? { p.pointee.metatable }

    /// Whether writes raise "Attempt to modify a readonly table" (Redis's protected tables).
    public var isReadonly: Bool {
        get { p.pointee.readonly }
        nonmutating set { p.pointee.readonly = newValue }
    }

    // MARK: - Main positions

    @inline(__always) func hashModIndex(_ n: UInt32) -> Int {
        Int(n % UInt32((sizeNode - 1) | 1))
    }

    @inline(__always) func numberPosition(_ d: Double) -> Int {
        if d == 0 { return 0 }
        let bits = d.bitPattern
        let sum = UInt32(truncatingIfNeeded: bits) &+ UInt32(truncatingIfNeeded: bits >> 32)
        return hashModIndex(sum)
    }

    @inline(__always) func mainPosition(_ key: LuaValue) -> Int {
        switch key {
        case .number(let d): return numberPosition(d)
        case .string(let s): return Int(s.hash) & (sizeNode - 1)
        case .bool(let b): return (b ? 1 : 0) & (sizeNode - 1)
        default: return hashModIndex(UInt32(truncatingIfNeeded: key.objectAddress))
        }
    }

    // MARK: - Reads

    /// Raw read of an integer key.
    @inline(__always) public func get(int k: Int) -> LuaValue {
        if UInt(bitPattern: k &- 1) < UInt(arraySize) { return p.pointee.array![k - 1] }
        return getHashNumber(Double(k))
    }

    @inline(__always) func getHashNumber(_ d: Double) -> LuaValue {
        let ns = nodes
        var i = numberPosition(d)
        while true {
            let n = ns + i
            if case .number(let kd) = n.pointee.key, kd == d { return n.pointee.value }
            i = Int(n.pointee.next)
            if i < 0 { return .nil }
        }
    }

    /// Raw read of a string key.
    @inline(__always) public func get(string key: LuaString) -> LuaValue {
        let ns = nodes
        var i = Int(key.hash) & (sizeNode - 1)
        while true {
            let n = ns + i
            if case .string(let ks) = n.pointee.key, ks.p == key.p { return n.pointee.value }
            i = Int(n.pointee.next)
            if i < 0 { return .nil }
        }
    }

    /// Raw read (`rawget`).
    @inline(__always) public func get(_ key: LuaValue) -> LuaValue {
        switch key {
        case .string(let s): return get(string: s)
        case .number(let d):
            if let k = luaArrayIndex(d) { return get(int: k) }
            return getGeneric(key)
        case .nil: return .nil
        default: return getGeneric(key)
        }
    }

    func getGeneric(_ key: LuaValue) -> LuaValue {
        let ns = nodes
        var i = mainPosition(key)
        while true {
            let n = ns + i
            if !n.pointee.deadKey && LuaValue.rawEquals(n.pointee.key, key) { return n.pointee.value }
            i = Int(n.pointee.next)
            if i < 0 { return .nil }
        }
    }

    /// Node index holding `key`, or nil (for `next` and in-place updates).
    func findNode(_ key: LuaValue) -> Int? {
        let ns = nodes
        var i = mainPosition(key)
        while true {
            let n = ns + i
            if !n.pointee.deadKey && LuaValue.rawEquals(n.pointee.key, key) { return i }
            i = Int(n.pointee.next)
            if i < 0 { return nil }
        }
    }

    /// Slot of an existing key (array or hash), or nil: writes go through `LuaState.tableSlot`.
    @inline(__always) func existingSlot(_ key: LuaValue) -> UnsafeMutablePointer<LuaValue>? {
        switch key {
        case .string(let s):
            let ns = nodes
            var i = Int(s.hash) & (sizeNode - 1)
            while true {
                let n = ns + i
                if case .string(let ks) = n.pointee.key, ks.p == s.p {
                    return UnsafeMutableRawPointer(n).assumingMemoryBound(to: LuaValue.self)
                }
                i = Int(n.pointee.next)
                if i < 0 { return nil }
            }
        case .number(let d):
            if let k = luaArrayIndex(d), UInt(bitPattern: k &- 1) < UInt(arraySize) { return p.pointee.array! + (k - 1) }
            guard let i = findNode(key) else { return nil }
            return UnsafeMutableRawPointer(nodes + i).assumingMemoryBound(to: LuaValue.self)
        case .nil: return nil
        default:
            guard let i = findNode(key) else { return nil }
            return UnsafeMutableRawPointer(nodes + i).assumingMemoryBound(to: LuaValue.self)
        }
    }

    // MARK: - Length

    /// The border `#t` finds (luaH_getn).
    public var length: Int {
        var j = UInt(arraySize)
        if j > 0, p.pointee.array![Int(j) - 1].isNil {
            var i: UInt = 0
            while j - i > 1 {
                let m = (i + j) / 2
                if p.pointee.array![Int(m) - 1].isNil { j = m } else { i = m }
            }
            return Int(i)
        }
        if p.pointee.dummy { return Int(j) }
        return unboundSearch(j)
    }

    private func unboundSearch(_ start: UInt) -> Int {
        var i = start
        var j = start + 1
        while !get(int: Int(j)).isNil {
            i = j
            j *= 2
            if j > UInt(Int32.max) {
                var k = 1
                while !get(int: k).isNil { k += 1 }
                return k - 1
            }
        }
        while j - i > 1 {
            let m = (i + j) / 2
            if get(int: Int(m)).isNil { j = m } else { i = m }
        }
        return Int(i)
    }
}

// MARK: - Allocation, writes and rehash (need the state for accounting and errors)

extension LuaState {
    static let tableHeaderBytes = 64

    /// A new table with room for `narray` array items and `nhash` hash items.
    func rawNewTable(narray: Int, nhash: Int) -> LuaTable {
        let t = UnsafeMutablePointer<TableObject>.allocate(capacity: 1)
        t.initialize(to: TableObject(gcNext: allTables, array: nil, node: sharedDummyNode, metatable: nil,
                                     sizeArray: 0, lastFree: 0, lsizenode: 0, dummy: true, marked: 0,
                                     flags: 0xFF, readonly: false))
        allTables = t
        account(LuaState.tableHeaderBytes)
        let table = LuaTable(t)
        if narray > 0 { setArrayVector(table, narray) }
        if nhash > 0 { setNodeVector(table, nhash) }
        return table
    }

    /// A new, empty table.
    public func newTable(narray: Int = 0, nhash: Int = 0) -> LuaTable {
        rawNewTable(narray: max(0, min(narray, 1 << maxArrayBits)), nhash: max(0, min(nhash, 1 << maxArrayBits)))
    }

    func freeTableStorage(_ t: UnsafeMutablePointer<TableObject>) {
        let table = LuaTable(t)
        account(-(LuaState.tableHeaderBytes + table.arraySize * 16 + (t.pointee.dummy ? 0 : table.sizeNode * MemoryLayout<Node>.stride)))
        t.pointee.array?.deallocate()
        if !t.pointee.dummy { t.pointee.node.deallocate() }
    }

    func setArrayVector(_ t: LuaTable, _ size: Int) {
        let old = t.arraySize
        let a = UnsafeMutablePointer<LuaValue>.allocate(capacity: size)
        if let oa = t.p.pointee.array {
            a.moveInitialize(from: oa, count: min(old, size))
            oa.deallocate()
        }
        if size > old { (a + old).initialize(repeating: .nil, count: size - old) }
        t.p.pointee.array = a
        t.p.pointee.sizeArray = Int32(size)
        account((size - old) * 16)
    }

    func setNodeVector(_ t: LuaTable, _ size: Int) {
        if size == 0 {
            t.p.pointee.node = sharedDummyNode
            t.p.pointee.dummy = true
            t.p.pointee.lsizenode = 0
            t.p.pointee.lastFree = 0
            return
        }
        var lsize = 0
        while (1 << lsize) < size { lsize += 1 }
        let n = 1 << lsize
        let nodes = UnsafeMutablePointer<Node>.allocate(capacity: n)
        nodes.initialize(repeating: Node(value: .nil, key: .nil, next: -1, deadKey: false), count: n)
        t.p.pointee.node = nodes
        t.p.pointee.dummy = false
        t.p.pointee.lsizenode = UInt8(lsize)
        t.p.pointee.lastFree = Int32(n)
        account(n * MemoryLayout<Node>.stride)
    }

    /// The slot for `key`, created when absent (luaH_set); the caller stores the value.
    @inline(__always) func tableSlot(_ t: LuaTable, _ key: LuaValue) throws(LuaError) -> UnsafeMutablePointer<LuaValue> {
        t.p.pointee.flags = 0
        if let s = t.existingSlot(key) { return s }
        switch key {
        case .nil: throw runtimeError("table index is nil")
        case .number(let d) where d.isNaN: throw runtimeError("table index is NaN")
        default: return newKey(t, key)
        }
    }

    /// The slot for integer key `k`, created when absent (luaH_setnum).
    @inline(__always) func tableSlot(_ t: LuaTable, int k: Int) -> UnsafeMutablePointer<LuaValue> {
        t.p.pointee.flags = 0
        if UInt(bitPattern: k &- 1) < UInt(t.arraySize) { return t.p.pointee.array! + (k - 1) }
        let key = LuaValue.number(Double(k))
        if let i = t.findNode(key) { return UnsafeMutableRawPointer(t.nodes + i).assumingMemoryBound(to: LuaValue.self) }
        return newKey(t, key)
    }

    /// The slot for string key `s`, created when absent (luaH_setstr).
    @inline(__always) func tableSlot(_ t: LuaTable, string s: LuaString) -> UnsafeMutablePointer<LuaValue> {
        t.p.pointee.flags = 0
        if let slot = t.existingSlot(.string(s)) { return slot }
        return newKey(t, .string(s))
    }

    /// Raw write (`rawset`); errors for nil and NaN keys.
    public func rawSet(_ t: LuaTable, _ key: LuaValue, _ value: LuaValue) throws(LuaError) {
        try tableSlot(t, key).pointee = value
    }

    /// Raw write of an integer key.
    public func rawSet(_ t: LuaTable, int k: Int, _ value: LuaValue) {
        tableSlot(t, int: k).pointee = value
    }

    /// Raw write of a string key.
    public func rawSet(_ t: LuaTable, _ key: String, _ value: LuaValue) {
        tableSlot(t, string: newString(key)).pointee = value
    }

    private func freePosition(_ t: LuaTable) -> Int? {
        let ns = t.nodes
        while t.p.pointee.lastFree > 0 {
            t.p.pointee.lastFree -= 1
            let n = ns + Int(t.p.pointee.lastFree)
            if n.pointee.key.isNil && !n.pointee.deadKey { return Int(t.p.pointee.lastFree) }
        }
        return nil
    }

    /// Inserts a key known to be absent (luaH's newkey).
    func newKey(_ t: LuaTable, _ key: LuaValue) -> UnsafeMutablePointer<LuaValue> {
        var mp = t.mainPosition(key)
        let ns = t.nodes
        if !ns[mp].value.isNil || t.p.pointee.dummy {
            guard let f = freePosition(t) else {
                rehash(t, key)
                return tableSlotAfterRehash(t, key)
            }
            let othern0 = t.mainPosition(ns[mp].key)
            if othern0 != mp {
                // The colliding node is out of its main position: move it to the free slot.
                var othern = othern0
                while Int(ns[othern].next) != mp { othern = Int(ns[othern].next) }
                ns[othern].next = Int32(f)
                ns[f] = ns[mp]
                ns[mp].next = -1
                ns[mp].value = .nil
            } else {
                ns[f].next = ns[mp].next
                ns[mp].next = Int32(f)
                mp = f
            }
        }
        ns[mp].key = key
        ns[mp].deadKey = false
        return UnsafeMutableRawPointer(ns + mp).assumingMemoryBound(to: LuaValue.self)
    }

    private func tableSlotAfterRehash(_ t: LuaTable, _ key: LuaValue) -> UnsafeMutablePointer<LuaValue> {
        if let s = t.existingSlot(key) { return s }
        return newKey(t, key)
    }

    // MARK: Rehash

    private static func ceilLog2(_ x: Int) -> Int {
        var l = 0
        while (1 << l) < x { l += 1 }
        return l
    }

    private static func countInt(_ key: LuaValue, _ nums: inout [Int]) -> Int {
        if case .number(let d) = key, let k = luaArrayIndex(d), k > 0, k <= (1 << maxArrayBits) {
            nums[ceilLog2(k)] += 1
            return 1
        }
        return 0
    }

    private func rehash(_ t: LuaTable, _ extraKey: LuaValue) {
        var nums = [Int](repeating: 0, count: maxArrayBits + 1)
        // Keys in the array part, per slice (2^(lg-1), 2^lg].
        var nasize = 0
        var i = 1
        var ttlg = 1
        for lg in 0...maxArrayBits {
            var lc = 0
            var lim = ttlg
            if lim > t.arraySize {
                lim = t.arraySize
                if i > lim { break }
            }
            while i <= lim {
                if !t.p.pointee.array![i - 1].isNil { lc += 1 }
                i += 1
            }
            nums[lg] += lc
            nasize += lc
            ttlg *= 2
        }
        var totaluse = nasize
        if !t.p.pointee.dummy {
            var j = t.sizeNode
            while j > 0 {
                j -= 1
                let n = t.nodes[j]
                if !n.value.isNil {
                    nasize += LuaState.countInt(n.key, &nums)
                    totaluse += 1
                }
            }
        }
        nasize += LuaState.countInt(extraKey, &nums)
        totaluse += 1
        // computesizes
        var a = 0, na = 0, n = 0
        var twotoi = 1
        var k = 0
        while twotoi / 2 < nasize {
            if nums[k] > 0 {
                a += nums[k]
                if a > twotoi / 2 { n = twotoi; na = a }
            }
            if a == nasize { break }
            k += 1
            twotoi *= 2
        }
        resize(t, arraySize: n, hashSize: totaluse - na)
    }

    /// Resizes both parts and reinserts (luaH's resize).
    func resize(_ t: LuaTable, arraySize nasize: Int, hashSize nhsize: Int) {
        let oldasize = t.arraySize
        let oldNodes = t.p.pointee.node
        let oldDummy = t.p.pointee.dummy
        let oldNodeCount = oldDummy ? 0 : t.sizeNode
        if nasize > oldasize { setArrayVector(t, nasize) }
        setNodeVector(t, nhsize)
        if nasize < oldasize {
            t.p.pointee.sizeArray = Int32(nasize)
            let arr = t.p.pointee.array!
            for i in nasize..<oldasize where !arr[i].isNil {
                tableSlot(t, int: i + 1).pointee = arr[i]
            }
            // Shrink the array (keeps the first nasize values).
            t.p.pointee.sizeArray = Int32(oldasize)
            let a = nasize > 0 ? UnsafeMutablePointer<LuaValue>.allocate(capacity: nasize) : nil
            if let a { a.moveInitialize(from: arr, count: nasize) }
            arr.deallocate()
            t.p.pointee.array = a
            t.p.pointee.sizeArray = Int32(nasize)
            account((nasize - oldasize) * 16)
        }
        var i = oldNodeCount - 1
        while i >= 0 {
            let old = oldNodes[i]
            if !old.value.isNil {
                // Keys in the old hash part are valid (never nil or NaN).
                if let s = t.existingSlot(old.key) { s.pointee = old.value } else { newKey(t, old.key).pointee = old.value }
            }
            i -= 1
        }
        if !oldDummy {
            oldNodes.deallocate()
            account(-oldNodeCount * MemoryLayout<Node>.stride)
        }
    }

    /// Grows the array part to `n` slots at once (SETLIST's preallocation).
    func resizeArray(_ t: LuaTable, _ n: Int) {
        resize(t, arraySize: n, hashSize: t.p.pointee.dummy ? 0 : t.sizeNode)
    }

    // MARK: - Traversal

    /// The entry after `key` (nil to start), as `next` returns it; nil at the end.
    /// Fails with "invalid key to 'next'" for a key that is not in the table.
    public func next(_ t: LuaTable, after key: LuaValue) throws(LuaError) -> (LuaValue, LuaValue)? {
        var i: Int
        if key.isNil {
            i = -1
        } else if case .number(let d) = key, let k = luaArrayIndex(d), k > 0, k <= t.arraySize {
            i = k - 1
        } else {
            guard let n = findNodeForNext(t, key) else { throw runtimeError("invalid key to 'next'") }
            i = n + t.arraySize
        }
        i += 1
        let asize = t.arraySize
        while i < asize {
            let v = t.p.pointee.array![i]
            if !v.isNil { return (.number(Double(i + 1)), v) }
            i += 1
        }
        if t.p.pointee.dummy { return nil }
        i -= asize
        let sn = t.sizeNode
        while i < sn {
            let n = t.nodes[i]
            if !n.value.isNil { return (n.key, n.value) }
            i += 1
        }
        return nil
    }

    private func findNodeForNext(_ t: LuaTable, _ key: LuaValue) -> Int? {
        let ns = t.nodes
        var i = t.mainPosition(key)
        let addr = key.objectAddress
        while true {
            let n = ns + i
            if n.pointee.deadKey {
                if addr != 0, n.pointee.key.objectAddress == addr { return i }
            } else if LuaValue.rawEquals(n.pointee.key, key) {
                return i
            }
            i = Int(n.pointee.next)
            if i < 0 { return nil }
        }
    }
}

// The collector: stop-the-world mark and sweep over every object the state allocated.
//
// Values do not retain objects, so reachability is the only thing that keeps an object alive, and
// cycles die like everything else. The rule that makes this safe: a collection runs only at safe
// points (checkGC after allocating instructions and after native calls, collectgarbage, the host's
// explicit calls), and at a safe point every live value is reachable from a root — the running
// threads' stacks up to their top, the registry, the globals. Natives that call back into Lua keep
// the values they hold on the stack, exactly as C Lua's library functions do.

extension LuaState {
    enum GrayObject {
        case table(UnsafeMutablePointer<TableObject>)
        case function(UnsafeMutablePointer<FunctionObject>)
        case proto(UnsafeMutablePointer<ProtoObject>)
        case thread(UnsafeMutablePointer<ThreadObject>)
        case userdata(UnsafeMutablePointer<UserdataObject>)
        case upvalue(UnsafeMutablePointer<UpvalueObject>)
    }

    /// Runs a full collection now. Callable by the host whenever no Lua value is held outside the
    /// state's roots (between calls, or from a native whose values are on the stack).
    public func collectGarbage() {
        var gray: [GrayObject] = []
        gray.reserveCapacity(256)
        var weak: [(UnsafeMutablePointer<TableObject>, Bool, Bool)] = []

        // Roots.
        markThread(mainThread, &gray)
        markThread(current, &gray)
        markTable(registry.p, &gray)
        markTable(globals.p, &gray)
        if let mt = stringMetatable { markTable(mt.p, &gray) }
        if let e = aborting { markValue(e.value, &gray) }
        for s in tmNames { s.p.pointee.marked |= GCMark.marked }

        // Propagate.
        while let o = gray.popLast() {
            switch o {
            case .table(let t): traverseTable(t, &gray, &weak)
            case .function(let f): traverseFunction(f, &gray)
            case .proto(let p): traverseProto(p, &gray)
            case .thread(let th): traverseThread(th, &gray)
            case .userdata(let u):
                if let mt = u.pointee.metatable { markTable(mt.p, &gray) }
                markTable(u.pointee.env.p, &gray)
            case .upvalue(let u): markValue(u.pointee.v.pointee, &gray)
            }
        }
        for (t, weakKeys, weakValues) in weak { clearWeak(t, weakKeys, weakValues) }

        sweep()
        collections += 1
        var threshold = max(totalBytes * 2, 256 * 1024)
        if memoryLimit > 0 { threshold = min(threshold, max(memoryLimit, totalBytes + 64 * 1024)) }
        gcThreshold = collectAtEverySafePoint ? 0 : threshold
    }

    // MARK: - Mark

    @inline(__always) func markValue(_ v: LuaValue, _ gray: inout [GrayObject]) {
        switch v {
        case .string(let s): s.p.pointee.marked |= GCMark.marked
        case .table(let t): markTable(t.p, &gray)
        case .function(let f):
            if f.p.pointee.marked & GCMark.marked == 0 {
                f.p.pointee.marked |= GCMark.marked
                gray.append(.function(f.p))
            }
        case .userdata(let u):
            if u.p.pointee.marked & GCMark.marked == 0 {
                u.p.pointee.marked |= GCMark.marked
                gray.append(.userdata(u.p))
            }
        case .thread(let t): markThread(t.p, &gray)
        default: break
        }
    }

    @inline(__always) func markTable(_ t: UnsafeMutablePointer<TableObject>, _ gray: inout [GrayObject]) {
        if t.pointee.marked & GCMark.marked == 0 {
            t.pointee.marked |= GCMark.marked
            gray.append(.table(t))
        }
    }

    func markThread(_ th: UnsafeMutablePointer<ThreadObject>, _ gray: inout [GrayObject]) {
        if th.pointee.marked & GCMark.marked == 0 {
            th.pointee.marked |= GCMark.marked
            gray.append(.thread(th))
        }
    }

    func markProto(_ p: UnsafeMutablePointer<ProtoObject>, _ gray: inout [GrayObject]) {
        if p.pointee.marked & GCMark.marked == 0 {
            p.pointee.marked |= GCMark.marked
            gray.append(.proto(p))
        }
    }

    func markUpvalue(_ u: UnsafeMutablePointer<UpvalueObject>, _ gray: inout [GrayObject]) {
        if u.pointee.marked & GCMark.marked == 0 {
            u.pointee.marked |= GCMark.marked
            gray.append(.upvalue(u))
        }
    }

    private func weakMode(_ t: UnsafeMutablePointer<TableObject>) -> (Bool, Bool) {
        guard let mt = t.pointee.metatable, case .string(let m) = mt.get(string: tmNames[TagMethod.mode.rawValue]) else {
            return (false, false)
        }
        var k = false, v = false
        for b in m.buffer {
            if b == UInt8(ascii: "k") { k = true }
            if b == UInt8(ascii: "v") { v = true }
        }
        return (k, v)
    }

    private func traverseTable(_ t: UnsafeMutablePointer<TableObject>, _ gray: inout [GrayObject],
                               _ weak: inout [(UnsafeMutablePointer<TableObject>, Bool, Bool)]) {
        if let mt = t.pointee.metatable { markTable(mt.p, &gray) }
        let (weakKeys, weakValues) = weakMode(t)
        if weakKeys || weakValues { weak.append((t, weakKeys, weakValues)) }
        if !weakValues, let a = t.pointee.array {
            for i in 0..<Int(t.pointee.sizeArray) { markValue(a[i], &gray) }
        }
        if t.pointee.dummy { return }
        let ns = t.pointee.node
        for i in 0..<(1 << Int(t.pointee.lsizenode)) {
            let n = ns + i
            if n.pointee.value.isNil {
                // An empty slot must not keep its key alive (nor point at it once it is freed).
                if !n.pointee.deadKey && n.pointee.key.objectAddress != 0 && isCollectable(n.pointee.key) {
                    n.pointee.key = .lightUserdata(n.pointee.key.objectAddress)
                    n.pointee.deadKey = true
                }
                continue
            }
            if !weakKeys || n.pointee.key.stringValue != nil { markValue(n.pointee.key, &gray) }
            if !weakValues || n.pointee.value.stringValue != nil { markValue(n.pointee.value, &gray) }
        }
    }

    @inline(__always) private func isCollectable(_ v: LuaValue) -> Bool {
        switch v {
        case .string, .table, .function, .userdata, .thread: return true
        default: return false
        }
    }

    /// True when a weak entry's referent did not survive marking.
    private func isCleared(_ v: LuaValue) -> Bool {
        switch v {
        case .table(let t): return t.p.pointee.marked & GCMark.marked == 0
        case .function(let f): return f.p.pointee.marked & GCMark.marked == 0
        case .userdata(let u): return u.p.pointee.marked & GCMark.marked == 0
        case .thread(let t): return t.p.pointee.marked & GCMark.marked == 0
        default: return false
        }
    }

    private func clearWeak(_ t: UnsafeMutablePointer<TableObject>, _ weakKeys: Bool, _ weakValues: Bool) {
        if weakValues, let a = t.pointee.array {
            for i in 0..<Int(t.pointee.sizeArray) where isCleared(a[i]) { a[i] = .nil }
        }
        if t.pointee.dummy { return }
        let ns = t.pointee.node
        for i in 0..<(1 << Int(t.pointee.lsizenode)) {
            let n = ns + i
            if n.pointee.value.isNil || n.pointee.deadKey { continue }
            if (weakKeys && isCleared(n.pointee.key)) || (weakValues && isCleared(n.pointee.value)) {
                n.pointee.value = .nil
                if isCollectable(n.pointee.key) {
                    n.pointee.key = .lightUserdata(n.pointee.key.objectAddress)
                    n.pointee.deadKey = true
                }
            }
        }
    }

    private func traverseFunction(_ f: UnsafeMutablePointer<FunctionObject>, _ gray: inout [GrayObject]) {
        markTable(f.pointee.env.p, &gray)
        let n = Int(f.pointee.upvalueCount)
        if let p = f.pointee.proto {
            markProto(p, &gray)
            if let ups = f.pointee.upvalues {
                for i in 0..<n { markUpvalue(ups[i], &gray) }
            }
        } else if let ups = f.pointee.nativeUpvalues {
            for i in 0..<n { markValue(ups[i], &gray) }
        }
    }

    private func traverseProto(_ p: UnsafeMutablePointer<ProtoObject>, _ gray: inout [GrayObject]) {
        p.pointee.source.p.pointee.marked |= GCMark.marked
        for i in 0..<p.pointee.constantCount { markValue(p.pointee.constants[i], &gray) }
        for i in 0..<p.pointee.protoCount { markProto(p.pointee.protos[i], &gray) }
        for lv in p.pointee.localVars { lv.name.p.pointee.marked |= GCMark.marked }
        for s in p.pointee.upvalueNames { s.p.pointee.marked |= GCMark.marked }
    }

    private func traverseThread(_ th: UnsafeMutablePointer<ThreadObject>, _ gray: inout [GrayObject]) {
        markTable(th.pointee.env.p, &gray)
        let stack = th.pointee.stack
        var top = th.pointee.top
        // A running Lua frame uses registers up to its ci.top: keep those (Lua sets L->top = ci->top).
        if th.pointee.ci > 0 { top = max(top, th.pointee.cis[th.pointee.ci].top) }
        top = min(top, th.pointee.stackSize)
        for i in 0..<top { markValue(stack[i], &gray) }
        // Slots above the top may hold stale values from earlier frames: clear them now, before
        // their objects can be freed, so no later frame or traversal sees a dangling reference.
        let hw = min(max(th.pointee.highWater, top), th.pointee.stackSize)
        if hw > top { (stack + top).update(repeating: .nil, count: hw - top) }
        th.pointee.highWater = top
        var uv = th.pointee.openUpvalues
        while let u = uv {
            markUpvalue(u, &gray)
            uv = u.pointee.openNext
        }
    }

    // MARK: - Sweep

    private func sweep() {
        // Strings.
        for b in 0..<stringBucketCount {
            var prev: UnsafeMutablePointer<StringObject>? = nil
            var o = stringBuckets[b]
            while let s = o {
                o = s.pointee.chain
                if s.pointee.marked == 0 {
                    if let prev { prev.pointee.chain = o } else { stringBuckets[b] = o }
                    freeString(s)
                } else {
                    s.pointee.marked &= ~GCMark.marked
                    prev = s
                }
            }
        }
        if stringCount < stringBucketCount / 4 && stringBucketCount > 64 { resizeStrings(stringBucketCount / 2) }

        // Threads first: a dead thread closes its open upvalues before its stack goes away.
        allThreads = sweepList(allThreads, next: \.gcNext, marked: \.marked) { th in
            closeUpvalues(th, 0)
            freeThreadStorage(th)
            th.deallocate()
        }
        mainThread.pointee.marked = 0
        allTables = sweepList(allTables, next: \.gcNext, marked: \.marked) { t in
            freeTableStorage(t)
            t.deallocate()
        }
        allFunctions = sweepList(allFunctions, next: \.gcNext, marked: \.marked) { f in
            freeFunctionStorage(f)
            f.deallocate()
        }
        allProtos = sweepList(allProtos, next: \.gcNext, marked: \.marked) { p in
            freeProtoStorage(p)
            p.deallocate()
        }
        allUpvalues = sweepList(allUpvalues, next: \.gcNext, marked: \.marked) { u in
            account(-48)
            u.deallocate()
        }
        allUserdata = sweepList(allUserdata, next: \.gcNext, marked: \.marked) { u in
            account(-40)
            u.deinitialize(count: 1)
            u.deallocate()
        }
    }

    private func sweepList<T>(_ head: UnsafeMutablePointer<T>?, next: WritableKeyPath<T, UnsafeMutablePointer<T>?>,
                              marked: WritableKeyPath<T, UInt8>,
                              free: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T>? {
        var newHead: UnsafeMutablePointer<T>? = nil
        var prev: UnsafeMutablePointer<T>? = nil
        var o = head
        while let x = o {
            o = x.pointee[keyPath: next]
            if x.pointee[keyPath: marked] == 0 {
                free(x)
            } else {
                x.pointee[keyPath: marked] &= ~GCMark.marked
                if let prev { prev.pointee[keyPath: next] = x } else { newHead = x }
                prev = x
            }
        }
        if let prev { prev.pointee[keyPath: next] = nil }
        return newHead
    }

    /// Frees every object (the state is going away).
    func freeAll() {
        var o = allThreads
        while let th = o { o = th.pointee.gcNext; freeThreadStorage(th); th.deallocate() }
        freeThreadStorage(mainThread)
        mainThread.deallocate()
        var t = allTables
        while let x = t { t = x.pointee.gcNext; freeTableStorage(x); x.deallocate() }
        var f = allFunctions
        while let x = f { f = x.pointee.gcNext; freeFunctionStorage(x); x.deallocate() }
        var p = allProtos
        while let x = p { p = x.pointee.gcNext; freeProtoStorage(x); x.deallocate() }
        var u = allUpvalues
        while let x = u { u = x.pointee.gcNext; x.deallocate() }
        var d = allUserdata
        while let x = d { d = x.pointee.gcNext; x.deinitialize(count: 1); x.deallocate() }
        for b in 0..<stringBucketCount {
            var s = stringBuckets[b]
            while let x = s { s = x.pointee.chain; UnsafeMutableRawPointer(x).deallocate() }
        }
        stringBuckets.deallocate()
    }

    /// Number of live objects of each kind (tests check that garbage returns to a baseline).
    public var objectCounts: (strings: Int, tables: Int, functions: Int, upvalues: Int, protos: Int, threads: Int, userdata: Int) {
        func count<T>(_ h: UnsafeMutablePointer<T>?, _ next: KeyPath<T, UnsafeMutablePointer<T>?>) -> Int {
            var n = 0
            var o = h
            while let x = o { n += 1; o = x.pointee[keyPath: next] }
            return n
        }
        return (stringCount, count(allTables, \.gcNext), count(allFunctions, \.gcNext), count(allUpvalues, \.gcNext),
                count(allProtos, \.gcNext), count(allThreads, \.gcNext), count(allUserdata, \.gcNext))
    }
}

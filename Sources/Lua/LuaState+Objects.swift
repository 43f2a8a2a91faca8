// Allocation of functions, prototypes, upvalues and userdata, and upvalue closing.

extension LuaState {
    // MARK: - Functions

    /// A native function (optionally with upvalues the collector sees, read with `nativeUpvalue`).
    public func newFunction(upvalues: [LuaValue] = [], _ fn: @escaping LuaNativeFunction) -> LuaFunction {
        let f = UnsafeMutablePointer<FunctionObject>.allocate(capacity: 1)
        var ups: UnsafeMutablePointer<LuaValue>? = nil
        if !upvalues.isEmpty {
            let u = UnsafeMutablePointer<LuaValue>.allocate(capacity: upvalues.count)
            u.initialize(from: upvalues, count: upvalues.count)
            ups = u
        }
        f.initialize(to: FunctionObject(gcNext: allFunctions, proto: nil, upvalues: nil, nativeUpvalues: ups,
                                        upvalueCount: Int32(upvalues.count), marked: 0,
                                        env: current.pointee.env, native: fn))
        allFunctions = f
        account(48 + 16 * upvalues.count)
        return LuaFunction(f)
    }

    /// A Lua closure over `proto` with room for its upvalues (filled by the caller).
    func newLuaClosure(_ proto: UnsafeMutablePointer<ProtoObject>, env: LuaTable) -> LuaFunction {
        let f = UnsafeMutablePointer<FunctionObject>.allocate(capacity: 1)
        let n = Int(proto.pointee.upvalueCount)
        var ups: UnsafeMutablePointer<UnsafeMutablePointer<UpvalueObject>>? = nil
        if n > 0 { ups = .allocate(capacity: n) }
        f.initialize(to: FunctionObject(gcNext: allFunctions, proto: proto, upvalues: ups, nativeUpvalues: nil,
                                        upvalueCount: Int32(n), marked: 0, env: env, native: nil))
        allFunctions = f
        account(40 + 8 * n)
        return LuaFunction(f)
    }

    func freeFunctionStorage(_ f: UnsafeMutablePointer<FunctionObject>) {
        let n = Int(f.pointee.upvalueCount)
        if f.pointee.proto != nil {
            f.pointee.upvalues?.deallocate()
            account(-(40 + 8 * n))
        } else {
            f.pointee.nativeUpvalues?.deallocate()
            account(-(48 + 16 * n))
        }
        f.deinitialize(count: 1)
    }

    /// Upvalue `i` (1-based) of the running native function.
    public func nativeUpvalue(_ i: Int) -> LuaValue {
        let th = current
        guard case .function(let f) = th.pointee.stack[th.pointee.cis[th.pointee.ci].funcIndex],
              let u = f.p.pointee.nativeUpvalues, i >= 1, i <= Int(f.p.pointee.upvalueCount) else { return .nil }
        return u[i - 1]
    }

    // MARK: - Prototypes

    /// Registers a compiled prototype (its buffers become the collector's).
    func newProto(_ proto: ProtoObject) -> UnsafeMutablePointer<ProtoObject> {
        let p = UnsafeMutablePointer<ProtoObject>.allocate(capacity: 1)
        p.initialize(to: proto)
        p.pointee.gcNext = allProtos
        allProtos = p
        account(protoBytes(p))
        return p
    }

    func protoBytes(_ p: UnsafeMutablePointer<ProtoObject>) -> Int {
        128 + p.pointee.codeCount * 8 + p.pointee.constantCount * 16 + p.pointee.protoCount * 8
            + p.pointee.localVars.count * 16 + p.pointee.upvalueNames.count * 8
    }

    func freeProtoStorage(_ p: UnsafeMutablePointer<ProtoObject>) {
        account(-protoBytes(p))
        p.pointee.code.deallocate()
        p.pointee.constants.deallocate()
        p.pointee.protos.deallocate()
        p.pointee.lineInfo.deallocate()
        p.deinitialize(count: 1)
    }

    // MARK: - Upvalues

    /// The open upvalue for stack slot `index` of thread `th`, created if needed (luaF_findupval).
    func findUpvalue(_ th: UnsafeMutablePointer<ThreadObject>, _ index: Int) -> UnsafeMutablePointer<UpvalueObject> {
        var prev: UnsafeMutablePointer<UpvalueObject>? = nil
        var p = th.pointee.openUpvalues
        while let u = p, u.pointee.stackIndex >= index {
            if u.pointee.stackIndex == index { return u }
            prev = u
            p = u.pointee.openNext
        }
        let u = UnsafeMutablePointer<UpvalueObject>.allocate(capacity: 1)
        u.initialize(to: UpvalueObject(gcNext: allUpvalues, v: th.pointee.stack + index, closed: .nil,
                                       openNext: p, stackIndex: index, marked: 0, isOpen: true))
        allUpvalues = u
        if let prev { prev.pointee.openNext = u } else { th.pointee.openUpvalues = u }
        account(48)
        return u
    }

    /// Closes the thread's open upvalues at or above stack slot `level` (luaF_close).
    @inline(__always) func closeUpvalues(_ th: UnsafeMutablePointer<ThreadObject>, _ level: Int) {
        while let u = th.pointee.openUpvalues, u.pointee.stackIndex >= level {
            th.pointee.openUpvalues = u.pointee.openNext
            u.pointee.closed = u.pointee.v.pointee
            u.pointee.v = UnsafeMutableRawPointer(u).advanced(by: LuaState.closedOffset).assumingMemoryBound(to: LuaValue.self)
            u.pointee.isOpen = false
            u.pointee.openNext = nil
        }
    }

    static let closedOffset = MemoryLayout<UpvalueObject>.offset(of: \UpvalueObject.closed)!

    /// A closed upvalue holding `value` (used by the host to build closures).
    func newClosedUpvalue(_ value: LuaValue) -> UnsafeMutablePointer<UpvalueObject> {
        let u = UnsafeMutablePointer<UpvalueObject>.allocate(capacity: 1)
        u.initialize(to: UpvalueObject(gcNext: allUpvalues, v: UnsafeMutablePointer(bitPattern: 8)!, closed: value,
                                       openNext: nil, stackIndex: 0, marked: 0, isOpen: false))
        u.pointee.v = UnsafeMutableRawPointer(u).advanced(by: LuaState.closedOffset).assumingMemoryBound(to: LuaValue.self)
        allUpvalues = u
        account(48)
        return u
    }

    // MARK: - Userdata

    /// A full userdata carrying an optional host object.
    public func newUserdata(payload: AnyObject? = nil, metatable: LuaTable? = nil) -> LuaUserdata {
        let u = UnsafeMutablePointer<UserdataObject>.allocate(capacity: 1)
        u.initialize(to: UserdataObject(gcNext: allUserdata, metatable: metatable, env: current.pointee.env,
                                        payload: payload, marked: 0))
        allUserdata = u
        account(40)
        return LuaUserdata(u)
    }
}

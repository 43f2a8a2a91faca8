import Glibc

// String interning. Every string is interned (as in Lua 5.1), so equality is pointer equality and
// table lookups by string compare pointers. The hash covers every byte (Redis's change to 5.1,
// against collision attacks), so pairs() orders keys exactly as redis-server's Lua does.

extension LuaState {
    /// Lua's string hash with Redis's step of 1.
    @inline(__always) static func hashBytes(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        var h = UInt32(truncatingIfNeeded: n)
        var i = n
        while i > 0 {
            h ^= (h << 5) &+ (h >> 2) &+ UInt32(p[i - 1])
            i -= 1
        }
        return h
    }

    /// The interned string with these bytes.
    public func newString(_ buf: UnsafeBufferPointer<UInt8>) -> LuaString {
        let n = buf.count
        guard let base = buf.baseAddress, n > 0 else { return internString(emptyBytes(), 0, LuaState.hashBytes(emptyBytes(), 0)) }
        return internString(base, n, LuaState.hashBytes(base, n))
    }

    /// The interned string with these bytes.
    public func newString(_ bytes: [UInt8]) -> LuaString {
        bytes.withUnsafeBufferPointer { newString($0) }
    }

    /// The interned string with these bytes.
    public func newString<C: Collection>(bytes: C) -> LuaString where C.Element == UInt8 {
        if let s = bytes.withContiguousStorageIfAvailable({ newString($0) }) { return s }
        return newString(Array(bytes))
    }

    /// The interned string with this text's UTF-8 bytes.
    public func newString(_ s: String) -> LuaString {
        var s = s
        return s.withUTF8 { newString($0) }
    }

    /// The interned string with these raw bytes.
    public func newString(_ raw: UnsafeRawBufferPointer) -> LuaString {
        newString(raw.bindMemory(to: UInt8.self))
    }

    @inline(__always) private func emptyBytes() -> UnsafePointer<UInt8> {
        // Any valid address does for zero bytes; the bucket array is always allocated.
        UnsafeRawPointer(stringBuckets).assumingMemoryBound(to: UInt8.self)
    }

    func internString(_ p: UnsafePointer<UInt8>, _ n: Int, _ h: UInt32) -> LuaString {
        var o = stringBuckets[Int(h) & (stringBucketCount - 1)]
        while let s = o {
            if s.pointee.count == n && s.pointee.hash == h {
                let sb = UnsafeRawPointer(s + 1).assumingMemoryBound(to: UInt8.self)
                if n == 0 || memcmp(sb, p, n) == 0 { return LuaString(s) }
            }
            o = s.pointee.chain
        }
        return createString(p, n, h)
    }

    private func createString(_ p: UnsafePointer<UInt8>, _ n: Int, _ h: UInt32) -> LuaString {
        if stringCount >= stringBucketCount && stringBucketCount < (1 << 30) {
            resizeStrings(stringBucketCount * 2)
        }
        let size = MemoryLayout<StringObject>.stride + n + 1
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        let s = raw.bindMemory(to: StringObject.self, capacity: 1)
        let bucket = Int(h) & (stringBucketCount - 1)
        s.initialize(to: StringObject(chain: stringBuckets[bucket], count: n, hash: h, marked: 0, reserved: 0))
        let bytes = (raw + MemoryLayout<StringObject>.stride).assumingMemoryBound(to: UInt8.self)
        if n > 0 { bytes.update(from: p, count: n) }
        bytes[n] = 0
        stringBuckets[bucket] = s
        stringCount += 1
        account(size)
        return LuaString(s)
    }

    func resizeStrings(_ newSize: Int) {
        let nb = UnsafeMutablePointer<UnsafeMutablePointer<StringObject>?>.allocate(capacity: newSize)
        nb.initialize(repeating: nil, count: newSize)
        for i in 0..<stringBucketCount {
            var o = stringBuckets[i]
            while let s = o {
                o = s.pointee.chain
                let b = Int(s.pointee.hash) & (newSize - 1)
                s.pointee.chain = nb[b]
                nb[b] = s
            }
        }
        stringBuckets.deallocate()
        account((newSize - stringBucketCount) * 8)
        stringBuckets = nb
        stringBucketCount = newSize
    }

    func freeString(_ s: UnsafeMutablePointer<StringObject>) {
        account(-(MemoryLayout<StringObject>.stride + s.pointee.count + 1))
        stringCount -= 1
        UnsafeMutableRawPointer(s).deallocate()
    }

    /// Concatenation of two byte runs into a new interned string.
    func concatStrings(_ parts: [LuaString]) -> LuaString {
        var total = 0
        for s in parts { total += s.count }
        if total == 0 { return newString([UInt8]()) }
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: total)
        defer { buf.deallocate() }
        var off = 0
        for s in parts {
            (buf + off).update(from: s.bytes, count: s.count)
            off += s.count
        }
        return newString(UnsafeBufferPointer(start: buf, count: total))
    }
}

// What the process's memory looks like: the bytes it allocated (vigil-node counts every malloc,
// CAlloc/alloc.c; other binaries ask the allocator), the allocator's own figures and the
// resident set size the kernel reports. INFO memory, MEMORY and maxmemory read them here.
import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// Memory figures of this process.
public enum ProcessMemory {
    /// Bytes allocated and not freed (Redis's used_memory).
    @inline(__always) public static var allocated: Int { Int(vigil_alloc_used()) }

    /// True when `allocated` comes from counting every allocation (vigil-node), false when it is
    /// the allocator's summary (slower to compute).
    public static var countsAllocations: Bool { vigil_alloc_counting() != 0 }

    /// The allocator's view (glibc mallinfo2): bytes in use, arena bytes obtained with brk,
    /// bytes in mmapped chunks, free bytes held in the arena.
    public static func allocatorInfo() -> (allocated: Int, arena: Int, mmapped: Int, free: Int) {
        var a = 0, ar = 0, mm = 0, fr = 0
        vigil_malloc_info(&a, &ar, &mm, &fr)
        return (a, ar, mm, fr)
    }

    /// Resident set size in bytes (/proc/self/statm), or 0 if unreadable.
    public static func rss() -> Int {
        guard let bytes = try? Posix.readFile("/proc/self/statm") else { return 0 }
        let fields = bytes.split(separator: 0x20)
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Total RAM of the machine in bytes (INFO's total_system_memory).
    public static func systemTotal() -> Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

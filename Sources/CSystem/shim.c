// The shim is header-only except for the allocator figures below; SwiftPM needs one source file
// per C target anyway.
#include "CSystem.h"
#include <malloc.h>

void vigil_malloc_info(size_t *allocated, size_t *arena, size_t *mmapped, size_t *free_bytes) {
    struct mallinfo2 m = mallinfo2();
    *allocated = m.uordblks + m.hblkhd;
    *arena = m.arena;
    *mmapped = m.hblkhd;
    *free_bytes = m.fordblks;
}

void vigil_malloc_trim(void) { malloc_trim(0); }

// Fallbacks for binaries without the allocation counter (vigil-sentinel, fuzz harnesses):
// vigil-node links CAlloc, whose definitions win.
__attribute__((weak)) size_t vigil_alloc_used(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}
__attribute__((weak)) int vigil_alloc_counting(void) { return 0; }

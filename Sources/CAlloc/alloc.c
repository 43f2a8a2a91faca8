// used_memory for vigil-node, counted as Redis's zmalloc counts it: every allocation adds its
// usable size (malloc_usable_size, what the allocator really reserved for it) and every free
// subtracts it. glibc supports replacing malloc by symbol interposition; these definitions
// forward to glibc's own implementation (__libc_malloc...), so only the bookkeeping is ours and
// everything in the process is counted: the Swift runtime, the standard library's buffers, libc.
//
// The counter is process-wide. While the process has one thread (vigil-node until a hostname
// lookup starts a resolver thread, Shared/Resolver.swift; glibc's __libc_single_threaded says
// so) it is a plain add; once there are threads (resolver threads, test processes, Swift
// Testing's pool) it is a relaxed atomic add, so memory freed by another thread than the one
// that allocated it still balances.
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <malloc.h>
#include <unistd.h>
#include <sys/single_threaded.h>
#include "CAlloc.h"

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static long long vigil_used;

static inline void count(long long delta) {
    if (__libc_single_threaded) vigil_used += delta;
    else __atomic_fetch_add(&vigil_used, delta, __ATOMIC_RELAXED);
}

size_t vigil_alloc_used(void) {
    long long v = __atomic_load_n(&vigil_used, __ATOMIC_RELAXED);
    return v > 0 ? (size_t)v : 0;
}
int vigil_alloc_counting(void) { return 1; }

void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    if (p) count((long long)malloc_usable_size(p));
    return p;
}

void free(void *p) {
    if (!p) return;
    count(-(long long)malloc_usable_size(p));
    __libc_free(p);
}

void *calloc(size_t a, size_t b) {
    void *p = __libc_calloc(a, b);
    if (p) count((long long)malloc_usable_size(p));
    return p;
}

void *realloc(void *old, size_t n) {
    long long before = old ? (long long)malloc_usable_size(old) : 0;
    void *p = __libc_realloc(old, n);
    if (p) {
        count((long long)malloc_usable_size(p) - before);
    } else if (old && n == 0) {
        count(-before);  // glibc's realloc(p, 0) frees p
    }
    return p;
}

void *reallocarray(void *old, size_t a, size_t b) {
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) { errno = ENOMEM; return NULL; }
    return realloc(old, n);
}

static void *aligned(size_t align, size_t n) {
    void *p = __libc_memalign(align, n);
    if (p) count((long long)malloc_usable_size(p));
    return p;
}

void *memalign(size_t align, size_t n) { return aligned(align, n); }
void *aligned_alloc(size_t align, size_t n) { return aligned(align, n); }
void *valloc(size_t n) { return aligned((size_t)sysconf(_SC_PAGESIZE), n); }

void *pvalloc(size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return aligned(page, (n + page - 1) & ~(page - 1));
}

int posix_memalign(void **out, size_t align, size_t n) {
    if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0 || align == 0) return EINVAL;
    void *p = aligned(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

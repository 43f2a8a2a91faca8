// Shim exposing the Linux calls that `import Glibc` lacks (epoll, signalfd, eventfd, timerfd)
// and the one it hides (accept4). Deliberately no _GNU_SOURCE: it breaks Foundation-importing tests.
#ifndef VIGIL_CSYSTEM_H
#define VIGIL_CSYSTEM_H
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <signal.h>
#include <errno.h>
#include <sys/random.h>

int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

/// errno as a function: Swift's `errno` accessor works too, but this keeps Posix.swift simple.
static inline int vigil_errno(void) { return errno; }
static inline void vigil_set_errno(int e) { errno = e; }

/// Bytes the process has allocated (vigil-node's interposed malloc counts them, CAlloc/alloc.c;
/// without it, the allocator's own figure from mallinfo2).
size_t vigil_alloc_used(void);
/// 1 when allocations are counted by the interposer, 0 when `vigil_alloc_used` is mallinfo2's.
int vigil_alloc_counting(void);
/// The allocator's view: bytes in use in its arenas and mmapped chunks, and arena bytes held.
void vigil_malloc_info(size_t *allocated, size_t *arena, size_t *mmapped, size_t *free_bytes);
/// Returns freed arena memory to the kernel (MEMORY PURGE).
void vigil_malloc_trim(void);

/// A job for the lazyfree thread: `fn(job)` runs there (Redis's bio.c, BIO_LAZY_FREE).
typedef void (*vigil_bio_fn)(void *job);
/// Queues `fn(job)` for the background thread, started on first use; `objects` is what the job
/// frees (INFO lazyfree_pending_objects / lazyfreed_objects). Returns 0, or -1 when the thread
/// cannot be started (the caller then runs the job itself).
int vigil_bio_submit(vigil_bio_fn fn, void *job, size_t objects);
/// Objects queued and not yet freed.
size_t vigil_bio_pending_objects(void);
/// Objects freed by the thread since start (or the last reset).
size_t vigil_bio_freed_objects(void);
/// Zeroes the freed-objects counter (CONFIG RESETSTAT).
void vigil_bio_reset_freed(void);
#endif

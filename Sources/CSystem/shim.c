// The shim is header-only except for the allocator figures below; SwiftPM needs one source file
// per C target anyway.
#include "CSystem.h"
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

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

// MARK: - The lazyfree thread (bio.c's BIO_LAZY_FREE): a mutex-guarded FIFO of jobs and one worker.
// The event loop only links a node and signals; the worker unlinks a job, runs it unlocked and
// counts what it freed. A forked child never touches this queue (it has no worker thread and
// does not free values through it): a child inherits the mutex in whatever state the worker
// left it, so it must not lock it.

struct bio_job { struct bio_job *next; vigil_bio_fn fn; void *job; size_t objects; };

static pthread_mutex_t bio_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bio_cond = PTHREAD_COND_INITIALIZER;
static struct bio_job *bio_head, *bio_tail;
static int bio_started;
static size_t bio_pending, bio_freed;

static void *bio_worker(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&bio_lock);
        while (!bio_head) pthread_cond_wait(&bio_cond, &bio_lock);
        struct bio_job *j = bio_head;
        bio_head = j->next;
        if (!bio_head) bio_tail = NULL;
        pthread_mutex_unlock(&bio_lock);
        j->fn(j->job);
        __atomic_fetch_sub(&bio_pending, j->objects, __ATOMIC_RELAXED);
        __atomic_fetch_add(&bio_freed, j->objects, __ATOMIC_RELAXED);
        free(j);
    }
    return NULL;
}

int vigil_bio_submit(vigil_bio_fn fn, void *job, size_t objects) {
    struct bio_job *j = malloc(sizeof *j);
    if (!j) return -1;
    j->next = NULL; j->fn = fn; j->job = job; j->objects = objects;
    pthread_mutex_lock(&bio_lock);
    if (!bio_started) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        // Freeing recurses little; 1 MB is ample and keeps the thread's reservation small.
        pthread_attr_setstacksize(&attr, 1 << 20);
        int rc = pthread_create(&t, &attr, bio_worker, NULL);
        pthread_attr_destroy(&attr);
        if (rc != 0) { pthread_mutex_unlock(&bio_lock); free(j); return -1; }
        pthread_detach(t);
        bio_started = 1;
    }
    __atomic_fetch_add(&bio_pending, objects, __ATOMIC_RELAXED);
    if (bio_tail) bio_tail->next = j; else bio_head = j;
    bio_tail = j;
    pthread_cond_signal(&bio_cond);
    pthread_mutex_unlock(&bio_lock);
    return 0;
}

size_t vigil_bio_pending_objects(void) { return __atomic_load_n(&bio_pending, __ATOMIC_RELAXED); }
size_t vigil_bio_freed_objects(void) { return __atomic_load_n(&bio_freed, __ATOMIC_RELAXED); }
void vigil_bio_reset_freed(void) { __atomic_store_n(&bio_freed, 0, __ATOMIC_RELAXED); }

/* real/sys_real.h — handler/sys.h on the real kernel: pthreads, a real
 * userfaultfd, the snapshot read from a file descriptor.
 *
 * Contract: sys_real_new() returns a sys_t whose ops are thin wrappers over
 * the system calls, with -errno results exactly as sys.h documents them
 * (UFFDIO_COPY/ZEROPAGE report the kernel's copy/zeropage field; on kernels
 * before 6.15, which leave that field untouched on the early mmap_changing
 * refusal, the field is reported as -errno instead of a stale value).
 * Threads come from a pool of parked pthreads, so spawn costs a hand-over,
 * not a clone(); detached and joinable threads both use it. Buffers are
 * page-aligned (2 MiB-aligned from 2 MiB up) and large ones are recycled
 * through a small cache, as a fresh 2 MiB allocation costs more than the
 * copy it serves. The rwlock is writer-preferring
 * (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP). Every op is
 * thread-safe. sys_real_free() may be called only when no thread started by
 * spawn is still running (stop the handler first); it joins the pool.
 *
 * The source is a file descriptor (the snapshot memfd, borrowed); reads use
 * pread at the offset the handler asks for. Failure injection
 * (sys_real_source_fail) makes the next n reads of one page fail with -EIO
 * (n = 0: every read, for good), as the scenario op `source-fail P N`.
 * The note hook receives every sys note (tests use it as a barrier point);
 * set it before the handler starts, clear it after the handler stopped.
 */
#ifndef UFFDLAB_REAL_SYS_REAL_H
#define UFFDLAB_REAL_SYS_REAL_H

#include <stdint.h>

#include "handler/sys.h"

typedef void (*sys_real_note_fn)(void *ctx, enum sys_note what, uint64_t a,
				 uint64_t b);

struct sys_real_opts {
	int source_fd;           /* snapshot file (borrowed), -1 = none */
	uint64_t source_page;    /* page size the failure injection counts in */
	uint64_t seed;           /* PRNG seed; 0 = from the clock */
	uint64_t stack_size;     /* pool thread stack; 0 = 256 KiB */
};

int sys_real_new(const struct sys_real_opts *opts, sys_t **out);
void sys_real_free(sys_t *sys);

/* The next n source reads of page `page` fail with -EIO; n = 0: all of them,
 * for good; n < 0 clears the injection. Replaces an earlier setting. */
int sys_real_source_fail(sys_t *sys, uint64_t page, int n);
/* Source reads done and failed so far (all pages). */
void sys_real_source_counts(sys_t *sys, uint64_t *reads, uint64_t *failed);

/* fn(ctx, ...) for every note; fn = NULL removes the hook. */
void sys_real_set_note_hook(sys_t *sys, sys_real_note_fn fn, void *ctx);

/* Threads the pool created so far (tests: spawn reuses parked threads). */
uint64_t sys_real_threads_created(sys_t *sys);
/* Threads started by spawn that have not returned yet: 0 once a handler's
 * serve loop and all its workers have ended (tests: "the handler gave up
 * on its own"). */
int sys_real_threads_running(sys_t *sys);

#endif

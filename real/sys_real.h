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

/* --- the replay gate (real/turnstile.h) ---
 * A gate sees every sys call that is a scheduling point in the simulator
 * (model/sys_model.c, sync.c, pipe.c: the call's sched_point), before and
 * after it runs, so that a replay can let threads pass in a trace's order.
 * enter() returning 1 skips the call (only SYS_REAL_OP_SLEEP: a backoff
 * means nothing when the order is imposed). spawn asks child() for a token
 * of the new thread, which runs child_begin(token) first and child_end
 * after its function returned. Install with no handler thread running;
 * gate = NULL removes it. */
enum sys_real_op {
	SYS_REAL_OP_SPAWN = 1, SYS_REAL_OP_JOIN, SYS_REAL_OP_YIELD,
	SYS_REAL_OP_SLEEP, SYS_REAL_OP_MUTEX_LOCK, SYS_REAL_OP_MUTEX_UNLOCK,
	SYS_REAL_OP_RDLOCK, SYS_REAL_OP_RDUNLOCK, SYS_REAL_OP_WRLOCK,
	SYS_REAL_OP_WRUNLOCK, SYS_REAL_OP_COND_WAIT, SYS_REAL_OP_COND_SIGNAL,
	SYS_REAL_OP_COND_BROADCAST, SYS_REAL_OP_ATOMIC_LOAD,
	SYS_REAL_OP_ATOMIC_STORE, SYS_REAL_OP_ATOMIC_ADD, SYS_REAL_OP_ATOMIC_CAS,
	SYS_REAL_OP_PIPE, SYS_REAL_OP_WRITE, SYS_REAL_OP_READ, SYS_REAL_OP_CLOSE,
	SYS_REAL_OP_POLL, SYS_REAL_OP_UFFD_READ, SYS_REAL_OP_UFFD_COPY,
	SYS_REAL_OP_UFFD_ZEROPAGE, SYS_REAL_OP_UFFD_WAKE, SYS_REAL_OP_UFFD_WP,
	SYS_REAL_OP_SOURCE_READ,
	SYS_REAL_OP_UFFD_UNREGISTER, SYS_REAL_OP_DUP,
	SYS_REAL_OP_SEM_ACQUIRE, SYS_REAL_OP_SEM_RELEASE, SYS_REAL_OP_SEM_WAIT,
	/* not sys calls: a scenario thread's guest access and madvise, and a
	 * wait whose condition the replay itself keeps in step; the guest
	 * process's exit (its step, not run: real/replay_real.h) and munmap */
	SYS_REAL_OP_ACCESS, SYS_REAL_OP_MADVISE, SYS_REAL_OP_BLOCK,
	SYS_REAL_OP_EXIT, SYS_REAL_OP_MUNMAP,
	SYS_REAL_NOPS
};

/* What a call did, for the gate to compare with the trace. */
struct sys_real_obs {
	int64_t res;                 /* the call's result */
	const struct uffd_msg *msgs; /* UFFD_READ: res messages */
	uint64_t addr, len;          /* COPY/ZEROPAGE dst, len; SOURCE_READ offset */
	const void *buf;             /* COPY src, SOURCE_READ buffer */
	int64_t field;               /* COPY copied / ZEROPAGE zeroed */
};

struct sys_real_gate {
	int (*enter)(void *ctx, enum sys_real_op op);
	void (*leave)(void *ctx, enum sys_real_op op, const struct sys_real_obs *obs);
	void *(*child)(void *ctx);
	void (*child_begin)(void *ctx, void *token);
	void (*child_end)(void *ctx, void *token);
	/* optional: a lock, mutex_lock, rdlock, wrlock or cond_wait's mutex,
	 * taken too early for the gate's order (early() 1): the call gives it
	 * back, waits in turn(), and takes it again */
	int (*early)(void *ctx);
	void (*turn)(void *ctx);
};
void sys_real_set_gate(sys_t *sys, const struct sys_real_gate *gate, void *ctx);

#endif

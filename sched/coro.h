/* sched/coro.h — stackful coroutines for x86_64, and a pool of their stacks.
 *
 * Contract: a `struct coro` is a suspended execution context: coro_switch()
 * saves the caller's callee-saved registers (rbx, rbp, r12-r15, rsp) and its
 * MXCSR / x87 control words, and resumes another context. No system call is
 * made on a switch. A `struct coro` left zeroed stands for the context of
 * the OS thread itself (the first context that switches away).
 *
 * A new coroutine is made on a stack from a `struct coro_pool`; its entry
 * function must call coro_begin() first and must never return: it ends by
 * coro_exit_to(), after which its stack may be put back in the pool by the
 * context it switched to (never by itself, it is still running on it).
 *
 * Stacks are mmap'd with a PROT_NONE guard page below them, registered with
 * valgrind, and kept by the pool for reuse; ASan is told about every switch
 * (fiber API) and a reused stack is unpoisoned. Not thread-safe: a pool and
 * its coroutines belong to one OS thread.
 */
#ifndef UFFDLAB_SCHED_CORO_H
#define UFFDLAB_SCHED_CORO_H

#include <stddef.h>

#define CORO_STACK_DEFAULT (64 * 1024)
/* Below this the first frame, the sanitizers and any real work do not fit. */
#define CORO_STACK_MIN (16 * 1024)

/* Under ASan each coroutine may own a fake stack (detect_stack_use_after_
 * return), freed only when the coroutine itself leaves for good through
 * coro_exit_to(). A user that abandons suspended coroutines should then
 * resume each one once, just to make it exit. */
/* gcc says __SANITIZE_ADDRESS__; clang (14) only __has_feature: without
 * this a clang ASan build silently lost every stack-switch annotation and
 * reported stale stack shadow from a signal handler (the fuzz targets) */
#if defined(__SANITIZE_ADDRESS__)
#define CORO_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_HAVE_ASAN 1
#endif
#endif

#if defined(CORO_HAVE_ASAN)
#define CORO_REAP_ABANDONED 1
#else
#define CORO_REAP_ABANDONED 0
#endif

struct coro {
	void *sp;              /* saved stack pointer while suspended */
	/* ASan bookkeeping (unused otherwise): this context's stack, learned
	 * on the first switch away for the OS thread's own context. */
	const void *stack_lo;
	size_t stack_size;
	void *asan_fake;       /* fake stack saved while suspended */
	struct coro *resumer;  /* who switched to us last */
};

struct coro_stack {
	struct coro_stack *next; /* pool free list */
	void *map;               /* whole mapping, guard page included */
	size_t map_len;
	void *lo;                /* usable stack: [lo, lo + size) */
	size_t size;
	unsigned vg_id;          /* valgrind stack id */
};

struct coro_pool {
	struct coro_stack *free;
	size_t stack_size;     /* usable bytes of every stack of this pool */
	size_t nstacks;        /* stacks mapped and not yet unmapped */
	size_t nfree;          /* of which in the free list */
};

/* stack_size 0 means CORO_STACK_DEFAULT; it is rounded up to whole pages
 * and to at least CORO_STACK_MIN. */
void coro_pool_init(struct coro_pool *p, size_t stack_size);
/* A stack from the free list, or a newly mapped one: 0 or -ENOMEM. */
int coro_pool_get(struct coro_pool *p, struct coro_stack **out);
void coro_pool_put(struct coro_pool *p, struct coro_stack *st);
/* Unmap every stack in the free list (stacks handed out stay valid). */
void coro_pool_drain(struct coro_pool *p);
/* Set a new stack size: drains the free list if the size changes. */
void coro_pool_resize(struct coro_pool *p, size_t stack_size);
/* The size coro_pool_init would store for this request. */
size_t coro_stack_round(size_t stack_size);

/* Prepare c to run entry(arg) on st when first switched to. */
void coro_make(struct coro *c, struct coro_stack *st, void (*entry)(void *),
	       void *arg);
/* Suspend `from` (the running context) and resume `to`. Returns when some
 * context switches back to `from`. */
void coro_switch(struct coro *from, struct coro *to);
/* Like coro_switch, but `from` is finished and is never resumed. */
__attribute__((noreturn)) void coro_exit_to(struct coro *from,
					    struct coro *to);
/* First call of every coroutine's entry function. */
void coro_begin(struct coro *self);

#endif

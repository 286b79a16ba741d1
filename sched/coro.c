/* sched/coro.c — coroutine stacks, their pool, and the sanitizer-aware
 * switch around the assembly in coro_x86_64.S. */
#include "sched/coro.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <valgrind/valgrind.h>

#if defined(CORO_HAVE_ASAN) /* sched/coro.h: gcc's and clang's spelling */
#define CORO_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

void uffdlab_coro_swap(void **save_sp, void *load_sp);
void uffdlab_coro_boot(void);

/* The ABI's power-on values: round to nearest, all exceptions masked. */
#define MXCSR_DEFAULT 0x1f80u
#define FPUCW_DEFAULT 0x037fu

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

size_t coro_stack_round(size_t stack_size)
{
	size_t ps = page_size();

	if (stack_size == 0)
		stack_size = CORO_STACK_DEFAULT;
	if (stack_size < CORO_STACK_MIN)
		stack_size = CORO_STACK_MIN;
	if (stack_size > SIZE_MAX - ps)
		stack_size = SIZE_MAX - ps;
	size_t r = (stack_size + ps - 1) / ps * ps;

	assert(r >= CORO_STACK_MIN && r % ps == 0);
	return r;
}

void coro_pool_init(struct coro_pool *p, size_t stack_size)
{
	memset(p, 0, sizeof(*p));
	p->stack_size = coro_stack_round(stack_size);
	assert(!p->free && !p->nstacks && p->stack_size >= CORO_STACK_MIN);
}

static void stack_unmap(struct coro_stack *st)
{
	VALGRIND_STACK_DEREGISTER(st->vg_id);
#ifdef CORO_ASAN
	/* Frames abandoned on this stack leave poisoned shadow behind; the
	 * next mapping at this address must not inherit it. */
	__asan_unpoison_memory_region(st->lo, st->size);
#endif
	munmap(st->map, st->map_len);
	free(st);
}

int coro_pool_get(struct coro_pool *p, struct coro_stack **out)
{
	struct coro_stack *st = p->free;

	if (st) {
		/* the free list holds only stacks of the pool's size */
		assert(p->nfree > 0 && st->size == p->stack_size);
		p->free = st->next;
		p->nfree--;
		st->next = NULL;
		*out = st;
		return 0;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	size_t guard = page_size();

	if (p->stack_size > SIZE_MAX - guard) {
		free(st);
		return -ENOMEM;
	}
	st->map_len = p->stack_size + guard;
	st->map = mmap(NULL, st->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (st->map == MAP_FAILED) {
		int err = errno;

		free(st);
		return -(err ? err : ENOMEM);
	}
	/* Stacks grow down: the guard sits at the low end, so an overflow
	 * faults instead of scribbling over a neighbour. */
	if (mprotect(st->map, guard, PROT_NONE) != 0) {
		int err = errno;

		munmap(st->map, st->map_len);
		free(st);
		return -(err ? err : ENOMEM);
	}
	st->lo = (char *)st->map + guard;
	st->size = p->stack_size;
	st->vg_id = VALGRIND_STACK_REGISTER(st->lo, (char *)st->lo + st->size);
	p->nstacks++;
	/* the usable stack lies inside the mapping, above its guard */
	assert((char *)st->lo + st->size == (char *)st->map + st->map_len);
	assert(p->nfree < p->nstacks);
	*out = st;
	return 0;
}

void coro_pool_put(struct coro_pool *p, struct coro_stack *st)
{
	if (!st)
		return;
	assert(p->nstacks > p->nfree);
	if (st->size != p->stack_size) {
		/* Made before a resize: not reusable at the new size. */
		stack_unmap(st);
		p->nstacks--;
		return;
	}
	st->next = p->free;
	p->free = st;
	p->nfree++;
}

void coro_pool_drain(struct coro_pool *p)
{
	while (p->free) {
		struct coro_stack *st = p->free;

		p->free = st->next;
		assert(p->nfree > 0 && p->nstacks > 0);
		stack_unmap(st);
		p->nfree--;
		p->nstacks--;
	}
	assert(p->nfree == 0);
}

void coro_pool_resize(struct coro_pool *p, size_t stack_size)
{
	size_t sz = coro_stack_round(stack_size);

	if (sz == p->stack_size)
		return;
	coro_pool_drain(p);
	p->stack_size = sz;
	assert(!p->free && p->stack_size == sz);
}

void coro_make(struct coro *c, struct coro_stack *st, void (*entry)(void *),
	       void *arg)
{
	uintptr_t top = ((uintptr_t)st->lo + st->size) & ~(uintptr_t)15;
	/* The return address sits at top - 24, so that after the `ret` into
	 * uffdlab_coro_boot rsp = top - 16 is 16-byte aligned for its call. */
	uint64_t *frame = (uint64_t *)(top - 24) - 7;

	/* the first frame fits in the stack, below its top */
	assert((uintptr_t)frame >= (uintptr_t)st->lo &&
	       top <= (uintptr_t)st->lo + st->size);

#ifdef CORO_ASAN
	__asan_unpoison_memory_region(st->lo, st->size);
#endif
	frame[0] = (uint64_t)MXCSR_DEFAULT | (uint64_t)FPUCW_DEFAULT << 32;
	frame[1] = 0;                       /* r15 */
	frame[2] = 0;                       /* r14 */
	frame[3] = (uint64_t)(uintptr_t)arg;   /* r13 */
	frame[4] = (uint64_t)(uintptr_t)entry; /* r12 */
	frame[5] = 0;                       /* rbx */
	frame[6] = 0;                       /* rbp: ends frame-pointer walks */
	frame[7] = (uint64_t)(uintptr_t)uffdlab_coro_boot;
	((uint64_t *)(top - 16))[0] = 0;
	((uint64_t *)(top - 16))[1] = 0;

	memset(c, 0, sizeof(*c));
	c->sp = frame;
	c->stack_lo = st->lo;
	c->stack_size = st->size;
}

#ifdef CORO_ASAN
/* After a switch lands in `self`: finish ASan's fiber switch and note the
 * bounds of the stack we came from; that is how the OS thread's own context
 * (a zeroed struct coro) gets its bounds before anyone switches back to it. */
static void asan_landed(struct coro *self, void *fake)
{
	const void *lo = NULL;
	size_t size = 0;
	struct coro *from = self->resumer;

	__sanitizer_finish_switch_fiber(fake, &lo, &size);
	if (from) {
		from->stack_lo = lo;
		from->stack_size = size;
	}
}
#endif

/* addr is in c's stack, or c has no bounds (the OS thread's context). */
static int frame_in_stack(const struct coro *c, const void *addr)
{
	return !c->stack_lo ||
	       ((uintptr_t)addr >= (uintptr_t)c->stack_lo &&
		(uintptr_t)addr < (uintptr_t)c->stack_lo + c->stack_size);
}

void coro_switch(struct coro *from, struct coro *to)
{
#ifdef CORO_ASAN
	to->resumer = from;
	__sanitizer_start_switch_fiber(&from->asan_fake, to->stack_lo,
				       to->stack_size);
	uffdlab_coro_swap(&from->sp, to->sp);
	asan_landed(from, from->asan_fake);
#else
	uffdlab_coro_swap(&from->sp, to->sp);
#endif
}

void coro_exit_to(struct coro *from, struct coro *to)
{
#ifdef CORO_ASAN
	to->resumer = from;
	/* NULL: this fiber is over, ASan may free its fake stack. */
	__sanitizer_start_switch_fiber(NULL, to->stack_lo, to->stack_size);
#endif
	uffdlab_coro_swap(&from->sp, to->sp);
	__builtin_unreachable();
}

void coro_begin(struct coro *self)
{
	/* running on the stack coro_make gave it */
	assert(self->stack_lo && frame_in_stack(self, __builtin_frame_address(0)));
#ifdef CORO_ASAN
	asan_landed(self, NULL);
#endif
}

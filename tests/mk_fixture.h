/* tests/mk_fixture.h — the fixture of the simulated kernel's rule tests
 * (tests/test_model_{queue,fill,remove,events,kernel}.c): one scheduler,
 * one model kernel with its uffd, and the sys wrappers the small guest,
 * balloon and handler programs of those tests call.
 *
 * Contract: x_init() makes a fresh scheduler and kernel for one seed and
 * x_fini() frees them; a program spin-waits on observable state with
 * until(), so that what a test asserts holds on every schedule; the
 * wrappers return what the sys call returned. Failures are cmocka
 * assertions, so this is for cmocka tests only: the functions are static
 * inline so that each test file has its own and no name reaches the link
 * of the other tests.
 */
#ifndef UFFDLAB_TESTS_MK_FIXTURE_H
#define UFFDLAB_TESTS_MK_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "handler/sys.h"
#include "model/kernel.h"
#include "model/sys_model.h"
#include "sched/sched.h"

#define SEEDS 12
#define PS UINT64_C(4096)

struct x {
	sched_t *s;
	struct mkern *k;
	sys_t *sys;
	int uffd;
	uint64_t base, ps;
	int tid[8];
	int r[32];
	int64_t f[32];
	mk_content c[32];
	struct uffd_msg m[16];
	int nm;
	int phase;
	int done[8];
};

#define ADDR(x, p) ((x)->base + (uint64_t)(p) * (x)->ps)
#define until(x, cond)                      \
	do {                                \
		while (!(cond))             \
			sched_yield((x)->s); \
	} while (0)

static inline struct mk_config cfg_basic(uint64_t features)
{
	struct mk_config c = {
		.page_size = PS,
		.pages = 8,
		.features = features,
	};
	return c;
}

static inline void x_init(struct x *x, const struct mk_config *cfg, uint64_t seed)
{
	struct sched_opts o = {
		.strategy = SCHED_RANDOM,
		.seed = seed,
		.max_steps = 200000,
	};

	memset(x, 0, sizeof(*x));
	x->s = sched_new(&o);
	assert_non_null(x->s);
	x->k = mk_new(x->s, cfg);
	assert_non_null(x->k);
	x->sys = mk_sys(x->k);
	x->uffd = mk_uffd(x->k);
	x->base = cfg->base ? cfg->base : MK_BASE_DEFAULT;
	x->ps = cfg->page_size;
}

static inline void x_fini(struct x *x)
{
	mk_free(x->k);
	sched_free(x->s);
}

static inline int spawn(struct x *x, const char *name, int kind, void (*fn)(void *))
{
	int t = sched_spawn(x->s, name, kind, fn, x);

	assert_true(t >= 0);
	return t;
}

static inline int waiting(struct x *x, int i)
{
	return mk_waiting_page(x->k, x->tid[i], NULL) >= 0;
}

static inline int blocked(struct x *x, int i)
{
	return sched_thread_state(x->s, x->tid[i]) == SCHED_T_BLOCKED;
}

/* sys wrappers for the handler programs */
static inline int copy_pages(struct x *x, int page, int n, mk_content tag,
		      uint64_t mode, int64_t *field)
{
	const struct sys_ops *o = x->sys->ops;
	/* one page of source per page copied (a copy stops where its
	 * source ends, rule 14) */
	uint64_t blen = (uint64_t)(n > 0 ? n : 1) * x->ps;
	void *b = o->buf_alloc(x->sys, blen);
	int64_t f;

	assert_non_null(b);
	assert_int_equal(mk_buf_set(x->k, b, tag), 0);
	int r = o->uffd_copy(x->sys, x->uffd, ADDR(x, page), b,
			     (uint64_t)n * x->ps, mode, &f);

	o->buf_free(x->sys, b, blen);
	if (field)
		*field = f;
	return r;
}

static inline int zero_pages(struct x *x, int page, int n, uint64_t mode,
		      int64_t *field)
{
	int64_t f;
	int r = x->sys->ops->uffd_zeropage(x->sys, x->uffd, ADDR(x, page),
					   (uint64_t)n * x->ps, mode, &f);

	if (field)
		*field = f;
	return r;
}

static inline int rd(struct x *x, struct uffd_msg *m, int max)
{
	return x->sys->ops->uffd_read(x->sys, x->uffd, m, max);
}

static inline int wake(struct x *x, int page, int n)
{
	return x->sys->ops->uffd_wake(x->sys, x->uffd, ADDR(x, page),
				      (uint64_t)n * x->ps);
}

static inline int wprotect(struct x *x, int page, int n, uint64_t mode)
{
	return x->sys->ops->uffd_writeprotect(x->sys, x->uffd, ADDR(x, page),
					      (uint64_t)n * x->ps, mode);
}

static inline void assert_pf(const struct uffd_msg *m, uint64_t addr, uint64_t flags)
{
	assert_int_equal(m->event, UFFD_EVENT_PAGEFAULT);
	assert_int_equal(m->arg.pagefault.address, addr);
	assert_int_equal(m->arg.pagefault.flags, flags);
}

static inline void assert_range_event(const struct uffd_msg *m, int event,
			       uint64_t start, uint64_t end)
{
	assert_int_equal(m->event, event);
	assert_int_equal(m->arg.remove.start, start);
	assert_int_equal(m->arg.remove.end, end);
}

static inline void page_is(struct x *x, int page, int present, mk_content c)
{
	struct mk_page_view v;

	mk_page_view(x->k, page, &v);
	assert_int_equal(v.present, present);
	assert_int_equal(v.content, c);
}

static inline void nop(void *a)
{
	(void)a;
}

#endif

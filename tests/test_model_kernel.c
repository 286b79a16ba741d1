/* tests/test_model_kernel.c — the simulated kernel against docs/KERNEL.md's
 * Model rules, one test per rule (r01 ... r41).
 *
 * Each test runs small coroutine programs (guest, balloon, handler) on the
 * scheduler with the random strategy, over several seeds, and asserts what
 * a program can observe: return codes, output fields, message order, page
 * contents, whether a thread is blocked. Threads order themselves with
 * `until(cond)` spin-waits on observable state, so the assertions hold on
 * every schedule; the expected values are those docs/KERNEL.md's probes saw on
 * a real 6.18 kernel. r25 instead explores seeds until all three outcomes
 * of a COPY racing madvise's steps have been seen.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static struct mk_config cfg_basic(uint64_t features)
{
	struct mk_config c = {
		.page_size = PS,
		.pages = 8,
		.features = features,
	};
	return c;
}

static void x_init(struct x *x, const struct mk_config *cfg, uint64_t seed)
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

static void x_fini(struct x *x)
{
	mk_free(x->k);
	sched_free(x->s);
}

static int spawn(struct x *x, const char *name, int kind, void (*fn)(void *))
{
	int t = sched_spawn(x->s, name, kind, fn, x);

	assert_true(t >= 0);
	return t;
}

static int waiting(struct x *x, int i)
{
	return mk_waiting_page(x->k, x->tid[i], NULL) >= 0;
}

static int blocked(struct x *x, int i)
{
	return sched_thread_state(x->s, x->tid[i]) == SCHED_T_BLOCKED;
}

/* sys wrappers for the handler programs */
static int copy_pages(struct x *x, int page, int n, mk_content tag,
		      uint64_t mode, int64_t *field)
{
	const struct sys_ops *o = x->sys->ops;
	void *b = o->buf_alloc(x->sys, x->ps);
	int64_t f;

	assert_non_null(b);
	assert_int_equal(mk_buf_set(x->k, b, tag), 0);
	int r = o->uffd_copy(x->sys, x->uffd, ADDR(x, page), b,
			     (uint64_t)n * x->ps, mode, &f);

	o->buf_free(x->sys, b, x->ps);
	if (field)
		*field = f;
	return r;
}

static int zero_pages(struct x *x, int page, int n, uint64_t mode,
		      int64_t *field)
{
	int64_t f;
	int r = x->sys->ops->uffd_zeropage(x->sys, x->uffd, ADDR(x, page),
					   (uint64_t)n * x->ps, mode, &f);

	if (field)
		*field = f;
	return r;
}

static int rd(struct x *x, struct uffd_msg *m, int max)
{
	return x->sys->ops->uffd_read(x->sys, x->uffd, m, max);
}

static int wake(struct x *x, int page, int n)
{
	return x->sys->ops->uffd_wake(x->sys, x->uffd, ADDR(x, page),
				      (uint64_t)n * x->ps);
}

static int wprotect(struct x *x, int page, int n, uint64_t mode)
{
	return x->sys->ops->uffd_writeprotect(x->sys, x->uffd, ADDR(x, page),
					      (uint64_t)n * x->ps, mode);
}

static void assert_pf(const struct uffd_msg *m, uint64_t addr, uint64_t flags)
{
	assert_int_equal(m->event, UFFD_EVENT_PAGEFAULT);
	assert_int_equal(m->arg.pagefault.address, addr);
	assert_int_equal(m->arg.pagefault.flags, flags);
}

static void assert_range_event(const struct uffd_msg *m, int event,
			       uint64_t start, uint64_t end)
{
	assert_int_equal(m->event, event);
	assert_int_equal(m->arg.remove.start, start);
	assert_int_equal(m->arg.remove.end, end);
}

static void page_is(struct x *x, int page, int present, mk_content c)
{
	struct mk_page_view v;

	mk_page_view(x->k, page, &v);
	assert_int_equal(v.present, present);
	assert_int_equal(v.content, c);
}

static void nop(void *a)
{
	(void)a;
}

/* ------------------------------------------------------------------ */
/* rules 1-5: queues and read()                                        */

static void r01_guest(void *a)
{
	struct x *x = a;
	int me = sched_self(x->s);
	int i = me == x->tid[0] ? 0 : me == x->tid[1] ? 1 : 2;

	/* fault in order g0, g1, g2, after the first REMOVE was queued */
	until(x, mk_waiting_event(x->k, x->tid[3]));
	if (i > 0)
		until(x, waiting(x, i - 1));
	x->c[i] = mk_guest_read(x->k, i);
}

static void r01_balloon0(void *a)
{
	struct x *x = a;

	x->r[0] = mk_madvise_dontneed(x->k, 4, 4);
	x->done[3] = 1;
}

static void r01_balloon1(void *a)
{
	struct x *x = a;

	until(x, mk_waiting_event(x->k, x->tid[3]));
	x->r[1] = mk_madvise_dontneed(x->k, 5, 5);
	x->done[4] = 1;
}

static void r01_handler(void *a)
{
	struct x *x = a;

	until(x, mk_pending_faults(x->k) == 3 && mk_pending_events(x->k) == 2);
	x->r[10] = rd(x, x->m, 2);
	x->r[11] = rd(x, x->m + 2, 8);
	/* until both madvise callers ran again, fills get EAGAIN (r25) */
	until(x, x->done[3] && x->done[4]);
	x->r[12] = copy_pages(x, 0, 3, MK_SNAP(9), 0, NULL);
}

/* Rule 1: faults before events whatever the queueing order, FIFO in each. */
static void test_r01_read_order(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		for (int i = 0; i < 3; i++)
			x.tid[i] = spawn(&x, "g", MK_GUEST, r01_guest);
		x.tid[3] = spawn(&x, "b0", MK_BALLOON, r01_balloon0);
		x.tid[4] = spawn(&x, "b1", MK_BALLOON, r01_balloon1);
		x.tid[5] = spawn(&x, "h", MK_HANDLER, r01_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[10], 2);
		assert_pf(&x.m[0], ADDR(&x, 0), 0);
		assert_pf(&x.m[1], ADDR(&x, 1), 0);
		assert_int_equal(x.r[11], 3);
		assert_pf(&x.m[2], ADDR(&x, 2), 0);
		assert_range_event(&x.m[3], UFFD_EVENT_REMOVE, ADDR(&x, 4), ADDR(&x, 5));
		assert_range_event(&x.m[4], UFFD_EVENT_REMOVE, ADDR(&x, 5), ADDR(&x, 6));
		assert_int_equal(x.r[12], 0);
		for (int i = 0; i < 3; i++)
			assert_int_equal(x.c[i], MK_SNAP(9));
		x_fini(&x);
	}
}

static void r02_guest(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 1);
}

static void r02_handler(void *a)
{
	struct x *x = a;
	struct uffd_msg m[8];

	x->r[0] = rd(x, m, 8); /* maybe before the fault: -EAGAIN */
	until(x, waiting(x, 0));
	if (x->r[0] == -EAGAIN)
		x->r[0] = rd(x, m, 8);
	x->r[1] = rd(x, m, 8);
	x->r[2] = rd(x, m, 0);
	x->r[3] = x->sys->ops->uffd_read(x->sys, 99, m, 8);
	x->r[4] = copy_pages(x, 1, 1, MK_SNAP(1), 0, NULL);
}

/* Rule 2: a read returns what is there (1 of 8), never waits to fill;
 * empty non-blocking -> EAGAIN; count < 1 msg -> EINVAL. */
static void test_r02_batch_read(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r02_guest);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r02_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[0], 1);
		assert_int_equal(x.r[1], -EAGAIN);
		assert_int_equal(x.r[2], -EINVAL);
		assert_int_equal(x.r[3], -EBADF);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.c[0], MK_SNAP(1));
		x_fini(&x);
	}
}

static void r03_handler(void *a)
{
	struct x *x = a;
	int read;

	until(x, waiting(x, 0));
	x->r[0] = rd(x, x->m, 1);
	for (int i = 0; i < 20; i++)
		sched_yield(x->s);
	x->r[1] = mk_waiting_page(x->k, x->tid[0], &read);
	x->r[2] = read;
	x->r[3] = blocked(x, 0);
	x->r[4] = mk_pending_faults(x->k);
	x->r[5] = copy_pages(x, 2, 1, MK_SNAP(2), 0, NULL);
}

/* Rule 3: reading a PAGEFAULT leaves its thread asleep ("read, waiting"). */
static void test_r03_read_does_not_wake(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r02_guest);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r03_handler);
		/* r02_guest reads page 1; serve page 1, not 2 */
		assert_int_equal(sched_run(x.s), SCHED_STUCK);
		assert_int_equal(x.r[0], 1);
		assert_int_equal(x.r[1], 1);
		assert_int_equal(x.r[2], 1);
		assert_int_equal(x.r[3], 1);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.r[5], 0);
		/* the COPY of another page woke nobody */
		assert_int_equal(mk_waiting_page(x.k, x.tid[0], NULL), 1);
		x_fini(&x);
	}
}

static void r04_guest(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 0);
}

static void r04_balloon(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0));
	x->r[0] = mk_madvise_dontneed(x->k, 2, 3);
	x->done[1] = 1;
}

static void r04_handler(void *a)
{
	struct x *x = a;

	until(x, mk_pending_faults(x->k) == 1 && mk_pending_events(x->k) == 1);
	x->r[1] = rd(x, x->m, 8);
	/* no scheduling point since the read: the madvise thread is
	 * already runnable, the faulting one is not */
	x->r[2] = sched_thread_state(x->s, x->tid[1]);
	x->r[3] = sched_thread_state(x->s, x->tid[0]);
	x->r[4] = mk_waiting_event(x->k, x->tid[1]);
	until(x, x->done[1]);
	x->r[5] = copy_pages(x, 0, 1, MK_SNAP(0), 0, NULL);
}

/* Rule 4: reading an event completes it inside the read. */
static void test_r04_event_read_completes(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r04_guest);
		x.tid[1] = spawn(&x, "b", MK_BALLOON, r04_balloon);
		x.tid[2] = spawn(&x, "h", MK_HANDLER, r04_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 2);
		assert_pf(&x.m[0], ADDR(&x, 0), 0);
		assert_range_event(&x.m[1], UFFD_EVENT_REMOVE, ADDR(&x, 2), ADDR(&x, 4));
		assert_int_equal(x.r[2], SCHED_T_RUNNABLE);
		assert_int_equal(x.r[3], SCHED_T_BLOCKED);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.r[0], 0);
		assert_int_equal(x.c[0], MK_SNAP(0));
		x_fini(&x);
	}
}

static void r05_handler(void *a)
{
	struct x *x = a;
	const struct sys_ops *o = x->sys->ops;
	struct sys_pollfd p = {.fd = x->uffd, .events = SYS_POLLIN};

	x->r[0] = o->poll(x->sys, &p, 1, 0); /* may race the fault */
	x->r[1] = o->poll(x->sys, &p, 1, -1); /* sleeps until it is queued */
	x->r[2] = p.revents;
	x->r[3] = rd(x, x->m, 1);
	x->r[4] = o->poll(x->sys, &p, 1, 0); /* read but waiting: not ready */
	x->r[5] = p.revents;
	x->r[6] = copy_pages(x, 1, 1, MK_SNAP(1), 0, NULL);
	p.fd = 77;
	x->r[7] = o->poll(x->sys, &p, 1, 0);
	x->r[8] = p.revents;
}

/* Rule 5: POLLIN iff a queue is non-empty; read-but-waiting does not
 * count; a sleeping poll wakes when a fault is queued. */
static void test_r05_poll(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r02_guest);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r05_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_true(x.r[0] == 0 || x.r[0] == 1);
		assert_int_equal(x.r[1], 1);
		assert_int_equal(x.r[2], SYS_POLLIN);
		assert_int_equal(x.r[3], 1);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.r[5], 0);
		assert_int_equal(x.r[6], 0);
		assert_int_equal(x.r[7], 1);
		assert_int_equal(x.r[8], SYS_POLLNVAL);
		x_fini(&x);
	}
}

/* ------------------------------------------------------------------ */
/* rules 6-12: faults                                                  */

static void r06_reader(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 3);
}

static void r06_writer(void *a)
{
	struct x *x = a;

	x->r[0] = mk_guest_write(x->k, 3, MK_WRITE(1));
}

static void r06_handler(void *a)
{
	struct x *x = a;

	until(x, mk_pending_faults(x->k) == 2);
	x->r[1] = rd(x, x->m, 8);
	x->r[2] = copy_pages(x, 3, 1, MK_SNAP(3), 0, NULL);
}

/* Rule 6: one message per faulting thread, one COPY wakes both. */
static void test_r06_one_msg_per_thread(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "gr", MK_GUEST, r06_reader);
		x.tid[1] = spawn(&x, "gw", MK_GUEST, r06_writer);
		x.tid[2] = spawn(&x, "h", MK_HANDLER, r06_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 2);
		assert_int_equal(x.m[0].arg.pagefault.address, ADDR(&x, 3));
		assert_int_equal(x.m[1].arg.pagefault.address, ADDR(&x, 3));
		/* flags 0 and WRITE, in fault order */
		assert_int_equal(x.m[0].arg.pagefault.flags |
					 x.m[1].arg.pagefault.flags,
				 UFFD_PAGEFAULT_FLAG_WRITE);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[0], 0);
		assert_true(x.c[0] == MK_SNAP(3) || x.c[0] == MK_WRITE(1));
		page_is(&x, 3, 1, MK_WRITE(1));
		x_fini(&x);
	}
}

static void r07_guest(void *a)
{
	struct x *x = a;

	x->r[0] = mk_guest_write(x->k, 5, MK_WRITE(7));
}

static void r07_handler(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0));
	x->r[1] = rd(x, x->m, 1);
	x->r[2] = copy_pages(x, 5, 1, MK_SNAP(5), 0, NULL);
}

/* Rule 7: address page-aligned, WRITE flag, ptid only with THREAD_ID. */
static void test_r07_msg_fields(void **st)
{
	(void)st;
	for (int tid_feat = 0; tid_feat <= 1; tid_feat++) {
		struct x x;
		struct mk_config c =
			cfg_basic(tid_feat ? UFFD_FEATURE_THREAD_ID : 0);

		x_init(&x, &c, 3);
		spawn(&x, "pad", MK_CONTROL, nop); /* the guest is not tid 0 */
		x.tid[0] = spawn(&x, "g", MK_GUEST, r07_guest);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r07_handler);
		sched_run(x.s);
		assert_int_equal(x.r[1], 1);
		assert_pf(&x.m[0], ADDR(&x, 5), UFFD_PAGEFAULT_FLAG_WRITE);
		assert_int_equal(x.m[0].arg.pagefault.feat.ptid,
				 tid_feat ? (uint32_t)x.tid[0] : 0);
		assert_int_equal(x.r[0], 0);
		x_fini(&x);
	}
}

static void r08_guest(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 2);
	x->done[0] = 1;
}

static void r08_handler(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0));
	x->r[0] = rd(x, x->m, 1);
	/* present by a DONTWAKE fill: no wake */
	x->r[1] = copy_pages(x, 2, 1, MK_SNAP(2), UFFDIO_COPY_MODE_DONTWAKE,
			     &x->f[1]);
	x->r[2] = copy_pages(x, 2, 1, MK_SNAP(8), 0, &x->f[2]); /* EEXIST */
	for (int i = 0; i < 10; i++)
		sched_yield(x->s);
	x->r[3] = blocked(x, 0);
	x->r[4] = wake(x, 2, 1);
	until(x, x->done[0]);
}

/* Rule 8: neither the read, nor the page becoming present, nor EEXIST
 * wakes; UFFDIO_WAKE does (other wake sources: r10, r20, r33, r40). */
static void test_r08_wake_sources(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r08_guest);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r08_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.f[1], (int64_t)PS);
		assert_int_equal(x.r[2], -EEXIST);
		assert_int_equal(x.f[2], -EEXIST);
		assert_int_equal(x.r[3], 1);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.c[0], MK_SNAP(2));
		x_fini(&x);
	}
}

static void r09_handler(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0));
	/* the unread message of a woken thread disappears */
	x->r[0] = copy_pages(x, 2, 1, MK_SNAP(2), 0, NULL);
	x->r[1] = mk_pending_faults(x->k);
	x->r[2] = rd(x, x->m, 8);
	until(x, x->done[0]);
}

static void r09_handler_wake(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0));
	x->r[0] = rd(x, x->m, 1);
	/* WAKE without a fill: the retried access faults again */
	x->r[1] = wake(x, 2, 1);
	until(x, mk_pending_faults(x->k) == 1);
	x->r[2] = rd(x, x->m + 1, 8);
	x->r[3] = copy_pages(x, 2, 1, MK_SNAP(2), 0, NULL);
	until(x, x->done[0]);
}

/* Rule 9: a woken thread's message leaves its queue; the thread retries
 * and faults again while the page is still missing. */
static void test_r09_wake_retries(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r08_guest);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r09_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[0], 0);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.r[2], -EAGAIN);
		assert_int_equal(x.c[0], MK_SNAP(2));
		x_fini(&x);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r08_guest);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r09_handler_wake);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.r[2], 1);
		assert_pf(&x.m[1], ADDR(&x, 2), 0);
		assert_int_equal(x.r[3], 0);
		assert_int_equal(x.c[0], MK_SNAP(2));
		x_fini(&x);
	}
}

static void r10_control(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0) && waiting(x, 1));
	x->r[0] = mk_signal(x->k, x->tid[0], 0);
	x->r[1] = mk_signal(x->k, x->tid[1], 1);
	until(x, mk_pending_faults(x->k) == 1 && !blocked(x, 1));
	x->r[2] = rd(x, x->m, 8);
	x->r[3] = copy_pages(x, 2, 1, MK_SNAP(2), 0, NULL);
	x->r[4] = mk_signal(x->k, x->tid[2], 1); /* not waiting: nothing */
}

static void r10_killed(void *a)
{
	struct x *x = a;

	x->c[1] = mk_guest_read(x->k, 4);
}

/* Rule 10: a signal ends a fault wait; the retried access queues a new
 * message (the unread one is dropped); a fatal one abandons the access. */
static void test_r10_signal(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r08_guest);
		x.tid[1] = spawn(&x, "gk", MK_GUEST, r10_killed);
		x.tid[2] = spawn(&x, "c", MK_CONTROL, r10_control);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[0], 1);
		assert_int_equal(x.r[1], 1);
		assert_int_equal(x.c[1], MK_KILLED);
		/* exactly one message left: g's second attempt */
		assert_int_equal(x.r[2], 1);
		assert_pf(&x.m[0], ADDR(&x, 2), 0);
		assert_int_equal(x.r[3], 0);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.c[0], MK_SNAP(2));
		x_fini(&x);
	}
}

static void r11_prefetch(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1);
	x->r[2] = copy_pages(x, 4, 1, MK_SNAP(4), 0, NULL);
	x->phase = 2;
}

static void r11_guest(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 4);
}

static void r11_handler(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0));
	x->r[0] = rd(x, x->m, 1);
	x->phase = 1;
	until(x, x->phase == 2);
	x->r[1] = copy_pages(x, 4, 1, MK_SNAP(9), 0, &x->f[1]);
}

/* Rule 11: a PAGEFAULT read for a page that became present: EEXIST. */
static void test_r11_fault_for_present_page(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r11_guest);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r11_handler);
		x.tid[2] = spawn(&x, "p", MK_HANDLER, r11_prefetch);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[0], 1);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[1], -EEXIST);
		assert_int_equal(x.f[1], -EEXIST);
		assert_int_equal(x.c[0], MK_SNAP(4));
		x_fini(&x);
	}
}

static void r12_kaccess(void *a)
{
	struct x *x = a;

	x->r[0] = mk_access(x->k, 0, 6, 0, 0, 1, &x->c[0]);
	x->done[0] = 1;
}

static void r12_handler(void *a)
{
	struct x *x = a;

	until(x, x->done[0] || waiting(x, 0));
	x->r[1] = mk_pending_faults(x->k);
	if (!x->done[0])
		x->r[2] = copy_pages(x, 6, 1, MK_SNAP(6), 0, NULL);
}

/* Rule 12: a kernel-mode access faults and sleeps like a user access;
 * with UFFD_USER_MODE_ONLY it gets EFAULT and queues nothing. */
static void test_r12_kernel_access(void **st)
{
	(void)st;
	for (int umo = 0; umo <= 1; umo++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		c.user_mode_only = umo;
		x_init(&x, &c, 5);
		x.tid[0] = spawn(&x, "sys", MK_GUEST, r12_kaccess);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r12_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		if (umo) {
			assert_int_equal(x.r[0], -EFAULT);
			assert_int_equal(x.r[1], 0);
		} else {
			assert_int_equal(x.r[0], 0);
			assert_int_equal(x.r[1], 1);
			assert_int_equal(x.c[0], MK_SNAP(6));
		}
		x_fini(&x);
	}
}

/* ------------------------------------------------------------------ */
/* rules 13-20: COPY / ZEROPAGE / WAKE / WRITEPROTECT                  */

static void r13_balloon(void *a)
{
	struct x *x = a;

	x->r[0] = mk_madvise_dontneed(x->k, 6, 6);
	x->done[0] = 1;
}

static void r13_handler(void *a)
{
	struct x *x = a;

	until(x, mk_waiting_event(x->k, x->tid[0]));
	x->r[1] = mk_mmap_changing(x->k);
	x->f[2] = 0x5a5a;
	x->r[2] = copy_pages(x, 0, 1, MK_SNAP(0), 0, &x->f[2]);
	x->r[3] = zero_pages(x, 1, 1, 0, &x->f[3]);
	x->r[4] = wprotect(x, 2, 1, UFFDIO_WRITEPROTECT_MODE_WP);
	x->r[5] = wake(x, 0, 8);
	x->r[6] = rd(x, x->m, 8);
	until(x, x->done[0]);
	x->r[7] = mk_mmap_changing(x->k);
	x->r[8] = copy_pages(x, 0, 1, MK_SNAP(0), 0, &x->f[8]);
}

/* Rule 13: while mmap_changing > 0, fills and WRITEPROTECT fail EAGAIN
 * anywhere (field = -EAGAIN); WAKE and read work. */
static void test_r13_mmap_changing_eagain(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		c.register_wp = 1;
		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r13_balloon);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r13_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 1);
		assert_int_equal(x.r[2], -EAGAIN);
		assert_int_equal(x.f[2], -EAGAIN);
		assert_int_equal(x.r[3], -EAGAIN);
		assert_int_equal(x.f[3], -EAGAIN);
		assert_int_equal(x.r[4], -EAGAIN);
		assert_int_equal(x.r[5], 0);
		assert_int_equal(x.r[6], 1);
		assert_range_event(&x.m[0], UFFD_EVENT_REMOVE, ADDR(&x, 6), ADDR(&x, 7));
		assert_int_equal(x.r[0], 0);
		assert_int_equal(x.r[7], 0);
		assert_int_equal(x.r[8], 0);
		assert_int_equal(x.f[8], (int64_t)PS);
		x_fini(&x);
	}
}

static void r14_handler(void *a)
{
	struct x *x = a;

	x->r[0] = copy_pages(x, 2, 1, MK_SNAP(2), 0, NULL);
	x->r[1] = copy_pages(x, 0, 4, MK_SNAP(0), 0, &x->f[1]);
	x->r[2] = copy_pages(x, 2, 2, MK_SNAP(9), 0, &x->f[2]);
	x->r[3] = zero_pages(x, 5, 1, 0, NULL);
	x->r[4] = zero_pages(x, 4, 4, 0, &x->f[4]);
}

/* Rule 14: fill in address order, stop at the first failing page; a
 * partial fill is EAGAIN with field = bytes done; none is -err. */
static void test_r14_partial_fill(void **st)
{
	(void)st;
	struct x x;
	struct mk_config c = cfg_basic(0);

	x_init(&x, &c, 1);
	spawn(&x, "h", MK_HANDLER, r14_handler);
	assert_int_equal(sched_run(x.s), SCHED_DONE);
	assert_int_equal(x.r[0], 0);
	assert_int_equal(x.r[1], -EAGAIN);
	assert_int_equal(x.f[1], 2 * (int64_t)PS);
	page_is(&x, 0, 1, MK_SNAP(0));
	page_is(&x, 1, 1, MK_SNAP(0));
	page_is(&x, 2, 1, MK_SNAP(2));
	page_is(&x, 3, 0, 0);
	assert_int_equal(x.r[2], -EEXIST);
	assert_int_equal(x.f[2], -EEXIST);
	assert_int_equal(x.r[3], 0);
	assert_int_equal(x.r[4], -EAGAIN);
	assert_int_equal(x.f[4], (int64_t)PS);
	page_is(&x, 4, 1, 0);
	page_is(&x, 6, 0, 0);
	x_fini(&x);
}

static void r15_g0(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 0);
	x->done[0] = 1;
}

static void r15_g3(void *a)
{
	struct x *x = a;

	x->c[1] = mk_guest_read(x->k, 3);
	x->done[1] = 1;
}

static void r15_handler(void *a)
{
	struct x *x = a;

	x->r[0] = copy_pages(x, 2, 1, MK_SNAP(2), 0, NULL);
	until(x, waiting(x, 0) && waiting(x, 1));
	x->r[1] = copy_pages(x, 0, 4, MK_SNAP(7), 0, &x->f[1]);
	until(x, x->done[0]);
	x->r[2] = blocked(x, 1);
	x->r[3] = copy_pages(x, 3, 1, MK_SNAP(3), UFFDIO_COPY_MODE_DONTWAKE, NULL);
	for (int i = 0; i < 10; i++)
		sched_yield(x->s);
	x->r[4] = blocked(x, 1);
	x->r[5] = wake(x, 3, 1);
}

/* Rule 15: only the filled prefix is woken; DONTWAKE wakes nobody. */
static void test_r15_wake_prefix(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g0", MK_GUEST, r15_g0);
		x.tid[1] = spawn(&x, "g3", MK_GUEST, r15_g3);
		x.tid[2] = spawn(&x, "h", MK_HANDLER, r15_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], -EAGAIN);
		assert_int_equal(x.f[1], 2 * (int64_t)PS);
		assert_int_equal(x.c[0], MK_SNAP(7));
		assert_int_equal(x.r[2], 1);
		assert_int_equal(x.r[4], 1);
		assert_int_equal(x.c[1], MK_SNAP(3));
		x_fini(&x);
	}
}

static void r16_balloon(void *a)
{
	struct x *x = a;

	x->r[0] = mk_madvise_dontneed(x->k, 0, 1);
	x->done[0] = 1;
}

static void r16_handler(void *a)
{
	struct x *x = a;

	x->r[1] = copy_pages(x, 4, 2, MK_SNAP(4), 0, &x->f[1]);
	x->r[2] = mk_mmap_changing(x->k);
	while (!x->done[0]) {
		if (rd(x, x->m, 8) < 0)
			sched_yield(x->s);
	}
}

/* Rule 16: a COPY is one step: it lands wholly before or wholly after a
 * REMOVE is queued, never half of it. Both outcomes are reachable. */
static void test_r16_fill_atomic_vs_remove(void **st)
{
	(void)st;
	int before = 0, refused = 0;

	for (uint64_t seed = 1; seed <= 200; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r16_balloon);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r16_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		if (x.r[1] == 0) {
			assert_int_equal(x.f[1], 2 * (int64_t)PS);
			before++;
		} else {
			assert_int_equal(x.r[1], -EAGAIN);
			assert_int_equal(x.f[1], -EAGAIN);
			page_is(&x, 4, 0, 0);
			page_is(&x, 5, 0, 0);
			refused++;
		}
		x_fini(&x);
	}
	assert_true(before > 0);
	assert_true(refused > 0);
}

static void r17_handler(void *a)
{
	struct x *x = a;
	const struct sys_ops *o = x->sys->ops;
	void *b = o->buf_alloc(x->sys, PS);
	int i = 0;

	for (int j = 0; j < 12; j++)
		x->f[j] = 0x5a5a;
	/* alignment / length: EINVAL before the kernel writes the field,
	 * which sys.h then reports as the -errno (as real/ does) */
	x->r[i] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 0) + 1, b, PS, 0, &x->f[i]);
	i++;
	x->r[i] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 0), b, 100, 0, &x->f[i]);
	i++;
	x->r[i] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 0), b, 0, 0, &x->f[i]);
	i++;
	/* outside the registered range / crossing its end: ENOENT */
	x->r[i] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 100), b, PS, 0, &x->f[i]);
	i++;
	x->r[i] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 7), b, 2 * PS, 0, &x->f[i]);
	i++;
	/* COPY_MODE_WP without WP registration */
	x->r[i] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 0), b, PS,
			       UFFDIO_COPY_MODE_WP, &x->f[i]);
	i++;
	x->r[i] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 0), b, PS, 8, &x->f[i]);
	i++;
	x->r[i] = o->uffd_zeropage(x->sys, x->uffd, ADDR(x, 0), PS, 2, &x->f[i]);
	i++;
	/* not a uffd / not open */
	int p[2];

	assert_int_equal(o->pipe(x->sys, p), 0);
	x->r[i] = o->uffd_copy(x->sys, p[0], ADDR(x, 0), b, PS, 0, &x->f[i]);
	i++;
	x->r[i] = o->uffd_wake(x->sys, 1000, ADDR(x, 0), PS);
	i++;
	/* src may be unaligned in the kernel, but must be readable */
	int dummy;

	x->r[i] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 0), &dummy, PS, 0, &x->f[i]);
	i++;
	o->buf_free(x->sys, b, PS);
}

/* Rule 17: validation order and errors, and which of them write the
 * output field. */
static void test_r17_validation(void **st)
{
	(void)st;
	struct x x;
	struct mk_config c = cfg_basic(0);

	x_init(&x, &c, 1);
	spawn(&x, "h", MK_HANDLER, r17_handler);
	assert_int_equal(sched_run(x.s), SCHED_DONE);
	static const int want_r[] = {-EINVAL, -EINVAL, -EINVAL, -ENOENT,
				     -ENOENT, -EINVAL, -EINVAL, -EINVAL,
				     -ENOTTY, -EBADF, -EFAULT};
	static const int64_t want_f[] = {-EINVAL, -EINVAL, -EINVAL, -ENOENT,
					 -ENOENT, -EINVAL, -EINVAL, -EINVAL,
					 -ENOTTY, 0x5a5a, -EFAULT};

	for (size_t i = 0; i < sizeof(want_r) / sizeof(want_r[0]); i++) {
		assert_int_equal(x.r[i], want_r[i]);
		assert_int_equal(x.f[i], want_f[i]);
	}
	for (int p = 0; p < 8; p++)
		page_is(&x, p, 0, 0);
	x_fini(&x);
}

static void r18_program(void *a)
{
	struct x *x = a;

	x->r[0] = zero_pages(x, 0, 1, 0, &x->f[0]);
	x->c[0] = mk_guest_read(x->k, 0);
	x->r[1] = copy_pages(x, 0, 1, MK_SNAP(0), 0, &x->f[1]);
	x->r[2] = zero_pages(x, 0, 1, 0, &x->f[2]);
	x->r[3] = mk_guest_write(x->k, 0, MK_WRITE(3));
	x->r[4] = mk_pending_faults(x->k);
}

/* Rule 18: ZEROPAGE maps zeros; fills over it EEXIST; a write to it
 * completes without a message. */
static void test_r18_zeropage(void **st)
{
	(void)st;
	struct x x;
	struct mk_config c = cfg_basic(0);

	x_init(&x, &c, 1);
	spawn(&x, "g", MK_GUEST, r18_program);
	assert_int_equal(sched_run(x.s), SCHED_DONE);
	assert_int_equal(x.r[0], 0);
	assert_int_equal(x.f[0], (int64_t)PS);
	assert_int_equal(x.c[0], 0);
	assert_int_equal(x.r[1], -EEXIST);
	assert_int_equal(x.f[1], -EEXIST);
	assert_int_equal(x.r[2], -EEXIST);
	assert_int_equal(x.r[3], 0);
	assert_int_equal(x.r[4], 0);
	page_is(&x, 0, 1, MK_WRITE(3));
	x_fini(&x);
}

static void r19_g1(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 1);
}

static void r19_g2(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0));
	x->c[1] = mk_guest_read(x->k, 2);
}

static void r19_handler(void *a)
{
	struct x *x = a;
	const struct sys_ops *o = x->sys->ops;

	x->r[0] = o->uffd_wake(x->sys, x->uffd, ADDR(x, 0) + 8, PS);
	x->r[1] = wake(x, 4, 1);                         /* nobody waits */
	x->r[2] = o->uffd_wake(x->sys, x->uffd, 0x1000, PS); /* no VMA */
	until(x, waiting(x, 0) && waiting(x, 1));
	x->r[3] = rd(x, x->m, 1); /* p1 read, p2 unread */
	x->r[4] = wake(x, 1, 2);
	until(x, mk_pending_faults(x->k) == 2);
	x->r[5] = rd(x, x->m + 1, 8);
	x->r[6] = copy_pages(x, 1, 2, MK_SNAP(5), 0, NULL);
}

/* Rule 19: WAKE checks alignment only and wakes read and unread waiters
 * in its range (they refault here, the pages being missing). */
static void test_r19_wake(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g1", MK_GUEST, r19_g1);
		x.tid[1] = spawn(&x, "g2", MK_GUEST, r19_g2);
		x.tid[2] = spawn(&x, "h", MK_HANDLER, r19_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[0], -EINVAL);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[3], 1);
		assert_pf(&x.m[0], ADDR(&x, 1), 0);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.r[5], 2);
		assert_int_equal(x.r[6], 0);
		assert_int_equal(x.c[0], MK_SNAP(5));
		assert_int_equal(x.c[1], MK_SNAP(5));
		x_fini(&x);
	}
}

static void r20_guest(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 3);
}

static void r20_control(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0));
	x->r[0] = rd(x, x->m, 1);
	x->r[1] = mk_unregister(x->k, 3, 3);
	x->r[2] = copy_pages(x, 3, 1, MK_SNAP(3), 0, &x->f[2]);
	x->r[3] = copy_pages(x, 4, 1, MK_SNAP(4), 0, &x->f[3]);
}

/* Rule 20: UNREGISTER wakes the MISSING waiters of the range; they see
 * plain anonymous memory, and the range is no longer fillable. */
static void test_r20_unregister(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r20_guest);
		x.tid[1] = spawn(&x, "c", MK_CONTROL, r20_control);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.c[0], 0);
		/* the page is plain anon memory now (its zero page, if the
		 * guest ran first): ENOENT either way */
		assert_int_equal(x.r[2], -ENOENT);
		assert_int_equal(x.f[2], -ENOENT);
		assert_int_equal(x.r[3], 0);
		x_fini(&x);
	}
}

static void r20_sys_control(void *a)
{
	struct x *x = a;
	const struct sys_ops *o = x->sys->ops;
	int p[2];

	until(x, waiting(x, 0));
	x->r[0] = rd(x, x->m, 1);
	/* the handler's own ioctl: validation before anything changes */
	x->r[4] = o->uffd_unregister(x->sys, 99, ADDR(x, 3), x->ps);
	x->r[5] = o->pipe(x->sys, p);
	x->r[6] = o->uffd_unregister(x->sys, p[0], ADDR(x, 3), x->ps);
	x->r[7] = o->uffd_unregister(x->sys, x->uffd, ADDR(x, 3) + 1, x->ps);
	x->r[8] = o->uffd_unregister(x->sys, x->uffd, ADDR(x, 3), 0);
	x->r[9] = waiting(x, 0);
	x->r[1] = o->uffd_unregister(x->sys, x->uffd, ADDR(x, 3), x->ps);
	x->r[2] = copy_pages(x, 3, 1, MK_SNAP(3), 0, &x->f[2]);
	x->r[3] = copy_pages(x, 4, 1, MK_SNAP(4), 0, &x->f[3]);
}

/* Rule 20 through sys.h's uffd_unregister (fc-example's REMOVE): EBADF,
 * ENOTTY and EINVAL leave the waiter asleep; the real call wakes it into
 * anonymous memory, and a COPY there is ENOENT (rule 17). */
static void test_r20_unregister_via_sys(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r20_guest);
		x.tid[1] = spawn(&x, "c", MK_CONTROL, r20_sys_control);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[4], -EBADF);
		assert_int_equal(x.r[5], 0);
		assert_int_equal(x.r[6], -ENOTTY);
		assert_int_equal(x.r[7], -EINVAL);
		assert_int_equal(x.r[8], -EINVAL);
		assert_int_equal(x.r[9], 1);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.c[0], 0);
		assert_int_equal(x.r[2], -ENOENT);
		assert_int_equal(x.f[2], -ENOENT);
		assert_int_equal(x.r[3], 0);
		x_fini(&x);
	}
}

/* ------------------------------------------------------------------ */
/* rules 21-31: madvise(DONTNEED) and REMOVE                           */

static void r21_balloon(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1);
	x->r[0] = mk_madvise_dontneed(x->k, 0, 5);
	x->done[0] = 1;
}

static int present(struct x *x, int p)
{
	struct mk_page_view v;

	mk_page_view(x->k, p, &v);
	return v.present;
}

static int presence(struct x *x, int first, int last)
{
	int bits = 0;

	for (int p = first; p <= last; p++)
		bits = bits << 1 | present(x, p);
	return bits;
}

static void r21_handler(void *a)
{
	struct x *x = a;

	/* registered [0,2), plain [2,4), registered [4,6), all present */
	x->r[1] = mk_unregister(x->k, 2, 3);
	x->r[2] = copy_pages(x, 0, 2, MK_SNAP(0), 0, NULL);
	x->r[3] = copy_pages(x, 4, 2, MK_SNAP(4), 0, NULL);
	mk_guest_write(x->k, 2, MK_WRITE(2));
	mk_guest_write(x->k, 3, MK_WRITE(3));
	x->phase = 1;
	until(x, mk_pending_events(x->k) == 1);
	x->r[4] = presence(x, 0, 5);
	x->r[5] = rd(x, x->m, 8);
	until(x, mk_pending_events(x->k) == 1);
	x->r[6] = presence(x, 0, 5);
	x->r[7] = rd(x, x->m + 1, 8);
	until(x, x->done[0]);
	x->r[8] = presence(x, 0, 5);
}

/* Rule 21: VMA by VMA; one REMOVE per registered VMA, the next queued
 * only after the previous one was read and its VMA zapped; plain VMAs
 * zapped on the way without an event. */
static void test_r21_vma_by_vma(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r21_balloon);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r21_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.r[4], 0x3f);
		assert_int_equal(x.r[5], 1);
		assert_range_event(&x.m[0], UFFD_EVENT_REMOVE, ADDR(&x, 0), ADDR(&x, 2));
		assert_int_equal(x.r[6], 0x03);
		assert_int_equal(x.r[7], 1);
		assert_range_event(&x.m[1], UFFD_EVENT_REMOVE, ADDR(&x, 4), ADDR(&x, 6));
		assert_int_equal(x.r[8], 0);
		assert_int_equal(x.r[0], 0);
		x_fini(&x);
	}
}

static void r22_balloon(void *a)
{
	struct x *x = a;

	x->r[0] = mk_madvise_dontneed(x->k, 6, 7);
	x->done[0] = 1;
}

static void r22_handler(void *a)
{
	struct x *x = a;

	until(x, mk_pending_events(x->k) == 1);
	x->r[1] = rd(x, x->m, 8);
}

/* Rule 22: REMOVE is sent for a range whose pages are all missing. */
static void test_r22_remove_missing_range(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r22_balloon);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r22_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 1);
		assert_range_event(&x.m[0], UFFD_EVENT_REMOVE, ADDR(&x, 6), ADDR(&x, 8));
		assert_int_equal(x.r[0], 0);
		x_fini(&x);
	}
}

static void r23_balloon(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1);
	x->r[0] = mk_madvise_dontneed(x->k, 0, 1);
	x->done[0] = 1;
}

static void r23_guest(void *a)
{
	struct x *x = a;

	x->r[1] = copy_pages(x, 0, 1, MK_SNAP(0), 0, NULL);
	x->phase = 1;
	until(x, mk_waiting_event(x->k, x->tid[0]));
	x->c[0] = mk_guest_read(x->k, 0);
	x->r[2] = mk_guest_write(x->k, 0, MK_WRITE(1));
	x->c[1] = mk_guest_read(x->k, 0);
	x->r[3] = blocked(x, 0);
	x->phase = 2;
}

static void r23_handler(void *a)
{
	struct x *x = a;

	until(x, x->phase == 2);
	x->r[4] = rd(x, x->m, 8);
	until(x, x->done[0]);
}

/* Rule 23: until the zap, present pages of the range keep their data and
 * take writes, which the zap then throws away. */
static void test_r23_present_until_zap(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r23_balloon);
		x.tid[1] = spawn(&x, "g", MK_GUEST, r23_guest);
		x.tid[2] = spawn(&x, "h", MK_HANDLER, r23_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.c[0], MK_SNAP(0));
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.c[1], MK_WRITE(1));
		assert_int_equal(x.r[3], 1); /* madvise was still waiting */
		assert_int_equal(x.r[4], 1);
		page_is(&x, 0, 0, 0);
		x_fini(&x);
	}
}

static void r24_program(void *a)
{
	struct x *x = a;
	struct mk_page_view v;

	x->r[0] = copy_pages(x, 0, 1, MK_SNAP(0), UFFDIO_COPY_MODE_WP, NULL);
	mk_page_view(x->k, 0, &v);
	x->r[1] = v.wp;
	x->r[2] = mk_madvise_dontneed(x->k, 0, 0);
	mk_page_view(x->k, 0, &v);
	x->r[3] = v.present;
	x->r[4] = v.wp;
	x->phase = 1;
	x->r[5] = mk_guest_write(x->k, 0, MK_WRITE(1));
}

static void r24_handler(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1 && waiting(x, 0));
	x->r[6] = rd(x, x->m, 8);
	x->r[7] = zero_pages(x, 0, 1, 0, NULL);
}

/* Rule 24: after the zap the page is missing and (anon) its WP state is
 * gone: the next write is a plain MISSING fault. */
static void test_r24_after_zap(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		c.register_wp = 1;
		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r24_program);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r24_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 1);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[3], 0);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.r[6], 1);
		assert_pf(&x.m[0], ADDR(&x, 0), UFFD_PAGEFAULT_FLAG_WRITE);
		assert_int_equal(x.r[5], 0);
		page_is(&x, 0, 1, MK_WRITE(1));
		x_fini(&x);
	}
}

static void r25_balloon(void *a)
{
	struct x *x = a;

	x->r[0] = mk_madvise_dontneed(x->k, 0, 0);
	x->done[0] = 1;
}

static void r25_handler(void *a)
{
	struct x *x = a;

	until(x, mk_pending_events(x->k) == 1);
	x->r[1] = rd(x, x->m, 8);
	x->r[2] = copy_pages(x, 0, 1, MK_SNAP(0), 0, &x->f[2]);
	until(x, x->done[0]);
}

/* Rule 25: a COPY after reading REMOVE can get EAGAIN (madvise has not
 * run yet), succeed and be zapped (between (b) and (c)) or succeed and
 * stay (after (c)). All three are reachable. */
static void test_r25_three_outcomes(void **st)
{
	(void)st;
	int seen[3] = {0, 0, 0};
	uint64_t seed;

	for (seed = 1; seed <= 1000; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r25_balloon);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r25_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 1);
		if (x.r[2] == -EAGAIN) {
			assert_int_equal(x.f[2], -EAGAIN);
			page_is(&x, 0, 0, 0);
			seen[0]++;
		} else {
			assert_int_equal(x.r[2], 0);
			seen[present(&x, 0) ? 2 : 1]++;
		}
		x_fini(&x);
		if (seen[0] && seen[1] && seen[2] && seed >= 50)
			break;
	}
	print_message("r25: %llu seeds: EAGAIN %d, zapped %d, kept %d\n",
		      (unsigned long long)(seed > 1000 ? 1000 : seed), seen[0],
		      seen[1], seen[2]);
	assert_true(seen[0] > 0);
	assert_true(seen[1] > 0);
	assert_true(seen[2] > 0);
}

static void r26_guest(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 6);
}

static void r26_balloon(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1);
	x->r[0] = mk_madvise_dontneed(x->k, 6, 7);
	x->done[0] = 1;
}

static void r26_handler(void *a)
{
	struct x *x = a;
	int read;

	until(x, waiting(x, 0));
	x->r[1] = rd(x, x->m, 8);
	x->phase = 1;
	until(x, mk_pending_events(x->k) == 1);
	x->r[2] = rd(x, x->m + 1, 8);
	until(x, x->done[0]);
	for (int i = 0; i < 10; i++)
		sched_yield(x->s);
	x->r[3] = mk_waiting_page(x->k, x->tid[0], &read);
	x->r[4] = read;
	x->r[5] = mk_pending_faults(x->k);
	x->r[6] = zero_pages(x, 6, 1, 0, NULL);
}

/* Rule 26: REMOVE neither wakes nor requeues a thread blocked on a page
 * of its range; ZEROPAGE (the documented answer) does. */
static void test_r26_blocked_fault_in_removed_range(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r26_guest);
		x.tid[1] = spawn(&x, "b", MK_BALLOON, r26_balloon);
		x.tid[2] = spawn(&x, "h", MK_HANDLER, r26_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 1);
		assert_int_equal(x.r[2], 1);
		assert_range_event(&x.m[1], UFFD_EVENT_REMOVE, ADDR(&x, 6), ADDR(&x, 8));
		assert_int_equal(x.r[3], 6);
		assert_int_equal(x.r[4], 1);
		assert_int_equal(x.r[5], 0);
		assert_int_equal(x.r[6], 0);
		assert_int_equal(x.c[0], 0);
		x_fini(&x);
	}
}

static void r27_program(void *a)
{
	struct x *x = a;

	x->r[0] = copy_pages(x, 0, 1, MK_SNAP(0), 0, NULL);
	x->r[1] = mk_madvise_dontneed(x->k, 0, 1);
	x->r[2] = mk_pending_events(x->k);
	x->r[3] = present(x, 0);
	x->phase = 1;
	x->c[0] = mk_guest_read(x->k, 0);
}

static void r27_handler(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1 && waiting(x, 0));
	x->r[4] = rd(x, x->m, 8);
	x->r[5] = zero_pages(x, 0, 1, 0, NULL);
}

/* Rule 27: without EVENT_REMOVE madvise zaps at once: no event, no
 * block; the next access is a MISSING fault. */
static void test_r27_no_event_remove(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r27_program);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r27_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[3], 0);
		assert_int_equal(x.r[4], 1);
		assert_pf(&x.m[0], ADDR(&x, 0), 0);
		assert_int_equal(x.c[0], 0);
		x_fini(&x);
	}
}

static void r28_balloon(void *a)
{
	struct x *x = a;

	x->r[0] = mk_madvise_dontneed(x->k, 0, 0);
	x->done[0] = 1;
}

static void r28_release(void *a)
{
	struct x *x = a;

	x->r[1] = copy_pages(x, 0, 1, MK_SNAP(0), 0, NULL);
	x->phase = 1;
	until(x, mk_waiting_event(x->k, x->tid[0]));
	x->r[2] = x->sys->ops->close(x->sys, x->uffd);
	for (int i = 0; i < 10; i++)
		sched_yield(x->s);
	x->r[3] = blocked(x, 0); /* the process still holds the uffd */
	mk_release(x->k);
	until(x, x->done[0]);
	x->r[4] = mk_pending_events(x->k);
	x->r[5] = mk_mmap_changing(x->k);
}

static void r28_balloon_late(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1);
	x->r[0] = mk_madvise_dontneed(x->k, 0, 0);
	x->done[0] = 1;
}

static void r28_kill(void *a)
{
	struct x *x = a;

	until(x, mk_waiting_event(x->k, x->tid[0]));
	x->r[2] = mk_signal(x->k, x->tid[0], 0); /* killable only */
	x->r[3] = mk_waiting_event(x->k, x->tid[0]);
	x->r[6] = mk_signal(x->k, x->tid[0], 1);
	until(x, x->done[0]);
	x->r[4] = mk_pending_events(x->k);
	x->r[5] = mk_mmap_changing(x->k);
}

/* Rule 28: the release of the uffd, or a fatal signal (not another one),
 * ends an event wait; madvise goes on to zap. */
static void test_r28_event_wait_ends(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r28_balloon_late);
		x.tid[1] = spawn(&x, "c", MK_CONTROL, r28_release);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[3], 1);
		assert_int_equal(x.r[0], 0);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.r[5], 0);
		assert_true(mk_released(x.k));
		page_is(&x, 0, 0, 0);
		x_fini(&x);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r28_balloon);
		x.tid[1] = spawn(&x, "c", MK_CONTROL, r28_kill);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[3], 1);
		assert_int_equal(x.r[6], 1);
		assert_int_equal(x.r[0], 0);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.r[5], 0);
		x_fini(&x);
	}
}

static void r29_b0(void *a)
{
	struct x *x = a;

	x->r[0] = mk_madvise_dontneed(x->k, 0, 0);
	x->done[0] = 1;
}

static void r29_b1(void *a)
{
	struct x *x = a;

	until(x, mk_waiting_event(x->k, x->tid[0]));
	x->r[1] = mk_madvise_dontneed(x->k, 1, 1);
	x->done[1] = 1;
}

static void r29_handler(void *a)
{
	struct x *x = a;

	until(x, mk_pending_events(x->k) == 2);
	x->r[2] = mk_mmap_changing(x->k);
	x->r[3] = rd(x, x->m, 1);
	until(x, x->done[0]);
	x->r[4] = mk_mmap_changing(x->k);
	x->r[5] = copy_pages(x, 5, 1, MK_SNAP(5), 0, NULL);
	x->r[6] = rd(x, x->m + 1, 1);
	until(x, x->done[1]);
	x->r[7] = mk_mmap_changing(x->k);
	x->r[8] = copy_pages(x, 5, 1, MK_SNAP(5), 0, NULL);
}

/* Rule 29: mmap_changing counts: +1 per queued event, -1 as each caller
 * resumes; EAGAIN while any is outstanding. */
static void test_r29_counter(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b0", MK_BALLOON, r29_b0);
		x.tid[1] = spawn(&x, "b1", MK_BALLOON, r29_b1);
		x.tid[2] = spawn(&x, "h", MK_HANDLER, r29_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[2], 2);
		assert_int_equal(x.r[3], 1);
		assert_range_event(&x.m[0], UFFD_EVENT_REMOVE, ADDR(&x, 0), ADDR(&x, 1));
		assert_int_equal(x.r[4], 1);
		assert_int_equal(x.r[5], -EAGAIN);
		assert_int_equal(x.r[6], 1);
		assert_int_equal(x.r[7], 0);
		assert_int_equal(x.r[8], 0);
		x_fini(&x);
	}
}

#define HP MK_HUGE_PAGE

static void r30_guest(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 2);
}

static void r30_handler(void *a)
{
	struct x *x = a;
	const struct sys_ops *o = x->sys->ops;
	void *b = o->buf_alloc(x->sys, HP);

	mk_buf_set(x->k, b, MK_SNAP(2));
	x->r[0] = zero_pages(x, 0, 1, 0, &x->f[0]);
	x->r[1] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 0), b, PS, 0, &x->f[1]);
	x->r[2] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 0) + PS, b, HP, 0, &x->f[2]);
	until(x, waiting(x, 0));
	x->r[3] = rd(x, x->m, 8);
	x->r[4] = o->uffd_copy(x->sys, x->uffd, ADDR(x, 2), b, HP, 0, &x->f[4]);
	o->buf_free(x->sys, b, HP);
}

/* Rule 30: hugetlb: no ZEROPAGE, 2 MiB units, faults at 2 MiB addresses. */
static void test_r30_hugetlb_fill(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_MISSING_HUGETLBFS);

		c.page_size = HP;
		c.pages = 4;
		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r30_guest);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r30_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[0], -EINVAL);
		assert_int_equal(x.f[0], -EINVAL);
		assert_int_equal(x.r[1], -EINVAL);
		assert_int_equal(x.f[1], -EINVAL);
		assert_int_equal(x.r[2], -EINVAL);
		assert_int_equal(x.f[2], -EINVAL);
		assert_int_equal(x.r[3], 1);
		assert_pf(&x.m[0], x.base + 2 * HP, 0);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.f[4], (int64_t)HP);
		assert_int_equal(x.c[0], MK_SNAP(2));
		x_fini(&x);
	}
}

static void r31_balloon(void *a)
{
	struct x *x = a;

	x->r[1] = copy_pages(x, 1, 2, MK_SNAP(1), 0, NULL);
	x->r[2] = mk_madvise(x->k, 0, x->base + HP + PS, HP);
	x->r[3] = mk_madvise(x->k, 0, x->base + HP, PS);
	x->r[4] = mk_pending_events(x->k);
	x->r[5] = present(x, 1);
	x->r[6] = mk_madvise(x->k, 0, x->base + HP, HP + HP / 2);
	x->done[0] = 1;
}

static void r31_handler(void *a)
{
	struct x *x = a;

	until(x, x->done[0] || mk_pending_events(x->k));
	x->r[7] = mk_pending_events(x->k);
	x->r[8] = present(x, 1);
	x->r[9] = rd(x, x->m, 8);
	until(x, x->done[0]);
}

/* Rule 31: hugetlb madvise: unaligned start EINVAL; end rounded down;
 * empty after rounding: nothing at all; else REMOVE of the rounded range. */
static void test_r31_hugetlb_madvise(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_MISSING_HUGETLBFS |
					       UFFD_FEATURE_EVENT_REMOVE);

		c.page_size = HP;
		c.pages = 4;
		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r31_balloon);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r31_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.r[2], -EINVAL);
		assert_int_equal(x.r[3], 0);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.r[5], 1);
		assert_int_equal(x.r[7], 1);
		assert_int_equal(x.r[8], 1);
		assert_int_equal(x.r[9], 1);
		assert_range_event(&x.m[0], UFFD_EVENT_REMOVE, x.base + HP,
				   x.base + 2 * HP);
		assert_int_equal(x.r[6], 0);
		page_is(&x, 1, 0, 0);
		page_is(&x, 2, 1, MK_SNAP(1));
		x_fini(&x);
	}
}

static void r32_program(void *a)
{
	struct x *x = a;
	struct mk_page_view v;

	x->r[0] = copy_pages(x, 1, 1, MK_SNAP(1), UFFDIO_COPY_MODE_WP, NULL);
	x->r[1] = mk_madvise_dontneed(x->k, 1, 1);
	mk_page_view(x->k, 1, &v);
	x->r[2] = v.present;
	x->r[3] = v.wp;
	x->phase = 1;
	x->r[4] = mk_guest_write(x->k, 1, MK_WRITE(1));
}

static void r32_handler(void *a)
{
	struct x *x = a;
	struct mk_page_view v;

	until(x, x->phase == 1 && waiting(x, 0));
	x->r[5] = rd(x, x->m, 8);
	x->r[6] = copy_pages(x, 1, 1, 0, 0, NULL);
	mk_page_view(x->k, 1, &v);
	x->r[7] = v.wp;
}

/* Rule 32: hugetlb+WP: DONTNEED leaves a WP marker; the next access is a
 * MISSING fault; a plain COPY over the marker installs unprotected. */
static void test_r32_hugetlb_wp_marker(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_MISSING_HUGETLBFS |
					       UFFD_FEATURE_WP_HUGETLBFS_SHMEM);

		c.page_size = HP;
		c.pages = 4;
		c.register_wp = 1;
		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r32_program);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r32_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[0], 0);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[3], 1);
		assert_int_equal(x.r[5], 1);
		assert_pf(&x.m[0], x.base + HP, UFFD_PAGEFAULT_FLAG_WRITE);
		assert_int_equal(x.r[6], 0);
		assert_int_equal(x.r[7], 0);
		assert_int_equal(x.r[4], 0);
		page_is(&x, 1, 1, MK_WRITE(1));
		x_fini(&x);
	}
}

/* ------------------------------------------------------------------ */
/* rules 33-36: write-protect                                          */

static void r33_writer(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1);
	x->c[0] = mk_guest_read(x->k, 0); /* no fault on a WP page */
	x->r[0] = mk_pending_faults(x->k);
	x->r[1] = mk_guest_write(x->k, 0, MK_WRITE(1));
	x->done[0] = 1;
	until(x, x->phase == 2);
	x->r[2] = mk_guest_write(x->k, 0, MK_WRITE(2));
	x->done[1] = 1;
}

static void r33_handler(void *a)
{
	struct x *x = a;
	struct mk_page_view v;

	x->r[3] = copy_pages(x, 0, 1, MK_SNAP(0), UFFDIO_COPY_MODE_WP, NULL);
	mk_page_view(x->k, 0, &v);
	x->r[4] = v.present && v.wp;
	x->phase = 1;
	until(x, waiting(x, 0));
	x->r[5] = rd(x, x->m, 8);
	x->r[6] = copy_pages(x, 0, 1, MK_SNAP(9), 0, NULL);
	x->r[7] = wprotect(x, 0, 1, UFFDIO_WRITEPROTECT_MODE_WP |
					    UFFDIO_WRITEPROTECT_MODE_DONTWAKE);
	x->r[8] = wprotect(x, 0, 1, UFFDIO_WRITEPROTECT_MODE_DONTWAKE);
	mk_page_view(x->k, 0, &v);
	x->r[9] = v.wp;
	for (int i = 0; i < 10; i++)
		sched_yield(x->s);
	x->r[10] = blocked(x, 0);
	x->r[11] = wake(x, 0, 1);
	until(x, x->done[0]);
	/* protect a present page again; un-protect (mode 0) wakes */
	x->r[12] = wprotect(x, 0, 1, UFFDIO_WRITEPROTECT_MODE_WP);
	x->phase = 2;
	until(x, waiting(x, 0));
	x->r[13] = rd(x, x->m + 1, 8);
	x->r[14] = wprotect(x, 0, 1, 0);
	until(x, x->done[1]);
}

/* Rule 33: COPY_MODE_WP, WP faults (WP|WRITE), EEXIST over a WP page,
 * WRITEPROTECT modes and their wakes. */
static void test_r33_write_protect(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		c.register_wp = 1;
		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r33_writer);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r33_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[3], 0);
		assert_int_equal(x.r[4], 1);
		assert_int_equal(x.c[0], MK_SNAP(0));
		assert_int_equal(x.r[0], 0);
		assert_int_equal(x.r[5], 1);
		assert_pf(&x.m[0], ADDR(&x, 0),
			  UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE);
		assert_int_equal(x.r[6], -EEXIST);
		assert_int_equal(x.r[7], -EINVAL);
		assert_int_equal(x.r[8], 0);
		assert_int_equal(x.r[9], 0);
		assert_int_equal(x.r[10], 1);
		assert_int_equal(x.r[11], 0);
		assert_int_equal(x.r[1], 0);
		assert_int_equal(x.r[12], 0);
		assert_int_equal(x.r[13], 1);
		assert_int_equal(x.r[14], 0);
		assert_int_equal(x.r[2], 0);
		page_is(&x, 0, 1, MK_WRITE(2));
		x_fini(&x);
	}
}

static void r34_writer(void *a)
{
	struct x *x = a;

	x->r[0] = mk_guest_write(x->k, 2, MK_WRITE(1));
}

static void r34_handler(void *a)
{
	struct x *x = a;

	until(x, waiting(x, 0));
	x->r[1] = rd(x, x->m, 8);
	x->r[2] = copy_pages(x, 2, 1, MK_SNAP(2), UFFDIO_COPY_MODE_WP, NULL);
	until(x, mk_pending_faults(x->k) == 1);
	x->r[3] = rd(x, x->m + 1, 8);
	x->r[4] = wprotect(x, 2, 1, 0);
}

/* Rule 34: a write to a missing page of a MISSING|WP range faults WRITE
 * only; answering with COPY_MODE_WP gives an immediate WP|WRITE fault. */
static void test_r34_missing_then_wp(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(0);

		c.register_wp = 1;
		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r34_writer);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r34_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 1);
		assert_pf(&x.m[0], ADDR(&x, 2), UFFD_PAGEFAULT_FLAG_WRITE);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[3], 1);
		assert_pf(&x.m[1], ADDR(&x, 2),
			  UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE);
		assert_int_equal(x.r[4], 0);
		assert_int_equal(x.r[0], 0);
		page_is(&x, 2, 1, MK_WRITE(1));
		x_fini(&x);
	}
}

static void r35_program(void *a)
{
	struct x *x = a;
	struct mk_page_view v;

	/* a WP-only range: missing pages do not fault */
	x->r[0] = mk_unregister(x->k, 0, 1);
	x->r[1] = mk_register(x->k, 0, 1, UFFDIO_REGISTER_MODE_WP);
	x->r[2] = wprotect(x, 0, 2, UFFDIO_WRITEPROTECT_MODE_WP);
	mk_page_view(x->k, 0, &v);
	x->r[3] = v.present;
	x->r[4] = v.wp;
	x->phase = 1;
	x->r[5] = mk_guest_write(x->k, 0, MK_WRITE(1));
	x->r[6] = mk_guest_write(x->k, 1, MK_WRITE(2));
	x->r[7] = copy_pages(x, 0, 1, MK_SNAP(0), 0, NULL);
	x->done[0] = 1;
}

static void r35_handler(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1);
	while (!x->done[0]) {
		struct uffd_msg m;

		if (rd(x, &m, 1) != 1) {
			sched_yield(x->s);
			continue;
		}
		x->m[x->r[8]++] = m;
		x->r[9] |= x->sys->ops->uffd_writeprotect(
			x->sys, x->uffd, m.arg.pagefault.address, PS, 0);
	}
}

/* Rule 35: on anon, WRITEPROTECT leaves empty PTEs alone unless
 * WP_UNPOPULATED; then a marker (WP, not present) makes writes fault WP.
 * A plain COPY works in a WP-only range. */
static void test_r35_wp_unpopulated(void **st)
{
	(void)st;
	for (int unpop = 0; unpop <= 1; unpop++) {
		for (uint64_t seed = 1; seed <= SEEDS; seed++) {
			struct x x;
			struct mk_config c = cfg_basic(
				unpop ? UFFD_FEATURE_WP_UNPOPULATED : 0);

			c.register_wp = 1;
			x_init(&x, &c, seed);
			x.tid[0] = spawn(&x, "g", MK_GUEST, r35_program);
			x.tid[1] = spawn(&x, "h", MK_HANDLER, r35_handler);
			assert_int_equal(sched_run(x.s), SCHED_DONE);
			assert_int_equal(x.r[0], 0);
			assert_int_equal(x.r[1], 0);
			assert_int_equal(x.r[2], 0);
			assert_int_equal(x.r[3], 0);
			assert_int_equal(x.r[4], unpop);
			assert_int_equal(x.r[5], 0);
			assert_int_equal(x.r[6], 0);
			/* page 0 is present now: plain anon or not */
			assert_int_equal(x.r[7], -EEXIST);
			assert_int_equal(x.r[8], unpop ? 2 : 0);
			assert_int_equal(x.r[9], 0);
			for (int i = 0; i < x.r[8]; i++)
				assert_pf(&x.m[i], ADDR(&x, i),
					  UFFD_PAGEFAULT_FLAG_WP |
						  UFFD_PAGEFAULT_FLAG_WRITE);
			page_is(&x, 0, 1, MK_WRITE(1));
			page_is(&x, 1, 1, MK_WRITE(2));
			x_fini(&x);
		}
	}
}

static void r35m_reader(void *a)
{
	struct x *x = a;

	until(x, x->phase == 1);
	x->c[0] = mk_guest_read(x->k, 0);
}

static void r35m_handler(void *a)
{
	struct x *x = a;
	struct mk_page_view v;

	x->r[0] = wprotect(x, 0, 1, UFFDIO_WRITEPROTECT_MODE_WP);
	x->phase = 1;
	until(x, waiting(x, 0));
	x->r[1] = rd(x, x->m, 8);
	x->r[2] = zero_pages(x, 0, 1, 0, &x->f[2]);
	mk_page_view(x->k, 0, &v);
	x->r[3] = !v.present && v.wp;
	for (int i = 0; i < 10; i++)
		sched_yield(x->s);
	x->r[4] = blocked(x, 0);
	x->r[5] = copy_pages(x, 0, 1, MK_SNAP(0), 0, NULL);
}

/* Rule 35 (markers, probed as conformance zeropage_marker): a MISSING
 * fault on a WP marker; ZEROPAGE needs a none PTE, so it fails EEXIST,
 * keeps the marker and wakes nobody; COPY installs over the marker. */
static void test_r35_zeropage_over_marker(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_WP_UNPOPULATED);

		c.register_wp = 1;
		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g", MK_GUEST, r35m_reader);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r35m_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[0], 0);
		assert_int_equal(x.r[1], 1);
		assert_pf(&x.m[0], ADDR(&x, 0), 0);
		assert_int_equal(x.r[2], -EEXIST);
		assert_int_equal(x.f[2], -EEXIST);
		assert_int_equal(x.r[3], 1);
		assert_int_equal(x.r[4], 1);
		assert_int_equal(x.r[5], 0);
		assert_int_equal(x.c[0], MK_SNAP(0));
		x_fini(&x);
	}
}

static void r36_program(void *a)
{
	struct x *x = a;
	struct mk_page_view v;

	x->r[0] = copy_pages(x, 0, 4, MK_SNAP(0), UFFDIO_COPY_MODE_WP, NULL);
	x->r[1] = mk_guest_write(x->k, 1, MK_WRITE(1));
	x->r[2] = mk_pending_faults(x->k);
	for (int p = 0; p < 4; p++) {
		mk_page_view(x->k, p, &v);
		x->r[3] = x->r[3] << 1 | v.wp;
	}
	/* WP_ASYNC implies WP_UNPOPULATED: a missing page gets a marker */
	x->r[4] = wprotect(x, 5, 1, UFFDIO_WRITEPROTECT_MODE_WP);
	mk_page_view(x->k, 5, &v);
	x->r[5] = !v.present && v.wp;
}

/* Rule 36: WP_ASYNC: writes to protected pages never queue a message;
 * the kernel clears the WP bit and the write proceeds. */
static void test_r36_wp_async(void **st)
{
	(void)st;
	struct x x;
	struct mk_config c = cfg_basic(UFFD_FEATURE_WP_ASYNC);

	c.register_wp = 1;
	x_init(&x, &c, 1);
	spawn(&x, "g", MK_GUEST, r36_program);
	assert_int_equal(sched_run(x.s), SCHED_DONE);
	assert_int_equal(x.r[0], 0);
	assert_int_equal(x.r[1], 0);
	assert_int_equal(x.r[2], 0);
	assert_int_equal(x.r[3], 0xb); /* 1011: page 1 written */
	assert_int_equal(x.r[4], 0);
	assert_int_equal(x.r[5], 1);
	page_is(&x, 1, 1, MK_WRITE(1));
	x_fini(&x);
}

/* ------------------------------------------------------------------ */
/* rules 37-41: other events, release, SIGBUS                          */

static void r37_unmapper(void *a)
{
	struct x *x = a;

	x->r[0] = mk_munmap(x->k, 1, 2);
	x->done[0] = 1;
	x->c[0] = mk_guest_read(x->k, 1);
}

static void r37_handler(void *a)
{
	struct x *x = a;
	struct mk_page_view v;

	until(x, mk_waiting_event(x->k, x->tid[0]));
	x->r[1] = mk_mmap_changing(x->k);
	mk_page_view(x->k, 1, &v);
	x->r[2] = v.mapped; /* already gone while UNMAP is unread */
	x->r[3] = copy_pages(x, 5, 1, MK_SNAP(5), 0, NULL);
	x->r[4] = rd(x, x->m, 8);
	until(x, x->done[0]);
	x->r[5] = copy_pages(x, 1, 1, MK_SNAP(1), 0, &x->f[5]);
	x->r[6] = mk_mmap_changing(x->k);
}

/* Rule 37: munmap: unmap first, then UNMAP queued and the caller blocked
 * until it is read; the old range is gone for COPY and for the guest. */
static void test_r37_unmap(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_UNMAP);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "m", MK_CONTROL, r37_unmapper);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r37_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 1);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[3], -EAGAIN);
		assert_int_equal(x.r[4], 1);
		assert_range_event(&x.m[0], UFFD_EVENT_UNMAP, ADDR(&x, 1), ADDR(&x, 3));
		assert_int_equal(x.r[0], 0);
		assert_int_equal(x.r[5], -ENOENT);
		assert_int_equal(x.f[5], -ENOENT);
		assert_int_equal(x.r[6], 0);
		assert_int_equal(x.c[0], MK_SEGV);
		x_fini(&x);
	}
}

static void r38_mover(void *a)
{
	struct x *x = a;

	x->r[0] = mk_mremap(x->k, 0, 1);
	x->done[0] = 1;
	x->c[0] = mk_guest_read(x->k, 1);
	x->done[1] = 1;
}

static void r38_handler(void *a)
{
	struct x *x = a;
	const struct sys_ops *o = x->sys->ops;

	until(x, mk_pending_events(x->k) == 1);
	x->r[1] = mk_mmap_changing(x->k);
	x->r[2] = rd(x, x->m, 8);
	until(x, x->done[0] || mk_pending_events(x->k) == 1);
	x->r[3] = x->done[0];
	if (!x->done[0]) {
		x->r[4] = rd(x, x->m + 1, 8);
		until(x, x->done[0]);
	}
	struct mk_page_view v;

	mk_page_view(x->k, 1, &v);
	x->r[5] = v.addr == x->m[0].arg.remap.to + PS;
	until(x, waiting(x, 0) || x->done[1]);
	if (!x->done[1]) {
		x->r[6] = rd(x, x->m + 2, 8);
		void *b = o->buf_alloc(x->sys, PS);

		mk_buf_set(x->k, b, MK_SNAP(1));
		x->r[7] = o->uffd_copy(x->sys, x->uffd,
				       x->m[2].arg.pagefault.address, b, PS, 0,
				       NULL);
		o->buf_free(x->sys, b, PS);
	}
}

/* Rule 38: mremap move: REMAP{from,to,len} then UNMAP of the old range;
 * the registration follows the pages (faults at the new address), unless
 * EVENT_REMAP is off: then the moved range is plain memory. */
static void test_r38_remap(void **st)
{
	(void)st;
	for (int remap = 0; remap <= 1; remap++) {
		for (uint64_t seed = 1; seed <= SEEDS; seed++) {
			struct x x;
			struct mk_config c = cfg_basic(
				UFFD_FEATURE_EVENT_UNMAP |
				(remap ? UFFD_FEATURE_EVENT_REMAP : 0));

			x_init(&x, &c, seed);
			x.tid[0] = spawn(&x, "m", MK_CONTROL, r38_mover);
			x.tid[1] = spawn(&x, "h", MK_HANDLER, r38_handler);
			assert_int_equal(sched_run(x.s), SCHED_DONE);
			assert_int_equal(x.r[0], 0);
			assert_int_equal(x.r[2], 1);
			if (remap) {
				assert_int_equal(x.r[1], 2);
				assert_int_equal(x.m[0].event, UFFD_EVENT_REMAP);
				assert_int_equal(x.m[0].arg.remap.from, ADDR(&x, 0));
				assert_int_equal(x.m[0].arg.remap.len, 2 * PS);
				assert_int_equal(x.r[3], 0);
				assert_int_equal(x.r[4], 1);
				assert_range_event(&x.m[1], UFFD_EVENT_UNMAP,
						   ADDR(&x, 0), ADDR(&x, 2));
				assert_int_equal(x.r[5], 1);
				assert_int_equal(x.r[6], 1);
				assert_pf(&x.m[2], x.m[0].arg.remap.to + PS, 0);
				assert_int_equal(x.r[7], 0);
				assert_int_equal(x.c[0], MK_SNAP(1));
			} else {
				assert_int_equal(x.r[1], 1);
				assert_range_event(&x.m[0], UFFD_EVENT_UNMAP,
						   ADDR(&x, 0), ADDR(&x, 2));
				assert_int_equal(x.r[3], 1);
				assert_int_equal(x.c[0], 0); /* plain memory */
				assert_int_equal(mk_pending_faults(x.k), 0);
			}
			x_fini(&x);
		}
	}
}

static void r39_forker(void *a)
{
	struct x *x = a;

	x->r[0] = mk_fork(x->k);
	x->done[0] = 1;
	x->r[1] = mk_access(x->k, x->r[0], 3, 0, 0, 0, &x->c[0]);
	x->done[1] = 1;
}

static void r39_handler(void *a)
{
	struct x *x = a;
	const struct sys_ops *o = x->sys->ops;

	until(x, x->done[0] || mk_pending_events(x->k) == 1);
	x->r[2] = x->done[0];
	if (x->done[0])
		return;
	x->r[3] = rd(x, x->m, 8);
	int cfd = (int)x->m[0].arg.fork.ufd;
	struct sys_pollfd p = {.fd = cfd, .events = SYS_POLLIN};

	x->r[4] = o->poll(x->sys, &p, 1, -1); /* the child's fault */
	x->r[5] = mk_pending_faults(x->k);    /* none on the parent's */
	x->r[6] = o->uffd_read(x->sys, cfd, x->m + 1, 8);
	void *b = o->buf_alloc(x->sys, PS);

	mk_buf_set(x->k, b, MK_SNAP(33));
	x->r[7] = o->uffd_copy(x->sys, cfd, ADDR(x, 3), b, PS, 0, NULL);
	o->buf_free(x->sys, b, PS);
	until(x, x->done[1]);
	x->r[8] = o->close(x->sys, cfd);
}

/* Rule 39: fork blocks until FORK is read; the read creates the child's
 * uffd; the child's faults go there. Without EVENT_FORK the child's
 * range is plain memory. */
static void test_r39_fork(void **st)
{
	(void)st;
	for (int ev = 0; ev <= 1; ev++) {
		for (uint64_t seed = 1; seed <= SEEDS; seed++) {
			struct x x;
			struct mk_config c =
				cfg_basic(ev ? UFFD_FEATURE_EVENT_FORK : 0);

			x_init(&x, &c, seed);
			x.tid[0] = spawn(&x, "f", MK_CONTROL, r39_forker);
			x.tid[1] = spawn(&x, "h", MK_HANDLER, r39_handler);
			assert_int_equal(sched_run(x.s), SCHED_DONE);
			assert_int_equal(x.r[0], 1);
			assert_int_equal(x.r[1], 0);
			if (ev) {
				assert_int_equal(x.r[2], 0);
				assert_int_equal(x.r[3], 1);
				assert_int_equal(x.m[0].event, UFFD_EVENT_FORK);
				assert_true((int)x.m[0].arg.fork.ufd > x.uffd);
				assert_int_equal(x.r[4], 1);
				assert_int_equal(x.r[5], 0);
				assert_int_equal(x.r[6], 1);
				assert_pf(&x.m[1], ADDR(&x, 3), 0);
				assert_int_equal(x.r[7], 0);
				assert_int_equal(x.c[0], MK_SNAP(33));
				assert_int_equal(x.r[8], 0);
				page_is(&x, 3, 0, 0); /* the parent's page */
			} else {
				assert_int_equal(x.r[2], 1);
				assert_int_equal(x.c[0], 0);
			}
			x_fini(&x);
		}
	}
}

static void r40_g0(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 0);
}

static void r40_g1(void *a)
{
	struct x *x = a;

	x->c[1] = mk_guest_read(x->k, 1);
}

static void r40_control(void *a)
{
	struct x *x = a;
	const struct sys_ops *o = x->sys->ops;

	x->r[0] = copy_pages(x, 2, 1, MK_SNAP(2), 0, NULL);
	until(x, waiting(x, 0) && waiting(x, 1));
	x->r[1] = rd(x, x->m, 1); /* one read, one unread */
	x->r[2] = o->close(x->sys, x->uffd);
	for (int i = 0; i < 10; i++)
		sched_yield(x->s);
	x->r[3] = blocked(x, 0) && blocked(x, 1) && !mk_released(x->k);
	mk_release(x->k);
	x->r[4] = mk_released(x->k);
	x->c[2] = mk_guest_read(x->k, 2);
	x->c[3] = mk_guest_read(x->k, 3); /* no fault any more */
	x->r[5] = mk_madvise_dontneed(x->k, 2, 2);
	x->r[6] = mk_pending_events(x->k) + mk_pending_faults(x->k);
	x->r[7] = o->uffd_wake(x->sys, x->uffd, ADDR(x, 0), PS);
}

/* Rule 40 with mremap: the uffd is released while the REMAP is unread; the
 * REMAP is withdrawn and the UNMAP that mremap then raises is not queued
 * on the released context (nobody could read it): mremap returns and
 * mmap_changing is back to 0. The model used to queue it and sleep. */
static void r40_mover(void *a)
{
	struct x *x = a;

	x->r[0] = mk_mremap(x->k, 0, 1);
	x->r[1] = 1;
}

static void r40_releaser(void *a)
{
	struct x *x = a;
	const struct sys_ops *o = x->sys->ops;

	until(x, mk_waiting_event(x->k, x->tid[0]));
	x->r[2] = o->close(x->sys, x->uffd);
	mk_release(x->k);
}

static void test_r40_release_during_remap(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_UNMAP);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "m", MK_CONTROL, r40_mover);
		x.tid[1] = spawn(&x, "c", MK_CONTROL, r40_releaser);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 1);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(mk_pending_events(x.k), 0);
		assert_int_equal(mk_mmap_changing(x.k), 0);
		x_fini(&x);
	}
}

/* Rule 40: release happens at the last reference; it wakes every fault
 * waiter (read or not), who then sees plain memory; nothing queues after. */
static void test_r40_release(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g0", MK_GUEST, r40_g0);
		x.tid[1] = spawn(&x, "g1", MK_GUEST, r40_g1);
		x.tid[2] = spawn(&x, "c", MK_CONTROL, r40_control);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[1], 1);
		assert_int_equal(x.r[2], 0);
		assert_int_equal(x.r[3], 1);
		assert_int_equal(x.r[4], 1);
		assert_int_equal(x.c[0], 0);
		assert_int_equal(x.c[1], 0);
		assert_int_equal(x.c[2], MK_SNAP(2));
		assert_int_equal(x.c[3], 0);
		assert_int_equal(x.r[5], 0);
		assert_int_equal(x.r[6], 0);
		assert_int_equal(x.r[7], -EBADF);
		x_fini(&x);
	}
}

static void r41_program(void *a)
{
	struct x *x = a;

	x->c[0] = mk_guest_read(x->k, 0);
	x->r[0] = mk_pending_faults(x->k);
	x->r[1] = copy_pages(x, 0, 1, MK_SNAP(0), 0, NULL);
	x->c[1] = mk_guest_read(x->k, 0);
}

/* Rule 41: UFFD_FEATURE_SIGBUS: a MISSING fault fails at once, queues
 * nothing; COPY works as usual. */
static void test_r41_sigbus(void **st)
{
	(void)st;
	struct x x;
	struct mk_config c = cfg_basic(UFFD_FEATURE_SIGBUS);

	x_init(&x, &c, 1);
	spawn(&x, "g", MK_GUEST, r41_program);
	assert_int_equal(sched_run(x.s), SCHED_DONE);
	assert_int_equal(x.c[0], MK_SEGV);
	assert_int_equal(x.r[0], 0);
	assert_int_equal(x.r[1], 0);
	assert_int_equal(x.c[1], MK_SNAP(0));
	x_fini(&x);
}

/* ------------------------------------------------------------------ */
/* a small handler: determinism, reuse, speed                          */

#define PP_PAGES 4
#define PP_QUEUE 16

struct pp {
	struct x x;
	sys_mutex_t *mu;
	sys_cond_t *cv;
	struct uffd_msg q[PP_QUEUE];
	int qhead, qlen;
	int stop;
	int exitp[2];
	int guests_left;
	uint64_t served, eagain;
};

static void pp_guest(void *a)
{
	struct pp *p = a;
	int me = sched_self(p->x.s);

	for (int i = 0; i < PP_PAGES; i++) {
		int page = (i + me) % PP_PAGES;
		mk_content c = mk_guest_read(p->x.k, page);

		/* the snapshot, zeros after a remove, or the other
		 * guest's write */
		assert_true(c == MK_SNAP((uint64_t)page) || c == 0 ||
			    MK_IS_WRITE(c));
	}
	mk_guest_write(p->x.k, me % PP_PAGES, MK_WRITE((uint64_t)me));
	if (--p->guests_left == 0) {
		const struct sys_ops *o = p->x.sys->ops;

		o->write(p->x.sys, p->exitp[1], "x", 1);
	}
}

static void pp_balloon(void *a)
{
	struct pp *p = a;

	mk_madvise_dontneed(p->x.k, 0, PP_PAGES - 1);
}

static void pp_worker(void *a)
{
	struct pp *p = a;
	sys_t *sys = p->x.sys;
	const struct sys_ops *o = sys->ops;
	void *b = o->buf_alloc(sys, PS);

	for (;;) {
		o->mutex_lock(sys, p->mu);
		while (!p->qlen && !p->stop)
			o->cond_wait(sys, p->cv, p->mu);
		if (!p->qlen) {
			o->mutex_unlock(sys, p->mu);
			break;
		}
		struct uffd_msg m = p->q[p->qhead];

		p->qhead = (p->qhead + 1) % PP_QUEUE;
		p->qlen--;
		o->mutex_unlock(sys, p->mu);
		uint64_t addr = m.arg.pagefault.address;
		uint64_t page = (addr - p->x.base) / PS;
		int64_t f;
		int r;

		do {
			o->source_read(sys, page * PS, b, PS);
			r = o->uffd_copy(sys, p->x.uffd, addr, b, PS, 0, &f);
			if (r == -EAGAIN) {
				p->eagain++;
				o->yield(sys);
			}
		} while (r == -EAGAIN);
		if (r == -EEXIST)
			o->uffd_wake(sys, p->x.uffd, addr, PS);
		else
			assert_int_equal(r, 0);
		p->served++;
	}
	o->buf_free(sys, b, PS);
}

static void pp_serve(void *a)
{
	struct pp *p = a;
	sys_t *sys = p->x.sys;
	const struct sys_ops *o = sys->ops;
	sys_thread_t *w[2];

	assert_int_equal(o->mutex_new(sys, &p->mu), 0);
	assert_int_equal(o->cond_new(sys, &p->cv), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(o->spawn(sys, &w[i], "w", pp_worker, p), 0);
	for (;;) {
		struct sys_pollfd fds[2] = {
			{.fd = p->x.uffd, .events = SYS_POLLIN},
			{.fd = p->exitp[0], .events = SYS_POLLIN},
		};

		assert_true(o->poll(sys, fds, 2, -1) > 0);
		if (fds[1].revents)
			break;
		struct uffd_msg m[8];
		int n = o->uffd_read(sys, p->x.uffd, m, 8);

		o->mutex_lock(sys, p->mu);
		for (int i = 0; i < n; i++) {
			if (m[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			assert_true(p->qlen < PP_QUEUE);
			p->q[(p->qhead + p->qlen) % PP_QUEUE] = m[i];
			p->qlen++;
		}
		o->cond_broadcast(sys, p->cv);
		o->mutex_unlock(sys, p->mu);
	}
	o->mutex_lock(sys, p->mu);
	p->stop = 1;
	o->cond_broadcast(sys, p->cv);
	o->mutex_unlock(sys, p->mu);
	for (int i = 0; i < 2; i++)
		o->join(sys, w[i]);
	o->mutex_free(sys, p->mu);
	o->cond_free(sys, p->cv);
	o->close(sys, p->exitp[0]);
	o->close(sys, p->exitp[1]);
}

/* One schedule of 2 guests, 1 balloon, a serve loop and 2 workers on 4
 * pages. Reuses p's scheduler and kernel when they exist. */
static enum sched_result pp_run(struct pp *p, uint64_t seed, int labels,
				sched_step_sink sink, void *ctx)
{
	struct sched_opts o = {
		.strategy = SCHED_RANDOM,
		.seed = seed,
		.max_steps = 100000,
		.labels = labels,
	};
	struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

	c.pages = PP_PAGES;
	if (!p->x.s) {
		p->x.s = sched_new(&o);
		assert_non_null(p->x.s);
		p->x.k = mk_new(p->x.s, &c);
		assert_non_null(p->x.k);
	} else {
		assert_int_equal(sched_reset(p->x.s, &o), 0);
		assert_int_equal(mk_reset(p->x.k, NULL), 0);
	}
	p->x.sys = mk_sys(p->x.k);
	p->x.uffd = mk_uffd(p->x.k);
	p->x.base = MK_BASE_DEFAULT;
	p->x.ps = PS;
	p->qhead = p->qlen = p->stop = 0;
	p->guests_left = 2;
	sched_set_step_sink(p->x.s, sink, ctx);
	/* the exit pipe exists before any thread runs */
	assert_int_equal(p->x.sys->ops->pipe(p->x.sys, p->exitp), 0);
	sched_spawn(p->x.s, "g0", MK_GUEST, pp_guest, p);
	sched_spawn(p->x.s, "g1", MK_GUEST, pp_guest, p);
	sched_spawn(p->x.s, "b", MK_BALLOON, pp_balloon, p);
	sched_spawn(p->x.s, "serve", MK_HANDLER, pp_serve, p);
	return sched_run(p->x.s);
}

static void pp_fini(struct pp *p)
{
	mk_free(p->x.k);
	sched_free(p->x.s);
	memset(p, 0, sizeof(*p));
}

struct trace {
	uint64_t hash;
	uint64_t steps;
};

static void trace_sink(void *ctx, const struct sched_step_info *si)
{
	uint64_t step = si->step;
	int tid = si->tid;
	const char *label = si->label;
	struct trace *t = ctx;
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "%llu t%d %s\n",
			 (unsigned long long)step, tid, label);

	for (int i = 0; i < n && i < (int)sizeof(buf); i++)
		t->hash = (t->hash ^ (unsigned char)buf[i]) * 0x100000001b3ull;
	/* the typed events are part of the trace too */
	for (size_t e = 0; e < si->nev; e++)
		for (unsigned f = 0; f <= si->ev[e].nf; f++) {
			uint64_t v = f ? (uint64_t)si->ev[e].f[f - 1] :
					 si->ev[e].kind;

			t->hash = (t->hash ^ v) * 0x100000001b3ull;
		}
	t->steps++;
}

/* Same seed, same trace byte for byte: fresh objects or reused ones. */
static void test_determinism_and_reuse(void **st)
{
	(void)st;
	struct pp a, b;
	struct trace ta[4], tb[4];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 4; i++) {
		ta[i] = (struct trace){.hash = 0xcbf29ce484222325ull};
		tb[i] = ta[i];
		/* a: reused across seeds; b: fresh for every run */
		assert_int_equal(pp_run(&a, 100 + (uint64_t)i, 1, trace_sink, &ta[i]),
				 SCHED_DONE);
		assert_int_equal(pp_run(&b, 100 + (uint64_t)i, 1, trace_sink, &tb[i]),
				 SCHED_DONE);
		pp_fini(&b);
		assert_int_equal(ta[i].hash, tb[i].hash);
		assert_int_equal(ta[i].steps, tb[i].steps);
	}
	assert_true(ta[0].hash != ta[1].hash || ta[1].hash != ta[2].hash);
	pp_fini(&a);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Stress: every schedule ends (no deadlock, no lost wake) and the guests
 * only ever read snapshot data or zeros. Reports the speed. */
static void test_pingpong_speed(void **st)
{
	(void)st;
	struct pp p;
	int runs = getenv("UFFDLAB_QUICK") ? 200 : 20000;
	uint64_t steps = 0;

	memset(&p, 0, sizeof(p));
	double t0 = now_s();

	for (int i = 0; i < runs; i++) {
		assert_int_equal(pp_run(&p, (uint64_t)i + 1, 0, NULL, NULL),
				 SCHED_DONE);
		steps += sched_steps(p.x.s);
	}
	double dt = now_s() - t0;

	print_message("pingpong: %d schedules, %llu steps in %.3f s: %.0f steps/s, %.0f schedules/s (served %llu, eagain %llu)\n",
		      runs, (unsigned long long)steps, dt, (double)steps / dt,
		      runs / dt, (unsigned long long)p.served,
		      (unsigned long long)p.eagain);
	pp_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_r01_read_order),
		cmocka_unit_test(test_r02_batch_read),
		cmocka_unit_test(test_r03_read_does_not_wake),
		cmocka_unit_test(test_r04_event_read_completes),
		cmocka_unit_test(test_r05_poll),
		cmocka_unit_test(test_r06_one_msg_per_thread),
		cmocka_unit_test(test_r07_msg_fields),
		cmocka_unit_test(test_r08_wake_sources),
		cmocka_unit_test(test_r09_wake_retries),
		cmocka_unit_test(test_r10_signal),
		cmocka_unit_test(test_r11_fault_for_present_page),
		cmocka_unit_test(test_r12_kernel_access),
		cmocka_unit_test(test_r13_mmap_changing_eagain),
		cmocka_unit_test(test_r14_partial_fill),
		cmocka_unit_test(test_r15_wake_prefix),
		cmocka_unit_test(test_r16_fill_atomic_vs_remove),
		cmocka_unit_test(test_r17_validation),
		cmocka_unit_test(test_r18_zeropage),
		cmocka_unit_test(test_r19_wake),
		cmocka_unit_test(test_r20_unregister),
		cmocka_unit_test(test_r20_unregister_via_sys),
		cmocka_unit_test(test_r21_vma_by_vma),
		cmocka_unit_test(test_r22_remove_missing_range),
		cmocka_unit_test(test_r23_present_until_zap),
		cmocka_unit_test(test_r24_after_zap),
		cmocka_unit_test(test_r25_three_outcomes),
		cmocka_unit_test(test_r26_blocked_fault_in_removed_range),
		cmocka_unit_test(test_r27_no_event_remove),
		cmocka_unit_test(test_r28_event_wait_ends),
		cmocka_unit_test(test_r29_counter),
		cmocka_unit_test(test_r30_hugetlb_fill),
		cmocka_unit_test(test_r31_hugetlb_madvise),
		cmocka_unit_test(test_r32_hugetlb_wp_marker),
		cmocka_unit_test(test_r33_write_protect),
		cmocka_unit_test(test_r34_missing_then_wp),
		cmocka_unit_test(test_r35_wp_unpopulated),
		cmocka_unit_test(test_r35_zeropage_over_marker),
		cmocka_unit_test(test_r36_wp_async),
		cmocka_unit_test(test_r37_unmap),
		cmocka_unit_test(test_r38_remap),
		cmocka_unit_test(test_r39_fork),
		cmocka_unit_test(test_r40_release),
		cmocka_unit_test(test_r40_release_during_remap),
		cmocka_unit_test(test_r41_sigbus),
		cmocka_unit_test(test_determinism_and_reuse),
		cmocka_unit_test(test_pingpong_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

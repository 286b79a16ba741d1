/* tests/test_model_events.c — the simulated kernel against docs/KERNEL.md's
 * Model rules: rules 33-44: write-protect, UNMAP, REMAP, FORK, release, SIGBUS and exit.
 *
 * Each test runs small coroutine programs (guest, balloon, handler) on the
 * scheduler with the random strategy, over several seeds, and asserts what
 * a program can observe: return codes, output fields, message order, page
 * contents, whether a thread is blocked. Threads order themselves with
 * `until(cond)` spin-waits on observable state (tests/mk_fixture.h), so the
 * assertions hold on every schedule; the expected values are those
 * docs/KERNEL.md's probes saw on a real 6.18 kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/mk_fixture.h"

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

static void r44_faulter(void *a)
{
	struct x *x = a;
	x->c[0] = mk_guest_read(x->k, 0);
}

static void r44_late(void *a)
{
	struct x *x = a;
	until(x, x->phase == 2);
	x->c[1] = mk_guest_read(x->k, 1);
}

static void r44_exiter(void *a)
{
	struct x *x = a;
	until(x, x->phase == 1);
	x->r[5] = mk_exit(x->k);
	x->phase = 2;
}

static void r44_handler(void *a)
{
	struct x *x = a;
	until(x, waiting(x, 0));
	x->r[0] = rd(x, x->m, 1);
	x->phase = 1;
	until(x, x->phase == 2);
	x->r[1] = copy_pages(x, 0, 1, MK_SNAP(0), 0, &x->f[1]);
	x->r[2] = zero_pages(x, 1, 1, 0, &x->f[2]);
	x->r[3] = wake(x, 0, 1);
	x->r[4] = rd(x, x->m + 1, 1);
}

/* Rule 44: the guest process exits: a thread asleep in a fault dies
 * (-EINTR), a later access of the process does not happen, COPY and
 * ZEROPAGE get ESRCH without filling (field = the errno, A2), WAKE and
 * read still work, nothing is queued. */
static void test_r44_exit(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);
		x_init(&x, &c, seed);
		x.tid[0] = spawn(&x, "g0", MK_GUEST, r44_faulter);
		x.tid[1] = spawn(&x, "g1", MK_GUEST, r44_exiter);
		x.tid[2] = spawn(&x, "g2", MK_GUEST, r44_late);
		x.tid[3] = spawn(&x, "h", MK_HANDLER, r44_handler);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		assert_int_equal(x.r[0], 1);
		assert_pf(&x.m[0], ADDR(&x, 0), 0);
		assert_int_equal(x.r[5], 0);
		assert_int_equal(x.c[0], MK_KILLED);
		assert_int_equal(x.c[1], MK_KILLED);
		assert_int_equal(x.r[1], -ESRCH);
		assert_int_equal(x.f[1], -ESRCH);
		assert_int_equal(x.r[2], -ESRCH);
		assert_int_equal(x.f[2], -ESRCH);
		assert_int_equal(x.r[3], 0);
		assert_int_equal(x.r[4], -EAGAIN);
		page_is(&x, 0, 0, 0);
		page_is(&x, 1, 0, 0);
		x_fini(&x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test(test_r44_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

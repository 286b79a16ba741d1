/* tests/test_model_fill.c — the simulated kernel against docs/KERNEL.md's
 * Model rules: rules 13-20: COPY, ZEROPAGE, WAKE, WRITEPROTECT and UNREGISTER.
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

/* Rule 16 before 6.9: the observer sees every install of page 0, with
 * mmap_changing at that moment and whether page 0 was zapped before. */
static void r16old_install(void *ctx, int tid, int page, mk_content c, int wp)
{
	struct x *x = ctx;

	(void)tid;
	(void)c;
	(void)wp;
	if (page != 0)
		return;
	if (mk_mmap_changing(x->k) > 0)
		x->r[10] = 1; /* filled while the REMOVE was queued */
	if (x->r[11])
		x->r[12] = 1; /* filled after the zap */
}

static void r16old_zap(void *ctx, int page)
{
	struct x *x = ctx;

	if (page == 0)
		x->r[11] = 1;
}

static void r16old_copier(void *a)
{
	struct x *x = a;

	x->r[1] = copy_pages(x, 0, 1, MK_SNAP(9), 0, &x->f[1]);
	x->done[1] = 1;
}

static void r16old_reader(void *a)
{
	struct x *x = a;

	while (!x->done[0] || !x->done[1])
		if (rd(x, x->m, 8) < 0)
			sched_yield(x->s);
}

/* How many of 300 seeds filled page 0 while its REMOVE was queued, and
 * after its zap, on kernel profile kver. */
static void r16_window(int kver, int *queued, int *after_zap)
{
	*queued = *after_zap = 0;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct x x;
		struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

		c.kver = kver;
		x_init(&x, &c, seed);
		struct mk_observer o = {.ctx = &x, .install = r16old_install,
					.zap = r16old_zap};

		mk_set_observer(x.k, &o);
		x.tid[0] = spawn(&x, "b", MK_BALLOON, r16_balloon);
		x.tid[1] = spawn(&x, "h", MK_HANDLER, r16old_copier);
		x.tid[2] = spawn(&x, "r", MK_HANDLER, r16old_reader);
		assert_int_equal(sched_run(x.s), SCHED_DONE);
		*queued += x.r[10];
		*after_zap += x.r[12] && x.r[1] == 0;
		x_fini(&x);
	}
}

/* Rule 16 by profile: from 6.9 no fill happens while a REMOVE is queued
 * (map_changing_lock); on 6.1 a COPY that passed its check fills later,
 * even after the zap of a REMOVE queued after its check. */
static void test_r16_profiles(void **st)
{
	(void)st;
	int q, z;

	r16_window(MK_K6_18, &q, &z);
	assert_int_equal(q, 0);
	r16_window(MK_K6_12, &q, &z);
	assert_int_equal(q, 0);
	r16_window(MK_K6_1, &q, &z);
	printf("6.1: %d of 300 seeds filled while the REMOVE was queued, %d after its zap\n", q, z);
	assert_true(q > 0);
	assert_true(z > 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_r13_mmap_changing_eagain),
		cmocka_unit_test(test_r14_partial_fill),
		cmocka_unit_test(test_r15_wake_prefix),
		cmocka_unit_test(test_r16_fill_atomic_vs_remove),
		cmocka_unit_test(test_r16_profiles),
		cmocka_unit_test(test_r17_validation),
		cmocka_unit_test(test_r18_zeropage),
		cmocka_unit_test(test_r19_wake),
		cmocka_unit_test(test_r20_unregister),
		cmocka_unit_test(test_r20_unregister_via_sys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/test_model_remove.c — the simulated kernel against docs/KERNEL.md's
 * Model rules: rules 21-31: madvise(DONTNEED), REMOVE and hugetlb.
 *
 * Each test runs small coroutine programs (guest, balloon, handler) on the
 * scheduler with the random strategy, over several seeds, and asserts what
 * a program can observe: return codes, output fields, message order, page
 * contents, whether a thread is blocked. Threads order themselves with
 * `until(cond)` spin-waits on observable state (tests/mk_fixture.h), so the
 * assertions hold on every schedule; the expected values are those
 * docs/KERNEL.md's probes saw on a real 6.18 kernel. r25 instead explores
 * seeds until all three outcomes of a COPY racing madvise's steps have
 * been seen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/mk_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

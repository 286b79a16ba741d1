/* tests/test_model_queue.c — the simulated kernel against docs/KERNEL.md's
 * Model rules: rules 1-12: the uffd queues, read(), poll and faults.
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

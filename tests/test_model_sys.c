/* tests/test_model_sys.c — the simulated sys_t outside the uffd: threads,
 * mutex, writer-preferring rwlock (Go RWMutex), condition variables, atomics,
 * pipes, poll, buffers and the snapshot source, step labels.
 *
 * Concurrency properties are checked over many seeds of the random
 * strategy; the lock tests include a control run without the lock that
 * must lose an update, so they can fail.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "handler/sys.h"
#include "model/kernel.h"
#include "model/sys_model.h"
#include "sched/sched.h"

#define SEEDS 64

struct y {
	sched_t *s;
	struct mkern *k;
	sys_t *sys;
	const struct sys_ops *o;
	sys_mutex_t *mu;
	sys_rwlock_t *rw;
	sys_cond_t *cv;
	int use_lock;
	uint64_t counter;
	int inside_r, inside_w, max_r, violations;
	char log[64];
	int nlog;
	int flag, woken;
	int fds[2];
	int r[16];
	int tid[8];
};

static void y_init(struct y *y, uint64_t seed, int labels)
{
	struct sched_opts so = {
		.strategy = SCHED_RANDOM,
		.seed = seed,
		.max_steps = 100000,
		.labels = labels,
	};
	struct mk_config c = {.page_size = 4096, .pages = 4};

	memset(y, 0, sizeof(*y));
	y->s = sched_new(&so);
	assert_non_null(y->s);
	y->k = mk_new(y->s, &c);
	assert_non_null(y->k);
	y->sys = mk_sys(y->k);
	y->o = y->sys->ops;
	assert_int_equal(y->o->mutex_new(y->sys, &y->mu), 0);
	assert_int_equal(y->o->rwlock_new(y->sys, &y->rw), 0);
	assert_int_equal(y->o->cond_new(y->sys, &y->cv), 0);
}

static void y_fini(struct y *y)
{
	y->o->mutex_free(y->sys, y->mu);
	y->o->rwlock_free(y->sys, y->rw);
	y->o->cond_free(y->sys, y->cv);
	mk_free(y->k);
	sched_free(y->s);
}

static int spawn(struct y *y, void (*fn)(void *))
{
	int t = sched_spawn(y->s, "t", MK_HANDLER, fn, y);

	assert_true(t >= 0);
	return t;
}

static void logc(struct y *y, char c)
{
	if (y->nlog < (int)sizeof(y->log) - 1)
		y->log[y->nlog++] = c;
}

#define until(y, cond)                      \
	do {                                \
		while (!(cond))             \
			sched_yield((y)->s); \
	} while (0)

/* ------------------------------------------------------------------ */
/* mutex                                                               */

static void mutex_incr(void *a)
{
	struct y *y = a;

	for (int i = 0; i < 3; i++) {
		if (y->use_lock)
			y->o->mutex_lock(y->sys, y->mu);
		uint64_t v = y->counter;

		sched_point(y->s); /* a preemption inside the section */
		y->counter = v + 1;
		if (y->use_lock)
			y->o->mutex_unlock(y->sys, y->mu);
	}
}

static void test_mutex_excludes(void **st)
{
	(void)st;
	int lost_without = 0;

	for (int lock = 0; lock <= 1; lock++)
		for (uint64_t seed = 1; seed <= SEEDS; seed++) {
			struct y y;

			y_init(&y, seed, 0);
			y.use_lock = lock;
			for (int i = 0; i < 3; i++)
				spawn(&y, mutex_incr);
			assert_int_equal(sched_run(y.s), SCHED_DONE);
			if (lock)
				assert_int_equal(y.counter, 9);
			else
				lost_without += y.counter != 9;
			y_fini(&y);
		}
	assert_true(lost_without > 0); /* the test can see a race */
}

/* ------------------------------------------------------------------ */
/* rwlock                                                              */

static void rw_reader1(void *a)
{
	struct y *y = a;

	y->o->rdlock(y->sys, y->rw);
	logc(y, 'r');
	until(y, y->flag == 1); /* the writer is waiting */
	until(y, sched_thread_state(y->s, y->tid[2]) == SCHED_T_BLOCKED);
	logc(y, 'u');
	y->o->rdunlock(y->sys, y->rw);
}

static void rw_writer(void *a)
{
	struct y *y = a;

	until(y, y->nlog == 1);
	y->flag = 1;
	y->o->wrlock(y->sys, y->rw);
	logc(y, 'W');
	y->o->wrunlock(y->sys, y->rw);
	logc(y, 'w');
}

static void rw_reader2(void *a)
{
	struct y *y = a;

	until(y, y->flag == 1 &&
		 sched_thread_state(y->s, y->tid[1]) == SCHED_T_BLOCKED);
	/* only a reader is inside, but a writer waits: block */
	y->o->rdlock(y->sys, y->rw);
	logc(y, 'R');
	y->o->rdunlock(y->sys, y->rw);
}

/* Once a writer waits, new readers block; the writer enters when the
 * readers inside leave, before the late reader. */
static void test_rwlock_writer_preference(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct y y;

		y_init(&y, seed, 0);
		y.tid[0] = spawn(&y, rw_reader1);
		y.tid[1] = spawn(&y, rw_writer);
		y.tid[2] = spawn(&y, rw_reader2);
		assert_int_equal(sched_run(y.s), SCHED_DONE);
		/* r in, u out, W in, then the late reader (R may enter as
		 * soon as the writer unlocks, before 'w' is logged) */
		assert_true(strcmp(y.log, "ruWwR") == 0 ||
			    strcmp(y.log, "ruWRw") == 0);
		y_fini(&y);
	}
}

static void go_w1(void *a)
{
	struct y *y = a;

	y->o->wrlock(y->sys, y->rw);
	logc(y, '1');
	until(y, sched_thread_state(y->s, y->tid[1]) == SCHED_T_BLOCKED &&
			 sched_thread_state(y->s, y->tid[2]) == SCHED_T_BLOCKED);
	y->o->wrunlock(y->sys, y->rw);
}

static void go_reader(void *a)
{
	struct y *y = a;

	until(y, y->nlog == 1);
	y->o->rdlock(y->sys, y->rw);
	logc(y, 'R');
	y->o->rdunlock(y->sys, y->rw);
}

static void go_w2(void *a)
{
	struct y *y = a;

	until(y, sched_thread_state(y->s, y->tid[1]) == SCHED_T_BLOCKED);
	y->o->wrlock(y->sys, y->rw);
	logc(y, '2');
	y->o->wrunlock(y->sys, y->rw);
}

/* Go RWMutex: readers that blocked behind writer 1 enter when it unlocks,
 * before writer 2, who was already waiting. */
static void test_rwlock_go_handoff(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct y y;

		y_init(&y, seed, 0);
		y.tid[0] = spawn(&y, go_w1);
		y.tid[1] = spawn(&y, go_reader);
		y.tid[2] = spawn(&y, go_w2);
		assert_int_equal(sched_run(y.s), SCHED_DONE);
		assert_string_equal(y.log, "1R2");
		y_fini(&y);
	}
}

static void rw_mixed(void *a)
{
	struct y *y = a;
	int writer = sched_self(y->s) % 3 == 0;

	for (int i = 0; i < 3; i++) {
		if (writer) {
			y->o->wrlock(y->sys, y->rw);
			y->inside_w++;
			if (y->inside_w > 1 || y->inside_r)
				y->violations++;
			sched_point(y->s);
			y->inside_w--;
			y->o->wrunlock(y->sys, y->rw);
		} else {
			y->o->rdlock(y->sys, y->rw);
			y->inside_r++;
			if (y->inside_w)
				y->violations++;
			if (y->inside_r > y->max_r)
				y->max_r = y->inside_r;
			sched_point(y->s);
			y->inside_r--;
			y->o->rdunlock(y->sys, y->rw);
		}
	}
}

/* Writers exclude everyone, readers share; nothing deadlocks. */
static void test_rwlock_exclusion(void **st)
{
	(void)st;
	int shared = 0;

	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct y y;

		y_init(&y, seed, 0);
		for (int i = 0; i < 6; i++)
			spawn(&y, rw_mixed);
		assert_int_equal(sched_run(y.s), SCHED_DONE);
		assert_int_equal(y.violations, 0);
		shared += y.max_r > 1;
		y_fini(&y);
	}
	assert_true(shared > 0);
}

/* ------------------------------------------------------------------ */
/* condition variables                                                 */

static void cv_waiter(void *a)
{
	struct y *y = a;

	y->o->mutex_lock(y->sys, y->mu);
	while (!y->flag)
		y->o->cond_wait(y->sys, y->cv, y->mu);
	y->woken++;
	y->o->mutex_unlock(y->sys, y->mu);
}

static void cv_signaller(void *a)
{
	struct y *y = a;

	y->o->mutex_lock(y->sys, y->mu);
	y->flag = 1;
	y->o->cond_signal(y->sys, y->cv);
	y->o->mutex_unlock(y->sys, y->mu);
}

/* cond_wait releases the mutex and sleeps in one step: the signaller's
 * wake can never fall between them (no lost wake-up on any seed). */
static void test_cond_no_lost_wakeup(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct y y;

		y_init(&y, seed, 0);
		spawn(&y, cv_waiter);
		spawn(&y, cv_signaller);
		assert_int_equal(sched_run(y.s), SCHED_DONE);
		assert_int_equal(y.woken, 1);
		y_fini(&y);
	}
}

static void cv_plain_waiter(void *a)
{
	struct y *y = a;

	y->o->mutex_lock(y->sys, y->mu);
	y->r[0]++;
	y->o->cond_wait(y->sys, y->cv, y->mu);
	y->woken++;
	y->o->mutex_unlock(y->sys, y->mu);
}

static void cv_control(void *a)
{
	struct y *y = a;

	until(y, y->r[0] == 3 &&
		 sched_thread_state(y->s, y->tid[0]) == SCHED_T_BLOCKED &&
		 sched_thread_state(y->s, y->tid[1]) == SCHED_T_BLOCKED &&
		 sched_thread_state(y->s, y->tid[2]) == SCHED_T_BLOCKED);
	y->o->mutex_lock(y->sys, y->mu);
	y->o->cond_signal(y->sys, y->cv);
	y->o->mutex_unlock(y->sys, y->mu);
	until(y, y->woken == 1);
	for (int i = 0; i < 10; i++)
		sched_yield(y->s);
	y->r[1] = y->woken; /* signal woke exactly one */
	y->o->cond_broadcast(y->sys, y->cv);
}

static void test_cond_signal_broadcast(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct y y;

		y_init(&y, seed, 0);
		for (int i = 0; i < 3; i++)
			y.tid[i] = spawn(&y, cv_plain_waiter);
		spawn(&y, cv_control);
		assert_int_equal(sched_run(y.s), SCHED_DONE);
		assert_int_equal(y.r[1], 1);
		assert_int_equal(y.woken, 3);
		y_fini(&y);
	}
}

/* ------------------------------------------------------------------ */
/* threads and atomics                                                 */

static void child(void *a)
{
	struct y *y = a;

	sched_point(y->s);
	y->flag = 7;
}

static void parent(void *a)
{
	struct y *y = a;
	sys_thread_t *t;

	y->r[0] = y->o->spawn(y->sys, &t, "child", child, y);
	y->r[1] = y->o->join(y->sys, t);
	y->r[2] = y->flag;
	y->r[3] = y->o->join(y->sys, t);
	y->r[4] = y->o->spawn(y->sys, NULL, "detached", child, y);
	y->r[5] = sched_thread_kind(y->s, 1);
	uint64_t w = 5;

	y->r[6] = (int)y->o->atomic_add(y->sys, &w, 3);
	y->r[7] = y->o->atomic_cas(y->sys, &w, 5, 1);
	y->r[8] = y->o->atomic_cas(y->sys, &w, 8, 1);
	y->r[9] = (int)y->o->atomic_load(y->sys, &w);
	y->o->atomic_store(y->sys, &w, 42);
	y->r[10] = (int)w;
}

static void test_threads_and_atomics(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct y y;

		y_init(&y, seed, 0);
		spawn(&y, parent);
		assert_int_equal(sched_run(y.s), SCHED_DONE);
		assert_int_equal(y.r[0], 0);
		assert_int_equal(y.r[1], 0);
		assert_int_equal(y.r[2], 7);
		assert_int_equal(y.r[3], -EINVAL);
		assert_int_equal(y.r[4], 0);
		assert_int_equal(y.r[5], MK_HANDLER);
		assert_int_equal(y.r[6], 8);
		assert_int_equal(y.r[7], 0);
		assert_int_equal(y.r[8], 1);
		assert_int_equal(y.r[9], 1);
		assert_int_equal(y.r[10], 42);
		assert_int_equal(sched_nthreads(y.s), 3);
		y_fini(&y);
	}
}

/* ------------------------------------------------------------------ */
/* pipes                                                               */

static void pipe_program(void *a)
{
	struct y *y = a;
	const struct sys_ops *o = y->o;
	sys_t *s = y->sys;
	char buf[100];
	int p[2], q[2];

	memset(buf, 'z', sizeof(buf));
	assert_int_equal(o->pipe(s, p), 0);
	/* fd 3 is the uffd: the pipe gets the lowest free numbers */
	assert_int_equal(p[0], 4);
	assert_int_equal(p[1], 5);
	assert_int_equal(o->read(s, p[0], buf, 10), -EAGAIN);
	assert_int_equal(o->write(s, p[1], "abc", 3), 3);
	assert_int_equal(o->read(s, p[0], buf, 2), 2);
	assert_memory_equal(buf, "ab", 2);
	assert_int_equal(o->read(s, p[0], buf, 10), 1);
	assert_int_equal(buf[0], 'c');
	/* fill it: 64 bytes, then EAGAIN; a partial write near the top */
	assert_int_equal(o->write(s, p[1], buf, 60), 60);
	assert_int_equal(o->write(s, p[1], buf, 10), 4);
	assert_int_equal(o->write(s, p[1], buf, 1), -EAGAIN);
	assert_int_equal(o->read(s, p[0], buf, 100), 64);
	/* wrong ends, closed fds, a uffd */
	assert_int_equal(o->read(s, p[1], buf, 1), -EBADF);
	assert_int_equal(o->write(s, p[0], buf, 1), -EBADF);
	assert_int_equal(o->write(s, mk_uffd(y->k), buf, 1), -EINVAL);
	assert_int_equal(o->read(s, 99, buf, 1), -EBADF);
	/* EOF once the writer is gone and the pipe drained */
	assert_int_equal(o->write(s, p[1], "x", 1), 1);
	assert_int_equal(o->close(s, p[1]), 0);
	assert_int_equal(o->close(s, p[1]), -EBADF);
	assert_int_equal(o->read(s, p[0], buf, 10), 1);
	assert_int_equal(o->read(s, p[0], buf, 10), 0);
	/* the lowest free fd is reused */
	assert_int_equal(o->pipe(s, q), 0);
	assert_int_equal(q[0], 5);
	assert_int_equal(q[1], 6);
	assert_int_equal(o->close(s, q[0]), 0);
	assert_int_equal(o->write(s, q[1], "x", 1), -EPIPE);
	assert_int_equal(o->close(s, q[1]), 0);
	assert_int_equal(o->close(s, p[0]), 0);
	y->flag = 1;
}

static void test_pipes(void **st)
{
	(void)st;
	struct y y;

	y_init(&y, 1, 0);
	spawn(&y, pipe_program);
	assert_int_equal(sched_run(y.s), SCHED_DONE);
	assert_int_equal(y.flag, 1);
	y_fini(&y);
}

/* ------------------------------------------------------------------ */
/* poll                                                                */

static void poll_waiter(void *a)
{
	struct y *y = a;
	struct sys_pollfd f[3] = {
		{.fd = y->fds[0], .events = SYS_POLLIN},
		{.fd = -1, .events = SYS_POLLIN},
		{.fd = mk_uffd(y->k), .events = SYS_POLLIN},
	};
	char c;

	y->r[0] = y->o->poll(y->sys, f, 3, -1);
	y->r[1] = f[0].revents;
	y->r[2] = f[1].revents | f[2].revents;
	y->r[3] = (int)y->o->read(y->sys, y->fds[0], &c, 1);
	/* the writer closes: POLLHUP, and POLLIN no more */
	y->r[4] = y->o->poll(y->sys, f, 1, -1);
	y->r[5] = f[0].revents;
}

static void poll_writer(void *a)
{
	struct y *y = a;

	y->o->write(y->sys, y->fds[1], "!", 1);
	until(y, y->r[3] == 1);
	y->o->close(y->sys, y->fds[1]);
}

static void poll_setup(void *a)
{
	struct y *y = a;

	assert_int_equal(y->o->pipe(y->sys, y->fds), 0);
	sched_spawn(y->s, "w", MK_HANDLER, poll_waiter, y);
	sched_spawn(y->s, "p", MK_HANDLER, poll_writer, y);
}

/* A sleeping poll wakes when an fd may have become ready and re-checks;
 * POLLHUP on a widowed read end; fd -1 is ignored. */
static void test_poll_blocks_and_wakes(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct y y;

		y_init(&y, seed, 0);
		spawn(&y, poll_setup);
		assert_int_equal(sched_run(y.s), SCHED_DONE);
		assert_int_equal(y.r[0], 1);
		assert_int_equal(y.r[1], SYS_POLLIN);
		assert_int_equal(y.r[2], 0);
		assert_int_equal(y.r[3], 1);
		assert_int_equal(y.r[4], 1);
		assert_int_equal(y.r[5], SYS_POLLHUP);
		y_fini(&y);
	}
}

static void poll_edges(void *a)
{
	struct y *y = a;
	int p[2];
	struct sys_pollfd f[2];

	assert_int_equal(y->o->pipe(y->sys, p), 0);
	f[0] = (struct sys_pollfd){.fd = p[0], .events = SYS_POLLIN};
	f[1] = (struct sys_pollfd){.fd = p[1], .events = 0x004 /* POLLOUT */};
	/* timeout 0, nothing readable: only the write end is */
	y->r[0] = y->o->poll(y->sys, f, 1, 0);
	y->r[1] = y->o->poll(y->sys, f + 1, 1, 0);
	y->r[2] = f[1].revents;
	/* a positive timeout expires at once too (no time in the model) */
	y->r[3] = y->o->poll(y->sys, f, 1, 50);
	y->o->close(y->sys, p[0]);
	y->r[4] = y->o->poll(y->sys, f, 2, 0);
	y->r[5] = f[0].revents;
	y->r[6] = f[1].revents;
	y->r[7] = y->o->poll(y->sys, f, -1, 0);
	y->o->close(y->sys, p[1]);
}

static void test_poll_edges(void **st)
{
	(void)st;
	struct y y;

	y_init(&y, 1, 0);
	spawn(&y, poll_edges);
	assert_int_equal(sched_run(y.s), SCHED_DONE);
	assert_int_equal(y.r[0], 0);
	assert_int_equal(y.r[1], 1);
	assert_int_equal(y.r[2], 0x004);
	assert_int_equal(y.r[3], 0);
	assert_int_equal(y.r[4], 2);
	assert_int_equal(y.r[5], SYS_POLLNVAL);
	assert_int_equal(y.r[6], 0x004 | SYS_POLLERR);
	assert_int_equal(y.r[7], -EINVAL);
	y_fini(&y);
}

static void poll_forever(void *a)
{
	struct y *y = a;
	int p[2];

	assert_int_equal(y->o->pipe(y->sys, p), 0);
	struct sys_pollfd f = {.fd = p[0], .events = SYS_POLLIN};

	y->o->poll(y->sys, &f, 1, -1);
	y->flag = 1;
}

/* Nothing will ever be ready: the poller stays blocked (the explorer
 * sees a stuck run, not a spin). */
static void test_poll_sleeps(void **st)
{
	(void)st;
	struct y y;

	y_init(&y, 1, 0);
	int t = spawn(&y, poll_forever);

	assert_int_equal(sched_run(y.s), SCHED_STUCK);
	assert_int_equal(sched_thread_state(y.s, t), SCHED_T_BLOCKED);
	assert_int_equal(y.flag, 0);
	assert_true(sched_steps(y.s) < 10);
	y_fini(&y);
}

/* ------------------------------------------------------------------ */
/* buffers, the source, labels                                         */

static void source_program(void *a)
{
	struct y *y = a;
	const struct sys_ops *o = y->o;
	void *b = o->buf_alloc(y->sys, 4096);
	int dummy;

	assert_non_null(b);
	assert_int_equal(o->source_read(y->sys, 2 * 4096, b, 4096), 0);
	assert_int_equal(mk_buf_tag(y->k, b), MK_SNAP(2));
	o->buf_zero(y->sys, b, 4096);
	assert_int_equal(mk_buf_tag(y->k, b), 0);
	mk_source_fail(y->k, 1, 2);
	assert_int_equal(o->source_read(y->sys, 4096, b, 4096), -EIO);
	assert_int_equal(o->source_read(y->sys, 4096, b, 4096), -EIO);
	assert_int_equal(mk_buf_tag(y->k, b), 0); /* untouched on failure */
	assert_int_equal(o->source_read(y->sys, 4096, b, 4096), 0);
	assert_int_equal(mk_buf_tag(y->k, b), MK_SNAP(1));
	mk_source_fail(y->k, 3, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(o->source_read(y->sys, 3 * 4096, b, 4096), -EIO);
	/* past the snapshot's end: a short read, as real/ reports it */
	assert_int_equal(o->source_read(y->sys, 4 * 4096, b, 4096), -EIO);
	/* an unaligned window over two pages names no page */
	assert_int_equal(o->source_read(y->sys, 100, b, 4096), 0);
	assert_int_equal(mk_buf_tag(y->k, b), MK_FOREIGN);
	o->buf_zero(y->sys, b, 4096);
	/* part of a page: the rest of the page keeps its zeros */
	assert_int_equal(o->source_read(y->sys, 0, b, 100), 0);
	assert_int_equal(mk_buf_tag(y->k, b), MK_FOREIGN);
	assert_int_equal(o->source_read(y->sys, 0, &dummy, 4096), -EFAULT);
	assert_int_equal(o->source_read(y->sys, 0, b, 8192), -EFAULT); /* past the buffer */
	o->buf_free(y->sys, b, 4096);
	assert_int_equal(mk_buf_set(y->k, b, 1), -EINVAL); /* freed */
	/* a buffer of two pages, read into at an offset, copied from any page */
	b = o->buf_alloc(y->sys, 3 * 4096);
	assert_non_null(b);
	assert_int_equal(o->source_read(y->sys, 0, (char *)b + 4096, 2 * 4096), 0);
	assert_int_equal(mk_buf_tag(y->k, b), 0);
	assert_int_equal(mk_buf_tag(y->k, (char *)b + 4096), MK_SNAP(0));
	assert_int_equal(mk_buf_tag(y->k, (char *)b + 8192), MK_SNAP(1));
	assert_int_equal(mk_buf_tag(y->k, (char *)b + 8192 + 8), MK_FOREIGN);
	o->buf_free(y->sys, (char *)b + 4096, 3 * 4096); /* not its start */
	assert_int_equal(mk_buf_tag(y->k, b), 0);
	assert_int_equal(mk_buf_set(y->k, (char *)b + 4096, MK_SNAP(3)), 0);
	o->buf_free(y->sys, b, 3 * 4096);
	uint64_t mlen = 0;
	const char *map = o->source_map(y->sys, &mlen);

	assert_non_null(map);
	assert_int_equal(mlen, 4 * 4096);
	assert_int_equal(mk_buf_tag(y->k, map + 3 * 4096), MK_SNAP(3));
	assert_int_equal(mk_buf_set(y->k, (void *)(uintptr_t)map, 1), -EINVAL);
	y->flag = 1;
}

static void test_buffers_and_source(void **st)
{
	(void)st;
	struct y y;

	y_init(&y, 1, 0);
	spawn(&y, source_program);
	assert_int_equal(sched_run(y.s), SCHED_DONE);
	assert_int_equal(y.flag, 1);
	y_fini(&y);
}

struct lines {
	char text[32][160];
	int n;
};

static void line_sink(void *ctx, const struct sched_step_info *si)
{
	uint64_t step = si->step;
	int tid = si->tid;
	const char *label = si->label;
	struct lines *l = ctx;

	(void)step;
	(void)tid;
	if (l->n < 32)
		snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", label);
}

static void label_program(void *a)
{
	struct y *y = a;
	const struct sys_ops *o = y->o;
	void *b = o->buf_alloc(y->sys, 4096);
	int64_t f;
	uint64_t w = 0;

	o->source_read(y->sys, 4096, b, 4096);
	o->uffd_copy(y->sys, mk_uffd(y->k), MK_BASE_DEFAULT + 4096, b, 4096,
		     UFFDIO_COPY_MODE_DONTWAKE, &f);
	o->note(y->sys, SYS_NOTE_DEFER, 0x1000, 0);
	o->mutex_lock(y->sys, y->mu);
	o->mutex_unlock(y->sys, y->mu);
	o->atomic_add(y->sys, &w, 2);
	o->rdlock(y->sys, y->rw);
	o->rdunlock(y->sys, y->rw);
	o->sleep_ns(y->sys, 1000);
	o->buf_free(y->sys, b, 4096);
}

/* Every sys op that touches shared state is its own step, labelled with
 * deterministic text; notes only add to the current label. */
static void test_labels_and_points(void **st)
{
	(void)st;
	static const char *want[] = {
		"source_read p1 -> 0 S1",
		"uffd_copy 0x7f0000001000 4096 mode=1 S1 -> 0 copied=4096; note defer 0x1000 0",
		"mutex_lock",
		"mutex_unlock",
		"atomic_add 2 -> 2",
		"rdlock (readers=1)",
		"rdunlock (readers=0)",
		"sleep 1000ns",
	};
	struct lines l;
	struct y y;

	memset(&l, 0, sizeof(l));
	y_init(&y, 1, 1);
	sched_set_step_sink(y.s, line_sink, &l);
	spawn(&y, label_program);
	assert_int_equal(sched_run(y.s), SCHED_DONE);
	/* step 0 is the thread's start, up to its first scheduling point */
	assert_int_equal(l.n, 1 + (int)(sizeof(want) / sizeof(want[0])));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(l.text[i + 1], want[i]);
	y_fini(&y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_excludes),
		cmocka_unit_test(test_rwlock_writer_preference),
		cmocka_unit_test(test_rwlock_go_handoff),
		cmocka_unit_test(test_rwlock_exclusion),
		cmocka_unit_test(test_cond_no_lost_wakeup),
		cmocka_unit_test(test_cond_signal_broadcast),
		cmocka_unit_test(test_threads_and_atomics),
		cmocka_unit_test(test_pipes),
		cmocka_unit_test(test_poll_blocks_and_wakes),
		cmocka_unit_test(test_poll_edges),
		cmocka_unit_test(test_poll_sleeps),
		cmocka_unit_test(test_buffers_and_source),
		cmocka_unit_test(test_labels_and_points),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

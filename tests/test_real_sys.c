/* Unit tests of the real backend's sys ops (real/sys_real.c, real/pool.c):
 * the thread pool, locks (writer preference), atomics, pipes and poll,
 * random, sleep, buffers, notes, and the source with failure injection. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "real/region.h"
#include "real/sys_real.h"
#include "tests/realtest.h"

static sys_t *new_sys(int source_fd, uint64_t page)
{
	struct sys_real_opts o = {.source_fd = source_fd, .source_page = page,
				  .seed = 42};
	sys_t *s = NULL;
	assert_int_equal(sys_real_new(&o, &s), 0);
	return s;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------- threads ---------------- */

static void set_flag(void *arg)
{
	__atomic_store_n((int *)arg, 1, __ATOMIC_SEQ_CST);
}

static void test_spawn_join_reuses_one_thread(void **state)
{
	(void)state;
	sys_t *s = new_sys(-1, 4096);
	for (int i = 0; i < 50; i++) {
		int flag = 0;
		sys_thread_t *t;
		assert_int_equal(s->ops->spawn(s, &t, "j", set_flag, &flag), 0);
		assert_int_equal(s->ops->join(s, t), 0);
		assert_int_equal(flag, 1);
	}
	/* a thread reports its job done and parks in one critical section,
	 * so join returns only once the thread is free for the next spawn */
	assert_int_equal(sys_real_threads_created(s), 1);
	sys_real_free(s);
}

struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int arrived;
	int open;
};

static void wait_gate(void *arg)
{
	struct gate *g = arg;
	pthread_mutex_lock(&g->mu);
	g->arrived++;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

/* N detached jobs alive at once need N threads; the next burst reuses them. */
static void test_detached_burst_reuses_parked_threads(void **state)
{
	(void)state;
	enum { N = 64 };
	sys_t *s = new_sys(-1, 4096);
	for (int round = 0; round < 2; round++) {
		struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
		for (int i = 0; i < N; i++)
			assert_int_equal(s->ops->spawn(s, NULL, "burst", wait_gate, &g), 0);
		pthread_mutex_lock(&g.mu);
		while (g.arrived < N)
			pthread_cond_wait(&g.cv, &g.mu);
		assert_int_equal(sys_real_threads_running(s), N);
		g.open = 1;
		pthread_cond_broadcast(&g.cv);
		pthread_mutex_unlock(&g.mu);
		for (int i = 0; i < 5000 && sys_real_threads_running(s); i++)
			usleep(1000);
		assert_int_equal(sys_real_threads_running(s), 0);
		assert_int_equal(sys_real_threads_created(s), N);
	}
	sys_real_free(s);
}

/* ---------------- locks ---------------- */

struct rw {
	sys_t *s;
	sys_rwlock_t *l;
	int w_got, r_got; /* atomics */
	int w_tid, r_tid; /* atomics */
};

static void writer(void *arg)
{
	struct rw *x = arg;
	__atomic_store_n(&x->w_tid, gettid(), __ATOMIC_SEQ_CST);
	x->s->ops->wrlock(x->s, x->l);
	__atomic_store_n(&x->w_got, 1, __ATOMIC_SEQ_CST);
	usleep(20 * 1000);
	/* while the writer holds it the late reader must still wait */
	if (__atomic_load_n(&x->r_got, __ATOMIC_SEQ_CST))
		__atomic_store_n(&x->w_got, 2, __ATOMIC_SEQ_CST);
	x->s->ops->wrunlock(x->s, x->l);
}

static void late_reader(void *arg)
{
	struct rw *x = arg;
	__atomic_store_n(&x->r_tid, gettid(), __ATOMIC_SEQ_CST);
	x->s->ops->rdlock(x->s, x->l);
	__atomic_store_n(&x->r_got, 1, __ATOMIC_SEQ_CST);
	x->s->ops->rdunlock(x->s, x->l);
}

/* Go's RWMutex: once a writer waits, a new reader waits behind it. A
 * reader-preferring lock (glibc's default) fails this. */
static void test_rwlock_prefers_writers(void **state)
{
	(void)state;
	sys_t *s = new_sys(-1, 4096);
	struct rw x = {.s = s};
	assert_int_equal(s->ops->rwlock_new(s, &x.l), 0);
	s->ops->rdlock(s, x.l);
	sys_thread_t *tw, *tr;
	assert_int_equal(s->ops->spawn(s, &tw, "w", writer, &x), 0);
	/* the writer is queued on the lock once it sleeps */
	assert_int_equal(rt_wait_sleeping(&x.w_tid, NULL, 5000), 0);
	assert_int_equal(s->ops->spawn(s, &tr, "r", late_reader, &x), 0);
	/* the late reader either sleeps behind the writer or (the bug) got in */
	assert_int_equal(rt_wait_sleeping(&x.r_tid, &x.r_got, 5000), 0);
	usleep(20 * 1000);
	assert_int_equal(__atomic_load_n(&x.r_got, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(__atomic_load_n(&x.w_got, __ATOMIC_SEQ_CST), 0);
	s->ops->rdunlock(s, x.l);
	assert_int_equal(s->ops->join(s, tw), 0);
	assert_int_equal(s->ops->join(s, tr), 0);
	assert_int_equal(x.w_got, 1);
	assert_int_equal(x.r_got, 1);
	s->ops->rwlock_free(s, x.l);
	sys_real_free(s);
}

struct box {
	sys_t *s;
	sys_mutex_t *m;
	sys_cond_t *c;
	int full;
	uint64_t v;
};

static void producer(void *arg)
{
	struct box *b = arg;
	for (uint64_t i = 1; i <= 1000; i++) {
		b->s->ops->mutex_lock(b->s, b->m);
		while (b->full)
			b->s->ops->cond_wait(b->s, b->c, b->m);
		b->v = i;
		b->full = 1;
		b->s->ops->cond_broadcast(b->s, b->c);
		b->s->ops->mutex_unlock(b->s, b->m);
	}
}

static void test_mutex_and_cond_hand_over_values(void **state)
{
	(void)state;
	sys_t *s = new_sys(-1, 4096);
	struct box b = {.s = s};
	assert_int_equal(s->ops->mutex_new(s, &b.m), 0);
	assert_int_equal(s->ops->cond_new(s, &b.c), 0);
	sys_thread_t *t;
	assert_int_equal(s->ops->spawn(s, &t, "p", producer, &b), 0);
	uint64_t sum = 0;
	for (int i = 0; i < 1000; i++) {
		s->ops->mutex_lock(s, b.m);
		while (!b.full)
			s->ops->cond_wait(s, b.c, b.m);
		sum += b.v;
		b.full = 0;
		s->ops->cond_signal(s, b.c);
		s->ops->mutex_unlock(s, b.m);
	}
	assert_int_equal(s->ops->join(s, t), 0);
	assert_int_equal(sum, 1000 * 1001 / 2);
	s->ops->cond_free(s, b.c);
	s->ops->mutex_free(s, b.m);
	sys_real_free(s);
}

struct adder {
	sys_t *s;
	uint64_t *word;
};

static void add_many(void *arg)
{
	struct adder *a = arg;
	for (int i = 0; i < 10000; i++)
		a->s->ops->atomic_add(a->s, a->word, 1);
}

static void test_atomics(void **state)
{
	(void)state;
	sys_t *s = new_sys(-1, 4096);
	uint64_t w = 5;
	assert_int_equal(s->ops->atomic_add(s, &w, 3), 8);
	assert_int_equal(s->ops->atomic_cas(s, &w, 7, 1), 0);
	assert_int_equal(s->ops->atomic_load(s, &w), 8);
	assert_int_equal(s->ops->atomic_cas(s, &w, 8, 1), 1);
	s->ops->atomic_store(s, &w, 0);
	struct adder a = {s, &w};
	sys_thread_t *t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(s->ops->spawn(s, &t[i], "add", add_many, &a), 0);
	for (int i = 0; i < 4; i++)
		s->ops->join(s, t[i]);
	assert_int_equal(s->ops->atomic_load(s, &w), 40000);
	sys_real_free(s);
}

/* ---------------- fds ---------------- */

static void test_pipe_read_write_poll(void **state)
{
	(void)state;
	sys_t *s = new_sys(-1, 4096);
	int fds[2];
	char buf[8];
	assert_int_equal(s->ops->pipe(s, fds), 0);
	assert_int_equal(s->ops->read(s, fds[0], buf, sizeof buf), -EAGAIN);
	struct sys_pollfd p[2] = {{fds[0], SYS_POLLIN, 0}, {fds[1], SYS_POLLIN, 0}};
	assert_int_equal(s->ops->poll(s, p, 1, 0), 0);
	assert_int_equal(s->ops->write(s, fds[1], "ab", 2), 2);
	assert_int_equal(s->ops->poll(s, p, 1, 1000), 1);
	assert_true(p[0].revents & SYS_POLLIN);
	assert_int_equal(s->ops->read(s, fds[0], buf, sizeof buf), 2);
	assert_memory_equal(buf, "ab", 2);
	/* a full non-blocking pipe says EAGAIN, as the wake pipe relies on */
	static char big[1 << 16];
	long n;
	while ((n = s->ops->write(s, fds[1], big, sizeof big)) > 0)
		;
	assert_int_equal(n, -EAGAIN);
	assert_int_equal(s->ops->close(s, fds[1]), 0);
	assert_int_equal(s->ops->close(s, fds[1]), -EBADF);
	/* a closed write end: the reader sees the data, then POLLHUP */
	p[0].revents = 0;
	assert_int_equal(s->ops->poll(s, p, 1, 0), 1);
	assert_int_equal(s->ops->close(s, fds[0]), 0);
	p[0].revents = 0;
	assert_int_equal(s->ops->poll(s, p, 1, 0), 1);
	assert_true(p[0].revents & SYS_POLLNVAL);
	sys_real_free(s);
}

/* ---------------- random, sleep, buffers, notes ---------------- */

struct rnd {
	sys_t *s;
	uint64_t *out;
};

static void draw(void *arg)
{
	struct rnd *r = arg;
	for (int i = 0; i < 4096; i++)
		r->out[i] = r->s->ops->random(r->s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_random_is_thread_safe(void **state)
{
	(void)state;
	sys_t *s = new_sys(-1, 4096);
	static uint64_t v[4 * 4096];
	struct rnd r[4];
	sys_thread_t *t[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct rnd){s, v + i * 4096};
		assert_int_equal(s->ops->spawn(s, &t[i], "rnd", draw, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		s->ops->join(s, t[i]);
	qsort(v, 4 * 4096, sizeof *v, cmp_u64);
	for (int i = 1; i < 4 * 4096; i++)
		assert_true(v[i] != v[i - 1]); /* no two callers got one state */
	sys_real_free(s);
}

static void test_sleep_and_buffers(void **state)
{
	(void)state;
	sys_t *s = new_sys(-1, 4096);
	uint64_t t0 = now_ns();
	s->ops->sleep_ns(s, 2000000);
	assert_true(now_ns() - t0 >= 2000000);
	uint64_t sizes[2] = {4096, 2ull << 20};
	for (int i = 0; i < 2; i++) {
		unsigned char *b = s->ops->buf_alloc(s, sizes[i]);
		assert_non_null(b);
		assert_int_equal((uintptr_t)b % sizes[i], 0);
		memset(b, 0xAB, sizes[i]);
		s->ops->buf_zero(s, b, sizes[i]);
		for (uint64_t j = 0; j < sizes[i]; j += 511)
			assert_int_equal(b[j], 0);
		s->ops->buf_free(s, b, sizes[i]);
	}
	sys_real_free(s);
}

struct seen {
	int n;
	enum sys_note what;
	uint64_t a, b;
};

static void record(void *ctx, enum sys_note what, uint64_t a, uint64_t b)
{
	struct seen *x = ctx;
	x->n++;
	x->what = what;
	x->a = a;
	x->b = b;
}

static void test_note_hook(void **state)
{
	(void)state;
	sys_t *s = new_sys(-1, 4096);
	struct seen x = {0};
	s->ops->note(s, SYS_NOTE_DEFER, 1, 2); /* no hook: nothing happens */
	sys_real_set_note_hook(s, record, &x);
	s->ops->note(s, SYS_NOTE_TRACKER, 7, 2);
	assert_int_equal(x.n, 1);
	assert_int_equal(x.what, SYS_NOTE_TRACKER);
	assert_int_equal(x.a, 7);
	assert_int_equal(x.b, 2);
	sys_real_set_note_hook(s, NULL, NULL);
	s->ops->note(s, SYS_NOTE_TRACKER, 8, 2);
	assert_int_equal(x.n, 1);
	sys_real_free(s);
}

/* ---------------- the source ---------------- */

static void test_source_read_and_injection(void **state)
{
	(void)state;
	struct real_snapshot *snap;
	assert_int_equal(real_snapshot_new(4096, 4, NULL, &snap), 0);
	sys_t *s = new_sys(snap->fd, 4096);
	uint64_t *buf = s->ops->buf_alloc(s, 4096);
	assert_int_equal(s->ops->source_read(s, 2 * 4096, buf, 4096), 0);
	assert_int_equal(buf[0], REAL_SNAP_MAGIC | 2);
	assert_memory_equal(buf, snap->words + 2 * 512, 4096);

	assert_int_equal(sys_real_source_fail(s, 2, 2), 0);
	assert_int_equal(s->ops->source_read(s, 2 * 4096, buf, 4096), -EIO);
	assert_int_equal(s->ops->source_read(s, 1 * 4096, buf, 4096), 0);
	assert_int_equal(s->ops->source_read(s, 2 * 4096, buf, 4096), -EIO);
	assert_int_equal(s->ops->source_read(s, 2 * 4096, buf, 4096), 0);

	assert_int_equal(sys_real_source_fail(s, 3, 0), 0); /* for good */
	for (int i = 0; i < 5; i++)
		assert_int_equal(s->ops->source_read(s, 3 * 4096, buf, 4096), -EIO);
	assert_int_equal(sys_real_source_fail(s, 3, -1), 0); /* cleared */
	assert_int_equal(s->ops->source_read(s, 3 * 4096, buf, 4096), 0);

	/* past the snapshot's end: a storage error, not a short page */
	assert_int_equal(s->ops->source_read(s, 4 * 4096, buf, 4096), -EIO);
	uint64_t reads, failed;
	sys_real_source_counts(s, &reads, &failed);
	assert_int_equal(reads, 12);
	assert_int_equal(failed, 8);
	s->ops->buf_free(s, buf, 4096);
	sys_real_free(s);
	real_snapshot_free(snap);
}

struct reader {
	sys_t *s;
	int fails;
};

static void read_page1(void *arg)
{
	struct reader *r = arg;
	uint64_t buf[512];
	for (int i = 0; i < 500; i++)
		if (r->s->ops->source_read(r->s, 4096, buf, sizeof buf))
			r->fails++;
}

/* source-fail P N under contention: exactly N reads fail, not more, not less. */
static void test_source_injection_is_thread_safe(void **state)
{
	(void)state;
	struct real_snapshot *snap;
	assert_int_equal(real_snapshot_new(4096, 2, NULL, &snap), 0);
	sys_t *s = new_sys(snap->fd, 4096);
	assert_int_equal(sys_real_source_fail(s, 1, 1000), 0);
	struct reader r[4];
	sys_thread_t *t[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){s, 0};
		assert_int_equal(s->ops->spawn(s, &t[i], "src", read_page1, &r[i]), 0);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		s->ops->join(s, t[i]);
		total += r[i].fails;
	}
	assert_int_equal(total, 1000);
	sys_real_free(s);
	real_snapshot_free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_ONE(test_spawn_join_reuses_one_thread),
		RT_ONE(test_detached_burst_reuses_parked_threads),
		RT_ONE(test_rwlock_prefers_writers),
		RT_ONE(test_mutex_and_cond_hand_over_values),
		RT_ONE(test_atomics),
		RT_ONE(test_pipe_read_write_poll),
		RT_ONE(test_random_is_thread_safe),
		RT_ONE(test_sleep_and_buffers),
		RT_ONE(test_note_hook),
		RT_ONE(test_source_read_and_injection),
		RT_ONE(test_source_injection_is_thread_safe),
	};
	return cmocka_run_group_tests_name("real_sys", tests, NULL, NULL);
}

/* Unit tests of the real backend's sys ops (real/sys_real.c, real/pool.c)
 * and of the kernel conventions they pass through, probed on hardware:
 * uffd read order, COPY/ZEROPAGE results (EEXIST, partial, EAGAIN while
 * mmap_changing, EINVAL on hugetlb), DONTWAKE + WAKE. */
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
	/* join can return just before the thread parks again, so the next
	 * spawn may need a second thread, but never one per job */
	assert_true(sys_real_threads_created(s) <= 2);
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
};

static void writer(void *arg)
{
	struct rw *x = arg;
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
	usleep(30 * 1000); /* the writer is now queued on the lock */
	assert_int_equal(s->ops->spawn(s, &tr, "r", late_reader, &x), 0);
	usleep(50 * 1000);
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

/* ---------------- the uffd ops on hardware ---------------- */

struct toucher {
	struct real_region *r;
	uint64_t page;
	int write;
	int tid;            /* atomic */
	int done;           /* atomic */
	enum real_content got;
	int rc;             /* remove: madvise's result */
	pthread_t th;
};

static void *touch_main(void *arg)
{
	struct toucher *t = arg;
	__atomic_store_n(&t->tid, gettid(), __ATOMIC_SEQ_CST);
	if (t->write)
		real_guest_write(t->r, t->page, 0x77);
	else
		t->got = real_guest_read(t->r, t->page, 1, NULL);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *remove_main(void *arg)
{
	struct toucher *t = arg;
	__atomic_store_n(&t->tid, gettid(), __ATOMIC_SEQ_CST);
	t->rc = real_guest_remove(t->r, t->page, 1);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void start(struct toucher *t, struct real_region *r, uint64_t page,
		  int write, void *(*fn)(void *))
{
	*t = (struct toucher){.r = r, .page = page, .write = write};
	assert_int_equal(pthread_create(&t->th, NULL, fn, t), 0);
	while (!__atomic_load_n(&t->tid, __ATOMIC_SEQ_CST))
		usleep(100);
}

static int done_within(struct toucher *t, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(&t->done, __ATOMIC_SEQ_CST))
			return 1;
		usleep(1000);
	}
	return __atomic_load_n(&t->done, __ATOMIC_SEQ_CST);
}

/* Waits until the uffd has something to read. */
static void wait_readable(struct real_region *r)
{
	struct pollfd p = {r->uffd, POLLIN, 0};
	assert_int_equal(poll(&p, 1, 5000), 1);
}

static struct real_region *open_region(uint64_t ps, uint64_t pages,
				       uint64_t features, int wp)
{
	struct real_region_opts o = {.page_size = ps, .pages = pages,
				     .features = features, .wp = wp};
	struct real_region *r = NULL;
	char why[256];
	int rc = real_region_open(&o, &r, why, sizeof why);
	if (rc)
		fail_msg("real_region_open: %s", why);
	return r;
}

/* KERNEL.md rule 1: faults before events, whatever the queueing order. */
static void test_uffd_read_gives_faults_before_events(void **state)
{
	(void)state;
	RT_REQUIRE(rt_4k);
	struct real_region *r = open_region(4096, 8, UFFD_FEATURE_EVENT_REMOVE, 0);
	sys_t *s = new_sys(r->snap->fd, 4096);
	struct toucher f0, rm, f1;
	struct uffd_msg m[8];

	assert_int_equal(s->ops->uffd_read(s, r->uffd, m, 8), -EAGAIN);
	assert_int_equal(s->ops->uffd_read(s, r->uffd, m, 0), -EINVAL);

	start(&f0, r, 0, 0, touch_main);
	wait_readable(r);
	start(&rm, r, 4, 0, remove_main);
	assert_int_equal(rt_wait_wchan(rm.tid, "userfaultfd_event_wait_completion", 5000), 0);
	start(&f1, r, 1, 1, touch_main);
	assert_int_equal(rt_wait_wchan(f1.tid, "handle_userfault", 5000), 0);

	int n = s->ops->uffd_read(s, r->uffd, m, 8);
	assert_int_equal(n, 3);
	assert_int_equal(m[0].event, UFFD_EVENT_PAGEFAULT);
	assert_int_equal(m[0].arg.pagefault.address, real_page_addr(r, 0));
	assert_int_equal(m[1].event, UFFD_EVENT_PAGEFAULT);
	assert_int_equal(m[1].arg.pagefault.address, real_page_addr(r, 1));
	assert_true(m[1].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE);
	assert_int_equal(m[2].event, UFFD_EVENT_REMOVE);
	assert_int_equal(m[2].arg.remove.start, real_page_addr(r, 4));
	assert_int_equal(m[2].arg.remove.end, real_page_addr(r, 5));
	/* reading the REMOVE completed it; reading the faults woke nobody */
	assert_true(done_within(&rm, 5000));
	assert_int_equal(rm.rc, 0);
	assert_false(done_within(&f0, 20));
	assert_false(__atomic_load_n(&f1.done, __ATOMIC_SEQ_CST));

	void *src = s->ops->buf_alloc(s, 4096);
	assert_int_equal(s->ops->source_read(s, 0, src, 4096), 0);
	int64_t copied = 0;
	for (int p = 0; p < 2; p++) {
		int rc;
		/* the madvise thread may still be on its way out (rule 25) */
		while ((rc = s->ops->uffd_copy(s, r->uffd, real_page_addr(r, p), src,
					       4096, 0, &copied)) == -EAGAIN)
			usleep(100);
		assert_int_equal(rc, 0);
		assert_int_equal(copied, 4096);
	}
	assert_true(done_within(&f0, 5000));
	assert_true(done_within(&f1, 5000));
	assert_int_equal(f0.got, REAL_C_SNAPSHOT);
	pthread_join(f0.th, NULL);
	pthread_join(f1.th, NULL);
	pthread_join(rm.th, NULL);
	s->ops->buf_free(s, src, 4096);
	sys_real_free(s);
	real_region_close(r);
}

/* Rules 13, 14, 17, 19: the results sys.h passes through unchanged. */
static void test_uffd_copy_conventions(void **state)
{
	(void)state;
	RT_REQUIRE(rt_4k);
	struct real_region *r = open_region(4096, 16, UFFD_FEATURE_EVENT_REMOVE |
						      UFFD_FEATURE_WP_ASYNC, 1);
	sys_t *s = new_sys(r->snap->fd, 4096);
	unsigned char *src = s->ops->buf_alloc(s, 4 * 4096);
	memset(src, 0x5A, 4 * 4096);
	int64_t f;

	/* a page nobody waits for */
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 2), src, 4096, 0, &f), 0);
	assert_int_equal(f, 4096);
	/* EEXIST: the field carries it too */
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 2), src, 4096, 0, &f), -EEXIST);
	assert_int_equal(f, -EEXIST);
	/* partial: pages 0,1 done, page 2 present -> EAGAIN with 8192 */
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 0), src, 4 * 4096, 0, &f), -EAGAIN);
	assert_int_equal(f, 8192);
	/* ZEROPAGE partial the same way */
	assert_int_equal(s->ops->uffd_zeropage(s, r->uffd, real_page_addr(r, 6), 2 * 4096, 0, &f), 0);
	assert_int_equal(f, 8192);
	assert_int_equal(s->ops->uffd_zeropage(s, r->uffd, real_page_addr(r, 5), 2 * 4096, 0, &f), -EAGAIN);
	assert_int_equal(f, 4096);
	/* validation: unaligned dst, and a dst outside any registered range */
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 8) + 8, src, 4096, 0, &f), -EINVAL);
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, (uint64_t)(uintptr_t)src, src, 4096, 0, &f), -ENOENT);
	assert_int_equal(f, -ENOENT);
	assert_int_equal(s->ops->uffd_wake(s, r->uffd, real_page_addr(r, 8), 4096), 0);
	assert_int_equal(s->ops->uffd_wake(s, r->uffd, real_page_addr(r, 8) + 1, 4096), -EINVAL);

	/* A REMOVE queued and unread: every fill of this uffd gets EAGAIN,
	 * field -EAGAIN (6.15+); WAKE is unaffected. */
	struct toucher rm;
	start(&rm, r, 2, 0, remove_main);
	assert_int_equal(rt_wait_wchan(rm.tid, "userfaultfd_event_wait_completion", 5000), 0);
	f = 0x5a5a;
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 10), src, 4096, 0, &f), -EAGAIN);
	assert_int_equal(f, -EAGAIN);
	f = 0x5a5a;
	assert_int_equal(s->ops->uffd_zeropage(s, r->uffd, real_page_addr(r, 10), 4096, 0, &f), -EAGAIN);
	assert_int_equal(f, -EAGAIN);
	assert_int_equal(s->ops->uffd_writeprotect(s, r->uffd, real_page_addr(r, 0), 4096,
						   UFFDIO_WRITEPROTECT_MODE_WP), -EAGAIN);
	assert_int_equal(s->ops->uffd_wake(s, r->uffd, real_page_addr(r, 10), 4096), 0);
	struct uffd_msg m[4];
	assert_int_equal(s->ops->uffd_read(s, r->uffd, m, 4), 1);
	assert_int_equal(m[0].event, UFFD_EVENT_REMOVE);
	assert_true(done_within(&rm, 5000));
	assert_int_equal(rm.rc, 0);
	pthread_join(rm.th, NULL);
	/* once madvise has resumed, fills work again */
	int rc;
	for (int i = 0; i < 5000; i++) {
		rc = s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 10), src, 4096, 0, &f);
		if (rc != -EAGAIN)
			break;
		usleep(1000);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(s->ops->uffd_writeprotect(s, r->uffd, real_page_addr(r, 10), 4096,
						   UFFDIO_WRITEPROTECT_MODE_WP), 0);
	int present, wp;
	assert_int_equal(real_page_flags(r, 10, &present, &wp), 0);
	assert_int_equal(present, 1);
	assert_int_equal(wp, 1);
	s->ops->buf_free(s, src, 4 * 4096);
	sys_real_free(s);
	real_region_close(r);
}

/* Rule 15 and 19: DONTWAKE installs without waking; WAKE then releases. */
static void test_uffd_dontwake_then_wake(void **state)
{
	uint64_t ps = rt_page_size(state);
	RT_REQUIRE(ps);
	struct real_region *r = open_region(ps, 2, 0, 0);
	sys_t *s = new_sys(r->snap->fd, ps);
	void *src = s->ops->buf_alloc(s, ps);
	assert_int_equal(s->ops->source_read(s, 0, src, ps), 0);
	struct toucher t;
	start(&t, r, 0, 0, touch_main);
	wait_readable(r);
	struct uffd_msg m;
	assert_int_equal(s->ops->uffd_read(s, r->uffd, &m, 1), 1);
	assert_int_equal(m.arg.pagefault.address, real_page_addr(r, 0));
	int64_t f;
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 0), src, ps,
					   UFFDIO_COPY_MODE_DONTWAKE, &f), 0);
	assert_int_equal(f, (int64_t)ps);
	assert_false(done_within(&t, 50));
	assert_int_equal(s->ops->uffd_wake(s, r->uffd, real_page_addr(r, 0), ps), 0);
	assert_true(done_within(&t, 5000));
	pthread_join(t.th, NULL);
	assert_int_equal(t.got, REAL_C_SNAPSHOT);
	s->ops->buf_free(s, src, ps);
	sys_real_free(s);
	real_region_close(r);
}

/* Rule 30: hugetlb has no ZEROPAGE and fills in 2 MiB units only. */
static void test_uffd_hugetlb_conventions(void **state)
{
	(void)state;
	RT_REQUIRE(rt_2m);
	uint64_t ps = rt_2m;
	struct real_region *r = open_region(ps, 2, UFFD_FEATURE_EVENT_REMOVE, 0);
	assert_false(r->ioctls & (1ull << _UFFDIO_ZEROPAGE));
	sys_t *s = new_sys(r->snap->fd, ps);
	void *src = s->ops->buf_alloc(s, ps);
	s->ops->buf_zero(s, src, ps);
	int64_t f;
	assert_int_equal(s->ops->uffd_zeropage(s, r->uffd, r->base, ps, 0, &f), -EINVAL);
	assert_int_equal(f, -EINVAL);
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, r->base, src, 4096, 0, &f), -EINVAL);
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, r->base + 4096, src, ps, 0, &f), -EINVAL);
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, r->base, src, ps, 0, &f), 0);
	assert_int_equal(f, (int64_t)ps);
	assert_int_equal(real_guest_read(r, 0, 1, NULL), REAL_C_ZERO);
	/* a 4 KiB madvise on hugetlb is rounded down to nothing: no event */
	assert_int_equal(madvise((void *)(uintptr_t)r->base, 4096, MADV_DONTNEED), 0);
	struct uffd_msg m;
	assert_int_equal(s->ops->uffd_read(s, r->uffd, &m, 1), -EAGAIN);
	s->ops->buf_free(s, src, ps);
	sys_real_free(s);
	real_region_close(r);
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
		RT_ONE(test_uffd_read_gives_faults_before_events),
		RT_ONE(test_uffd_copy_conventions),
		RT_BOTH(test_uffd_dontwake_then_wake),
		RT_ONE(test_uffd_hugetlb_conventions),
	};
	return cmocka_run_group_tests_name("real_sys", tests, NULL, NULL);
}

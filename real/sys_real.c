#include "real/sys_real.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "real/pool.h"
#include "real/procfs.h"
#include "real/uffd.h"

/* The poll bits and struct sys_pollfd are declared to match <poll.h>, so the
 * array is handed to poll(2) as is. */
_Static_assert(SYS_POLLIN == POLLIN && SYS_POLLERR == POLLERR &&
		       SYS_POLLHUP == POLLHUP && SYS_POLLNVAL == POLLNVAL,
	       "poll bits");
_Static_assert(sizeof(struct sys_pollfd) == sizeof(struct pollfd) &&
		       offsetof(struct sys_pollfd, fd) == offsetof(struct pollfd, fd) &&
		       offsetof(struct sys_pollfd, events) == offsetof(struct pollfd, events) &&
		       offsetof(struct sys_pollfd, revents) == offsetof(struct pollfd, revents),
	       "struct sys_pollfd matches struct pollfd");

struct sys_thread {
	struct real_pool_job job;
};
struct sys_mutex {
	pthread_mutex_t m;
};
struct sys_rwlock {
	pthread_rwlock_t l;
};
struct sys_cond {
	pthread_cond_t c;
};
struct sys_sem {
	pthread_mutex_t m;
	pthread_cond_t c;    /* count changed */
	int count, limit;
};

/* Large buffers cached per sys (at most this many, e.g. 16 MiB of 2 MiB). */
#define BUF_CACHE 8
#define BUF_CACHE_MIN (64u << 10)

struct fail_entry {
	uint64_t page;
	int left;      /* reads still to fail; ignored when forever */
	int forever;
};

struct sys_real {
	sys_t sys;     /* first: the handler's sys_t * is a struct sys_real * */
	struct real_pool *pool;
	int source_fd;
	uint64_t source_page;
	uint64_t rng;  /* splitmix64 state, advanced atomically */

	/* Failure injection: a short list under fail_mu; nfail lets the
	 * fault path skip the lock when nothing is injected. */
	pthread_mutex_t fail_mu;
	struct fail_entry *fails;
	int nfail_alloc;
	int nfail;     /* atomic */
	uint64_t reads, failed; /* atomic */

	struct {
		sys_real_note_fn fn;
		void *ctx;
	} hook;        /* both accessed atomically, set while no handler runs */

	/* Freed large buffers kept for reuse: a fresh 2 MiB allocation is an
	 * mmap plus 512 page faults, more than the copy it is for. */
	pthread_mutex_t buf_mu;
	void *bufs[BUF_CACHE];
	uint64_t buf_len[BUF_CACHE];
	int nbufs;

	/* The replay gate (sys_real_set_gate): set while no thread runs. */
	const struct sys_real_gate *gate;
	void *gate_ctx;

	/* source_map's mapping of source_fd, made on first use (buf_mu). */
	void *map;
	uint64_t map_len;
	/* uffd_api: the kernel's available features, asked once (buf_mu) */
	uint64_t avail;
	int have_avail;
};

static struct sys_real *R(sys_t *s)
{
	return (struct sys_real *)s;
}

/* The gate around a scheduling point (sys_real.h); free without one. */
static int gate_in(struct sys_real *r, enum sys_real_op op)
{
	return r->gate ? r->gate->enter(r->gate_ctx, op) : 0;
}

static void gate_out(struct sys_real *r, enum sys_real_op op, int64_t res)
{
	if (r->gate) {
		struct sys_real_obs o = {.res = res};
		r->gate->leave(r->gate_ctx, op, &o);
	}
}

/* A blocking lock taken on hardware before the gate's order gives it to
 * this thread: give it back until then (real/turnstile.h rts_lock_early). */
static void gate_retake(struct sys_real *r, void (*unlock)(void *), void (*lock)(void *),
			void *l)
{
	const struct sys_real_gate *g = r->gate;
	if (!g || !g->early || !g->turn)
		return;
	while (g->early(r->gate_ctx)) {
		unlock(l);
		g->turn(r->gate_ctx);
		lock(l);
	}
}

static void mu_lock(void *m) { pthread_mutex_lock(m); }
static void mu_unlock(void *m) { pthread_mutex_unlock(m); }
static void rw_unlock(void *l) { pthread_rwlock_unlock(l); }
static void rw_rdlock(void *l) { pthread_rwlock_rdlock(l); }
static void rw_wrlock(void *l) { pthread_rwlock_wrlock(l); }

static void gate_obs(struct sys_real *r, enum sys_real_op op,
		     const struct sys_real_obs *o)
{
	if (r->gate)
		r->gate->leave(r->gate_ctx, op, o);
}

/* --- threads --- */

/* A spawned thread under a gate: the gate numbers it before fn runs. */
struct gated_start {
	struct sys_real *r;
	void (*fn)(void *);
	void *arg;
	void *token;
};

static void gated_main(void *p)
{
	struct gated_start g = *(struct gated_start *)p;
	free(p);
	g.r->gate->child_begin(g.r->gate_ctx, g.token);
	g.fn(g.arg);
	g.r->gate->child_end(g.r->gate_ctx, g.token);
}

/* fn/arg wrapped for the gate, or left alone without one. */
static int gate_wrap(struct sys_real *r, void (**fn)(void *), void **arg)
{
	if (!r->gate)
		return 0;
	struct gated_start *g = malloc(sizeof *g);
	if (!g)
		return -ENOMEM;
	*g = (struct gated_start){r, *fn, *arg, r->gate->child(r->gate_ctx)};
	*fn = gated_main;
	*arg = g;
	return 0;
}

static int r_spawn(sys_t *s, sys_thread_t **out, const char *name,
		   void (*fn)(void *), void *arg)
{
	struct sys_real *r = R(s);
	gate_in(r, SYS_REAL_OP_SPAWN);
	int rc = gate_wrap(r, &fn, &arg);
	struct sys_thread *t = NULL;
	if (!rc && out && !(t = malloc(sizeof *t)))
		rc = -ENOMEM;
	if (!rc) {
		if (t)
			real_pool_job_init(&t->job);
		rc = real_pool_run(r->pool, name, fn, arg, t ? &t->job : NULL);
		if (rc && t)
			pthread_cond_destroy(&t->job.done_cv);
	}
	if (rc)
		free(t);
	else if (out)
		*out = t;
	gate_out(r, SYS_REAL_OP_SPAWN, rc);
	return rc;
}

static int r_join(sys_t *s, sys_thread_t *t)
{
	gate_in(R(s), SYS_REAL_OP_JOIN);
	real_pool_wait(R(s)->pool, &t->job);
	free(t);
	gate_out(R(s), SYS_REAL_OP_JOIN, 0);
	return 0;
}

static void r_yield(sys_t *s)
{
	if (!gate_in(R(s), SYS_REAL_OP_YIELD))
		sched_yield();
	gate_out(R(s), SYS_REAL_OP_YIELD, 0);
}

static void r_sleep_ns(sys_t *s, uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
			      .tv_nsec = (long)(ns % 1000000000u)};
	if (!gate_in(R(s), SYS_REAL_OP_SLEEP))
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	gate_out(R(s), SYS_REAL_OP_SLEEP, (int64_t)ns);
}

/* splitmix64: each caller takes its own increment of the shared state, so
 * concurrent callers never see the same number. */
static uint64_t r_random(sys_t *s)
{
	uint64_t z = __atomic_add_fetch(&R(s)->rng, 0x9E3779B97F4A7C15ull,
					__ATOMIC_RELAXED);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* --- synchronisation --- */

static int r_mutex_new(sys_t *s, sys_mutex_t **out)
{
	(void)s;
	struct sys_mutex *m = malloc(sizeof *m);
	if (!m)
		return -ENOMEM;
	int e = pthread_mutex_init(&m->m, NULL);
	if (e) {
		free(m);
		return -e;
	}
	*out = m;
	return 0;
}

static void r_mutex_free(sys_t *s, sys_mutex_t *m)
{
	(void)s;
	if (!m)
		return;
	pthread_mutex_destroy(&m->m);
	free(m);
}

static void r_mutex_lock(sys_t *s, sys_mutex_t *m)
{
	gate_in(R(s), SYS_REAL_OP_MUTEX_LOCK);
	pthread_mutex_lock(&m->m);
	gate_retake(R(s), mu_unlock, mu_lock, &m->m);
	gate_out(R(s), SYS_REAL_OP_MUTEX_LOCK, 0);
}

static void r_mutex_unlock(sys_t *s, sys_mutex_t *m)
{
	gate_in(R(s), SYS_REAL_OP_MUTEX_UNLOCK);
	pthread_mutex_unlock(&m->m);
	gate_out(R(s), SYS_REAL_OP_MUTEX_UNLOCK, 0);
}

static int r_rwlock_new(sys_t *s, sys_rwlock_t **out)
{
	(void)s;
	struct sys_rwlock *l = malloc(sizeof *l);
	if (!l)
		return -ENOMEM;
	pthread_rwlockattr_t a;
	pthread_rwlockattr_init(&a);
	/* Go's RWMutex semantics, which the handler's liveness argument
	 * (docs/HANDLER.md B39) is about: a waiting writer blocks new readers. */
	int e = pthread_rwlockattr_setkind_np(
		&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (!e)
		e = pthread_rwlock_init(&l->l, &a);
	pthread_rwlockattr_destroy(&a);
	if (e) {
		free(l);
		return -e;
	}
	*out = l;
	return 0;
}

static void r_rwlock_free(sys_t *s, sys_rwlock_t *l)
{
	(void)s;
	if (!l)
		return;
	pthread_rwlock_destroy(&l->l);
	free(l);
}

static void r_rdlock(sys_t *s, sys_rwlock_t *l)
{
	gate_in(R(s), SYS_REAL_OP_RDLOCK);
	pthread_rwlock_rdlock(&l->l);
	gate_retake(R(s), rw_unlock, rw_rdlock, &l->l);
	gate_out(R(s), SYS_REAL_OP_RDLOCK, 0);
}

static void r_rdunlock(sys_t *s, sys_rwlock_t *l)
{
	gate_in(R(s), SYS_REAL_OP_RDUNLOCK);
	pthread_rwlock_unlock(&l->l);
	gate_out(R(s), SYS_REAL_OP_RDUNLOCK, 0);
}

static void r_wrlock(sys_t *s, sys_rwlock_t *l)
{
	gate_in(R(s), SYS_REAL_OP_WRLOCK);
	pthread_rwlock_wrlock(&l->l);
	gate_retake(R(s), rw_unlock, rw_wrlock, &l->l);
	gate_out(R(s), SYS_REAL_OP_WRLOCK, 0);
}

static void r_wrunlock(sys_t *s, sys_rwlock_t *l)
{
	gate_in(R(s), SYS_REAL_OP_WRUNLOCK);
	pthread_rwlock_unlock(&l->l);
	gate_out(R(s), SYS_REAL_OP_WRUNLOCK, 0);
}

static int r_cond_new(sys_t *s, sys_cond_t **out)
{
	(void)s;
	struct sys_cond *c = malloc(sizeof *c);
	if (!c)
		return -ENOMEM;
	int e = pthread_cond_init(&c->c, NULL);
	if (e) {
		free(c);
		return -e;
	}
	*out = c;
	return 0;
}

static void r_cond_free(sys_t *s, sys_cond_t *c)
{
	(void)s;
	if (!c)
		return;
	pthread_cond_destroy(&c->c);
	free(c);
}

static void r_cond_wait(sys_t *s, sys_cond_t *c, sys_mutex_t *m)
{
	gate_in(R(s), SYS_REAL_OP_COND_WAIT);
	pthread_cond_wait(&c->c, &m->m);
	gate_retake(R(s), mu_unlock, mu_lock, &m->m);
	gate_out(R(s), SYS_REAL_OP_COND_WAIT, 0);
}

static void r_cond_signal(sys_t *s, sys_cond_t *c)
{
	gate_in(R(s), SYS_REAL_OP_COND_SIGNAL);
	pthread_cond_signal(&c->c);
	gate_out(R(s), SYS_REAL_OP_COND_SIGNAL, 0);
}

static void r_cond_broadcast(sys_t *s, sys_cond_t *c)
{
	gate_in(R(s), SYS_REAL_OP_COND_BROADCAST);
	pthread_cond_broadcast(&c->c);
	gate_out(R(s), SYS_REAL_OP_COND_BROADCAST, 0);
}

/* --- the semaphore: a mutex, a condition and a count --- */

static int r_sem_new(sys_t *s, sys_sem_t **out, int limit)
{
	(void)s;
	if (limit < 1)
		return -EINVAL;
	struct sys_sem *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	int e = pthread_mutex_init(&m->m, NULL);
	if (!e && (e = pthread_cond_init(&m->c, NULL)))
		pthread_mutex_destroy(&m->m);
	if (e) {
		free(m);
		return -e;
	}
	m->limit = limit;
	*out = m;
	return 0;
}

static void r_sem_free(sys_t *s, sys_sem_t *m)
{
	(void)s;
	if (!m)
		return;
	pthread_cond_destroy(&m->c);
	pthread_mutex_destroy(&m->m);
	free(m);
}

static void sem_take(void *p)
{
	struct sys_sem *m = p;
	pthread_mutex_lock(&m->m);
	while (m->count >= m->limit)
		pthread_cond_wait(&m->c, &m->m);
	m->count++;
	assert(m->count <= m->limit);
	pthread_mutex_unlock(&m->m);
}

static void sem_give(void *p)
{
	struct sys_sem *m = p;
	pthread_mutex_lock(&m->m);
	if (m->count > 0)
		m->count--;
	pthread_cond_broadcast(&m->c);
	pthread_mutex_unlock(&m->m);
}

static void r_sem_acquire(sys_t *s, sys_sem_t *m)
{
	gate_in(R(s), SYS_REAL_OP_SEM_ACQUIRE);
	sem_take(m);
	gate_retake(R(s), sem_give, sem_take, m);
	gate_out(R(s), SYS_REAL_OP_SEM_ACQUIRE, 0);
}

static void r_sem_release(sys_t *s, sys_sem_t *m)
{
	gate_in(R(s), SYS_REAL_OP_SEM_RELEASE);
	sem_give(m);
	gate_out(R(s), SYS_REAL_OP_SEM_RELEASE, 0);
}

static void r_sem_wait_zero(sys_t *s, sys_sem_t *m)
{
	gate_in(R(s), SYS_REAL_OP_SEM_WAIT);
	pthread_mutex_lock(&m->m);
	while (m->count > 0)
		pthread_cond_wait(&m->c, &m->m);
	pthread_mutex_unlock(&m->m);
	gate_out(R(s), SYS_REAL_OP_SEM_WAIT, 0);
}

static uint64_t r_atomic_load(sys_t *s, uint64_t *p)
{
	gate_in(R(s), SYS_REAL_OP_ATOMIC_LOAD);
	uint64_t v = __atomic_load_n(p, __ATOMIC_SEQ_CST);
	gate_out(R(s), SYS_REAL_OP_ATOMIC_LOAD, (int64_t)v);
	return v;
}

static void r_atomic_store(sys_t *s, uint64_t *p, uint64_t v)
{
	gate_in(R(s), SYS_REAL_OP_ATOMIC_STORE);
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
	gate_out(R(s), SYS_REAL_OP_ATOMIC_STORE, 0);
}

static uint64_t r_atomic_add(sys_t *s, uint64_t *p, uint64_t v)
{
	gate_in(R(s), SYS_REAL_OP_ATOMIC_ADD);
	uint64_t n = __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
	gate_out(R(s), SYS_REAL_OP_ATOMIC_ADD, (int64_t)n);
	return n;
}

static int r_atomic_cas(sys_t *s, uint64_t *p, uint64_t expected,
			uint64_t desired)
{
	gate_in(R(s), SYS_REAL_OP_ATOMIC_CAS);
	int ok = __atomic_compare_exchange_n(p, &expected, desired, 0,
					     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	gate_out(R(s), SYS_REAL_OP_ATOMIC_CAS, ok);
	return ok;
}

/* --- file descriptors --- */

static int r_pipe(sys_t *s, int fds[2])
{
	gate_in(R(s), SYS_REAL_OP_PIPE);
	int rc = pipe2(fds, O_NONBLOCK | O_CLOEXEC) ? -errno : 0;
	gate_out(R(s), SYS_REAL_OP_PIPE, rc);
	return rc;
}

static long r_write(sys_t *s, int fd, const void *buf, size_t len)
{
	gate_in(R(s), SYS_REAL_OP_WRITE);
	ssize_t n = write(fd, buf, len);
	long rc = n < 0 ? -errno : (long)n;
	gate_out(R(s), SYS_REAL_OP_WRITE, rc);
	return rc;
}

static long r_read(sys_t *s, int fd, void *buf, size_t len)
{
	gate_in(R(s), SYS_REAL_OP_READ);
	ssize_t n = read(fd, buf, len);
	long rc = n < 0 ? -errno : (long)n;
	gate_out(R(s), SYS_REAL_OP_READ, rc);
	return rc;
}

static int r_close(sys_t *s, int fd)
{
	gate_in(R(s), SYS_REAL_OP_CLOSE);
	int rc = close(fd) ? -errno : 0;
	gate_out(R(s), SYS_REAL_OP_CLOSE, rc);
	return rc;
}

static int r_poll(sys_t *s, struct sys_pollfd *fds, int nfds, int timeout_ms)
{
	gate_in(R(s), SYS_REAL_OP_POLL);
	int n = poll((struct pollfd *)fds, (nfds_t)nfds, timeout_ms);
	n = n < 0 ? -errno : n;
	gate_out(R(s), SYS_REAL_OP_POLL, n);
	return n;
}

/* --- userfaultfd --- */

static int uffd_read_raw(int uffd, struct uffd_msg *msgs, int max)
{
	if (max <= 0)
		return -EINVAL;
	ssize_t n = read(uffd, msgs, (size_t)max * sizeof *msgs);
	if (n < 0)
		return -errno;
	/* The kernel hands out whole messages only; anything else would be a
	 * kernel bug worth surfacing rather than silently truncating. */
	if (n % (ssize_t)sizeof *msgs)
		return -EIO;
	return (int)(n / (ssize_t)sizeof *msgs);
}

static int r_uffd_read(sys_t *s, int uffd, struct uffd_msg *msgs, int max)
{
	gate_in(R(s), SYS_REAL_OP_UFFD_READ);
	int n = uffd_read_raw(uffd, msgs, max);
	struct sys_real_obs o = {.res = n, .msgs = msgs};
	gate_obs(R(s), SYS_REAL_OP_UFFD_READ, &o);
	return n;
}

/* Marks an output field the kernel did not write (pre-6.15 early EAGAIN). */
#define FIELD_UNSET INT64_MIN

static int r_uffd_copy(sys_t *s, int uffd, uint64_t dst, const void *src,
		       uint64_t len, uint64_t mode, int64_t *copied)
{
	gate_in(R(s), SYS_REAL_OP_UFFD_COPY);
	struct uffdio_copy c = {.dst = dst, .src = (uint64_t)(uintptr_t)src,
				.len = len, .mode = mode, .copy = FIELD_UNSET};
	int rc = ioctl(uffd, UFFDIO_COPY, &c) ? -errno : 0;
	if (c.copy == FIELD_UNSET)
		c.copy = rc;
	if (copied)
		*copied = c.copy;
	struct sys_real_obs o = {.res = rc, .addr = dst, .len = len, .buf = src,
				 .field = c.copy};
	gate_obs(R(s), SYS_REAL_OP_UFFD_COPY, &o);
	return rc;
}

static int r_uffd_zeropage(sys_t *s, int uffd, uint64_t dst, uint64_t len,
			   uint64_t mode, int64_t *zeroed)
{
	gate_in(R(s), SYS_REAL_OP_UFFD_ZEROPAGE);
	struct uffdio_zeropage z = {.range = {.start = dst, .len = len},
				    .mode = mode, .zeropage = FIELD_UNSET};
	int rc = ioctl(uffd, UFFDIO_ZEROPAGE, &z) ? -errno : 0;
	if (z.zeropage == FIELD_UNSET)
		z.zeropage = rc;
	if (zeroed)
		*zeroed = z.zeropage;
	struct sys_real_obs o = {.res = rc, .addr = dst, .len = len,
				 .field = z.zeropage};
	gate_obs(R(s), SYS_REAL_OP_UFFD_ZEROPAGE, &o);
	return rc;
}

static int r_uffd_wake(sys_t *s, int uffd, uint64_t start, uint64_t len)
{
	gate_in(R(s), SYS_REAL_OP_UFFD_WAKE);
	struct uffdio_range rg = {.start = start, .len = len};
	int rc = ioctl(uffd, UFFDIO_WAKE, &rg) ? -errno : 0;
	gate_out(R(s), SYS_REAL_OP_UFFD_WAKE, rc);
	return rc;
}

static int r_uffd_writeprotect(sys_t *s, int uffd, uint64_t start,
			       uint64_t len, uint64_t mode)
{
	gate_in(R(s), SYS_REAL_OP_UFFD_WP);
	struct uffdio_writeprotect w = {.range = {.start = start, .len = len},
					.mode = mode};
	int rc = ioctl(uffd, UFFDIO_WRITEPROTECT, &w) ? -errno : 0;
	gate_out(R(s), SYS_REAL_OP_UFFD_WP, rc);
	return rc;
}

static int r_uffd_unregister(sys_t *s, int uffd, uint64_t start,
			     uint64_t len)
{
	gate_in(R(s), SYS_REAL_OP_UFFD_UNREGISTER);
	struct uffdio_range rg = {.start = start, .len = len};
	int rc = ioctl(uffd, UFFDIO_UNREGISTER, &rg) ? -errno : 0;
	gate_out(R(s), SYS_REAL_OP_UFFD_UNREGISTER, rc);
	return rc;
}

static int r_dup(sys_t *s, int uffd)
{
	gate_in(R(s), SYS_REAL_OP_DUP);
	int fd = fcntl(uffd, F_DUPFD_CLOEXEC, 0);
	int rc = fd < 0 ? -errno : fd;
	gate_out(R(s), SYS_REAL_OP_DUP, rc);
	return rc;
}

/* The pagemap entry of addr (the simulator's: no scheduling point, so
 * not gated either). */
static int r_pagemap(sys_t *s, uint64_t addr, uint64_t *entry)
{
	(void)s;
	*entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = pread(fd, entry, sizeof *entry, (off_t)(addr / 4096 * 8));
	int rc = n == (ssize_t)sizeof *entry ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return rc;
}

/* --- buffers and the source --- */

#define HUGE_2M (2ull << 20)

static void *r_buf_alloc(sys_t *s, uint64_t len)
{
	struct sys_real *r = R(s);
	void *p = NULL;
	if (len >= BUF_CACHE_MIN) {
		pthread_mutex_lock(&r->buf_mu);
		for (int i = r->nbufs - 1; i >= 0; i--) {
			if (r->buf_len[i] != len)
				continue;
			p = r->bufs[i];
			r->bufs[i] = r->bufs[r->nbufs - 1];
			r->buf_len[i] = r->buf_len[r->nbufs - 1];
			r->nbufs--;
			break;
		}
		pthread_mutex_unlock(&r->buf_mu);
		if (p)
			return p;
	}
	size_t align = len >= HUGE_2M ? HUGE_2M : 4096;
	if (posix_memalign(&p, align, (size_t)len))
		return NULL;
	return p;
}

static void r_buf_free(sys_t *s, void *buf, uint64_t len)
{
	struct sys_real *r = R(s);
	if (buf && len >= BUF_CACHE_MIN) {
		pthread_mutex_lock(&r->buf_mu);
		if (r->nbufs < BUF_CACHE) {
			r->bufs[r->nbufs] = buf;
			r->buf_len[r->nbufs] = len;
			r->nbufs++;
			buf = NULL;
		}
		pthread_mutex_unlock(&r->buf_mu);
	}
	free(buf);
}

static void r_buf_zero(sys_t *s, void *buf, uint64_t len)
{
	(void)s;
	memset(buf, 0, (size_t)len);
}

/* 1: this read of `page` must fail. */
static int fail_take(struct sys_real *r, uint64_t page)
{
	if (!__atomic_load_n(&r->nfail, __ATOMIC_ACQUIRE))
		return 0;
	int fail = 0;
	pthread_mutex_lock(&r->fail_mu);
	for (int i = 0; i < r->nfail; i++) {
		struct fail_entry *f = &r->fails[i];
		if (f->page != page)
			continue;
		fail = 1;
		if (!f->forever && --f->left == 0) {
			*f = r->fails[r->nfail - 1];
			__atomic_store_n(&r->nfail, r->nfail - 1,
					 __ATOMIC_RELEASE);
		}
		break;
	}
	pthread_mutex_unlock(&r->fail_mu);
	return fail;
}

static int source_read_raw(struct sys_real *r, uint64_t offset, void *buf,
			   uint64_t len)
{
	__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
	if (r->source_fd < 0) {
		__atomic_add_fetch(&r->failed, 1, __ATOMIC_RELAXED);
		return -EBADF;
	}
	if (fail_take(r, offset / r->source_page)) {
		__atomic_add_fetch(&r->failed, 1, __ATOMIC_RELAXED);
		return -EIO;
	}
	uint64_t done = 0;
	while (done < len) {
		ssize_t n = pread(r->source_fd, (char *)buf + done,
				  (size_t)(len - done), (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* A read past the snapshot's end is a storage error
			 * for the handler, like a short slice upstream. */
			__atomic_add_fetch(&r->failed, 1, __ATOMIC_RELAXED);
			return n < 0 ? -errno : -EIO;
		}
		done += (uint64_t)n;
	}
	return 0;
}

static int r_source_read(sys_t *s, uint64_t offset, void *buf, uint64_t len)
{
	gate_in(R(s), SYS_REAL_OP_SOURCE_READ);
	int rc = source_read_raw(R(s), offset, buf, len);
	struct sys_real_obs o = {.res = rc, .addr = offset, .len = len, .buf = buf};
	gate_obs(R(s), SYS_REAL_OP_SOURCE_READ, &o);
	return rc;
}

int sys_real_source_fail(sys_t *s, uint64_t page, int n)
{
	struct sys_real *r = R(s);
	int rc = 0;
	pthread_mutex_lock(&r->fail_mu);
	int i;
	for (i = 0; i < r->nfail; i++)
		if (r->fails[i].page == page)
			break;
	if (n < 0) {
		if (i < r->nfail) {
			r->fails[i] = r->fails[r->nfail - 1];
			__atomic_store_n(&r->nfail, r->nfail - 1,
					 __ATOMIC_RELEASE);
		}
		goto out;
	}
	if (i == r->nfail) {
		if (r->nfail == r->nfail_alloc) {
			int na = r->nfail_alloc ? 2 * r->nfail_alloc : 8;
			struct fail_entry *f =
				realloc(r->fails, (size_t)na * sizeof *f);
			if (!f) {
				rc = -ENOMEM;
				goto out;
			}
			r->fails = f;
			r->nfail_alloc = na;
		}
		__atomic_store_n(&r->nfail, r->nfail + 1, __ATOMIC_RELEASE);
	}
	r->fails[i] = (struct fail_entry){.page = page, .left = n,
					  .forever = n == 0};
out:
	pthread_mutex_unlock(&r->fail_mu);
	return rc;
}

void sys_real_source_counts(sys_t *s, uint64_t *reads, uint64_t *failed)
{
	struct sys_real *r = R(s);
	if (reads)
		*reads = __atomic_load_n(&r->reads, __ATOMIC_RELAXED);
	if (failed)
		*failed = __atomic_load_n(&r->failed, __ATOMIC_RELAXED);
}

/* --- annotations --- */

static void r_note(sys_t *s, enum sys_note what, uint64_t a, uint64_t b)
{
	struct sys_real *r = R(s);
	sys_real_note_fn fn = __atomic_load_n(&r->hook.fn, __ATOMIC_ACQUIRE);
	if (fn)
		fn(__atomic_load_n(&r->hook.ctx, __ATOMIC_ACQUIRE), what, a, b);
}

void sys_real_set_note_hook(sys_t *s, sys_real_note_fn fn, void *ctx)
{
	struct sys_real *r = R(s);
	/* ctx first, so a caller that sees the new fn also sees its ctx. */
	__atomic_store_n(&r->hook.ctx, ctx, __ATOMIC_RELEASE);
	__atomic_store_n(&r->hook.fn, fn, __ATOMIC_RELEASE);
}

void sys_real_set_gate(sys_t *s, const struct sys_real_gate *gate, void *ctx)
{
	struct sys_real *r = R(s);
	r->gate_ctx = ctx;
	r->gate = gate;
}

uint64_t sys_real_threads_created(sys_t *s)
{
	return real_pool_created(R(s)->pool);
}

int sys_real_threads_running(sys_t *s)
{
	return real_pool_busy(R(s)->pool);
}

/* --- the snapshot mapped, the API handshake, MOVE, POISON --- */

static const void *r_source_map(sys_t *s, uint64_t *len)
{
	struct sys_real *r = R(s);
	struct stat st;
	void *p = NULL;

	pthread_mutex_lock(&r->buf_mu);
	if (!r->map && r->source_fd >= 0 && fstat(r->source_fd, &st) == 0 &&
	    st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED,
			       r->source_fd, 0);
		if (m != MAP_FAILED) {
			r->map = m;
			r->map_len = (uint64_t)st.st_size;
		}
	}
	p = r->map;
	if (len)
		*len = p ? r->map_len : 0;
	pthread_mutex_unlock(&r->buf_mu);
	return p;
}

/* The kernel's UFFDIO_API answer with nothing requested: every feature
 * it offers (asked once, on a throwaway uffd). */
static int available_features(struct sys_real *r, uint64_t *out)
{
	int rc = 0;

	pthread_mutex_lock(&r->buf_mu);
	if (!r->have_avail) {
		char why[128];

		rc = real_uffd_supported(&r->avail, why, sizeof why);
		r->have_avail = rc == 0;
	}
	*out = r->avail;
	pthread_mutex_unlock(&r->buf_mu);
	return rc;
}

/* This uffd's features and the ioctl mask, from its fdinfo
 * (userfaultfd_show_fdinfo: "API:\t%Lx:%x:%Lx"). */
static int fdinfo_api(int uffd, uint64_t *features, uint64_t *ioctls)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", uffd);
	int rc = real_read_small(path, buf, sizeof buf);
	if (rc)
		return rc;
	const char *l = strstr(buf, "\nAPI:");
	unsigned long long api, io;
	unsigned f;
	if (!l || sscanf(l + 6, "%llx:%x:%llx", &api, &f, &io) != 3)
		return -EINVAL; /* not a uffd */
	*features = f & ~(1u << 31); /* UFFD_FEATURE_INITIALIZED, internal */
	*ioctls = io;
	return 0;
}

static int r_uffd_api(sys_t *s, int uffd, uint64_t want, uint64_t *features,
		      uint64_t *ioctls)
{
	uint64_t avail = 0, f = 0, io = 0;
	int rc = available_features(R(s), &avail);
	if (!rc && (want & ~avail))
		rc = -EINVAL;
	if (!rc)
		rc = fdinfo_api(uffd, &f, &io);
	if (rc)
		f = io = 0;
	if (features)
		*features = f;
	if (ioctls)
		*ioctls = io;
	return rc;
}

static int r_uffd_move(sys_t *s, int uffd, uint64_t dst, uint64_t src,
		       uint64_t len, uint64_t mode, int64_t *moved)
{
	(void)s;
	struct uffdio_move m = {.dst = dst, .src = src, .len = len,
				.mode = mode, .move = FIELD_UNSET};
	int rc = ioctl(uffd, UFFDIO_MOVE, &m) ? -errno : 0;
	if (m.move == FIELD_UNSET)
		m.move = rc;
	if (moved)
		*moved = m.move;
	return rc;
}

static int r_uffd_poison(sys_t *s, int uffd, uint64_t dst, uint64_t len,
			 uint64_t mode, int64_t *updated)
{
	(void)s;
	struct uffdio_poison p = {.range = {.start = dst, .len = len},
				  .mode = mode, .updated = FIELD_UNSET};
	int rc = ioctl(uffd, UFFDIO_POISON, &p) ? -errno : 0;
	if (p.updated == FIELD_UNSET)
		p.updated = rc;
	if (updated)
		*updated = p.updated;
	return rc;
}

static const struct sys_ops real_ops = {
	.spawn = r_spawn,
	.join = r_join,
	.yield = r_yield,
	.sleep_ns = r_sleep_ns,
	.random = r_random,
	.mutex_new = r_mutex_new,
	.mutex_free = r_mutex_free,
	.mutex_lock = r_mutex_lock,
	.mutex_unlock = r_mutex_unlock,
	.rwlock_new = r_rwlock_new,
	.rwlock_free = r_rwlock_free,
	.rdlock = r_rdlock,
	.rdunlock = r_rdunlock,
	.wrlock = r_wrlock,
	.wrunlock = r_wrunlock,
	.cond_new = r_cond_new,
	.cond_free = r_cond_free,
	.cond_wait = r_cond_wait,
	.sem_new = r_sem_new,
	.sem_free = r_sem_free,
	.sem_acquire = r_sem_acquire,
	.sem_release = r_sem_release,
	.sem_wait_zero = r_sem_wait_zero,
	.cond_signal = r_cond_signal,
	.cond_broadcast = r_cond_broadcast,
	.atomic_load = r_atomic_load,
	.atomic_store = r_atomic_store,
	.atomic_add = r_atomic_add,
	.atomic_cas = r_atomic_cas,
	.pipe = r_pipe,
	.write = r_write,
	.read = r_read,
	.close = r_close,
	.poll = r_poll,
	.uffd_read = r_uffd_read,
	.uffd_copy = r_uffd_copy,
	.uffd_zeropage = r_uffd_zeropage,
	.uffd_wake = r_uffd_wake,
	.uffd_writeprotect = r_uffd_writeprotect,
	.uffd_unregister = r_uffd_unregister,
	.dup = r_dup,
	.buf_alloc = r_buf_alloc,
	.buf_free = r_buf_free,
	.buf_zero = r_buf_zero,
	.source_read = r_source_read,
	.note = r_note,
	.source_map = r_source_map,
	.uffd_api = r_uffd_api,
	.uffd_move = r_uffd_move,
	.uffd_poison = r_uffd_poison,
	.pagemap = r_pagemap,
};

int sys_real_new(const struct sys_real_opts *opts, sys_t **out)
{
	struct sys_real *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->sys.ops = &real_ops;
	r->source_fd = opts ? opts->source_fd : -1;
	r->source_page = opts && opts->source_page ? opts->source_page : 4096;
	r->rng = opts && opts->seed ? opts->seed : 0;
	if (!r->rng) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r->rng = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	int e = pthread_mutex_init(&r->fail_mu, NULL);
	if (e) {
		free(r);
		return -e;
	}
	e = pthread_mutex_init(&r->buf_mu, NULL);
	if (e) {
		pthread_mutex_destroy(&r->fail_mu);
		free(r);
		return -e;
	}
	size_t stack = opts && opts->stack_size ? opts->stack_size : 256u << 10;
	int rc = real_pool_new(stack, &r->pool);
	if (rc) {
		pthread_mutex_destroy(&r->buf_mu);
		pthread_mutex_destroy(&r->fail_mu);
		free(r);
		return rc;
	}
	*out = &r->sys;
	return 0;
}

void sys_real_free(sys_t *s)
{
	if (!s)
		return;
	struct sys_real *r = R(s);
	real_pool_free(r->pool);
	for (int i = 0; i < r->nbufs; i++)
		free(r->bufs[i]);
	if (r->map)
		munmap(r->map, (size_t)r->map_len);
	pthread_mutex_destroy(&r->buf_mu);
	pthread_mutex_destroy(&r->fail_mu);
	free(r->fails);
	free(r);
}

/* A CPU held by a SCHED_FIFO spinner: contract in real/hold.h. */
#include "real/hold.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define REAL_MADV_POPULATE_READ 22 /* <sys/mman.h> may lack it */

/* How long real_hold_on() waits for the spinner to own its CPU. */
#define HOLD_START_MS 200

struct real_hold {
	pthread_t t;
	int cpu, cap_ms;
	cpu_set_t caller, others;  /* the opener's mask; it less cpu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int want, spinning, quit, capped;
	pthread_t wt;
	int writing;              /* wt runs */
	atomic_int in_call, ktid;
	double held_ms;
};

/* The writer's range: made once per process (mapping 1 GiB of zero-page
 * PTEs takes most of a second), never unmapped: the process's own. */
static pthread_mutex_t g_range_mu = PTHREAD_MUTEX_INITIALIZER;
static char *g_range;
static int g_range_prot = PROT_READ;

static long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

static void *spin_main(void *arg)
{
	struct real_hold *h = arg;
	for (;;) {
		pthread_mutex_lock(&h->mu);
		while (!atomic_load(&h->want) && !atomic_load(&h->quit))
			pthread_cond_wait(&h->cv, &h->mu);
		pthread_mutex_unlock(&h->mu);
		if (atomic_load(&h->quit))
			return NULL;
		/* running at all means owning the CPU: nothing normal runs
		 * there until this loop ends */
		atomic_store(&h->spinning, 1);
		long t0 = now_us();
		while (atomic_load(&h->want) && now_us() - t0 < h->cap_ms * 1000L)
			;
		if (atomic_exchange(&h->want, 0))
			atomic_fetch_add(&h->capped, 1);
		atomic_store(&h->spinning, 0);
	}
}

/* The spinner's attributes: pinned to cpu, SCHED_FIFO 1. */
static int spin_attr(struct real_hold *h, pthread_attr_t *a)
{
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(h->cpu, &one);
	struct sched_param sp = {.sched_priority = 1};
	pthread_attr_init(a);
	int e = pthread_attr_setaffinity_np(a, sizeof one, &one);
	if (!e)
		e = pthread_attr_setinheritsched(a, PTHREAD_EXPLICIT_SCHED);
	if (!e)
		e = pthread_attr_setschedpolicy(a, SCHED_FIFO);
	if (!e)
		e = pthread_attr_setschedparam(a, &sp);
	return e;
}

int real_hold_open(int cap_ms, struct real_hold **out, char *why, size_t n)
{
	struct real_hold *h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	h->cap_ms = cap_ms > 0 ? cap_ms : 100;
	h->cpu = -1;
	if (sched_getaffinity(0, sizeof h->caller, &h->caller)) {
		int e = errno;
		snprintf(why, n, "sched_getaffinity: %s", strerror(e));
		free(h);
		return -e;
	}
	h->others = h->caller;
	for (int c = CPU_SETSIZE - 1; c >= 0 && h->cpu < 0; c--)
		if (CPU_ISSET(c, &h->caller))
			h->cpu = c;
	CPU_CLR(h->cpu, &h->others);
	if (CPU_COUNT(&h->others) == 0) {
		snprintf(why, n, "one CPU only: holding it would hold the replay too");
		free(h);
		return -EOPNOTSUPP;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	pthread_attr_t a;
	int e = spin_attr(h, &a);
	if (!e)
		e = pthread_create(&h->t, &a, spin_main, h);
	pthread_attr_destroy(&a);
	if (e) {
		snprintf(why, n, "a SCHED_FIFO thread on CPU %d: %s", h->cpu, strerror(e));
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return -e;
	}
	*out = h;
	return 0;
}

void real_hold_close(struct real_hold *h)
{
	if (!h)
		return;
	real_hold_writer_wait(h);
	pthread_mutex_lock(&h->mu);
	atomic_store(&h->want, 0);
	atomic_store(&h->quit, 1);
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->t, NULL);
	sched_setaffinity(0, sizeof h->caller, &h->caller);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

int real_hold_cpu(const struct real_hold *h)
{
	return h->cpu;
}

int real_hold_pin(struct real_hold *h)
{
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(h->cpu, &one);
	return sched_setaffinity(0, sizeof one, &one) ? -errno : 0;
}

int real_hold_avoid(struct real_hold *h)
{
	return sched_setaffinity(0, sizeof h->others, &h->others) ? -errno : 0;
}

int real_hold_on(struct real_hold *h)
{
	pthread_mutex_lock(&h->mu);
	atomic_store(&h->want, 1);
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	long t0 = now_us();
	while (!atomic_load(&h->spinning)) {
		if (now_us() - t0 > HOLD_START_MS * 1000L) {
			atomic_store(&h->want, 0);
			return -ETIMEDOUT;
		}
		struct timespec d = {0, 20000};
		nanosleep(&d, NULL);
	}
	return 0;
}

void real_hold_off(struct real_hold *h)
{
	atomic_store(&h->want, 0);
	while (atomic_load(&h->spinning)) {
		struct timespec d = {0, 20000};
		nanosleep(&d, NULL);
	}
}

/* The range, mapped read-only and every PTE made (the zero page, no
 * memory), or NULL. */
static char *writer_range(void)
{
	pthread_mutex_lock(&g_range_mu);
	if (!g_range) {
		char *m = mmap(NULL, REAL_HOLD_WRITER_BYTES, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m != MAP_FAILED) {
			/* 4 KiB PTEs: a huge zero page would make mprotect cheap */
			madvise(m, REAL_HOLD_WRITER_BYTES, MADV_NOHUGEPAGE);
			/* one call makes every PTE (the zero page); by hand if the
			 * kernel predates MADV_POPULATE_READ (5.14) */
			if (madvise(m, REAL_HOLD_WRITER_BYTES, REAL_MADV_POPULATE_READ)) {
				long ps = sysconf(_SC_PAGESIZE);
				volatile char sink = 0;
				for (uint64_t o = 0; o < REAL_HOLD_WRITER_BYTES; o += (uint64_t)ps)
					sink += m[o];
				(void)sink;
			}
			g_range = m;
		}
	}
	char *r = g_range;
	pthread_mutex_unlock(&g_range_mu);
	return r;
}

int real_hold_writer_prepare(void)
{
	return writer_range() ? 0 : -ENOMEM;
}

static void *writer_main(void *arg)
{
	struct real_hold *h = arg;
	pthread_mutex_lock(&g_range_mu);
	int prot = g_range_prot = g_range_prot == PROT_READ ? PROT_NONE : PROT_READ;
	pthread_mutex_unlock(&g_range_mu);
	/* SCHED_IDLE: every other thread of the replay preempts it, so the
	 * window's steps run at once while it holds the lock in its work */
	struct sched_param sp = {.sched_priority = 0};
	sched_setscheduler(0, SCHED_IDLE, &sp);
	atomic_store(&h->ktid, (int)gettid());
	long t0 = now_us();
	atomic_store(&h->in_call, 1);
	mprotect(g_range, REAL_HOLD_WRITER_BYTES, prot);
	h->held_ms = (double)(now_us() - t0) / 1000.0;
	return NULL;
}

int real_hold_writer_start(struct real_hold *h)
{
	if (h->writing)
		real_hold_writer_wait(h);
	if (!writer_range())
		return -ENOMEM;
	pthread_attr_t a;
	pthread_attr_init(&a);
	int e = pthread_attr_setaffinity_np(&a, sizeof h->others, &h->others);
	atomic_store(&h->in_call, 0);
	atomic_store(&h->ktid, 0);
	if (!e)
		e = pthread_create(&h->wt, &a, writer_main, h);
	pthread_attr_destroy(&a);
	if (e)
		return -e;
	h->writing = 1;
	while (!atomic_load(&h->in_call)) {
		struct timespec d = {0, 20000};
		nanosleep(&d, NULL);
	}
	/* mprotect takes the lock first thing; 1 ms covers its entry */
	struct timespec d = {0, 1000000};
	nanosleep(&d, NULL);
	return 0;
}

double real_hold_writer_wait(struct real_hold *h)
{
	if (!h->writing)
		return 0;
	pthread_join(h->wt, NULL);
	h->writing = 0;
	return h->held_ms;
}

int real_hold_writer_boost(struct real_hold *h)
{
	int kt = atomic_load(&h->ktid);
	struct sched_param sp = {.sched_priority = 0};
	if (!h->writing || !kt)
		return 0;
	/* ESRCH: it finished meanwhile */
	return sched_setscheduler(kt, SCHED_OTHER, &sp) && errno != ESRCH ? -errno : 0;
}

int real_hold_move_off(struct real_hold *h, int ktid)
{
	return sched_setaffinity(ktid, sizeof h->others, &h->others) ? -errno : 0;
}

int real_hold_move_on(struct real_hold *h, int ktid)
{
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(h->cpu, &one);
	return sched_setaffinity(ktid, sizeof one, &one) ? -errno : 0;
}

int real_hold_capped(struct real_hold *h)
{
	return atomic_load(&h->capped);
}

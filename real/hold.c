/* A CPU held by a SCHED_FIFO spinner: contract in real/hold.h. */
#include "real/hold.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long real_hold_on() waits for the spinner to own its CPU. */
#define HOLD_START_MS 200

struct real_hold {
	pthread_t t;
	int cpu, cap_ms;
	cpu_set_t caller, others;  /* the opener's mask; it less cpu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int want, spinning, quit, capped;
};

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

int real_hold_capped(struct real_hold *h)
{
	return atomic_load(&h->capped);
}

#include "real/watchdog.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "real/hugepages.h"

/* Process-wide, see the header. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;
static int g_started;
static int g_armed;
static int g_seconds;
static struct timespec g_deadline;
static char g_label[128];

static void *watch(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&g_mu);
	for (;;) {
		if (!g_armed) {
			pthread_cond_wait(&g_cv, &g_mu);
			continue;
		}
		struct timespec dl = g_deadline;
		int e = pthread_cond_timedwait(&g_cv, &g_mu, &dl);
		if (e != ETIMEDOUT || !g_armed)
			continue;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec < g_deadline.tv_sec ||
		    (now.tv_sec == g_deadline.tv_sec &&
		     now.tv_nsec < g_deadline.tv_nsec))
			continue; /* re-armed meanwhile */
		fprintf(stderr, "watchdog: %s still running after %d s; giving up\n",
			g_label, g_seconds);
		fflush(NULL);
		real_hugepages_restore_now();
		_exit(124);
	}
	return NULL;
}

/* A forked child has no timer thread: it starts its own when it arms. */
static void before_fork(void)
{
	pthread_mutex_lock(&g_mu);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&g_mu);
}

static void after_fork_child(void)
{
	g_started = 0;
	g_armed = 0;
	pthread_mutex_unlock(&g_mu);
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void register_atfork(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

int real_watchdog_arm(int seconds, const char *label)
{
	int rc = 0;
	pthread_once(&g_once, register_atfork);
	pthread_mutex_lock(&g_mu);
	if (!g_started) {
		pthread_condattr_t a;
		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&g_cv, &a);
		pthread_condattr_destroy(&a);
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		int e = pthread_create(&t, &at, watch, NULL);
		pthread_attr_destroy(&at);
		if (e) {
			rc = -e;
			goto out;
		}
		g_started = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &g_deadline);
	g_deadline.tv_sec += seconds;
	g_seconds = seconds;
	snprintf(g_label, sizeof g_label, "%s", label ? label : "real-kernel run");
	g_armed = 1;
	pthread_cond_signal(&g_cv);
out:
	pthread_mutex_unlock(&g_mu);
	return rc;
}

void real_watchdog_disarm(void)
{
	pthread_mutex_lock(&g_mu);
	g_armed = 0;
	if (g_started)
		pthread_cond_signal(&g_cv);
	pthread_mutex_unlock(&g_mu);
}

#include "real/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

struct worker {
	struct real_pool *pool;
	pthread_t tid;
	pthread_cond_t cv;      /* signalled when a job is handed over or at close */
	void (*fn)(void *);
	void *arg;
	struct real_pool_job *job;
	char name[16];
	struct worker *next_idle;
	struct worker *next_all;
};

struct real_pool {
	pthread_mutex_t mu;     /* guards every field below and all workers' */
	struct worker *idle;    /* LIFO: the most recently parked thread is warm */
	struct worker *all;
	uint64_t created;
	int busy;               /* jobs handed over and not yet returned */
	int closing;
	size_t stack_size;
};

static void *worker_main(void *v)
{
	struct worker *w = v;
	struct real_pool *p = w->pool;
	char cur[16] = "";

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!w->fn && !p->closing)
			pthread_cond_wait(&w->cv, &p->mu);
		if (!w->fn)
			break;
		void (*fn)(void *) = w->fn;
		void *arg = w->arg;
		struct real_pool_job *job = w->job;
		char name[16];
		memcpy(name, w->name, sizeof name);
		w->fn = NULL;
		w->job = NULL;
		pthread_mutex_unlock(&p->mu);

		/* Names only matter in ps/gdb; skip the syscall when unchanged. */
		if (strcmp(name, cur) != 0) {
			prctl(PR_SET_NAME, name, 0, 0, 0);
			memcpy(cur, name, sizeof cur);
		}
		fn(arg);

		pthread_mutex_lock(&p->mu);
		p->busy--;
		if (job) {
			job->done = 1;
			pthread_cond_signal(&job->done_cv);
		}
		w->next_idle = p->idle;
		p->idle = w;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int real_pool_new(size_t stack_size, struct real_pool **out)
{
	struct real_pool *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	int e = pthread_mutex_init(&p->mu, NULL);
	if (e) {
		free(p);
		return -e;
	}
	p->stack_size = stack_size;
	*out = p;
	return 0;
}

void real_pool_job_init(struct real_pool_job *job)
{
	pthread_cond_init(&job->done_cv, NULL);
	job->done = 0;
}

/* Called with p->mu held; returns a new parked-state worker or NULL. */
static int worker_create(struct real_pool *p, struct worker **out)
{
	struct worker *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->pool = p;
	int e = pthread_cond_init(&w->cv, NULL);
	if (e) {
		free(w);
		return -e;
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (p->stack_size)
		pthread_attr_setstacksize(&attr, p->stack_size);
	e = pthread_create(&w->tid, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (e) {
		pthread_cond_destroy(&w->cv);
		free(w);
		return -e;
	}
	w->next_all = p->all;
	p->all = w;
	p->created++;
	*out = w;
	return 0;
}

int real_pool_run(struct real_pool *p, const char *name, void (*fn)(void *),
		  void *arg, struct real_pool_job *job)
{
	struct worker *w;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	if (p->closing) {
		rc = -ESHUTDOWN;
		goto out;
	}
	w = p->idle;
	if (w) {
		p->idle = w->next_idle;
	} else {
		/* The new thread blocks on p->mu until we unlock, then finds
		 * its job already set: no lost hand-over. */
		rc = worker_create(p, &w);
		if (rc)
			goto out;
	}
	w->fn = fn;
	w->arg = arg;
	w->job = job;
	p->busy++;
	if (name) {
		strncpy(w->name, name, sizeof w->name - 1);
		w->name[sizeof w->name - 1] = 0;
	} else {
		strcpy(w->name, "uffdlab");
	}
	pthread_cond_signal(&w->cv);
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void real_pool_wait(struct real_pool *p, struct real_pool_job *job)
{
	pthread_mutex_lock(&p->mu);
	while (!job->done)
		pthread_cond_wait(&job->done_cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pthread_cond_destroy(&job->done_cv);
}

uint64_t real_pool_created(struct real_pool *p)
{
	pthread_mutex_lock(&p->mu);
	uint64_t n = p->created;
	pthread_mutex_unlock(&p->mu);
	return n;
}

int real_pool_busy(struct real_pool *p)
{
	pthread_mutex_lock(&p->mu);
	int n = p->busy;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void real_pool_free(struct real_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->closing = 1;
	for (struct worker *w = p->all; w; w = w->next_all)
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&p->mu);

	struct worker *w = p->all;
	while (w) {
		struct worker *next = w->next_all;
		pthread_join(w->tid, NULL);
		pthread_cond_destroy(&w->cv);
		free(w);
		w = next;
	}
	pthread_mutex_destroy(&p->mu);
	free(p);
}

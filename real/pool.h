/* real/pool.h — a pool of parked pthreads that run short jobs.
 *
 * Contract: real_pool_run() hands fn(arg) to a parked thread, or creates a
 * thread when none is parked; a thread parks again when its job returns, so a
 * burst of N concurrent jobs costs N thread creations once and hand-overs
 * afterwards. With a job record the caller can wait for that job
 * (real_pool_wait); without one the job is detached. Threads are never
 * destroyed before real_pool_free(), which must be called only when no job
 * is running (it wakes every parked thread and joins it). 0 or -errno.
 */
#ifndef UFFDLAB_REAL_POOL_H
#define UFFDLAB_REAL_POOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct real_pool;

/* A joinable job's completion record, owned by the caller. Fields are the
 * pool's; initialise with real_pool_job_init(). */
struct real_pool_job {
	pthread_cond_t done_cv;
	int done;
};

int real_pool_new(size_t stack_size, struct real_pool **out);
void real_pool_free(struct real_pool *p);
void real_pool_job_init(struct real_pool_job *job);
/* name: thread name (up to 15 characters kept), may be NULL. */
int real_pool_run(struct real_pool *p, const char *name, void (*fn)(void *),
		  void *arg, struct real_pool_job *job);
/* Wait until job's fn returned. The record is then finished: free it, or
 * real_pool_job_init() it again to reuse it. */
void real_pool_wait(struct real_pool *p, struct real_pool_job *job);
uint64_t real_pool_created(struct real_pool *p);
/* Jobs handed over and not yet returned (a job counts from hand-over). */
int real_pool_busy(struct real_pool *p);

#endif

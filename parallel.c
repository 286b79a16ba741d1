/* Seeded exploration split among processes and machines (run.h,
 * par_explore): run j (seed first_seed + j, j < runs) belongs to shard
 * j mod N, and within a shard to worker (j div N) mod jobs. Each worker is
 * a forked process with its own copy of the world (the simulator keeps
 * per-process state: a run is one process's coroutines). The workers
 * share, in one MAP_SHARED mapping, the lowest failing j found so far (a
 * worker stops once its next j is past it: no run after the first
 * failure matters) and the steps of every run, so the totals are those of
 * one process running j = 0, 1, ... up to the first failure, for any
 * number of shards and jobs. PCT's k is learned from run 0 by every
 * worker, as the single process learns it from its first run. A split
 * dfs (par_dfs) splits prefixes (sched/dfs_split.h) among shards the
 * same way, but a shard's workers take its prefixes one at a time as
 * they come free, each writing each prefix's totals and its first
 * failing schedule into the shared mapping. */
#include "run.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAR_JOBS_MAX 256

struct shm {
	_Atomic uint64_t best;    /* lowest failing j, UINT64_MAX none */
	_Atomic int err;          /* a worker's run could not start */
	_Atomic int max_threads;
	uint32_t steps[];         /* of run j, plus 1; 0 = not run */
};

static void atomic_min(_Atomic uint64_t *a, uint64_t v)
{
	uint64_t cur = atomic_load(a);
	while (v < cur && !atomic_compare_exchange_weak(a, &cur, v))
		;
}

static void atomic_max(_Atomic int *a, int v)
{
	int cur = atomic_load(a);
	while (v > cur && !atomic_compare_exchange_weak(a, &cur, v))
		;
}

/* The runs of one worker: j = first, first + stride, ... */
static void worker(struct world *w, struct run_id id, const struct par_opts *p, uint64_t k0,
		   uint64_t first, uint64_t stride, struct shm *m)
{
	for (uint64_t j = first; j < p->runs; j += stride) {
		if (j > atomic_load(&m->best))
			return;
		id.seed = p->first_seed + j;
		if (p->learn_k)
			id.pct_k = j ? k0 : 0;
		struct sched_opts o = run_opts(&id);
		struct verdict v;
		if (world_run(w, &o, NULL, NULL, &v)) {
			atomic_store(&m->err, 1);
			return;
		}
		m->steps[j] = (uint32_t)v.steps + 1; /* 0 = not run */
		atomic_max(&m->max_threads, sched_nthreads(world_sched(w)));
		if (v.violated) {
			atomic_min(&m->best, j);
			return;
		}
	}
}

int par_fork(unsigned jobs, void (*fn)(unsigned k, void *ctx), void *ctx)
{
	if (!jobs || jobs > PAR_JOBS_MAX)
		return -EINVAL;
	pid_t pids[PAR_JOBS_MAX];
	unsigned started = 0;
	int err = 0;
	fflush(NULL); /* no buffered output is written twice */
	for (unsigned k = 0; k < jobs; k++, started++) {
		pids[k] = fork();
		if (pids[k] < 0) {
			err = -errno;
			break;
		}
		if (pids[k] == 0) {
			fn(k, ctx);
			_exit(0);
		}
	}
	for (unsigned k = 0; k < started; k++) {
		int st;
		if (waitpid(pids[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			err = err ? err : -ECHILD;
	}
	return err;
}

struct seeded {
	struct world *w;
	const struct run_id *id;
	const struct par_opts *p;
	uint64_t k0;
	struct shm *m;
};

static void seeded_worker(unsigned k, void *ctx)
{
	struct seeded *c = ctx;
	const struct par_opts *p = c->p;
	worker(c->w, *c->id, p, c->k0, p->shard + (uint64_t)p->nshards * k,
	       (uint64_t)p->nshards * p->jobs, c->m);
}

/* Fork the workers and wait for them all. 0 or -errno. */
static int run_workers(struct world *w, const struct run_id *id, const struct par_opts *p,
		       uint64_t k0, struct shm *m)
{
	struct seeded c = {w, id, p, k0, m};
	int err = par_fork(p->jobs, seeded_worker, &c);
	return err ? err : atomic_load(&m->err) ? -EIO : 0;
}

int par_explore(struct world *w, const struct run_id *id, const struct par_opts *p,
		struct par_result *r)
{
	memset(r, 0, sizeof *r);
	if (!p->jobs || p->jobs > PAR_JOBS_MAX || !p->nshards || p->shard >= p->nshards ||
	    p->runs > (UINT64_C(1) << 30))
		return -EINVAL;
	uint64_t k0 = 0;
	if (p->learn_k) { /* k from run 0, as one process learns it */
		struct run_id r0 = *id;
		r0.seed = p->first_seed;
		r0.pct_k = 0;
		struct sched_opts o = run_opts(&r0);
		struct verdict v;
		int e = world_run(w, &o, NULL, NULL, &v);
		if (e)
			return e;
		k0 = sched_pct_k(world_sched(w));
	}
	size_t len = sizeof(struct shm) + p->runs * sizeof(uint32_t);
	struct shm *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	atomic_store(&m->best, UINT64_MAX);
	int e = run_workers(w, id, p, k0, m);
	uint64_t best = atomic_load(&m->best);
	for (uint64_t j = p->shard; !e && j < p->runs && j <= best; j += p->nshards) {
		r->runs += m->steps[j] != 0;
		r->steps += m->steps[j] ? m->steps[j] - 1 : 0;
	}
	r->found = best != UINT64_MAX;
	r->index = best;
	r->pct_k = r->found && best == 0 ? 0 : k0;
	r->max_threads = atomic_load(&m->max_threads);
	munmap(m, len);
	return e;
}

/* --- a split dfs: prefixes instead of seeds ----------------------------- */

struct dshm {
	_Atomic uint64_t best;    /* lowest failing prefix, UINT64_MAX none */
	_Atomic uint64_t next;    /* the shard's next prefix to hand out */
	_Atomic int err;          /* a worker's search failed: its -errno */
	uint64_t failed[PAR_JOBS_MAX]; /* worker k's failing prefix */
	struct par_prefix *out;   /* [nprefixes], in this mapping */
	uint32_t *fail;           /* [jobs][fail_cap + 1]: count, then choices */
};

/* Worker k takes the shard's prefixes in order, the next one free each
 * time (a reduced split's subtrees differ in size by 10^5): every prefix
 * below the first failing one is still run, by whichever worker. */
static void dfs_worker(const struct par_dfs_opts *p, par_prefix_fn fn, void *ctx, unsigned k,
		       struct dshm *m)
{
	uint32_t *slot = m->fail + (size_t)k * (p->fail_cap + 1);
	for (;;) {
		uint64_t j = p->shard + atomic_fetch_add(&m->next, 1) * p->nshards;
		if (j >= p->nprefixes || j > atomic_load(&m->best))
			return;
		size_t nf = 0;
		struct par_prefix r = {0};
		int e = fn(ctx, (size_t)j, &r, slot + 1, p->fail_cap, &nf);
		if (e < 0) {
			atomic_store(&m->err, e);
			return;
		}
		r.ran = 1;
		r.failed = e == 1;
		m->out[j] = r;
		if (e == 1) {
			assert(nf <= p->fail_cap && nf < UINT32_MAX);
			slot[0] = (uint32_t)nf;
			m->failed[k] = j;
			atomic_min(&m->best, j);
			return;
		}
	}
}

struct dfs_ctx {
	const struct par_dfs_opts *p;
	par_prefix_fn fn;
	void *ctx;
	struct dshm *m;
};

static void dfs_forked(unsigned k, void *ctx)
{
	struct dfs_ctx *c = ctx;
	dfs_worker(c->p, c->fn, c->ctx, k, c->m);
}

/* Fork the workers (none for one job) and wait for them. 0 or -errno. */
static int dfs_workers(const struct par_dfs_opts *p, par_prefix_fn fn, void *ctx,
		       struct dshm *m)
{
	if (p->jobs == 1) {
		dfs_worker(p, fn, ctx, 0, m);
		return atomic_load(&m->err);
	}
	struct dfs_ctx c = {p, fn, ctx, m};
	int err = par_fork(p->jobs, dfs_forked, &c);
	return err ? err : atomic_load(&m->err);
}

int par_dfs(const struct par_dfs_opts *p, par_prefix_fn fn, void *ctx, struct par_prefix *out,
	    size_t *found, uint32_t **fail, size_t *nfail)
{
	*found = SIZE_MAX;
	*fail = NULL;
	*nfail = 0;
	if (!p->jobs || p->jobs > PAR_JOBS_MAX || !p->nshards || p->shard >= p->nshards ||
	    !p->fail_cap || p->fail_cap > (UINT64_C(1) << 28))
		return -EINVAL;
	size_t olen = p->nprefixes * sizeof *out;
	size_t flen = (size_t)p->jobs * (p->fail_cap + 1) * sizeof(uint32_t);
	size_t len = sizeof(struct dshm) + olen + flen;
	char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	struct dshm *m = (struct dshm *)base;
	m->out = (struct par_prefix *)(base + sizeof *m);
	m->fail = (uint32_t *)(base + sizeof *m + olen);
	atomic_store(&m->best, UINT64_MAX);
	atomic_store(&m->next, 0);
	atomic_store(&m->err, 0);
	for (unsigned k = 0; k < PAR_JOBS_MAX; k++)
		m->failed[k] = UINT64_MAX;
	int e = dfs_workers(p, fn, ctx, m);
	uint64_t best = atomic_load(&m->best);
	for (size_t j = p->shard; j < p->nprefixes; j += p->nshards) {
		out[j] = m->out[j];
		if (j > best) /* run past the first failure: not the one process's */
			memset(&out[j], 0, sizeof out[j]);
	}
	if (!e && best != UINT64_MAX) {
		unsigned k = 0;
		while (k < p->jobs && m->failed[k] != best)
			k++;
		assert(k < p->jobs); /* the worker that lowered best wrote it */
		const uint32_t *slot = m->fail + (size_t)k * (p->fail_cap + 1);
		*fail = malloc(((size_t)slot[0] + 1) * sizeof **fail);
		if (!*fail) {
			e = -ENOMEM;
		} else {
			memcpy(*fail, slot + 1, slot[0] * sizeof **fail);
			*nfail = slot[0];
			*found = (size_t)best;
		}
	}
	munmap(base, len);
	return e;
}

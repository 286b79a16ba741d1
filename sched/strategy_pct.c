/* pct: Burckhardt et al., ASPLOS 2010. Every thread gets a distinct random
 * priority above d; the highest runnable one runs; at d-1 random steps of
 * the expected k the running thread's priority drops to d-j. sched_yield
 * drops the caller below everyone (a fair scheduler's guarantee).
 *
 * Distinctness is checked against the priorities threads hold now, as the
 * first version did by scanning every thread: here a hash (uthash) of
 * initial priorities to the thread that drew it, a hit counting only while
 * that thread still holds it, so a spawn costs O(1) however many threads a
 * spinning handler has left behind. Only membership is asked of the hash,
 * never its order, so it cannot change a schedule. A sentinel entry (key
 * 0, below every priority, which are >= d >= 1) keeps the hash from ever
 * being empty: uthash frees its table when the last entry goes, and the
 * explorer must not allocate per run once warm. */
#include "sched/strategy.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
/* an allocation failure inside the hash is an error we return, never the
 * process exiting under us (uthash's default) */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (pct_oom = 1)
static int pct_oom;
#include <uthash.h>

struct pct_change {
	uint64_t step;            /* 1-based: after this many steps */
	int j;                    /* the priority drops to d - j */
};

struct prio_item {
	int64_t key;              /* an initial priority (>= d >= 1) */
	int tid;                  /* the thread that drew it */
	UT_hash_handle hh;
};

struct pct {
	int64_t *prio;            /* by thread id */
	struct prio_item *items;  /* by thread id: its initial priority's entry */
	size_t prio_cap;
	struct prio_item *set;    /* uthash head: initial priorities drawn */
	struct prio_item sentinel; /* always in set */
	struct pct_change cp[SCHED_PCT_DEPTH_MAX];
	int ncp, next;
	int64_t floor;            /* next priority handed out by yield */
};

static int pct_create(void **state)
{
	struct pct *p = calloc(1, sizeof *p);

	if (!p)
		return -ENOMEM;
	p->sentinel.key = 0;
	p->sentinel.tid = -1;
	pct_oom = 0;
	HASH_ADD(hh, p->set, key, sizeof p->sentinel.key, &p->sentinel);
	if (pct_oom) {
		free(p);
		return -ENOMEM;
	}
	*state = p;
	return 0;
}

/* Every entry but the sentinel out of the hash; its table stays. */
static void set_empty(struct pct *p)
{
	struct prio_item *it, *tmp;

	HASH_ITER(hh, p->set, it, tmp)
		if (it != &p->sentinel)
			HASH_DEL(p->set, it);
	assert(HASH_COUNT(p->set) == 1 && p->set == &p->sentinel);
}

static void pct_destroy(void *state)
{
	struct pct *p = state;

	if (!p)
		return;
	HASH_CLEAR(hh, p->set);
	free(p->prio);
	free(p->items);
	free(p);
}

/* d-1 distinct change points in 1..k, sorted by step. */
static void pct_reset(void *state, const struct sched_view *v)
{
	struct pct *p = state;
	uint64_t k = v->opts->pct_steps;
	int want = v->opts->pct_depth - 1;

	assert(v->opts->pct_depth >= 1 && v->opts->pct_depth <= SCHED_PCT_DEPTH_MAX);
	p->ncp = 0;
	p->next = 0;
	p->floor = 0;
	set_empty(p); /* the items are ours, reused by tid */
	if ((uint64_t)want > k)
		want = (int)k; /* at most one change point per step */
	for (int j = 1; j <= want; j++) {
		uint64_t step;
		int dup;

		do {
			step = 1 + rng_below(v->rng, k);
			dup = 0;
			for (int i = 0; i < p->ncp; i++)
				dup |= p->cp[i].step == step;
		} while (dup);
		int i = p->ncp++;

		while (i > 0 && p->cp[i - 1].step > step) {
			p->cp[i] = p->cp[i - 1];
			i--;
		}
		p->cp[i].step = step;
		p->cp[i].j = j;
	}
	assert(p->ncp == want);
}

static int prio_grow(struct pct *p, size_t want)
{
	size_t cap = p->prio_cap ? p->prio_cap : 16;

	while (cap < want)
		cap *= 2;
	int64_t *np = realloc(p->prio, cap * sizeof *np);

	if (!np)
		return -ENOMEM;
	p->prio = np;
	/* the hash points into items: moving them means re-adding them */
	struct prio_item *ni = calloc(cap, sizeof *ni);
	if (!ni)
		return -ENOMEM;
	size_t live = HASH_COUNT(p->set);
	for (size_t t = 0; t < p->prio_cap; t++)
		ni[t] = p->items[t]; /* keys and tids; the links are redone below */
	unsigned char *in = calloc(p->prio_cap ? p->prio_cap : 1, 1);
	if (!in) {
		free(ni);
		return -ENOMEM;
	}
	struct prio_item *it, *tmp;
	HASH_ITER(hh, p->set, it, tmp)
		if (it != &p->sentinel) {
			in[it->tid] = 1;
			HASH_DEL(p->set, it);
		}
	free(p->items);
	p->items = ni;
	int oom = 0;
	for (size_t t = 0; t < p->prio_cap && !oom; t++)
		if (in[t]) {
			pct_oom = 0;
			HASH_ADD(hh, p->set, key, sizeof ni[t].key, &ni[t]);
			oom = pct_oom;
		}
	free(in);
	p->prio_cap = cap;
	assert(oom || HASH_COUNT(p->set) == live);
	return oom ? -ENOMEM : 0;
}

/* A random priority above d that no thread of this run holds. */
static int pct_spawn(void *state, const struct sched_view *v, int tid)
{
	struct pct *p = state;
	int err = 0;

	assert(tid == v->nthreads);
	if ((size_t)tid >= p->prio_cap)
		err = prio_grow(p, (size_t)tid + 1);
	if (err)
		return err;
	int64_t pr;
	struct prio_item *hit;

	for (;;) {
		pr = v->opts->pct_depth + (int64_t)(rng_next(v->rng) >> 2);
		HASH_FIND(hh, p->set, &pr, sizeof pr, hit);
		assert(!hit || hit != &p->sentinel); /* priorities are >= d >= 1 */
		if (!hit || p->prio[hit->tid] != pr)
			break; /* free, or its drawer has since been lowered */
	}
	if (hit)
		HASH_DEL(p->set, hit);
	struct prio_item *me = &p->items[tid];
	me->key = pr;
	me->tid = tid;
	pct_oom = 0;
	HASH_ADD(hh, p->set, key, sizeof me->key, me);
	if (pct_oom)
		return -ENOMEM;
	p->prio[tid] = pr;
	assert(p->prio[tid] >= v->opts->pct_depth);
	return 0;
}

static void pct_step_end(void *state, const struct sched_view *v, int tid)
{
	struct pct *p = state;

	assert(tid >= 0 && tid < v->nthreads);
	if (p->next < p->ncp && p->cp[p->next].step == v->steps) {
		int64_t pr = v->opts->pct_depth - p->cp[p->next].j;

		if (p->prio[tid] > pr) /* a change only ever lowers */
			p->prio[tid] = pr;
		p->next++;
	}
	assert(p->next <= p->ncp);
}

static void pct_yield(void *state, const struct sched_view *v, int tid)
{
	struct pct *p = state;

	assert(tid >= 0 && tid < v->nthreads);
	p->prio[tid] = p->floor--;
	assert(p->floor < 0);
}

static int pct_choose(void *state, const struct sched_view *v)
{
	const struct pct *p = state;
	int best = v->runnable[0];

	assert(v->nrunnable > 0);
	for (int i = 1; i < v->nrunnable; i++)
		if (p->prio[v->runnable[i]] > p->prio[best])
			best = v->runnable[i];
	return best;
}

const struct sched_strategy_ops strategy_pct = {
	.name = "pct",
	.help = "random priorities with --depth - 1 change points in the first --pct-k steps (Burckhardt et al. 2010)",
	.id = SCHED_PCT,
	.flags = STRATEGY_CLI | STRATEGY_SEEDED,
	.opts = STRATEGY_OPT_DEPTH | STRATEGY_OPT_PCT_K | STRATEGY_OPT_TIME,
	.create = pct_create,
	.destroy = pct_destroy,
	.reset = pct_reset,
	.spawn = pct_spawn,
	.step_end = pct_step_end,
	.yield = pct_yield,
	.choose = pct_choose,
};

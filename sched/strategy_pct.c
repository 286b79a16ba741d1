/* pct: Burckhardt et al., ASPLOS 2010. Every thread gets a distinct random
 * priority above d; the highest runnable one runs; at d-1 random steps of
 * the expected k the running thread's priority drops to d-j. sched_yield
 * drops the caller below everyone (a fair scheduler's guarantee).
 *
 * Distinctness is checked against the priorities threads hold now, as the
 * first version did by scanning every thread: here a hash of initial
 * priorities to the thread that drew it, a hit counting only while that
 * thread still holds it, so a spawn costs O(1) however many threads a
 * spinning handler has left behind. */
#include "sched/strategy.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pct_change {
	uint64_t step;            /* 1-based: after this many steps */
	int j;                    /* the priority drops to d - j */
};

struct prio_slot {
	int64_t key;              /* an initial priority (>= d >= 1) */
	uint32_t gen;             /* run that stored it; others are empty */
	int tid;                  /* the last thread that drew it */
};

struct pct {
	int64_t *prio;            /* by thread id */
	size_t prio_cap;
	struct prio_slot *set;
	size_t set_cap, set_n;    /* set_cap: a power of two, or 0 */
	uint32_t gen;
	struct pct_change cp[SCHED_PCT_DEPTH_MAX];
	int ncp, next;
	int64_t floor;            /* next priority handed out by yield */
};

static int pct_create(void **state)
{
	struct pct *p = calloc(1, sizeof *p);

	if (!p)
		return -ENOMEM;
	*state = p;
	return 0;
}

static void pct_destroy(void *state)
{
	struct pct *p = state;

	if (!p)
		return;
	free(p->prio);
	free(p->set);
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
	p->set_n = 0;
	if (++p->gen == 0) { /* wrapped: every stored generation is stale */
		memset(p->set, 0, p->set_cap * sizeof *p->set);
		p->gen = 1;
	}
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

static size_t slot_of(const struct pct *p, int64_t key)
{
	size_t mask = p->set_cap - 1;
	size_t i = (size_t)(((uint64_t)key * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & mask;

	while (p->set[i].gen == p->gen && p->set[i].key != key)
		i = (i + 1) & mask;
	return i;
}

static int set_grow(struct pct *p)
{
	size_t cap = p->set_cap ? p->set_cap * 2 : 64;
	struct prio_slot *old = p->set, *ns = calloc(cap, sizeof *ns);

	if (!ns)
		return -ENOMEM;
	size_t old_cap = p->set_cap;

	p->set = ns;
	p->set_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].gen == p->gen)
			p->set[slot_of(p, old[i].key)] = old[i];
	free(old);
	assert(p->set_n * 2 < p->set_cap);
	return 0;
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
	p->prio_cap = cap;
	return 0;
}

/* A random priority above d that no thread of this run holds. */
static int pct_spawn(void *state, const struct sched_view *v, int tid)
{
	struct pct *p = state;
	int err = 0;

	assert(tid == v->nthreads);
	if ((size_t)tid >= p->prio_cap)
		err = prio_grow(p, (size_t)tid + 1);
	if (!err && (p->set_n + 1) * 2 > p->set_cap)
		err = set_grow(p);
	if (err)
		return err;
	int64_t pr;
	size_t i;

	for (;;) {
		pr = v->opts->pct_depth + (int64_t)(rng_next(v->rng) >> 2);
		i = slot_of(p, pr);
		if (p->set[i].gen != p->gen || p->prio[p->set[i].tid] != pr)
			break;
	}
	if (p->set[i].gen != p->gen)
		p->set_n++;
	p->set[i] = (struct prio_slot){.key = pr, .gen = p->gen, .tid = tid};
	p->prio[tid] = pr;
	assert(p->set_n * 2 <= p->set_cap);
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

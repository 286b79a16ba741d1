/* Source-set DPOR with sleep sets over re-executed runs (sched/dpor.h).
 *
 * The search keeps one node per step of the current schedule: the state
 * before step i (its runnable set, backtrack set, threads explored from
 * it, threads asleep on arrival) and step i itself (thread, footprint,
 * threads it woke, happens-before clock). A run replays nodes [0, prefix)
 * and extends the schedule with fresh nodes, choosing online. Every new
 * step is checked at once against the earlier ones for races (a dependent
 * earlier step of another thread not already ordered before it by other
 * steps); each race adds one initial of the reversed order to the
 * backtrack set of the earlier step's node. Enabling (a step waking or
 * spawning a thread) orders that thread's next step after it: such a pair
 * is never a race, as the woken step could not run first. A thread can
 * only block itself, so no step disables another thread: sleep sets need
 * nothing more than the footprints. */
#include "sched/dpor.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sched/strategy.h"

#define MAXT 64
#define NONE UINT32_MAX
#define SEED (NONE - 1) /* sorig: asleep since the split's prefix ended */

struct node {
	uint64_t enabled;        /* runnable before this step */
	uint64_t bt;             /* backtrack: threads to run from here */
	uint64_t done;           /* threads whose subtree is finished */
	uint64_t sleep;          /* asleep on arrival: covered elsewhere */
	uint32_t tid;            /* the thread of this step in this schedule */
	uint32_t r;              /* its bit in this node's masks (slot_of) */
	uint32_t def;            /* the no-preemption default here, a bit */
	uint32_t prev;           /* the thread of step i-1, or NONE */
	uint32_t prev_r;         /* its bit here if it is runnable, else NONE */
	unsigned cost, pcost;    /* deviations / preemptions before it */
	struct sched_fp fp;      /* this step's footprint */
	uint64_t woke;
	uint32_t tidx;           /* 1-based index among its thread's steps */
	uint32_t enabler;        /* the step that made it runnable, or NONE */
	struct sched_fp *dfp;    /* footprints of explored threads, [MAXT] */
	uint32_t nbr;            /* branching points (two awake) in [0, i) */
	/* Not cleared for a fresh node (fresh()): vc and cnt are written for
	 * every thread seen so far before they are read, and are 0 for the
	 * others (no such thread ever ran); sorig[r] is written with r's
	 * sleep bit. */
	uint32_t vc[MAXT];       /* happens-before clock of this step */
	uint32_t cnt[MAXT];      /* steps per thread in [0, i] */
	uint32_t sorig[MAXT];    /* asleep r: the node whose dfp[r] holds its fp */
};

struct dpor {
	struct dpor_opts o;
	struct dpor_stats *st;
	struct node *n;
	/* key[k]: step k's thread << 32 | its tidx, beside the nodes so that
	 * the race scan over earlier steps reads 8 bytes a step, not a node */
	uint64_t *key;
	uint32_t *pc;            /* the split's enumeration: a prefix's choices */
	struct sched_fp *bfp;    /* and its sleepers' footprints, [MAXT] */
	struct sched_fp seed[MAXT]; /* o.prefix_sfp by thread id */
	size_t nn, cap;          /* nodes of the current schedule */
	size_t prefix;           /* [0, prefix) replayed; prefix-1 is new */
	size_t steps;            /* steps reported in this run */
	int cut, err;
	int nthreads;            /* highest tid + 1 seen */
	uint32_t last_pos[MAXT]; /* this run: each thread's latest step */
	uint32_t enabler[MAXT];  /* this run: who woke it since its last step */
	double est_sum;
	uint64_t est_n;
	struct sched_explorer ex;
};

/* A thread id >= 64 (or NONE, or lowest()'s -1 for an empty mask) is in
 * no mask: such runs are reported as not represented, and a shift by 64
 * or more would be undefined. */
static uint64_t bit(uint32_t t)
{
	return t < 64 ? UINT64_C(1) << t : 0;
}

static int lowest(uint64_t m)
{
	return m ? __builtin_ctzll(m) : -1;
}

/* A thread's bit in a node's masks. With the reduction, its id: clocks
 * and sleep sets name a thread across nodes. Without, its rank among the
 * runnable ones: a plain node's masks only ever name its own runnable set
 * (done, enabled), so a handler that spawns a thread per retry runs past
 * id 63 and is still searched in full while at most 64 can run at once.
 * NONE: not runnable (plain) or no bit (an id >= 64, reduced). */
static uint32_t slot_of(const struct dpor *d, const struct sched_view *v, uint32_t tid)
{
	if (d->o.reduce)
		return tid < MAXT ? tid : NONE;
	int lo = 0, hi = v->nrunnable;
	while (lo < hi) { /* the runnable ids ascend (sched/strategy.h) */
		int mid = lo + (hi - lo) / 2;
		if ((uint32_t)v->runnable[mid] < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->nrunnable && (uint32_t)v->runnable[lo] == tid && lo < MAXT ? (uint32_t)lo
										    : NONE;
}

/* The thread behind bit r of a node whose runnable set v shows, or NONE. */
static uint32_t tid_at(const struct dpor *d, const struct sched_view *v, uint32_t r)
{
	if (d->o.reduce)
		return r;
	return r < (uint32_t)v->nrunnable ? (uint32_t)v->runnable[r] : NONE;
}

/* Whether choosing bit q at node i stays within the bounds. */
static int fits(const struct dpor *d, const struct node *x, uint32_t q)
{
	int preempt = x->prev_r != NONE && q != x->prev_r;
	if (d->o.delay_bounded && x->cost + (q != x->def) > d->o.delay_bound)
		return 0;
	if (d->o.preempt_bounded && x->pcost + (unsigned)preempt > d->o.preempt_bound)
		return 0;
	return 1;
}

static int grow(struct dpor *d, size_t want)
{
	if (want <= d->cap)
		return 0;
	size_t nc = d->cap ? d->cap * 2 : 256;
	while (nc < want)
		nc *= 2;
	struct node *n = realloc(d->n, nc * sizeof *n);
	if (!n)
		return -ENOMEM;
	memset(n + d->cap, 0, (nc - d->cap) * sizeof *n);
	d->n = n;
	uint64_t *key = realloc(d->key, nc * sizeof *key);
	if (!key)
		return -ENOMEM;
	d->key = key;
	uint32_t *pc = realloc(d->pc, nc * sizeof *pc);
	if (!pc)
		return -ENOMEM;
	d->pc = pc;
	d->cap = nc;
	return 0;
}

/* The footprint of thread r's next step at node i, r asleep or done. */
static const struct sched_fp *sleeper_fp(const struct dpor *d, size_t i, uint32_t r)
{
	const struct node *x = &d->n[i];
	if (!(x->done & bit(r)) && x->sorig[r] == SEED)
		return &d->seed[r];
	size_t o = (x->done & bit(r)) ? i : x->sorig[r];
	assert(o <= i && d->n[o].dfp && (d->n[o].done & bit(r)));
	return &d->n[o].dfp[r];
}

/* Who sleeps on arrival at fresh node i: those asleep at or explored
 * from i-1 whose next step commutes with step i-1. */
static void inherit_sleep(struct dpor *d, size_t i)
{
	struct node *x = &d->n[i], *p = &d->n[i - 1];
	uint64_t cand = (p->sleep | p->done) & ~bit(p->tid);
	for (uint64_t m = cand; m; m &= m - 1) {
		uint32_t r = (uint32_t)lowest(m);
		if (sched_fp_conflict(sleeper_fp(d, i - 1, r), &p->fp))
			continue;
		x->sleep |= bit(r);
		x->sorig[r] = (p->done & bit(r)) ? (uint32_t)(i - 1) : p->sorig[r];
	}
	/* only a thread itself blocks: a sleeper is still runnable */
	assert((x->sleep & ~x->enabled) == 0);
}

/* The first node past a split's prefix: the sleepers the enumeration
 * found there, their footprints kept by id for sleeper_fp(). */
static void seed_prefix(struct dpor *d, struct node *x)
{
	x->nbr = d->o.prefix_depth;
	size_t k = 0;
	for (uint64_t m = d->o.prefix_sleep; m; m &= m - 1, k++) {
		uint32_t r = (uint32_t)lowest(m);
		d->seed[r] = d->o.prefix_sfp[k];
		x->sorig[r] = SEED;
	}
	x->sleep |= d->o.prefix_sleep;
	/* the same state as where the enumeration saw them runnable */
	assert((x->sleep & ~x->enabled) == 0);
}

/* The split's enumeration reached its depth at node i: hand the prefix
 * [0, i) and its sleepers to on_prefix and cut the run, unless every
 * thread sleeps there (pruned: its schedules are run elsewhere). */
static int boundary(struct dpor *d, size_t i)
{
	const struct node *x = &d->n[i];
	d->cut = 1;
	d->nn = i;
	if (!(x->enabled & ~x->sleep)) {
		d->st->pruned++;
		return -1;
	}
	for (size_t k = 0; k < i; k++)
		d->pc[k] = d->n[k].tid;
	for (uint64_t m = x->sleep; m; m &= m - 1)
		d->bfp[lowest(m)] = *sleeper_fp(d, i, (uint32_t)lowest(m));
	int e = d->o.on_prefix(d->o.prefix_ctx, d->pc, i, x->sleep, d->bfp, x->cost, x->pcost, 0);
	if (e)
		d->err = e;
	return -1;
}

static uint64_t mask_of(struct dpor *d, const struct sched_view *v)
{
	if (!d->o.reduce) {
		if (v->nrunnable > MAXT)
			d->st->wide = 1;
		return v->nrunnable >= MAXT ? ~UINT64_C(0) : (UINT64_C(1) << v->nrunnable) - 1;
	}
	uint64_t m = 0;
	for (int k = 0; k < v->nrunnable; k++) {
		if (v->runnable[k] >= MAXT)
			d->st->wide = 1;
		else
			m |= bit((uint32_t)v->runnable[k]);
	}
	return m;
}

/* A fresh node i: its sets, bounds, and the thread it runs first; -1 when
 * every runnable thread is asleep or out of bounds (the run is cut). */
static int fresh(struct dpor *d, size_t i, const struct sched_view *v)
{
	if (grow(d, i + 1)) {
		d->err = -ENOMEM;
		return -1;
	}
	struct node *x = &d->n[i];
	if (x->dfp) /* most nodes never had a sibling explored */
		free(x->dfp);
	memset(x, 0, offsetof(struct node, vc));
	x->enabled = mask_of(d, v);
	x->prev = i ? d->n[i - 1].tid : NONE;
	x->prev_r = x->prev == NONE ? NONE : slot_of(d, v, x->prev);
	if (!(x->enabled & bit(x->prev_r)))
		x->prev_r = NONE;
	x->def = x->prev_r != NONE ? x->prev_r : (uint32_t)lowest(x->enabled);
	if (i) {
		const struct node *p = &d->n[i - 1];
		int pre = p->prev_r != NONE && p->r != p->prev_r;
		x->cost = p->cost + (p->r != p->def);
		x->pcost = p->pcost + (unsigned)pre;
		if (d->o.reduce)
			inherit_sleep(d, i);
		x->nbr = p->nbr + (__builtin_popcountll(p->enabled & ~p->sleep) >= 2);
	}
	if (i == d->o.nprefix)
		seed_prefix(d, x);
	d->nn = i + 1;
	if (d->o.split_depth && i >= d->o.nprefix && x->nbr >= d->o.split_depth)
		return boundary(d, i);
	uint64_t awake = x->enabled & ~x->sleep;
	int pick = -1;
	if (i < d->o.nprefix) {
		/* fixed by the split: nothing is explored from here, so nothing sleeps */
		uint32_t t = slot_of(d, v, d->o.prefix[i]);
		assert(x->sleep == 0);
		if (!(x->enabled & bit(t))) {
			d->err = -EPROTO; /* the prefix's run diverged: nondeterminism */
			return -1;
		}
		awake = bit(t);
	}
	if ((awake & bit(x->def)) && fits(d, x, x->def))
		pick = (int)x->def;
	for (uint64_t m = awake; m && pick < 0; m &= m - 1)
		if (fits(d, x, (uint32_t)lowest(m)))
			pick = lowest(m);
	if (pick < 0) {
		d->cut = 1;
		if (awake)
			d->st->bound_cut++;
		else
			d->st->pruned++;
		d->nn = i; /* no step here */
		return -1;
	}
	x->r = (uint32_t)pick;
	x->tid = tid_at(d, v, x->r);
	x->bt = bit(x->r);
	return (int)x->tid;
}

static int ex_choose(void *ctx, const struct sched_view *v)
{
	struct dpor *d = ctx;
	size_t i = (size_t)v->steps;
	if (d->err || d->cut)
		return -1;
	if (i < d->prefix) {
		/* backtrack() set only the bit of node prefix-1: its thread is
		 * named by the runnable set, the same as when the node was new */
		struct node *x = &d->n[i];
		uint32_t t = tid_at(d, v, x->r);
		if (t == NONE || !sched_view_runnable(v, t) ||
		    (!d->o.reduce && x->enabled != mask_of(d, v))) {
			d->err = -EPROTO; /* the replay diverged: nondeterminism */
			return -1;
		}
		x->tid = t;
		return (int)t;
	}
	return fresh(d, i, v);
}

/* The initials of v.p for the race (k, j): v the steps between them that
 * do not happen after k, p step j's thread. A step of v is an initial
 * when no earlier step of v happens before it: its clock names no step
 * after k of another thread (a step after k that happens before it is
 * in v, else it would happen after k itself). */
static uint64_t initials(const struct dpor *d, size_t k, size_t j)
{
	const struct node *nk = &d->n[k], *nj = &d->n[j];
	uint64_t I = 0, seen = 0;
	int p_free = 1;
	for (size_t m = k + 1; m < j; m++) {
		const struct node *x = &d->n[m];
		if (x->vc[nk->tid] >= nk->tidx)
			continue; /* happens after k: not in v */
		if (sched_fp_conflict(&x->fp, &nj->fp) || nj->enabler == m)
			p_free = 0; /* j has a predecessor in v */
		if (seen & bit(x->tid))
			continue;
		seen |= bit(x->tid);
		int first = 1;
		for (int r = 0; r < d->nthreads && first; r++)
			if ((uint32_t)r != x->tid && x->vc[r] > nk->cnt[r])
				first = 0;
		if (first)
			I |= bit(x->tid);
	}
	if (p_free && !(seen & bit(nj->tid)))
		I |= bit(nj->tid);
	return I;
}

/* Race (k, j): make sure some initial of the reversed order is run from
 * node k (the source-set condition), an awake one within bounds first. */
static void on_race(struct dpor *d, size_t k, size_t j)
{
	struct node *x = &d->n[k];
	d->st->races++;
	if (k < d->o.nprefix)
		return; /* the split runs every thread from there (dfs_split.h) */
	uint64_t I = initials(d, k, j) & x->enabled;
	assert(I); /* v's first step, or j itself, is always one */
	if (!I || (I & x->bt))
		return;
	int pick = -1;
	for (uint64_t m = I & ~x->sleep; m && pick < 0; m &= m - 1)
		if (fits(d, x, (uint32_t)lowest(m)))
			pick = lowest(m);
	for (uint64_t m = I & x->sleep; m && pick < 0; m &= m - 1)
		if (fits(d, x, (uint32_t)lowest(m)))
			pick = lowest(m); /* asleep: covered already, as Alg. 1 */
	if (pick < 0) {
		d->st->bound_cut++; /* the reversal needs more than the bound */
		return;
	}
	x->bt |= bit((uint32_t)pick);
}

/* A step that only looked and went to sleep: it ended blocked and wrote
 * nothing but wait queues. Every sched_block() of the model is the body
 * of a `while (!cond) block;` loop whose check is in the same step, so
 * the thread, once woken, redoes exactly what it would have done had its
 * waker run first. The order "waker, then the check" is thus explored by
 * the wake itself: such a step and the step that wakes its thread are
 * not a race (the enabling still orders the woken step after its waker).
 * Against everything else it races as usual: who takes a lock first is
 * the reversal of the failed attempt with the winner's acquisition. */
static int pure_block(const struct sched_fp *f)
{
	if (!f->blocked || f->all)
		return 0;
	for (unsigned i = 0; i < f->n; i++)
		if ((f->wmask >> i & 1) && f->obj[i] >> 56 != SCHED_OC_WAITQ)
			return 0;
	return 1;
}

/* Step j is new: its clock, and its races with every earlier step. */
static void analyse(struct dpor *d, size_t j)
{
	struct node *x = &d->n[j];
	uint32_t C[MAXT];
	size_t nt = (size_t)d->nthreads; /* C[r >= nt] is never read */
	uint32_t pp = d->last_pos[x->tid];
	if (pp != NONE)
		memcpy(C, d->n[pp].vc, nt * sizeof *C);
	else
		memset(C, 0, nt * sizeof *C);
	if (x->enabler != NONE)
		for (int r = 0; r < d->nthreads; r++)
			if (d->n[x->enabler].vc[r] > C[r])
				C[r] = d->n[x->enabler].vc[r];
	/* a step at quiescence (sched_wait_quiet) could run nowhere earlier:
	 * every earlier step happens before it, so it races with none */
	if (x->fp.barrier && j)
		memcpy(C, d->n[j - 1].cnt, nt * sizeof *C);
	/* the threads with an earlier step not yet known to be ordered: a
	 * thread's ordered step orders all its earlier ones, so the scan ends
	 * when none is left (C only grows) */
	uint64_t rem = 0;
	for (size_t r = 0; j && r < nt; r++)
		if (C[r] < d->n[j - 1].cnt[r])
			rem |= bit((uint32_t)r);
	rem &= ~bit(x->tid);
	for (size_t k = j; rem && k-- > 0;) {
		uint64_t key = d->key[k];
		if (C[key >> 32] >= (uint32_t)key) {
			rem &= ~bit((uint32_t)(key >> 32));
			continue; /* ordered already */
		}
		const struct node *y = &d->n[k];
		if (!sched_fp_conflict(&y->fp, &x->fp))
			continue; /* commutes */
		if ((x->woke & bit(y->tid)) && d->last_pos[y->tid] == k && pure_block(&y->fp))
			continue; /* its waker: not a race (pure_block) */
		assert(y->tid != x->tid);
		if (d->o.reduce)
			on_race(d, k, j);
		for (int r = 0; r < d->nthreads; r++)
			if (y->vc[r] > C[r])
				C[r] = y->vc[r];
	}
	C[x->tid] = x->tidx;
	/* entries from nthreads on are 0 in every node: no such thread ran */
	memcpy(x->vc, C, nt * sizeof *C);
}

static void ex_step(void *ctx, uint64_t step, int tid, const struct sched_fp *fp,
		    uint64_t woke, int wide)
{
	struct dpor *d = ctx;
	size_t j = (size_t)step;
	if (d->err)
		return;
	assert(j == d->steps && j < d->nn && tid >= 0);
	d->steps++;
	struct node *x = &d->n[j];
	if (!d->o.reduce) { /* no clocks, no sleep sets: nothing per thread */
		assert(j + 1 >= d->prefix || x->tid == (uint32_t)tid);
		return;
	}
	d->st->wide |= wide || tid >= MAXT;
	if (tid >= MAXT) {
		d->err = -E2BIG;
		return;
	}
	if (tid >= d->nthreads)
		d->nthreads = tid + 1;
	if (j + 1 < d->prefix) { /* replayed: the same step as before */
		assert(x->tid == (uint32_t)tid && x->fp.n == fp->n && x->woke == woke);
	} else {
		x->fp = *fp;
		x->woke = woke;
		x->enabler = d->enabler[tid];
		uint32_t pp = d->last_pos[tid];
		x->tidx = pp == NONE ? 1 : d->n[pp].tidx + 1;
		d->key[j] = (uint64_t)tid << 32 | x->tidx;
		if (j)
			memcpy(x->cnt, d->n[j - 1].cnt, (size_t)d->nthreads * sizeof *x->cnt);
		else
			memset(x->cnt, 0, (size_t)d->nthreads * sizeof *x->cnt);
		x->cnt[tid]++;
		/* the clocks serve only the races; the split's enumeration
		 * runs every awake thread, so it has none to find */
		if (d->o.reduce && !d->o.split_depth)
			analyse(d, j);
	}
	d->last_pos[tid] = (uint32_t)j;
	d->enabler[tid] = NONE;
	for (uint64_t m = woke; m; m &= m - 1)
		d->enabler[lowest(m)] = (uint32_t)j;
}

int dpor_run_cut(const struct sched_explorer *ex)
{
	const struct dpor *d = ex->ctx;
	return d->cut;
}

/* Knuth's estimate of the tree from this path: the product of the
 * branching of every node on it, averaged over the runs so far. */
static void estimate(struct dpor *d)
{
	double e = 1;
	for (size_t i = 0; i < d->nn && e < 1e300; i++) {
		const struct node *x = &d->n[i];
		uint64_t b = (d->o.reduce ? x->bt : x->enabled) | x->done | bit(x->r);
		e *= (double)__builtin_popcountll((b & ~x->sleep) | bit(x->r));
	}
	d->est_sum += e;
	d->est_n++;
	double mean = d->est_sum / (double)d->est_n;
	d->st->estimate = mean > (double)d->st->runs ? mean : (double)d->st->runs;
}

/* Mark node i's thread explored, keeping its footprint for the sleep
 * sets of the siblings. 0 or -ENOMEM. */
static int mark_done(struct dpor *d, size_t i)
{
	struct node *x = &d->n[i];
	if (d->o.reduce) {
		if (!x->dfp && !(x->dfp = malloc(MAXT * sizeof *x->dfp)))
			return -ENOMEM;
		x->dfp[x->tid] = x->fp;
	}
	x->done |= bit(x->r);
	return 0;
}

/* The deepest node with a thread left to run: make it the new last step
 * of the prefix. 1 found, 0 the search is over, -errno. */
static int backtrack(struct dpor *d)
{
	for (size_t i = d->nn; i-- > d->o.nprefix;) {
		struct node *x = &d->n[i];
		int e = mark_done(d, i);
		if (e)
			return e;
		uint64_t todo = (d->o.reduce && !d->o.split_depth ? x->bt : x->enabled) &
				x->enabled & ~x->done & ~x->sleep;
		for (uint64_t m = todo; m; m &= m - 1) {
			uint32_t q = (uint32_t)lowest(m);
			if (!fits(d, x, q))
				continue;
			x->r = q;
			x->tid = d->o.reduce ? q : NONE; /* ex_choose names it */
			x->bt |= bit(q);
			d->nn = d->prefix = i + 1;
			return 1;
		}
		free(x->dfp);
		x->dfp = NULL;
	}
	d->nn = d->prefix = 0;
	return 0;
}

static int keep_fail(struct dpor *d, uint32_t **fail, size_t *nfail)
{
	if (*fail)
		return 0;
	*fail = malloc((d->steps ? d->steps : 1) * sizeof **fail);
	if (!*fail)
		return -ENOMEM;
	for (size_t i = 0; i < d->steps; i++)
		(*fail)[i] = d->n[i].tid;
	*nfail = d->steps;
	return 0;
}

/* A run of the split's enumeration that ended before its depth. */
static int leaf(struct dpor *d)
{
	for (size_t k = 0; k < d->nn; k++)
		d->pc[k] = d->n[k].tid;
	const struct node *x = d->nn ? &d->n[d->nn - 1] : NULL;
	return d->o.on_prefix(d->o.prefix_ctx, d->pc, d->nn, 0, d->bfp, x ? x->cost : 0,
			      x ? x->pcost : 0, 1);
}

/* One run: 1 failed, 0 not (or cut), -errno. */
static int one_run(struct dpor *d, dpor_test test, void *ctx)
{
	d->steps = 0;
	d->cut = 0;
	for (int t = 0; t < MAXT; t++)
		d->last_pos[t] = d->enabler[t] = NONE;
	int r = test(ctx, &d->ex);
	d->st->runs++;
	d->st->steps += d->steps;
	if (d->err)
		return d->err;
	if (r < 0)
		return r;
	if (!d->cut && d->steps < d->o.nprefix)
		return -EPROTO; /* it ended inside the prefix its run went past */
	/* a run ends after its last step: no node past it */
	assert(d->cut || d->nn == d->steps);
	d->nn = d->steps;
	if (d->nn > d->st->max_depth)
		d->st->max_depth = d->nn;
	if (!d->cut)
		estimate(d);
	if (d->o.split_depth) /* the enumeration: no verdicts; a leaf */
		return d->cut ? 0 : leaf(d);
	return d->cut ? 0 : r;
}

static int search(struct dpor *d, dpor_test test, void *ctx, uint32_t **fail,
		  size_t *nfail)
{
	int failed = 0;
	for (;;) {
		if (d->o.max_runs && d->st->runs >= d->o.max_runs) {
			d->st->stopped = 1;
			return failed;
		}
		int r = one_run(d, test, ctx);
		if (r < 0)
			return r;
		if (r == 1) {
			d->st->failures++;
			failed = 1;
			if (keep_fail(d, fail, nfail))
				return -ENOMEM;
			if (!d->o.keep_going)
				return 1;
		}
		if (d->o.progress && d->o.progress(d->o.progress_ctx, d->st)) {
			d->st->stopped = 1;
			return failed;
		}
		int b = backtrack(d);
		if (b < 0)
			return b;
		if (b == 0) {
			d->st->exhausted = !d->st->wide;
			return failed;
		}
	}
}

int dpor_run(const struct dpor_opts *o, dpor_test test, void *ctx,
	     struct dpor_stats *st, uint32_t **fail, size_t *nfail)
{
	memset(st, 0, sizeof *st);
	*fail = NULL;
	*nfail = 0;
	struct dpor *d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	d->o = *o;
	d->st = st;
	d->ex = (struct sched_explorer){.ctx = d, .step = ex_step, .choose = ex_choose};
	/* the enumeration keeps sleep sets: it needs the reduction's footprints */
	assert(!o->split_depth || (o->reduce && o->on_prefix));
	int r = 0;
	if (o->split_depth && !(d->bfp = malloc(MAXT * sizeof *d->bfp)))
		r = -ENOMEM;
	if (!r)
		r = search(d, test, ctx, fail, nfail);
	for (size_t i = 0; i < d->cap; i++)
		free(d->n[i].dfp);
	free(d->n);
	free(d->key);
	free(d->pc);
	free(d->bfp);
	free(d);
	assert(r != 1 || *fail);
	if (r < 0) {
		free(*fail);
		*fail = NULL;
		*nfail = 0;
	}
	return r;
}

/* The prefixes of a split dfs (sched/dfs_split.h), level by level: a
 * level's prefixes each run once, guided, to find their next branching
 * point, and become its children there, in the order of the level. The
 * reduced split's levels come from sched/dpor.c run from each prefix one
 * branching point deeper (o.split_depth), so that its children inherit
 * the sleep sets the sequential search would have had there. */
#include "sched/dfs_split.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct plist {
	struct dfs_prefix *p;
	size_t n, cap;
};

static void plist_free(struct plist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->p[i].c);
		free(l->p[i].sfp);
	}
	free(l->p);
	memset(l, 0, sizeof *l);
}

/* Append a prefix of c[0..n) with its last choice t. 0 or -ENOMEM. */
static int push(struct plist *l, const uint32_t *c, size_t n, uint32_t t, unsigned cost,
		unsigned pcost, int leaf)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct dfs_prefix *p = realloc(l->p, nc * sizeof *p);
		if (!p)
			return -ENOMEM;
		l->p = p;
		l->cap = nc;
	}
	uint32_t *cc = malloc((n ? n : 1) * sizeof *cc);
	if (!cc)
		return -ENOMEM;
	if (n) {
		memcpy(cc, c, (n - 1) * sizeof *cc);
		cc[n - 1] = t;
	}
	l->p[l->n++] = (struct dfs_prefix){.c = cc, .n = n, .cost = cost, .pcost = pcost, .leaf = leaf};
	return 0;
}

static int fits(const struct dfs_split_opts *o, unsigned cost, unsigned pcost)
{
	return !(o->delay_bounded && cost > o->delay_bound) &&
	       !(o->preempt_bounded && pcost > o->preempt_bound);
}

/* The children of prefix p into out (p itself again when it is a leaf). */
static int expand(const struct dfs_split_opts *o, dfs_test test, void *ctx,
		  const struct dfs_prefix *p, struct plist *out, struct dfs_split *s)
{
	if (p->leaf)
		return push(out, p->c, p->n, p->n ? p->c[p->n - 1] : 0, p->cost, p->pcost, 1);
	const uint32_t *c;
	const uint64_t *m;
	size_t n;
	int wide = 0;
	int r = test(ctx, p->c, p->n, &c, &m, &n, &wide);
	s->runs++;
	s->wide |= wide;
	if (r < 0)
		return r;
	/* the run replays its prefix, then takes the default */
	assert(n >= p->n && (p->n == 0 || c[p->n - 1] == p->c[p->n - 1]));
	size_t j = p->n;
	while (j < n && __builtin_popcountll(m[j]) < 2)
		j++;
	if (j == n) /* no branch left: the run is the prefix's only schedule */
		return push(out, p->c, p->n, p->n ? p->c[p->n - 1] : 0, p->cost, p->pcost, 1);
	uint32_t prev = j ? c[j - 1] : NONE;
	int prev_runs = prev < 64 && (m[j] >> prev & 1);
	uint32_t def = prev_runs ? prev : (uint32_t)__builtin_ctzll(m[j]);
	assert(c[j] == def); /* the guided run took the default here */
	for (uint32_t t = 0; t < 64; t++) {
		if (!(m[j] >> t & 1))
			continue;
		unsigned cost = p->cost + (t != def);
		unsigned pcost = p->pcost + (unsigned)(prev_runs && t != prev);
		if (!fits(o, cost, pcost))
			continue;
		int e = push(out, c, j + 1, t, cost, pcost, 0);
		if (e)
			return e;
	}
	return 0;
}

/* The schedules within the bounds that prefix p's subtree would hold if
 * every deviation kept the default run's branching (c, m, n: that run):
 * a count of ways to deviate at <= the budget left of its branch points.
 * An estimate, only to decide which prefix to split further: the
 * delay-bounded tree is lopsided (the prefix that never deviated keeps
 * the whole budget), and the split should not leave one worker most of
 * it. Unbounded: 0, nothing to refine. */
static double weight(const struct dfs_split_opts *o, const struct dfs_prefix *p,
		     const uint32_t *c, const uint64_t *m, size_t n)
{
	unsigned used = o->delay_bounded ? p->cost : p->pcost;
	unsigned bound = o->delay_bounded ? o->delay_bound : o->preempt_bound;
	if ((!o->delay_bounded && !o->preempt_bounded) || used > bound)
		return 0;
	unsigned left = bound - used;
	double e[65] = {1}; /* e[t]: ways with t deviations (budget <= 64) */
	if (left > 64)
		left = 64;
	for (size_t j = p->n; j < n; j++) {
		int k = __builtin_popcountll(m[j]);
		if (k < 2)
			continue;
		int prev_runs = j && c[j - 1] < 64 && (m[j] >> c[j - 1] & 1);
		if (!o->delay_bounded && !prev_runs) {
			for (unsigned t = 0; t <= left; t++)
				e[t] *= k; /* no preemption to choose another */
			continue;
		}
		for (unsigned t = left; t > 0; t--)
			e[t] += e[t - 1] * (k - 1);
	}
	double w = 0;
	for (unsigned t = 0; t <= left; t++)
		w += e[t];
	return w < 1e300 ? w : 1e300;
}

/* Prefix p's children one branching point deeper into out (p itself
 * again when it is a leaf): expand() or, reduced, dpor_expand(). */
typedef int (*expand_fn)(void *ectx, const struct dfs_prefix *p, struct plist *out,
			 struct dfs_split *s);

/* One level more: 1 taken, 0 not (no prefix branches, or too many), -errno. */
static int level(expand_fn ex, void *ectx, struct plist *cur, struct dfs_split *s)
{
	struct plist next = {0};
	int branched = 0;
	for (size_t i = 0; i < cur->n; i++) {
		int e = ex(ectx, &cur->p[i], &next, s);
		if (e) {
			plist_free(&next);
			return e;
		}
		branched |= !cur->p[i].leaf;
		if (next.n > DFS_SPLIT_MAX) {
			plist_free(&next);
			return 0;
		}
	}
	plist_free(cur);
	*cur = next;
	return branched;
}

/* Levels from the root until `want` prefixes, depth maxd or all leaves. */
static int levels(expand_fn ex, void *ectx, size_t want, unsigned maxd, struct plist *cur,
		  struct dfs_split *s)
{
	int e = push(cur, NULL, 0, 0, 0, 0, 0);
	while (!e && cur->n && cur->n < want && s->depth < maxd) {
		int all_leaves = 1;
		for (size_t i = 0; i < cur->n; i++)
			all_leaves &= cur->p[i].leaf;
		if (all_leaves)
			break;
		e = level(ex, ectx, cur, s);
		if (e == 1) {
			s->depth++;
			e = 0;
		} else if (e == 0) {
			break;
		}
	}
	return e;
}

/* The weight of prefix p (weight()), from one guided run of it. */
static int probe(const struct dfs_split_opts *o, dfs_test test, void *ctx,
		 const struct dfs_prefix *p, struct dfs_split *s, double *w)
{
	const uint32_t *c;
	const uint64_t *m;
	size_t n;
	int wide = 0;
	if (p->leaf) {
		*w = 1;
		return 0;
	}
	int r = test(ctx, p->c, p->n, &c, &m, &n, &wide);
	s->runs++;
	s->wide |= wide;
	if (r < 0)
		return r;
	*w = weight(o, p, c, m, n);
	return 0;
}

/* Replace prefix i of cur by its children, their weights into w. */
static int split_one(const struct dfs_split_opts *o, dfs_test test, void *ctx,
		     struct plist *cur, double **w, size_t i, struct dfs_split *s)
{
	struct plist kids = {0}, next = {0};
	int e = expand(o, test, ctx, &cur->p[i], &kids, s);
	double *nw = e ? NULL : malloc((cur->n + kids.n) * sizeof *nw);
	for (size_t k = 0; !e && k < cur->n + kids.n - 1; k++) {
		const struct dfs_prefix *q = k < i ? &cur->p[k] : k < i + kids.n ?
			&kids.p[k - i] : &cur->p[k - kids.n + 1];
		e = !nw ? -ENOMEM : push(&next, q->c, q->n, q->n ? q->c[q->n - 1] : 0, q->cost,
					 q->pcost, q->leaf);
		if (!e)
			e = k < i ? (nw[k] = (*w)[k], 0) : k < i + kids.n ?
				probe(o, test, ctx, q, s, &nw[k]) : (nw[k] = (*w)[k - kids.n + 1], 0);
	}
	plist_free(&kids);
	if (e) {
		plist_free(&next);
		free(nw);
		return e;
	}
	plist_free(cur);
	*cur = next;
	free(*w);
	*w = nw;
	return 0;
}

/* A bounded search: split the heaviest prefix (weight()) again while it
 * holds more than 1/want of the estimated whole. */
static int refine(const struct dfs_split_opts *o, dfs_test test, void *ctx, struct plist *cur,
		  size_t want, struct dfs_split *s)
{
	if (!o->refine || (!o->delay_bounded && !o->preempt_bounded))
		return 0;
	double *w = malloc((cur->n + 1) * sizeof *w);
	int e = w ? 0 : -ENOMEM;
	for (size_t i = 0; !e && i < cur->n; i++)
		e = probe(o, test, ctx, &cur->p[i], s, &w[i]);
	while (!e && s->refined < DFS_SPLIT_REFINE && cur->n < DFS_SPLIT_REFINE_MAX) {
		double total = 0;
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < cur->n; i++) {
			total += w[i];
			if (!cur->p[i].leaf && (best == SIZE_MAX || w[i] > w[best]))
				best = i;
		}
		if (best == SIZE_MAX || w[best] * (double)want <= total)
			break;
		e = split_one(o, test, ctx, cur, &w, best, s);
		s->refined++;
	}
	free(w);
	return e;
}

/* The prefixes to s, or (e < 0) freed: 0 or e. */
static int hand_over(struct plist *cur, int e, struct dfs_split *s)
{
	if (e < 0) {
		plist_free(cur);
		return e;
	}
	s->p = cur->p;
	s->n = cur->n;
	return 0;
}

struct plain {
	const struct dfs_split_opts *o;
	dfs_test test;
	void *ctx;
};

static int plain_expand(void *ectx, const struct dfs_prefix *p, struct plist *out,
			struct dfs_split *s)
{
	const struct plain *c = ectx;
	return expand(c->o, c->test, c->ctx, p, out, s);
}

int dfs_split_build(const struct dfs_split_opts *o, dfs_test test, void *ctx,
		    struct dfs_split *s)
{
	memset(s, 0, sizeof *s);
	size_t want = o->min_prefixes ? o->min_prefixes : DFS_SPLIT_MIN;
	unsigned maxd = o->max_depth ? o->max_depth : DFS_SPLIT_DEPTH;
	struct plist cur = {0};
	int e = levels(plain_expand, &(struct plain){o, test, ctx}, want, maxd, &cur, s);
	if (e >= 0)
		e = refine(o, test, ctx, &cur, want, s);
	return hand_over(&cur, e, s);
}

/* --- the reduced split: sched/dpor.c enumerates its own prefixes ---- */

struct asleep {
	struct plist *l;
	unsigned depth;          /* of the prefixes being pushed */
};

/* dpor's on_prefix: append the prefix with its sleepers, compacted. */
static int push_asleep(void *ctx, const uint32_t *c, size_t n, uint64_t sleep,
		       const struct sched_fp *fps, unsigned cost, unsigned pcost, int leaf)
{
	const struct asleep *a = ctx;
	int ns = __builtin_popcountll(sleep);
	struct sched_fp *sf = ns ? malloc((size_t)ns * sizeof *sf) : NULL;
	if (ns && !sf)
		return -ENOMEM;
	int k = 0;
	for (uint64_t m = sleep; m; m &= m - 1)
		sf[k++] = fps[__builtin_ctzll(m)];
	int e = push(a->l, c, n, n ? c[n - 1] : 0, cost, pcost, leaf);
	if (e) {
		free(sf);
		return e;
	}
	struct dfs_prefix *p = &a->l->p[a->l->n - 1];
	p->sleep = sleep;
	p->sfp = sf;
	p->depth = leaf ? 0 : a->depth;
	return 0;
}

struct reduced {
	const struct dpor_opts *base;
	dpor_test test;
	void *ctx;
};

/* Prefix p's children, by dpor.c run one branching point deeper from
 * p's end with p's sleepers (o.split_depth). */
static int dpor_expand(void *ectx, const struct dfs_prefix *p, struct plist *out,
		       struct dfs_split *s)
{
	const struct reduced *c = ectx;
	if (p->leaf)
		return push(out, p->c, p->n, p->n ? p->c[p->n - 1] : 0, p->cost, p->pcost, 1);
	struct dpor_opts o = *c->base;
	o.reduce = 1;
	o.max_runs = 0;
	o.progress = NULL;
	o.prefix = p->c;
	o.nprefix = p->n;
	o.prefix_sleep = p->sleep;
	o.prefix_sfp = p->sfp;
	o.prefix_depth = p->depth;
	o.split_depth = s->depth + 1;
	o.on_prefix = push_asleep;
	o.prefix_ctx = &(struct asleep){out, s->depth + 1};
	struct dpor_stats st;
	uint32_t *fail;
	size_t nfail;
	int r = dpor_run(&o, c->test, c->ctx, &st, &fail, &nfail);
	free(fail);
	s->runs += st.runs;
	s->pruned += st.pruned;
	s->wide |= st.wide;
	return r < 0 ? r : 0;
}

int dpor_split_build(const struct dpor_opts *base, size_t min_prefixes, unsigned max_depth,
		     dpor_test test, void *ctx, struct dfs_split *s)
{
	memset(s, 0, sizeof *s);
	size_t want = min_prefixes ? min_prefixes : DFS_SPLIT_MIN;
	unsigned maxd = max_depth ? max_depth : DFS_SPLIT_DEPTH;
	struct plist cur = {0};
	int e = levels(dpor_expand, &(struct reduced){base, test, ctx}, want, maxd, &cur, s);
	return hand_over(&cur, e, s);
}

void dfs_split_free(struct dfs_split *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->p[i].c);
		free(s->p[i].sfp);
	}
	free(s->p);
	memset(s, 0, sizeof *s);
}

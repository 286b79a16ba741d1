/* The prefixes of a reduced split dfs (sched/dfs_split.h,
 * dpor_split_build): level by level, each prefix of a level enumerated
 * one branching point deeper by sched/dpor.c itself (o.split_depth), so
 * that its children inherit the sleep sets that the sequential search
 * would have had there. */
#include "sched/dfs_split.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct level {
	struct dfs_prefix *p;
	size_t n, cap;
	unsigned depth;          /* of the prefixes being pushed */
};

static void level_free(struct level *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->p[i].c);
		free(l->p[i].sfp);
	}
	free(l->p);
	memset(l, 0, sizeof *l);
}

/* dpor's on_prefix: append the prefix, its sleepers compacted. */
static int push(void *ctx, const uint32_t *c, size_t n, uint64_t sleep,
		const struct sched_fp *fps, unsigned cost, unsigned pcost, int leaf)
{
	struct level *l = ctx;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct dfs_prefix *p = realloc(l->p, nc * sizeof *p);
		if (!p)
			return -ENOMEM;
		l->p = p;
		l->cap = nc;
	}
	int ns = __builtin_popcountll(sleep);
	uint32_t *cc = malloc((n ? n : 1) * sizeof *cc);
	struct sched_fp *sf = ns ? malloc((size_t)ns * sizeof *sf) : NULL;
	if (!cc || (ns && !sf)) {
		free(cc);
		free(sf);
		return -ENOMEM;
	}
	if (n)
		memcpy(cc, c, n * sizeof *cc);
	int k = 0;
	for (uint64_t m = sleep; m; m &= m - 1)
		sf[k++] = fps[__builtin_ctzll(m)];
	l->p[l->n++] = (struct dfs_prefix){.c = cc, .n = n, .cost = cost, .pcost = pcost,
					   .leaf = leaf, .sleep = sleep, .sfp = sf,
					   .depth = leaf ? 0 : l->depth};
	return 0;
}

/* Prefix p's children one branching point deeper into next (p itself
 * again when it is a leaf). */
static int expand(const struct dpor_opts *base, dpor_test test, void *ctx,
		  const struct dfs_prefix *p, struct level *next, struct dfs_split *s)
{
	if (p->leaf)
		return push(next, p->c, p->n, 0, NULL, p->cost, p->pcost, 1);
	struct dpor_opts o = *base;
	o.reduce = 1;
	o.max_runs = 0;
	o.keep_going = 1;
	o.progress = NULL;
	o.prefix = p->c;
	o.nprefix = p->n;
	o.prefix_sleep = p->sleep;
	o.prefix_sfp = p->sfp;
	o.prefix_depth = p->depth;
	o.split_depth = next->depth;
	o.on_prefix = push;
	o.prefix_ctx = next;
	struct dpor_stats st;
	uint32_t *fail;
	size_t nfail;
	int r = dpor_run(&o, test, ctx, &st, &fail, &nfail);
	free(fail);
	s->runs += st.runs;
	s->pruned += st.pruned;
	s->wide |= st.wide;
	return r < 0 ? r : 0;
}

/* One level more: 1 taken, 0 not (no prefix branched, or too many),
 * -errno. */
static int deeper(const struct dpor_opts *base, dpor_test test, void *ctx,
		  struct level *cur, struct dfs_split *s)
{
	struct level next = {.depth = s->depth + 1};
	int branched = 0;
	for (size_t i = 0; i < cur->n; i++) {
		int e = expand(base, test, ctx, &cur->p[i], &next, s);
		if (e) {
			level_free(&next);
			return e;
		}
		branched |= !cur->p[i].leaf;
		if (next.n > DFS_SPLIT_MAX) {
			level_free(&next);
			return 0;
		}
	}
	if (!branched) {
		level_free(&next);
		return 0;
	}
	level_free(cur);
	*cur = next;
	return 1;
}

int dpor_split_build(const struct dpor_opts *base, size_t min_prefixes, unsigned max_depth,
		     dpor_test test, void *ctx, struct dfs_split *s)
{
	memset(s, 0, sizeof *s);
	size_t want = min_prefixes ? min_prefixes : DFS_SPLIT_MIN;
	unsigned maxd = max_depth ? max_depth : DFS_SPLIT_DEPTH;
	struct level cur = {0};
	int e = push(&cur, NULL, 0, 0, NULL, 0, 0, 0);
	while (!e && cur.n < want && s->depth < maxd) {
		e = deeper(base, test, ctx, &cur, s);
		if (e == 1) {
			s->depth++;
			e = 0;
		} else if (e == 0) {
			break;
		}
	}
	if (e < 0) {
		level_free(&cur);
		return e;
	}
	s->p = cur.p;
	s->n = cur.n;
	return 0;
}

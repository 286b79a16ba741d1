/* Delay-bounded stateless DFS: a node is a prefix ending in a deviation;
 * its children deviate at a later step. Recursion depth <= bound + 1. */
#include "sched/dfs.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct dfs {
	unsigned bound;
	uint64_t max_runs;
	dfs_test test;
	void *ctx;
	struct dfs_stats *st;
	uint32_t **fail;
	size_t *nfail;
	int stopped;
};

static int node(struct dfs *d, const uint32_t *prefix, size_t p, unsigned used)
{
	const uint32_t *c;
	const uint64_t *m;
	size_t n;
	int wide = 0;
	if (d->st->runs >= d->max_runs) {
		d->stopped = 1;
		return 0;
	}
	assert(used <= d->bound && (p == 0 || prefix));
	int r = d->test(d->ctx, prefix, p, &c, &m, &n, &wide);
	/* a run is deterministic: it replays its prefix, deviation included
	 * (the parent ran every step before it without failing) */
	assert(r < 0 || (n >= p && (p == 0 || c[p - 1] == prefix[p - 1])));
	d->st->runs++;
	d->st->steps += n;
	d->st->wide |= wide;
	if (r < 0)
		return r;
	if (r == 1) {
		*d->fail = malloc((n ? n : 1) * sizeof **d->fail);
		if (!*d->fail)
			return -ENOMEM;
		memcpy(*d->fail, c, n * sizeof **d->fail);
		*d->nfail = n;
		return 1;
	}
	if (used == d->bound)
		return 0;
	/* the callee's buffers die with the next run: keep copies */
	uint32_t *cc = malloc((n + 1) * sizeof *cc);
	uint64_t *mm = malloc((n + 1) * sizeof *mm);
	if (!cc || !mm) {
		free(cc);
		free(mm);
		return -ENOMEM;
	}
	memcpy(cc, c, n * sizeof *cc);
	memcpy(mm, m, n * sizeof *mm);
	int ret = 0;
	for (size_t j = p; j < n && !ret && !d->stopped; j++) {
		/* the thread that ran step j was runnable then */
		assert(cc[j] >= 64 || (mm[j] >> cc[j] & 1));
		for (uint32_t t = 0; t < 64 && !ret && !d->stopped; t++) {
			if (!(mm[j] >> t & 1) || t == cc[j])
				continue;
			uint32_t keep = cc[j];
			cc[j] = t; /* child prefix: cc[0..j] with the deviation */
			ret = node(d, cc, j + 1, used + 1);
			cc[j] = keep;
			assert(cc[j] == keep);
		}
	}
	free(cc);
	free(mm);
	return ret;
}

int dfs_run(unsigned bound, uint64_t max_runs, dfs_test test, void *ctx,
	    struct dfs_stats *st, uint32_t **fail, size_t *nfail)
{
	return dfs_run_from(NULL, 0, 0, bound, max_runs, test, ctx, st, fail, nfail);
}

int dfs_run_from(const uint32_t *prefix, size_t n, unsigned used, unsigned bound,
		 uint64_t max_runs, dfs_test test, void *ctx, struct dfs_stats *st,
		 uint32_t **fail, size_t *nfail)
{
	memset(st, 0, sizeof *st);
	*fail = NULL;
	*nfail = 0;
	if (used > bound) {
		st->exhausted = 1; /* no schedule within the bound extends it */
		return 0;
	}
	struct dfs d = {bound, max_runs ? max_runs : UINT64_MAX, test, ctx, st, fail, nfail, 0};
	int r = node(&d, prefix, n, used);
	st->exhausted = r == 0 && !d.stopped && !st->wide;
	assert(r != 1 || *fail);
	assert(st->runs <= d.max_runs && (r == 1 || !*fail));
	return r;
}

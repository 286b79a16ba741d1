/* tests/world_seen.h — what a search of a scenario reached, for the
 * soundness tests that compare two searches (tests/test_dpor.c: plain
 * against reduced; tests/test_retry_cut.c: without against with the
 * retry cut).
 *
 * Contract: wseen_run() is a dpor_test callback body: it runs one
 * schedule of ws->w under the explorer and records the run's violation
 * name, or its final state's world_digest(), or that the retry cut ended
 * it (no final state of its own); runs the search cut (asleep, bound)
 * record nothing. After the search, wseen_sort() orders the finals so
 * that finals_within() can compare two sets. cmocka tests only: static
 * inline, as tests/mk_fixture.h.
 */
#ifndef UFFDLAB_TESTS_WORLD_SEEN_H
#define UFFDLAB_TESTS_WORLD_SEEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/world.h"
#include "sched/dpor.h"

struct wseen {
	struct world *w;
	uint64_t finals[1 << 14];
	size_t nfinals;
	char viol[8][32];
	int nviol;
	uint64_t undeclared;    /* world_undeclared() summed over the runs */
	uint64_t cut;           /* runs the retry cut ended */
};

static inline int wseen_run(struct wseen *ws, const struct sched_explorer *ex)
{
	struct sched_opts o = {.strategy = SCHED_DFS, .explorer = ex, .max_steps = 100000};
	struct verdict v;
	assert_int_equal(world_run(ws->w, &o, NULL, NULL, &v), 0);
	ws->undeclared += world_undeclared(ws->w);
	if (dpor_run_cut(ex))
		return 0;
	if (v.violated) {
		int i;
		for (i = 0; i < ws->nviol && strcmp(ws->viol[i], v.name); i++)
			;
		if (i == ws->nviol && ws->nviol < 8)
			snprintf(ws->viol[ws->nviol++], sizeof ws->viol[0], "%s", v.name);
		return 0;
	}
	if (v.sres == SCHED_CUT) {
		ws->cut++;
		return 0; /* a stutter: no final state of its own */
	}
	uint64_t d = world_digest(ws->w);
	for (size_t i = 0; i < ws->nfinals; i++)
		if (ws->finals[i] == d)
			return 0;
	assert_true(ws->nfinals < (1 << 14));
	ws->finals[ws->nfinals++] = d;
	return 0;
}

static inline int wseen_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static inline void wseen_sort(struct wseen *ws)
{
	qsort(ws->finals, ws->nfinals, sizeof ws->finals[0], wseen_cmp_u64);
}

/* Every final state of a is among b's (both sorted). */
static inline int finals_within(const struct wseen *a, const struct wseen *b)
{
	size_t j = 0;
	for (size_t i = 0; i < a->nfinals; i++) {
		while (j < b->nfinals && b->finals[j] < a->finals[i])
			j++;
		if (j == b->nfinals || b->finals[j] != a->finals[i])
			return 0;
	}
	return 1;
}

/* Every violation name of a is among b's. */
static inline int viol_within(const struct wseen *a, const struct wseen *b)
{
	for (int i = 0; i < a->nviol; i++) {
		int found = 0;
		for (int k = 0; k < b->nviol; k++)
			found |= !strcmp(a->viol[i], b->viol[k]);
		if (!found)
			return 0;
	}
	return 1;
}

#endif

/* Delta debugging over a choice sequence, guided by real runs. */
#include "sched/shrink.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t shrink_switches(const uint32_t *c, size_t n)
{
	size_t k = 0;
	for (size_t i = 1; i < n; i++)
		k += c[i] != c[i - 1];
	return k;
}

/* Is (a, na) smaller than (b, nb)? */
static int smaller(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	if (na != nb)
		return na < nb;
	return shrink_switches(a, na) < shrink_switches(b, nb);
}

int shrink_run(uint32_t **choices, size_t *n, shrink_test test, void *ctx,
	       unsigned max_tests, struct shrink_stats *st)
{
	uint32_t *best = *choices;
	size_t nbest = *n;
	memset(st, 0, sizeof *st);
	st->from_steps = nbest;
	st->from_switches = shrink_switches(best, nbest);
	uint32_t *cand = malloc((nbest ? nbest : 1) * sizeof *cand);
	if (!cand)
		return -ENOMEM;
	int err = 0, improved = 1;
	while (improved && !err && st->tests < max_tests) {
		improved = 0;
		for (size_t chunk = nbest / 2 ? nbest / 2 : 1; chunk >= 1 && !err; chunk /= 2) {
			for (size_t i = 0; i < nbest && st->tests < max_tests;) {
				size_t cut = chunk < nbest - i ? chunk : nbest - i;

				assert(cut >= 1 && i + cut <= nbest);
				memcpy(cand, best, i * sizeof *cand);
				memcpy(cand + i, best + i + cut, (nbest - i - cut) * sizeof *cand);
				const uint32_t *act;
				size_t nact;
				st->tests++;
				int r = test(ctx, cand, nbest - cut, &act, &nact);
				if (r < 0) {
					err = r;
					break;
				}
				if (r == 1 && smaller(act, nact, best, nbest)) {
					/* the actual run (the guide completes the
					 * candidate) is the new best; smaller() keeps it
					 * within best's buffer */
					assert(nact <= nbest);
					memcpy(best, act, nact * sizeof *best);
					nbest = nact;
					improved = 1;
					continue; /* retry the same position */
				}
				i += cut;
			}
			if (chunk == 1)
				break;
		}
	}
	free(cand);
	*choices = best;
	*n = nbest;
	st->to_steps = nbest;
	st->to_switches = shrink_switches(best, nbest);
	/* never longer, and no more switches at the same length */
	assert(st->to_steps <= st->from_steps);
	assert(st->to_steps < st->from_steps ||
	       st->to_switches <= st->from_switches);
	return err;
}

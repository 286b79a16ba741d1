/* sched/shrink.h — shrinking a failing schedule (its choice sequence).
 *
 * Contract: the caller gives the choices of a failing run and a test that
 * runs a candidate under SCHED_GUIDED and says whether the same failure
 * happened, handing back the choices that run actually made. shrink_run()
 * deletes chunks of the sequence (halves, quarters, ... single steps) and
 * keeps a candidate when it still fails and its actual run is smaller:
 * fewer steps, then fewer context switches. It is deterministic (no random
 * numbers) and bounded by a budget of test runs. Knows nothing of uffd.
 */
#ifndef UFFDLAB_SCHED_SHRINK_H
#define UFFDLAB_SCHED_SHRINK_H

#include <stddef.h>
#include <stdint.h>

/* Run the candidate; return 1 if it fails the same way (then *actual and
 * *nactual describe the run: a buffer owned by the callee, valid until the
 * next call), 0 if not, or -errno to abort the shrink. */
typedef int (*shrink_test)(void *ctx, const uint32_t *cand, size_t n,
			   const uint32_t **actual, size_t *nactual);

struct shrink_stats {
	size_t from_steps, to_steps;
	size_t from_switches, to_switches;
	unsigned tests;
};

/* *choices / *n hold the failing sequence on entry (malloc'd; may be
 * reallocated) and the smallest failing one found on return. max_tests
 * bounds the work. 0 or -errno. */
int shrink_run(uint32_t **choices, size_t *n, shrink_test test, void *ctx,
	       unsigned max_tests, struct shrink_stats *st);
/* Context switches of a sequence: steps whose thread differs from the
 * previous step's. */
size_t shrink_switches(const uint32_t *c, size_t n);

#endif

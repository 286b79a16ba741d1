/* sched/shrink.h — shrinking a failing schedule (its choice sequence).
 *
 * Contract: the caller gives the choices of a failing run and a test that
 * runs a candidate under SCHED_GUIDED and says whether the same failure
 * happened, handing back the choices that run actually made (and, if it
 * recorded them, the runnable set of every step, from which preemptions
 * are counted). shrink_run() deletes chunks of the sequence (halves,
 * quarters, ... single steps) and keeps a candidate when it still fails
 * and its actual run is smaller: fewer preemptions (a switch away from a
 * thread that could still run, as CHESS and sched/dpor.c count them),
 * then fewer steps, then fewer context switches. It is deterministic (no
 * random numbers) and bounded by a budget of test runs. Knows nothing of
 * uffd.
 */
#ifndef UFFDLAB_SCHED_SHRINK_H
#define UFFDLAB_SCHED_SHRINK_H

#include <stddef.h>
#include <stdint.h>

/* Run the candidate; return 1 if it fails the same way (then *actual and
 * *nactual describe the run and *masks its runnable sets, or NULL when
 * not recorded: buffers owned by the callee, valid until the next call),
 * 0 if not, or -errno to abort the shrink. */
typedef int (*shrink_test)(void *ctx, const uint32_t *cand, size_t n,
			   const uint32_t **actual, const uint64_t **masks,
			   size_t *nactual);

struct shrink_stats {
	size_t from_steps, to_steps;
	size_t from_switches, to_switches;
	size_t from_preempt, to_preempt;
	unsigned tests;
};

/* The size of a run, compared in this order. */
struct shrink_size {
	size_t preempt, steps, switches;
};

/* *choices / *n hold the failing sequence on entry (malloc'd; may be
 * reallocated) and the smallest failing one found on return; masks (may
 * be NULL) are the entry run's runnable sets, for its preemption count.
 * max_tests bounds the work. 0 or -errno. */
int shrink_run(uint32_t **choices, size_t *n, const uint64_t *masks, shrink_test test,
	       void *ctx, unsigned max_tests, struct shrink_stats *st);
/* Context switches of a sequence: steps whose thread differs from the
 * previous step's. */
size_t shrink_switches(const uint32_t *c, size_t n);
/* Preemptions: switches away from a thread still runnable (bit c[i-1] of
 * masks[i]); 0 without masks. Threads >= 64 are not represented. */
size_t shrink_preemptions(const uint32_t *c, const uint64_t *masks, size_t n);
struct shrink_size shrink_size_of(const uint32_t *c, const uint64_t *masks, size_t n);
/* a < b in (preemptions, steps, switches) order. */
int shrink_smaller(struct shrink_size a, struct shrink_size b);

#endif

/* sched/sample.h — random schedules within a preemption bound.
 *
 * Contract: a struct sched_explorer (sched/sched.h) that makes one run a
 * random schedule with at most `bound` preemptions: the thread of the
 * previous step keeps running while it can, except at up to `bound`
 * steps drawn in [0, horizon) where another runnable thread is drawn;
 * where the previous thread cannot run, any runnable one is drawn. So
 * every run is a real schedule of the scenario within the bound. The
 * draws come from the seed alone (sched/rng.h): the same seed, bound
 * and horizon give the same schedule. A finder, never a proof: it
 * samples the bounded space, it does not exhaust it.
 */
#ifndef UFFDLAB_SCHED_SAMPLE_H
#define UFFDLAB_SCHED_SAMPLE_H

#include <stdint.h>

#include "sched/rng.h"
#include "sched/sched.h"

#define SAMPLE_MAX_BOUND 8

struct sample {
	struct rng rng;
	uint64_t at[SAMPLE_MAX_BOUND]; /* preemption points, ascending */
	unsigned nat, next;
	struct sched_explorer ex;
};

/* Ready s for one run; bound is clamped to SAMPLE_MAX_BOUND. */
void sample_init(struct sample *s, uint64_t seed, unsigned bound, uint64_t horizon);

#endif

/* sched/dpor.h — exhaustive search of schedules up to equivalence.
 *
 * Contract: a stateless depth-first search (every run re-executed from the
 * start) that drives each run online through a struct sched_explorer: the
 * scheduler reports every step's footprint (sched_touch) and the threads
 * it woke, and asks the explorer for every thread. With reduction it is
 * source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, POPL
 * 2014, Algorithm 1): two schedules that differ only in the order of
 * adjacent steps with disjoint footprints (Mazurkiewicz-equivalent) reach
 * the same state, and the search runs at least one schedule of every
 * class; a run that reaches a state where every runnable thread is asleep
 * is cut there (counted `pruned`: the only redundant work sleep sets
 * allow). Without reduction it runs every schedule (the tree in full):
 * the reference the soundness tests compare with. The thread of a fresh
 * step is the no-preemption default (keep the previous thread, else the
 * lowest runnable id) unless asleep, so the first run is the guided one.
 * Optional bounds count, along a schedule, deviations from that default
 * (delay bound) or switches away from a runnable thread (preemptions,
 * CHESS); a bound with reduction cuts branches, so the reduced bounded
 * search is not complete for the bounded space (docs/DESIGN.md). The
 * reduced search names threads by id and cannot represent ids >= 64; the
 * plain one names them by rank among the runnable ones and cannot
 * represent more than 64 runnable at once: either says so (`wide`) and is
 * then not exhausted. Deterministic: footprints are compared only for
 * equality, sets are visited in id order. Knows nothing of uffd.
 */
#ifndef UFFDLAB_SCHED_DPOR_H
#define UFFDLAB_SCHED_DPOR_H

#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"

struct dpor_stats {
	uint64_t runs;       /* schedules executed (pruned ones included) */
	uint64_t steps;      /* steps executed over all runs */
	uint64_t pruned;     /* runs cut because every runnable thread slept */
	uint64_t bound_cut;  /* runs / branches cut by a bound */
	uint64_t failures;   /* runs that failed (keep_going) */
	uint64_t races;      /* reversible races found */
	double estimate;     /* running estimate of the schedules in all */
	size_t max_depth;    /* longest schedule */
	int exhausted;       /* every class (within the bounds) was run */
	int wide;            /* a thread it cannot name existed: incomplete */
	int stopped;         /* max_runs or the progress callback ended it */
};

struct dpor_opts {
	int reduce;          /* 1: DPOR + sleep sets; 0: every schedule */
	int delay_bounded;   /* apply delay_bound */
	unsigned delay_bound;
	int preempt_bounded; /* apply preempt_bound */
	unsigned preempt_bound;
	uint64_t max_runs;   /* 0 = no limit */
	int keep_going;      /* a failing run does not end the search */
	/* a split search (sched/dfs_split.h): steps [0, nprefix) are fixed to
	 * prefix[] (runnable and within the bounds, or the run diverged):
	 * no backtracking into them, and a race whose reversal would start
	 * there is dropped, as the split runs every alternative there */
	const uint32_t *prefix;
	size_t nprefix;
	/* a reduced split: the threads asleep where the prefix ends (bit t =
	 * thread t) and their next steps' footprints, one per bit in id
	 * order, as the enumeration (split_depth) found them there */
	uint64_t prefix_sleep;
	const struct sched_fp *prefix_sfp;
	unsigned prefix_depth;  /* branching points in the prefix */
	/* the enumeration of a reduced split (sched/dfs_split.h): every
	 * awake thread is run from each of the first split_depth branching
	 * points (a node with two awake threads) past the prefix, with sleep
	 * sets, and a run is cut right after its split_depth-th: on_prefix
	 * gets its choices and the sleepers there (sleep, fps indexed by
	 * thread id), or a whole run that branched less (leaf). Verdicts are
	 * ignored. Nonzero from on_prefix ends the search with it. */
	unsigned split_depth;
	int (*on_prefix)(void *ctx, const uint32_t *c, size_t n, uint64_t sleep,
			 const struct sched_fp *fps, unsigned cost, unsigned pcost, int leaf);
	void *prefix_ctx;
	/* after every run; nonzero ends the search (a time limit) */
	int (*progress)(void *ctx, const struct dpor_stats *st);
	void *progress_ctx;
};

/* Run one schedule with opts.explorer = ex (and SCHED_DFS). Return 1 if
 * it failed, 0 if not, or -errno. The explorer records the choices. */
typedef int (*dpor_test)(void *ctx, const struct sched_explorer *ex);

/* Returns 1 with the first failing run's choices in *fail / *nfail
 * (malloc'd; with keep_going the search goes on and still returns 1),
 * 0 when no run failed, or -errno. */
int dpor_run(const struct dpor_opts *o, dpor_test test, void *ctx,
	     struct dpor_stats *st, uint32_t **fail, size_t *nfail);

/* Whether the run the explorer just drove was cut (asleep or bound):
 * its verdict is not a verdict. For the test callback. */
int dpor_run_cut(const struct sched_explorer *ex);

#endif

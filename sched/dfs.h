/* sched/dfs.h — exhaustive search of schedules, bounded by deviations.
 *
 * Contract: a stateless depth-first search (runs are re-executed from the
 * start, nothing is snapshotted). The default schedule is SCHED_GUIDED's:
 * keep running the previous thread, else the lowest-id runnable one. A
 * schedule is the default one with at most `bound` deviations: at step j,
 * some other runnable thread is chosen instead (delay bounding, Emmi,
 * Qadeer and Rakamaric, POPL 2011). dfs_run() visits every such schedule
 * exactly once, in a fixed order, unless a run fails first or max_runs is
 * reached. The test callback runs one guided schedule with the runnable
 * sets recorded (opts.record_runnable). Knows nothing of uffd.
 */
#ifndef UFFDLAB_SCHED_DFS_H
#define UFFDLAB_SCHED_DFS_H

#include <stddef.h>
#include <stdint.h>

/* Run the schedule guided by prefix[0..n). Return 1 if it failed, 0 if
 * not, or -errno; give the run's choices and runnable masks (nsteps of
 * each, owned by the callee, valid until the next call) and whether some
 * runnable thread could not be represented in a mask (id >= 64). */
typedef int (*dfs_test)(void *ctx, const uint32_t *prefix, size_t n,
			const uint32_t **choices, const uint64_t **masks,
			size_t *nsteps, int *wide);

struct dfs_stats {
	uint64_t runs;      /* schedules executed */
	uint64_t steps;     /* steps executed over all runs */
	int exhausted;      /* every schedule within the bound was run */
	int wide;           /* a thread id >= 64 was runnable: incomplete */
};

/* Returns 1 with the failing run's choices in *fail and *nfail (malloc'd),
 * 0 when no run failed, or -errno. */
int dfs_run(unsigned bound, uint64_t max_runs, dfs_test test, void *ctx,
	    struct dfs_stats *st, uint32_t **fail, size_t *nfail);

/* The same search over the schedules that extend prefix[0..n), whose own
 * deviations (`used`, at most bound) count against the bound: the
 * children deviate at steps n and later only. The subtree of one prefix
 * of a split search (sched/dfs_split.h). */
int dfs_run_from(const uint32_t *prefix, size_t n, unsigned used, unsigned bound,
		 uint64_t max_runs, dfs_test test, void *ctx, struct dfs_stats *st,
		 uint32_t **fail, size_t *nfail);

#endif

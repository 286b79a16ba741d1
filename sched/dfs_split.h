/* sched/dfs_split.h — the top of the schedule tree, cut into prefixes for
 * shards and workers (explore --strategy dfs --shard / --jobs).
 *
 * Contract: dfs_split_build() enumerates, without reduction, the first D
 * branching points of the schedule tree (a step where at least two
 * threads are runnable; every runnable thread is a branch) and returns the
 * prefixes in a fixed order (thread ids ascending at every branch): each
 * prefix is a run's choices up to and including its D-th branch, or a
 * whole run that branches fewer than D times (a leaf). Every schedule
 * extends exactly one prefix. D is the smallest depth whose prefix count
 * reaches min_prefixes, at most max_depth: it depends on the scenario and
 * the bounds only, never on how many shards share it. A prefix whose own
 * deviations or preemptions exceed a bound is left out (no schedule
 * within the bound extends it). A bounded search with o->refine splits its
 * heaviest prefix again, in place, while one holds more than
 * 1/min_prefixes of an estimate of the bounded schedules (the one that
 * never deviated keeps the whole budget): still a function of the
 * scenario and the bounds. Counting follows sched/dfs.c and
 * sched/dpor.c: the default at a step keeps the previous thread if it is
 * runnable, else takes the lowest runnable id. Deterministic.
 *
 * dpor_split_build() splits a reduced search (sched/dpor.h) the same way,
 * level by level, but with sleep sets: a branching point is one with two
 * threads awake, every awake thread is a branch, and each prefix carries
 * the threads asleep where it ends, with their next steps' footprints,
 * for its own search to start from. A prefix where every thread sleeps
 * is left out. The prefixes' searches together are then the sequential
 * reduced search with every awake thread run at the first D branching
 * points: a superset of a source set there, so sound, and, sleep sets
 * being kept across the cut, no schedule class runs in two prefixes.
 */
#ifndef UFFDLAB_SCHED_DFS_SPLIT_H
#define UFFDLAB_SCHED_DFS_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "sched/dfs.h"
#include "sched/dpor.h"

#define DFS_SPLIT_MIN 64      /* prefixes wanted */
#define DFS_SPLIT_DEPTH 12    /* at most this many branching points */
#define DFS_SPLIT_MAX 65536   /* and at most this many prefixes */
#define DFS_SPLIT_REFINE 512  /* bounded: heaviest prefixes split again */
#define DFS_SPLIT_REFINE_MAX 4096 /* while fewer prefixes than this */

struct dfs_prefix {
	uint32_t *c;             /* the choices, n of them (malloc'd) */
	size_t n;
	unsigned cost, pcost;    /* its deviations, its preemptions */
	int leaf;                /* the run under it branches no more */
	/* dpor_split_build() only: the threads asleep at its end, their
	 * footprints (one per bit, in id order; malloc'd), its branchings */
	uint64_t sleep;
	struct sched_fp *sfp;
	unsigned depth;
};

struct dfs_split_opts {
	size_t min_prefixes;     /* 0: DFS_SPLIT_MIN */
	unsigned max_depth;      /* 0: DFS_SPLIT_DEPTH */
	int delay_bounded;
	unsigned delay_bound;
	int preempt_bounded;
	unsigned preempt_bound;
	int refine;              /* split the heaviest prefixes again: for a
				    search without reduction (a reduced one
				    repeats work across prefixes) */
};

struct dfs_split {
	struct dfs_prefix *p;
	size_t n;
	unsigned depth;          /* D */
	unsigned refined;        /* bounded: prefixes split again (refine) */
	uint64_t runs;           /* guided runs the enumeration took */
	uint64_t pruned;         /* reduced: of those, cut with all asleep */
	int wide;                /* a thread id >= 64 was runnable */
};

/* 0 and *s (dfs_split_free it), or -errno. A level that would hold more
 * than DFS_SPLIT_MAX prefixes is not taken (D stays one less). The
 * test's verdicts are ignored: each prefix's own search runs every
 * schedule that extends it, the ones enumerated here included. */
int dfs_split_build(const struct dfs_split_opts *o, dfs_test test, void *ctx,
		    struct dfs_split *s);
void dfs_split_free(struct dfs_split *s);

/* The reduced split: prefixes with their sleepers, for dpor_run() with
 * o->prefix, prefix_sleep, prefix_sfp and prefix_depth set from each.
 * `base` gives the bounds; min_prefixes and max_depth as above (0: the
 * defaults). s->runs counts the enumeration's runs, s->pruned those cut
 * because every thread slept. 0 and *s, or -errno. */
int dpor_split_build(const struct dpor_opts *base, size_t min_prefixes, unsigned max_depth,
		     dpor_test test, void *ctx, struct dfs_split *s);

#endif

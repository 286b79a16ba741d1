/* driver.h — the explore and replay drivers behind the command line.
 *
 * Contract: each driver returns the process exit status: 0 no violation,
 * 1 a violation found (its trace written, the reproducing command printed),
 * 2 bad usage or bad input (one line "file:line: message" on stderr),
 * 3 a determinism bug (a replay that does not reproduce its run).
 * Output goes to stdout (human lines, or one JSON object with --json);
 * progress goes to stderr only when stderr is a terminal.
 */
#ifndef UFFDLAB_DRIVER_H
#define UFFDLAB_DRIVER_H

#include <stdint.h>

#include "sched/sched.h"

#define UFFDLAB_VERSION "0.1.0"

struct explore_args {
	const char *scenario;
	const char *handler;      /* NULL: handler_default() */
	const char *variant;      /* NULL: none; names joined by ',' */
	enum sched_strategy strategy; /* random, pct or dfs (sched/strategy.h) */
	uint64_t seed;
	uint64_t runs;            /* 0 = until time or 1000 */
	double seconds;           /* 0 = no time limit */
	int depth;                /* PCT d */
	uint64_t pct_k;           /* 0 = learn from the first run */
	uint64_t max_steps;
	int json;
	const char *out_dir;      /* default "out" */
	int quiet;                /* print nothing (results in *result) */
	int no_shrink;            /* report the schedule as found */
	uint64_t proof_runs;      /* 0: MIN_PROOF_RUNS schedules for the proof */
	uint64_t proof_steps;     /* 0: MIN_PROOF_STEPS steps a proof run */
	unsigned jobs;            /* random, pct: worker processes (0 = 1);
				     dfs: not 0 splits the search (the CLI's
				     default: the cores) */
	int no_split;             /* --jobs 0: dfs unsplit, in this process */
	unsigned shard, nshards;  /* random, pct: run j is shard j mod nshards's
				     (nshards 0 = 1); dfs: prefix j is */
	int all_steps;            /* the picture shows scheduler noise too
				     (viz_opts.all) */
	unsigned bound;           /* dfs: deviations from the default schedule,
				     EXPLORE_NO_BOUND for none */
	int preempt_bounded;      /* dfs --preemptions given */
	unsigned preemptions;
	int reduce;               /* dfs: 1 --reduce, -1 --no-reduce, 0 the
				     default (on unless --bound alone) */
	int no_retry_cut;         /* dfs --no-retry-cut: retried fills run on */
	struct explore_result *result; /* may be NULL */
	int kver;                 /* --kernel: enum mk_kver, 0 = 6.18 */
};

#define EXPLORE_NO_BOUND (~0u) /* dfs without --bound: every schedule */

struct explore_result {
	uint64_t runs, steps;
	double seconds;
	int violated;
	int exhausted;            /* dfs: every schedule within the bound ran */
	uint64_t pruned;          /* dfs with reduction: runs cut asleep */
	char name[32];            /* the violated invariant */
	uint64_t seed;            /* of the failing run */
	char trace[600];          /* its trace file */
};

int drive_explore(const struct explore_args *a);
/* `uffdlab shrink`: the trace's failure shrunk to its minimal one, written
 * to out_path (NULL: TRACE.min.trace) with its scenario beside it. */
/* How much the proof of minimality may search: schedules, steps a run
 * (0: the command's default). */
struct proof_budget {
	uint64_t runs, steps;
};
int drive_shrink(const char *trace_path, const char *out_path, struct proof_budget pb, int json);
/* `uffdlab merge`: the --json outputs of an explore's shards as one. */
int drive_merge(int n, char **paths);
/* Replay a trace in the simulator; out_path (may be NULL) receives the
 * regenerated trace. */
int drive_replay(const char *trace_path, const char *out_path, int json);
/* replay --real: the trace's schedule on hardware, repeat times (page_size
 * 0: the scenario's). Exit status: 1 confirmed at least once, 0 not
 * reproduced, 5 diverged, 77 skipped, 2 bad input. */
int drive_replay_real(const char *trace_path, int repeat, uint64_t page_size, int json);

#endif

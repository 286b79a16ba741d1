/* sched/strategy.h — the scheduling strategies, behind one interface.
 *
 * Contract: a strategy picks the thread of every step among the runnable
 * ones. It sees the scheduler only through struct sched_view (the runnable
 * ids in ascending order, the steps and choices so far, the options and its
 * own random stream) and keeps its own state, created once per scheduler
 * and reset for every run. The same view and random stream give the same
 * choice: that is the determinism every trace relies on. All strategies are
 * registered in one table with the command-line options each accepts; the
 * command line, the usage text, `list` and the trace reader take names,
 * help and option checks from there. Knows nothing of uffd.
 */
#ifndef UFFDLAB_SCHED_STRATEGY_H
#define UFFDLAB_SCHED_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "sched/rng.h"
#include "sched/sched.h"

#define SCHED_PCT_DEPTH_MAX 64 /* opts.pct_depth: 1..64 */
#define SCHED_STRATEGY_COUNT 5 /* enum sched_strategy: 0..4 */

/* What a strategy sees of the run; rebuilt by the scheduler for each call. */
struct sched_view {
	const struct sched_opts *opts;
	struct rng *rng;          /* the strategy's own stream */
	const int *runnable;      /* ids of the runnable threads, ascending */
	int nrunnable;            /* >= 1 when choose() is called */
	int nthreads;             /* spawned so far in this run */
	uint64_t steps;           /* steps ended so far */
	const uint32_t *choices;  /* the thread of each of them */
};

/* Whether tid is runnable (binary search of the runnable ids). */
int sched_view_runnable(const struct sched_view *v, uint32_t tid);

/* Options of `uffdlab explore` that belong to a strategy. */
enum strategy_opt {
	STRATEGY_OPT_DEPTH = 1u << 0, /* --depth */
	STRATEGY_OPT_PCT_K = 1u << 1, /* --pct-k */
	STRATEGY_OPT_BOUND = 1u << 2, /* --bound */
	STRATEGY_OPT_TIME = 1u << 3,  /* --time */
};

enum strategy_flag {
	STRATEGY_CLI = 1u << 0,        /* selectable with --strategy */
	STRATEGY_SEEDED = 1u << 1,     /* a run is (seed, options); else guided */
	STRATEGY_EXHAUSTIVE = 1u << 2, /* runs are driven by sched/dfs.c */
};

struct sched_strategy_ops {
	const char *name;         /* as on the command line and in traces */
	const char *help;         /* one line */
	enum sched_strategy id;
	unsigned flags;           /* enum strategy_flag */
	unsigned opts;            /* enum strategy_opt it accepts */
	/* Each may be NULL. create/destroy: once per scheduler (0 or -errno);
	 * reset: at the start of every run, after the streams are seeded;
	 * spawn: thread tid was created (0 or -errno); step_end: tid ended
	 * step v->steps; yield: tid gave way (sched_yield) */
	int (*create)(void **state);
	void (*destroy)(void *state);
	void (*reset)(void *state, const struct sched_view *v);
	int (*spawn)(void *state, const struct sched_view *v, int tid);
	void (*step_end)(void *state, const struct sched_view *v, int tid);
	void (*yield)(void *state, const struct sched_view *v, int tid);
	/* The thread of step v->steps, or -1: the run diverged. */
	int (*choose)(void *state, const struct sched_view *v);
};

extern const struct sched_strategy_ops strategy_random, strategy_pct,
	strategy_replay, strategy_guided, strategy_dfs;
/* The no-preemption default of guided and dfs (strategy_guided.c). */
int strategy_guided_choose(void *state, const struct sched_view *v);

/* The table, NULL-terminated, in the order of the usage text. */
extern const struct sched_strategy_ops *const sched_strategies[];
const struct sched_strategy_ops *sched_strategy_of(enum sched_strategy id);
const struct sched_strategy_ops *sched_strategy_find(const char *name);

/* `--strategy NAME` with the strategy options given (enum strategy_opt):
 * the strategy, or NULL with one line for the user in err (an unknown
 * name, or an option this strategy does not take). */
const struct sched_strategy_ops *sched_strategy_parse(const char *name, unsigned given,
						      char *err, size_t n);
/* "random|pct|dfs": the names --strategy takes. */
const char *sched_strategy_names(void);

#endif

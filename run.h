/* run.h — what the command-line drivers (explore.c, replay.c, report.c)
 * share: the identity of a run, its recording and its trace text.
 *
 * Contract: a run is fully determined by its struct run_id (scenario,
 * handler, variant, strategy, seed and the strategy's parameters); the
 * trace header is written from it and read back into it. A recording is
 * copied out of the scheduler when its run ends (steps, labels, threads),
 * so it stays valid while the world runs other schedules. Private to the
 * drivers: nothing outside the top-level driver files includes this.
 */
#ifndef UFFDLAB_RUN_H
#define UFFDLAB_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "driver.h"
#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/strategy.h"
#include "sched/trace.h"

struct rec_step {
	int tid;
	char *label;
	struct sched_event *ev; /* the step's typed events (model/event.h) */
	size_t nev;
};

struct rec_thread {
	char *name;
	int kind;
};

/* The steps and the threads of one run, copied out of the scheduler: the
 * world's scheduler is reused by every later run (a shrink candidate), and
 * the trace must describe this one. */
struct recording {
	struct rec_step *steps;
	size_t n, cap;
	struct rec_thread *threads;
	int nthreads;
	int oom;
	int lost;            /* a step had more events than sched keeps */
};

#define RUN_MAX_STEPS_DEFAULT 100000 /* explore without --max-steps */

/* What identifies a run: written as the trace header. */
struct run_id {
	const struct scenario *scn;
	const char *handler;
	const char *variant; /* "" for none */
	enum sched_strategy strategy;
	uint64_t seed;
	int depth;
	uint64_t pct_k;
	uint64_t max_steps;
	char shrunk[200];    /* "" or how the schedule was shrunk */
	char shrunk_scn[300]; /* "" or how the scenario was shrunk */
	char minimal[400];   /* "" or the proof of the preemption count */
	double proof_s;      /* the proof's time (printed, not in the trace) */
	unsigned bound;      /* dfs: deviations, EXPLORE_NO_BOUND for none */
	int preempt_bounded; /* dfs --preemptions */
	unsigned preemptions;
	int reduce;          /* dfs: partial-order reduction on */
	int dpor;            /* dfs: driven by sched/dpor.c (else sched/dfs.c) */
	int retry_cut;       /* dfs: the retry cut on (model/world.h) */
	const char *scn_text; /* the scenario's bytes, embedded in the trace */
	size_t scn_len;
	int kver;             /* kernel profile (model/kernel.h), 0 = 6.18 */
	int split;            /* dfs --shard/--jobs: the search under one prefix */
	unsigned split_prefix; /* which (sched/dfs_split.h), in the trace's name */
};

double drv_now(void);
/* Read and parse the scenario file at path; its bytes in *text (malloc'd,
 * NUL-terminated, *len without the NUL) for the trace to embed. 0, or -1
 * with one line in err. */
int run_load_scenario(const char *path, struct scenario *scn, char **text,
		      size_t *len, char *err, size_t errlen);
/* The scenario text embedded in a trace ("scenario-text" lines joined by
 * newlines, escapes undone): 0 and malloc'd *text, -ENOENT when there is
 * none, or -EINVAL with *bad_line the 1-based line of a bad escape. */
int run_embedded_scenario(const struct trace *t, char **text, size_t *len,
			  size_t *bad_line);
/* "a,b" -> bits; on an unknown name, -1 and *bad names it. */

const struct sched_strategy_ops *run_ops(const struct run_id *id);
const char *run_strategy(const struct run_id *id);
/* The strategy takes opt (enum strategy_opt): --depth/--pct-k, --bound. */
int run_takes(const struct run_id *id, unsigned opt);
struct sched_opts run_opts(const struct run_id *id);

/* Run id again with labels (following replay if not NULL); 0 and the
 * recording in *rec (free it with rec_free), or -errno. */
int run_record(struct world *w, const struct run_id *id, const uint32_t *replay,
	       size_t replay_len, struct recording *rec, struct verdict *v);
void rec_free(struct recording *r);

/* The trace of a recorded run: to f (0 or -errno), or as malloc'd text. */
int run_write_trace(FILE *f, const struct run_id *id, const struct recording *rec,
		    const struct verdict *v);
char *run_trace_text(const struct run_id *id, const struct recording *rec,
		     const struct verdict *v, size_t *len);

/* report.c: a violation found by explore with these choices (malloc'd,
 * replaced by the shrunk ones): re-run, compare, shrink, write the trace
 * and its picture. Returns the exit status (1, or 2 / 3 on failure). */
int report_violation(struct world *w, const struct explore_args *a,
		     struct run_id *id, const struct verdict *first,
		     uint32_t **choices, size_t *nchoices, char *trace_path,
		     size_t tplen, struct verdict *out);
/* minimize.c: a failing schedule and its scenario shrunk to a fixed
 * point, with the proof that its preemption count is minimal. */
struct min_opts {
	const char *handler;
	uint64_t bits;            /* the variants */
	uint64_t seed, max_steps;
	const char *want;         /* the invariant that must keep breaking */
	uint64_t proof_runs;      /* budget of the proof search, in schedules */
	/* the proof's runs end at this many steps (0: max_steps), unfinished:
	 * a handler that spawns a worker per retry spins for as long as the
	 * schedule lets it, and every length of that spin is one more
	 * schedule; not applied when the invariant is the step bound's */
	uint64_t proof_steps;
	const char *scn_path;     /* the shrunk scenario's file (X.min.scn) */
	const char *comment;      /* its first line */
	int verbose_parse;        /* say why a candidate does not parse */
	int kver;                 /* the kernel profile (model/kernel.h), 0 = 6.18 */
};

struct min_sizes {
	size_t steps, preempt, switches;
	int threads, ops, pages;
};

struct min_result {
	struct scenario *scn;     /* the shrunk scenario, parsed from text */
	char *text;
	size_t len;
	uint32_t *c;              /* its failing schedule */
	size_t n;
	struct min_sizes to;
	unsigned tests;           /* runs it took */
	int proof;                /* 1 proved, 0 nothing to prove (0
				     preemptions), -1 the budget ran out,
				     -2 more than 64 threads runnable at once */
	unsigned proof_bound;     /* the last bound searched */
	uint64_t proof_runs;      /* schedules of that bound */
	uint64_t proof_all;       /* schedules of every bound searched */
	uint64_t proof_others;    /* of them, those another invariant broke */
	uint64_t proof_capped;    /* of them, those that reached proof_cap */
	uint64_t proof_cap;       /* the steps a proof run was allowed */
	uint64_t proof_sampled;   /* random schedules within smaller bounds
				     tried first (minimize.c find_fewer) */
	unsigned proof_sampled_to; /* their bounds: 0 .. this */
	double proof_s;
};

/* 0 and *r (min_free it), or -errno: -ENOTSUP when the scenario as
 * scn_write writes it no longer breaks the invariant (a directive the
 * writer does not know), -EPROTO when a schedule that failed does not
 * fail again (a determinism bug). */
int min_run(const struct min_opts *o, const struct scenario *scn, const uint32_t *c, size_t n,
	    struct min_result *r);
void min_free(struct min_result *r);
#define MIN_PROOF_RUNS 20000 /* explore's proof budget (shrink: 1000000) */
#define MIN_PROOF_STEPS 2000 /* explore's proof run length (shrink: 10000) */

/* The minimal failure of id's run with choices c (the invariant want;
 * *found: the size of the run as found): the shrunk scenario to mscn, its
 * trace to mtrace, and id->shrunk_scn / id->minimal say what was done.
 * Returns 0 or the exit status. */
struct shrink_size;
int report_minimize(struct run_id *id, const char *want, const uint32_t *c, size_t n,
		    const struct shrink_size *found, const char *mtrace, const char *mscn,
		    struct proof_budget pb);
/* The minimal failure's paths: from trace X.trace, X.min.trace (derive)
 * or trace itself, and beside it the scenario (.trace -> .scn). 0 or
 * -ENAMETOOLONG. */
int report_min_paths(const char *trace, int derive, char *mtrace, char *mscn, size_t n);
/* replay.c: read the trace at path and its header into t, scn, *id (its
 * scn_text malloc'd) and the variant bits. 0, or 2 after one error line;
 * t is safe to trace_free either way. */
int replay_load(const char *path, struct trace *t, struct scenario *scn, struct run_id *id,
		uint64_t *bits);
/* parallel.c: runs j < runs (seed first_seed + j) of shard `shard` of
 * nshards (j mod nshards), among `jobs` forked workers, until the first
 * failure. learn_k: PCT's k from run 0 (run 0 itself with the default). */
struct par_opts {
	unsigned jobs, shard, nshards;
	uint64_t first_seed, runs;
	int learn_k;
};

struct par_result {
	uint64_t runs, steps;     /* of this shard's runs up to the first failure */
	int found;
	uint64_t index;           /* the lowest failing j */
	uint64_t pct_k;           /* the k its run used */
	int max_threads;
};

/* fn(k, ctx) in each of `jobs` (1..256) forked processes, k < jobs; waits
 * for all. 0, -EINVAL, -errno of fork, or -ECHILD when one did not exit 0. */
int par_fork(unsigned jobs, void (*fn)(unsigned k, void *ctx), void *ctx);

/* 0 or -errno (-EINVAL: bad options; -EIO: a run could not start). */
int par_explore(struct world *w, const struct run_id *id, const struct par_opts *p,
		struct par_result *r);

/* parallel.c: the prefixes j < nprefixes of a split dfs (sched/dfs_split.h)
 * of shard `shard` of nshards (j mod nshards), among `jobs` workers
 * (each takes the shard's next prefix not yet taken; jobs 1 runs in this
 * process), each prefix's
 * search by fn, until the first failure: a worker stops once its next j
 * is past the lowest failing one. fn returns 1 failed (its choices in
 * fail[0..*nfail), at most cap), 0, or -errno. */
struct par_prefix {
	uint64_t runs, steps, pruned;
	uint64_t retry_cut;       /* of pruned, ended by the retry cut */
	int ran, exhausted, failed, wide;
};

typedef int (*par_prefix_fn)(void *ctx, size_t j, struct par_prefix *out, uint32_t *fail,
			     size_t cap, size_t *nfail);

struct par_dfs_opts {
	unsigned jobs, shard, nshards;
	size_t nprefixes;
	size_t fail_cap;          /* the longest failing schedule */
};

/* 0 or -errno. out[j] for every j of the shard (ran 0: not run, or past
 * the first failure); *found the lowest failing j (SIZE_MAX: none) and
 * its choices in *fail / *nfail (malloc'd). */
int par_dfs(const struct par_dfs_opts *p, par_prefix_fn fn, void *ctx, struct par_prefix *out,
	    size_t *found, uint32_t **fail, size_t *nfail);

/* The one-line command that reproduces id's run. */
void report_reproduce_cmd(char *buf, size_t n, const struct run_id *id);

#endif

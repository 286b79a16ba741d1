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
	char shrunk[128];    /* "" or how the schedule was shrunk */
	unsigned bound;      /* dfs: deviations, EXPLORE_NO_BOUND for none */
	int preempt_bounded; /* dfs --preemptions */
	unsigned preemptions;
	int reduce;          /* dfs: partial-order reduction on */
	int dpor;            /* dfs: driven by sched/dpor.c (else sched/dfs.c) */
	const char *scn_text; /* the scenario's bytes, embedded in the trace */
	size_t scn_len;
	int kver;             /* kernel profile (model/kernel.h), 0 = 6.18 */
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
/* The one-line command that reproduces id's run. */
void report_reproduce_cmd(char *buf, size_t n, const struct run_id *id);

#endif

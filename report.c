/* Reporting a violation explore found: re-run it with labels and check it
 * is the same run, shrink its schedule, write its trace and picture, and
 * the command that reproduces it. */
#include "run.h"
#include "model/kernel.h"
#include "sched/files.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sched/shrink.h"
#include "viz/viz.h"

static int mkdir_p(const char *dir)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

struct shrink_ctx {
	struct world *w;
	const struct run_id *id;
	const char *want; /* the violated invariant to keep */
};

static int shrink_cb(void *ctx, const uint32_t *cand, size_t n,
		     const uint32_t **actual, size_t *nactual)
{
	struct shrink_ctx *c = ctx;
	struct sched_opts o = run_opts(c->id);
	o.strategy = SCHED_GUIDED;
	o.replay = cand;
	o.replay_len = n;
	struct verdict v;
	int err = world_run(c->w, &o, NULL, NULL, &v);
	if (err)
		return err;
	*actual = sched_choices(world_sched(c->w), nactual);
	return v.violated && strcmp(v.name, c->want) == 0;
}

/* Re-run the failing schedule with labels into *rec; it must make the same
 * choices and break the same invariant. 0, or the exit status. */
static int rerun_same(struct world *w, const struct run_id *id, const struct verdict *first,
		      const uint32_t *choices, size_t nchoices, struct recording *rec,
		      struct verdict *v)
{
	/* a dfs run is guided, not seeded: it is re-run from its choices */
	int seeded = (run_ops(id)->flags & STRATEGY_SEEDED) != 0;
	int err = seeded ? run_record(w, id, NULL, 0, rec, v)
			 : run_record(w, id, choices, nchoices, rec, v);
	if (err) {
		fprintf(stderr, "uffdlab: re-running the failing schedule: %s\n",
			strerror(-err));
		return 2;
	}
	size_t n2;
	const uint32_t *c2 = sched_choices(world_sched(w), &n2);
	if (n2 != nchoices || memcmp(c2, choices, n2 * sizeof *c2) ||
	    strcmp(v->name, first->name) || strcmp(v->text, first->text)) {
		fprintf(stderr,
			"uffdlab: determinism bug: seed %" PRIu64 " gave '%s' (%zu steps), its re-run gave '%s' (%zu steps)\n",
			id->seed, first->name, nchoices, v->name, n2);
		return 3;
	}
	return 0;
}

/* Shrink the choices; if they got smaller, record the shrunk run into
 * *rec instead (id->shrunk says by how much). 0, or the exit status. */
static int shrink_rerecord(struct world *w, struct run_id *id, const struct verdict *first,
			   uint32_t **choices, size_t *nchoices, struct recording *rec,
			   struct verdict *v)
{
	/* fewer steps and switches make a trace a person can read */
	struct shrink_ctx sc = {.w = w, .id = id, .want = first->name};
	struct shrink_stats st;
	unsigned budget = (unsigned)(20000000 / (*nchoices + 1));
	if (budget > 2000)
		budget = 2000;
	int err = shrink_run(choices, nchoices, shrink_cb, &sc, budget, &st);
	if (err) {
		fprintf(stderr, "uffdlab: shrinking: %s\n", strerror(-err));
		return 2;
	}
	if (st.to_steps >= st.from_steps && st.to_switches >= st.from_switches)
		return 0;
	snprintf(id->shrunk, sizeof id->shrunk,
		 "%zu steps %zu switches -> %zu steps %zu switches (%u runs)", st.from_steps,
		 st.from_switches, st.to_steps, st.to_switches, st.tests);
	rec_free(rec);
	err = run_record(w, id, *choices, *nchoices, rec, v);
	if (err || strcmp(v->name, first->name)) {
		fprintf(stderr, "uffdlab: determinism bug: the shrunk schedule %s\n",
			err ? strerror(-err) : "no longer fails the same way");
		return 3;
	}
	return 0;
}

/* OUT/SCENARIO-HANDLER[-VARIANT]-STRATEGY-SEED.trace and its picture.
 * 1, or 2 when the trace cannot be written. */
static int write_files(const struct explore_args *a, const struct run_id *id,
		       const struct recording *rec, const struct verdict *v,
		       char *trace_path, size_t tplen)
{
	int err = mkdir_p(a->out_dir);
	if (err) {
		fprintf(stderr, "uffdlab: %s: %s\n", a->out_dir, strerror(-err));
		return 2;
	}
	if (snprintf(trace_path, tplen, "%s/%s-%s%s%s-%s-%" PRIu64 ".trace", a->out_dir,
		     id->scn->name, id->handler, id->variant[0] ? "-" : "", id->variant,
		     run_strategy(id), id->seed) >= (int)tplen) {
		fprintf(stderr, "uffdlab: %s: output path too long\n", a->out_dir);
		return 2;
	}
	struct output out;
	err = output_open(&out, trace_path);
	if (err) {
		fprintf(stderr, "uffdlab: %s: %s\n", trace_path, strerror(-err));
		return 2;
	}
	err = run_write_trace(out.f, id, rec, v);
	if (err)
		output_abort(&out);
	else
		err = output_commit(&out); /* the real errno, e.g. ENOSPC */
	if (err) {
		fprintf(stderr, "uffdlab: writing %s: %s\n", trace_path, strerror(-err));
		return 2;
	}
	/* the picture beside the trace; the trace stands without it */
	char verr[700];
	if (viz_trace_files(trace_path, verr, sizeof verr))
		fprintf(stderr, "uffdlab: picture: %s\n", verr);
	return 1;
}

int report_violation(struct world *w, const struct explore_args *a,
		     struct run_id *id, const struct verdict *first,
		     uint32_t **choices, size_t *nchoices, char *trace_path,
		     size_t tplen, struct verdict *out)
{
	struct recording rec = {0};
	struct verdict v;
	int status = rerun_same(w, id, first, *choices, *nchoices, &rec, &v);
	if (!status && !a->no_shrink)
		status = shrink_rerecord(w, id, first, choices, nchoices, &rec, &v);
	if (!status) {
		*out = v;
		status = write_files(a, id, &rec, &v, trace_path, tplen);
	}
	rec_free(&rec);
	return status;
}

void report_reproduce_cmd(char *buf, size_t n, const struct run_id *id)
{
	int k = snprintf(buf, n, "uffdlab explore %s --handler %s", id->scn->path,
			 id->handler);
	if (id->variant[0])
		k += snprintf(buf + k, n - (size_t)k, " --variant %s", id->variant);
	if (id->kver && id->kver != MK_KVER_DEFAULT)
		k += snprintf(buf + k, n - (size_t)k, " --kernel %s", mk_profile(id->kver)->name);
	/* the step bound is part of the run: a busy-spin ends at it */
	if (id->max_steps != RUN_MAX_STEPS_DEFAULT)
		k += snprintf(buf + k, n - (size_t)k, " --max-steps %" PRIu64, id->max_steps);
	if (run_takes(id, STRATEGY_OPT_BOUND)) {
		k += snprintf(buf + k, n - (size_t)k, " --strategy %s", run_strategy(id));
		if (id->bound != EXPLORE_NO_BOUND)
			k += snprintf(buf + k, n - (size_t)k, " --bound %u", id->bound);
		if (id->preempt_bounded)
			k += snprintf(buf + k, n - (size_t)k, " --preemptions %u", id->preemptions);
		/* only where it differs from the default for these bounds */
		if (id->dpor && id->reduce != (id->bound == EXPLORE_NO_BOUND || id->preempt_bounded))
			k += snprintf(buf + k, n - (size_t)k, " %s",
				      id->reduce ? "--reduce" : "--no-reduce");
		snprintf(buf + k, n - (size_t)k, " --seed %" PRIu64, id->seed);
		return;
	}
	k += snprintf(buf + k, n - (size_t)k, " --strategy %s --seed %" PRIu64 " --runs 1",
		      run_strategy(id), id->seed);
	if (run_takes(id, STRATEGY_OPT_DEPTH))
		snprintf(buf + k, n - (size_t)k, " --depth %d --pct-k %" PRIu64, id->depth,
			 id->pct_k);
}

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

#include "handler/variants.h"
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
		     const uint32_t **actual, const uint64_t **masks, size_t *nactual)
{
	struct shrink_ctx *c = ctx;
	struct sched_opts o = run_opts(c->id);
	o.strategy = SCHED_GUIDED;
	o.replay = cand;
	o.replay_len = n;
	o.record_runnable = 1; /* preemptions are counted from them */
	struct verdict v;
	int err = world_run(c->w, &o, NULL, NULL, &v);
	if (err)
		return err;
	size_t nm;
	int wide;
	*actual = sched_choices(world_sched(c->w), nactual);
	*masks = sched_runnable_masks(world_sched(c->w), &nm, &wide);
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
 * *rec instead (id->shrunk says by how much). *found: the size of the run
 * as found. 0, or the exit status. */
static int shrink_rerecord(struct world *w, struct run_id *id, const struct verdict *first,
			   uint32_t **choices, size_t *nchoices, struct recording *rec,
			   struct verdict *v, struct shrink_size *found)
{
	/* fewer preemptions, steps and switches make a trace a person can read */
	struct shrink_ctx sc = {.w = w, .id = id, .want = first->name};
	struct shrink_stats st;
	const uint32_t *act;
	const uint64_t *masks;
	size_t nact;
	int err = shrink_cb(&sc, *choices, *nchoices, &act, &masks, &nact);
	if (err != 1) {
		fprintf(stderr, "uffdlab: determinism bug: the failing schedule, guided, %s\n",
			err < 0 ? strerror(-err) : "no longer fails the same way");
		return 3;
	}
	*found = shrink_size_of(act, masks, nact);
	uint64_t *m = malloc((nact ? nact : 1) * sizeof *m);
	if (!m)
		return 2;
	memcpy(m, masks, nact * sizeof *m);
	unsigned budget = (unsigned)(20000000 / (*nchoices + 1));
	err = shrink_run(choices, nchoices, m, shrink_cb, &sc, budget > 2000 ? 2000 : budget, &st);
	free(m);
	if (err) {
		fprintf(stderr, "uffdlab: shrinking: %s\n", strerror(-err));
		return 2;
	}
	struct shrink_size to = {st.to_preempt, st.to_steps, st.to_switches};
	if (!shrink_smaller(to, *found))
		return 0;
	snprintf(id->shrunk, sizeof id->shrunk,
		 "%zu steps %zu switches %zu preemptions -> %zu steps %zu switches %zu preemptions (%u runs)",
		 st.from_steps, st.from_switches, st.from_preempt, st.to_steps, st.to_switches,
		 st.to_preempt, st.tests);
	rec_free(rec);
	err = run_record(w, id, *choices, *nchoices, rec, v);
	if (err || strcmp(v->name, first->name)) {
		fprintf(stderr, "uffdlab: determinism bug: the shrunk schedule %s\n",
			err ? strerror(-err) : "no longer fails the same way");
		return 3;
	}
	return 0;
}

/* OUT/SCENARIO-HANDLER[-VARIANT]-STRATEGY-SEED.trace. 0, or 2. */
static int trace_name(const struct explore_args *a, const struct run_id *id, char *trace_path,
		      size_t tplen)
{
	int err = mkdir_p(a->out_dir);
	if (err) {
		fprintf(stderr, "uffdlab: %s: %s\n", a->out_dir, strerror(-err));
		return 2;
	}
	char split[32] = ""; /* a split dfs: one trace per prefix, whichever shard */
	if (id->split)
		snprintf(split, sizeof split, "-p%u", id->split_prefix);
	if (snprintf(trace_path, tplen, "%s/%s-%s%s%s-%s-%" PRIu64 "%s.trace", a->out_dir,
		     id->scn->name, id->handler, id->variant[0] ? "-" : "", id->variant,
		     run_strategy(id), id->seed, split) >= (int)tplen) {
		fprintf(stderr, "uffdlab: %s: output path too long\n", a->out_dir);
		return 2;
	}
	return 0;
}

/* text or the trace of (id, rec, v) to path, all or nothing. 0, or 2. */
static int write_file(const char *path, const char *text, size_t len, const struct run_id *id,
		      const struct recording *rec, const struct verdict *v)
{
	struct output out;
	int err = output_open(&out, path);
	if (err) {
		fprintf(stderr, "uffdlab: %s: %s\n", path, strerror(-err));
		return 2;
	}
	if (text)
		err = fwrite(text, 1, len, out.f) == len ? 0 : -EIO;
	else
		err = run_write_trace(out.f, id, rec, v);
	if (err)
		output_abort(&out);
	else
		err = output_commit(&out); /* the real errno, e.g. ENOSPC */
	if (err) {
		fprintf(stderr, "uffdlab: writing %s: %s\n", path, strerror(-err));
		return 2;
	}
	return 0;
}

/* The trace and the picture beside it. 1, or 2 when the trace cannot be
 * written. */
static int write_files(const struct run_id *id, const struct recording *rec,
		       const struct verdict *v, const char *trace_path, int all)
{
	if (write_file(trace_path, NULL, 0, id, rec, v))
		return 2;
	/* the picture beside the trace; the trace stands without it */
	char verr[700];
	struct viz_opts vo;
	viz_opts_init(&vo);
	vo.all = all;
	if (viz_trace_to(trace_path, &vo, "svg", verr, sizeof verr))
		fprintf(stderr, "uffdlab: picture: %s\n", verr);
	return 1;
}

int report_min_paths(const char *trace, int derive, char *mtrace, char *mscn, size_t n)
{
	size_t l = strlen(trace);
	size_t base = l > 6 && !strcmp(trace + l - 6, ".trace") ? l - 6 : l;
	if ((derive && snprintf(mtrace, n, "%.*s.min.trace", (int)base, trace) >= (int)n) ||
	    (!derive && snprintf(mtrace, n, "%s", trace) >= (int)n))
		return -ENAMETOOLONG;
	l = strlen(mtrace);
	base = l > 6 && !strcmp(mtrace + l - 6, ".trace") ? l - 6 : l;
	const char *slash = memrchr(mtrace, '/', base);
	size_t dir = slash ? (size_t)(slash - mtrace) + 1 : 0;
	if (base - dir < 64) /* a scenario's name is at most 63 bytes */
		return snprintf(mscn, n, "%.*s.scn", (int)base, mtrace) >= (int)n ? -ENAMETOOLONG : 0;
	/* too long: its first 50 bytes and a hash of the rest keep it unique */
	uint64_t h = scn_hash_bytes(mtrace + dir, base - dir);
	return snprintf(mscn, n, "%.*s-%08x.scn", (int)(dir + 50), mtrace, (unsigned)(h >> 32)) >=
	       (int)n ? -ENAMETOOLONG : 0;
}

/* Beside the trace: only the file name, so that a trace does not depend
 * on the directory it was written to. */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The header lines of a minimised failure (r from *found's run). */
static void min_lines(struct run_id *id, const struct min_sizes *from, const struct min_result *r,
		      const char *want, const char *mscn)
{
	const struct min_sizes *t = &r->to;
	snprintf(id->shrunk_scn, sizeof id->shrunk_scn,
		 "%d threads %d ops %d pages -> %d threads %d ops %d pages, %zu steps %zu preemptions (%u runs): %s",
		 from->threads, from->ops, from->pages, t->threads, t->ops, t->pages, t->steps,
		 t->preempt, r->tests, base_name(mscn));
	/* a cap that no run reached changed nothing: the claim is then the
	 * unbounded one, and the line says nothing of it */
	char upto[40] = "", opt[40] = "", capped[80] = "", sampled[96] = "";
	if (r->proof_sampled)
		snprintf(sampled, sizeof sampled,
			 "; %" PRIu64 " random schedules within bounds 0..%u found none fewer",
			 r->proof_sampled, r->proof_sampled_to);
	if (r->proof_capped) {
		snprintf(upto, sizeof upto, " in runs of up to %" PRIu64 " steps", r->proof_cap);
		snprintf(opt, sizeof opt, " --max-steps %" PRIu64, r->proof_cap);
		snprintf(capped, sizeof capped, ", %" PRIu64 " unfinished at %" PRIu64 " steps",
			 r->proof_capped, r->proof_cap);
	}
	if (r->proof == 0)
		snprintf(id->minimal, sizeof id->minimal, "0 preemptions: nothing fewer to try");
	else if (r->proof > 0)
		snprintf(id->minimal, sizeof id->minimal,
			 "no %s with %u preemptions%s, %" PRIu64 " schedules, exhausted (dfs --preemptions %u --no-reduce%s on the shrunk scenario; %" PRIu64 " schedules with bounds 0..%u, %" PRIu64 " broke another invariant%s)",
			 want, r->proof_bound, upto, r->proof_runs, r->proof_bound, opt,
			 r->proof_all, r->proof_bound, r->proof_others, capped);
	else
		snprintf(id->minimal, sizeof id->minimal,
			 "not proven: dfs --preemptions %u --no-reduce%s on the shrunk scenario %s after %" PRIu64 " schedules (%" PRIu64 " with bounds 0..%u, none broke %s%s%s)",
			 r->proof_bound, opt, r->proof == -2 ? "cannot represent more than 64 threads runnable at once" :
			 "ran out of budget", r->proof_runs, r->proof_all, r->proof_bound, want, capped,
			 sampled);
	id->proof_s = r->proof_s;
}

/* The minimal failure's own trace: the shrunk scenario, its schedule as
 * a dfs run within its preemption count, replayed to check it. 0, or the
 * exit status. */
static int write_min_trace(const struct run_id *id, uint64_t bits, const struct min_result *r,
			   const char *want, const struct shrink_size *found, const char *mtrace)
{
	struct run_id m = *id;
	m.scn = r->scn;
	m.scn_text = r->text;
	m.scn_len = r->len;
	m.strategy = SCHED_DFS;
	m.bound = EXPLORE_NO_BOUND;
	/* a bound --preemptions takes (at most 64); beyond it, unbounded */
	m.preempt_bounded = r->to.preempt <= 64;
	m.preemptions = m.preempt_bounded ? (unsigned)r->to.preempt : 0;
	m.dpor = 1;
	m.reduce = 0;
	snprintf(m.shrunk, sizeof m.shrunk,
		 "%zu steps %zu switches %zu preemptions -> %zu steps %zu switches %zu preemptions (%u runs)",
		 found->steps, found->switches, found->preempt, r->to.steps, r->to.switches,
		 r->to.preempt, r->tests);
	struct world *w = world_new(r->scn, id->handler, bits);
	if (w)
		world_set_kernel(w, id->kver);
	struct recording rec = {0};
	struct verdict v;
	int err = w ? run_record(w, &m, r->c, r->n, &rec, &v) : -ENOMEM;
	int status = 0;
	if (err || !v.violated || strcmp(v.name, want)) {
		fprintf(stderr, "uffdlab: determinism bug: the minimal schedule %s on replay\n",
			err ? strerror(-err) : "no longer fails the same way");
		status = err == -ENOMEM ? 2 : 3;
	} else if (write_file(mtrace, NULL, 0, &m, &rec, &v)) {
		status = 2;
	}
	rec_free(&rec);
	world_free(w);
	return status;
}

int report_minimize(struct run_id *id, const char *want, const uint32_t *c, size_t n,
		    const struct shrink_size *found, const char *mtrace, const char *mscn,
		    struct proof_budget pb)
{
	uint64_t bits;
	char msg[160];
	if (variant_parse_list(id->handler, id->variant, &bits, msg, sizeof msg)) {
		fprintf(stderr, "uffdlab: %s\n", msg);
		return 2;
	}
	char comment[700];
	snprintf(comment, sizeof comment, "shrunk by uffdlab from %s (%s%s%s, %s)", id->scn->path,
		 id->handler, id->variant[0] ? " --variant " : "", id->variant, want);
	struct min_opts o = {.handler = id->handler, .bits = bits, .kver = id->kver, .seed = id->seed,
			     .max_steps = id->max_steps, .want = want,
			     .proof_runs = pb.runs, .proof_steps = pb.steps,
			     .scn_path = mscn, .comment = comment};
	struct min_sizes from = {found->steps, found->preempt, found->switches,
				 id->scn->nthreads, 0, id->scn->pages};
	for (int t = 0; t < id->scn->nthreads; t++)
		from.ops += id->scn->threads[t].nops;
	struct min_result r = {0};
	int err = min_run(&o, id->scn, c, n, &r);
	if (err == -ENOTSUP) { /* the trace stands without its minimal form */
		fprintf(stderr, "uffdlab: %s written back (scenarios/write.c) no longer breaks %s: no minimal failure\n",
			id->scn->path, want);
		return 0;
	}
	if (err) {
		fprintf(stderr, "uffdlab: shrinking the scenario: %s\n", strerror(-err));
		return err == -EPROTO ? 3 : 2;
	}
	min_lines(id, &from, &r, want, mscn);
	int status = write_file(mscn, r.text, r.len, NULL, NULL, NULL) ? 2 : 0;
	if (!status)
		status = write_min_trace(id, bits, &r, want, found, mtrace);
	min_free(&r);
	return status;
}

int report_violation(struct world *w, const struct explore_args *a,
		     struct run_id *id, const struct verdict *first,
		     uint32_t **choices, size_t *nchoices, char *trace_path,
		     size_t tplen, struct verdict *out)
{
	struct recording rec = {0};
	struct verdict v;
	struct shrink_size found = {0};
	int status = rerun_same(w, id, first, *choices, *nchoices, &rec, &v);
	if (!status && !a->no_shrink)
		status = shrink_rerecord(w, id, first, choices, nchoices, &rec, &v, &found);
	if (!status)
		status = trace_name(a, id, trace_path, tplen);
	char mtrace[700], mscn[700];
	if (!status && !a->no_shrink) {
		if (report_min_paths(trace_path, 1, mtrace, mscn, sizeof mtrace))
			status = 2;
		else
			status = report_minimize(id, first->name, *choices, *nchoices, &found,
						 mtrace, mscn, (struct proof_budget){
						 a->proof_runs ? a->proof_runs : MIN_PROOF_RUNS,
						 a->proof_steps ? a->proof_steps : MIN_PROOF_STEPS});
	}
	if (!status) {
		*out = v;
		status = write_files(id, &rec, &v, trace_path, a->all_steps);
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
		if (id->dpor && id->reduce && !id->retry_cut)
			k += snprintf(buf + k, n - (size_t)k, " --no-retry-cut");
		/* a split search's first violation is the same for any split,
		 * and the CLI splits dfs by default; an unsplit one's is its own */
		snprintf(buf + k, n - (size_t)k, " --seed %" PRIu64 "%s", id->seed,
			 id->split ? "" : " --jobs 0");
		return;
	}
	k += snprintf(buf + k, n - (size_t)k, " --strategy %s --seed %" PRIu64 " --runs 1",
		      run_strategy(id), id->seed);
	if (run_takes(id, STRATEGY_OPT_DEPTH))
		snprintf(buf + k, n - (size_t)k, " --depth %d --pct-k %" PRIu64, id->depth,
			 id->pct_k);
}

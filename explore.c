/* The explore driver: runs of one (scenario, handler, variant, strategy)
 * from a seed, or the dfs search, until a violation is found (then
 * report.c writes its trace) or the runs or the time are used up. */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler/handler.h"
#include "handler/variants.h"
#include "json.h"
#include "model/kernel.h"
#include "model/world.h"
#include "sched/dfs.h"
#include "sched/dfs_split.h"
#include "sched/dpor.h"

/* What an exploration did, for the summary. */
struct explored {
	uint64_t runs, steps;
	double t0, t_found;       /* t_found: 0 if nothing found */
	int status;               /* the exit status */
	struct verdict v;         /* of the reported run */
	uint64_t found_steps;     /* of the failing run as found */
	size_t trace_steps;       /* of the reported (shrunk) run */
	int exhausted;            /* dfs */
	uint64_t pruned;          /* dfs with reduction: runs cut asleep or at a retry */
	uint64_t retry_cut;       /* of them, at a retry (model/world.h) */
	int wide;                 /* dfs: a thread id >= 64 */
	int max_threads;          /* pct: threads of the largest run (n) */
	struct dfs_split split;   /* dfs --shard/--jobs: the prefixes */
	struct par_prefix *prefixes; /* and what each one's search did */
	size_t found_prefix;      /* the lowest failing one, SIZE_MAX none */
	char trace[600];
};

/* Hand a failing run's choices to report.c (which may shrink them). */
static void report(struct world *w, const struct explore_args *a, struct run_id *id,
		   const struct verdict *found, const uint32_t *c, size_t n,
		   struct explored *x)
{
	x->t_found = drv_now();
	x->found_steps = found->steps;
	uint32_t *copy = malloc(n * sizeof *copy + 1);
	if (!copy) {
		fprintf(stderr, "uffdlab: out of memory reporting seed %" PRIu64 "\n", id->seed);
		x->status = 2;
		return;
	}
	memcpy(copy, c, n * sizeof *c);
	struct verdict first = *found;
	x->status = report_violation(w, a, id, &first, &copy, &n, x->trace, sizeof x->trace,
				     &x->v);
	x->trace_steps = n;
	free(copy);
}

struct dfs_ctx {
	struct world *w;
	const struct run_id *id;
	struct verdict v;
	uint64_t steps;
};

static int dfs_cb(void *ctx, const uint32_t *prefix, size_t n, const uint32_t **choices,
		  const uint64_t **masks, size_t *nsteps, int *wide)
{
	struct dfs_ctx *c = ctx;
	struct sched_opts o = run_opts(c->id); /* SCHED_DFS: guided by prefix */
	o.replay = prefix;
	o.replay_len = n;
	o.record_runnable = 1;
	int err = world_run(c->w, &o, NULL, NULL, &c->v);
	if (err)
		return err;
	size_t nm;
	*choices = sched_choices(world_sched(c->w), nsteps);
	*masks = sched_runnable_masks(world_sched(c->w), &nm, wide);
	c->steps += c->v.steps;
	return c->v.violated;
}

/* The plain delay-bounded search of sched/dfs.c: --bound without the
 * reduction, as before the reduction existed. */
static void explore_dfs_plain(struct world *w, const struct explore_args *a,
			      struct run_id *id, struct explored *x)
{
	struct dfs_ctx dc = {.w = w, .id = id};
	struct dfs_stats ds = {0};
	uint32_t *fail;
	size_t nfail;
	int r = dfs_run(id->bound, a->runs, dfs_cb, &dc, &ds, &fail, &nfail);
	x->runs = ds.runs;
	x->steps = dc.steps;
	x->exhausted = ds.exhausted;
	if (r < 0) {
		fprintf(stderr, "uffdlab: dfs: %s\n", strerror(-r));
		x->status = 2;
	} else if (r == 1) {
		report(w, a, id, &dc.v, fail, nfail, x);
		free(fail);
	}
}

struct dpor_ctx {
	struct world *w;
	const struct run_id *id;
	struct verdict v;
	uint64_t steps;
	uint64_t retry_cut;       /* runs the retry cut ended */
	int tty;
	double t0, last, told;    /* start, last progress line, estimate told */
};

static int dpor_cb(void *ctx, const struct sched_explorer *ex)
{
	struct dpor_ctx *c = ctx;
	struct sched_opts o = run_opts(c->id); /* SCHED_DFS: the explorer picks */
	o.explorer = ex;
	int err = world_run(c->w, &o, NULL, NULL, &c->v);
	if (err)
		return err;
	c->steps += c->v.steps;
	/* a run cut by the search (asleep, bound) is not a schedule's verdict;
	 * one the retry cut ended is a stutter (a violation before it stands) */
	if (dpor_run_cut(ex))
		return 0;
	c->retry_cut += c->v.sres == SCHED_CUT && !c->v.violated;
	return c->v.violated;
}

/* On a terminal: the estimate once the search looks long, then a
 * progress line twice a second. */
static int dpor_progress(void *ctx, const struct dpor_stats *st)
{
	struct dpor_ctx *c = ctx;
	if (!c->tty || (st->runs & 63))
		return 0;
	double t = drv_now(), el = t - c->t0;
	if (t - c->last < 0.5)
		return 0;
	double left = st->estimate > (double)st->runs ? st->estimate - (double)st->runs : 0;
	if (!c->told && el > 1) {
		fprintf(stderr, "\r\033[Kdfs: about %.3g schedules left (estimate)\n", left);
		c->told = 1;
	}
	fprintf(stderr, "\r\033[K%" PRIu64 " schedules (%" PRIu64 " pruned), %.0f/s, %.1f s, ~%.3g left",
		st->runs, st->pruned, (double)st->runs / el, el, left);
	c->last = t;
	return 0;
}

static struct dpor_opts dpor_opts_of(const struct explore_args *a, const struct run_id *id)
{
	return (struct dpor_opts){
		.reduce = id->reduce,
		.delay_bounded = id->bound != EXPLORE_NO_BOUND,
		.delay_bound = id->bound,
		.preempt_bounded = id->preempt_bounded,
		.preempt_bound = id->preemptions,
		.max_runs = a->runs,
	};
}

static void explore_dfs_split(struct world *w, const struct explore_args *a,
			      struct run_id *id, struct explored *x);

/* Every schedule up to equivalence (or all of them), within the bounds
 * asked for: sched/dpor.c. */
static void explore_dfs(struct world *w, const struct explore_args *a, struct run_id *id,
			struct explored *x)
{
	id->seed = a->seed;
	if (a->jobs || a->nshards) {
		explore_dfs_split(w, a, id, x);
		return;
	}
	if (!id->dpor) {
		explore_dfs_plain(w, a, id, x);
		return;
	}
	struct dpor_ctx dc = {.w = w, .id = id, .tty = isatty(2) && !a->quiet, .t0 = x->t0};
	struct dpor_opts o = dpor_opts_of(a, id);
	o.progress = dpor_progress;
	o.progress_ctx = &dc;
	struct dpor_stats ds;
	uint32_t *fail;
	size_t nfail;
	int r = dpor_run(&o, dpor_cb, &dc, &ds, &fail, &nfail);
	x->runs = ds.runs;
	x->steps = dc.steps;
	x->exhausted = ds.exhausted;
	x->pruned = ds.pruned + dc.retry_cut;
	x->retry_cut = dc.retry_cut;
	x->wide = ds.wide;
	if (r < 0) {
		fprintf(stderr, "uffdlab: dfs: %s\n", r == -EPROTO ? "a replayed schedule diverged (nondeterminism)" : strerror(-r));
		x->status = r == -EPROTO ? 3 : 2;
	} else if (r == 1) {
		report(w, a, id, &dc.v, fail, nfail, x);
		free(fail);
	}
}

/* --- dfs split among shards and workers (sched/dfs_split.h) --------- */

struct split_ctx {
	struct world *w;
	const struct explore_args *a;
	const struct run_id *id;
	const struct dfs_split *sp;
};

/* The search under prefix j (par_prefix_fn): sched/dfs.c's or dpor.c's. */
static int split_subtree(void *ctx, size_t j, struct par_prefix *out, uint32_t *fail,
			 size_t cap, size_t *nfail)
{
	struct split_ctx *c = ctx;
	const struct dfs_prefix *p = &c->sp->p[j];
	uint32_t *f;
	size_t nf;
	int r;
	if (!c->id->dpor) {
		struct dfs_ctx dc = {.w = c->w, .id = c->id};
		struct dfs_stats ds;
		r = dfs_run_from(p->c, p->n, p->cost, c->id->bound, c->a->runs, dfs_cb, &dc, &ds,
				 &f, &nf);
		*out = (struct par_prefix){.runs = ds.runs, .steps = dc.steps,
					   .exhausted = ds.exhausted, .wide = ds.wide};
	} else {
		struct dpor_ctx dc = {.w = c->w, .id = c->id}; /* no progress line */
		struct dpor_opts o = dpor_opts_of(c->a, c->id);
		o.prefix = p->c;
		o.nprefix = p->n;
		o.prefix_sleep = p->sleep;
		o.prefix_sfp = p->sfp;
		o.prefix_depth = p->depth;
		struct dpor_stats ds;
		r = dpor_run(&o, dpor_cb, &dc, &ds, &f, &nf);
		*out = (struct par_prefix){.runs = ds.runs, .steps = dc.steps,
					   .pruned = ds.pruned + dc.retry_cut,
					   .retry_cut = dc.retry_cut,
					   .exhausted = ds.exhausted, .wide = ds.wide};
	}
	if (r == 1 && nf > cap)
		r = -E2BIG;
	if (r == 1) {
		memcpy(fail, f, nf * sizeof *f);
		*nfail = nf;
	}
	free(f);
	return r;
}

/* The failing schedule of prefix `found`, run here once more for its
 * verdict, reported as the one process's first violation. */
static void split_report(struct world *w, const struct explore_args *a, struct run_id *id,
			 size_t found, uint32_t *fail, size_t nfail, struct explored *x)
{
	struct dfs_ctx dc = {.w = w, .id = id};
	const uint32_t *c;
	const uint64_t *m;
	size_t n;
	int wide;
	int r = dfs_cb(&dc, fail, nfail, &c, &m, &n, &wide);
	if (r != 1 || n != nfail || memcmp(c, fail, n * sizeof *c)) {
		fprintf(stderr, "uffdlab: determinism bug: prefix %zu's failing schedule "
			"did not fail here\n", found);
		x->status = r < 0 ? 2 : 3;
		return;
	}
	id->split_prefix = (unsigned)found;
	report(w, a, id, &dc.v, fail, nfail, x);
}

/* This shard's prefixes, among a->jobs workers (parallel.c). */
static void explore_dfs_split(struct world *w, const struct explore_args *a,
			      struct run_id *id, struct explored *x)
{
	struct dfs_ctx dc = {.w = w, .id = id};
	struct dfs_split_opts so = {
		.delay_bounded = id->bound != EXPLORE_NO_BOUND, .delay_bound = id->bound,
		.preempt_bounded = id->preempt_bounded, .preempt_bound = id->preemptions,
		.refine = !id->reduce};
	struct dfs_split *sp = &x->split;
	id->split = 1;
	struct dpor_ctx pc = {.w = w, .id = id};
	struct dpor_opts base = dpor_opts_of(a, id);
	int e = id->dpor && id->reduce ? dpor_split_build(&base, 0, 0, dpor_cb, &pc, sp)
				       : dfs_split_build(&so, dfs_cb, &dc, sp);
	struct par_dfs_opts po = {.jobs = a->jobs ? a->jobs : 1, .shard = a->shard,
				  .nshards = a->nshards ? a->nshards : 1,
				  .nprefixes = sp->n, .fail_cap = id->max_steps + 16};
	size_t found;
	uint32_t *fail = NULL;
	size_t nfail;
	x->prefixes = e ? NULL : calloc(sp->n + 1, sizeof *x->prefixes);
	if (!e && !x->prefixes)
		e = -ENOMEM;
	if (!e)
		e = par_dfs(&po, split_subtree, &(struct split_ctx){w, a, id, sp}, x->prefixes,
			    &found, &fail, &nfail);
	if (e) {
		fprintf(stderr, "uffdlab: dfs --shard/--jobs: %s\n",
			e == -EPROTO ? "a replayed schedule diverged (nondeterminism)" : strerror(-e));
		x->status = e == -EPROTO ? 3 : 2;
		return;
	}
	x->exhausted = !sp->wide && found == SIZE_MAX;
	x->wide = sp->wide;
	for (size_t j = po.shard; j < sp->n; j += po.nshards) {
		const struct par_prefix *q = &x->prefixes[j];
		x->runs += q->runs;
		x->steps += q->steps;
		x->pruned += q->pruned;
		x->retry_cut += q->retry_cut;
		x->exhausted &= q->ran && q->exhausted;
		x->wide |= q->wide;
	}
	x->found_prefix = found;
	if (found != SIZE_MAX)
		split_report(w, a, id, found, fail, nfail, x);
	free(fail);
}

static void explore_seeded(struct world *w, const struct explore_args *a, struct run_id *id,
			   struct explored *x)
{
	uint64_t runs = a->runs ? a->runs : (a->seconds > 0 ? UINT64_MAX : 1000);
	double last_progress = x->t0;
	int tty = isatty(2) && !a->quiet;
	for (uint64_t i = 0; i < runs; i++) {
		id->seed = a->seed + i;
		struct sched_opts o = run_opts(id);
		int e = world_run(w, &o, NULL, NULL, &x->v);
		if (e) {
			fprintf(stderr, "uffdlab: run with seed %" PRIu64 " could not start: %s\n",
				id->seed, strerror(-e));
			x->status = 2;
			return;
		}
		x->runs++;
		x->steps += x->v.steps;
		if (sched_nthreads(world_sched(w)) > x->max_threads)
			x->max_threads = sched_nthreads(world_sched(w));
		if (run_takes(id, STRATEGY_OPT_PCT_K) && !id->pct_k) /* learn k from the first run */
			id->pct_k = sched_pct_k(world_sched(w));
		if (x->v.violated) {
			if (run_takes(id, STRATEGY_OPT_PCT_K) && i == 0 && !a->pct_k)
				id->pct_k = 0; /* the first run used the default k */
			size_t nc;
			const uint32_t *c = sched_choices(world_sched(w), &nc);
			report(w, a, id, &x->v, c, nc, x);
			return;
		}
		double t = drv_now();
		if (tty && t - last_progress > 0.5) {
			fprintf(stderr, "\r%" PRIu64 " runs, %.0f schedules/s, %.1f s", x->runs,
				(double)x->runs / (t - x->t0), t - x->t0);
			last_progress = t;
		}
		if (a->seconds > 0 && t - x->t0 >= a->seconds)
			return;
	}
}

/* The runs of this shard among a->jobs processes (parallel.c); then the
 * failing run, if any, once more here to report it. */
static void explore_parallel(struct world *w, const struct explore_args *a,
			     struct run_id *id, struct explored *x)
{
	struct par_opts p = {.jobs = a->jobs ? a->jobs : 1, .shard = a->shard,
			     .nshards = a->nshards ? a->nshards : 1, .first_seed = a->seed,
			     .runs = a->runs ? a->runs : 1000,
			     .learn_k = run_takes(id, STRATEGY_OPT_PCT_K) && !a->pct_k};
	struct par_result r;
	int e = par_explore(w, id, &p, &r);
	if (e) {
		fprintf(stderr, "uffdlab: parallel explore: %s\n", strerror(-e));
		x->status = 2;
		return;
	}
	x->runs = r.runs;
	x->steps = r.steps;
	x->max_threads = r.max_threads;
	if (p.learn_k)
		id->pct_k = r.pct_k;
	id->seed = r.found ? a->seed + r.index : a->seed;
	if (!r.found)
		return;
	struct sched_opts o = run_opts(id);
	e = world_run(w, &o, NULL, NULL, &x->v);
	if (e || !x->v.violated) {
		fprintf(stderr, "uffdlab: determinism bug: seed %" PRIu64 " failed in a worker, not here\n",
			id->seed);
		x->status = e ? 2 : 3;
		return;
	}
	size_t nc;
	const uint32_t *c = sched_choices(world_sched(w), &nc);
	report(w, a, id, &x->v, c, nc, x);
}

/* One line saying what was covered (issue 8 item 4). For pct, the
 * guarantee of Burckhardt et al.: one run finds a given depth-d bug with
 * probability at least 1/(n k^(d-1)) (n threads, k steps), so n runs miss
 * it with probability at most (1 - that)^runs. */
static void coverage_line(const struct run_id *id, const struct explored *x, double el,
			  char *buf, size_t n)
{
	if (run_takes(id, STRATEGY_OPT_BOUND) && x->exhausted) {
		int k = snprintf(buf, n, "exhausted: %" PRIu64 " schedules (%" PRIu64 " pruned), ",
				 x->runs, x->pruned);
		if (id->bound == EXPLORE_NO_BOUND && !id->preempt_bounded) {
			snprintf(buf + k, n - (size_t)k, "unbounded%s",
				 id->reduce ? ", up to equivalence" : "");
			return;
		}
		if (id->bound != EXPLORE_NO_BOUND)
			k += snprintf(buf + k, n - (size_t)k, "under delay bound %u", id->bound);
		if (id->preempt_bounded)
			k += snprintf(buf + k, n - (size_t)k, "%spreemption bound %u",
				      id->bound != EXPLORE_NO_BOUND ? ", " : "under ", id->preemptions);
		if (id->reduce)
			snprintf(buf + k, n - (size_t)k, " (reduced: a bounded reduced search may skip "
				 "a bounded schedule; --no-reduce runs them all)");
		return;
	}
	int k = snprintf(buf, n, "not exhausted: %" PRIu64 " schedules in %.1f s%s", x->runs, el,
			 x->wide ? (id->dpor && !id->reduce ? " (more than 64 threads runnable at once: not represented)"
						   : " (thread ids >= 64: not represented)") : "");
	if (run_takes(id, STRATEGY_OPT_DEPTH) && x->runs && id->pct_k) {
		double nk = (double)(x->max_threads ? x->max_threads : 1);
		for (int i = 1; i < id->depth; i++)
			nk *= (double)id->pct_k;
		double miss = exp((double)x->runs * log1p(-1.0 / nk));
		snprintf(buf + k, n - (size_t)k, "; pct: a depth-%d bug is missed with probability "
			 "<= %.3g after %" PRIu64 " runs (n=%d threads, k=%" PRIu64 " steps, d=%d)",
			 id->depth, miss, x->runs, x->max_threads, id->pct_k, id->depth);
	}
}

/* The line, and how many of the pruned runs the retry cut ended. */
static void coverage(const struct run_id *id, const struct explored *x, double el,
		     char *buf, size_t n)
{
	coverage_line(id, x, el, buf, n);
	size_t k = strlen(buf);
	if (x->retry_cut && k < n)
		snprintf(buf + k, n - k, "; %" PRIu64 " of the pruned at a retry (--no-retry-cut runs "
			 "them)", x->retry_cut);
}

/* "key": [v of each of the shard's prefixes that ran, in order]. */
static void json_prefix_array(struct json *j, const char *key, const struct explored *x,
			      unsigned shard, unsigned nshards, int what)
{
	size_t cap = 32 + (x->split.n / nshards + 1) * 21, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		json_null(j, key); /* merge refuses it: the shard's totals are lost */
		return;
	}
	buf[len++] = '[';
	for (size_t i = shard; i < x->split.n && x->prefixes[i].ran; i += nshards) {
		const struct par_prefix *q = &x->prefixes[i];
		uint64_t v = what == 0 ? q->runs : what == 1 ? q->steps : q->pruned;
		len += (size_t)snprintf(buf + len, cap - len, "%s%" PRIu64, len > 1 ? "," : "", v);
	}
	buf[len++] = ']';
	json_raw(j, key, buf, len);
	free(buf);
}

/* What merge.c needs of a split dfs's shard. */
static void print_json_split(struct json *j, const struct explore_args *a,
			     const struct explored *x)
{
	unsigned n = a->nshards ? a->nshards : 1;
	char shard[48];
	snprintf(shard, sizeof shard, "%u/%u", a->shard, n);
	json_string(j, "shard", shard);
	json_u64(j, "dfs_split_depth", x->split.depth);
	json_u64(j, "dfs_prefixes", x->split.n);
	json_prefix_array(j, "prefix_runs", x, a->shard, n, 0);
	json_prefix_array(j, "prefix_steps", x, a->shard, n, 1);
	json_prefix_array(j, "prefix_pruned", x, a->shard, n, 2);
	if (x->found_prefix != SIZE_MAX && x->status == 1)
		json_u64(j, "violation_prefix", x->found_prefix);
	else
		json_null(j, "violation_prefix");
}

static void print_json(const struct explore_args *a, const struct run_id *id,
		       const struct explored *x, double el, const char *cmd)
{
	struct json j;
	json_begin(&j, stdout);
	json_string(&j, "scenario", id->scn->path);
	json_string(&j, "handler", id->handler);
	json_string(&j, "variant", id->variant);
	json_string(&j, "strategy", run_strategy(id));
	if (!run_takes(id, STRATEGY_OPT_BOUND)) { /* what uffdlab merge needs */
		char shard[48];
		snprintf(shard, sizeof shard, "%u/%u", a->shard, a->nshards ? a->nshards : 1);
		json_string(&j, "shard", shard);
		json_u64(&j, "first_seed", a->seed);
		json_u64(&j, "runs_asked", a->runs ? a->runs : a->seconds > 0 ? 0 : 1000);
	}
	json_u64(&j, "runs", x->runs);
	json_u64(&j, "steps", x->steps);
	json_double(&j, "elapsed_s", el, 3);
	json_double(&j, "schedules_per_s", el > 0 ? (double)x->runs / el : 0, 0);
	json_double(&j, "steps_per_s", el > 0 ? (double)x->steps / el : 0, 0);
	if (run_takes(id, STRATEGY_OPT_DEPTH)) {
		json_int(&j, "pct_depth", id->depth);
		json_u64(&j, "pct_k", id->pct_k);
	}
	if (run_takes(id, STRATEGY_OPT_BOUND)) {
		if (id->bound == EXPLORE_NO_BOUND)
			json_null(&j, "dfs_bound");
		else
			json_u64(&j, "dfs_bound", id->bound);
		if (id->preempt_bounded)
			json_u64(&j, "dfs_preemptions", id->preemptions);
		else
			json_null(&j, "dfs_preemptions");
		json_bool(&j, "dfs_reduce", id->reduce);
		json_u64(&j, "pruned", x->pruned);
		if (id->split && x->prefixes)
			print_json_split(&j, a, x);
	}
	json_bool(&j, "exhausted", x->exhausted);
	if (run_takes(id, STRATEGY_OPT_DEPTH)) {
		json_int(&j, "pct_threads", x->max_threads);
	}
	char cov[400];
	coverage(id, x, el, cov, sizeof cov);
	json_string(&j, "coverage", cov);
	if (x->status == 1) {
		json_object_begin(&j, "violation");
		json_string(&j, "name", x->v.name);
		json_string(&j, "text", x->v.text);
		json_u64(&j, "seed", id->seed);
		json_u64(&j, "steps", x->found_steps);
		json_u64(&j, "trace_steps", x->trace_steps);
		json_string(&j, "shrunk", id->shrunk);
		json_string(&j, "shrunk_scenario", id->shrunk_scn);
		json_string(&j, "minimal", id->minimal);
		json_string(&j, "trace", x->trace);
		json_string(&j, "reproduce", cmd);
		json_object_end(&j);
	} else {
		json_null(&j, "violation");
	}
	json_end(&j);
}

/* The minimal failure's lines, when there is one. */
static void print_minimal(const struct run_id *id, const struct explored *x)
{
	char mtrace[700], mscn[700];
	if (!id->shrunk_scn[0] || report_min_paths(x->trace, 1, mtrace, mscn, sizeof mtrace))
		return;
	printf("  shrunk scenario: %s (%s)\n", id->shrunk_scn, mscn);
	printf("  minimal: %s (%.2f s)\n", id->minimal, id->proof_s);
	printf("  minimal trace: uffdlab replay %s\n", mtrace);
}

/* A split dfs: which part of the split this process ran. */
static void print_split(const struct explore_args *a, const struct run_id *id,
			const struct explored *x)
{
	if (id->split && x->prefixes)
		printf("  split: %zu prefixes at depth %u; shard %u/%u, %u job%s\n", x->split.n,
		       x->split.depth, a->shard, a->nshards ? a->nshards : 1, a->jobs ? a->jobs : 1,
		       a->jobs > 1 ? "s" : "");
}

static void print_text(const struct run_id *id, const struct explored *x, double el,
		       const char *cmd)
{
	const char *name = id->scn->name, *var = id->variant;
	const struct verdict *v = &x->v;
	char cov[400];
	coverage(id, x, el, cov, sizeof cov);
	if (x->status == 1) {
		printf("%s: %s %s%s: VIOLATION %s after %" PRIu64 " runs (%.3f s)\n", name,
		       id->handler, var[0] ? "--variant " : "", var, v->name, x->runs, el);
		printf("  %s\n", v->text);
		if (v->relaxed[0])
			printf("  relaxed: %s\n", v->relaxed);
		printf("  seed %" PRIu64 ", %" PRIu64 " steps; trace %s (%zu steps%s%s)\n",
		       id->seed, x->found_steps, x->trace, x->trace_steps,
		       id->shrunk[0] ? ", shrunk: " : "", id->shrunk);
		print_minimal(id, x);
		printf("  reproduce: %s\n", cmd);
		printf("  replay:    uffdlab replay %s\n", x->trace);
		printf("  hardware:  uffdlab replay --real %s --repeat 20\n", x->trace);
		printf("  %s\n", cov);
	} else if (x->status == 0) {
		char params[96] = "";
		if (run_takes(id, STRATEGY_OPT_DEPTH))
			snprintf(params, sizeof params, " d=%d k=%" PRIu64, id->depth, id->pct_k);
		if (run_takes(id, STRATEGY_OPT_BOUND))
			snprintf(params, sizeof params, "%s", id->reduce ? " reduced" : "");
		printf("%s: %s%s%s: no violation in %" PRIu64 " runs (%s%s, %.3f s, %.0f schedules/s, %.0f steps/s)\n",
		       name, id->handler, var[0] ? " --variant " : "", var, x->runs,
		       run_strategy(id), params, el, el > 0 ? (double)x->runs / el : 0,
		       el > 0 ? (double)x->steps / el : 0);
		printf("  %s\n", cov);
	}
}

static void summarise(const struct explore_args *a, const struct run_id *id,
		      const struct explored *x)
{
	/* time to find, not to shrink and draw */
	double el = (x->t_found > 0 ? x->t_found : drv_now()) - x->t0;
	if (isatty(2) && !a->quiet)
		fprintf(stderr, "\r\033[K");
	char cmd[700] = "";
	if (x->status == 1)
		report_reproduce_cmd(cmd, sizeof cmd, id);
	if (a->result) {
		struct explore_result *r = a->result;
		r->runs = x->runs;
		r->steps = x->steps;
		r->seconds = el;
		r->violated = x->status == 1;
		r->exhausted = x->exhausted;
		r->pruned = x->pruned;
		snprintf(r->name, sizeof r->name, "%s", x->status == 1 ? x->v.name : "");
		r->seed = id->seed;
		snprintf(r->trace, sizeof r->trace, "%s", x->trace);
	}
	if (a->quiet)
		return; /* the caller reports */
	if (a->json)
		print_json(a, id, x, el, cmd);
	else {
		print_text(id, x, el, cmd);
		print_split(a, id, x);
	}
}

/* The world of a (scenario, handler, variant); NULL after one error line.
 * *text: the scenario's bytes, for the traces to embed. */
static struct world *explore_world(const struct explore_args *a, struct scenario *scn,
				   char **text, size_t *len)
{
	char err[512];
	if (run_load_scenario(a->scenario, scn, text, len, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	const char *handler = a->handler ? a->handler : handler_default();
	uint64_t bits;
	char msg[160];
	if (variant_parse_list(handler, a->variant, &bits, msg, sizeof msg)) {
		fprintf(stderr, "uffdlab: %s\n", msg);
		return NULL;
	}
	if (!sched_strategy_of(a->strategy)) {
		fprintf(stderr, "uffdlab: unknown strategy %d\n", (int)a->strategy);
		return NULL;
	}
	struct world *w = world_new(scn, handler, bits);
	if (!w)
		fprintf(stderr, "uffdlab: out of memory\n");
	else
		world_set_kernel(w, a->kver);
	return w;
}

int drive_explore(const struct explore_args *a)
{
	static struct scenario scn; /* large; one per process */
	char *text = NULL;
	size_t len = 0;
	struct world *w = explore_world(a, &scn, &text, &len);
	if (!w) {
		free(text);
		return 2;
	}
	struct run_id id = {
		.scn = &scn,
		.handler = a->handler ? a->handler : handler_default(),
		.variant = a->variant ? a->variant : "",
		.strategy = a->strategy,
		.depth = a->depth ? a->depth : 3,
		.pct_k = a->pct_k,
		.max_steps = a->max_steps ? a->max_steps : RUN_MAX_STEPS_DEFAULT,
		.bound = a->bound,
		.preempt_bounded = a->preempt_bounded,
		.preemptions = a->preemptions,
		.scn_text = text,
		.scn_len = len,
		.kver = a->kver,
	};
	/* --bound alone is the search it always was; anything else goes
	 * through sched/dpor.c, reduced unless --no-reduce */
	int dflt = a->bound == EXPLORE_NO_BOUND || a->preempt_bounded;
	id.reduce = a->reduce ? a->reduce > 0 : dflt;
	id.dpor = dflt || id.reduce;
	/* the retry cut is part of the reduction: the plain search, the
	 * reference the soundness tests compare with, runs every retry */
	id.retry_cut = id.reduce && !a->no_retry_cut &&
		       (run_ops(&id)->flags & STRATEGY_EXHAUSTIVE);
	world_set_retry_cut(w, id.retry_cut);
	struct explored x = {.t0 = drv_now(), .found_prefix = SIZE_MAX};
	if (run_ops(&id)->flags & STRATEGY_EXHAUSTIVE)
		explore_dfs(w, a, &id, &x);
	else if (a->jobs > 1 || a->nshards > 1)
		explore_parallel(w, a, &id, &x);
	else
		explore_seeded(w, a, &id, &x);
	summarise(a, &id, &x);
	dfs_split_free(&x.split);
	free(x.prefixes);
	world_free(w);
	free(text);
	return x.status;
}

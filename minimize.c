/* Minimal failures (run.h, min_run): a failing schedule of a scenario is
 * shrunk to a fixed point of three moves, each re-verified by a run that
 * breaks the same invariant: the schedule (sched/shrink.c: fewest
 * preemptions, then steps, then switches), the scenario (one thing less,
 * scenarios/reduce.h: a thread, an operation, an `after`, a setting, a
 * fill or a page; its schedule carried over by thread name or, failing
 * that, found again by a small preemption-bounded search),
 * and a proof that the preemption count is minimal: every schedule of the
 * shrunk scenario with one preemption fewer (sched/dpor.c, no reduction,
 * so complete for that bound) fails otherwise or not at all. Before the
 * proof, random schedules within each smaller bound (sched/sample.h)
 * look for a smaller failure the tid-ordered search may not reach within
 * its budget. When either finds a failure, it has fewer preemptions and
 * the shrinking starts again from it. Nothing here reads the clock to decide
 * anything: budgets are counted in runs. */
#include "run.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "model/invariant.h"
#include "scenarios/reduce.h"
#include "sched/dpor.h"
#include "sched/rng.h"
#include "sched/sample.h"
#include "sched/shrink.h"

#define MIN_SEARCH_RUNS 2000 /* a candidate scenario's search for its failure */
#define MIN_MAP_TRIES 3      /* re-mappings of a schedule onto a candidate */
#define MIN_FIND_RUNS 2000   /* random schedules for fewer preemptions, per bound */

/* Thread names of one run, for carrying a schedule over to a scenario
 * whose threads got other ids. */
struct ttable {
	int n;
	char name[64][SCN_NAME_MAX];
};

/* The scenario being shrunk, its world and its current failing schedule. */
struct cur {
	const struct min_opts *o;
	struct scenario *scn;     /* heap: worlds keep a pointer to it */
	char *text;
	size_t len;
	struct world *w;
	uint32_t *c;
	size_t n;
	struct shrink_size size;
	struct ttable tt;
	unsigned tests;
	uint32_t *buf;            /* mapped schedules */
	size_t bufcap;
};

static struct sched_opts base_opts(const struct min_opts *o, enum sched_strategy s)
{
	struct sched_opts so = {.strategy = s, .seed = o->seed, .max_steps = o->max_steps};
	return so;
}

static void table_of(const sched_t *s, struct ttable *t)
{
	memset(t, 0, sizeof *t); /* no stale bytes past a name's end */
	t->n = sched_nthreads(s) < 64 ? sched_nthreads(s) : 64;
	for (int i = 0; i < t->n; i++)
		snprintf(t->name[i], sizeof t->name[i], "%s", sched_thread_name(s, i));
}

/* Guided run of (c, n) on w with runnable sets: 1 same invariant, 0 not,
 * -errno. */
static int guided(struct world *w, const struct min_opts *o, const uint32_t *c, size_t n,
		  unsigned *tests)
{
	struct sched_opts so = base_opts(o, SCHED_GUIDED);
	so.replay = c;
	so.replay_len = n;
	so.record_runnable = 1;
	struct verdict v;
	(*tests)++;
	int err = world_run(w, &so, NULL, NULL, &v);
	if (err)
		return err;
	return v.violated && strcmp(v.name, o->want) == 0;
}

struct sctx {
	struct world *w;
	const struct min_opts *o;
	unsigned *tests;
};

static int shrink_cb(void *ctx, const uint32_t *cand, size_t n, const uint32_t **actual,
		     const uint64_t **masks, size_t *nactual)
{
	struct sctx *s = ctx;
	int r = guided(s->w, s->o, cand, n, s->tests);
	if (r < 0)
		return r;
	size_t nm;
	int wide;
	*actual = sched_choices(world_sched(s->w), nactual);
	*masks = sched_runnable_masks(world_sched(s->w), &nm, &wide);
	return r;
}

/* The current schedule to its fixed point; then its size and thread
 * table from a run of it. 0 or -errno. */
static int shrink_schedule(struct cur *k)
{
	int r = guided(k->w, k->o, k->c, k->n, &k->tests);
	if (r <= 0)
		return r ? r : -EPROTO; /* it failed a moment ago */
	size_t nm;
	int wide;
	const uint64_t *m = sched_runnable_masks(world_sched(k->w), &nm, &wide);
	struct sctx s = {k->w, k->o, &k->tests};
	struct shrink_stats st;
	unsigned budget = (unsigned)(20000000 / (k->n + 1));
	int err = shrink_run(&k->c, &k->n, m, shrink_cb, &s, budget > 2000 ? 2000 : budget, &st);
	if (err)
		return err;
	r = guided(k->w, k->o, k->c, k->n, &k->tests);
	if (r <= 0)
		return r ? r : -EPROTO;
	m = sched_runnable_masks(world_sched(k->w), &nm, &wide);
	k->size = shrink_size_of(k->c, m, k->n);
	table_of(world_sched(k->w), &k->tt);
	return 0;
}

/* (c, n) from the threads of `from` onto those of `to` by (name, how many
 * of that name came before); steps of threads `to` lacks are dropped. */
static size_t map_schedule(const struct ttable *from, const struct ttable *to,
			   const uint32_t *c, size_t n, uint32_t *out)
{
	int map[64];
	for (int t = 0; t < from->n; t++) {
		int occ = 0;
		map[t] = -1;
		for (int u = 0; u < t; u++)
			occ += !strcmp(from->name[u], from->name[t]);
		for (int u = 0; u < to->n && map[t] < 0; u++)
			if (!strcmp(to->name[u], from->name[t]) && occ-- == 0)
				map[t] = u;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (c[i] < (uint32_t)from->n && map[c[i]] >= 0)
			out[k++] = (uint32_t)map[c[i]];
	return k;
}

struct pctx {
	struct world *w;
	const struct min_opts *o;
	unsigned *tests;
	uint64_t cap;             /* steps a run may take */
	uint64_t others;          /* runs that broke another invariant */
	uint64_t capped;          /* runs cut at cap: not a verdict */
};

static int proof_cb(void *ctx, const struct sched_explorer *ex)
{
	struct pctx *p = ctx;
	struct sched_opts so = base_opts(p->o, SCHED_DFS);
	so.explorer = ex;
	so.max_steps = p->cap;
	struct verdict v;
	(*p->tests)++;
	int err = world_run(p->w, &so, NULL, NULL, &v);
	if (err)
		return err;
	if (dpor_run_cut(ex))
		return 0;
	if (v.sres == SCHED_STEP_BOUND && p->cap < p->o->max_steps) {
		p->capped++; /* unfinished, not spun: it says nothing */
		return 0;
	}
	if (!v.violated)
		return 0;
	if (strcmp(v.name, p->o->want)) {
		p->others++;
		return 0;
	}
	return 1;
}

/* The steps a proof run may take: the step bound itself when the
 * invariant is the bound's (busy-spin, livelock), whose verdict a shorter
 * run could not reach. */
static uint64_t proof_cap(const struct min_opts *o)
{
	const struct invariant *inv = inv_find(o->want);
	if (!o->proof_steps || o->proof_steps >= o->max_steps ||
	    (inv && (inv->layers & (1u << INV_AT_BOUND))))
		return o->max_steps;
	return o->proof_steps;
}

/* Every schedule of w within `bound` preemptions, at most max_runs of
 * them, until one breaks the invariant: 1 with it in *fail (malloc'd), 0
 * none, -errno. *others / *capped grow by the runs that broke another
 * invariant / reached the cap. */
static int search(struct world *w, const struct min_opts *o, unsigned bound, uint64_t max_runs,
		  uint64_t cap, unsigned *tests, struct dpor_stats *ds, uint64_t *others,
		  uint64_t *capped, uint32_t **fail, size_t *nfail)
{
	struct pctx p = {.w = w, .o = o, .tests = tests, .cap = cap};
	struct dpor_opts d = {.reduce = 0, .preempt_bounded = 1, .preempt_bound = bound,
			      .max_runs = max_runs};
	int r = dpor_run(&d, proof_cb, &p, ds, fail, nfail);
	*others += p.others;
	*capped += p.capped;
	return r;
}

/* One random schedule within `bound` preemptions (sched/sample.h): 1 it
 * broke the invariant (its choices in *fail, malloc'd), 0 not, -errno. */
static int sample_one(struct cur *k, uint64_t seed, unsigned bound, uint32_t **fail,
		      size_t *nfail)
{
	struct sample sm;
	sample_init(&sm, seed, bound, k->n);
	struct sched_opts so = base_opts(k->o, SCHED_DFS);
	so.explorer = &sm.ex;
	so.max_steps = proof_cap(k->o);
	struct verdict v;
	k->tests++;
	int err = world_run(k->w, &so, NULL, NULL, &v);
	if (err)
		return err;
	if (!v.violated || strcmp(v.name, k->o->want))
		return 0;
	size_t n;
	const uint32_t *c = sched_choices(world_sched(k->w), &n);
	*fail = malloc((n ? n : 1) * sizeof **fail);
	if (!*fail)
		return -ENOMEM;
	memcpy(*fail, c, n * sizeof *c);
	*nfail = n;
	return 1;
}

/* A failure with fewer preemptions looked for by sampling before the
 * proof: MIN_FIND_RUNS random schedules within b preemptions, b = 0 ..
 * P-1. The plain bounded search is complete but runs its tree in tid
 * order, and where threads spin it can spend its budget in one corner
 * (a random finding of a bug that needs no preemption, shrunk to 4, was
 * then "not proven"). Every sampled run is a real schedule within b, so
 * what it finds is a smaller failure; never a proof. 1 taken (the
 * current schedule), 0 none, -errno. */
static int find_fewer(struct cur *k, uint64_t *sampled)
{
	for (unsigned b = 0; b < k->size.preempt && b < SAMPLE_MAX_BOUND; b++)
		for (uint64_t i = 0; i < MIN_FIND_RUNS; i++) {
			uint64_t x = k->o->seed ^ (uint64_t)b << 32 ^ i;
			uint32_t *fail = NULL;
			size_t nfail = 0;
			int e = sample_one(k, rng_splitmix64(&x), b, &fail, &nfail);
			++*sampled;
			if (e <= 0) {
				if (e < 0)
					return e;
				continue;
			}
			e = guided(k->w, k->o, fail, nfail, &k->tests);
			size_t nm;
			int wide;
			const uint64_t *m = sched_runnable_masks(world_sched(k->w), &nm, &wide);
			if (e != 1 || shrink_size_of(fail, m, nfail).preempt >= k->size.preempt) {
				free(fail);
				if (e != 1) /* it failed a moment ago: a replay must too */
					return e < 0 ? e : -EPROTO;
				continue; /* within b as sampled, yet not fewer as counted */
			}
			free(k->c);
			k->c = fail;
			k->n = nfail;
			return 1;
		}
	return 0;
}

/* The current thread table without scenario thread `dropped`'s name. */
static void guess_table(const struct cur *k, const struct scenario *from, int dropped,
			struct ttable *g)
{
	*g = k->tt;
	if (dropped < 0)
		return;
	for (int t = 0; t < g->n; t++)
		if (!strcmp(g->name[t], from->threads[dropped].name)) {
			memmove(g->name[t], g->name[t + 1], (size_t)(g->n - t - 1) * sizeof g->name[0]);
			g->n--;
			return;
		}
}

static int same_table(const struct ttable *a, const struct ttable *b)
{
	if (a->n != b->n)
		return 0;
	for (int t = 0; t < a->n; t++)
		if (strcmp(a->name[t], b->name[t]))
			return 0;
	return 1;
}

/* A run of candidate world w that breaks the invariant, with no more
 * preemptions than now: the schedule carried over by thread names, else
 * a small search. 1 and the schedule in k->buf / *n, 0 none, -errno. */
static int carry_over(struct cur *k, struct world *w, struct ttable *g, size_t *n)
{
	for (int a = 0; a < MIN_MAP_TRIES; a++) {
		*n = map_schedule(&k->tt, g, k->c, k->n, k->buf);
		int r = guided(w, k->o, k->buf, *n, &k->tests);
		if (r < 0)
			return r;
		size_t nm;
		int wide;
		const uint32_t *c = sched_choices(world_sched(w), n);
		const uint64_t *m = sched_runnable_masks(world_sched(w), &nm, &wide);
		if (r && shrink_size_of(c, m, *n).preempt <= k->size.preempt) {
			if (*n > k->bufcap)
				return -E2BIG; /* the caller sized buf for this */
			memcpy(k->buf, c, *n * sizeof *c);
			return 1;
		}
		struct ttable actual;
		table_of(world_sched(w), &actual);
		if (same_table(&actual, g))
			break; /* the mapping was right: the schedule does not carry */
		*g = actual;
	}
	struct dpor_stats ds;
	uint32_t *fail;
	uint64_t others = 0, capped = 0;
	int r = search(w, k->o, (unsigned)k->size.preempt, MIN_SEARCH_RUNS, proof_cap(k->o),
		       &k->tests, &ds, &others, &capped, &fail, n);
	if (r == 1) {
		if (*n > k->bufcap)
			r = -E2BIG;
		else
			memcpy(k->buf, fail, *n * sizeof *fail);
		free(fail);
	}
	return r;
}

/* Candidate s as the file the parser would read: text, parsed scenario
 * and world. 0, 1 when it does not parse or build (not a candidate),
 * -errno. */
static int materialise(const struct min_opts *o, const struct scenario *s, char **text,
		       size_t *len, struct scenario **parsed, struct world **w)
{
	int e = scn_write(s, o->comment, text, len);
	if (e)
		return e;
	*parsed = malloc(sizeof **parsed);
	if (!*parsed)
		return -ENOMEM;
	char err[512];
	if (scn_parse_bytes(o->scn_path, *text, *len, *parsed, err, sizeof err)) {
		if (o->verbose_parse) /* the first one is the input itself */
			fprintf(stderr, "uffdlab: the shrunk scenario does not parse: %s\n", err);
		return 1;
	}
	*w = world_new(*parsed, o->handler, o->bits);
	if (*w)
		world_set_kernel(*w, o->kver);
	return *w ? 0 : -ENOMEM;
}

/* Make candidate (text, scn, w) with schedule buf[0, n) the current one.
 * 0, or -ENOMEM (then nothing changed). */
static int adopt(struct cur *k, char *text, size_t len, struct scenario *scn, struct world *w,
		 size_t n)
{
	uint32_t *c = realloc(k->c, (n ? n : 1) * sizeof *c);
	if (!c)
		return -ENOMEM;
	k->c = c;
	world_free(k->w);
	free(k->scn);
	free(k->text);
	k->w = w;
	k->scn = scn;
	k->text = text;
	k->len = len;
	memcpy(k->c, k->buf, n * sizeof *c);
	k->n = n;
	return 0;
}

/* Try candidates in order until one still fails: 1 adopted, 0 none
 * left (a fixed point), -errno. */
static int reduce_scenario(struct cur *k)
{
	static struct scenario s; /* large; candidates are tried one at a time */
	for (int i = 0;; i++) {
		int dropped, r = scn_reduce(k->scn, i, &s, &dropped);
		if (r < 0)
			return 0;
		if (!r)
			continue;
		char *text = NULL;
		size_t len = 0, n = 0;
		struct scenario *parsed = NULL;
		struct world *w = NULL;
		int e = materialise(k->o, &s, &text, &len, &parsed, &w);
		if (!e) {
			struct ttable g;
			guess_table(k, k->scn, dropped, &g);
			e = carry_over(k, w, &g, &n);
			if (e == 1 && !(e = adopt(k, text, len, parsed, w, n)))
				return 1;
		}
		world_free(w);
		free(parsed);
		free(text);
		if (e < 0)
			return e;
	}
}

static void sizes_of(const struct cur *k, struct min_sizes *z)
{
	z->steps = k->size.steps;
	z->preempt = k->size.preempt;
	z->switches = k->size.switches;
	z->threads = k->scn->nthreads;
	z->ops = scn_nops(k->scn);
	z->pages = k->scn->pages;
}

/* Prove the preemption count P minimal: every schedule within b
 * preemptions, b = 0, 1, ... P-1 (iterative deepening: the lower bounds
 * are cheap, and the first that fails gives the minimum at once). 0
 * proved (or nothing to prove), 1 a failure with fewer preemptions is now
 * the current schedule, 2 the budget ran out, -errno. */
static int prove(struct cur *k, struct min_result *r)
{
	r->proof = 0;
	r->proof_bound = 0;
	r->proof_runs = r->proof_all = r->proof_others = r->proof_capped = 0;
	r->proof_sampled = 0;
	r->proof_cap = proof_cap(k->o);
	double t0 = drv_now();
	r->proof_sampled_to = k->size.preempt < SAMPLE_MAX_BOUND ? (unsigned)k->size.preempt - 1
								  : SAMPLE_MAX_BOUND - 1;
	int f = k->size.preempt ? find_fewer(k, &r->proof_sampled) : 0;
	if (f)
		return f;
	for (unsigned b = 0; b < k->size.preempt; b++) {
		struct dpor_stats ds;
		uint32_t *fail;
		size_t nfail;
		uint64_t left = k->o->proof_runs - r->proof_all;
		int e = search(k->w, k->o, b, left, r->proof_cap, &k->tests, &ds,
			       &r->proof_others, &r->proof_capped, &fail, &nfail);
		r->proof_all += ds.runs;
		r->proof_s = drv_now() - t0;
		if (e < 0)
			return e;
		if (e == 1) {
			free(k->c);
			k->c = fail;
			k->n = nfail;
			return 1;
		}
		r->proof_bound = b;
		r->proof_runs = ds.runs;
		if (!ds.exhausted) {
			r->proof = ds.wide ? -2 : -1;
			return 2;
		}
		r->proof = 1;
		if (r->proof_all >= k->o->proof_runs && b + 1 < k->size.preempt) {
			r->proof = -1;
			return 2;
		}
	}
	return 0;
}

/* The three moves to their fixed point. 0 or -errno. */
static int fixed_point(struct cur *k, struct min_result *r)
{
	for (;;) {
		int e = shrink_schedule(k);
		if (e)
			return e;
		e = reduce_scenario(k);
		if (e < 0)
			return e;
		if (e)
			continue;
		e = prove(k, r);
		if (e < 0)
			return e;
		if (e != 1)
			return 0;
	}
}

int min_run(const struct min_opts *o, const struct scenario *scn, const uint32_t *c, size_t n,
	    struct min_result *r)
{
	struct cur k = {.o = o, .bufcap = o->max_steps + 1};
	k.buf = malloc(k.bufcap * sizeof *k.buf);
	k.c = malloc((n ? n : 1) * sizeof *k.c);
	int e = -ENOMEM;
	if (k.buf && k.c) {
		/* from the start, the scenario is the text the shrunk one is
		 * written as, under its path (comments go) */
		memcpy(k.c, c, n * sizeof *c);
		k.n = n;
		/* expect lines belong to the scenario shrunk from */
		static struct scenario s;
		s = *scn;
		s.nexpect = 0;
		s.expect[0] = 0;
		struct min_opts ov = *o;
		ov.verbose_parse = 1;
		e = materialise(&ov, &s, &k.text, &k.len, &k.scn, &k.w);
		if (e == 1)
			e = -EINVAL; /* scn_write wrote what the parser refuses */
		/* a directive scn_write does not know would be lost */
		if (!e && (e = guided(k.w, o, k.c, k.n, &k.tests)) >= 0)
			e = e ? 0 : -ENOTSUP;
	}
	if (!e)
		e = fixed_point(&k, r);
	free(k.buf);
	world_free(k.w);
	if (e) {
		free(k.scn);
		free(k.text);
		free(k.c);
		return e;
	}
	sizes_of(&k, &r->to);
	r->scn = k.scn;
	r->text = k.text;
	r->len = k.len;
	r->c = k.c;
	r->n = k.n;
	r->tests = k.tests;
	return 0;
}

void min_free(struct min_result *r)
{
	free(r->scn);
	free(r->text);
	free(r->c);
	r->scn = NULL;
	r->text = NULL;
	r->c = NULL;
}

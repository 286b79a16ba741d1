/* tests/fuzz/fuzz_sim.c — the simulator driven by arbitrary schedules.
 *
 * What a hand-edited trace feeds `uffdlab replay`: a library scenario, a
 * handler (and variant) and a sequence of thread ids. Input bytes:
 *   0     the scenario: index into scn_list_dir(scenarios/), modulo
 *   1     the handler and variant: index into (handler, none | one
 *         variant it accepts) over the registry, modulo
 *   2     bit 0: SCHED_GUIDED, else SCHED_REPLAY; bit 1: step labels on
 *   3...  the choices, one byte each: 0..253 that thread id, 254 the
 *         largest id a trace may hold (65535), 255 UINT32_MAX
 * world_run() runs it within FUZZ_SIM_MAX_STEPS steps. It must never
 * crash, and the run must keep the contracts of model/world.h and
 * sched/sched.h:
 *  - a verdict whose name is a registered invariant or outcome
 *    (inv_known), with a text; no verdict only when every thread ended
 *    (or, in a scenario whose source fails for good, nothing can run);
 *  - every step ran a thread that was runnable; REPLAY followed the
 *    choices exactly and stops only by diverging, a violation or the end;
 *    GUIDED took the choice where it named a runnable thread, else the
 *    previous step's thread, else the lowest runnable one, and never
 *    diverges;
 *  - with labels, every step has a label and keeps all its typed events
 *    (none lost), and the steps written through the trace writer with the
 *    model's schema (as explore writes them) end cleanly and read back as
 *    the same steps, labels and events, checksum matching;
 *  - a second run on the same (reused) world gives the same verdict, the
 *    same choices and, with labels, the same step labels and events.
 */
#include "tests/fuzz/fuzz.h"

#include <sys/time.h>

#include "handler/handler.h"
#include "handler/variants.h"
#include "model/event.h"
#include "model/invariant.h"
#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/trace.h"

#define FUZZ_SIM_MAX_STEPS 3000
#define MAX_SCN 64
#define MAX_COMBOS 64

static struct scenario lib[MAX_SCN];
static int nlib;
static struct {
	const char *handler;
	uint64_t variant;
} combos[MAX_COMBOS];
static int ncombos;

static void load_library(void)
{
	static char names[MAX_SCN][256];
	char err[FUZZ_ERR_LEN];
	const char *src = getenv("UFFDLAB_SRCDIR");
	char dir[512];

	snprintf(dir, sizeof dir, "%s/scenarios", src ? src : UFFDLAB_SRCDIR);
	int n = scn_list_dir(dir, names, MAX_SCN);

	if (n <= 0)
		fuzz_fail("no scenario library in %s (%d): run from the repository "
			  "or set UFFDLAB_SRCDIR", dir, n);
	for (int i = 0; i < n; i++)
		if (scn_parse_file(names[i], &lib[i], err, sizeof err))
			fuzz_fail("library scenario does not parse: %s", err);
	nlib = n;
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);

	for (int h = 0; h < nh; h++) {
		if (ncombos < MAX_COMBOS)
			combos[ncombos++].handler = hs[h]->name;
		for (const struct variant_info *v = variant_table; v->name; v++)
			if ((hs[h]->variants & v->bit) && ncombos < MAX_COMBOS) {
				combos[ncombos].handler = hs[h]->name;
				combos[ncombos++].variant = v->bit;
			}
	}
	if (!ncombos)
		fuzz_fail("no handler registered");
}

/* The step sink: every step once, in order, by a thread that exists,
 * with a label and no lost event; each step also goes through the trace
 * writer (with the model's schema, as explore writes it), and the whole
 * is folded into a hash for the determinism check. */
struct sink {
	uint64_t next, hash;
	struct trace_writer w;
	FILE *f;
	char *text;
	size_t len;
};

static uint64_t hash_step(uint64_t h, uint64_t step, int tid,
			  const char *label, const struct sched_event *ev,
			  size_t nev)
{
	h = (h ^ step ^ (uint64_t)tid << 40) * 0x100000001b3ULL;
	for (const char *p = label; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (size_t i = 0; i < nev; i++) {
		h = (h ^ ev[i].kind ^ (uint64_t)ev[i].nf << 16) * 0x100000001b3ULL;
		for (unsigned j = 0; j < ev[i].nf && j < SCHED_EV_FIELDS; j++)
			h = (h ^ (uint64_t)ev[i].f[j]) * 0x100000001b3ULL;
	}
	return h;
}

static void sink(void *ctx, const struct sched_step_info *st)
{
	struct sink *k = ctx;

	if (st->step != k->next++)
		fuzz_fail("sink: step %llu, expected %llu",
			  (unsigned long long)st->step,
			  (unsigned long long)k->next - 1);
	if (st->tid < 0 || !st->label || !*st->label)
		fuzz_fail("sink: step %llu: tid %d, label %s",
			  (unsigned long long)st->step, st->tid,
			  st->label ? "empty" : "NULL");
	if (st->ev_lost || st->nev > SCHED_STEP_EVENTS || (st->nev && !st->ev))
		fuzz_fail("sink: step %llu: %zu events, %zu lost: its trace cannot be written",
			  (unsigned long long)st->step, st->nev, st->ev_lost);
	k->hash = hash_step(k->hash, st->step, st->tid, st->label, st->ev, st->nev);
	trace_step_sink(&k->w, st);
}

/* The trace the sink wrote must end cleanly, and read back (same schema)
 * to the steps, labels and events the sink saw. */
static void check_written(struct sink *k, const struct verdict *v, size_t n)
{
	static char err[FUZZ_ERR_LEN];
	char viol[600];
	struct trace t;

	snprintf(viol, sizeof viol, "%s: %s", v->name, v->text);
	int e = trace_end(&k->w, v->violated ? viol : NULL);

	fclose(k->f);
	if (e)
		fuzz_fail("the run's trace could not be written (error %d)", e);
	FILE *f = fmemopen(k->text, k->len, "r");

	if (!f)
		fuzz_fail("fmemopen failed");
	if (trace_read_stream(f, "run.trace", &mev_schema, &t, err, sizeof err))
		fuzz_fail("the run's own trace does not read back: %s", err);
	fclose(f);
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < t.nsteps; i++)
		h = hash_step(h, t.steps[i].step, (int)t.steps[i].tid,
			      t.steps[i].label, t.steps[i].ev, t.steps[i].nev);
	if (t.nsteps != n || h != k->hash || t.checksum != 1)
		fuzz_fail("the run's trace reads back as something else (%zu steps of %zu, checksum %d)",
			  t.nsteps, n, t.checksum);
	trace_free(&t);
	free(k->text);
}

struct outcome {
	struct verdict v;
	uint32_t *choices;
	size_t n;
	uint64_t labels;
};

/* A `source-fail P 0`: the handler may give up and the run end stuck. */
static int fails_for_good(const struct scenario *s)
{
	for (int t = 0; t < s->nthreads; t++)
		for (int o = 0; o < s->threads[t].nops; o++)
			if (s->threads[t].ops[o].kind == SCN_SOURCE_FAIL &&
			    s->threads[t].ops[o].b == 0)
				return 1;
	return 0;
}

/* The verdict is a registered name with a text, or none only where the
 * run ended (or a permanent source failure tore it down by design). */
static void check_verdict(const struct scenario *scn, const struct sched_opts *o,
			  const struct verdict *v, const sched_t *s, size_t n)
{
	if (v->violated) {
		if (!memchr(v->name, '\0', sizeof v->name) || !inv_known(v->name))
			fuzz_fail("verdict '%.31s' is no registered invariant or outcome",
				  v->name);
		if (!memchr(v->text, '\0', sizeof v->text) || !v->text[0])
			fuzz_fail("verdict %s without a text", v->name);
	} else if (v->sres != SCHED_DONE &&
		   !(v->sres == SCHED_STUCK && fails_for_good(scn))) {
		/* stuck without a verdict: only the teardown a permanent
		 * source failure causes by design (model/world.c) */
		fuzz_fail("no verdict, yet the run ended with sched result %d", v->sres);
	}
	if (v->sres == SCHED_DIVERGED && strcmp(v->name, "replay-diverged"))
		fuzz_fail("a diverged replay reported as '%s'", v->name);
	if (!strcmp(v->name, "replay-diverged") && v->sres != SCHED_DIVERGED)
		fuzz_fail("replay-diverged without a divergence (sched result %d)", v->sres);
	if (o->strategy == SCHED_GUIDED && v->sres == SCHED_DIVERGED)
		fuzz_fail("a guided run diverged");
	if (v->steps != sched_steps(s) || v->steps != n || v->steps > o->max_steps)
		fuzz_fail("steps: verdict %llu, sched %llu, choices %zu",
			  (unsigned long long)v->steps,
			  (unsigned long long)sched_steps(s), n);
}

/* Every step ran a runnable thread; REPLAY followed the choices exactly,
 * GUIDED followed sched.h's rule. */
static void check_schedule(const struct sched_opts *o, const sched_t *s, size_t n)
{
	size_t nn, nm;
	int wide;
	const uint32_t *c = sched_choices(s, &nn);
	const uint64_t *m = sched_runnable_masks(s, &nm, &wide);
	int nth = sched_nthreads(s);

	if (nm != n || (n && !m))
		fuzz_fail("%zu runnable masks for %zu steps", nm, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t t = c[i];

		if (t >= (uint32_t)nth)
			fuzz_fail("step %zu ran thread %u of %d", i, t, nth);
		if (!wide && !(m[i] >> t & 1))
			fuzz_fail("step %zu ran thread %u, which was not runnable", i, t);
		if (o->strategy == SCHED_REPLAY) {
			if (i >= o->replay_len || t != o->replay[i])
				fuzz_fail("replay: step %zu ran %u, the schedule says %u", i,
					  t, i < o->replay_len ? o->replay[i] : 0);
			continue;
		}
		if (wide)
			continue;
		uint32_t want;
		uint64_t runnable = m[i];

		if (i < o->replay_len && o->replay[i] < 64 &&
		    (runnable >> o->replay[i] & 1))
			want = o->replay[i];
		else if (i > 0 && (runnable >> c[i - 1] & 1))
			want = c[i - 1];
		else
			want = (uint32_t)__builtin_ctzll(runnable);
		if (t != want)
			fuzz_fail("guided: step %zu ran %u, the rule gives %u", i, t, want);
	}
}

static void run(struct world *w, const struct scenario *scn,
		const struct sched_opts *o, struct outcome *out)
{
	struct sink k = {.hash = 0xcbf29ce484222325ULL};

	if (o->labels) {
		if (!(k.f = open_memstream(&k.text, &k.len)))
			fuzz_fail("open_memstream: out of memory");
		trace_writer_open(&k.w, k.f);
		trace_writer_schema(&k.w, &mev_schema);
	}
	int e = world_run(w, o, o->labels ? sink : NULL, &k, &out->v);

	if (e)
		fuzz_fail("world_run could not start: %d", e);
	const sched_t *s = world_sched(w);
	size_t n;
	const uint32_t *c = sched_choices(s, &n);

	check_verdict(scn, o, &out->v, s, n);
	check_schedule(o, s, n);
	if (o->labels && k.next != n)
		fuzz_fail("sink saw %llu steps of %zu", (unsigned long long)k.next, n);
	if (o->labels)
		check_written(&k, &out->v, n);
	out->labels = k.hash;
	out->n = n;
	out->choices = malloc((n ? n : 1) * sizeof *out->choices);
	if (!out->choices)
		fuzz_fail("out of memory");
	memcpy(out->choices, c, n * sizeof *c);
}

/* FUZZ_ALARM_US=N: re-arm the real-time timer every N microseconds, so that
 * libFuzzer's own SIGALRM handler (-timeout) runs thousands of times a
 * second, mostly on a coroutine stack: the stress behind tests/fuzz/
 * README.md "SIGALRM and the coroutine stacks". */
static void alarm_stress(void)
{
	const char *us = getenv("FUZZ_ALARM_US");
	long n = us ? strtol(us, NULL, 10) : 0;

	if (n > 0) {
		struct itimerval it = {{n / 1000000, n % 1000000},
				       {n / 1000000, n % 1000000}};

		setitimer(ITIMER_REAL, &it, NULL);
	}
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	if (!nlib) {
		load_library();
		alarm_stress();
	}
	if (size < 3)
		return 0;
	const struct scenario *scn = &lib[data[0] % nlib];
	int ci = data[1] % ncombos;
	size_t len = size - 3;
	uint32_t *choices = malloc((len ? len : 1) * sizeof *choices);

	if (!choices)
		return 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = data[3 + i];

		choices[i] = b < 254 ? b : b == 254 ? 65535 : UINT32_MAX;
	}
	static int only = -1; /* FUZZ_SIM_ONLY=guided|replay: one strategy */

	if (only < 0) {
		const char *e = getenv("FUZZ_SIM_ONLY");

		only = !e ? 0 : !strcmp(e, "guided") ? 1 : !strcmp(e, "replay") ? 2 : 0;
	}
	struct sched_opts o = {
		.strategy = only == 1 || (only == 0 && (data[2] & 1)) ?
			SCHED_GUIDED : SCHED_REPLAY,
		.seed = 1,
		.max_steps = FUZZ_SIM_MAX_STEPS,
		.replay = choices,
		.replay_len = len,
		.labels = (data[2] >> 1) & 1,
		.record_runnable = 1,
	};
	struct world *w = world_new(scn, combos[ci].handler, combos[ci].variant);

	if (!w)
		fuzz_fail("world_new(%s, %s, %#llx) failed", scn->name,
			  combos[ci].handler, (unsigned long long)combos[ci].variant);
	struct outcome a, b;

	run(w, scn, &o, &a);
	run(w, scn, &o, &b);
	if (a.v.violated != b.v.violated || strcmp(a.v.name, b.v.name) ||
	    strcmp(a.v.text, b.v.text) || a.v.steps != b.v.steps ||
	    a.v.sres != b.v.sres || strcmp(a.v.relaxed, b.v.relaxed) ||
	    a.n != b.n || memcmp(a.choices, b.choices, a.n * sizeof *a.choices) ||
	    a.labels != b.labels)
		fuzz_fail("%s on %s: a second run of the same schedule differs: "
			  "'%s' %llu steps / '%s' %llu steps", combos[ci].handler,
			  scn->name, a.v.name, (unsigned long long)a.v.steps, b.v.name,
			  (unsigned long long)b.v.steps);
	if (getenv("FUZZ_VERBOSE")) {
		fprintf(stderr, "fuzz_sim: %s, %s%s%s, %s%s, %zu choices: %s after %llu steps%s%s\n",
			scn->path, combos[ci].handler, combos[ci].variant ? "/" : "",
			combos[ci].variant ? variant_name(combos[ci].variant) : "",
			o.strategy == SCHED_GUIDED ? "guided" : "replay",
			o.labels ? " (labels)" : "", len,
			a.v.violated ? a.v.name : "no violation",
			(unsigned long long)a.v.steps, a.v.violated ? ": " : "",
			a.v.violated ? a.v.text : "");
	}
	free(a.choices);
	free(b.choices);
	world_free(w);
	free(choices);
	return 0;
}

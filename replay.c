/* The replay driver: read a trace, run its schedule again in the simulator
 * and require the regenerated trace to be the same file, byte for byte. */
#include "run.h"
#include "model/kernel.h"
#include "model/world.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "handler/handler.h"
#include "handler/variants.h"
#include "json.h"
#include "scenarios/lex.h"
#include "model/event.h"
#include "model/version.h"
#include "real/replay_real.h"
#include "sched/files.h"
#include "sched/trace.h"

static int bad_trace(const char *path, const struct trace *t, const char *key,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The line of key's first header line (the magic line is line 1). */
static size_t key_line(const struct trace *t, const char *key)
{
	for (size_t i = 0; i < t->nkv; i++)
		if (strcmp(t->kv[i].key, key) == 0)
			return i + 2;
	return 1;
}

/* One line naming the header line of key. */
static int bad_trace(const char *path, const struct trace *t, const char *key,
		     const char *fmt, ...)
{
	fprintf(stderr, "%s:%zu: ", path, key_line(t, key));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/* The regenerated trace, all of it or nothing (sched/files.h). */
static int write_out(const char *path, const char *text, size_t len)
{
	struct output o;
	int e = output_open(&o, path);
	if (e)
		return e;
	if (fwrite(text, 1, len, o.f) != len) {
		e = errno ? -errno : -EIO;
		output_abort(&o);
		return e;
	}
	return output_commit(&o);
}

static int parse_u64(const char *s, uint64_t *out)
{
	/* the writer prints canonical decimal: anything else was edited */
	if (!s || !*s || (s[0] == '0' && s[1]) || strspn(s, "0123456789") != strlen(s))
		return -1;
	return scn_parse_u64(s, out) ? -1 : 0;
}

/* The scenario embedded in the trace (into scn and id->scn_text, which the
 * caller frees): its hash must be scenario-hash, and a file still at the
 * recorded path must be the same text. 0, or 2 after one error line. */
static int header_scenario(const char *path, const struct trace *t,
			   struct scenario *scn, struct run_id *id)
{
	const char *spath = trace_get(t, "scenario"), *shash = trace_get(t, "scenario-hash");
	char *text = NULL, *file = NULL, err[600], hash[17];
	size_t len = 0, flen = 0, bad_line = 0;
	int e = run_embedded_scenario(t, &text, &len, &bad_line);
	if (e == -EINVAL) {
		fprintf(stderr, "%s:%zu: bad escape in scenario-text\n", path, bad_line);
		return 2;
	}
	if (e)
		return bad_trace(path, t, "scenario", e == -ENOENT ?
				 "trace embeds no scenario-text" : "out of memory");
	id->scn_text = text;
	id->scn_len = len;
	snprintf(hash, sizeof hash, "%016" PRIx64, scn_hash_bytes(text, len));
	if (strcmp(hash, shash))
		return bad_trace(path, t, "scenario-hash",
				 "the embedded scenario-text has hash %s, not %s", hash, shash);
	if (input_read_all(spath, &file, &flen) == 0) {
		snprintf(hash, sizeof hash, "%016" PRIx64, scn_hash_bytes(file, flen));
		free(file);
		if (strcmp(hash, shash))
			return bad_trace(path, t, "scenario-hash",
					 "scenario %s changed since the trace was recorded (hash %s, now %s)",
					 spath, shash, hash);
	}
	if (scn_parse_bytes(spath, text, len, scn, err, sizeof err))
		return bad_trace(path, t, "scenario-text",
				 "the embedded scenario does not parse: %s", err);
	return 0;
}

/* The header's semantics, scenario (embedded; checked against the file),
 * handler and variant. 0, or 2 after one error line. */
static int header_run(const char *path, const struct trace *t, struct scenario *scn,
		      struct run_id *id, uint64_t *bits)
{
	const char *sem = trace_get(t, "semantics"), *spath = trace_get(t, "scenario");
	const char *shash = trace_get(t, "scenario-hash"), *handler = trace_get(t, "handler");
	const char *variant = trace_get(t, "variant");
	char want[16];
	snprintf(want, sizeof want, "%d", UFFDLAB_SEMANTICS);
	if (!sem || strcmp(sem, want))
		return bad_trace(path, t, sem ? "semantics" : "scenario",
				 "trace of semantics %s, this uffdlab is semantics %s: refusing to replay (the model, a handler or the format changed)",
				 sem ? sem : "(none)", want);
	if (!spath || !shash || !handler || !variant || !trace_get(t, "strategy"))
		return bad_trace(path, t, "semantics",
				 "trace header lacks scenario, scenario-hash, handler, variant or strategy");
	int st = header_scenario(path, t, scn, id);
	if (st)
		return st;
	id->handler = handler;
	id->variant = strcmp(variant, "none") ? variant : "";
	/* a trace from before kernel profiles has no "kernel": 6.18 */
	const char *kname = trace_get(t, "kernel");
	const struct mk_profile *kp = kname ? mk_profile_named(kname) : mk_profile(0);
	if (!kp)
		return bad_trace(path, t, "kernel", "unknown kernel profile '%s' (6.1, 6.12, 6.18)", kname);
	id->kver = (int)kp->kver;
	char msg[160];
	if (!handler_find(handler))
		return bad_trace(path, t, "handler", "unknown handler '%s'", handler);
	if (variant_parse_list(handler, id->variant, bits, msg, sizeof msg))
		return bad_trace(path, t, "variant", "%s", msg);
	return 0;
}

/* The header's strategy with its parameters, seed, max-steps, shrunk. */
static int header_strategy(const char *path, const struct trace *t, struct run_id *id)
{
	const char *strategy = trace_get(t, "strategy");
	const struct sched_strategy_ops *ops = sched_strategy_find(strategy);
	if (!ops || !(ops->flags & STRATEGY_CLI))
		return bad_trace(path, t, "strategy", "unknown strategy '%s'", strategy);
	id->strategy = ops->id;
	uint64_t b, d;
	if (ops->opts & STRATEGY_OPT_BOUND) {
		const char *bs = trace_get(t, "dfs-bound");
		if (bs && !strcmp(bs, "none"))
			b = EXPLORE_NO_BOUND;
		else if (parse_u64(bs, &b) || b > 1000)
			return bad_trace(path, t, "dfs-bound", "bad or missing dfs-bound");
		id->bound = (unsigned)b;
		const char *ps = trace_get(t, "dfs-preemptions"), *rs = trace_get(t, "dfs-reduce");
		if (ps && (parse_u64(ps, &b) || b > 1000))
			return bad_trace(path, t, "dfs-preemptions", "bad dfs-preemptions");
		id->preempt_bounded = ps != NULL;
		id->preemptions = ps ? (unsigned)b : 0;
		id->dpor = rs != NULL;
		id->reduce = rs && !strcmp(rs, "on");
		const char *cs = trace_get(t, "dfs-retry-cut");
		if (cs && strcmp(cs, "off"))
			return bad_trace(path, t, "dfs-retry-cut", "dfs-retry-cut must be off or absent");
		id->retry_cut = id->reduce && !cs;
	}
	if (parse_u64(trace_get(t, "seed"), &id->seed) ||
	    parse_u64(trace_get(t, "max-steps"), &id->max_steps))
		return bad_trace(path, t, "seed", "bad or missing seed / max-steps");
	if (ops->opts & STRATEGY_OPT_DEPTH) {
		if (parse_u64(trace_get(t, "pct-depth"), &d) ||
		    parse_u64(trace_get(t, "pct-k"), &id->pct_k) || d < 1 || d > 1000)
			return bad_trace(path, t, "pct-depth", "bad or missing pct-depth / pct-k");
		id->depth = (int)d;
	}
	const char *shrunk = trace_get(t, "shrunk");
	if (shrunk)
		snprintf(id->shrunk, sizeof id->shrunk, "%s", shrunk);
	const char *ss = trace_get(t, "shrunk-scenario"), *mn = trace_get(t, "minimal");
	snprintf(id->shrunk_scn, sizeof id->shrunk_scn, "%s", ss ? ss : "");
	snprintf(id->minimal, sizeof id->minimal, "%s", mn ? mn : "");
	return 0;
}

/* The outcome of a replay, for the summary. */
struct replayed {
	struct verdict v;
	int same;
	size_t line;              /* the first line that differs, if !same */
};

/* The line (of the old text) from which a and b differ, in the steps
 * first: an edited step changes the thread table the replay writes in the
 * header, and the step is what the user changed. 1-based. */
static size_t first_difference(const char *a, size_t na, const char *b, size_t nb)
{
	const char *sa = memmem(a, na, "\nsteps\n", 7), *sb = memmem(b, nb, "\nsteps\n", 7);
	size_t from_a = 0, from_b = 0, line = 1;
	if (sa && sb) {
		size_t ra = na - (size_t)(sa - a), rb = nb - (size_t)(sb - b);
		size_t k = 0;
		while (k < ra && k < rb && sa[k] == sb[k])
			k++;
		if (k < ra || k < rb) { /* the steps differ */
			from_a = (size_t)(sa - a);
			from_b = (size_t)(sb - b);
		}
	}
	for (size_t i = 0; i < from_a; i++)
		line += a[i] == '\n';
	for (size_t i = from_a, j = from_b; i < na && j < nb && a[i] == b[j]; i++, j++)
		line += a[i] == '\n';
	return line;
}

/* Replay t's choices, regenerate the trace, compare it with the file (and
 * write it to out_path). 0, or 2 after one error line. */
static int regenerate(struct world *w, const struct run_id *id, const struct trace *t,
		      const char *path, const char *out_path, struct replayed *r)
{
	size_t nchoices, newlen = 0, oldlen = 0;
	const uint32_t *choices = trace_choices(t, &nchoices);
	struct recording rec = {0};
	int e = run_record(w, id, choices, nchoices, &rec, &r->v);
	if (e) {
		fprintf(stderr, "uffdlab: replay could not start: %s\n", strerror(-e));
		rec_free(&rec);
		return 2;
	}
	char *newtext = run_trace_text(id, &rec, &r->v, &newlen), *oldtext = NULL;
	rec_free(&rec);
	int status = 0;
	if (!newtext || input_read_all(path, &oldtext, &oldlen)) {
		fprintf(stderr, "uffdlab: %s: cannot compare the traces\n", path);
		status = 2;
	} else {
		r->same = newlen == oldlen && memcmp(newtext, oldtext, newlen) == 0;
		r->line = r->same ? 0 : first_difference(oldtext, oldlen, newtext, newlen);
		int e = out_path ? write_out(out_path, newtext, newlen) : 0;
		if (e) {
			fprintf(stderr, "uffdlab: %s: %s\n", out_path, strerror(-e));
			status = 2;
		}
	}
	free(newtext);
	free(oldtext);
	return status;
}

static void print_replay(const char *path, const struct replayed *r, int json)
{
	const struct verdict *v = &r->v;
	if (json) {
		struct json j;
		json_begin(&j, stdout);
		json_string(&j, "trace", path);
		json_bool(&j, "identical", r->same);
		json_u64(&j, "steps", v->steps);
		if (v->violated) {
			json_object_begin(&j, "violation");
			json_string(&j, "name", v->name);
			json_string(&j, "text", v->text);
			json_object_end(&j);
		} else {
			json_null(&j, "violation");
		}
		if (!r->same)
			json_u64(&j, "first_difference_line", r->line);
		json_end(&j);
	} else if (r->same) {
		printf("%s: reproduced byte for byte (%" PRIu64 " steps): %s%s%s\n", path,
		       v->steps, v->violated ? v->name : "no violation", v->violated ? ": " : "",
		       v->violated ? v->text : "");
	} else {
		printf("%s:%zu: determinism bug: the replay differs from the trace from this line on\n",
		       path, r->line);
	}
}

/* The seed must still make the run the trace says it made: for random and
 * PCT, the seed's own run (not the recorded choices) breaks the same
 * invariant, and makes exactly the recorded choices if nothing shrank
 * them. DFS has no seed. 0, or -1 with why filled. */
static int seed_check(struct world *w, const struct run_id *id, const struct trace *t,
		      const struct replayed *r, char *why, size_t n)
{
	if (id->strategy != SCHED_RANDOM && id->strategy != SCHED_PCT)
		return 0;
	struct sched_opts o = run_opts(id);
	struct verdict v;
	if (world_run(w, &o, NULL, NULL, &v)) {
		snprintf(why, n, "the seed's run could not start");
		return -1;
	}
	if (v.violated != r->v.violated || strcmp(v.name, r->v.name)) {
		snprintf(why, n, "seed %" PRIu64 " now gives %s, the trace says %s", id->seed,
			 v.violated ? v.name : "no violation",
			 r->v.violated ? r->v.name : "no violation");
		return -1;
	}
	size_t na, nb;
	const uint32_t *a = sched_choices(world_sched(w), &na), *b = trace_choices(t, &nb);
	if (!id->shrunk[0] && (na != nb || memcmp(a, b, na * sizeof *a))) {
		snprintf(why, n, "seed %" PRIu64 " now makes other choices than the trace records",
			 id->seed);
		return -1;
	}
	return 0;
}

/* An edited trace: the first line that differs from its replay; if only
 * the checksum line does, the edit left the replay alone, and the seed
 * check may still see it (an edited seed). Always 2. */
static int edited(struct world *w, const struct run_id *id, const struct trace *t,
		  const char *path, const struct replayed *r)
{
	const char *how = t->checksum ? "its checksum does not match" : "it has no checksum line";
	char why[200];
	size_t line = r->line;
	if (t->checksum && line == t->checksum_line && seed_check(w, id, t, r, why, sizeof why)) {
		fprintf(stderr, "%s:%zu: the trace was edited (%s): %s\n", path,
			key_line(t, "seed"), how, why);
		return 2;
	}
	fprintf(stderr, "%s:%zu: the trace was edited (%s): this line differs from its replay\n",
		path, line, how);
	return 2;
}

/* After the replay: an edited trace is bad input (2); an authentic one
 * that does not replay, or whose seed no longer makes its run, is a
 * determinism bug (3). */
static int verdict_of(struct world *w, const struct run_id *id, const struct trace *t,
		      const char *path, const struct replayed *r, int json)
{
	if (t->checksum != 1)
		return edited(w, id, t, path, r);
	char why[200];
	if (r->same && seed_check(w, id, t, r, why, sizeof why)) {
		printf("%s:%zu: determinism bug: %s\n", path, key_line(t, "seed"), why);
		return 3;
	}
	print_replay(path, r, json);
	return r->same ? (r->v.violated ? 1 : 0) : 3;
}

/* Read a trace and its header's run (scenario, handler, variants): 0, or
 * 2 after one error line. t is safe to free either way. */
static int load_trace(const char *path, struct trace *t, struct scenario *scn,
		      struct run_id *id, uint64_t *bits)
{
	char err[600];
	*bits = 0;
	if (trace_read(path, &mev_schema, t, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	return header_run(path, t, scn, id, bits);
}

int replay_load(const char *path, struct trace *t, struct scenario *scn, struct run_id *id,
		uint64_t *bits)
{
	int status = load_trace(path, t, scn, id, bits);
	return status ? status : header_strategy(path, t, id);
}

int drive_replay(const char *path, const char *out_path, int json)
{
	struct trace t;
	static struct scenario scn;
	struct run_id id = {.scn = &scn};
	uint64_t bits;
	int status = load_trace(path, &t, &scn, &id, &bits);
	if (!status)
		status = header_strategy(path, &t, &id);
	struct world *w = NULL;
	if (!status && !(w = world_new(&scn, id.handler, bits))) {
		fprintf(stderr, "uffdlab: out of memory\n");
		status = 2;
	}
	if (w)
		world_set_kernel(w, id.kver);
	struct replayed r = {0};
	if (!status)
		status = regenerate(w, &id, &t, path, out_path, &r);
	if (!status)
		status = verdict_of(w, &id, &t, path, &r, json);
	world_free(w);
	free((char *)id.scn_text);
	trace_free(&t);
	return status;
}

/* --- replay --real: the trace's schedule on hardware (real/replay_real.h) */

/* The verdict of R replays, as one line per kind, the evidence of the
 * first one of each. */
struct real_tally {
	int n[RR_NVERDICTS];
	struct rr_result first[RR_NVERDICTS];
	double ms, max_ms;
};

static void print_real(const char *path, const struct real_tally *k, int repeat,
		       uint64_t ps, int json)
{
	const char *names[] = {"", "confirmed", "not_reproduced", "diverged", "skipped",
			       "not_applicable"};
	if (json) {
		/* one key per field: the counts in "counts", the first replay of
		 * each verdict in "first" */
		struct json j;
		json_begin(&j, stdout);
		json_string(&j, "trace", path);
		json_u64(&j, "page_size", ps);
		json_u64(&j, "repeat", (uint64_t)repeat);
		json_object_begin(&j, "counts");
		for (int v = RR_CONFIRMED; v < RR_NVERDICTS; v++)
			json_u64(&j, names[v], (uint64_t)k->n[v]);
		json_object_end(&j);
		json_double(&j, "confirmed_rate", (double)k->n[RR_CONFIRMED] / repeat, 3);
		json_u64(&j, "ms_per_replay", (uint64_t)(k->ms / repeat + 0.5));
		json_u64(&j, "max_ms", (uint64_t)(k->max_ms + 0.5));
		json_object_begin(&j, "first");
		for (int v = RR_CONFIRMED; v < RR_NVERDICTS; v++) {
			if (!k->n[v])
				continue;
			const struct rr_result *f = &k->first[v];
			json_object_begin(&j, names[v]);
			json_string(&j, "invariant", f->name);
			json_string(&j, "evidence", v == RR_CONFIRMED ? f->evidence : f->why);
			if (f->step >= 0)
				json_int(&j, "step", f->step);
			json_string(&j, "first_difference", f->obs);
			json_string(&j, "window", f->window);
			json_object_end(&j);
		}
		json_object_end(&j);
		json_end(&j);
		return;
	}
	printf("%s: on hardware (%s pages), %d replay%s: confirmed %d/%d (%.0f%%), %.0f ms per replay (max %.0f)\n",
	       path, ps >= (2u << 20) ? "2 MiB hugetlb" : "4 KiB", repeat, repeat == 1 ? "" : "s",
	       k->n[RR_CONFIRMED], repeat, 100.0 * k->n[RR_CONFIRMED] / repeat, k->ms / repeat,
	       k->max_ms);
	for (int v = RR_CONFIRMED; v < RR_NVERDICTS; v++) {
		if (!k->n[v])
			continue;
		const struct rr_result *f = &k->first[v];
		printf("  %s (%d): %s%s%s\n", rr_verdict_name((enum rr_verdict)v), k->n[v],
		       v == RR_CONFIRMED ? f->name : "", v == RR_CONFIRMED ? ": " : "",
		       v == RR_CONFIRMED ? f->evidence : f->why);
		if (f->obs_step >= 0)
			printf("    first step observed otherwise: %s\n", f->obs);
	}
	if (k->first[RR_CONFIRMED].window[0] || k->first[RR_NOT_REPRODUCED].window[0] ||
	    k->first[RR_DIVERGED].window[0])
		printf("  note: %s\n", k->first[RR_CONFIRMED].window[0] ? k->first[RR_CONFIRMED].window
				   : k->first[RR_NOT_REPRODUCED].window[0] ? k->first[RR_NOT_REPRODUCED].window
				   : k->first[RR_DIVERGED].window);
}

int drive_replay_real(const char *path, int repeat, uint64_t page_size, int json)
{
	struct trace t;
	char err[600];
	static struct scenario scn;
	struct run_id id = {.scn = &scn};
	uint64_t bits;
	struct rts_plan plan = {0};
	int status = load_trace(path, &t, &scn, &id, &bits);
	if (!status && rts_plan_build(&t, &plan, err, sizeof err))
		status = bad_trace(path, &t, "thread", "%s", err);
	struct real_tally k;
	memset(&k, 0, sizeof k);
	struct rr_opts o = {.scn = &scn, .handler = id.handler, .variants = bits, .plan = &plan,
			    .violation = t.violation, .page_size = page_size};
	for (int i = 0; !status && i < repeat; i++) {
		struct rr_result res;
		int e = real_replay_run(&o, &res);
		if (e) {
			fprintf(stderr, "uffdlab: replay on hardware could not start: %s\n", strerror(-e));
			status = 2;
			break;
		}
		if (!k.n[res.v]++)
			k.first[res.v] = res;
		k.ms += res.ms;
		k.max_ms = res.ms > k.max_ms ? res.ms : k.max_ms;
		if (res.v == RR_SKIPPED || res.v == RR_NOT_APPLICABLE)
			break; /* the same next time */
	}
	if (!status) {
		int skip = k.n[RR_SKIPPED] || k.n[RR_NOT_APPLICABLE];
		int done = skip ? 1 : repeat;
		print_real(path, &k, done, page_size ? page_size : scn.page_size, json);
		status = skip ? 77 : k.n[RR_CONFIRMED] ? 1 : k.n[RR_DIVERGED] ? 5 : 0;
	}
	rts_plan_free(&plan);
	free((char *)id.scn_text);
	trace_free(&t);
	return status;
}

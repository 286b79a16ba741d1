/* The explore and replay drivers: scenario + handler + variant + strategy
 * + seed -> runs of the simulator, traces of failures, byte-exact replay. */
#include "driver.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handler/handler.h"
#include "handler/variants.h"
#include "model/event.h"
#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/dfs.h"
#include "sched/shrink.h"
#include "sched/trace.h"
#include "viz/viz.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *strategy_name(enum sched_strategy s)
{
	switch (s) {
	case SCHED_RANDOM: return "random";
	case SCHED_PCT: return "pct";
	case SCHED_REPLAY: return "replay";
	case SCHED_GUIDED: return "guided";
	}
	return "?";
}

static int strategy_parse(const char *s, enum sched_strategy *out)
{
	if (strcmp(s, "random") == 0)
		*out = SCHED_RANDOM;
	else if (strcmp(s, "pct") == 0)
		*out = SCHED_PCT;
	else
		return -1;
	return 0;
}

/* "a,b" -> bits; on an unknown name, -1 and *bad names it. */
static int variants_parse(const char *list, uint64_t *bits, char *bad, size_t n)
{
	*bits = 0;
	if (!list || !*list)
		return 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t b = variant_parse(tok);
		if (!b) {
			snprintf(bad, n, "%s", tok);
			return -1;
		}
		*bits |= b;
	}
	return 0;
}

static int handler_known(const char *name)
{
	for (const char *const *n = handler_names(); *n; n++)
		if (strcmp(*n, name) == 0)
			return 1;
	return 0;
}

/* --- a recorded run ---------------------------------------------------- */

struct rec_step {
	int tid;
	char *label;
	struct sched_event *ev;
	size_t nev;
};

struct recording {
	struct rec_step *steps;
	size_t n, cap;
	int oom;
	int lost;            /* a step had more events than sched keeps */
};

static void rec_sink(void *ctx, const struct sched_step_info *st)
{
	struct recording *r = ctx;
	int tid = st->tid;
	const char *label = st->label;
	if (r->oom)
		return;
	if (st->ev_lost)
		r->lost = 1;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		struct rec_step *ns = realloc(r->steps, nc * sizeof *ns);
		if (!ns) {
			r->oom = 1;
			return;
		}
		r->steps = ns;
		r->cap = nc;
	}
	r->steps[r->n].tid = tid;
	r->steps[r->n].label = strdup(label ? label : "");
	r->steps[r->n].nev = st->nev;
	r->steps[r->n].ev = NULL;
	if (st->nev) {
		r->steps[r->n].ev = malloc(st->nev * sizeof *st->ev);
		if (r->steps[r->n].ev)
			memcpy(r->steps[r->n].ev, st->ev, st->nev * sizeof *st->ev);
	}
	if (!r->steps[r->n].label || (st->nev && !r->steps[r->n].ev))
		r->oom = 1;
	r->n++;
}

static void rec_free(struct recording *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->steps[i].label);
		free(r->steps[i].ev);
	}
	free(r->steps);
	memset(r, 0, sizeof *r);
}

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
	int dfs;             /* strategy dfs: guided runs, bounded deviations */
	unsigned bound;
};

static const char *id_strategy(const struct run_id *id)
{
	return id->dfs ? "dfs" : strategy_name(id->strategy);
}

static int write_trace(FILE *f, const struct run_id *id, const struct world *w,
		       const struct recording *rec, const struct verdict *v)
{
	struct trace_writer tw;
	const sched_t *s = world_sched(w);
	trace_writer_open(&tw, f);
	trace_writer_schema(&tw, &mev_schema);
	trace_kv(&tw, "tool", "uffdlab %s", UFFDLAB_VERSION);
	trace_kv(&tw, "scenario", "%s", id->scn->path);
	trace_kv(&tw, "scenario-hash", "%016" PRIx64, id->scn->hash);
	trace_kv(&tw, "handler", "%s", id->handler);
	trace_kv(&tw, "variant", "%s", id->variant[0] ? id->variant : "none");
	trace_kv(&tw, "strategy", "%s", id_strategy(id));
	if (id->dfs)
		trace_kv(&tw, "dfs-bound", "%u", id->bound);
	trace_kv(&tw, "seed", "%" PRIu64, id->seed);
	if (id->strategy == SCHED_PCT) {
		trace_kv(&tw, "pct-depth", "%d", id->depth);
		trace_kv(&tw, "pct-k", "%" PRIu64, id->pct_k);
	}
	trace_kv(&tw, "max-steps", "%" PRIu64, id->max_steps);
	if (id->shrunk[0])
		trace_kv(&tw, "shrunk", "%s", id->shrunk);
	for (int t = 0; t < sched_nthreads(s); t++)
		trace_kv(&tw, "thread", "%d %s %d", t, sched_thread_name(s, t),
			 sched_thread_kind(s, t));
	if (v->relaxed[0])
		trace_kv(&tw, "relaxed", "%s", v->relaxed);
	trace_steps_begin(&tw);
	for (size_t i = 0; i < rec->n; i++)
		trace_step_events(&tw, i, rec->steps[i].tid, rec->steps[i].ev,
				  rec->steps[i].nev, rec->steps[i].label);
	char viol[700];
	snprintf(viol, sizeof viol, "%s: %s", v->name, v->text);
	return trace_end(&tw, v->violated ? viol : NULL);
}

static struct sched_opts opts_of(const struct run_id *id)
{
	struct sched_opts o = {
		.strategy = id->strategy,
		.seed = id->seed,
		.pct_depth = id->depth,
		.pct_steps = id->pct_k,
		.max_steps = id->max_steps,
	};
	return o;
}

/* Run id again with labels; 0 and the recording, or -errno. */
static int record(struct world *w, const struct run_id *id,
		  const uint32_t *replay, size_t replay_len,
		  struct recording *rec, struct verdict *v)
{
	struct sched_opts o = opts_of(id);
	o.labels = 1;
	if (replay) {
		o.strategy = SCHED_REPLAY;
		o.replay = replay;
		o.replay_len = replay_len;
	}
	int err = world_run(w, &o, rec_sink, rec, v);
	if (!err && rec->oom)
		err = -ENOMEM;
	if (!err && rec->lost)
		err = -E2BIG;
	return err;
}

static char *trace_text(const struct run_id *id, const struct world *w,
			const struct recording *rec, const struct verdict *v,
			size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	int err = write_trace(f, id, w, rec, v);
	if (fclose(f) || err) {
		free(buf);
		return NULL;
	}
	return buf;
}

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

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* --- explore ----------------------------------------------------------- */

struct shrink_ctx {
	struct world *w;
	const struct run_id *id;
	const char *want; /* the violated invariant to keep */
};

static int shrink_cb(void *ctx, const uint32_t *cand, size_t n,
		     const uint32_t **actual, size_t *nactual)
{
	struct shrink_ctx *c = ctx;
	struct sched_opts o = opts_of(c->id);
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

static int report_violation(struct world *w, const struct explore_args *a,
			    struct run_id *id, const struct verdict *first,
			    uint32_t **choices, size_t *nchoices,
			    char *trace_path, size_t tplen, struct verdict *out)
{
	struct recording rec = {0};
	struct verdict v;
	/* a dfs run is guided, not seeded: it is re-run from its choices */
	int err = id->dfs ? record(w, id, *choices, *nchoices, &rec, &v)
			  : record(w, id, NULL, 0, &rec, &v);
	if (err) {
		fprintf(stderr, "uffdlab: re-running the failing schedule: %s\n",
			strerror(-err));
		rec_free(&rec);
		return 2;
	}
	size_t n2;
	const uint32_t *c2 = sched_choices(world_sched(w), &n2);
	if (n2 != *nchoices || memcmp(c2, *choices, n2 * sizeof *c2) ||
	    strcmp(v.name, first->name) || strcmp(v.text, first->text)) {
		fprintf(stderr,
			"uffdlab: determinism bug: seed %" PRIu64 " gave '%s' (%zu steps), its re-run gave '%s' (%zu steps)\n",
			id->seed, first->name, *nchoices, v.name, n2);
		rec_free(&rec);
		return 3;
	}
	if (!a->no_shrink) {
		/* fewer steps and switches make a trace a person can read */
		struct shrink_ctx sc = {.w = w, .id = id, .want = first->name};
		struct shrink_stats st;
		unsigned budget = (unsigned)(20000000 / (*nchoices + 1));
		if (budget > 2000)
			budget = 2000;
		err = shrink_run(choices, nchoices, shrink_cb, &sc, budget, &st);
		if (err) {
			fprintf(stderr, "uffdlab: shrinking: %s\n", strerror(-err));
			rec_free(&rec);
			return 2;
		}
		if (st.to_steps < st.from_steps || st.to_switches < st.from_switches) {
			snprintf(id->shrunk, sizeof id->shrunk,
				 "%zu steps %zu switches -> %zu steps %zu switches (%u runs)",
				 st.from_steps, st.from_switches, st.to_steps, st.to_switches,
				 st.tests);
			rec_free(&rec);
			err = record(w, id, *choices, *nchoices, &rec, &v);
			if (err || strcmp(v.name, first->name)) {
				fprintf(stderr, "uffdlab: determinism bug: the shrunk schedule %s\n",
					err ? strerror(-err) : "no longer fails the same way");
				rec_free(&rec);
				return 3;
			}
		}
	}
	*out = v;
	err = mkdir_p(a->out_dir);
	if (err) {
		fprintf(stderr, "uffdlab: %s: %s\n", a->out_dir, strerror(-err));
		rec_free(&rec);
		return 2;
	}
	if (snprintf(trace_path, tplen, "%s/%s-%s%s%s-%s-%" PRIu64 ".trace", a->out_dir,
		     id->scn->name, id->handler, id->variant[0] ? "-" : "", id->variant,
		     id_strategy(id), id->seed) >= (int)tplen) {
		fprintf(stderr, "uffdlab: %s: output path too long\n", a->out_dir);
		rec_free(&rec);
		return 2;
	}
	FILE *f = fopen(trace_path, "w");
	if (!f) {
		fprintf(stderr, "uffdlab: %s: %s\n", trace_path, strerror(errno));
		rec_free(&rec);
		return 2;
	}
	err = write_trace(f, id, w, &rec, &v);
	if (fclose(f) && !err)
		err = -EIO;
	rec_free(&rec);
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
	struct sched_opts o = opts_of(c->id);
	o.strategy = SCHED_GUIDED;
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

static void reproduce_cmd(char *buf, size_t n, const struct run_id *id)
{
	int k = snprintf(buf, n, "uffdlab explore %s --handler %s", id->scn->path,
			 id->handler);
	if (id->variant[0])
		k += snprintf(buf + k, n - (size_t)k, " --variant %s", id->variant);
	if (id->dfs) {
		snprintf(buf + k, n - (size_t)k, " --strategy dfs --bound %u --seed %" PRIu64,
			 id->bound, id->seed);
		return;
	}
	k += snprintf(buf + k, n - (size_t)k, " --strategy %s --seed %" PRIu64 " --runs 1",
		      strategy_name(id->strategy), id->seed);
	if (id->strategy == SCHED_PCT)
		snprintf(buf + k, n - (size_t)k, " --depth %d --pct-k %" PRIu64, id->depth,
			 id->pct_k);
}

int drive_explore(const struct explore_args *a)
{
	static struct scenario scn; /* large; one per process */
	char err[512];
	if (scn_parse_file(a->scenario, &scn, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const char *handler = a->handler ? a->handler : "e2b-ref";
	if (!handler_known(handler)) {
		fprintf(stderr, "uffdlab: unknown handler '%s' (see uffdlab list)\n", handler);
		return 2;
	}
	uint64_t bits;
	char bad[64];
	if (variants_parse(a->variant, &bits, bad, sizeof bad)) {
		fprintf(stderr, "uffdlab: unknown variant '%s' (see uffdlab list)\n", bad);
		return 2;
	}
	struct world *w = world_new(&scn, handler, bits);
	if (!w) {
		fprintf(stderr, "uffdlab: out of memory\n");
		return 2;
	}
	struct run_id id = {
		.scn = &scn,
		.handler = handler,
		.variant = a->variant ? a->variant : "",
		.strategy = a->strategy,
		.depth = a->depth ? a->depth : 3,
		.pct_k = a->pct_k,
		.max_steps = a->max_steps ? a->max_steps : 100000,
	};
	id.dfs = a->dfs;
	id.bound = a->bound;
	uint64_t runs = a->runs ? a->runs : (a->seconds > 0 ? UINT64_MAX : 1000);
	double t0 = now_s(), last_progress = t0, t_found = 0;
	int tty = isatty(2) && !a->quiet;
	uint64_t total_steps = 0, done = 0;
	struct verdict v = {0};
	int status = 0;
	size_t trace_steps = 0;
	uint64_t found_steps = 0;
	char trace_path[600] = "";
	struct dfs_stats ds = {0};
	if (id.dfs) {
		id.seed = a->seed;
		struct dfs_ctx dc = {.w = w, .id = &id};
		uint32_t *fail;
		size_t nfail;
		int r = dfs_run(id.bound, a->runs, dfs_cb, &dc, &ds, &fail, &nfail);
		done = ds.runs;
		total_steps = dc.steps;
		if (r < 0) {
			fprintf(stderr, "uffdlab: dfs: %s\n", strerror(-r));
			status = 2;
		} else if (r == 1) {
			t_found = now_s();
			struct verdict found = dc.v;
			found_steps = dc.v.steps;
			status = report_violation(w, a, &id, &found, &fail, &nfail, trace_path,
						  sizeof trace_path, &v);
			trace_steps = nfail;
			free(fail);
		}
		runs = 0; /* the loop below is for the seeded strategies */
	}
	for (uint64_t i = 0; i < runs; i++) {
		id.seed = a->seed + i;
		struct sched_opts o = opts_of(&id);
		int e = world_run(w, &o, NULL, NULL, &v);
		if (e) {
			fprintf(stderr, "uffdlab: run with seed %" PRIu64 " could not start: %s\n",
				id.seed, strerror(-e));
			status = 2;
			break;
		}
		done++;
		total_steps += v.steps;
		if (id.strategy == SCHED_PCT && !id.pct_k) /* learn k from the first run */
			id.pct_k = sched_pct_k(world_sched(w));
		if (v.violated) {
			t_found = now_s();
			size_t nc;
			const uint32_t *c = sched_choices(world_sched(w), &nc);
			uint32_t *copy = malloc(nc * sizeof *copy + 1);
			if (!copy) {
				status = 2;
				break;
			}
			memcpy(copy, c, nc * sizeof *c);
			if (id.strategy == SCHED_PCT && i == 0 && !a->pct_k)
				id.pct_k = 0; /* the first run used the default k */
			struct verdict found = v;
			found_steps = v.steps;
			status = report_violation(w, a, &id, &found, &copy, &nc, trace_path,
						  sizeof trace_path, &v);
			trace_steps = nc;
			free(copy);
			break;
		}
		double t = now_s();
		if (tty && t - last_progress > 0.5) {
			fprintf(stderr, "\r%" PRIu64 " runs, %.0f schedules/s, %.1f s",
				done, (double)done / (t - t0), t - t0);
			last_progress = t;
		}
		if (a->seconds > 0 && t - t0 >= a->seconds)
			break;
	}
	/* time to find, not to shrink and draw */
	double el = (t_found > 0 ? t_found : now_s()) - t0;
	if (tty)
		fprintf(stderr, "\r\033[K");
	char cmd[700] = "";
	if (status == 1)
		reproduce_cmd(cmd, sizeof cmd, &id);
	if (a->result) {
		struct explore_result *r = a->result;
		r->runs = done;
		r->steps = total_steps;
		r->seconds = el;
		r->violated = status == 1;
		r->exhausted = ds.exhausted;
		snprintf(r->name, sizeof r->name, "%s", status == 1 ? v.name : "");
		r->seed = id.seed;
		snprintf(r->trace, sizeof r->trace, "%s", trace_path);
	}
	if (a->quiet) {
		/* the caller reports */
	} else if (a->json) {
		printf("{\"scenario\":");
		json_str(stdout, scn.path);
		printf(",\"handler\":");
		json_str(stdout, handler);
		printf(",\"variant\":");
		json_str(stdout, id.variant);
		printf(",\"strategy\":\"%s\",\"runs\":%" PRIu64 ",\"steps\":%" PRIu64
		       ",\"elapsed_s\":%.3f,\"schedules_per_s\":%.0f,\"steps_per_s\":%.0f",
		       id_strategy(&id), done, total_steps, el,
		       el > 0 ? (double)done / el : 0, el > 0 ? (double)total_steps / el : 0);
		if (id.strategy == SCHED_PCT)
			printf(",\"pct_depth\":%d,\"pct_k\":%" PRIu64, id.depth, id.pct_k);
		if (id.dfs)
			printf(",\"dfs_bound\":%u,\"exhausted\":%s", id.bound,
			       ds.exhausted ? "true" : "false");
		if (status == 1) {
			printf(",\"violation\":{\"name\":");
			json_str(stdout, v.name);
			printf(",\"text\":");
			json_str(stdout, v.text);
			printf(",\"seed\":%" PRIu64 ",\"steps\":%" PRIu64 ",\"trace_steps\":%zu,\"shrunk\":",
			       id.seed, found_steps, trace_steps);
			json_str(stdout, id.shrunk);
			printf(",\"trace\":");
			json_str(stdout, trace_path);
			printf(",\"reproduce\":");
			json_str(stdout, cmd);
			printf("}");
		} else {
			printf(",\"violation\":null");
		}
		printf("}\n");
	} else if (status == 1) {
		printf("%s: %s %s%s%s: VIOLATION %s after %" PRIu64 " runs (%.3f s)\n", scn.name,
		       handler, id.variant[0] ? "--variant " : "", id.variant,
		       id.variant[0] ? "" : "", v.name, done, el);
		printf("  %s\n", v.text);
		if (v.relaxed[0])
			printf("  relaxed: %s\n", v.relaxed);
		printf("  seed %" PRIu64 ", %" PRIu64 " steps; trace %s (%zu steps%s%s)\n", id.seed,
		       found_steps, trace_path, trace_steps, id.shrunk[0] ? ", shrunk: " : "",
		       id.shrunk);
		printf("  reproduce: %s\n", cmd);
		printf("  replay:    uffdlab replay %s\n", trace_path);
	} else if (status == 0) {
		char params[96] = "";
		if (id.strategy == SCHED_PCT)
			snprintf(params, sizeof params, " d=%d k=%" PRIu64, id.depth, id.pct_k);
		if (id.dfs)
			snprintf(params, sizeof params, " bound %u, %s", id.bound,
				 ds.exhausted ? "exhausted: every schedule within the bound"
					      : "NOT exhausted (--runs limit)");
		printf("%s: %s%s%s: no violation in %" PRIu64 " runs (%s%s, %.3f s, %.0f schedules/s, %.0f steps/s)\n",
		       scn.name, handler, id.variant[0] ? " --variant " : "", id.variant, done,
		       id_strategy(&id), params, el, el > 0 ? (double)done / el : 0,
		       el > 0 ? (double)total_steps / el : 0);
	}
	world_free(w);
	return status;
}

/* --- replay ------------------------------------------------------------ */

static int bad_trace(const char *path, const struct trace *t, const char *key,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One line naming the header line of key. */
static int bad_trace(const char *path, const struct trace *t, const char *key,
		     const char *fmt, ...)
{
	size_t line = 1;
	for (size_t i = 0; i < t->nkv; i++)
		if (strcmp(t->kv[i].key, key) == 0) {
			line = i + 2;
			break;
		}
	fprintf(stderr, "%s:%zu: ", path, line);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	char *b = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(b, cap);
			if (!nb) {
				free(b);
				fclose(f);
				return -ENOMEM;
			}
			b = nb;
		}
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	int e = ferror(f) ? -EIO : 0;
	fclose(f);
	if (e) {
		free(b);
		return e;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || *s == '-')
		return -1;
	*out = v;
	return 0;
}

int drive_replay(const char *path, const char *out_path, int json)
{
	struct trace t;
	char err[600];
	if (trace_read(path, &mev_schema, &t, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	static struct scenario scn;
	int status = 2;
	struct world *w = NULL;
	const char *tool = trace_get(&t, "tool");
	const char *spath = trace_get(&t, "scenario");
	const char *shash = trace_get(&t, "scenario-hash");
	const char *handler = trace_get(&t, "handler");
	const char *variant = trace_get(&t, "variant");
	const char *strategy = trace_get(&t, "strategy");
	struct run_id id = {.scn = &scn};
	char want_tool[64];
	snprintf(want_tool, sizeof want_tool, "uffdlab %s", UFFDLAB_VERSION);
	uint64_t bits;
	char bad[64];
	if (!tool || strcmp(tool, want_tool)) {
		status = bad_trace(path, &t, "tool",
				   "trace written by '%s', this is %s: refusing to replay",
				   tool ? tool : "(none)", want_tool);
		goto out;
	}
	if (!spath || !shash || !handler || !variant || !strategy) {
		status = bad_trace(path, &t, "tool",
				   "trace header lacks scenario, scenario-hash, handler, variant or strategy");
		goto out;
	}
	if (scn_parse_file(spath, &scn, err, sizeof err)) {
		status = bad_trace(path, &t, "scenario", "cannot load the scenario: %s", err);
		goto out;
	}
	char hash[17];
	snprintf(hash, sizeof hash, "%016" PRIx64, scn.hash);
	if (strcmp(hash, shash)) {
		status = bad_trace(path, &t, "scenario-hash",
				   "scenario %s changed since the trace was recorded (hash %s, now %s)",
				   spath, shash, hash);
		goto out;
	}
	if (!handler_known(handler)) {
		status = bad_trace(path, &t, "handler", "unknown handler '%s'", handler);
		goto out;
	}
	id.variant = strcmp(variant, "none") ? variant : "";
	if (variants_parse(id.variant, &bits, bad, sizeof bad)) {
		status = bad_trace(path, &t, "variant", "unknown variant '%s'", bad);
		goto out;
	}
	if (strcmp(strategy, "dfs") == 0) {
		uint64_t b;
		if (parse_u64(trace_get(&t, "dfs-bound"), &b) || b > 1000) {
			status = bad_trace(path, &t, "dfs-bound", "bad or missing dfs-bound");
			goto out;
		}
		id.dfs = 1;
		id.bound = (unsigned)b;
		id.strategy = SCHED_GUIDED;
	} else if (strategy_parse(strategy, &id.strategy)) {
		status = bad_trace(path, &t, "strategy", "unknown strategy '%s'", strategy);
		goto out;
	}
	if (parse_u64(trace_get(&t, "seed"), &id.seed) ||
	    parse_u64(trace_get(&t, "max-steps"), &id.max_steps)) {
		status = bad_trace(path, &t, "seed", "bad or missing seed / max-steps");
		goto out;
	}
	if (id.strategy == SCHED_PCT) {
		uint64_t d;
		if (parse_u64(trace_get(&t, "pct-depth"), &d) ||
		    parse_u64(trace_get(&t, "pct-k"), &id.pct_k) || d < 1 || d > 1000) {
			status = bad_trace(path, &t, "pct-depth", "bad or missing pct-depth / pct-k");
			goto out;
		}
		id.depth = (int)d;
	}
	const char *shrunk = trace_get(&t, "shrunk");
	if (shrunk)
		snprintf(id.shrunk, sizeof id.shrunk, "%s", shrunk);
	id.handler = handler;
	w = world_new(&scn, handler, bits);
	if (!w) {
		fprintf(stderr, "uffdlab: out of memory\n");
		goto out;
	}
	size_t nchoices;
	const uint32_t *choices = trace_choices(&t, &nchoices);
	struct recording rec = {0};
	struct verdict v;
	int e = record(w, &id, choices, nchoices, &rec, &v);
	if (e) {
		fprintf(stderr, "uffdlab: replay could not start: %s\n", strerror(-e));
		rec_free(&rec);
		goto out;
	}
	size_t newlen = 0, oldlen = 0;
	char *newtext = trace_text(&id, w, &rec, &v, &newlen);
	char *oldtext = NULL;
	rec_free(&rec);
	if (!newtext || read_file(path, &oldtext, &oldlen)) {
		fprintf(stderr, "uffdlab: %s: cannot compare the traces\n", path);
		free(newtext);
		free(oldtext);
		goto out;
	}
	int same = newlen == oldlen && memcmp(newtext, oldtext, newlen) == 0;
	size_t line = 1;
	if (!same) {
		size_t i = 0;
		while (i < newlen && i < oldlen && newtext[i] == oldtext[i])
			if (newtext[i++] == '\n')
				line++;
	}
	if (out_path) {
		FILE *f = fopen(out_path, "w");
		if (!f || fwrite(newtext, 1, newlen, f) != newlen || fclose(f)) {
			fprintf(stderr, "uffdlab: %s: %s\n", out_path, strerror(errno));
			free(newtext);
			free(oldtext);
			goto out;
		}
	}
	free(newtext);
	free(oldtext);
	status = same ? (v.violated ? 1 : 0) : 3;
	if (json) {
		printf("{\"trace\":");
		json_str(stdout, path);
		printf(",\"identical\":%s,\"steps\":%" PRIu64 ",\"violation\":", same ? "true" : "false",
		       v.steps);
		if (v.violated) {
			printf("{\"name\":");
			json_str(stdout, v.name);
			printf(",\"text\":");
			json_str(stdout, v.text);
			printf("}");
		} else {
			printf("null");
		}
		if (!same)
			printf(",\"first_difference_line\":%zu", line);
		printf("}\n");
	} else if (same) {
		printf("%s: reproduced byte for byte (%" PRIu64 " steps): %s%s%s\n", path,
		       v.steps, v.violated ? v.name : "no violation", v.violated ? ": " : "",
		       v.violated ? v.text : "");
	} else {
		printf("%s:%zu: determinism bug: the replay differs from the trace from this line on\n",
		       path, line);
	}
out:
	world_free(w);
	trace_free(&t);
	return status;
}

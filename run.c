/* The identity, recording and trace text of a run (run.h). */
#include "run.h"
#include "scenarios/library.h"
#include "sched/files.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler/handler.h"
#include "handler/variants.h"
#include "model/event.h"
#include "model/kernel.h"
#include "model/version.h"
#include "sched/trace.h"

double drv_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rec_sink(void *ctx, const struct sched_step_info *st)
{
	struct recording *r = ctx;
	if (st->ev_lost)
		r->lost = 1;
	if (r->oom)
		return;
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
	struct rec_step *s = &r->steps[r->n++];
	s->tid = st->tid;
	s->label = strdup(st->label ? st->label : "");
	s->nev = st->nev;
	s->ev = st->nev ? malloc(st->nev * sizeof *st->ev) : NULL;
	if (s->ev)
		memcpy(s->ev, st->ev, st->nev * sizeof *st->ev);
	if (!s->label || (st->nev && !s->ev))
		r->oom = 1;
}

/* Copy the thread table of the run that just ended. 0 or -ENOMEM. */
static int rec_threads(struct recording *r, const sched_t *s)
{
	int n = sched_nthreads(s);
	assert(r->threads == NULL && r->nthreads == 0);
	r->threads = calloc((size_t)n + 1, sizeof *r->threads);
	if (!r->threads)
		return -ENOMEM;
	for (int t = 0; t < n; t++) {
		r->threads[t].name = strdup(sched_thread_name(s, t));
		r->threads[t].kind = sched_thread_kind(s, t);
		r->nthreads = t + 1;
		if (!r->threads[t].name)
			return -ENOMEM;
	}
	assert(r->nthreads == n);
	return 0;
}

void rec_free(struct recording *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->steps[i].label);
		free(r->steps[i].ev);
	}
	free(r->steps);
	for (int t = 0; t < r->nthreads; t++)
		free(r->threads[t].name);
	free(r->threads);
	memset(r, 0, sizeof *r);
}

const struct sched_strategy_ops *run_ops(const struct run_id *id)
{
	const struct sched_strategy_ops *o = sched_strategy_of(id->strategy);
	assert(o); /* ids come from the table */
	return o;
}

const char *run_strategy(const struct run_id *id)
{
	return run_ops(id)->name;
}

int run_takes(const struct run_id *id, unsigned opt)
{
	return (run_ops(id)->opts & opt) != 0;
}

/* One "scenario-text" line per line of the scenario (split at '\n', so a
 * final newline gives a last empty line): '\\' '\t' '\r' '\xHH' escape
 * what a trace line cannot hold. */
static void write_scenario_text(struct trace_writer *tw, const char *text,
				size_t len)
{
	char line[TRACE_LINE_MAX + 1];
	size_t o = 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)text[i] : '\n';
		if (c == '\n') {
			line[o] = 0;
			trace_kv(tw, "scenario-text", "%s", line);
			o = 0;
			continue;
		}
		if (o + 4 >= sizeof line) { /* a line no trace can hold: */
			trace_kv(tw, "scenario-text", "%*s", TRACE_LINE_MAX, "");
			return; /* -E2BIG, sticky, from trace_end */
		}
		if (c == '\\' || c == '\t' || c == '\r')
			o += (size_t)sprintf(line + o, "\\%c",
					     c == '\t' ? 't' : c == '\r' ? 'r' : '\\');
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)sprintf(line + o, "\\x%02x", c);
		else
			line[o++] = (char)c;
	}
}

int run_write_trace(FILE *f, const struct run_id *id,
		    const struct recording *rec, const struct verdict *v)
{
	struct trace_writer tw;
	trace_writer_open(&tw, f);
	trace_writer_schema(&tw, &mev_schema);
	trace_kv(&tw, "semantics", "%d", UFFDLAB_SEMANTICS);
	trace_kv(&tw, "tool", "uffdlab %s", UFFDLAB_VERSION);
	trace_kv(&tw, "scenario", "%s", id->scn->path);
	trace_kv(&tw, "scenario-hash", "%016" PRIx64, id->scn->hash);
	if (!id->scn_text)
		return -EINVAL; /* every trace embeds its scenario */
	write_scenario_text(&tw, id->scn_text, id->scn_len);
	trace_kv(&tw, "handler", "%s", id->handler);
	trace_kv(&tw, "variant", "%s", id->variant[0] ? id->variant : "none");
	trace_kv(&tw, "strategy", "%s", run_strategy(id));
	/* absent: 6.18, the only kernel before profiles (docs/TRACE.md) */
	if (id->kver && id->kver != MK_KVER_DEFAULT)
		trace_kv(&tw, "kernel", "%s", mk_profile(id->kver)->name);
	if (run_takes(id, STRATEGY_OPT_BOUND)) {
		if (id->bound == EXPLORE_NO_BOUND)
			trace_kv(&tw, "dfs-bound", "none");
		else
			trace_kv(&tw, "dfs-bound", "%u", id->bound);
		if (id->preempt_bounded)
			trace_kv(&tw, "dfs-preemptions", "%u", id->preemptions);
		if (id->dpor)
			trace_kv(&tw, "dfs-reduce", "%s", id->reduce ? "on" : "off");
		/* absent: on wherever the reduction is (docs/TRACE.md) */
		if (id->dpor && id->reduce && !id->retry_cut)
			trace_kv(&tw, "dfs-retry-cut", "off");
	}
	trace_kv(&tw, "seed", "%" PRIu64, id->seed);
	if (run_takes(id, STRATEGY_OPT_DEPTH)) {
		trace_kv(&tw, "pct-depth", "%d", id->depth);
		trace_kv(&tw, "pct-k", "%" PRIu64, id->pct_k);
	}
	trace_kv(&tw, "max-steps", "%" PRIu64, id->max_steps);
	if (id->shrunk[0])
		trace_kv(&tw, "shrunk", "%s", id->shrunk);
	if (id->shrunk_scn[0])
		trace_kv(&tw, "shrunk-scenario", "%s", id->shrunk_scn);
	if (id->minimal[0])
		trace_kv(&tw, "minimal", "%s", id->minimal);
	for (int t = 0; t < rec->nthreads; t++)
		trace_kv(&tw, "thread", "%d %s %d", t, rec->threads[t].name,
			 rec->threads[t].kind);
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

struct sched_opts run_opts(const struct run_id *id)
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

int run_record(struct world *w, const struct run_id *id, const uint32_t *replay,
	       size_t replay_len, struct recording *rec, struct verdict *v)
{
	struct sched_opts o = run_opts(id);
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
	if (!err)
		err = rec_threads(rec, world_sched(w));
	return err;
}

char *run_trace_text(const struct run_id *id, const struct recording *rec,
		     const struct verdict *v, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	int err = run_write_trace(f, id, rec, v);
	if (fclose(f) || err) {
		free(buf);
		return NULL;
	}
	return buf;
}

int run_load_scenario(const char *path, struct scenario *scn, char **text,
		      size_t *len, char *err, size_t errlen)
{
	char where[4096], *b = NULL; /* LTO cannot see input_read_all sets both on success */
	size_t n = 0;
	int e = input_read_all(scn_resolve(path, where, sizeof where), &b, &n);
	if (e) {
		snprintf(err, errlen, "%s:1:1: cannot open: %s", path, input_strerror(e));
		return -1;
	}
	if (scn_parse_bytes(path, b, n, scn, err, errlen)) {
		free(b);
		return -1;
	}
	*text = b;
	*len = n;
	return 0;
}

/* Undo write_scenario_text's escapes of one line into out; -1 on a bad
 * escape. */
static int unescape_line(const char *s, char *out, size_t *o)
{
	for (; *s; s++) {
		if (*s != '\\') {
			out[(*o)++] = *s;
			continue;
		}
		s++;
		if (*s == '\\' || *s == 't' || *s == 'r')
			out[(*o)++] = *s == 't' ? '\t' : *s == 'r' ? '\r' : '\\';
		else if (*s == 'x' && s[1] && s[2] && strchr("0123456789abcdef", s[1]) &&
			 strchr("0123456789abcdef", s[2])) {
			out[(*o)++] = (char)strtoul((char[3]){s[1], s[2], 0}, NULL, 16);
			s += 2;
		} else {
			return -1;
		}
	}
	return 0;
}

int run_embedded_scenario(const struct trace *t, char **text, size_t *len,
			  size_t *bad_line)
{
	size_t total = 0, nlines = 0, o = 0;
	for (size_t i = 0; i < t->nkv; i++)
		if (!strcmp(t->kv[i].key, "scenario-text"))
			total += strlen(t->kv[i].value) + 1, nlines++;
	if (!nlines)
		return -ENOENT;
	char *b = malloc(total + 1);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0, k = 0; i < t->nkv; i++) {
		if (strcmp(t->kv[i].key, "scenario-text"))
			continue;
		if (k++)
			b[o++] = '\n';
		if (unescape_line(t->kv[i].value, b, &o)) {
			*bad_line = i + 2; /* the magic is line 1 */
			free(b);
			return -EINVAL;
		}
	}
	assert(o <= total);
	b[o] = 0;
	*text = b;
	*len = o;
	return 0;
}

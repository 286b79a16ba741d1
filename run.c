/* The identity, recording and trace text of a run (run.h). */
#include "run.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler/handler.h"
#include "handler/variants.h"
#include "sched/trace.h"

double drv_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rec_sink(void *ctx, uint64_t step, int tid, const char *label)
{
	struct recording *r = ctx;
	(void)step;
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
	r->steps[r->n].tid = tid;
	r->steps[r->n].label = strdup(label ? label : "");
	if (!r->steps[r->n].label)
		r->oom = 1;
	r->n++;
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
	for (size_t i = 0; i < r->n; i++)
		free(r->steps[i].label);
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

int run_write_trace(FILE *f, const struct run_id *id,
		    const struct recording *rec, const struct verdict *v)
{
	struct trace_writer tw;
	trace_writer_open(&tw, f);
	trace_kv(&tw, "tool", "uffdlab %s", UFFDLAB_VERSION);
	trace_kv(&tw, "scenario", "%s", id->scn->path);
	trace_kv(&tw, "scenario-hash", "%016" PRIx64, id->scn->hash);
	trace_kv(&tw, "handler", "%s", id->handler);
	trace_kv(&tw, "variant", "%s", id->variant[0] ? id->variant : "none");
	trace_kv(&tw, "strategy", "%s", run_strategy(id));
	if (run_takes(id, STRATEGY_OPT_BOUND))
		trace_kv(&tw, "dfs-bound", "%u", id->bound);
	trace_kv(&tw, "seed", "%" PRIu64, id->seed);
	if (run_takes(id, STRATEGY_OPT_DEPTH)) {
		trace_kv(&tw, "pct-depth", "%d", id->depth);
		trace_kv(&tw, "pct-k", "%" PRIu64, id->pct_k);
	}
	trace_kv(&tw, "max-steps", "%" PRIu64, id->max_steps);
	if (id->shrunk[0])
		trace_kv(&tw, "shrunk", "%s", id->shrunk);
	for (int t = 0; t < rec->nthreads; t++)
		trace_kv(&tw, "thread", "%d %s %d", t, rec->threads[t].name,
			 rec->threads[t].kind);
	if (v->relaxed[0])
		trace_kv(&tw, "relaxed", "%s", v->relaxed);
	trace_steps_begin(&tw);
	for (size_t i = 0; i < rec->n; i++)
		trace_step(&tw, i, rec->steps[i].tid, rec->steps[i].label);
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

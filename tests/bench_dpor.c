/* make bench: the reduced dfs (sched/dpor.c) against the plain one on the
 * same delay bound (schedules, seconds, ratio), and the unbounded reduced
 * search (schedules, seconds, peak RSS), on S1 and S2 of issue 8 and three
 * library scenarios, handler `reference`. Each search is capped at
 * BENCH_DPOR_CAP seconds (default 20) and says when it did not finish.
 * Prints bench: lines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/dpor.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct ctx {
	struct world *w;
	double t0, cap;
};

static int run_cb(void *p, const struct sched_explorer *ex)
{
	struct ctx *c = p;
	struct sched_opts o = {.strategy = SCHED_DFS, .explorer = ex};
	struct verdict v;
	int e = world_run(c->w, &o, NULL, NULL, &v);
	return e ? e : dpor_run_cut(ex) ? 0 : v.violated;
}

static int cap_cb(void *p, const struct dpor_stats *st)
{
	struct ctx *c = p;
	return (st->runs & 255) == 0 && now_s() - c->t0 > c->cap;
}

/* One search; its schedules, seconds and whether it finished. */
static void one(struct world *w, double cap, int reduce, int bounded, unsigned bound,
		struct dpor_stats *st, double *secs)
{
	struct ctx c = {.w = w, .t0 = now_s(), .cap = cap};
	world_set_retry_cut(w, reduce); /* part of the reduction, as explore's */
	struct dpor_opts o = {.reduce = reduce, .delay_bounded = bounded, .delay_bound = bound,
			      .keep_going = 1, .progress = cap_cb, .progress_ctx = &c};
	uint32_t *fail;
	size_t nfail;
	dpor_run(&o, run_cb, &c, st, &fail, &nfail);
	free(fail);
	*secs = now_s() - c.t0;
}

static void bench(const char *path, unsigned bound, double cap)
{
	static struct scenario scn;
	char err[256];
	if (scn_parse_file(path, &scn, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	struct world *w = world_new(&scn, "reference", 0);
	struct dpor_stats p, r, u;
	double tp, tr, tu;
	one(w, cap, 0, 1, bound, &p, &tp);
	one(w, cap, 1, 1, bound, &r, &tr);
	one(w, cap, 1, 0, 0, &u, &tu);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	const char *n = scn.name;
	printf("bench: dpor_%s_plain_b%u_schedules %" PRIu64 " runs%s\n", n, bound, p.runs,
	       p.exhausted ? "" : " (not exhausted)");
	printf("bench: dpor_%s_plain_b%u_time %.2f s\n", n, bound, tp);
	printf("bench: dpor_%s_reduced_b%u_schedules %" PRIu64 " runs%s\n", n, bound, r.runs,
	       r.exhausted ? "" : " (not exhausted)");
	printf("bench: dpor_%s_reduced_b%u_time %.2f s\n", n, bound, tr);
	printf("bench: dpor_%s_b%u_ratio %.1f x\n", n, bound,
	       r.runs ? (double)p.runs / (double)r.runs : 0);
	printf("bench: dpor_%s_unbounded_schedules %" PRIu64 " runs%s\n", n, u.runs,
	       u.exhausted ? " (exhausted)" : " (not exhausted)");
	printf("bench: dpor_%s_unbounded_time %.2f s\n", n, tu);
	printf("bench: dpor_%s_peak_rss %ld KiB\n", n, ru.ru_maxrss);
	world_free(w);
}

int main(void)
{
	const char *env = getenv("BENCH_DPOR_CAP");
	double cap = env ? atof(env) : 20;
	setvbuf(stdout, NULL, _IOLBF, 0); /* a line as each search ends */
	if (!(cap > 0))
		cap = 20;
	bench("scenarios/zoo/race-fault-remove.scn", 3, cap);
	bench("scenarios/zoo/race-two-removes.scn", 2, cap);
	bench("scenarios/missing.scn", 2, cap);
	bench("scenarios/serial.scn", 2, cap);
	bench("scenarios/remove-then-write.scn", 2, cap);
	return 0;
}

/* make bench: time to find each zoo variant's bug in its scenario, the
 * figure issue 10 asks for (goal: a median under 100 ms, ideally 10 ms).
 * For random and pct: 20 searches from different starting seeds (seed
 * s * 1000003 + i for run i), each until the violation the variant table
 * names; prints the median and the maximum of schedules and milliseconds
 * to it, and how many other violations came first (e2b-ref's own defects
 * share most zoo scenarios; `uffdlab explore` stops at the first one).
 * For dfs (deterministic, stops at its first violation): delay bound 1, 2,
 * 3 in turn, the first bound that finds one. A search that gets nowhere in
 * CAP schedules or SEARCH_S seconds is reported as not found. Prints
 * bench: lines; `bench_zoo NAME...` benches only the variants named. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler/variants.h"
#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/dfs.h"

#define SEEDS 20
#define CAP 200000     /* schedules per random/pct search */
#define DFS_CAP 300000 /* schedules per dfs bound */
#define SEARCH_S 5.0   /* seconds per random/pct search */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One search from start seed s, until the violation the variant table
 * names: the schedules it took (0 if not within CAP schedules or
 * SEARCH_S seconds), other violations met on the way in *others. -1 if
 * a run could not start. */
static int64_t search(struct world *w, const struct variant_info *z, enum sched_strategy st,
		      uint64_t s, int *others)
{
	double t0 = now_s();
	*others = 0;
	for (uint64_t i = 0; i < CAP; i++) {
		struct sched_opts o = {.strategy = st, .seed = s * 1000003 + i, .pct_depth = 3,
				       .max_steps = 20000};
		struct verdict v;
		if (world_run(w, &o, NULL, NULL, &v))
			return -1;
		if (v.violated && !strcmp(v.name, z->expect))
			return (int64_t)i + 1;
		*others += v.violated;
		if ((i & 255) == 255 && now_s() - t0 > SEARCH_S)
			break;
	}
	return 0;
}

/* SEEDS searches; one bench: line. */
static int bench_strategy(const struct variant_info *z, struct world *w, enum sched_strategy st)
{
	uint64_t runs[SEEDS];
	double ms[SEEDS];
	int others = 0;
	const char *sn = st == SCHED_PCT ? "pct" : "random";
	for (uint64_t s = 0; s < SEEDS; s++) {
		int o;
		double t0 = now_s();
		int64_t r = search(w, z, st, s, &o);
		if (r < 0)
			return 1;
		if (r == 0) {
			printf("bench: zoo_%s_%s not found in %d schedules or %.0f s from seed %" PRIu64
			       " (%s, %s, %s)\n", z->name, sn, CAP, SEARCH_S, s * 1000003, z->bug,
			       z->handler, z->expect);
			return 0;
		}
		ms[s] = (now_s() - t0) * 1e3;
		runs[s] = (uint64_t)r;
		others += o;
	}
	qsort(runs, SEEDS, sizeof runs[0], cmp_u64);
	qsort(ms, SEEDS, sizeof ms[0], cmp_dbl);
	printf("bench: zoo_%s_%s median %" PRIu64 " schedules %.2f ms, max %" PRIu64
	       " schedules %.2f ms, %d other violations first (%s, %s, %s)\n", z->name, sn,
	       runs[SEEDS / 2], ms[SEEDS / 2], runs[SEEDS - 1], ms[SEEDS - 1], others, z->bug,
	       z->handler, z->expect);
	return 0;
}

struct dctx {
	struct world *w;
	struct verdict v;
};

static int dfs_cb(void *ctx, const uint32_t *prefix, size_t n, const uint32_t **choices,
		  const uint64_t **masks, size_t *nsteps, int *wide)
{
	struct dctx *c = ctx;
	struct sched_opts o = {.strategy = SCHED_GUIDED, .replay = prefix,
			       .replay_len = n, .record_runnable = 1};
	if (world_run(c->w, &o, NULL, NULL, &c->v))
		return -1;
	size_t nm;
	*choices = sched_choices(world_sched(c->w), nsteps);
	*masks = sched_runnable_masks(world_sched(c->w), &nm, wide);
	return c->v.violated;
}

static int bench_dfs(const struct variant_info *z, struct world *w)
{
	for (unsigned bound = 1; bound <= 3; bound++) {
		struct dctx c = {.w = w};
		struct dfs_stats st;
		uint32_t *fail = NULL;
		size_t nfail;
		double t0 = now_s();
		int r = dfs_run(bound, DFS_CAP, dfs_cb, &c, &st, &fail, &nfail);
		double ms = (now_s() - t0) * 1e3;
		free(fail);
		if (r < 0)
			return 1;
		if (r == 1) {
			printf("bench: zoo_%s_dfs bound %u: %" PRIu64 " schedules %.2f ms, %s%s (%s, %s)\n",
			       z->name, bound, st.runs, ms, c.v.name,
			       strcmp(c.v.name, z->expect) ? " (not the expected one)" : "",
			       z->bug, z->handler);
			return 0;
		}
	}
	printf("bench: zoo_%s_dfs not found within bound 3 (%d schedules each) (%s, %s)\n",
	       z->name, DFS_CAP, z->bug, z->handler);
	return 0;
}

/* No arguments: every variant; else only the variants named. */
static int wanted(const char *name, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return argc < 2;
}

int main(int argc, char **argv)
{
	char err[256];
	for (int i = 1; i < argc; i++)
		if (!variant_parse(argv[i])) {
			fprintf(stderr, "bench_zoo: unknown variant '%s' (see uffdlab list)\n", argv[i]);
			return 2;
		}
	for (const struct variant_info *z = variant_table; z->name; z++) {
		static struct scenario zs;
		if (!wanted(z->name, argc, argv))
			continue;
		if (scn_parse_file(z->scenario, &zs, err, sizeof err)) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		struct world *w = world_new(&zs, z->handler, variant_parse(z->name));
		if (!w)
			return 1;
		int bad = bench_strategy(z, w, SCHED_RANDOM) || bench_strategy(z, w, SCHED_PCT) ||
			  bench_dfs(z, w);
		world_free(w);
		fflush(stdout);
		if (bad) {
			fprintf(stderr, "bench: %s: a run could not start\n", z->name);
			return 1;
		}
	}
	return 0;
}

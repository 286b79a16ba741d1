/* make bench: explorer speed on the reference shape — 2 guest
 * threads, 1 balloon thread, 2 workers, 4 pages — with e2b-ref, random
 * strategy, single core. Prints bench: lines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "handler/variants.h"
#include "model/world.h"
#include "scenarios/scenario.h"

static const char bench_scn[] =
	"# bench shape: 2 guests, 1 balloon, 2 workers, 4 pages\n"
	"memory 4k 4\n"
	"features remove\n"
	"handler workers 2\n"
	"contract breaks\n"
	"thread g0 guest\n"
	"  read 0\n  write 1 3\n  read 2\n"
	"thread g1 guest\n"
	"  read 1\n  write 0 4\n  read 3\n"
	"thread b0 balloon\n"
	"  remove 2..3\n  remove 0\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Random schedules of bench_scn for three seconds: the throughput lines. */
static int bench_throughput(void)
{
	static struct scenario scn;
	char err[256];
	if (scn_parse_string("bench.scn", bench_scn, &scn, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct world *w = world_new(&scn, "e2b-ref", 0);
	if (!w)
		return 1;
	uint64_t runs = 0, steps = 0, violations = 0;
	double t0 = now_s(), el = 0;
	while ((el = now_s() - t0) < 3.0) {
		for (int i = 0; i < 100; i++) {
			struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = runs + 1};
			struct verdict v;
			if (world_run(w, &o, NULL, NULL, &v)) {
				fprintf(stderr, "bench: run failed to start\n");
				return 1;
			}
			runs++;
			steps += v.steps;
			violations += (uint64_t)v.violated;
		}
	}
	printf("bench: explore_schedules_per_s %.0f schedules/s\n", (double)runs / el);
	printf("bench: explore_steps_per_s %.0f steps/s\n", (double)steps / el);
	printf("bench: explore_steps_per_schedule %.1f steps\n", (double)steps / (double)runs);
	printf("bench: explore_schedules_goal_ratio %.2f x (goal 10000/s)\n",
	       (double)runs / el / 10000.0);
	printf("bench: explore_steps_goal_ratio %.2f x (goal 1000000/s)\n",
	       (double)steps / el / 1e6);
	printf("bench: explore_violating_schedules %" PRIu64 " of %" PRIu64 "\n", violations, runs);
	world_free(w);
	return 0;
}

/* Time to find: each variant's bug in its zoo scenario, from 20 different
 * starting seeds (mean runs and wall time to the first hit). */
static int bench_find_all(void)
{
	char err[256];

	for (const struct variant_info *z = variant_table; z->name; z++) {
		static struct scenario zs;
		if (scn_parse_file(z->scenario, &zs, err, sizeof err)) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		struct world *zw = world_new(&zs, z->handler, variant_parse(z->name));
		if (!zw)
			return 1;
		uint64_t total_runs = 0;
		double t1 = now_s();
		for (uint64_t start = 0; start < 20; start++) {
			for (uint64_t i = 0;; i++) {
				struct sched_opts o = {
					.strategy = z->pct ? SCHED_PCT : SCHED_RANDOM,
					.seed = start * 1000003 + i,
				};
				struct verdict v;
				if (world_run(zw, &o, NULL, NULL, &v))
					return 1;
				total_runs++;
				if (v.violated)
					break;
				if (i > 1000000) {
					fprintf(stderr, "bench: %s never found\n", z->name);
					return 1;
				}
			}
		}
		double per = (now_s() - t1) / 20;
		printf("bench: find_%s %.1f runs %.3f ms (%s, %s)\n", z->name,
		       (double)total_runs / 20, per * 1e3, z->handler, z->pct ? "pct" : "random");
		world_free(zw);
	}
	return 0;
}

int main(void)
{
	if (bench_throughput())
		return 1;
	return bench_find_all();
}

/* make bench: explore --jobs 2 against --jobs 1 on 100k random schedules
 * of the S1 (scenarios/zoo/race-fault-remove.scn) with reference,
 * which none of them breaks, and on S1's dfs within delay bound 3 split
 * into prefixes: the speed-up of the forked workers (parallel.c). Same
 * runs and steps either way, or the bench fails. And S1's reduced dfs,
 * unbounded: unsplit (--jobs 0) against split on one and two jobs
 * (dpor_split_build in sched/dfs_split.c, sleep sets kept across the cut).
 * Prints bench: lines. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "driver.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* dfs 1: --strategy dfs --bound 3 (the plain delay-bounded search), split
 * into prefixes among `jobs` workers (sched/dfs_split.c); dfs 2: the
 * reduced search unbounded, split unless jobs is 0; else random. */
static int explore_how(unsigned jobs, int dfs, struct explore_result *r, double *secs)
{
	struct explore_args a = {
		.scenario = "scenarios/zoo/race-fault-remove.scn",
		.handler = "reference",
		.strategy = dfs ? SCHED_DFS : SCHED_RANDOM,
		.runs = dfs ? 0 : 100000,
		.out_dir = "out",
		.quiet = 1,
		.jobs = jobs,
		.no_split = dfs == 2 && jobs == 0,
		.bound = dfs == 1 ? 3 : EXPLORE_NO_BOUND,
		.result = r,
	};
	double t0 = now_s();
	int rc = drive_explore(&a);
	*secs = now_s() - t0;
	return rc;
}

static int explore(unsigned jobs, struct explore_result *r, double *secs)
{
	return explore_how(jobs, 0, r, secs);
}

/* dfs --jobs 2 against --jobs 1: the same split, so the same schedules. */
static int bench_dfs(void)
{
	struct explore_result r1 = {0}, r2 = {0};
	double s1, s2;
	if (explore_how(1, 1, &r1, &s1) || explore_how(2, 1, &r2, &s2) || !r1.exhausted ||
	    !r2.exhausted) {
		fprintf(stderr, "bench: dfs failed, found a violation or did not exhaust\n");
		return 1;
	}
	if (r1.runs != r2.runs || r1.steps != r2.steps) {
		fprintf(stderr, "bench: dfs --jobs 2 ran %" PRIu64 " schedules, --jobs 1 %" PRIu64 "\n",
			r2.runs, r1.runs);
		return 1;
	}
	printf("bench: dfs_b3_jobs1_s %.3f s (%" PRIu64 " schedules)\n", s1, r1.runs);
	printf("bench: dfs_b3_jobs2_s %.3f s (%" PRIu64 " schedules)\n", s2, r2.runs);
	printf("bench: dfs_b3_jobs2_speedup %.2f x\n", s1 / s2);
	return 0;
}

/* The reduced unbounded search: whole, then split on 1 and 2 jobs. */
static int bench_reduced(void)
{
	struct explore_result r[3] = {{0}};
	double s[3];
	for (unsigned j = 0; j < 3; j++)
		if (explore_how(j, 2, &r[j], &s[j]) || !r[j].exhausted) {
			fprintf(stderr, "bench: reduced dfs failed, found a violation or did not exhaust\n");
			return 1;
		}
	if (r[1].runs != r[2].runs || r[1].steps != r[2].steps) {
		fprintf(stderr, "bench: split dfs --jobs 2 ran %" PRIu64 " schedules, --jobs 1 %" PRIu64
			"\n", r[2].runs, r[1].runs);
		return 1;
	}
	printf("bench: dfs_s1_unbounded_unsplit_s %.3f s (%" PRIu64 " schedules)\n", s[0], r[0].runs);
	printf("bench: dfs_s1_unbounded_split_jobs1_s %.3f s (%" PRIu64 " schedules)\n", s[1],
	       r[1].runs);
	printf("bench: dfs_s1_unbounded_split_jobs2_s %.3f s (%" PRIu64 " schedules)\n", s[2],
	       r[2].runs);
	printf("bench: dfs_s1_unbounded_jobs2_speedup %.2f x (over unsplit), %.2f x (over one job)\n",
	       s[0] / s[2], s[1] / s[2]);
	return 0;
}

int main(void)
{
	struct explore_result r1 = {0}, r2 = {0};
	double s1, s2;
	if (bench_dfs() || bench_reduced())
		return 1;
	if (explore(1, &r1, &s1) || explore(2, &r2, &s2)) {
		fprintf(stderr, "bench: explore failed or found a violation\n");
		return 1;
	}
	if (r1.runs != r2.runs || r1.steps != r2.steps) {
		fprintf(stderr, "bench: --jobs 2 ran %" PRIu64 " runs %" PRIu64 " steps, --jobs 1 %" PRIu64 " %" PRIu64 "\n",
			r2.runs, r2.steps, r1.runs, r1.steps);
		return 1;
	}
	printf("bench: explore_jobs1_schedules_per_s %.0f schedules/s\n", (double)r1.runs / s1);
	printf("bench: explore_jobs2_schedules_per_s %.0f schedules/s\n", (double)r2.runs / s2);
	printf("bench: explore_jobs2_speedup %.2f x\n", s1 / s2);
	return 0;
}

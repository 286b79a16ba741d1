/* `uffdlab run`: the main job. Explores every bundled scenario with e2b-ref
 * and reference, then each bug variant in the zoo scenario that shows it;
 * prints what was found as tables (traces in out/), then runs the upstream
 * shapes on the real kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "handler/variants.h"
#include "real/confirm.h"
#include "real/shapes.h"
#include "real/stress.h"
#include "scenarios/scenario.h"

int cmd_run(int argc, char **argv);

struct tally {
	int bad;
	double secs;
	uint64_t runs;
};

/* One cell: "ok" or "<invariant>@<seed>". Returns 1 if a violation. */
static int cell(const char *path, const char *handler, const char *variant,
		enum sched_strategy st, uint64_t runs, char *out, size_t n,
		struct tally *t)
{
	struct explore_result r = {0};
	struct explore_args a = {
		.scenario = path,
		.handler = handler,
		.variant = variant,
		.strategy = st,
		.seed = 1,
		.runs = runs,
		.depth = 3,
		.out_dir = "out",
		.quiet = 1,
		.result = &r,
	};
	int rc = drive_explore(&a);
	t->secs += r.seconds;
	t->runs += r.runs;
	if (rc == 1) {
		snprintf(out, n, "%s@%llu", r.name, (unsigned long long)r.seed);
		return 1;
	}
	snprintf(out, n, rc == 0 ? "ok" : "ERROR");
	if (rc != 0)
		t->bad++;
	return 0;
}

/* reference under dfs bound 2: "exhausted N" or the violation found. */
static int dfs_cell(const char *path, char *out, size_t n, struct tally *t)
{
	struct explore_result r = {0};
	struct explore_args a = {
		.scenario = path,
		.handler = "reference",
		.strategy = SCHED_DFS,
		.bound = 2,
		.out_dir = "out",
		.quiet = 1,
		.result = &r,
	};
	int rc = drive_explore(&a);
	t->secs += r.seconds;
	t->runs += r.runs;
	if (rc == 1) {
		snprintf(out, n, "%s", r.name);
		return 1;
	}
	if (rc != 0) {
		snprintf(out, n, "ERROR");
		t->bad++;
		return 0;
	}
	snprintf(out, n, "%s %llu", r.exhausted ? "exhausted" : "partial",
		 (unsigned long long)r.runs);
	return 0;
}

static const char *const hs_stress[] = {"e2b-ref", "reference"};

int cmd_run(int argc, char **argv)
{
	uint64_t runs = 2000;
	for (int i = 2; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = strtoull(argv[++i], &end, 10);
			if (*end || !runs) {
				fprintf(stderr, "uffdlab: --runs: '%s' is not a positive integer\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "uffdlab: run: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	static char names[256][256];
	int n = scn_list_dir("scenarios", names, 256);
	if (n < 0) {
		fprintf(stderr, "uffdlab: scenarios: cannot list the scenario library\n");
		return 2;
	}
	printf("== simulator: %d scenarios, up to %llu schedules per cell (random, then pct);\n"
	       "   a cell is ok or <violated invariant>@<seed> (trace in out/)\n\n",
	       n, (unsigned long long)runs);
	printf("%-44s %-24s %-24s %-22s %s\n", "scenario", "e2b-ref random", "e2b-ref pct",
	       "reference random+pct", "reference dfs bound 2");
	int found = 0, ref_found = 0;
	struct tally t = {0};
	for (int i = 0; i < n; i++) {
		char c1[64], c2[64], c3[64];
		int f = cell(names[i], "e2b-ref", NULL, SCHED_RANDOM, runs, c1, sizeof c1, &t);
		f |= cell(names[i], "e2b-ref", NULL, SCHED_PCT, runs, c2, sizeof c2, &t);
		int r = cell(names[i], "reference", NULL, SCHED_RANDOM, runs, c3, sizeof c3, &t);
		if (!r)
			r = cell(names[i], "reference", NULL, SCHED_PCT, runs, c3, sizeof c3, &t);
		char c4[64];
		r |= dfs_cell(names[i], c4, sizeof c4, &t);
		found += f;
		ref_found += r;
		printf("%-44s %-24s %-24s %-22s %s\n", names[i], c1, c2, c3, c4);
		fflush(stdout);
	}
	printf("\n%-24s %-10s %-44s %-22s %s\n", "variant", "into", "scenario", "expected",
	       "found");
	int missed = 0;
	for (const struct variant_info *v = variant_table; v->name; v++) {
		char c[64];
		int hit = cell(v->scenario, v->handler, v->name, v->pct ? SCHED_PCT : SCHED_RANDOM,
			       runs * 10, c, sizeof c, &t);
		int as_expected = hit && strncmp(c, v->expect, strlen(v->expect)) == 0 &&
				  c[strlen(v->expect)] == '@';
		missed += !as_expected;
		printf("%-24s %-10s %-44s %-22s %s%s\n", v->name, v->handler, v->scenario, v->expect,
		       c, as_expected ? "" : "  <-- NOT AS EXPECTED");
		fflush(stdout);
	}
	printf("\n== simulator: e2b-ref violates an invariant in %d of %d scenarios, reference in %d;\n"
	       "   %d of the variants' bugs not found as expected; %llu schedules in %.2f s (%.0f schedules/s)\n",
	       found, n, ref_found, missed, (unsigned long long)t.runs, t.secs,
	       t.secs > 0 ? (double)t.runs / t.secs : 0);
	printf("   reproduce any cell: uffdlab explore SCENARIO --handler H [--variant V] "
	       "--strategy S --seed SEED --runs 1\n\n");
	printf("== real kernel: upstream shapes on e2b-ref\n");
	fflush(stdout);
	int failed = real_run_shapes(stdout, 0);
	printf("== real kernel: %d shape(s) failed\n\n", failed);
	printf("== real kernel: the zoo scenarios where the simulator showed e2b-ref wrong, stressed\n"
	       "   (real threads, no barriers; up to 300 iterations; a lost wake takes 10 s to call)\n");
	static const char *const zoo[] = {"prefault-remove", "stale-source", "madvise-inflight-copy",
					  "pause-drops-deferred"};
	for (size_t z = 0; z < sizeof zoo / sizeof zoo[0]; z++) {
		static struct scenario scn;
		char path[128], err[512];
		snprintf(path, sizeof path, "scenarios/zoo/%s.scn", zoo[z]);
		if (scn_parse_file(path, &scn, err, sizeof err)) {
			fprintf(stderr, "%s\n", err);
			t.bad++;
			continue;
		}
		for (int i = 0; i < 2; i++) {
			struct real_stress_result r;
			real_stress_run(&scn, hs_stress[i], 0, 300, &r);
			printf("real stress %-24s %-9s: ", zoo[z], hs_stress[i]);
			if (r.skipped)
				printf("skipped: %s\n", r.text);
			else if (r.violated)
				printf("VIOLATION %s in iteration %llu: %s\n", r.name,
				       (unsigned long long)r.iterations + 1, r.text);
			else
				printf("no violation in %llu iterations\n", (unsigned long long)r.iterations);
			fflush(stdout);
		}
	}
	printf("\n== real kernel: the simulator's copy-after-zap interleaving, forced with a barrier\n");
	static const char *const hs[] = {"e2b-ref", "reference"};
	for (int i = 0; i < 2; i++)
		for (uint64_t ps = 4096; ps <= (2u << 20); ps *= 512) {
			struct real_shape_result r;
			real_confirm_copy_after_zap(hs[i], ps, &r);
			printf("real copy-after-zap %s %s: %s: %s\n", hs[i], ps == 4096 ? "4k" : "2m",
			       r.status == REAL_SHAPE_PASSED   ? "zeros"
			       : r.status == REAL_SHAPE_FAILED ? "STALE"
							       : "skipped",
			       r.why);
			fflush(stdout);
		}
	return t.bad ? 2 : 0;
}

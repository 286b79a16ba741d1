/* `uffdlab run`: the main job. Explores every bundled scenario with e2b-ref
 * and every zoo scenario with each bug variant, prints what was found as a
 * table (traces in out/), then runs the upstream shapes on the real kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "handler/variants.h"
#include "real/shapes.h"
#include "scenarios/scenario.h"

int cmd_run(int argc, char **argv);

/* One cell: "ok" or "<invariant>@<seed>". Returns 1 if a violation. */
static int cell(const char *path, const char *variant, uint64_t runs, char *out,
		size_t n, int *bad, double *secs, uint64_t *total_runs)
{
	struct explore_result r = {0};
	struct explore_args a = {
		.scenario = path,
		.handler = "e2b-ref",
		.variant = variant,
		.strategy = SCHED_RANDOM,
		.seed = 1,
		.runs = runs,
		.depth = 3,
		.out_dir = "out",
		.quiet = 1,
		.result = &r,
	};
	int st = drive_explore(&a);
	*secs += r.seconds;
	*total_runs += r.runs;
	if (st == 1) {
		snprintf(out, n, "%s@%llu", r.name, (unsigned long long)r.seed);
		return 1;
	}
	snprintf(out, n, st == 0 ? "ok" : "ERROR");
	if (st != 0)
		(*bad)++;
	return 0;
}

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
	printf("== simulator: %d scenarios, random strategy, up to %llu schedules per cell;\n"
	       "   a cell is ok or <violated invariant>@<seed> (trace in out/)\n\n",
	       n, (unsigned long long)runs);
	printf("%-44s %-24s", "scenario", "e2b-ref");
	for (const struct variant_info *v = variant_table; v->name; v++)
		printf(" %-24s", v->name);
	printf("\n");
	int found = 0, bad = 0;
	uint64_t total_runs = 0;
	double secs = 0;
	for (int i = 0; i < n; i++) {
		char c[64];
		printf("%-44s", names[i]);
		found += cell(names[i], NULL, runs, c, sizeof c, &bad, &secs, &total_runs);
		printf(" %-24s", c);
		if (strstr(names[i], "/zoo/")) {
			for (const struct variant_info *v = variant_table; v->name; v++) {
				cell(names[i], v->name, runs, c, sizeof c, &bad, &secs, &total_runs);
				printf(" %-24s", c);
			}
		}
		printf("\n");
		fflush(stdout);
	}
	printf("\n== simulator: e2b-ref violates an invariant in %d of %d scenarios; "
	       "%llu schedules in %.2f s (%.0f schedules/s)\n", found, n,
	       (unsigned long long)total_runs, secs, secs > 0 ? (double)total_runs / secs : 0);
	printf("   reproduce any cell: uffdlab explore SCENARIO [--variant V] --seed SEED --runs 1\n\n");
	printf("== real kernel: upstream shapes on e2b-ref\n");
	fflush(stdout);
	int failed = real_run_shapes(stdout, 0);
	printf("== real kernel: %d shape(s) failed\n", failed);
	return bad ? 2 : 0;
}

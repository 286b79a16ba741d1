/* `uffdlab run`: the main job. Explores every bundled scenario with e2b-ref
 * (and each zoo scenario with the variant it was written for), then runs the
 * upstream shapes on the real kernel, one line per result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "real/shapes.h"
#include "scenarios/scenario.h"

int cmd_run(int argc, char **argv);

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
	printf("== simulator: %d scenarios, e2b-ref, random strategy, up to %llu schedules each\n",
	       n, (unsigned long long)runs);
	fflush(stdout);
	int found = 0, bad = 0;
	for (int i = 0; i < n; i++) {
		char path[300];
		if (snprintf(path, sizeof path, "scenarios/%s", names[i]) >= (int)sizeof path) {
			fprintf(stderr, "uffdlab: scenarios/%s: path too long\n", names[i]);
			bad++;
			continue;
		}
		struct explore_args a = {
			.scenario = path,
			.handler = "e2b-ref",
			.strategy = SCHED_RANDOM,
			.seed = 1,
			.runs = runs,
			.depth = 3,
			.out_dir = "out",
			.quiet = 1,
		};
		int st = drive_explore(&a);
		fflush(stdout);
		if (st == 1)
			found++;
		else if (st != 0)
			bad++;
	}
	printf("== simulator: %d of %d scenarios show a violation on e2b-ref (traces in out/)\n",
	       found, n);
	printf("== real kernel: upstream shapes on e2b-ref\n");
	fflush(stdout);
	int failed = real_run_shapes(stdout, 0);
	printf("== real kernel: %d shape(s) failed\n", failed);
	return bad ? 2 : 0;
}

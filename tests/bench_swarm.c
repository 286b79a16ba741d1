/* make bench: swarm throughput — generated scenarios per second on
 * `reference` at the default budget, with one worker and with two (the
 * issue's target: 10 or more per second on two cores). Prints bench: lines;
 * fails if reference breaks a generated scenario (a finding to look at). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "swarm.h"

static int one(int jobs, double secs)
{
	char dir[] = "/tmp/uffdlab-bench-swarm.XXXXXX";
	if (!mkdtemp(dir))
		return -1;
	struct swarm_result r = {0};
	struct swarm_args a = {.handler = "reference", .variant = "", .seconds = secs,
			       .seed = 7000000, .jobs = jobs, .out_dir = dir,
			       .budget = {SWARM_BUDGET_DEFAULT, SWARM_BUDGET_DEFAULT,
					  SWARM_BUDGET_DEFAULT, 0},
			       .result = &r};
	double t0 = drv_now();
	int st = drive_swarm(&a);
	double el = drv_now() - t0;
	printf("bench: swarm-reference-jobs%d %.1f scenarios/s (%" PRIu64 " scenarios, %" PRIu64
	       " schedules, %.1f s, %" PRIu64 " violations)\n",
	       jobs, el > 0 ? (double)r.scenarios / el : 0, r.scenarios, r.runs, el, r.violations);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd))
		return -1;
	return st;
}

int main(void)
{
	if (one(1, 5) || one(2, 5))
		return 1;
	return 0;
}

/* Every trace explore writes replays byte for byte: each variant of the
 * zoo (handler/variants.c: its handler and scenario) under every strategy,
 * shrunk and as found. A shrunk trace once took its thread table from the
 * last shrink candidate that ran, not from the recorded run (issue 7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "handler/variants.h"
#include "sched/strategy.h"

static char tmp[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "/tmp/uffdlab-replay-all-XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

struct cell {
	const char *scenario, *handler, *variant;
	enum sched_strategy strategy;
	uint64_t seed, runs, pct_k;
};

/* Explore one cell, shrunk or not; if it wrote a trace, replay it.
 * Returns 1 if a trace was written (and replayed identically). */
static int explore_and_replay(const struct cell *c, int no_shrink)
{
	struct explore_result r = {0};
	char out[400];
	snprintf(out, sizeof out, "%s/%s", tmp, no_shrink ? "found" : "shrunk");
	struct explore_args a = {
		.scenario = c->scenario,
		.handler = c->handler,
		.variant = c->variant,
		.strategy = c->strategy,
		.seed = c->seed,
		.runs = c->runs,
		.depth = 3,
		.pct_k = c->pct_k,
		.out_dir = out,
		.quiet = 1,
		.no_shrink = no_shrink,
		.bound = 2,
		/* the proof's budget changes what the minimal trace claims,
		 * not whether it replays: small, so that ASan keeps to time */
		.proof_runs = 2000,
		.result = &r,
	};
	const char *sname = sched_strategy_of(c->strategy)->name;
	int rc = drive_explore(&a);
	if (rc != 0 && rc != 1)
		fail_msg("explore %s --handler %s --variant %s --strategy %s --seed %llu: exit %d",
			 c->scenario, c->handler, c->variant, sname,
			 (unsigned long long)c->seed, rc);
	if (rc == 0)
		return 0;
	int rrc = drive_replay(r.trace, NULL, 0);
	if (rrc != 1)
		fail_msg("%s (%s, %s): replay exit %d, want 1 (byte for byte)", r.trace,
			 sname, no_shrink ? "not shrunk" : "shrunk", rrc);
	if (no_shrink)
		return 1;
	/* the minimal failure beside it (X.min.trace) replays too */
	char mtrace[700];
	snprintf(mtrace, sizeof mtrace, "%.*s.min.trace", (int)(strlen(r.trace) - 6), r.trace);
	rrc = drive_replay(mtrace, NULL, 0);
	if (rrc != 1)
		fail_msg("%s: replay exit %d, want 1 (byte for byte)", mtrace, rrc);
	return 1;
}

static void test_every_variant_strategy_trace_replays(void **state)
{
	(void)state;
	int traces = 0, cells = 0;
	for (const struct variant_info *v = variant_table; v->name; v++) {
		const struct cell cs[] = {
			{v->scenario, v->handler, v->name, SCHED_RANDOM, 1, 300, 0},
			{v->scenario, v->handler, v->name, SCHED_PCT, 1, 300, 0},
			{v->scenario, v->handler, v->name, SCHED_DFS, 0, 300, 0},
		};
		for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
			for (int ns = 0; ns <= 1; ns++, cells++)
				traces += explore_and_replay(&cs[i], ns);
	}
	printf("  %d traces written and replayed in %d cells\n", traces, cells);
	assert_true(traces >= cells / 2);
}

/* The runs of issue 7: shrinking found nothing smaller, so the trace kept
 * the first recording while the scheduler held the last candidate's. */
static void test_issue_7_shrunk_traces_replay(void **state)
{
	(void)state;
	static const struct cell cs[] = {
		{"scenarios/zoo/b14-no-yield-on-retry.scn", "e2b-ref", NULL, SCHED_PCT, 94, 1, 68},
		{"scenarios/zoo/b14-no-yield-on-retry.scn", "reference", "no-yield-on-retry", SCHED_PCT,
		 94, 1, 68},
		{"scenarios/zoo/b13-eagain-fatal.scn", "e2b-ref", "eagain-fatal", SCHED_PCT, 94, 1, 68},
		{"scenarios/zoo/b06-no-wake-pipe.scn", "e2b-ref", "no-wake-pipe", SCHED_PCT,
		 94, 1, 68},
	};
	for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
		for (int ns = 0; ns <= 1; ns++)
			explore_and_replay(&cs[i], ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_7_shrunk_traces_replay),
		cmocka_unit_test(test_every_variant_strategy_trace_replays),
	};
	return cmocka_run_group_tests_name("replay_all", tests, setup, teardown);
}

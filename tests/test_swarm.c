/* The swarm: the generator's output parses back with the normal parser to
 * the same scenario for many seeds (valid by construction), keeps the
 * rules gen.h promises, is a function of the seed alone; the shrinker keeps
 * the invariant and makes the scenario smaller; the events and exit ops
 * reach the model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handler/variants.h"
#include "scenarios/gen.h"
#include "swarm.h"

#define SEEDS 3000

static char text1[65536], text2[65536];

static void check_rules(const struct scenario *s, int events)
{
	int exits = 0;
	uint64_t failing = 0;
	for (int t = 0; t < s->nthreads; t++)
		for (int i = 0; i < s->threads[t].nops; i++) {
			const struct scn_op *op = &s->threads[t].ops[i];
			if (op->kind == SCN_REMOVE)
				assert_true(s->event_remove);
			if (op->kind == SCN_RESUME)
				assert_int_equal(op->after_thread, -1);
			if (op->kind == SCN_PAUSE)
				assert_true(i + 1 < s->threads[t].nops &&
					    s->threads[t].ops[i + 1].kind == SCN_RESUME);
			if (op->kind == SCN_SOURCE_FAIL) {
				assert_false(failing & (UINT64_C(1) << op->a));
				failing |= UINT64_C(1) << op->a;
				assert_true(op->b <= (uint64_t)(s->retries >= 0 ? s->retries : 3));
			}
			if (op->kind == SCN_EXIT) {
				exits++;
				assert_int_equal(i, s->threads[t].nops - 1);
			}
			if (!events)
				assert_true(op->kind != SCN_UNMAP && op->kind != SCN_REMAP &&
					    op->kind != SCN_FORK);
			if (op->after_thread >= 0)
				assert_true(op->after_thread < t);
		}
	assert_true(exits <= 1);
	if (scn_breaks_contract(s))
		assert_int_equal(s->contract, SCN_CONTRACT_BREAKS);
	assert_true(s->pages >= 1 && s->pages <= 4);
	assert_true(s->nthreads >= 1 && s->nthreads <= 7);
}

static void test_generated_scenarios_parse_back(void **state)
{
	(void)state;
	static struct scenario gen, parsed;
	char err[256];
	int kinds[SCN_EXIT + 1] = {0}, twom = 0, keeps = 0;
	for (int events = 0; events <= 1; events++)
		for (uint64_t seed = 0; seed < SEEDS; seed++) {
			struct scn_gen_opts o = {.events = events};
			scn_generate(seed, &o, &gen);
			check_rules(&gen, events);
			int n = scn_format(&gen, "t", text1, sizeof text1);
			assert_true(n > 0);
			if (scn_parse_string("gen.scn", text1, &parsed, err, sizeof err))
				fail_msg("seed %llu: %s\n%s", (unsigned long long)seed, err, text1);
			assert_int_equal(scn_format(&parsed, "t", text2, sizeof text2), n);
			assert_string_equal(text1, text2);
			for (int t = 0; t < parsed.nthreads; t++)
				for (int i = 0; i < parsed.threads[t].nops; i++)
					kinds[parsed.threads[t].ops[i].kind]++;
			twom += parsed.page_size != 4096;
			keeps += parsed.contract == SCN_CONTRACT_KEEPS;
		}
	/* swarm: every kind of operation shows up somewhere */
	for (int k = SCN_READ; k <= SCN_EXIT; k++)
		if (!kinds[k])
			fail_msg("no generated scenario has a '%s'", scn_op_name((enum scn_op_kind)k));
	assert_true(twom > SEEDS / 10 && keeps > SEEDS / 10);
}

static void test_generation_is_a_function_of_the_seed(void **state)
{
	(void)state;
	static struct scenario a, b;
	int differ = 0;
	for (uint64_t seed = 0; seed < 200; seed++) {
		scn_generate(seed, NULL, &a);
		scn_generate(seed, NULL, &b);
		assert_int_equal(scn_format(&a, NULL, text1, sizeof text1),
				 scn_format(&b, NULL, text2, sizeof text2));
		assert_string_equal(text1, text2);
		scn_generate(seed + 1, NULL, &b);
		scn_format(&b, NULL, text2, sizeof text2);
		differ += strcmp(text1, text2) != 0;
	}
	assert_true(differ > 190);
}

static const char big[] =
	"memory 4k 3\n"
	"snapshot 2 zero\n"
	"features remove wp wp-async\n"
	"handler workers 2\n"
	"contract breaks\n"
	"thread g0 guest\n  read 0\n  write 2 7\n"
	"thread g1 guest\n  read 1\n"
	"thread b0 balloon\n  remove 2\n  remove 0\n"
	"thread c0 control\n  prefetch 1\n";

/* The split zero-fill (reference --variant eexist-leaves-unarmed) livelocks on
 * a read racing a remove under WP_ASYNC: shrinking keeps the invariant and
 * drops what the bug does not need. */
static void test_shrink_keeps_the_invariant_and_shrinks(void **state)
{
	(void)state;
	static struct scenario s;
	char err[256];
	assert_int_equal(scn_parse_string("big.scn", big, &s, err, sizeof err), 0);
	uint64_t bits = variant_parse("eexist-leaves-unarmed");
	struct swarm_budget b = {300, 300, 300, 0};
	struct swarm_hit h;
	uint64_t runs = 0;
	assert_int_equal(swarm_explore(&s, "reference", "eexist-leaves-unarmed", bits, &b, &h, &runs), 1);
	assert_true(!strcmp(h.name, "busy-spin") || !strcmp(h.name, "livelock"));
	char want[32];
	snprintf(want, sizeof want, "%s", h.name);
	struct swarm_shrunk st = {0};
	assert_int_equal(swarm_shrink(&s, "reference", "eexist-leaves-unarmed", bits, &b, &h, &st), 0);
	assert_string_equal(h.name, want);
	int ops = 0;
	for (int t = 0; t < s.nthreads; t++)
		ops += s.threads[t].nops;
	assert_true(s.nthreads <= 2 && ops <= 3);
	assert_true(s.wp && s.wp_async && s.event_remove);
	/* the shrunk scenario still breaks, and reference with the fix does not */
	assert_int_equal(swarm_explore(&s, "reference", "eexist-leaves-unarmed", bits, &b, &h, &runs), 1);
	assert_int_equal(swarm_explore(&s, "reference", "", 0, &b, &h, &runs), 0);
}

/* exit: a handler that took ESRCH for a fatal error would end the sandbox;
 * reference drops the fault (DISCARDED). Events: the E2B handlers reject
 * UNMAP (REF's "unexpected event"), so enabling it is a handler-exit, and
 * an unmap without the event is not a stale-data (issue 11 item 3). */
static void test_exit_and_events_reach_the_handler(void **state)
{
	(void)state;
	static struct scenario s;
	char err[256];
	struct swarm_budget b = {500, 500, 500, 0};
	struct swarm_hit h;
	uint64_t runs = 0;
	assert_int_equal(scn_parse_string("x.scn",
					  "memory 4k 4\nfeatures remove\n"
					  "thread g0 guest\n  read 0\n  read 1\n"
					  "thread g1 guest\n  read 2\n  exit\n"
					  "thread c0 control\n  prefetch 3\n", &s, err, sizeof err), 0);
	assert_int_equal(swarm_explore(&s, "reference", "", 0, &b, &h, &runs), 0);
	assert_int_equal(swarm_explore(&s, "e2b-ref", "", 0, &b, &h, &runs), 0);
	assert_int_equal(scn_parse_string("u.scn",
					  "memory 4k 2\nfeatures remove\n"
					  "thread g0 guest\n  read 0\n  read 1\n"
					  "thread b0 balloon\n  unmap 1 after g0.2\n", &s, err, sizeof err), 0);
	assert_int_equal(swarm_explore(&s, "reference", "", 0, &b, &h, &runs), 0);
	assert_int_equal(scn_parse_string("e.scn",
					  "memory 4k 2\nfeatures remove unmap\n"
					  "thread g0 guest\n  read 0\n"
					  "thread b0 balloon\n  unmap 1 after g0.1\n", &s, err, sizeof err), 0);
	assert_int_equal(swarm_explore(&s, "reference", "", 0, &b, &h, &runs), 1);
	assert_string_equal(h.name, "handler-exit");
}

/* The command's path end to end: seed 208 is a scenario the split
 * zero-fill breaks; the swarm writes the generated and the shrunk
 * scenario and explore writes the trace; the exit status says so. */
static void test_swarm_reports_a_violation_with_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/uffdlab-test-swarm.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct swarm_result res = {0};
	struct swarm_args a = {.handler = "reference", .variant = "eexist-leaves-unarmed",
			       .scenarios = 1, .seed = 208, .jobs = 1, .out_dir = dir,
			       .budget = {SWARM_BUDGET_DEFAULT, SWARM_BUDGET_DEFAULT,
					  SWARM_BUDGET_DEFAULT, 0},
			       .result = &res};
	assert_int_equal(drive_swarm(&a), 1);
	assert_int_equal(res.scenarios, 1);
	assert_int_equal(res.violations, 1);
	char path[256], cmd[400];
	static struct scenario s;
	char err[256];
	snprintf(path, sizeof path, "%s/swarm-208.scn", dir);
	assert_int_equal(scn_parse_file(path, &s, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/swarm-208-generated.scn", dir);
	assert_int_equal(scn_parse_file(path, &s, err, sizeof err), 0);
	snprintf(cmd, sizeof cmd, "ls %s/swarm-208-reference-eexist-leaves-unarmed-*.trace >/dev/null", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Workers split the seeds, not the verdicts: --jobs 2 finds what
 * --jobs 1 finds. */
static void test_jobs_find_the_same(void **state)
{
	(void)state;
	char dir[] = "/tmp/uffdlab-test-swarm.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct swarm_result r1 = {0}, r2 = {0};
	struct swarm_args a = {.handler = "reference", .variant = "eexist-leaves-unarmed",
			       .scenarios = 40, .seed = 200, .jobs = 1, .no_shrink = 1,
			       .out_dir = dir, .budget = {100, 100, 100, 0}, .result = &r1};
	int s1 = drive_swarm(&a);
	a.jobs = 2;
	a.result = &r2;
	assert_int_equal(drive_swarm(&a), s1);
	assert_int_equal(r1.scenarios, 40);
	assert_int_equal(r2.scenarios, 40);
	assert_int_equal(r1.violations, r2.violations);
	assert_int_equal(r1.runs, r2.runs);
	assert_true(r1.violations >= 1);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_scenarios_parse_back),
		cmocka_unit_test(test_generation_is_a_function_of_the_seed),
		cmocka_unit_test(test_shrink_keeps_the_invariant_and_shrinks),
		cmocka_unit_test(test_exit_and_events_reach_the_handler),
		cmocka_unit_test(test_swarm_reports_a_violation_with_files),
		cmocka_unit_test(test_jobs_find_the_same),
	};
	return cmocka_run_group_tests_name("swarm", tests, NULL, NULL);
}

/* The seed systems' handlers (wrenn, fc-example): each bug their zoo
 * scenarios name is found with its invariant and, where the trace can tell
 * two causes apart, with the cause the scenario is about; reference
 * survives the same scenarios. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "handler/handler.h"
#include "model/world.h"
#include "scenarios/scenario.h"

/* The first of runs schedules (seeds 1..runs) that breaks `want` (any
 * invariant if NULL); its verdict in *v. -1 if none does. */
static long find(const char *handler, const char *path, enum sched_strategy st,
		 long runs, const char *want, struct verdict *v)
{
	static struct scenario scn;
	char err[256];
	if (scn_parse_file(path, &scn, err, sizeof err))
		fail_msg("%s", err);
	struct world *w = world_new(&scn, handler, 0);
	assert_non_null(w);
	long found = -1;
	for (long i = 0; i < runs && found < 0; i++) {
		struct sched_opts o = {.strategy = st, .seed = (uint64_t)i + 1,
				       .pct_depth = 3, .max_steps = 20000};
		assert_int_equal(world_run(w, &o, NULL, NULL, v), 0);
		if (v->violated && (!want || !strcmp(v->name, want)))
			found = i;
	}
	world_free(w);
	return found;
}

static void expect_found(const char *handler, const char *path, const char *inv,
			 long runs, const char *text_has, struct verdict *v)
{
	long at = find(handler, path, SCHED_RANDOM, runs, inv, v);
	if (at < 0)
		fail_msg("%s on %s: no %s in %ld runs", handler, path, inv, runs);
	if (text_has && !strstr(v->text, text_has))
		fail_msg("%s on %s: %s, but '%s' is not in: %s", handler, path, inv, text_has,
			 v->text);
	printf("  %-10s %-50s %s after %ld runs\n", handler, path, inv, at + 1);
}

/* W1: REMOVE skipped, the re-fault refilled from the snapshot. */
static void test_wrenn_refills_a_removed_page(void **state)
{
	(void)state;
	struct verdict v;
	expect_found("wrenn", "scenarios/zoo/seed-remove-refault.scn", "stale-data", 100,
		     "g0 read page 1 as snapshot(1)", &v);
}

/* W2: a COPY failing EAGAIN under a pending REMOVE is dropped: the vCPU
 * waits forever with its message read. */
static void test_wrenn_drops_a_fault_on_eagain(void **state)
{
	(void)state;
	struct verdict v;
	expect_found("wrenn", "scenarios/zoo/wrenn-eagain-drop.scn", "lost-wake", 1000,
		     "g0 is blocked on page 1", &v);
	/* and nothing else breaks there: the drop is the only bug shown */
	assert_true(find("wrenn", "scenarios/zoo/wrenn-eagain-drop.scn", SCHED_RANDOM, 2000,
			 "stale-data", &v) < 0);
}

/* W3: the prefetcher's COPY lands after the zap. The source of page 1
 * fails for good once the remove returned, so snapshot bytes in page 1
 * can only come from the prefetch. */
static void test_wrenn_prefetch_resurrects_a_removed_page(void **state)
{
	(void)state;
	struct verdict v;
	expect_found("wrenn", "scenarios/zoo/wrenn-prefetch-resurrect.scn", "stale-data", 20000,
		     "final read page 1 as snapshot(1)", &v);
}

/* W4: Stop waits for serve (which closes Wrenn's fd) before the
 * prefetcher; a prefetcher past its cancel check COPYs on the closed fd.
 * PCT finds it (a random schedule rarely leaves the prefetcher behind). */
static void test_wrenn_prefetch_copies_after_stop_closed_the_uffd(void **state)
{
	(void)state;
	struct verdict v;
	const char *path = "scenarios/zoo/wrenn-prefetch-after-stop.scn";
	long at = find("wrenn", path, SCHED_PCT, 2000, "fd-after-close", &v);
	if (at < 0)
		fail_msg("wrenn on %s: no fd-after-close in 2000 pct runs", path);
	assert_non_null(strstr(v.text, "prefetch made a uffd call on fd"));
	assert_non_null(strstr(v.text, "Bad file descriptor"));
	/* the handlers that never close their uffd cannot break it */
	assert_true(find("reference", path, SCHED_PCT, 2000, NULL, &v) < 0);
	assert_true(find("e2b-ref", path, SCHED_PCT, 2000, NULL, &v) < 0);
}

/* B36: COPY into a range the example unregistered is ENOENT; it panics. */
static void test_fc_example_panics_on_enoent(void **state)
{
	(void)state;
	struct verdict v;
	expect_found("fc-example", "scenarios/zoo/fc-example-deferred-unregistered.scn",
		     "handler-exit", 1000, "Uffd copy failed at 0x7f0000001000: -2", &v);
	expect_found("fc-example", "scenarios/zoo/seed-remove-refault.scn", "handler-exit", 1000,
		     "Uffd copy failed at 0x7f0000001000: -2", &v);
}

/* Without a REMOVE the example and Wrenn serve every fault. */
static void test_seed_handlers_serve_plain_faults(void **state)
{
	(void)state;
	static const char *const hs[] = {"wrenn", "fc-example"};
	for (size_t i = 0; i < 2; i++) {
		struct verdict v;
		long at = find(hs[i], "scenarios/parallel.scn", SCHED_RANDOM, 2000, NULL, &v);
		if (at >= 0)
			fail_msg("%s on parallel.scn: %s: %s", hs[i], v.name, v.text);
		at = find(hs[i], "scenarios/missing.scn", SCHED_PCT, 500, NULL, &v);
		if (at >= 0)
			fail_msg("%s on missing.scn: %s: %s", hs[i], v.name, v.text);
	}
}

static void test_reference_survives_the_seed_scenarios(void **state)
{
	(void)state;
	static const char *const paths[] = {
		"scenarios/zoo/seed-remove-refault.scn",
		"scenarios/zoo/wrenn-eagain-drop.scn",
		"scenarios/zoo/wrenn-prefetch-resurrect.scn",
		"scenarios/zoo/fc-example-deferred-unregistered.scn",
		"scenarios/zoo/wrenn-prefetch-after-stop.scn",
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		for (int st = SCHED_RANDOM; st <= SCHED_PCT; st++) {
			struct verdict v;
			long at = find("reference", paths[i], (enum sched_strategy)st, 3000, NULL, &v);
			if (at >= 0)
				fail_msg("reference on %s: %s: %s (seed %ld)", paths[i], v.name,
					 v.text, at + 1);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrenn_refills_a_removed_page),
		cmocka_unit_test(test_wrenn_drops_a_fault_on_eagain),
		cmocka_unit_test(test_wrenn_prefetch_resurrects_a_removed_page),
		cmocka_unit_test(test_wrenn_prefetch_copies_after_stop_closed_the_uffd),
		cmocka_unit_test(test_fc_example_panics_on_enoent),
		cmocka_unit_test(test_seed_handlers_serve_plain_faults),
		cmocka_unit_test(test_reference_survives_the_seed_scenarios),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

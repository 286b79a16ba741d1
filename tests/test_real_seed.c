/* The seed systems' handlers on the real kernel (real/stress.h): wrenn and
 * fc-example serve plain faults on hardware; Wrenn's skipped REMOVE
 * refills a removed page with snapshot bytes every time; what the example
 * breaks on hardware is what the simulator says (ENOENT after its
 * UFFDIO_UNREGISTER, a panic). `make tsan` runs this file under TSan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "real/stress.h"
#include "scenarios/scenario.h"
#include "tests/realtest.h"

static void stress(const char *path, const char *handler, uint64_t n,
		   struct real_stress_result *r)
{
	static struct scenario scn;
	char err[256];
	if (scn_parse_file(path, &scn, err, sizeof err))
		fail_msg("%s", err);
	assert_int_equal(real_stress_run(&scn, handler, 0, n, r), 0);
}

static void test_seed_handlers_serve_plain_faults(void **state)
{
	(void)state;
	RT_REQUIRE(0);
	static const char *const hs[] = {"wrenn", "fc-example"};
	/* the last one runs Wrenn's own prefetcher against Stop (the fd it
	 * may use after the close is not seen on hardware: a clean run) */
	static const char *const paths[] = {"scenarios/parallel.scn", "scenarios/missing.scn",
					    "scenarios/missing-write.scn",
					    "scenarios/zoo/wrenn-prefetch-after-stop.scn"};
	for (size_t h = 0; h < 2; h++)
		for (size_t i = 0; i < 4; i++) {
			struct real_stress_result r;
			stress(paths[i], hs[h], 20, &r);
			if (r.skipped)
				skip();
			if (r.violated)
				fail_msg("%s on %s, hardware: %s: %s", hs[h], paths[i], r.name, r.text);
			assert_int_equal(r.iterations, 20);
		}
}

/* W1 needs no luck: every REMOVE is skipped, so every re-fault is served
 * from the snapshot. */
static void test_wrenn_refills_a_removed_page_on_hardware(void **state)
{
	(void)state;
	RT_REQUIRE(0);
	struct real_stress_result r;
	stress("scenarios/zoo/seed-remove-refault.scn", "wrenn", 5, &r);
	if (r.skipped)
		skip();
	assert_true(r.violated);
	assert_string_equal(r.name, "stale-data");
	assert_non_null(strstr(r.text, "g0 read page 1 as snapshot(1) on hardware"));
}

/* The example's crash needs the COPY to meet mmap_changing or the
 * re-fault to share a read round with its REMOVE: hardware may miss it in
 * a few iterations, but whatever it shows must be that crash. */
static void test_fc_example_breaks_only_as_simulated(void **state)
{
	(void)state;
	RT_REQUIRE(0);
	static const char *const paths[] = {"scenarios/zoo/fc-example-deferred-unregistered.scn",
					    "scenarios/zoo/seed-remove-refault.scn"};
	for (size_t i = 0; i < 2; i++) {
		struct real_stress_result r;
		stress(paths[i], "fc-example", 100, &r);
		if (r.skipped)
			skip();
		printf("  fc-example %s: %s after %llu iterations\n", paths[i],
		       r.violated ? r.name : "nothing", (unsigned long long)r.iterations + r.violated);
		if (!r.violated)
			continue;
		assert_string_equal(r.name, "handler-exit");
		assert_non_null(strstr(r.text, "Uffd copy failed at"));
		assert_non_null(strstr(r.text, ": -2 (copy field -2)"));
	}
}

/* W4 on hardware: the simulator's schedule, replayed in its order (replay
 * --real), makes the real prefetcher COPY on the fd serve closed: EBADF. */
static void test_wrenn_prefetch_after_stop_confirmed_on_hardware(void **state)
{
	(void)state;
	RT_REQUIRE(0);
	const char *b = getenv("BUILD");
	char dir[] = "/tmp/uffdlab-seed-XXXXXX", cmd[1024];
	assert_non_null(mkdtemp(dir));
	/* the simulator's coroutines switch stacks behind TSan's back (and
	 * graphviz renders the picture): under `make tsan` only the replay
	 * on hardware below is what this test holds to TSan; no shrinking,
	 * whose many runs overflow TSan's stack depot there */
	snprintf(cmd, sizeof cmd,
		 "TSAN_OPTIONS=report_bugs=0 "
		 "%s/uffdlab explore scenarios/zoo/wrenn-prefetch-after-stop.scn --handler wrenn "
		 "--strategy pct --seed 7 --depth 3 --pct-k 34 --runs 1 --no-shrink --out %s > /dev/null",
		 b ? b : "build", dir);
	int rc = system(cmd);
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1); /* found */
	snprintf(cmd, sizeof cmd,
		 "%s/uffdlab replay --real %s/wrenn-prefetch-after-stop-wrenn-pct-7.trace --repeat 3 "
		 "> %s/out.txt", b ? b : "build", dir, dir);
	rc = system(cmd);
	snprintf(cmd, sizeof cmd, "grep -q 'confirmed (.): fd-after-close: prefetch made a uffd call' %s/out.txt", dir);
	int seen = system(cmd);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77)
		skip();
	assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1); /* confirmed */
	assert_int_equal(seen, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_handlers_serve_plain_faults),
		cmocka_unit_test(test_wrenn_refills_a_removed_page_on_hardware),
		cmocka_unit_test(test_fc_example_breaks_only_as_simulated),
		cmocka_unit_test(test_wrenn_prefetch_after_stop_confirmed_on_hardware),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

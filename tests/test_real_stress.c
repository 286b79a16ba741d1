/* Scenario files on the real kernel (real/stress.h): reference survives the
 * whole library on hardware; a handler that gives up where the scenario
 * does not allow it is reported at once; what cannot run is skipped with a
 * reason. (e2b-ref's hardware failures are probabilistic: `make run` shows
 * them, real/confirm.c forces one deterministically.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "real/stress.h"
#include "scenarios/scenario.h"
#include "tests/realtest.h"

static void test_reference_survives_library_on_hardware(void **state)
{
	(void)state;
	RT_REQUIRE(0);
	static char names[64][256];
	static struct scenario scn;
	char err[256];
	int n = scn_list_dir("scenarios", names, 64), ran = 0;
	assert_true(n >= 20);
	for (int i = 0; i < n; i++) {
		assert_int_equal(scn_parse_file(names[i], &scn, err, sizeof err), 0);
		if (scn.page_size > 4096 && scn.pages > 64) {
			/* B22's 2,048 huge pages: 4 GiB of hugetlb and a 4 GiB
			 * snapshot per iteration, more than a test reserves */
			printf("  skip %s: %d pages of 2 MiB\n", names[i], scn.pages);
			continue;
		}
		struct real_stress_result r;
		assert_int_equal(real_stress_run(&scn, "reference", 0, 10, &r), 0);
		if (r.skipped) {
			printf("  skip %s: %s\n", names[i], r.text);
			continue;
		}
		if (r.violated)
			fail_msg("reference on %s, hardware: %s: %s", names[i], r.name, r.text);
		assert_int_equal(r.iterations, 10);
		assert_true(r.ops > 0);
		ran++;
	}
	assert_true(ran >= 14);
}

static void test_disallowed_exit_is_reported(void **state)
{
	(void)state;
	RT_REQUIRE(0);
	static struct scenario scn;
	char err[256];
	/* 5 failures outlast the 4 attempts: the handler gives up */
	assert_int_equal(scn_parse_string("sf5.scn",
					  "memory 4k 2\nthread c0 control\n  source-fail 1 5\n"
					  "thread g0 guest\n  read 1 after c0.1\n",
					  &scn, err, sizeof err), 0);
	struct real_stress_result r;
	assert_int_equal(real_stress_run(&scn, "reference", 0, 3, &r), 0);
	assert_true(r.violated);
	assert_string_equal(r.name, "handler-exit");
	assert_non_null(strstr(r.text, "failed after 4 attempts"));
	/* the same failure for good is allowed: the sandbox dies with it */
	assert_int_equal(scn_parse_string("sf0.scn",
					  "memory 4k 2\nthread c0 control\n  source-fail 1 0\n"
					  "thread g0 guest\n  read 1 after c0.1\n",
					  &scn, err, sizeof err), 0);
	assert_int_equal(real_stress_run(&scn, "reference", 0, 3, &r), 0);
	assert_false(r.violated);
	assert_int_equal(r.iterations, 3);
}

static void test_unsupported_is_skipped(void **state)
{
	(void)state;
	static struct scenario scn;
	char err[256];
	assert_int_equal(scn_parse_string("u.scn", "memory 4k 2\nthread b0 balloon\n  unmap 0\n",
					  &scn, err, sizeof err), 0);
	struct real_stress_result r;
	assert_int_equal(real_stress_run(&scn, "reference", 0, 3, &r), 0);
	assert_true(r.skipped);
	assert_non_null(strstr(r.text, "'unmap' is not run on hardware"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_ONE(test_reference_survives_library_on_hardware),
		RT_ONE(test_disallowed_exit_is_reported),
		RT_ONE(test_unsupported_is_skipped),
	};
	return cmocka_run_group_tests_name("real_stress", tests, NULL, NULL);
}

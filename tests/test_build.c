/* The build itself: a user's CFLAGS replace the optimisation flags only,
 * never what the project needs to compile (issue: `make CFLAGS=-O0`
 * dropped -I. and -D_GNU_SOURCE). Checked with make's dry run, from the
 * repository root where the test suite runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The compile line make would run for one object with these CFLAGS. */
static void compile_line(const char *cflags, char *out, size_t n)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "make -n --no-print-directory CFLAGS='%s' BUILD=build-dryrun "
		 "build-dryrun/handler/tracker.o 2>&1",
		 cflags);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	out[0] = '\0';
	char line[2048];
	while (fgets(line, sizeof line, p))
		if (strstr(line, "handler/tracker.c"))
			snprintf(out, n, "%s", line);
	assert_int_equal(pclose(p), 0);
	assert_true(out[0] != '\0');
}

static void test_user_cflags_keep_the_required_flags(void **state)
{
	(void)state;
	char line[2048];
	compile_line("-O0", line, sizeof line);
	assert_non_null(strstr(line, " -O0"));
	assert_null(strstr(line, " -O2"));
	static const char *const required[] = {"-std=c11", "-Wall", "-Wextra", "-Werror",
					       "-D_GNU_SOURCE", "-I."};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!strstr(line, required[i]))
			fail_msg("make CFLAGS=-O0 lost %s: %s", required[i], line);
}

static void test_default_cflags_optimise(void **state)
{
	(void)state;
	char line[2048];
	compile_line("-O2 -g", line, sizeof line);
	assert_non_null(strstr(line, "-O2 -g"));
	assert_non_null(strstr(line, "-D_GNU_SOURCE"));
}

/* The test runner: a hung binary is killed after the timeout and named,
 * the run goes on to the next one and fails, and the JUnit XML names every
 * test case with its outcome. */
static void test_runner_times_out_and_writes_junit(void **state)
{
	(void)state;
	char dir[] = "/tmp/uffdlab-runner-XXXXXX", cmd[1024], out[8192];
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/tests && cp %s/tests/test_tracker %s/tests/ && "
		 "printf '#!/bin/sh\\necho \"[ RUN      ] test_forever\"\\nsleep 60\\n' > %s/tests/test_hang && "
		 "chmod +x %s/tests/test_hang && "
		 "BUILD=%s UFFDLAB_TEST_TIMEOUT=2 ./tests/run_tests.sh 2>&1; echo \"rc=$?\"; "
		 "cat %s/test-results.xml",
		 dir, getenv("BUILD") ? getenv("BUILD") : "build", dir, dir, dir, dir, dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	pclose(p);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	if (!strstr(out, "TIMEOUT: test_hang killed after 2s"))
		fail_msg("no timeout line: %s", out);
	assert_non_null(strstr(out, "4 passed, 1 failed, 0 skipped\nrc=1"));
	assert_non_null(strstr(out, "<testcase classname=\"test_tracker\" name=\"test_state_names\"/>"));
	assert_non_null(strstr(out, "name=\"test_forever\"><error"));
	assert_non_null(strstr(out, "tests=\"5\" failures=\"1\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_cflags_keep_the_required_flags),
		cmocka_unit_test(test_default_cflags_optimise),
		cmocka_unit_test(test_runner_times_out_and_writes_junit),
	};
	return cmocka_run_group_tests_name("build", tests, NULL, NULL);
}

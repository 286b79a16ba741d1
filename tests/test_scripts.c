/* The table scripts the README quotes (tests/sweep.sh, tests/dfs_table.sh)
 * on small inputs: they call the binary as the user would, a violation a
 * scenario expects is marked so and passes, one it does not expect fails
 * the sweep, and the exhaustion table says what it covered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

static char out[16384];

/* sh SCRIPT ARGS with UFFDLAB set to the build's binary: its exit status,
 * its stdout in out. */
static int script(const char *args)
{
	const char *b = getenv("BUILD");
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "UFFDLAB=%s/uffdlab sh %s 2>/dev/null", b ? b : "build", args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_sweep_passes_expected_violations(void **state)
{
	(void)state;
	int rc = script("tests/sweep.sh 50 0 wrenn scenarios/missing.scn "
			"scenarios/zoo/seed-remove-refault.scn");
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "| missing | none | none | none ("));
	assert_non_null(strstr(out, "| seed-remove-refault | stale-data (seed "));
	assert_non_null(strstr(out, "), expected |"));
	assert_non_null(strstr(out, "unexpected violations: 0\n"));
}

/* fc-example breaks race-fault-remove, which names no expectation for it */
static void test_sweep_fails_on_an_unexpected_violation(void **state)
{
	(void)state;
	int rc = script("tests/sweep.sh 200 1 fc-example scenarios/zoo/race-fault-remove.scn");
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "| race-fault-remove | "));
	assert_null(strstr(out, ", expected"));
	assert_non_null(strstr(out, "unexpected violations: "));
	assert_null(strstr(out, "unexpected violations: 0\n"));
}

static void test_dfs_table_row(void **state)
{
	(void)state;
	assert_int_equal(script("tests/dfs_table.sh 20 reference scenarios/serial.scn"), 0);
	assert_non_null(strstr(out, "| scenario | covered | schedules | seconds | violation |"));
	assert_non_null(strstr(out, "| serial | unbounded | "));
	assert_non_null(strstr(out, " | none |"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_passes_expected_violations),
		cmocka_unit_test(test_sweep_fails_on_an_unexpected_violation),
		cmocka_unit_test(test_dfs_table_row),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

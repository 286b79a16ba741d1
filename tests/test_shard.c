/* Sharded and parallel exploration (explore --shard i/N, --jobs N, uffdlab
 * merge), driven through the binary as a job runner would: the merge of
 * N = 1, 2 and 4 shards is the same object, with the totals and the first
 * violation of one process over all seeds, on a zoo scenario where a
 * variant fails and on one where nothing fails; --jobs 2 gives what
 * --jobs 1 gives; merge refuses what is not one campaign (exit 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cli_run.h"
#include <sys/wait.h>
#include <unistd.h>

static int setup(void **state)
{
	(void)state;
	return cli_setup("shard");
}

static int teardown(void **state)
{
	(void)state;
	return cli_teardown();
}

/* Explore args in N shards (one process each, as N machines would), then
 * merge; the merged object without its "shards" member into out. */
static int sharded(const char *args, int n, char *out, size_t len)
{
	char buf[1 << 14];
	for (int i = 0; i < n; i++)
		run(buf, sizeof buf, "%s explore %s --shard %d/%d --json --out %s/out > %s/s%d-%d.json",
		    bin, args, i, n, tmp, tmp, n, i);
	int rc = run(buf, sizeof buf, "%s merge %s/s%d-*.json", bin, tmp, n);
	cli_drop_shards(buf, n);
	snprintf(out, len, "%s", buf);
	return rc;
}

/* The member `"key":` of a JSON text, to the end of its value (a number
 * or an object without nested objects). */
static void member(const char *json, const char *key, char *out, size_t len)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\":", key);
	const char *p = strstr(json, k);
	assert_non_null(p);
	size_t n = p[strlen(k)] == '{' ? strcspn(p, "}") + 1 : strcspn(p, ",}");
	snprintf(out, len, "%.*s", (int)n, p);
}

static void same_for_1_2_4(const char *args, int want_rc, const char *plain)
{
	static char m1[1 << 14], m2[1 << 14], m4[1 << 14];
	assert_int_equal(sharded(args, 1, m1, sizeof m1), want_rc);
	assert_int_equal(sharded(args, 2, m2, sizeof m2), want_rc);
	assert_int_equal(sharded(args, 4, m4, sizeof m4), want_rc);
	assert_string_equal(m1, m2);
	assert_string_equal(m1, m4);
	/* and what one process over all seeds says */
	char a[4096], b[4096];
	member(m1, "runs", a, sizeof a);
	member(plain, "runs", b, sizeof b);
	assert_string_equal(a, b);
	if (want_rc == 1) {
		member(m1, "violation", a, sizeof a);
		member(plain, "violation", b, sizeof b);
	} else {
		member(m1, "steps", a, sizeof a);
		member(plain, "steps", b, sizeof b);
	}
	assert_string_equal(a, b);
}

static void test_merge_same_for_any_n_failing(void **state)
{
	(void)state;
	static char plain[1 << 14];
	const char *args = "scenarios/zoo/b01-stale-source.scn --variant stale-source --runs 300";
	assert_int_equal(run(plain, sizeof plain, "%s explore %s --json --out %s/out", bin, args,
			     tmp), 1);
	same_for_1_2_4(args, 1, plain);
}

static void test_merge_same_for_any_n_passing(void **state)
{
	(void)state;
	static char plain[1 << 14];
	const char *args = "scenarios/zoo/b01-stale-source.scn --handler reference --strategy pct --runs 300";
	assert_int_equal(run(plain, sizeof plain, "%s explore %s --json --out %s/out", bin, args,
			     tmp), 0);
	same_for_1_2_4(args, 0, plain);
	assert_non_null(strstr(plain, "\"runs\":300,"));
}

/* --jobs splits the runs among processes: same runs, steps, violation. */
static void test_jobs_same_result(void **state)
{
	(void)state;
	static char j1[1 << 14], j2[1 << 14];
	char a[4096], b[4096];
	const char *args = "scenarios/zoo/fix2-no-wake-deferred.scn --strategy pct --runs 3000";
	assert_int_equal(run(j1, sizeof j1, "%s explore %s --json --out %s/out", bin, args, tmp), 1);
	assert_int_equal(run(j2, sizeof j2, "%s explore %s --jobs 2 --json --out %s/out", bin, args,
			     tmp), 1);
	static const char *const keys[] = {"runs", "steps", "violation", NULL};
	for (const char *const *k = keys; *k; k++) {
		member(j1, *k, a, sizeof a);
		member(j2, *k, b, sizeof b);
		assert_string_equal(a, b);
	}
}

/* Not one campaign, a shard missing, not JSON: one line, exit 2. */
static void test_merge_bad_input(void **state)
{
	(void)state;
	char out[4096];
	const char *args = "scenarios/zoo/b01-stale-source.scn --handler reference --runs 50";
	run(out, sizeof out, "%s explore %s --shard 0/2 --json > %s/b0.json", bin, args, tmp);
	run(out, sizeof out, "%s explore %s --runs 60 --shard 1/2 --json > %s/b1.json", bin,
	    "scenarios/zoo/b01-stale-source.scn --handler reference", tmp);
	assert_int_equal(run(out, sizeof out, "%s merge %s/b0.json", bin, tmp), 2);
	assert_int_equal(run(out, sizeof out, "%s merge %s/b0.json %s/b1.json", bin, tmp, tmp), 2);
	assert_int_equal(run(out, sizeof out, "%s merge %s/b0.json %s/b0.json", bin, tmp, tmp), 2);
	assert_int_equal(run(out, sizeof out, "%s merge /nonexistent.json", bin), 2);
	assert_int_equal(run(out, sizeof out, "%s merge %s/stderr", bin, tmp), 2);
	assert_int_equal(run(out, sizeof out, "%s explore %s --strategy dfs --jobs 2 --runs 5", bin,
			     "scenarios/zoo/b01-stale-source.scn"), 2);
	assert_int_equal(run(out, sizeof out, "%s explore %s --shard 2/2", bin,
			     "scenarios/zoo/b01-stale-source.scn"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_same_for_any_n_failing),
		cmocka_unit_test(test_merge_same_for_any_n_passing),
		cmocka_unit_test(test_jobs_same_result),
		cmocka_unit_test(test_merge_bad_input),
	};
	return cmocka_run_group_tests_name("shard", tests, setup, teardown);
}

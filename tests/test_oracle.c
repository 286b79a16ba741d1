/* The sequential spec of guest memory (model/oracle.c): per-page
 * linearizability of reads against writes and removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/oracle.h"

#define SNAP0 0x5300000000000000ull
#define W1 0x5700000000000001ull
#define W2 0x5700000000000002ull

static const uint64_t initial[2] = {SNAP0, SNAP0 + 1};

static void test_untouched_page_reads_snapshot(void **state)
{
	(void)state;
	struct oracle o;
	oracle_reset(&o, 2, initial);
	assert_true(oracle_read_ok(&o, 0, SNAP0, 5, 9));
	assert_false(oracle_read_ok(&o, 0, 0, 5, 9));
	assert_false(oracle_read_ok(&o, 0, SNAP0 + 1, 5, 9));
}

static void test_completed_remove_reads_zero(void **state)
{
	(void)state;
	struct oracle o;
	oracle_reset(&o, 2, initial);
	int r = oracle_begin(&o, 0, 0, 10);
	oracle_end(&o, r, 20);
	assert_true(oracle_read_ok(&o, 0, 0, 21, 30));
	assert_false(oracle_read_ok(&o, 0, SNAP0, 21, 30)); /* stale source */
	/* the other page is untouched */
	assert_true(oracle_read_ok(&o, 1, SNAP0 + 1, 21, 30));
}

static void test_concurrent_read_may_see_either_side(void **state)
{
	(void)state;
	struct oracle o;
	oracle_reset(&o, 2, initial);
	int r = oracle_begin(&o, 0, 0, 10);
	oracle_end(&o, r, 20);
	/* read [15, 25] overlaps the remove */
	assert_true(oracle_read_ok(&o, 0, SNAP0, 15, 25));
	assert_true(oracle_read_ok(&o, 0, 0, 15, 25));
	/* an in-flight write is visible too, a future one is not */
	int w = oracle_begin(&o, 0, W1, 22);
	assert_true(oracle_read_ok(&o, 0, W1, 21, 30));
	assert_false(oracle_read_ok(&o, 0, W1, 15, 21));
	oracle_end(&o, w, 40);
}

static void test_overwritten_value_is_gone(void **state)
{
	(void)state;
	struct oracle o;
	oracle_reset(&o, 2, initial);
	int a = oracle_begin(&o, 0, W1, 1);
	oracle_end(&o, a, 2);
	int b = oracle_begin(&o, 0, 0, 3);
	oracle_end(&o, b, 4);
	int c = oracle_begin(&o, 0, W2, 5);
	oracle_end(&o, c, 6);
	assert_true(oracle_read_ok(&o, 0, W2, 7, 8));
	assert_false(oracle_read_ok(&o, 0, W1, 7, 8));
	assert_false(oracle_read_ok(&o, 0, 0, 7, 8));
	assert_false(oracle_read_ok(&o, 0, SNAP0, 7, 8));
	uint64_t cand[4];
	assert_int_equal(oracle_candidates(&o, 0, 7, 8, cand, 4), 1);
	assert_int_equal(cand[0], W2);
}

static void test_log_full_returns_minus_one(void **state)
{
	(void)state;
	struct oracle o;
	oracle_reset(&o, 2, initial);
	for (int i = 0; i < ORACLE_MAX_MUTS; i++)
		assert_int_equal(oracle_begin(&o, 0, W1, (uint64_t)i), i);
	assert_int_equal(oracle_begin(&o, 0, W1, 999), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untouched_page_reads_snapshot),
		cmocka_unit_test(test_completed_remove_reads_zero),
		cmocka_unit_test(test_concurrent_read_may_see_either_side),
		cmocka_unit_test(test_overwritten_value_is_gone),
		cmocka_unit_test(test_log_full_returns_minus_one),
	};
	return cmocka_run_group_tests_name("oracle", tests, NULL, NULL);
}

/* Unit tests of the page tracker (handler/tracker.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handler/tracker.h"

static void test_initial_not_present(void **state)
{
	(void)state;
	struct tracker t;
	assert_int_equal(tracker_init(&t, 8), 0);
	for (uint64_t p = 0; p < 8; p++)
		assert_int_equal(tracker_get(&t, p), PAGE_NOT_PRESENT);
	tracker_fini(&t);
}

static void test_set_get_and_range(void **state)
{
	(void)state;
	struct tracker t;
	assert_int_equal(tracker_init(&t, 6), 0);
	tracker_set(&t, 0, PAGE_DIRTY);
	tracker_set(&t, 2, PAGE_DIRTY);
	tracker_set_range(&t, 1, 5, PAGE_ZERO);
	assert_int_equal(tracker_get(&t, 0), PAGE_DIRTY);
	for (uint64_t p = 1; p < 5; p++)
		assert_int_equal(tracker_get(&t, p), PAGE_ZERO);
	assert_int_equal(tracker_get(&t, 5), PAGE_NOT_PRESENT);
	/* ZERO -> DIRTY again (a write install after a remove) */
	tracker_set(&t, 2, PAGE_DIRTY);
	assert_int_equal(tracker_get(&t, 2), PAGE_DIRTY);
	tracker_fini(&t);
}

static void test_out_of_range_is_ignored(void **state)
{
	(void)state;
	struct tracker t;
	assert_int_equal(tracker_init(&t, 4), 0);
	tracker_set(&t, 4, PAGE_DIRTY);
	tracker_set_range(&t, 2, 100, PAGE_ZERO); /* clipped at the end */
	assert_int_equal(tracker_get(&t, 4), PAGE_NOT_PRESENT);
	assert_int_equal(tracker_get(&t, 3), PAGE_ZERO);
	assert_int_equal(tracker_get(&t, 1), PAGE_NOT_PRESENT);
	tracker_fini(&t);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(page_state_name(PAGE_NOT_PRESENT), "not-present");
	assert_string_equal(page_state_name(PAGE_DIRTY), "dirty");
	assert_string_equal(page_state_name(PAGE_ZERO), "zero");
	assert_string_equal(page_state_name((enum page_state)9), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_not_present),
		cmocka_unit_test(test_set_get_and_range),
		cmocka_unit_test(test_out_of_range_is_ignored),
		cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests_name("tracker", tests, NULL, NULL);
}

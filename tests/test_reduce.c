/* The scenario reducers' candidates (scenarios/reduce.h): their order and
 * count, what a dropped operation does to the `after`s that name it, the
 * pause/resume pair, pages renumbered or kept, settings kept while an
 * operation needs them, and the contract made honest when a dropped
 * `after` lets a guest race a remove. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios/gen.h"
#include "scenarios/reduce.h"

static struct scenario in, out;

static void parse(const char *text)
{
	char err[256];
	if (scn_parse_string("t.scn", text, &in, err, sizeof err))
		fail_msg("%s", err);
}

/* The text of candidate c of `in`, or "" when it does not apply. */
static const char *cand(int c, int *dropped)
{
	static char text[8192];
	int d, r = scn_reduce(&in, c, &out, &d);
	assert_true(r >= 0);
	if (dropped)
		*dropped = d;
	if (!r)
		return "";
	assert_true(scn_format(&out, NULL, text, sizeof text) > 0);
	return text;
}

#define TWO_REMOVES                                             \
	"memory 4k 3\nfeatures remove\ncontract keeps\n"        \
	"thread g guest\n  read 0\n  read 2\n"                  \
	"thread b balloon\n  remove 0 after g.1\n  remove 1\n"  \
	"thread h guest\n  read 1 after b.2\n"

/* nthreads + 2 per op + 10 settings + 2 per page, then -1; threads go
 * from the last, and a dropped thread is named by its index. */
static void test_order_and_count(void **state)
{
	(void)state;
	parse(TWO_REMOVES);
	int d, n = 0;
	for (;; n++)
		if (scn_reduce(&in, n, &out, &d) < 0)
			break;
	assert_int_equal(n, 3 + 2 * 5 + 10 + 2 * 3);
	assert_non_null(strstr(cand(0, &d), "thread b balloon"));
	assert_null(strstr(cand(0, &d), "thread h"));
	assert_int_equal(d, 2);
	/* dropping b: h's `after` on it goes */
	const char *t = cand(1, &d);
	assert_int_equal(d, 1);
	assert_non_null(strstr(t, "thread h guest\n  read 1\n"));
	/* the last op first: h's read 1, then its after */
	assert_null(strstr(cand(3, NULL), "read 1"));
	assert_non_null(strstr(cand(4, NULL), "thread h guest\n  read 1\n"));
}

/* Dropping b's second remove: h now waits on b's first, not on nothing. */
static void test_dropped_op_passes_its_after_back(void **state)
{
	(void)state;
	parse(TWO_REMOVES);
	/* ops from the last: h.1 (3, 4), b.2 (5, 6) */
	const char *t = cand(5, NULL);
	assert_null(strstr(t, "remove 1\n"));
	assert_non_null(strstr(t, "read 1 after b.1"));
	/* a first op's waiters wait on nothing */
	parse("memory 4k 1\nfeatures remove\n"
	      "thread g guest\n  read 0\nthread h guest\n  read 0 after g.1\n");
	/* h.1 (2, 3), g.1 (4, 5) */
	t = cand(4, NULL);
	assert_non_null(strstr(t, "thread h guest\n  read 0\n"));
}

static void test_pause_goes_with_its_resume(void **state)
{
	(void)state;
	parse("memory 4k 1\nfeatures remove\n"
	      "thread g guest\n  read 0\nthread c control\n  pause\n  resume\n");
	/* c.2 resume (2, 3), c.1 pause (4, 5) */
	assert_string_equal(cand(2, NULL), "");
	const char *t = cand(4, NULL);
	assert_null(strstr(t, "pause"));
	assert_null(strstr(t, "resume"));
}

/* A page an op is about alone stays; another goes, later pages move
 * down and ranges over it shrink. */
static void test_pages(void **state)
{
	(void)state;
	parse("memory 4k 3\nfeatures remove\n"
	      "thread g guest\n  read 2\nthread b balloon\n  remove 0..2\n");
	int base = 2 + 2 * 2 + 10;
	/* pages from the last: page 2 (fill, drop), page 1, page 0 */
	assert_string_equal(cand(base + 1, NULL), ""); /* read 2 is about page 2 alone */
	const char *t = cand(base + 3, NULL);      /* page 1 */
	assert_non_null(strstr(t, "memory 4k 2\n"));
	assert_non_null(strstr(t, "read 1\n"));
	assert_non_null(strstr(t, "remove 0..1\n"));
	t = cand(base + 5, NULL); /* page 0: the range starts there and goes on */
	assert_non_null(strstr(t, "remove 0..1\n"));
	assert_non_null(strstr(t, "read 1\n"));
}

/* EVENT_REMOVE stays while a remove is left; WP stays under WP_ASYNC. */
static void test_settings_kept_when_needed(void **state)
{
	(void)state;
	parse("memory 4k 1\nfeatures remove wp wp-async\n"
	      "thread g guest\n  write 0 7\nthread b balloon\n  remove 0\n");
	int base = 2 + 2 * 2;
	assert_null(strstr(cand(base + 0, NULL), "wp-async")); /* WP_ASYNC goes */
	assert_string_equal(cand(base + 5, NULL), "");          /* WP stays under it */
	assert_string_equal(cand(base + 6, NULL), "");          /* remove is used */
}

/* g reads page 0 only after b's remove of it; dropping that `after`
 * lets them race, so `contract keeps` would judge a racing guest. */
static void test_contract_made_honest(void **state)
{
	(void)state;
	parse("memory 4k 1\nfeatures remove\ncontract keeps\n"
	      "thread b balloon\n  remove 0\nthread g guest\n  read 0 after b.1\n");
	assert_int_equal(in.contract, SCN_CONTRACT_KEEPS);
	/* g.1 (2, 3): its after (3) */
	int d;
	assert_int_equal(scn_reduce(&in, 3, &out, &d), 1);
	assert_int_equal(out.threads[1].ops[0].after_thread, -1);
	assert_int_equal(out.contract, SCN_CONTRACT_BREAKS);
	/* dropping the remove instead leaves nothing to race: still keeps */
	assert_int_equal(scn_reduce(&in, 4, &out, &d), 1);
	assert_int_equal(out.contract, SCN_CONTRACT_KEEPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_count),
		cmocka_unit_test(test_dropped_op_passes_its_after_back),
		cmocka_unit_test(test_pause_goes_with_its_resume),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_settings_kept_when_needed),
		cmocka_unit_test(test_contract_made_honest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The copy-after-zap finding replayed on the real kernel from its stored
 * trace (real/confirm.h, the general replay --real mechanism): e2b-ref's
 * guest reads the snapshot bytes the worker installed after
 * madvise(DONTNEED) returned (stale-data, confirmed); reference, with the
 * read gate the simulator showed it needs, cannot be led into that
 * schedule: the turnstile diverges where its serve loop takes the settle
 * write lock before reading the uffd, and nothing breaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "real/confirm.h"
#include "tests/realtest.h"

static void run(void **state, const char *handler, struct real_shape_result *r)
{
	uint64_t ps = rt_page_size(state);
	assert_int_equal(real_confirm_copy_after_zap(handler, ps, r), 0);
	printf("  %s %s: %s (%s, %.1f ms)\n", handler, ps == rt_4k ? "4k" : "2m",
	       r->status == REAL_SHAPE_PASSED ? "not confirmed" :
	       r->status == REAL_SHAPE_FAILED ? "STALE" : "skipped", r->why, r->ms);
}

static void test_e2b_ref_copies_after_the_zap(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	struct real_shape_result r;
	run(state, "e2b-ref", &r);
	if (r.status == REAL_SHAPE_SKIPPED) {
		skip();
		return;
	}
	assert_int_equal(r.status, REAL_SHAPE_FAILED);
	if (!strstr(r.why, "confirmed stale-data: g0 read page 1 as snapshot(1) on hardware") ||
	    !strstr(r.why, "allows only zeros"))
		fail_msg("not the simulator's finding: %s", r.why);
}

static void test_reference_reads_zeros(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	struct real_shape_result r;
	run(state, "reference", &r);
	if (r.status == REAL_SHAPE_SKIPPED) {
		skip();
		return;
	}
	if (r.status != REAL_SHAPE_PASSED)
		fail_msg("reference: %s", r.why);
	if (!strstr(r.why, "diverged, no invariant broke") || !strstr(r.why, "serve does wrlock"))
		fail_msg("reference: not stopped at its read gate: %s", r.why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_BOTH(test_e2b_ref_copies_after_the_zap),
		RT_BOTH(test_reference_reads_zeros),
	};
	return cmocka_run_group_tests_name("real_confirm", tests, NULL, NULL);
}

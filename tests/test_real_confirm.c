/* Simulator findings, forced on the real kernel (real/confirm.h): e2b-ref
 * installs snapshot bytes after madvise(DONTNEED) returned; reference,
 * whose read gate the simulator showed it needs, reads zeros. */
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
	       r->status == REAL_SHAPE_PASSED ? "zeros" :
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
	if (!strstr(r.why, "page 1 reads as SNAPSHOT after madvise(DONTNEED) returned") ||
	    !strstr(r.why, "madvise returned while the worker was parked"))
		fail_msg("not the simulator's interleaving: %s", r.why);
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
	assert_non_null(strstr(r.why, "madvise waited for the parked worker"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_BOTH(test_e2b_ref_copies_after_the_zap),
		RT_BOTH(test_reference_reads_zeros),
	};
	return cmocka_run_group_tests_name("real_confirm", tests, NULL, NULL);
}

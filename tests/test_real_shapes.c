/* The upstream E2B handler tests (docs/HANDLER.md 2.6) on the real kernel: every
 * shape of real/shapes.c, for 4 KiB and 2 MiB pages, run by e2b-ref; and
 * negative controls showing that the shapes do fail when the handler has
 * the bug they guard against. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "handler/variants.h"
#include "real/shapes.h"
#include "tests/realtest.h"

static void run_shape(void **state, const char *name)
{
	uint64_t ps = rt_page_size(state);
	RT_REQUIRE(ps);
	struct real_shape_result r;
	assert_int_equal(real_shape_run(name, ps, NULL, &r), 0);
	if (r.status == REAL_SHAPE_SKIPPED) {
		printf("skip: %s\n", r.why);
		skip();
		return;
	}
	if (r.status != REAL_SHAPE_PASSED)
		fail_msg("shape %s (%s): %s", name, ps == rt_4k ? "4k" : "2m", r.why);
	printf("  %s %s: %llu ops, %llu faults, %llu served, %.1f ms\n", name,
	       ps == rt_4k ? "4k" : "2m", (unsigned long long)r.ops,
	       (unsigned long long)r.faults, (unsigned long long)r.served, r.ms);
}

/* A shape run with a bug put back must report FAILED with the given text. */
static void expect_failure(void **state, const char *name, uint64_t variant,
			   const char *needle)
{
	uint64_t ps = rt_page_size(state);
	RT_REQUIRE(ps);
	struct real_shape_opts o = {.variants = variant};
	struct real_shape_result r;
	assert_int_equal(real_shape_run(name, ps, &o, &r), 0);
	if (r.status == REAL_SHAPE_SKIPPED) {
		skip();
		return;
	}
	if (r.status != REAL_SHAPE_FAILED)
		fail_msg("shape %s with variant %s passed; the test cannot see the bug",
			 name, variant_name(variant));
	if (!strstr(r.why, needle))
		fail_msg("shape %s with variant %s failed for another reason: %s",
			 name, variant_name(variant), r.why);
}

#define SHAPE(fn, name)                                  \
	static void fn(void **state) { run_shape(state, name); }
SHAPE(test_missing, "missing")
SHAPE(test_missing_write, "missing-write")
SHAPE(test_parallel, "parallel")
SHAPE(test_parallel_write, "parallel-write")
SHAPE(test_serial, "serial")
SHAPE(test_prefetch, "prefetch")
SHAPE(test_async_wp, "async-wp")
SHAPE(test_remove, "remove")
SHAPE(test_remove_then_write, "remove-then-write")
SHAPE(test_write_then_remove, "write-then-remove")
SHAPE(test_gated_remove_then_write, "gated-remove-then-write")
SHAPE(test_gated_write_then_remove, "gated-write-then-remove")
SHAPE(test_pause_resume, "pause-resume")
SHAPE(test_stale_source, "stale-source")
SHAPE(test_madvise_inflight, "madvise-inflight")
SHAPE(test_source_retry, "source-retry")
SHAPE(test_source_fail, "source-fail")

/* B1: the state read before the lock serves the sentinel into a removed page. */
static void test_stale_source_variant_fails(void **state)
{
	expect_failure(state, "stale-source", VARIANT_STALE_SOURCE,
		       "want ZERO, got SNAPSHOT");
}

/* B3: an unlocked Prefault refills a removed page from the snapshot. */
static void test_prefault_unlocked_variant_fails(void **state)
{
	expect_failure(state, "prefetch", VARIANT_PREFAULT_UNLOCKED,
		       "page 4");
}

static void test_unknown_shape(void **state)
{
	(void)state;
	struct real_shape_result r;
	assert_int_equal(real_shape_run("no-such-shape", rt_4k, NULL, &r), -ENOENT);
	assert_int_equal(real_shape_run("missing", 12345, NULL, &r), -EINVAL);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_BOTH(test_missing),
		RT_BOTH(test_missing_write),
		RT_BOTH(test_parallel),
		RT_BOTH(test_parallel_write),
		RT_BOTH(test_serial),
		RT_BOTH(test_prefetch),
		RT_BOTH(test_async_wp),
		RT_BOTH(test_remove),
		RT_BOTH(test_remove_then_write),
		RT_BOTH(test_write_then_remove),
		RT_BOTH(test_gated_remove_then_write),
		RT_BOTH(test_gated_write_then_remove),
		RT_BOTH(test_pause_resume),
		RT_BOTH(test_stale_source),
		RT_BOTH(test_madvise_inflight),
		RT_BOTH(test_source_retry),
		RT_BOTH(test_source_fail),
		RT_BOTH(test_stale_source_variant_fails),
		RT_BOTH(test_prefault_unlocked_variant_fails),
		RT_ONE(test_unknown_shape),
	};
	return cmocka_run_group_tests_name("real_shapes", tests, NULL, NULL);
}

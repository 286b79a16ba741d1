/* The reference handler on the real kernel: every upstream shape of
 * real/shapes.c passes with it, for 4 KiB and 2 MiB pages, as it does with
 * e2b-ref (its fixes must not break what already worked on hardware) —
 * except madvise-inflight, whose premise fix 1 gives up on purpose: that
 * shape parks a worker inside the settle read lock, and reference's serve
 * loop reads the uffd under the write lock, so madvise waits for the
 * parked worker. Without a barrier that section holds no I/O (the source
 * is read before it), so the wait is one ioctl long; handler/README.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "real/shapes.h"
#include "tests/realtest.h"

static void test_every_shape(void **state)
{
	uint64_t ps = rt_page_size(state);
	RT_REQUIRE(ps);
	struct real_shape_opts o = {.handler = "reference"};
	int n = 0;
	for (const char *const *s = real_shape_names(); *s; s++, n++) {
		struct real_shape_result r;
		if (strcmp(*s, "madvise-inflight") == 0)
			continue;
		assert_int_equal(real_shape_run(*s, ps, &o, &r), 0);
		if (r.status == REAL_SHAPE_SKIPPED) {
			printf("skip: %s\n", r.why);
			skip();
			return;
		}
		if (r.status != REAL_SHAPE_PASSED)
			fail_msg("reference, shape %s (%s): %s", *s, ps == rt_4k ? "4k" : "2m",
				 r.why);
		assert_true(r.ops > 0);
	}
	assert_true(n >= 10);
	printf("  reference passed %d shapes (%s)\n", n, ps == rt_4k ? "4k" : "2m");
}

/* fix 1's price, checked: a worker parked inside its install section does
 * hold madvise up (and e2b-ref's shape passes, see test_real_shapes). */
static void test_parked_install_holds_madvise(void **state)
{
	uint64_t ps = rt_page_size(state);
	RT_REQUIRE(ps);
	struct real_shape_opts o = {.handler = "reference"};
	struct real_shape_result r;
	assert_int_equal(real_shape_run("madvise-inflight", ps, &o, &r), 0);
	if (r.status == REAL_SHAPE_SKIPPED) {
		skip();
		return;
	}
	assert_int_equal(r.status, REAL_SHAPE_FAILED);
	if (!strstr(r.why, "still blocked"))
		fail_msg("madvise-inflight failed for another reason: %s", r.why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_BOTH(test_every_shape),
		RT_BOTH(test_parked_install_holds_madvise),
	};
	return cmocka_run_group_tests_name("real_reference", tests, NULL, NULL);
}

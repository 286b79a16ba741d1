/* replay --real (real/replay_real.h): stored traces replayed on hardware
 * with their expected verdicts, at 4 KiB and 2 MiB: the three goldens and
 * two zoo findings are confirmed; b06-no-wake-pipe needs the copy the
 * simulator fails with EAGAIN between the REMOVE's read and madvise's
 * resume (KERNEL.md rule 25): the kernel opens that window only when the
 * OS scheduler is slow to run the woken madvise, so on hardware it mostly
 * diverges there and now and then confirms (seen: 1 of 3 at 2 MiB on a
 * loaded machine). Either verdict is right; a stall or a crash is not.
 * Skips with the reason where userfaultfd or huge pages are missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "driver.h"
#include "tests/realtest.h"

/* Exit statuses of drive_replay_real (driver.h). */
enum { CONFIRMED = 1, DIVERGED = 5, SKIPPED = 77 };

/* want2: a second acceptable status, or 0 */
static void expect2(void **state, const char *trace, int want, int want2)
{
	uint64_t ps = rt_page_size(state);
	int st = drive_replay_real(trace, 3, ps, 0);
	if (st == SKIPPED) {
		skip();
		return;
	}
	if (st != want && (!want2 || st != want2))
		fail_msg("%s: exit %d, want %d%s", trace, st, want, want2 ? " or the other" : "");
}

static void expect(void **state, const char *trace, int want)
{
	expect2(state, trace, want, 0);
}

static void test_golden_prefault_remove(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/golden/b03-prefault-unlocked-e2b-ref-random-16.trace", CONFIRMED);
}

static void test_golden_stale_source(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/golden/b01-stale-source-e2b-ref-stale-source-random-32.trace", CONFIRMED);
}

static void test_golden_pause_drops_deferred(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/golden/fix2-no-wake-deferred-e2b-ref-random-23.trace", CONFIRMED);
}

static void test_zoo_tracker_disagrees(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/replay/b01-stale-source-e2b-ref-random-83.trace", CONFIRMED);
}

static void test_zoo_madvise_blocked(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/replay/b04-read-under-settle-e2b-ref-read-under-settle-random-126.trace",
	       CONFIRMED);
}

static void test_zoo_window_not_reachable(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect2(state, "tests/replay/b06-no-wake-pipe-e2b-ref-no-wake-pipe-pct-7.trace", DIVERGED,
		CONFIRMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_BOTH(test_golden_prefault_remove),
		RT_BOTH(test_golden_stale_source),
		RT_BOTH(test_golden_pause_drops_deferred),
		RT_BOTH(test_zoo_tracker_disagrees),
		RT_BOTH(test_zoo_madvise_blocked),
		RT_BOTH(test_zoo_window_not_reachable),
	};
	return cmocka_run_group_tests_name("real_replay", tests, NULL, NULL);
}

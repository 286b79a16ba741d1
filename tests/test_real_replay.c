/* replay --real (real/replay_real.h): stored traces replayed on hardware
 * with their expected verdicts, at 4 KiB and 2 MiB: the three goldens and
 * three zoo findings are confirmed. orphaned-deferred needs the copy the
 * simulator fails with EAGAIN between the REMOVE's read and madvise's
 * resume (KERNEL.md rule 25): the replay holds that window by keeping the
 * woken madvise off its CPU (real/hold.h). short-circuit needs steps
 * between a madvise's resume and its zap, a window no userspace means
 * holds on the kernel: diverged, said as "window not reachable on
 * hardware". Skips with the reason where userfaultfd or huge pages are
 * missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "driver.h"
#include "real/confirm.h"
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
	expect(state, "tests/golden/prefault-remove-e2b-ref-random-16.trace", CONFIRMED);
}

static void test_golden_stale_source(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/golden/stale-source-e2b-ref-stale-source-random-32.trace", CONFIRMED);
}

static void test_golden_pause_drops_deferred(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/golden/pause-drops-deferred-e2b-ref-random-23.trace", CONFIRMED);
}

static void test_zoo_tracker_disagrees(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/replay/stale-source-e2b-ref-random-83.trace", CONFIRMED);
}

static void test_zoo_madvise_blocked(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/replay/madvise-inflight-copy-e2b-ref-read-under-settle-random-126.trace",
	       CONFIRMED);
}

static void test_zoo_window_held(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	expect(state, "tests/replay/orphaned-deferred-e2b-ref-no-wake-pipe-pct-7.trace", CONFIRMED);
}

static void test_zoo_window_not_reachable(void **state)
{
	RT_REQUIRE(rt_page_size(state));
	struct rr_result r;
	assert_int_equal(real_confirm_replay("tests/replay/stale-source-reference-short-circuit-random-128.trace",
					     0, rt_page_size(state), &r), 0);
	if (r.v == RR_SKIPPED) {
		skip();
		return;
	}
	assert_int_equal(r.v, RR_DIVERGED);
	assert_non_null(strstr(r.why, "window not reachable on hardware"));
	assert_non_null(strstr(r.window, "between b0's resume (step 22) and its zap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_BOTH(test_golden_prefault_remove),
		RT_BOTH(test_golden_stale_source),
		RT_BOTH(test_golden_pause_drops_deferred),
		RT_BOTH(test_zoo_tracker_disagrees),
		RT_BOTH(test_zoo_madvise_blocked),
		RT_BOTH(test_zoo_window_held),
		RT_BOTH(test_zoo_window_not_reachable),
	};
	return cmocka_run_group_tests_name("real_replay", tests, NULL, NULL);
}

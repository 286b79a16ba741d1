/* tests/test_retry_cut.c — the retry cut (handler/sys.h retrying,
 * docs/DESIGN.md "The retry cut") is sound where it is used: on scenarios
 * whose balloon can stall a deferred fault's retries, the reducing search
 * with the cut exhausts the space unbounded, and every final state and
 * every violation the plain search (every schedule, every retry, no cut)
 * reaches within a delay bound is among the cut search's; the cut ends
 * some runs, and without it the reduced search does not end (thread ids
 * run past 64 or the run budget is spent).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handler/variants.h"
#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/dpor.h"
#include "tests/world_seen.h"

#ifndef CUT_PLAIN_BOUND
#define CUT_PLAIN_BOUND 2 /* the plain search's delay bound */
#endif

static int run_cb(void *ctx, const struct sched_explorer *ex)
{
	return wseen_run(ctx, ex);
}

/* One search of text on handler h; returns dpor_run's stats in *st. */
static void search(const char *text, const char *h, uint64_t variants, int reduce, int cut,
		   unsigned bound, uint64_t max_runs, struct wseen *s, struct dpor_stats *st)
{
	static struct scenario scn;
	char err[256];
	memset(s, 0, sizeof *s);
	assert_int_equal(scn_parse_bytes("test.scn", text, strlen(text), &scn, err, sizeof err), 0);
	s->w = world_new(&scn, h, variants);
	assert_non_null(s->w);
	world_set_retry_cut(s->w, cut);
	struct dpor_opts o = {.reduce = reduce, .keep_going = 1, .max_runs = max_runs,
			      .delay_bounded = bound > 0, .delay_bound = bound};
	uint32_t *fail = NULL;
	size_t nfail;
	int r = dpor_run(&o, run_cb, s, st, &fail, &nfail);
	assert_true(r >= 0 || r == -E2BIG);
	free(fail);
	world_free(s->w);
	wseen_sort(s);
}

/* The plain bounded search's finals and violations within the cut
 * search's, which is exhausted unbounded; returns the cut search's runs. */
static uint64_t compare(const char *text, const char *h, uint64_t variants)
{
	static struct wseen plain, cut;
	struct dpor_stats sp, sc;
	search(text, h, variants, 0, 0, CUT_PLAIN_BOUND, 0, &plain, &sp);
	search(text, h, variants, 1, 1, 0, 2000000, &cut, &sc);
	assert_true(sp.exhausted && sc.exhausted);
	assert_true(plain.nfinals >= 1 && cut.cut > 0);
	if (!finals_within(&plain, &cut))
		fail_msg("%s: a final state of the plain search (bound %d) is not the cut "
			 "search's", h, CUT_PLAIN_BOUND);
	if (!viol_within(&plain, &cut))
		fail_msg("%s: the plain search found a violation the cut search did not", h);
	print_message("    %s: plain b%d %llu runs, %zu finals, %d violations; cut, unbounded "
		      "%llu runs (%llu pruned, %llu at a retry), %zu finals, %d violations\n", h,
		      CUT_PLAIN_BOUND, (unsigned long long)sp.runs, plain.nfinals, plain.nviol,
		      (unsigned long long)sc.runs, (unsigned long long)sc.pruned,
		      (unsigned long long)cut.cut, cut.nfinals, cut.nviol);
	return sc.runs;
}

/* S1 without its second reader: one fault racing one REMOVE, 2 workers. */
static const char fault_remove[] = "memory 4k 2\nfeatures remove\nhandler workers 2\n"
				   "contract breaks\nthread g guest\n  read 0\n"
				   "thread b balloon\n  remove 0\n";

static void test_reference_fault_remove(void **state)
{
	(void)state;
	assert_true(compare(fault_remove, "reference", 0) < 100000);
}

static void test_e2b_ref_fault_remove(void **state)
{
	(void)state;
	compare(fault_remove, "e2b-ref", 0);
}

/* A pause racing the retries: the deferred fault may sit out a pause,
 * which only the runs that retry while the uffd changes used to show. */
static void test_reference_pause_during_retry(void **state)
{
	(void)state;
	static const char text[] = "memory 4k 1\nfeatures remove\nhandler workers 1\n"
				   "contract breaks\nthread g guest\n  read 0\n"
				   "thread b balloon\n  remove 0\n"
				   "thread c control\n  pause\n  resume\n";
	compare(text, "reference", 0);
}

/* Without the cut the same reduced search does not end within a budget
 * that the cut search needs a small part of. */
static void test_without_the_cut_it_does_not_end(void **state)
{
	(void)state;
	static struct wseen s;
	struct dpor_stats st;
	search(fault_remove, "reference", 0, 1, 0, 0, 200000, &s, &st);
	assert_false(st.exhausted);
	assert_int_equal(s.cut, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_fault_remove),
		cmocka_unit_test(test_e2b_ref_fault_remove),
		cmocka_unit_test(test_reference_pause_during_retry),
		cmocka_unit_test(test_without_the_cut_it_does_not_end),
	};
	return cmocka_run_group_tests_name("retry_cut", tests, NULL, NULL);
}

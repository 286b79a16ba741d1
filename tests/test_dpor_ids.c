/* Thread ids past 63 in the plain dfs (sched/dpor.c): a plain node's
 * masks name a thread by its rank among the runnable ones, so a program
 * that spawns a thread per step (as e2b's handlers spawn a worker per
 * retry) is searched in full while at most 64 threads can run at once.
 * A chain of 80 links, each spawning the next and ending, the last one
 * reading a word that a writer thread sets: the plain search, unbounded
 * and within 0 preemptions, must run the write at every place along the
 * chain, see the last link read both values and end exhausted. The
 * reduced search names threads by id (clocks, sleep sets) and must say
 * that it could not represent them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "sched/dpor.h"
#include "sched/sched.h"

#define CHAIN 80

static struct {
	sched_t *s;
	int x;          /* the word the writer sets */
	int got;        /* what the last link read, + 1 */
	int seen[2];    /* final values seen over the search */
	int max_tid;
} C;

static void link_fn(void *arg)
{
	int k = (int)(intptr_t)arg;
	int t = sched_self(C.s);
	if (t > C.max_tid)
		C.max_tid = t;
	sched_point(C.s);
	if (k < CHAIN) {
		/* the word is not touched: the link only spawns */
		sched_touch(C.s, SCHED_OBJ(SCHED_OC_USER, 2), 1);
		assert_true(sched_spawn(C.s, "link", 0, link_fn, (void *)(intptr_t)(k + 1)) >= 0);
		return;
	}
	sched_touch(C.s, SCHED_OBJ(SCHED_OC_USER, 1), 0);
	C.got = C.x + 1;
}

static void writer_fn(void *arg)
{
	(void)arg;
	sched_point(C.s);
	sched_touch(C.s, SCHED_OBJ(SCHED_OC_USER, 1), 1);
	C.x = 1;
}

static int chain_run(void *ctx, const struct sched_explorer *ex)
{
	(void)ctx;
	C.x = 0;
	C.got = 0;
	struct sched_opts o = {.strategy = SCHED_DFS, .explorer = ex};
	assert_int_equal(sched_reset(C.s, &o), 0);
	assert_int_equal(sched_spawn(C.s, "link", 0, link_fn, (void *)(intptr_t)0), 0);
	assert_int_equal(sched_spawn(C.s, "writer", 0, writer_fn, NULL), 1);
	enum sched_result r = sched_run(C.s);
	if (dpor_run_cut(ex))
		return 0;
	assert_int_equal(r, SCHED_DONE);
	assert_true(C.got == 1 || C.got == 2);
	C.seen[C.got - 1]++;
	return 0;
}

static void chain_search(int reduce, int preempt, struct dpor_stats *st)
{
	C.s = sched_new(NULL);
	assert_non_null(C.s);
	C.seen[0] = C.seen[1] = 0;
	C.max_tid = 0;
	struct dpor_opts o = {.reduce = reduce, .preempt_bounded = preempt >= 0,
			      .preempt_bound = preempt >= 0 ? (unsigned)preempt : 0};
	uint32_t *fail;
	size_t nfail;
	int r = dpor_run(&o, chain_run, NULL, st, &fail, &nfail);
	free(fail);
	sched_free(C.s);
	assert_true(r >= 0);
	print_message("    reduce %d preemptions %d: %llu runs, max tid %d, read 0 x%d, 1 x%d, %s\n",
		      reduce, preempt, (unsigned long long)st->runs, C.max_tid, C.seen[0],
		      C.seen[1], st->exhausted ? "exhausted" : "not exhausted");
}

static void test_plain_past_63(void **state)
{
	(void)state;
	struct dpor_stats st;
	chain_search(0, -1, &st);
	assert_true(st.exhausted);
	assert_false(st.wide);
	assert_int_equal(C.max_tid, CHAIN + 1); /* links 0, 2..81; the writer 1 */
	assert_true(C.seen[0] > 0 && C.seen[1] > 0);
	/* the write before or after each of the chain's steps: at least one
	 * schedule per link */
	assert_true(st.runs > CHAIN);
}

static void test_plain_past_63_no_preemption(void **state)
{
	(void)state;
	struct dpor_stats st;
	chain_search(0, 0, &st);
	assert_true(st.exhausted);
	assert_false(st.wide);
	/* each link's end is a free switch: the writer can go at any of them */
	assert_true(C.seen[0] > 0 && C.seen[1] > 0);
	assert_true(st.runs > CHAIN);
}

static void test_reduced_says_wide(void **state)
{
	(void)state;
	struct dpor_stats st;
	chain_search(1, -1, &st);
	assert_true(st.wide);
	assert_false(st.exhausted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_past_63),
		cmocka_unit_test(test_plain_past_63_no_preemption),
		cmocka_unit_test(test_reduced_says_wide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

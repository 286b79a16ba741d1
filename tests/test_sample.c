/* Random schedules within a preemption bound (sched/sample.c), on a real
 * scenario: every run keeps within its bound (counted on a replay with
 * the runnable sets, as the shrinker counts), the same seed gives the
 * same schedule, and different seeds give different ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/files.h"
#include "sched/sample.h"
#include "sched/shrink.h"

#define RUNS 200

static struct world *load(const char *path, struct scenario *scn)
{
	char err[512], *b = NULL;
	size_t len = 0;

	assert_int_equal(input_read_all(path, &b, &len), 0);
	assert_int_equal(scn_parse_string(path, b, scn, err, sizeof err), 0);
	free(b);
	struct world *w = world_new(scn, "reference", 0);
	assert_non_null(w);
	return w;
}

/* One sampled run: its choices into c (cap entries), their number. */
static size_t sampled(struct world *w, uint64_t seed, unsigned bound, uint32_t *c, size_t cap)
{
	struct sample sm;
	sample_init(&sm, seed, bound, 60);
	struct sched_opts o = {.strategy = SCHED_DFS, .seed = seed, .explorer = &sm.ex};
	struct verdict v;
	assert_int_equal(world_run(w, &o, NULL, NULL, &v), 0);
	size_t n;
	const uint32_t *x = sched_choices(world_sched(w), &n);
	assert_true(n <= cap);
	memcpy(c, x, n * sizeof *c);
	return n;
}

static size_t preemptions(struct world *w, uint64_t seed, const uint32_t *c, size_t n)
{
	struct sched_opts o = {.strategy = SCHED_REPLAY, .seed = seed, .replay = c,
			       .replay_len = n, .record_runnable = 1};
	struct verdict v;
	assert_int_equal(world_run(w, &o, NULL, NULL, &v), 0);
	assert_int_equal(v.steps, n);
	size_t nm;
	int wide;
	return shrink_preemptions(c, sched_runnable_masks(world_sched(w), &nm, &wide), n);
}

static void test_within_bound_deterministic_varied(void **state)
{
	(void)state;
	static struct scenario scn;
	struct world *w = load("scenarios/zoo/race-fault-remove.scn", &scn);
	static uint32_t a[4096], b[4096], first[4096];
	for (unsigned bound = 0; bound <= 2; bound++) {
		size_t nfirst = 0, distinct = 0, most = 0;
		for (uint64_t seed = 0; seed < RUNS; seed++) {
			size_t na = sampled(w, seed, bound, a, 4096);
			size_t nb = sampled(w, seed, bound, b, 4096);
			assert_int_equal(na, nb);
			assert_memory_equal(a, b, na * sizeof *a);
			size_t p = preemptions(w, seed, a, na);
			assert_true(p <= bound);
			most = p > most ? p : most;
			if (!seed) {
				memcpy(first, a, na * sizeof *a);
				nfirst = na;
			} else if (na != nfirst || memcmp(a, first, na * sizeof *a)) {
				distinct++;
			}
		}
		print_message("    bound %u: %zu of %d runs differ from the first, most %zu preemptions\n",
			      bound, distinct, RUNS, most);
		assert_true(distinct > 0);
		if (bound)
			assert_true(most >= 1); /* the points do preempt */
	}
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_within_bound_deterministic_varied),
	};
	return cmocka_run_group_tests_name("sample", tests, NULL, NULL);
}

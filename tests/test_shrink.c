/* Shrinking failing schedules: the generic delta debugger (sched/shrink.c)
 * on synthetic predicates, and on real simulator failures where the shrunk
 * schedule must still fail the same way and replay exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handler/variants.h"
#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/shrink.h"

/* A fake run: the guide's candidate is the run itself; it "fails" when
 * thread 2 appears somewhere after thread 1. */
struct fake {
	uint32_t buf[256];
};

static int after_test(void *ctx, const uint32_t *cand, size_t n,
		      const uint32_t **actual, size_t *nactual)
{
	struct fake *f = ctx;
	memcpy(f->buf, cand, n * sizeof *cand);
	*actual = f->buf;
	*nactual = n;
	int seen1 = 0;
	for (size_t i = 0; i < n; i++) {
		if (cand[i] == 1)
			seen1 = 1;
		if (cand[i] == 2 && seen1)
			return 1;
	}
	return 0;
}

static void test_synthetic_shrinks_to_minimum(void **state)
{
	(void)state;
	size_t n = 64;
	uint32_t *c = malloc(n * sizeof *c);
	assert_non_null(c);
	for (size_t i = 0; i < n; i++)
		c[i] = (uint32_t)(i * 7 % 5); /* has 1 then 2 */
	struct fake f;
	struct shrink_stats st;
	assert_int_equal(shrink_run(&c, &n, after_test, &f, 10000, &st), 0);
	assert_int_equal(n, 2);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[1], 2);
	assert_int_equal(st.from_steps, 64);
	assert_int_equal(st.to_steps, 2);
	assert_true(st.tests > 0);
	free(c);
}

static void test_budget_is_respected(void **state)
{
	(void)state;
	size_t n = 64;
	uint32_t *c = malloc(n * sizeof *c);
	assert_non_null(c);
	for (size_t i = 0; i < n; i++)
		c[i] = (uint32_t)(i * 7 % 5);
	struct fake f;
	struct shrink_stats st;
	assert_int_equal(shrink_run(&c, &n, after_test, &f, 3, &st), 0);
	assert_int_equal(st.tests, 3);
	assert_true(after_test(&f, c, n, &(const uint32_t *){0}, &(size_t){0}) == 1);
	free(c);
}

static void test_switch_count(void **state)
{
	(void)state;
	const uint32_t c[] = {0, 0, 1, 1, 0, 2, 2};
	assert_int_equal(shrink_switches(c, 7), 3);
	assert_int_equal(shrink_switches(c, 1), 0);
}

struct wctx {
	struct world *w;
	uint64_t seed;
	const char *want;
};

static int world_test(void *ctx, const uint32_t *cand, size_t n,
		      const uint32_t **actual, size_t *nactual)
{
	struct wctx *c = ctx;
	struct sched_opts o = {.strategy = SCHED_GUIDED, .seed = c->seed,
			       .replay = cand, .replay_len = n};
	struct verdict v;
	if (world_run(c->w, &o, NULL, NULL, &v))
		return -EIO;
	*actual = sched_choices(world_sched(c->w), nactual);
	return v.violated && strcmp(v.name, c->want) == 0;
}

/* A real failure shrinks, and the shrunk schedule replays (strictly) to
 * the same violation. */
static void test_simulator_failure_shrinks_and_replays(void **state)
{
	(void)state;
	static struct scenario scn;
	char err[256];
	assert_int_equal(scn_parse_file("scenarios/zoo/b01-stale-source.scn", &scn, err, sizeof err), 0);
	struct world *w = world_new(&scn, "e2b-ref", 0);
	assert_non_null(w);
	struct verdict v;
	uint64_t seed = 0;
	for (; seed < 10000; seed++) {
		struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = seed};
		assert_int_equal(world_run(w, &o, NULL, NULL, &v), 0);
		if (v.violated)
			break;
	}
	assert_true(v.violated);
	char name[32];
	strcpy(name, v.name);
	size_t n;
	const uint32_t *c0 = sched_choices(world_sched(w), &n);
	uint32_t *c = malloc(n * sizeof *c);
	assert_non_null(c);
	memcpy(c, c0, n * sizeof *c);
	size_t n0 = n;
	struct wctx wc = {w, seed, name};
	struct shrink_stats st;
	assert_int_equal(shrink_run(&c, &n, world_test, &wc, 2000, &st), 0);
	assert_true(n < n0 || st.to_switches < st.from_switches);
	struct sched_opts o = {.strategy = SCHED_REPLAY, .seed = seed, .replay = c,
			       .replay_len = n};
	assert_int_equal(world_run(w, &o, NULL, NULL, &v), 0);
	assert_true(v.violated);
	assert_string_equal(v.name, name);
	assert_int_equal(v.steps, n);
	free(c);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic_shrinks_to_minimum),
		cmocka_unit_test(test_budget_is_respected),
		cmocka_unit_test(test_switch_count),
		cmocka_unit_test(test_simulator_failure_shrinks_and_replays),
	};
	return cmocka_run_group_tests_name("shrink", tests, NULL, NULL);
}

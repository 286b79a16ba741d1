/* Deviation-bounded DFS (sched/dfs.c): the exact count of schedules on a
 * synthetic program, every schedule visited once, the run limit, and on the
 * simulator: reference exhausts a scenario with no violation, e2b-ref's
 * bugs are found at the bound they need. */
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
#include "sched/dfs.h"

/* A fake program: `len` steps, threads 0 and 1 always runnable; the guide
 * follows the prefix, then keeps the previous thread (0 at the start). It
 * remembers every schedule it ran. */
struct fake {
	size_t len;
	uint32_t c[16];
	uint64_t m[16];
	uint32_t seen[4096][16];
	size_t nseen;
	int fail_on_11; /* fail when the schedule ends in 1,1 */
};

static int fake_test(void *ctx, const uint32_t *prefix, size_t n,
		     const uint32_t **choices, const uint64_t **masks,
		     size_t *nsteps, int *wide)
{
	struct fake *f = ctx;
	for (size_t j = 0; j < f->len; j++) {
		f->c[j] = j < n ? prefix[j] : (j ? f->c[j - 1] : 0);
		f->m[j] = 3;
	}
	memcpy(f->seen[f->nseen++], f->c, sizeof f->c);
	*choices = f->c;
	*masks = f->m;
	*nsteps = f->len;
	*wide = 0;
	return f->fail_on_11 && f->c[f->len - 2] == 1 && f->c[f->len - 1] == 1 &&
	       f->c[0] == 0 && f->c[1] == 0;
}

static void test_counts_and_distinct(void **state)
{
	(void)state;
	/* schedules of 4 steps within B deviations: sum of C(4, i), i <= B */
	static const uint64_t want[] = {1, 5, 11, 15, 16};
	for (unsigned b = 0; b <= 4; b++) {
		static struct fake f;
		memset(&f, 0, sizeof f);
		f.len = 4;
		struct dfs_stats st;
		uint32_t *fail;
		size_t nfail;
		assert_int_equal(dfs_run(b, 0, fake_test, &f, &st, &fail, &nfail), 0);
		assert_int_equal(st.runs, want[b]);
		assert_true(st.exhausted);
		for (size_t i = 0; i < f.nseen; i++)
			for (size_t j = i + 1; j < f.nseen; j++)
				assert_memory_not_equal(f.seen[i], f.seen[j], sizeof f.seen[i]);
	}
}

static void test_failure_and_limit(void **state)
{
	(void)state;
	static struct fake f;
	memset(&f, 0, sizeof f);
	f.len = 6;
	f.fail_on_11 = 1;
	struct dfs_stats st;
	uint32_t *fail;
	size_t nfail;
	assert_int_equal(dfs_run(1, 0, fake_test, &f, &st, &fail, &nfail), 1);
	assert_int_equal(nfail, 6);
	assert_int_equal(fail[4], 1);
	assert_int_equal(fail[5], 1);
	free(fail);
	memset(&f, 0, sizeof f);
	f.len = 6;
	assert_int_equal(dfs_run(3, 5, fake_test, &f, &st, &fail, &nfail), 0);
	assert_int_equal(st.runs, 5);
	assert_false(st.exhausted);
}

struct wctx {
	struct world *w;
	struct verdict v;
};

static int world_test(void *ctx, const uint32_t *prefix, size_t n,
		      const uint32_t **choices, const uint64_t **masks,
		      size_t *nsteps, int *wide)
{
	struct wctx *c = ctx;
	struct sched_opts o = {.strategy = SCHED_GUIDED, .replay = prefix,
			       .replay_len = n, .record_runnable = 1};
	if (world_run(c->w, &o, NULL, NULL, &c->v))
		return -EIO;
	size_t nm;
	*choices = sched_choices(world_sched(c->w), nsteps);
	*masks = sched_runnable_masks(world_sched(c->w), &nm, wide);
	assert_int_equal(nm, *nsteps);
	return c->v.violated;
}

static int search(const char *path, const char *handler, const char *variant,
		  unsigned bound, struct dfs_stats *st, struct verdict *v)
{
	static struct scenario scn;
	char err[256];
	assert_int_equal(scn_parse_file(path, &scn, err, sizeof err), 0);
	struct wctx c = {.w = world_new(&scn, handler, variant ? variant_parse(variant) : 0)};
	assert_non_null(c.w);
	uint32_t *fail;
	size_t nfail;
	int r = dfs_run(bound, 0, world_test, &c, st, &fail, &nfail);
	assert_true(r >= 0);
	if (r == 1)
		free(fail);
	*v = c.v;
	world_free(c.w);
	return r;
}

static void test_reference_exhausts_stale_source(void **state)
{
	(void)state;
	struct dfs_stats st, st2;
	struct verdict v;
	assert_int_equal(search("scenarios/zoo/b01-stale-source.scn", "reference", NULL, 2, &st, &v), 0);
	assert_true(st.exhausted);
	assert_true(st.runs > 100);
	/* the search is deterministic */
	assert_int_equal(search("scenarios/zoo/b01-stale-source.scn", "reference", NULL, 2, &st2, &v), 0);
	assert_int_equal(st.runs, st2.runs);
	assert_int_equal(st.steps, st2.steps);
}

static void test_bugs_found_at_their_bound(void **state)
{
	(void)state;
	struct dfs_stats st;
	struct verdict v;
	assert_int_equal(search("scenarios/zoo/b01-stale-source.scn", "e2b-ref", NULL, 1, &st, &v), 1);
	assert_string_equal(v.name, "lost-wake");
	assert_int_equal(search("scenarios/zoo/b03-prefault-unlocked.scn", "reference", "no-read-gate", 2,
				&st, &v), 1);
	assert_string_equal(v.name, "stale-data");
	/* B5's lost wake is the final read's: since the final reads follow
	 * the pause-time export (docs/ORACLE.md), reaching it takes four
	 * deviations (224,751 schedules since the errgroup is a sys
	 * semaphore, too many for a test): none within three, exhausted */
	assert_int_equal(search("scenarios/zoo/b05-dispatch-before-remove.scn", "e2b-ref",
				"dispatch-before-remove", 3, &st, &v), 0);
	assert_true(st.exhausted);
	assert_true(st.runs > 10000); /* 19,608 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_distinct),
		cmocka_unit_test(test_failure_and_limit),
		cmocka_unit_test(test_reference_exhausts_stale_source),
		cmocka_unit_test(test_bugs_found_at_their_bound),
	};
	return cmocka_run_group_tests_name("dfs", tests, NULL, NULL);
}

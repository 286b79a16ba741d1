/* The handler interface from outside handler/: a minimal handler
 * (tests/outoftree/naive.c, compiled in here), registered with
 * handler_register() and explored through the interface alone. It serves every fault from the snapshot and ignores
 * REMOVE, so a page removed by the balloon comes back with its old bytes:
 * the oracle must say stale-data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/handler.h"
#include "handler/sys.h"
#include "outoftree/naive.c" /* one copy, shared with test_install */
#include "model/world.h"
#include "scenarios/scenario.h"


static int setup(void **state)
{
	(void)state;
	return handler_register(&naive_desc) == 0 ? 0 : -1;
}

static void test_registry_takes_the_row(void **state)
{
	(void)state;
	assert_ptr_equal(handler_find("naive"), &naive_desc);
	assert_int_equal(handler_register(&naive_desc), -EEXIST);
	struct handler_desc bad = naive_desc;
	bad.name = "Bad Name";
	assert_int_equal(handler_register(&bad), -EINVAL);
	struct handler_ops half = naive_ops;
	half.export_pages = NULL;
	bad.name = "half";
	bad.ops = &half;
	assert_int_equal(handler_register(&bad), -EINVAL);
	int n;
	const struct handler_desc *const *all = handler_list(&n);
	assert_true(n >= 3);
	assert_ptr_equal(all[n - 1], &naive_desc);
	assert_string_equal(handler_names()[n - 1], "naive");
	assert_null(handler_names()[n]);
}

static long explore_in(const char *path, const char *handler, struct verdict *v)
{
	static struct scenario scn;
	char err[256];
	if (scn_parse_file(path, &scn, err, sizeof err))
		fail_msg("%s", err);
	struct world *w = world_new(&scn, handler, 0);
	assert_non_null(w);
	long found = -1;
	for (long i = 0; i < 200 && found < 0; i++) {
		struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = (uint64_t)i};
		assert_int_equal(world_run(w, &o, NULL, NULL, v), 0);
		if (v->violated)
			found = i;
	}
	world_free(w);
	return found;
}

static long explore(const char *handler, struct verdict *v)
{
	return explore_in("tests/outoftree/naive.scn", handler, v);
}

/* The oracle sees the bug through the interface alone: every schedule of
 * this sequential scenario re-serves the removed page from the snapshot. */
static void test_oracle_finds_the_naive_handlers_bug(void **state)
{
	(void)state;
	struct verdict v;
	assert_int_equal(explore("naive", &v), 0);
	assert_string_equal(v.name, "stale-data");
	assert_non_null(strstr(v.text, "g2 read page 0 as snapshot(0)"));
	assert_non_null(strstr(v.text, "allows only zeros"));
}

/* The same scenario on the in-tree reference handler: no violation, so the
 * finding above is the naive handler's, not the scenario's. */
static void test_reference_passes_the_same_scenario(void **state)
{
	(void)state;
	struct verdict v;
	assert_int_equal(explore("reference", &v), -1);
}

/* The export oracle through the interface: naive keeps no record, so its
 * export leaves every page out of the diff and async-wp's first export
 * loses page 0's write; reference ships it. */
static void test_export_oracle_judges_the_naive_export(void **state)
{
	(void)state;
	struct verdict v;
	assert_true(explore_in("scenarios/async-wp.scn", "naive", &v) >= 0);
	assert_string_equal(v.name, "export-lost-write");
	assert_non_null(strstr(v.text, "the export by c0 gives page 0 snapshot(0)"));
	assert_int_equal(explore_in("scenarios/async-wp.scn", "reference", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_takes_the_row),
		cmocka_unit_test(test_oracle_finds_the_naive_handlers_bug),
		cmocka_unit_test(test_reference_passes_the_same_scenario),
		cmocka_unit_test(test_export_oracle_judges_the_naive_export),
	};
	return cmocka_run_group_tests_name("handler_api", tests, setup, NULL);
}

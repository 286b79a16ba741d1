/* The invariant registry: every row is complete, every check can both pass
 * and fail on facts built here, the table order decides which invariant a
 * stuck run is reported as, and a scenario operation that fails is a
 * reported outcome of the run, not ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <stdio.h>

#include "handler/handler.h"
#include "outoftree/naive.c" /* a handler that reads the source for every fault */
#include "model/content.h"
#include "model/invariant.h"
#include "model/oracle.h"
#include "model/world.h"
#include "scenarios/scenario.h"

static void test_rows_are_complete_and_unique(void **state)
{
	(void)state;
	int n = 0;
	for (const struct invariant *i = inv_table; i->name; i++, n++) {
		assert_non_null(i->meaning);
		assert_non_null(i->check);
		assert_true(i->layers != 0 && i->layers < (1u << INV_NLAYERS));
		assert_ptr_equal(inv_find(i->name), i);
		for (const struct inv_outcome *o = inv_outcomes; o->name; o++)
			assert_string_not_equal(o->name, i->name);
	}
	assert_true(n >= 9);
	assert_string_equal(inv_known("setup"), "setup");
	assert_null(inv_find("setup")); /* an outcome, not an invariant */
	assert_null(inv_known("stale_data"));
}

static struct inv_report check(const struct inv_facts *f, int want)
{
	struct inv_report r;
	memset(&r, 0, sizeof r);
	assert_int_equal(inv_check(f, &r), want);
	return r;
}

static void test_read_layer(void **state)
{
	(void)state;
	struct oracle o;
	uint64_t init[2] = {MK_SNAP(0), MK_SNAP(1)};
	oracle_reset(&o, 2, init);
	int h = oracle_begin(&o, 0, 0, 5); /* a remove of page 0 over [5, 6] */
	oracle_end(&o, h, 6);
	struct inv_facts f = {.layer = INV_AT_READ};
	f.u.read = (struct inv_read){.who = "g", .page = 0, .got = 0, .start = 10,
				     .end = 11, .orc = &o};
	check(&f, 0);
	f.u.read.got = MK_SNAP(0); /* the removed page came back */
	struct inv_report r = check(&f, 1);
	assert_string_equal(r.name, "stale-data");
	assert_non_null(strstr(r.text, "g read page 0 as snapshot(0)"));
	f.u.read.contract_breaks = 1;
	check(&f, 0);
	f.u.read.got = INV_FOREIGN; /* no contract explains foreign bytes */
	r = check(&f, 1);
	assert_non_null(strstr(r.text, "foreign bytes"));
}

static void test_install_and_export_layers(void **state)
{
	(void)state;
	struct inv_facts f = {.layer = INV_AT_INSTALL};
	f.u.install = (struct inv_install){.who = "w", .page = 1, .content = MK_SNAP(1),
					   .view = HPAGE_UNKNOWN};
	check(&f, 0);
	f.u.install.view = HPAGE_REMOVED;
	assert_string_equal(check(&f, 1).name, "install-into-removed");
	f.u.install.content = 0; /* zeros into a removed page are its content */
	check(&f, 0);
	/* a second fill with one request: a served fault filled again */
	f.u.install.view = HPAGE_DIRTY;
	f.u.install.fills = 2;
	f.u.install.asked = 1;
	struct inv_report u = check(&f, 1);
	assert_string_equal(u.name, "unrequested-refill");
	assert_non_null(strstr(u.text, "its fill 2"));
	f.u.install.asked = 2; /* a second fault (or a prefetch) asked for it */
	check(&f, 0);
	f.u.install.fills = 0; /* not counted */
	f.u.install.asked = 0;
	check(&f, 0);
	struct inv_facts e = {.layer = INV_AT_EXPORT};
	e.u.exp = (struct inv_export){.page = 2, .view = HPAGE_REMOVED, .present = 1,
				      .content = MK_WRITE(3)};
	struct inv_report r = check(&e, 1);
	assert_string_equal(r.name, "tracker-disagrees");
	assert_non_null(strstr(r.text, "write#3"));
	e.u.exp.present = 0;
	check(&e, 0);
	/* before the final reads: marked dirty, absent */
	struct oracle o;
	uint64_t init[3] = {MK_SNAP(0), MK_SNAP(1), MK_SNAP(2)};
	oracle_reset(&o, 3, init);
	e.u.exp = (struct inv_export){.page = 2, .view = HPAGE_DIRTY, .present = 0, .orc = &o,
				      .restored = MK_SNAP(2), .start = 1, .end = 2,
				      .tracker = HPAGE_DIRTY};
	r = check(&e, 1);
	assert_string_equal(r.name, "tracker-disagrees");
	assert_non_null(strstr(r.text, "marked dirty but absent"));
	e.u.exp.fill_raced_remove = 1; /* its last fill landed inside a remove's window */
	check(&e, 0);
}

/* The export oracle: a restore is judged as a read over the export's
 * interval, and the way it misses names the invariant. */
static void test_export_restore_rows(void **state)
{
	(void)state;
	struct oracle o;
	uint64_t init[3] = {MK_SNAP(0), MK_SNAP(1), MK_SNAP(2)};
	oracle_reset(&o, 3, init);
	oracle_end(&o, oracle_begin(&o, 0, MK_WRITE(4), 2), 3); /* page 0 written */
	oracle_end(&o, oracle_begin(&o, 1, 0, 2), 3);           /* page 1 removed */
	struct inv_facts e = {.layer = INV_AT_EXPORT};
	e.u.exp = (struct inv_export){.page = 0, .view = HPAGE_DIRTY, .present = 1,
				      .content = MK_WRITE(4), .orc = &o,
				      .restored = MK_WRITE(4), .start = 10, .end = 12,
				      .when = "the export by c"};
	check(&e, 0);
	e.u.exp.view = HPAGE_UNKNOWN; /* left out of the diff: the snapshot comes back */
	e.u.exp.restored = MK_SNAP(0);
	struct inv_report r = check(&e, 1);
	assert_string_equal(r.name, "export-lost-write");
	assert_non_null(strstr(r.text, "the export by c gives page 0 snapshot(0)"));
	assert_non_null(strstr(r.text, "allows only write#4"));
	e.u.exp.start = 1; /* an export over the write may restore either side */
	check(&e, 0);
	e.u.exp = (struct inv_export){.page = 1, .view = HPAGE_UNKNOWN, .orc = &o,
				      .restored = MK_SNAP(1), .start = 10, .end = 12};
	assert_string_equal(check(&e, 1).name, "export-not-zero");
	e.u.exp.contract_breaks = 1; /* relaxed, as stale-data */
	check(&e, 0);
	e.u.exp = (struct inv_export){.page = 2, .view = HPAGE_REMOVED, .orc = &o,
				      .restored = 0, .start = 10, .end = 12};
	assert_string_equal(check(&e, 1).name, "export-stale");
	e.u.exp.orc = NULL; /* hardware: no spec, no judgement */
	check(&e, 0);
	/* before the final reads: a page marked dirty must be there */
	e.u.exp = (struct inv_export){.page = 2, .view = HPAGE_DIRTY, .tracker = HPAGE_DIRTY,
				      .orc = &o, .restored = 0, .start = 10, .end = 12};
	e.u.exp.restored = MK_SNAP(2);
	assert_string_equal(check(&e, 1).name, "tracker-disagrees");
	e.u.exp.mid_run = 1; /* an export op: a remove may be between read and zap */
	check(&e, 0);
}

/* The dirty layer: written pages are dirty, untouched ones clean. */
static void test_dirty_layer(void **state)
{
	(void)state;
	struct inv_facts d = {.layer = INV_AT_DIRTY};
	d.u.dirty = (struct inv_dirty){.page = 0, .wp_async = 1, .present = 1, .wp = 1,
				       .written = 1, .when = "after an install"};
	struct inv_report r = check(&d, 1);
	assert_string_equal(r.name, "wp-written-clean");
	assert_non_null(strstr(r.text, "write-protected again after an install"));
	d.u.dirty.wp = 0;
	check(&d, 0);
	d.u.dirty.written = 0; /* an unwritten page not armed: only where settled */
	check(&d, 0);
	d.u.dirty.settled = 1;
	assert_string_equal(check(&d, 1).name, "wp-unwritten-dirty");
	d.u.dirty.writing = 1; /* a write fault's install, its write still to land */
	check(&d, 0);
	d.u.dirty = (struct inv_dirty){.page = 1, .wp_async = 0, .present = 1, .wp = 0,
				       .written = 1, .view = HPAGE_UNKNOWN, .when = "at the end"};
	assert_string_equal(check(&d, 1).name, "wp-written-clean"); /* sync WP */
	d.u.dirty.view = HPAGE_DIRTY;
	check(&d, 0);
}

/* The first waiter decides: a guest in a fault is a lost wake (or the
 * handler's exit when it gave up), a madvise waiting for its REMOVE is
 * madvise-blocked, anything else a deadlock. */
static void test_stuck_layer(void **state)
{
	(void)state;
	struct inv_blocked t[2] = {
		{.name = "lock", .fault_page = -1},
		{.name = "g0", .fault_page = 1, .fault_read = 1, .have_view = 1},
	};
	struct inv_facts f = {.layer = INV_AT_STUCK};
	f.u.stuck = (struct inv_stuck){.n = 2, .t = t};
	struct inv_report r = check(&f, 1);
	assert_string_equal(r.name, "lost-wake");
	assert_non_null(strstr(r.text, "g0 is blocked on page 1 forever"));
	f.u.stuck.handler_error = "source: EIO";
	assert_string_equal(check(&f, 1).name, "handler-exit");
	t[1] = (struct inv_blocked){.name = "b", .fault_page = -1, .event_wait = 1};
	f.u.stuck.handler_error = NULL;
	assert_string_equal(check(&f, 1).name, "madvise-blocked");
	f.u.stuck.n = 1;
	r = check(&f, 1);
	assert_string_equal(r.name, "deadlock");
	assert_non_null(strstr(r.text, "blocked: lock"));
}

static void test_backoff_and_stop_layers(void **state)
{
	(void)state;
	struct inv_facts f = {.layer = INV_AT_BACKOFF};
	f.u.backoff = (struct inv_backoff){.sleeper = "worker", .read_locks = 1,
					   .madvise_waiting = "b", .reader_blocked = 0};
	check(&f, 0);
	f.u.backoff.reader_blocked = 1;
	assert_string_equal(check(&f, 1).name, "madvise-blocked");
	f.u.backoff.read_locks = 0;
	check(&f, 0);
	struct inv_facts s = {.layer = INV_AT_STOP};
	check(&s, 0);
	s.u.stop.err = -5;
	assert_string_equal(check(&s, 1).name, "handler-exit");
}

/* The step bound's layer: 100 steps, thread 0 (spin) ran all but the
 * last few; thread 1 (b) could run from step 2 and ran only at step 95,
 * then ended. A wait that ended before the bound is a spin all the same
 * (busy-spin, with where it ended); with no long wait at all, hitting
 * the bound is a livelock. */
#define BOUND_N 100
static uint32_t bound_choices[BOUND_N];
static uint64_t b_wait[2], b_end[2];

static const char *bound_name(void *ctx, int tid)
{
	(void)ctx;
	return tid ? "b" : "spin";
}

static int bound_runnable(void *ctx, int tid)
{
	(void)ctx;
	return tid == 0; /* b has ended */
}

static uint64_t bound_waited(void *ctx, int tid, uint64_t *end)
{
	(void)ctx;
	*end = b_end[tid];
	return b_wait[tid];
}

static void test_bound_layer(void **state)
{
	(void)state;
	for (int i = 0; i < BOUND_N; i++)
		bound_choices[i] = i == 0 || i == 95 ? 1 : 0;
	struct inv_facts f = {.layer = INV_AT_BOUND};
	f.u.bound = (struct inv_bound){.choices = bound_choices, .n = BOUND_N, .nthreads = 2,
				       .name = bound_name, .runnable = bound_runnable,
				       .waited = bound_waited};
	b_wait[1] = 93; /* steps 2..94 */
	b_end[1] = 95;
	struct inv_report r = check(&f, 1);
	assert_string_equal(r.name, "busy-spin");
	assert_non_null(strstr(r.text, "spin spun for 93 steps"));
	assert_non_null(strstr(r.text, "b, runnable, was not scheduled until step 95"));
	b_wait[1] = 40; /* under half the run: no spin */
	r = check(&f, 1);
	assert_string_equal(r.name, "livelock");
	f.u.bound.waited = NULL; /* the trailing wait alone, as before */
	b_wait[1] = 93;
	assert_string_equal(check(&f, 1).name, "livelock");
}

/* More mutations than the oracle's log holds (ORACLE_MAX_MUTS): a remove
 * of every page is a mutation per page, so the second one fails, and the
 * run reports it instead of going on with a run that is not the one
 * written. (An op on a page the scenario unmapped may fail without a
 * report: the guest's own doing.) */
static void test_failed_operation_is_reported(void **state)
{
	(void)state;
	static struct scenario scn;
	const char *text = "memory 4k 4096\nfeatures none\n"
			   "thread b0 balloon\n  remove 0..4095\n  remove 0..4095\n";
	assert_true(4096 <= ORACLE_MAX_MUTS && 2 * 4096 > ORACLE_MAX_MUTS);
	char err[256];
	if (scn_parse_string("u.scn", text, &scn, err, sizeof err))
		fail_msg("%s", err);
	struct world *w = world_new(&scn, "reference", 0);
	assert_non_null(w);
	struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = 1};
	struct verdict v;
	assert_int_equal(world_run(w, &o, NULL, NULL, &v), 0);
	assert_true(v.violated);
	assert_string_equal(v.name, "op-failed");
	assert_non_null(strstr(v.text, ": remove (op 2)"));
	assert_non_null(strstr(v.text, "the oracle's log is full"));
	world_free(w);
}

static int register_naive(void **state)
{
	(void)state;
	return handler_register(&naive_desc) == 0 ? 0 : -1;
}

/* The first verdict over seeds 0..199 of a scenario text (NULL name: none). */
static const char *first_verdict(const char *text, const char *handler, struct verdict *v)
{
	static struct scenario scn;
	char err[256];
	if (scn_parse_string("x.scn", text, &scn, err, sizeof err))
		fail_msg("%s", err);
	struct world *w = world_new(&scn, handler, 0);
	assert_non_null(w);
	const char *name = NULL;
	for (uint64_t i = 0; i < 200 && !name; i++) {
		struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = i};
		assert_int_equal(world_run(w, &o, NULL, NULL, v), 0);
		if (v->violated)
			name = v->name;
	}
	world_free(w);
	return name;
}

/* A permanent source failure excuses the handler's exit only if the
 * failing read was of a page that still needed its snapshot bytes: naive
 * reads the source for every fault, so its exit over a page removed
 * before its first fault is a handler-exit, and over a page nothing
 * mutated it is by design (the sandbox dies with its source). */
static void test_permanent_failure_excuses_only_a_needed_read(void **state)
{
	(void)state;
	static const char removed[] =
		"memory 4k 1\nfeatures remove\ncontract keeps\n"
		"thread b balloon\n  remove 0\n"
		"thread c control\n  source-fail 0 0 after b.1\n"
		"thread g2 guest\n  read 0 after c.1\n";
	static const char untouched[] =
		"memory 4k 2\nfeatures remove\ncontract keeps\n"
		"thread c control\n  source-fail 1 0\n"
		"thread g guest\n  read 1 after c.1\n";
	struct verdict v;
	const char *name = first_verdict(removed, "naive", &v);
	assert_non_null(name);
	assert_string_equal(name, "handler-exit");
	assert_non_null(strstr(v.text, "the handler exited"));
	assert_null(first_verdict(untouched, "naive", &v));
	assert_null(first_verdict(removed, "reference", &v)); /* zeros: no source read */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_are_complete_and_unique),
		cmocka_unit_test(test_read_layer),
		cmocka_unit_test(test_install_and_export_layers),
		cmocka_unit_test(test_export_restore_rows),
		cmocka_unit_test(test_dirty_layer),
		cmocka_unit_test(test_stuck_layer),
		cmocka_unit_test(test_backoff_and_stop_layers),
		cmocka_unit_test(test_bound_layer),
		cmocka_unit_test(test_failed_operation_is_reported),
		cmocka_unit_test(test_permanent_failure_excuses_only_a_needed_read),
	};
	return cmocka_run_group_tests_name("invariant", tests, register_naive, NULL);
}

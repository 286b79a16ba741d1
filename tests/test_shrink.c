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
#include "sched/dpor.h"
#include "run.h"
#include "sched/files.h"
#include <stdio.h>

/* A fake run: the guide's candidate is the run itself; it "fails" when
 * thread 2 appears somewhere after thread 1. */
struct fake {
	uint32_t buf[256];
};

static int after_test(void *ctx, const uint32_t *cand, size_t n,
		      const uint32_t **actual, const uint64_t **masks, size_t *nactual)
{
	*masks = NULL;
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
	assert_int_equal(shrink_run(&c, &n, NULL, after_test, &f, 10000, &st), 0);
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
	assert_int_equal(shrink_run(&c, &n, NULL, after_test, &f, 3, &st), 0);
	assert_int_equal(st.tests, 3);
	assert_true(after_test(&f, c, n, &(const uint32_t *){0}, &(const uint64_t *){0},
			       &(size_t){0}) == 1);
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
		      const uint32_t **actual, const uint64_t **masks, size_t *nactual)
{
	struct wctx *c = ctx;
	struct sched_opts o = {.strategy = SCHED_GUIDED, .seed = c->seed,
			       .replay = cand, .replay_len = n};
	struct verdict v;
	if (world_run(c->w, &o, NULL, NULL, &v))
		return -EIO;
	*actual = sched_choices(world_sched(c->w), nactual);
	*masks = NULL;
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
	assert_int_equal(shrink_run(&c, &n, NULL, world_test, &wc, 2000, &st), 0);
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

/* The first random seed from 0 that breaks want (NULL: any) on w: its
 * choices (malloc'd) and the invariant. */
static uint32_t *first_failure(struct world *w, const char *want, uint64_t *seed, size_t *n,
			       char *name)
{
	struct verdict v = {0};
	for (*seed = 0; *seed < 100000; (*seed)++) {
		struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = *seed};
		assert_int_equal(world_run(w, &o, NULL, NULL, &v), 0);
		if (v.violated && (!want || !strcmp(v.name, want)))
			break;
	}
	assert_true(v.violated);
	strcpy(name, v.name);
	const uint32_t *c0 = sched_choices(world_sched(w), n);
	uint32_t *c = malloc(*n * sizeof *c + 1);
	assert_non_null(c);
	memcpy(c, c0, *n * sizeof *c);
	return c;
}

struct minimised {
	struct min_result r;
	char name[32];
	uint64_t seed, bits;
};

static uint64_t proof_steps; /* min_opts.proof_steps of the next minimise */
static uint64_t proof_runs;  /* min_opts.proof_runs of the next (0: 200,000) */

/* min_run on the first failure of (path + extra, handler, variant). */
static void minimise(const char *path, const char *extra, const char *handler,
		     const char *variant, const char *want, struct minimised *m)
{
	static struct scenario scn;
	static char text[8192];
	char err[512], *b;
	size_t len;
	assert_int_equal(input_read_all(path, &b, &len), 0);
	snprintf(text, sizeof text, "%s%s", b, extra);
	free(b);
	assert_int_equal(scn_parse_string(path, text, &scn, err, sizeof err), 0);
	uint64_t bits;
	assert_int_equal(variant_parse_list(handler, variant, &bits, err, sizeof err), 0);
	struct world *w = world_new(&scn, handler, bits);
	assert_non_null(w);
	uint64_t seed;
	size_t n;
	uint32_t *c = first_failure(w, want, &seed, &n, m->name);
	m->seed = seed;
	m->bits = bits;
	struct min_opts o = {.handler = handler, .bits = bits, .seed = seed,
			     .max_steps = RUN_MAX_STEPS_DEFAULT, .want = m->name,
			     .proof_runs = proof_runs ? proof_runs : 200000, .proof_steps = proof_steps,
			     .scn_path = "min.scn", .comment = "test"};
	memset(&m->r, 0, sizeof m->r);
	assert_int_equal(min_run(&o, &scn, c, n, &m->r), 0);
	free(c);
	world_free(w);
}

struct proof_ctx {
	struct world *w;
	uint64_t seed;
	const char *want;
	uint64_t same;
};

static int proof_test(void *ctx, const struct sched_explorer *ex)
{
	struct proof_ctx *p = ctx;
	struct sched_opts o = {.strategy = SCHED_DFS, .seed = p->seed, .explorer = ex};
	struct verdict v;
	if (world_run(p->w, &o, NULL, NULL, &v))
		return -EIO;
	p->same += !dpor_run_cut(ex) && v.violated && !strcmp(v.name, p->want);
	return 0;
}

/* The preemptions of schedule c on w, which must break want. */
static size_t preemptions_of(struct world *w, uint64_t seed, const uint32_t *c, size_t n,
			     const char *want)
{
	struct sched_opts o = {.strategy = SCHED_REPLAY, .seed = seed, .replay = c,
			       .replay_len = n, .record_runnable = 1};
	struct verdict v;
	assert_int_equal(world_run(w, &o, NULL, NULL, &v), 0);
	assert_true(v.violated);
	assert_string_equal(v.name, want);
	size_t nm;
	int wide;
	return shrink_preemptions(c, sched_runnable_masks(world_sched(w), &nm, &wide), n);
}

/* E2B's REF design's lost wake-up (one fault racing one REMOVE): its
 * handler spawns a worker per retry, and a schedule without preemptions
 * that keeps the balloon from running spins past thread id 63 until the
 * step bound. The proof searches by rank among the runnable threads and
 * ends runs at the cap: proved, and it says that some runs reached the
 * cap. Within the whole step bound (100,000) the same proof would take
 * minutes: 2.5 schedules a step of the cap, each about as long. */
static void test_spawning_handler_proved_within_cap(void **state)
{
	(void)state;
	struct minimised m;
	proof_steps = 1000;
	minimise("scenarios/zoo/race-fault-remove.scn", "", "e2b-ref", "", "lost-wake", &m);
	proof_steps = 0;
	assert_int_equal(m.r.to.preempt, 1);
	assert_int_equal(m.r.proof, 1);
	assert_int_equal(m.r.proof_bound, 0);
	assert_int_equal(m.r.proof_cap, 1000);
	assert_true(m.r.proof_capped > 0 && m.r.proof_capped < m.r.proof_runs);
	/* sampling went first: every schedule of bound 0 it drew, none fewer */
	assert_int_equal(m.r.proof_sampled, 2000);
	assert_int_equal(m.r.proof_sampled_to, 0);
	print_message("    proof: %llu schedules, %llu unfinished at %llu steps\n",
		      (unsigned long long)m.r.proof_runs, (unsigned long long)m.r.proof_capped,
		      (unsigned long long)m.r.proof_cap);
	min_free(&m.r);
}

/* Fix 7 taken out of reference: its random finding shrinks no lower than
 * 4 preemptions by local moves, and the plain search at 0 preemptions,
 * within explore's budget, spends it in one corner (spinning threads) and
 * says "not proven". The bug needs none: sampling schedules within each
 * smaller bound before the proof (minimize.c find_fewer) reaches one, and
 * the result is minimal at 0 with nothing left to prove. */
static void test_random_finding_reaches_fewer_preemptions(void **state)
{
	(void)state;
	struct minimised m;
	proof_runs = MIN_PROOF_RUNS;
	minimise("scenarios/zoo/fix7-write-fill-writable.scn", "", "reference",
		 "write-fill-writable", "wp-unwritten-dirty", &m);
	proof_runs = 0;
	assert_int_equal(m.r.to.preempt, 0);
	assert_int_equal(m.r.proof, 0); /* nothing fewer to try */
	struct world *w = world_new(m.r.scn, "reference", m.bits);
	assert_non_null(w);
	assert_int_equal(preemptions_of(w, m.seed, m.r.c, m.r.n, "wp-unwritten-dirty"), 0);
	print_message("    seed %llu: 0 preemptions, %u runs\n", (unsigned long long)m.seed,
		      m.r.tests);
	world_free(w);
	min_free(&m.r);
}

/* A zoo failure (fix 1 taken out of reference, b03-prefault-unlocked)
 * shrinks to its minimal preemption count, and the proof holds when run
 * again here: every schedule of the shrunk scenario within one preemption
 * fewer, without reduction, and none breaks the invariant. (B5's proof,
 * the subject before, now meets schedules past 64 thread ids: the
 * pause-time export before the final reads starts one more serve loop.) */
static void test_zoo_failure_minimal_preemptions_proved(void **state)
{
	(void)state;
	struct minimised m;
	minimise("scenarios/zoo/b03-prefault-unlocked.scn", "", "reference",
		 "no-read-gate", NULL, &m);
	assert_string_equal(m.name, "stale-data");
	assert_int_equal(m.r.proof, 1);
	assert_true(m.r.to.preempt >= 1);
	assert_int_equal(m.r.proof_bound, m.r.to.preempt - 1);
	struct world *w = world_new(m.r.scn, "reference", m.bits);
	assert_non_null(w);
	/* the seed only feeds sched_random; min_run kept the failure's */
	assert_int_equal(preemptions_of(w, m.seed, m.r.c, m.r.n, "stale-data"), m.r.to.preempt);
	struct proof_ctx p = {w, m.seed, "lost-wake", 0};
	struct dpor_opts d = {.preempt_bounded = 1, .preempt_bound = m.r.proof_bound};
	struct dpor_stats ds;
	uint32_t *fail;
	size_t nfail;
	assert_int_equal(dpor_run(&d, proof_test, &p, &ds, &fail, &nfail), 0);
	assert_true(ds.exhausted);
	assert_int_equal(p.same, 0);
	assert_int_equal(ds.runs, m.r.proof_runs);
	printf("  b05-dispatch-before-remove: %zu preemptions, proof %llu schedules at bound %u\n",
	       m.r.to.preempt, (unsigned long long)ds.runs, m.r.proof_bound);
	world_free(w);
	min_free(&m.r);
}

/* A thread that does nothing to the race (a guest reading a page nobody
 * else touches), added to a copy of a zoo scenario, is dropped, and so
 * are the pages nothing needs; the result parses with the normal parser. */
static void test_scenario_reduction_drops_irrelevant_thread(void **state)
{
	(void)state;
	struct minimised m;
	minimise("scenarios/zoo/b01-stale-source.scn", "thread idle guest\n  read 3\n  read 2\n",
		 "e2b-ref", "stale-source", "install-into-removed", &m);
	assert_int_equal(m.r.to.threads, 2);
	for (int t = 0; t < m.r.scn->nthreads; t++)
		assert_string_not_equal(m.r.scn->threads[t].name, "idle");
	assert_int_equal(m.r.to.pages, 1);
	assert_true(m.r.to.ops <= 3);
	static struct scenario back;
	char err[512];
	assert_int_equal(scn_parse_bytes("min.scn", m.r.text, m.r.len, &back, err, sizeof err), 0);
	assert_int_equal(back.nthreads, 2);
	min_free(&m.r);
}

/* Same trace in, same shrunk trace and scenario out, byte for byte. */
static void test_shrink_command_is_deterministic(void **state)
{
	(void)state;
	char dir[] = "/tmp/uffdlab-shrink-XXXXXX", cmd[600], *a, *b, *sa, *sb;
	assert_non_null(mkdtemp(dir));
	struct explore_args ea = {.scenario = "scenarios/zoo/b03-prefault-unlocked.scn",
				  .handler = "reference", .variant = "no-read-gate",
				  .strategy = SCHED_RANDOM, .runs = 1000, .out_dir = dir,
				  .quiet = 1, .no_shrink = 1, .bound = EXPLORE_NO_BOUND};
	struct explore_result er = {0};
	ea.result = &er;
	assert_int_equal(drive_explore(&ea), 1);
	char out[700], scn[700];
	snprintf(out, sizeof out, "%s/m.trace", dir);
	snprintf(scn, sizeof scn, "%s/m.scn", dir);
	size_t na, nb, nsa, nsb;
	assert_int_equal(drive_shrink(er.trace, out, (struct proof_budget){0, 0}, 0), 0);
	assert_int_equal(input_read_all(out, &a, &na), 0);
	assert_int_equal(input_read_all(scn, &sa, &nsa), 0);
	assert_int_equal(drive_shrink(er.trace, out, (struct proof_budget){0, 0}, 0), 0);
	assert_int_equal(input_read_all(out, &b, &nb), 0);
	assert_int_equal(input_read_all(scn, &sb, &nsb), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	assert_int_equal(nsa, nsb);
	assert_memory_equal(sa, sb, nsa);
	assert_non_null(strstr(a, "\nminimal no stale-data with "));
	assert_int_equal(drive_replay(out, NULL, 0), 1);
	/* bad input: one line, exit 2 */
	assert_int_equal(drive_shrink("/nonexistent.trace", NULL, (struct proof_budget){0, 0}, 0), 2);
	free(a);
	free(b);
	free(sa);
	free(sb);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Every library scenario written by scn_write (what the shrinker writes)
 * parses back to the same memory, threads, operations and orderings. */
static void test_scenario_writer_round_trips(void **state)
{
	(void)state;
	static char names[256][256];
	static struct scenario a, b;
	int n = scn_list_dir("scenarios", names, 256);
	assert_true(n >= 20);
	for (int i = 0; i < n; i++) {
		char err[512], *text;
		size_t len;
		assert_int_equal(scn_parse_file(names[i], &a, err, sizeof err), 0);
		assert_int_equal(scn_write(&a, "round trip", &text, &len), 0);
		if (scn_parse_bytes("rt.scn", text, len, &b, err, sizeof err))
			fail_msg("%s written back does not parse: %s\n%s", names[i], err, text);
		assert_int_equal(a.page_size, b.page_size);
		assert_int_equal(a.pages, b.pages);
		assert_memory_equal(a.fill, b.fill, (size_t)a.pages);
		assert_int_equal(a.event_remove, b.event_remove);
		assert_int_equal(a.wp * 2 + a.wp_async, b.wp * 2 + b.wp_async);
		assert_int_equal(a.workers, b.workers);
		assert_int_equal(a.retries, b.retries);
		assert_int_equal(a.prefetch, b.prefetch);
		assert_int_equal(a.contract, b.contract);
		assert_int_equal(a.nexpect, b.nexpect);
		assert_int_equal(a.nthreads, b.nthreads);
		for (int t = 0; t < a.nthreads; t++) {
			assert_string_equal(a.threads[t].name, b.threads[t].name);
			assert_int_equal(a.threads[t].role, b.threads[t].role);
			assert_int_equal(a.threads[t].nops, b.threads[t].nops);
			for (int k = 0; k < a.threads[t].nops; k++) {
				const struct scn_op *x = &a.threads[t].ops[k], *y = &b.threads[t].ops[k];
				assert_int_equal(x->kind, y->kind);
				assert_int_equal(x->a, y->a);
				assert_int_equal(x->b, y->b);
				assert_int_equal(x->after_thread, y->after_thread);
				assert_int_equal(x->after_op, y->after_op);
			}
		}
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic_shrinks_to_minimum),
		cmocka_unit_test(test_budget_is_respected),
		cmocka_unit_test(test_switch_count),
		cmocka_unit_test(test_simulator_failure_shrinks_and_replays),
		cmocka_unit_test(test_zoo_failure_minimal_preemptions_proved),
		cmocka_unit_test(test_spawning_handler_proved_within_cap),
		cmocka_unit_test(test_random_finding_reaches_fewer_preemptions),
		cmocka_unit_test(test_scenario_reduction_drops_irrelevant_thread),
		cmocka_unit_test(test_shrink_command_is_deterministic),
		cmocka_unit_test(test_scenario_writer_round_trips),
	};
	return cmocka_run_group_tests_name("shrink", tests, NULL, NULL);
}

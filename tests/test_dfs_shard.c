/* A split dfs (explore --strategy dfs --shard i/N, --jobs N; sched/dfs_split.c,
 * the prefix hook of sched/dpor.c, dfs_run_from of sched/dfs.c, parallel.c,
 * merge.c). In process: the final states (world_digest) and violations
 * reached under every prefix, whichever shard of N = 1, 2, 4 runs it, are
 * those of the unsplit search — reduced and unbounded on one and two
 * faults, plain within a delay bound on S1 (where the split is an exact
 * partition: the same number of schedules), reduced within a bound on S1,
 * and S1 on e2b-ref, which breaks. Through the binary, as a job runner
 * would: the merge of N = 1, 2, 4 shards is the same object but for
 * "shards" (within a preemption bound too), --jobs 2 gives what --jobs 1
 * gives, and merge refuses shards that are not one split campaign. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/world.h"
#include "tests/cli_run.h"
#include "scenarios/scenario.h"
#include "sched/dfs.h"
#include "sched/dfs_split.h"
#include "sched/dpor.h"
#include "sched/sched.h"

#define S1_TEXT "memory 4k 2\nfeatures remove\nhandler workers 2\ncontract breaks\n" \
	"thread g guest\n  read 0\nthread b balloon\n  remove 0\nthread g2 guest\n" \
	"  read 0 after b.1\n"
#define FR_TEXT "memory 4k 2\nfeatures remove\nhandler workers 1\ncontract breaks\n" \
	"thread g guest\n  read 0\nthread b balloon\n  remove 0\n"
#define ONE_TEXT "memory 4k 1\nhandler workers 1\nthread g guest\n  read 0\n"
#define TWO_TEXT "memory 4k 2\nhandler workers 1\nthread g guest\n  read 0\n" \
	"thread h guest\n  read 1\n"

/* --- in process --------------------------------------------------------- */

#define MAXF (1 << 15)
struct seen {
	struct world *w;
	int record;             /* 0 while the split enumerates */
	uint64_t finals[MAXF];
	size_t nfinals;
	char viol[8][32];
	int nviol;
	struct verdict v;
};

static void note(struct seen *s)
{
	if (!s->record)
		return;
	if (s->v.violated) {
		int i;
		for (i = 0; i < s->nviol && strcmp(s->viol[i], s->v.name); i++)
			;
		if (i == s->nviol && s->nviol < 8)
			snprintf(s->viol[s->nviol++], sizeof s->viol[0], "%s", s->v.name);
		return;
	}
	uint64_t d = world_digest(s->w);
	for (size_t i = 0; i < s->nfinals; i++)
		if (s->finals[i] == d)
			return;
	assert_true(s->nfinals < MAXF);
	s->finals[s->nfinals++] = d;
}

/* A guided run (sched/dfs.c's test, and the split's enumeration). */
static int guided(void *ctx, const uint32_t *prefix, size_t n, const uint32_t **choices,
		  const uint64_t **masks, size_t *nsteps, int *wide)
{
	struct seen *s = ctx;
	struct sched_opts o = {.strategy = SCHED_DFS, .replay = prefix, .replay_len = n,
			       .record_runnable = 1, .max_steps = 100000};
	assert_int_equal(world_run(s->w, &o, NULL, NULL, &s->v), 0);
	size_t nm;
	*choices = sched_choices(world_sched(s->w), nsteps);
	*masks = sched_runnable_masks(world_sched(s->w), &nm, wide);
	note(s);
	return 0; /* keep going: every final state counts */
}

static int driven(void *ctx, const struct sched_explorer *ex)
{
	struct seen *s = ctx;
	struct sched_opts o = {.strategy = SCHED_DFS, .explorer = ex, .max_steps = 100000};
	assert_int_equal(world_run(s->w, &o, NULL, NULL, &s->v), 0);
	/* a run the retry cut ended has no final state (a violation stands) */
	if (!dpor_run_cut(ex) && (s->v.sres != SCHED_CUT || s->v.violated))
		note(s);
	return 0;
}

struct how {
	const char *text, *handler;
	int reduce;
	unsigned bound;         /* 0: unbounded */
};

/* One search, under prefix p or (p NULL) of the whole tree; its runs. */
static uint64_t search(const struct how *h, struct seen *s, const struct dfs_prefix *p)
{
	uint32_t *fail;
	size_t nfail;
	uint64_t runs;
	if (!h->reduce) {
		struct dfs_stats st;
		int r = p ? dfs_run_from(p->c, p->n, p->cost, h->bound, 0, guided, s, &st, &fail,
					 &nfail)
			  : dfs_run(h->bound, 0, guided, s, &st, &fail, &nfail);
		assert_int_equal(r, 0);
		assert_true(st.exhausted);
		runs = st.runs;
	} else {
		struct dpor_opts o = {.reduce = 1, .keep_going = 1, .delay_bounded = h->bound > 0,
				      .delay_bound = h->bound, .prefix = p ? p->c : NULL,
				      .nprefix = p ? p->n : 0, .prefix_sleep = p ? p->sleep : 0,
				      .prefix_sfp = p ? p->sfp : NULL,
				      .prefix_depth = p ? p->depth : 0};
		struct dpor_stats st;
		assert_true(dpor_run(&o, driven, s, &st, &fail, &nfail) >= 0);
		assert_true(st.exhausted);
		runs = st.runs;
	}
	free(fail);
	return runs;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void sort_names(struct seen *s)
{
	qsort(s->viol, (size_t)s->nviol, sizeof s->viol[0],
	      (int (*)(const void *, const void *))strcmp);
	qsort(s->finals, s->nfinals, sizeof s->finals[0], cmp_u64);
}

/* The final states of shards i = 0..nshards-1 (prefixes j = i mod N,
 * prefix j's in pf[at[j], at[j+1])), gathered into part: whole's. */
static void union_of_shards(struct seen *part, const struct seen *whole, const uint64_t *pf,
			    const size_t *at, size_t nprefixes, unsigned nshards)
{
	part->nfinals = 0;
	part->nviol = 0;
	part->v.violated = 0;
	for (unsigned i = 0; i < nshards; i++)
		for (size_t j = i; j < nprefixes; j += nshards)
			for (size_t q = at[j]; q < at[j + 1]; q++) {
				size_t f;
				for (f = 0; f < part->nfinals && part->finals[f] != pf[q]; f++)
					;
				if (f == part->nfinals)
					part->finals[part->nfinals++] = pf[q];
			}
	sort_names(part);
	assert_int_equal(part->nfinals, whole->nfinals);
	assert_memory_equal(part->finals, whole->finals, whole->nfinals * sizeof whole->finals[0]);
}

/* The unsplit search and, for N = 1, 2, 4, the union of every shard's
 * prefixes' searches: the same final states and violations. Returns the
 * runs of the unsplit search and (in *split_runs) of the split one. */
static uint64_t compare(const struct how *h, uint64_t *split_runs, int want_viol)
{
	static struct scenario scn;
	static struct seen whole, part;
	char err[256];
	assert_int_equal(scn_parse_bytes("t.scn", h->text, strlen(h->text), &scn, err, sizeof err),
			 0);
	memset(&whole, 0, sizeof whole);
	whole.w = world_new(&scn, h->handler, 0);
	assert_non_null(whole.w);
	whole.record = 1;
	world_set_retry_cut(whole.w, h->reduce); /* part of the reduction, as explore's */
	uint64_t runs = search(h, &whole, NULL);
	sort_names(&whole);
	struct dfs_split sp;
	struct dfs_split_opts so = {.delay_bounded = h->bound > 0, .delay_bound = h->bound,
				    .refine = !h->reduce};
	memset(&part, 0, sizeof part);
	part.w = whole.w;
	struct dpor_opts base = {.reduce = 1, .delay_bounded = h->bound > 0,
				 .delay_bound = h->bound};
	if (h->reduce)
		assert_int_equal(dpor_split_build(&base, 0, 0, driven, &part, &sp), 0);
	else
		assert_int_equal(dfs_split_build(&so, guided, &part, &sp), 0);
	int leaves = 1;
	for (size_t j = 0; j < sp.n; j++)
		leaves &= sp.p[j].leaf;
	assert_true(sp.n >= DFS_SPLIT_MIN || sp.depth == DFS_SPLIT_DEPTH || leaves);
	/* each prefix's search once: its final states, kept apart */
	static uint64_t pf[MAXF];
	size_t *at = calloc(sp.n + 1, sizeof *at), npf = 0;
	assert_non_null(at);
	memset(&part, 0, sizeof part);
	part.w = whole.w;
	part.record = 1;
	*split_runs = 0;
	for (size_t j = 0; j < sp.n; j++) {
		part.nfinals = 0;
		*split_runs += search(h, &part, &sp.p[j]);
		assert_true(npf + part.nfinals <= MAXF);
		memcpy(pf + npf, part.finals, part.nfinals * sizeof pf[0]);
		npf += part.nfinals;
		at[j + 1] = npf;
	}
	sort_names(&part);
	assert_int_equal(part.nviol, whole.nviol);
	for (int v = 0; v < whole.nviol; v++)
		assert_string_equal(part.viol[v], whole.viol[v]);
	for (int k = 0; k < 3; k++)
		union_of_shards(&part, &whole, pf, at, sp.n, (const unsigned[]){1, 2, 4}[k]);
	free(at);
	assert_int_equal(whole.nviol > 0, want_viol);
	print_message("    %zu prefixes at depth %u (%u split again, %llu runs to find them); "
		      "%llu runs unsplit, %llu split; %zu finals, %d violations\n", sp.n, sp.depth,
		      sp.refined, (unsigned long long)sp.runs, (unsigned long long)runs,
		      (unsigned long long)*split_runs, whole.nfinals, whole.nviol);
	dfs_split_free(&sp);
	world_free(whole.w);
	return runs;
}

static void test_reduced_unbounded_one_fault(void **state)
{
	(void)state;
	uint64_t split;
	compare(&(struct how){ONE_TEXT, "reference", 1, 0}, &split, 0);
}

static void test_reduced_unbounded_two_faults(void **state)
{
	(void)state;
	uint64_t split;
	compare(&(struct how){TWO_TEXT, "reference", 1, 0}, &split, 0);
}

static void test_plain_bounded_s1(void **state)
{
	(void)state;
	uint64_t split;
	/* every bounded schedule extends exactly one prefix, once */
	uint64_t runs = compare(&(struct how){S1_TEXT, "reference", 0, 2}, &split, 0);
	assert_int_equal(runs, split);
}

static void test_reduced_bounded_s1(void **state)
{
	(void)state;
	uint64_t split;
	compare(&(struct how){S1_TEXT, "reference", 1, 2}, &split, 0);
}

/* The reduced split carries sleep sets across the cut: S1 exhausted
 * unbounded at 2 workers takes 6e5 runs, so the unbounded case here is
 * one worker and no second read; S1 itself within a bound, breaking. */
static void test_reduced_unbounded_fault_remove(void **state)
{
	(void)state;
	uint64_t split;
	compare(&(struct how){FR_TEXT, "reference", 1, 0}, &split, 0);
}

static void test_reduced_bounded_s1_breaks(void **state)
{
	(void)state;
	uint64_t split;
	compare(&(struct how){S1_TEXT, "e2b-ref", 1, 2}, &split, 1);
}

static void test_plain_bounded_s1_breaks(void **state)
{
	(void)state;
	uint64_t split;
	uint64_t runs = compare(&(struct how){S1_TEXT, "e2b-ref", 0, 1}, &split, 1);
	assert_int_equal(runs, split);
}

/* --- through the binary -------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	if (cli_setup("dfsshard"))
		return -1;
	char p[300];
	snprintf(p, sizeof p, "%s/one.scn", tmp);
	FILE *f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(ONE_TEXT, f);
	return fclose(f) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return cli_teardown();
}

/* The member `"key":` of a JSON text, to the end of its value (a number,
 * a literal, an array, or an object without nested objects). */
static void member(const char *json, const char *key, char *out, size_t len)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\":", key);
	const char *p = strstr(json, k);
	assert_non_null(p);
	char c = p[strlen(k)];
	size_t n = c == '{' ? strcspn(p, "}") + 1 : c == '[' ? strcspn(p, "]") + 1
		 : strcspn(p, ",}");
	snprintf(out, len, "%.*s", (int)n, p);
}

/* Explore args in N shards, one process each, then merge; the merged
 * object without its "shards" member into out. */
static int sharded(const char *args, int n, char *out, size_t len)
{
	static char buf[1 << 16];
	for (int i = 0; i < n; i++)
		run(buf, sizeof buf, "%s explore %s --strategy dfs --shard %d/%d --json --out %s/out "
		    "> %s/d%d-%d.json", bin, args, i, n, tmp, tmp, n, i);
	int rc = run(buf, sizeof buf, "%s merge %s/d%d-*.json", bin, tmp, n);
	cli_drop_shards(buf, n);
	snprintf(out, len, "%s", buf);
	return rc;
}

static void same_for_1_2_4(const char *args, int want_rc, const char *exhausted)
{
	static char m1[1 << 16], m2[1 << 16], m4[1 << 16];
	assert_int_equal(sharded(args, 1, m1, sizeof m1), want_rc);
	assert_int_equal(sharded(args, 2, m2, sizeof m2), want_rc);
	assert_int_equal(sharded(args, 4, m4, sizeof m4), want_rc);
	assert_string_equal(m1, m2);
	assert_string_equal(m1, m4);
	char a[4096];
	member(m1, "exhausted", a, sizeof a);
	assert_string_equal(a, exhausted);
	member(m1, "violation", a, sizeof a);
	assert_int_equal(strcmp(a, "\"violation\":null") != 0, want_rc == 1);
	/* and what one process with the split says */
	static char one[1 << 16];
	assert_int_equal(run(one, sizeof one, "%s explore %s --strategy dfs --jobs 1 --json --out "
			     "%s/out", bin, args, tmp), want_rc);
	static const char *const keys[] = {"runs", "steps", "pruned", "exhausted",
					   "violation_prefix", "violation", NULL};
	for (const char *const *k = keys; *k; k++) {
		char b[4096];
		member(m1, *k, a, sizeof a);
		member(one, *k, b, sizeof b);
		assert_string_equal(a, b);
	}
}

static void test_merge_passing_plain_bound(void **state)
{
	(void)state;
	static char plain[1 << 16];
	const char *args = "scenarios/zoo/race-fault-remove.scn --handler reference --bound 2";
	same_for_1_2_4(args, 0, "\"exhausted\":true");
	/* the plain split is a partition: as many schedules as unsplit */
	assert_int_equal(run(plain, sizeof plain, "%s explore %s --strategy dfs --json", bin, args), 0);
	char a[64], b[64];
	member(plain, "runs", a, sizeof a);
	sharded(args, 2, plain, sizeof plain);
	member(plain, "runs", b, sizeof b);
	assert_string_equal(a, b);
	assert_non_null(strstr(plain, "\"coverage\":\"exhausted: "));
	assert_non_null(strstr(plain, " pruned), under delay bound 2\""));
}

static void test_merge_passing_reduced(void **state)
{
	(void)state;
	char args[400];
	snprintf(args, sizeof args, "%s/one.scn --handler reference", tmp);
	same_for_1_2_4(args, 0, "\"exhausted\":true");
	same_for_1_2_4("scenarios/zoo/race-fault-remove.scn --handler reference --bound 2 --reduce",
		       0, "\"exhausted\":true");
}

static void test_merge_preemptions_plain(void **state)
{
	(void)state;
	char args[400], a[64], b[64];
	static char plain[1 << 16];
	/* a prefix's preemptions count against the bound: the plain split
	 * is again an exact partition of the bounded schedules */
	snprintf(args, sizeof args, "%s/one.scn --handler reference --preemptions 1 --no-reduce", tmp);
	same_for_1_2_4(args, 0, "\"exhausted\":true");
	assert_int_equal(run(plain, sizeof plain, "%s explore %s --strategy dfs --json", bin, args), 0);
	member(plain, "runs", a, sizeof a);
	sharded(args, 4, plain, sizeof plain);
	member(plain, "runs", b, sizeof b);
	assert_string_equal(a, b);
	assert_non_null(strstr(plain, " pruned), under preemption bound 1\""));
}

static void test_merge_failing(void **state)
{
	(void)state;
	/* S1 on e2b-ref: the first violation is under prefix 53 of 120, so
	 * shards without it run all theirs and must not count past it */
	same_for_1_2_4("scenarios/zoo/race-fault-remove.scn --handler e2b-ref --bound 1 --no-shrink",
		       1, "\"exhausted\":false");
	same_for_1_2_4("scenarios/zoo/race-fault-remove.scn --handler e2b-ref --bound 2 --reduce "
		       "--no-shrink", 1, "\"exhausted\":false");
	same_for_1_2_4("scenarios/zoo/b01-stale-source.scn --variant stale-source --bound 2 "
		       "--reduce --no-shrink", 1, "\"exhausted\":false");
}

/* --jobs 2 splits the prefixes among processes: the same answer. */
static void test_jobs_same_result(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"scenarios/zoo/race-fault-remove.scn --handler reference --bound 2",
		"scenarios/zoo/race-fault-remove.scn --handler e2b-ref --bound 1 --no-shrink",
		"scenarios/zoo/race-fault-remove.scn --handler e2b-ref --bound 2 --reduce --no-shrink",
		NULL};
	static const char *const keys[] = {"runs", "steps", "pruned", "exhausted", "prefix_runs",
					   "violation_prefix", "violation", NULL};
	static char j1[1 << 16], j2[1 << 16];
	for (const char *const *c = cases; *c; c++) {
		int r1 = run(j1, sizeof j1, "%s explore %s --strategy dfs --jobs 1 --json --out %s/out",
			     bin, *c, tmp);
		int r2 = run(j2, sizeof j2, "%s explore %s --strategy dfs --jobs 2 --json --out %s/out",
			     bin, *c, tmp);
		assert_int_equal(r1, r2);
		for (const char *const *k = keys; *k; k++) {
			char a[8192], b[8192];
			member(j1, *k, a, sizeof a);
			member(j2, *k, b, sizeof b);
			assert_string_equal(a, b);
		}
	}
}

/* Not one split campaign, a shard cut short, --runs: one line, exit 2. */
static void test_bad_input(void **state)
{
	(void)state;
	static char out[1 << 16];
	const char *s1 = "scenarios/zoo/race-fault-remove.scn --handler reference";
	assert_int_equal(run(out, sizeof out, "%s explore %s --strategy dfs --shard 0/2 --runs 5",
			     bin, s1), 2);
	run(out, sizeof out, "%s explore %s --strategy dfs --bound 1 --shard 0/2 --json > %s/x0.json",
	    bin, s1, tmp);
	run(out, sizeof out, "%s explore %s --strategy dfs --bound 2 --shard 1/2 --json > %s/x1.json",
	    bin, s1, tmp);
	run(out, sizeof out, "%s explore %s --runs 10 --shard 1/2 --json > %s/r1.json", bin, s1, tmp);
	assert_int_equal(run(out, sizeof out, "%s merge %s/x0.json %s/x1.json", bin, tmp, tmp), 2);
	assert_int_equal(run(out, sizeof out, "%s merge %s/x0.json %s/r1.json", bin, tmp, tmp), 2);
	/* shard 1's prefixes cut to one */
	run(out, sizeof out, "%s explore %s --strategy dfs --bound 1 --shard 1/2 --json > %s/x1.json",
	    bin, s1, tmp);
	assert_int_equal(run(out, sizeof out, "%s merge %s/x0.json %s/x1.json", bin, tmp, tmp), 0);
	assert_int_equal(run(out, sizeof out, "sed -i 's/\"prefix_runs\":\\[[0-9]*,/\"prefix_runs\":[/' "
			     "%s/x1.json && %s merge %s/x0.json %s/x1.json", tmp, bin, tmp, tmp), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reduced_unbounded_one_fault),
		cmocka_unit_test(test_reduced_unbounded_two_faults),
		cmocka_unit_test(test_plain_bounded_s1),
		cmocka_unit_test(test_reduced_bounded_s1),
		cmocka_unit_test(test_plain_bounded_s1_breaks),
		cmocka_unit_test(test_reduced_unbounded_fault_remove),
		cmocka_unit_test(test_reduced_bounded_s1_breaks),
		cmocka_unit_test(test_merge_passing_plain_bound),
		cmocka_unit_test(test_merge_passing_reduced),
		cmocka_unit_test(test_merge_preemptions_plain),
		cmocka_unit_test(test_merge_failing),
		cmocka_unit_test(test_jobs_same_result),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests_name("dfs_shard", tests, setup, teardown);
}

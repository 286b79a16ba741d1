/* `uffdlab run`: the main job. Explores every bundled scenario with every
 * registered handler, then each bug variant in the zoo scenario that shows
 * it; prints what was found as tables (traces in out/), then runs the
 * upstream shapes on the real kernel. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernel.h"
#include "real/uffd.h"
#include "driver.h"
#include "handler/handler.h"
#include "handler/variants.h"
#include "real/confirm.h"
#include "real/shapes.h"
#include "real/stress.h"
#include "scenarios/lex.h"
#include "scenarios/library.h"
#include "scenarios/scenario.h"

int cmd_run(int argc, char **argv);

struct tally {
	int bad;             /* a cell could not run: exit 2 */
	int failed;          /* an expectation failed: exit 1 */
	double secs;
	uint64_t runs;
};

/* A cell's finding ("inv@seed" or "inv") against the scenario's expect
 * lines: an unexpected one is marked with '*' and counted as a failure. */
static void judge(const struct scenario *scn, const char *handler, char *cell, size_t n,
		  struct tally *t)
{
	char inv[40];
	size_t l = strcspn(cell, "@ ");
	if (l >= sizeof inv || !strcmp(cell, "ok") || !strncmp(cell, "exhausted", 9) ||
	    !strncmp(cell, "partial", 7) || !strcmp(cell, "ERROR"))
		return;
	memcpy(inv, cell, l);
	inv[l] = '\0';
	if (scn_expects(scn, handler, NULL, inv))
		return;
	t->failed++;
	size_t cl = strlen(cell);
	if (cl + 1 < n) {
		cell[cl] = '*';
		cell[cl + 1] = '\0';
	}
}

/* --kernel: the profile every cell simulates (0 = 6.18). */
static int run_kver;

/* The trace of the last violation cell() found (for the hardware replay). */
static char last_trace[600];

/* One cell: "ok" or "<invariant>@<seed>". Returns 1 if a violation. */
static int cell(const char *path, const char *handler, const char *variant,
		enum sched_strategy st, uint64_t runs, char *out, size_t n,
		struct tally *t)
{
	struct explore_result r = {0};
	struct explore_args a = {
		.scenario = path,
		.handler = handler,
		.variant = variant,
		.strategy = st,
		.seed = 1,
		.runs = runs,
		.depth = 3,
		.out_dir = "out",
		.quiet = 1,
		.result = &r,
		.kver = run_kver,
	};
	int rc = drive_explore(&a);
	t->secs += r.seconds;
	t->runs += r.runs;
	if (rc == 1) {
		snprintf(out, n, "%s@%llu", r.name, (unsigned long long)r.seed);
		snprintf(last_trace, sizeof last_trace, "%s", r.trace);
		return 1;
	}
	snprintf(out, n, rc == 0 ? "ok" : "ERROR");
	if (rc != 0)
		t->bad++;
	return 0;
}

/* dfs bound 2: "exhausted N" or the violation found. */
static int dfs_cell(const char *path, const char *handler, char *out, size_t n,
		    struct tally *t)
{
	struct explore_result r = {0};
	struct explore_args a = {
		.scenario = path,
		.handler = handler,
		.strategy = SCHED_DFS,
		.bound = 2,
		.out_dir = "out",
		.quiet = 1,
		.result = &r,
		.kver = run_kver,
	};
	int rc = drive_explore(&a);
	t->secs += r.seconds;
	t->runs += r.runs;
	if (rc == 1) {
		snprintf(out, n, "%s", r.name);
		return 1;
	}
	if (rc != 0) {
		snprintf(out, n, "ERROR");
		t->bad++;
		return 0;
	}
	snprintf(out, n, "%s %llu", r.exhausted ? "exhausted" : "partial",
		 (unsigned long long)r.runs);
	return 0;
}

/* Random schedules, then PCT if random found nothing: one cell. */
static int sim_cell(const char *path, const char *handler, uint64_t runs, char *out,
		    size_t n, struct tally *t)
{
	if (cell(path, handler, NULL, SCHED_RANDOM, runs, out, n, t))
		return 1;
	return cell(path, handler, NULL, SCHED_PCT, runs, out, n, t);
}

/* One row per scenario, two columns per registered handler. Returns how
 * many scenarios each handler breaks, in found[]. */
static void sim_table(char (*names)[256], int n, uint64_t runs, int *found, struct tally *t)
{
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);
	assert(nh > 0 && nh <= 32);
	printf("%-44s", "scenario");
	for (int h = 0; h < nh; h++) {
		char c1[64], c2[64];
		snprintf(c1, sizeof c1, "%s random+pct", hs[h]->name);
		snprintf(c2, sizeof c2, "%s dfs bound 2", hs[h]->name);
		printf(" %-24s %-24s", c1, c2);
	}
	printf("\n");
	for (int i = 0; i < n; i++) {
		static struct scenario scn;
		char err[512];
		if (scn_parse_file(names[i], &scn, err, sizeof err)) {
			fprintf(stderr, "%s\n", err);
			t->bad++;
			continue;
		}
		printf("%-44s", names[i]);
		for (int h = 0; h < nh; h++) {
			char c1[64], c2[64];
			int f = sim_cell(names[i], hs[h]->name, runs, c1, sizeof c1, t);
			f |= dfs_cell(names[i], hs[h]->name, c2, sizeof c2, t);
			judge(&scn, hs[h]->name, c1, sizeof c1, t);
			judge(&scn, hs[h]->name, c2, sizeof c2, t);
			found[h] += f;
			printf(" %-24s %-24s", c1, c2);
		}
		printf("\n");
		fflush(stdout);
	}
}

#define ZOO_MAX 32
/* The traces of the variants' bugs, replayed on hardware afterwards. */
static char zoo_traces[ZOO_MAX][600];
static int nzoo_traces;

/* Each variant in the zoo scenario that shows it; returns how many were
 * not found with the invariant the table names. */
static int variant_table_run(uint64_t runs, struct tally *t)
{
	printf("\n%-24s %-10s %-44s %-22s %s\n", "variant", "into", "scenario", "expected",
	       "found");
	int missed = 0;
	for (const struct variant_info *v = variant_table; v->name; v++) {
		char c[64];
		int hit = cell(v->scenario, v->handler, v->name, v->pct ? SCHED_PCT : SCHED_RANDOM,
			       runs * 10, c, sizeof c, t);
		int as_expected = hit && strncmp(c, v->expect, strlen(v->expect)) == 0 &&
				  c[strlen(v->expect)] == '@';
		missed += !as_expected;
		/* a spin is the simulated scheduler starving a thread, which a
		 * fair OS scheduler does not do: nothing for hardware to confirm */
		int spin = !strcmp(v->expect, "busy-spin") || !strcmp(v->expect, "livelock");
		if (as_expected && !spin && nzoo_traces < ZOO_MAX)
			snprintf(zoo_traces[nzoo_traces++], sizeof zoo_traces[0], "%s", last_trace);
		printf("%-24s %-10s %-44s %-22s %s%s\n", v->name, v->handler, v->scenario, v->expect,
		       c, as_expected ? "" : "  <-- NOT AS EXPECTED");
		fflush(stdout);
	}
	return missed;
}

/* Every zoo failure the simulator found, replayed on hardware in its
 * schedule's order (replay --real), at 4 KiB and on 2 MiB hugetlb: the
 * verdicts and rates. Informational: a diverged window the hardware never
 * holds open is a fact about the kernel, not a failed expectation. */
static void real_replay_zoo(struct tally *t)
{
	printf("\n== real kernel: each variant's trace replayed on hardware in the simulator's order,\n"
	       "   10 times at 4 KiB and 10 on 2 MiB hugetlb (uffdlab replay --real); busy-spin traces\n"
	       "   are not replayed (the simulated scheduler starving a thread, not a kernel behaviour)\n");
	fflush(stdout);
	for (int i = 0; i < nzoo_traces; i++)
		for (uint64_t ps = 0; ps <= (2u << 20); ps += 2u << 20) {
			int rc = drive_replay_real(zoo_traces[i], 10, ps, 0);
			t->bad += rc == 2;
			fflush(stdout);
		}
}

static void real_stress_zoo(struct tally *t)
{
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);
	printf("== real kernel: the zoo scenarios where the simulator showed %s wrong, stressed\n"
	       "   (real threads, no barriers; up to 300 iterations; a lost wake takes 10 s to call)\n",
	       handler_default());
	static const char *const zoo[] = {"prefault-remove", "stale-source", "madvise-inflight-copy",
					  "pause-drops-deferred"};
	for (size_t z = 0; z < sizeof zoo / sizeof zoo[0]; z++) {
		static struct scenario scn;
		char path[128], err[512];
		char where[4096];
		snprintf(path, sizeof path, "scenarios/zoo/%s.scn", zoo[z]);
		if (scn_parse_file(scn_resolve(path, where, sizeof where), &scn, err, sizeof err)) {
			fprintf(stderr, "%s\n", err);
			t->bad++;
			continue;
		}
		for (int i = 0; i < nh; i++) {
			struct real_stress_result r;
			real_stress_run(&scn, hs[i]->name, 0, 300, &r);
			printf("real stress %-24s %-9s: ", zoo[z], hs[i]->name);
			if (r.skipped)
				printf("skipped: %s\n", r.text);
			else if (r.violated) {
				/* hardware may miss an expected violation (stress is
				 * not a search); an unexpected one is a failure */
				int ok = scn_expects(&scn, hs[i]->name, NULL, r.name);
				t->failed += !ok;
				printf("VIOLATION %s in iteration %llu%s: %s\n", r.name,
				       (unsigned long long)r.iterations + 1, ok ? "" : " (NOT EXPECTED)",
				       r.text);
			}
			else
				printf("no violation in %llu iterations\n", (unsigned long long)r.iterations);
			fflush(stdout);
		}
	}
}

/* The copy-after-zap window is zoo/prefault-remove's: STALE is expected
 * exactly for the handlers that scenario expects stale-data of. */
static void real_confirm_all(struct tally *t)
{
	static struct scenario scn;
	char err[512], where[4096];
	if (scn_parse_file(scn_resolve("scenarios/zoo/prefault-remove.scn", where, sizeof where),
			   &scn, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		t->bad++;
		return;
	}
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);
	printf("\n== real kernel: the simulator's copy-after-zap interleaving, forced with a barrier\n");
	for (int i = 0; i < nh; i++)
		for (uint64_t ps = 4096; ps <= (2u << 20); ps *= 512) {
			struct real_shape_result r;
			real_confirm_copy_after_zap(hs[i]->name, ps, &r);
			int stale = r.status == REAL_SHAPE_FAILED;
			int unexpected = stale != scn_expects(&scn, hs[i]->name, NULL, "stale-data") &&
					 r.status != REAL_SHAPE_SKIPPED;
			t->failed += unexpected;
			printf("real copy-after-zap %s %s: %s%s: %s\n", hs[i]->name, ps == 4096 ? "4k" : "2m",
			       r.status == REAL_SHAPE_PASSED ? "zeros" : stale ? "STALE" : "skipped",
			       unexpected ? " (NOT EXPECTED)" : "", r.why);
			fflush(stdout);
		}
}

static int run_args(int argc, char **argv, uint64_t *runs, int *sim_only)
{
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if (scn_parse_u64(argv[++i], runs) || !*runs) {
				fprintf(stderr, "uffdlab: --runs: '%s' is not a positive integer\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--sim-only") == 0) {
			*sim_only = 1;
		} else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) {
			const struct mk_profile *kp = mk_profile_named(argv[++i]);
			if (!kp) {
				fprintf(stderr, "uffdlab: --kernel: '%s' is not a kernel profile (6.1, 6.12, 6.18)\n", argv[i]);
				return 2;
			}
			run_kver = (int)kp->kver;
		} else {
			fprintf(stderr, "uffdlab: run: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	return 0;
}

static void sim_summary(int n, const int *found, int missed, const struct tally *t)
{
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);
	printf("\n== simulator:");
	for (int h = 0; h < nh; h++)
		printf("%s %s violates an invariant in %d of %d scenarios", h ? "," : "",
		       hs[h]->name, found[h], n);
	printf(";\n   %d finding(s) no scenario expects (marked *), %d of the variants' bugs not found as expected;\n"
	       "   %llu schedules in %.2f s (%.0f schedules/s)\n",
	       t->failed, missed, (unsigned long long)t->runs, t->secs,
	       t->secs > 0 ? (double)t->runs / t->secs : 0);
	printf("   reproduce any cell: uffdlab explore SCENARIO --handler H [--variant V] "
	       "--strategy S --seed SEED --runs 1\n\n");
}

/* Exit 0 when everything came out as the scenarios and the variant table
 * say, 1 when an expectation failed (a CI job can gate on it), 2 when a
 * cell could not run. */
int cmd_run(int argc, char **argv)
{
	uint64_t runs = 2000;
	int sim_only = 0;
	if (run_args(argc, argv, &runs, &sim_only))
		return 2;
	int kv = run_kver ? run_kver : MK_KVER_DEFAULT;
	if (!sim_only && kv != real_kernel_profile(NULL, 0)) {
		/* the hardware runs the kernel it runs: its traces would be
		 * replayed against another release's rules */
		printf("(--kernel %s is not the running kernel's profile: simulator only)\n",
		       mk_profile(kv)->name);
		sim_only = 1;
	}
	static char names[256][256];
	char lib[4096];
	int n = scn_list_dir(scn_library(lib, sizeof lib), names, 256);
	if (n < 0) {
		fprintf(stderr, "uffdlab: scenarios: cannot list the scenario library\n");
		return 2;
	}
	printf("== simulator: %d scenarios, up to %llu schedules per cell (random, then pct);\n"
	       "   a cell is ok or <violated invariant>@<seed> (trace in out/)\n\n",
	       n, (unsigned long long)runs);
	int found[32] = {0}; /* HANDLERS_MAX in handler/registry.c */
	struct tally t = {0};
	sim_table(names, n, runs, found, &t);
	int missed = variant_table_run(runs, &t);
	sim_summary(n, found, missed, &t);
	t.failed += missed;
	if (!sim_only) {
		printf("== real kernel: upstream shapes on %s\n", handler_default());
		fflush(stdout);
		int failed = real_run_shapes(stdout, 0);
		printf("== real kernel: %d shape(s) failed\n\n", failed);
		t.failed += failed;
		real_stress_zoo(&t);
		real_confirm_all(&t);
		real_replay_zoo(&t);
	}
	printf("\n== %s\n", t.bad ? "ERROR: some cells could not run"
			 : t.failed ? "FAILED: an expectation failed (see NOT EXPECTED and * above)"
				    : "as expected");
	return t.bad ? 2 : t.failed ? 1 : 0;
}

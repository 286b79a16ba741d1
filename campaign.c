/* `uffdlab run`: the main job. Explores every bundled scenario with every
 * registered handler, then each bug variant in the zoo scenario that shows
 * it; prints what was found as tables (traces in out/), then runs the
 * upstream shapes on the real kernel. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/kernel.h"
#include "real/uffd.h"
#include "driver.h"
#include "run.h"
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
/* The delay bound of the dfs column (--bound). */
static unsigned run_bound = 2;
/* --no-shrink: failures are reported as found (shrinking is most of a
 * campaign's time when many cells fail). By default only the zoo table's
 * findings are shrunk (their traces are replayed on hardware and their
 * pictures printed); the library and seed tables' are as found unless
 * --shrink (uffdlab shrink TRACE shrinks one later). */
static int run_no_shrink;
static int run_shrink_all;

/* Whether a library or seed table cell shrinks what it finds. */
static int table_no_shrink(void)
{
	return run_no_shrink || !run_shrink_all;
}

/* The trace of the last violation cell() found (for the hardware replay). */
static char last_trace[600];

/* One cell: "ok" or "<invariant>@<seed>", its result in *rp. Returns 1
 * if a violation. */
static int cell_from(const char *path, const char *handler, const char *variant,
		     enum sched_strategy st, uint64_t seed, uint64_t runs, char *out, size_t n,
		     struct tally *t, struct explore_result *rp, int no_shrink)
{
	struct explore_result r = {0};
	struct explore_args a = {
		.scenario = path,
		.handler = handler,
		.variant = variant,
		.strategy = st,
		.seed = seed,
		.runs = runs,
		.depth = 3,
		.out_dir = "out",
		.no_shrink = no_shrink,
		.quiet = 1,
		.result = &r,
		.kver = run_kver,
	};
	int rc = drive_explore(&a);
	*rp = r;
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

static int cell_r(const char *path, const char *handler, const char *variant,
		  enum sched_strategy st, uint64_t runs, char *out, size_t n,
		  struct tally *t, struct explore_result *rp, int no_shrink)
{
	return cell_from(path, handler, variant, st, 1, runs, out, n, t, rp, no_shrink);
}

static int cell(const char *path, const char *handler, const char *variant,
		enum sched_strategy st, uint64_t runs, char *out, size_t n,
		struct tally *t)
{
	struct explore_result r;
	return cell_r(path, handler, variant, st, runs, out, n, t, &r, table_no_shrink());
}

/* dfs at run_bound: "exhausted N" or the violation found. */
static int dfs_cell(const char *path, const char *handler, char *out, size_t n,
		    struct tally *t)
{
	struct explore_result r = {0};
	struct explore_args a = {
		.scenario = path,
		.handler = handler,
		.strategy = SCHED_DFS,
		.bound = run_bound,
		.out_dir = "out",
		.no_shrink = table_no_shrink(),
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

/* One scenario's row (its cells, in row) and what it adds to found[]
 * and *t. */
struct row {
	char text[1024];
	int found[32];
	struct tally t;
};

static void sim_row(const char *name, uint64_t runs, struct row *r)
{
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);
	static struct scenario scn;
	char err[512];
	memset(r, 0, sizeof *r);
	if (scn_parse_file(name, &scn, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		r->t.bad++;
		return;
	}
	int k = snprintf(r->text, sizeof r->text, "%-44s", name);
	for (int h = 0; h < nh; h++) {
		char c1[64], c2[64];
		if (hs[h]->seed)
			continue; /* judged apart, in seed_table */
		int f = sim_cell(name, hs[h]->name, runs, c1, sizeof c1, &r->t);
		f |= dfs_cell(name, hs[h]->name, c2, sizeof c2, &r->t);
		judge(&scn, hs[h]->name, c1, sizeof c1, &r->t);
		judge(&scn, hs[h]->name, c2, sizeof c2, &r->t);
		r->found[h] += f;
		if (k < (int)sizeof r->text)
			k += snprintf(r->text + k, sizeof r->text - (size_t)k, " %-24s %-24s", c1, c2);
	}
}

static void add_row(const struct row *r, int *found, struct tally *t)
{
	if (r->text[0])
		printf("%s\n", r->text);
	fflush(stdout);
	for (int h = 0; h < 32; h++)
		found[h] += r->found[h];
	t->bad += r->t.bad;
	t->failed += r->t.failed;
	t->secs += r->t.secs;
	t->runs += r->t.runs;
}

struct rows_job {
	int n;
	unsigned jobs;
	void (*row)(int i, void *ctx);
	void *ctx;
};

static void rows_of(unsigned k, void *ctx)
{
	const struct rows_job *j = ctx;
	for (int i = (int)k; i < j->n; i += (int)j->jobs)
		j->row(i, j->ctx);
	fflush(NULL); /* par_fork's child ends with _exit */
}

/* row(i, ctx) for i < n among `jobs` forked workers (row i is worker
 * i mod jobs's, par_fork), each writing into memory the caller shared.
 * 0, or -1 when a worker could not start or did not end well. */
static int fork_rows(int n, unsigned jobs, void (*row)(int i, void *ctx), void *ctx)
{
	struct rows_job j = {n, jobs < 256 ? jobs : 256, row, ctx};
	return par_fork(j.jobs, rows_of, &j) ? -1 : 0;
}

struct sim_rows {
	char (*names)[256];
	uint64_t runs;
	struct row *rows;
};

static void sim_row_i(int i, void *ctx)
{
	struct sim_rows *c = ctx;
	sim_row(c->names[i], c->runs, &c->rows[i]);
}

/* The rows among `jobs` forked workers (row i is worker i mod jobs's),
 * in a shared mapping, printed in order once all are done: the same
 * table as one process prints. 0 or -1 (then the caller runs them here). */
static int sim_rows_parallel(char (*names)[256], int n, uint64_t runs, unsigned jobs,
			     int *found, struct tally *t)
{
	size_t len = (size_t)n * sizeof(struct row);
	struct row *rows = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rows == MAP_FAILED)
		return -1;
	struct sim_rows c = {names, runs, rows};
	int err = fork_rows(n, jobs, sim_row_i, &c);
	for (int i = 0; !err && i < n; i++)
		add_row(&rows[i], found, t);
	munmap(rows, len);
	return err;
}

/* One row per scenario, two columns per registered handler. Returns how
 * many scenarios each handler breaks, in found[]. */
static void sim_table(char (*names)[256], int n, uint64_t runs, unsigned jobs, int *found,
		      struct tally *t)
{
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);
	assert(nh > 0 && nh <= 32);
	printf("%-44s", "scenario");
	for (int h = 0; h < nh; h++) {
		char c1[64], c2[64];
		if (hs[h]->seed)
			continue;
		snprintf(c1, sizeof c1, "%s random+pct", hs[h]->name);
		snprintf(c2, sizeof c2, "%s dfs bound %u", hs[h]->name, run_bound);
		printf(" %-24s %-24s", c1, c2);
	}
	printf("\n");
	if (jobs > 1 && sim_rows_parallel(names, n, runs, jobs, found, t) == 0)
		return;
	for (int i = 0; i < n; i++) {
		static struct row r;
		sim_row(names[i], runs, &r);
		add_row(&r, found, t);
	}
}

#define ZOO_MAX 32
/* The traces of the variants' bugs, replayed on hardware afterwards. */
static char zoo_traces[ZOO_MAX][600];
static int zoo_pages[ZOO_MAX]; /* its scenario's memory, in pages */
static uint64_t zoo_psize[ZOO_MAX]; /* and page size */
static int nzoo_traces;
/* The most 2 MiB pages a replay here reserves (what the upstream shapes
 * use): B22's 2,048 (4 GiB of hugetlb and a 4 GiB snapshot) are left to
 * `uffdlab replay --real TRACE --page-size 2m` on a machine that has them. */
#define ZOO_REPLAY_MAX_2M 64

/* A variant's place in the zoo table: its docs/HANDLER.md id (a fix
 * reversal sorts under the id it names, "fix 3 (B14)", or after every
 * id), then e2b-ref's before reference's. */
static long zoo_key(const struct variant_info *v)
{
	const char *b = strchr(v->bug, 'B');
	long id = b ? strtol(b + 1, NULL, 10) : 1000 + strtol(v->bug + strcspn(v->bug, "0123456789"),
								 NULL, 10);
	return id * 2 + (strcmp(v->handler, handler_default()) != 0);
}

static int zoo_cmp(const void *a, const void *b)
{
	const struct variant_info *x = *(const struct variant_info *const *)a;
	const struct variant_info *y = *(const struct variant_info *const *)b;
	long kx = zoo_key(x), ky = zoo_key(y);
	return kx < ky ? -1 : kx > ky ? 1 : strcmp(x->name, y->name);
}

/* The budget of a variant's cell: stops at the first failure, so a
 * generous one costs nothing when the bug is found (B7 needs a few
 * thousand schedules) and is not tied to --runs. */
#define ZOO_MIN_RUNS 100000

/* One zoo row's result: its line, and the trace to replay on hardware
 * (replay set) with its scenario's memory. */
struct zoo_out {
	char line[1024];
	char trace[600];
	int replay, as_expected, pages;
	uint64_t psize;
	struct tally t;
};

/* One row of the zoo table into *o (as_expected: the variant's bug was
 * found as the variant table names it). */
static void zoo_row(const struct variant_info *v, uint64_t runs, struct zoo_out *o)
{
	enum sched_strategy st = v->pct ? SCHED_PCT : SCHED_RANDOM;
	struct explore_result r = {0};
	char c[64], who[64], pic[600] = "-", err[512], where[4096];
	static struct scenario scn;
	memset(o, 0, sizeof *o);
	if (scn_parse_file(scn_resolve(v->scenario, where, sizeof where), &scn, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		o->t.bad++;
		return;
	}
	uint64_t budget = runs * 10 > ZOO_MIN_RUNS ? runs * 10 : ZOO_MIN_RUNS;
	/* a variant keeps its handler's own bugs: one the scenario expects of
	 * the plain handler is not the variant's, and the search goes on
	 * from the next seed (a zoo scenario on e2b-ref also meets REF's) */
	uint64_t seed = 1, used = 0, skipped = 0;
	double secs = 0;
	int hit;
	for (;;) {
		hit = cell_from(v->scenario, v->handler, v->name, st, seed, budget - used, c,
				sizeof c, &o->t, &r, run_no_shrink);
		used += r.runs;
		secs += r.seconds;
		if (!hit || !strcmp(r.name, v->expect) || used >= budget ||
		    !scn_expects(&scn, v->handler, NULL, r.name))
			break;
		skipped++;
		seed = r.seed + 1;
	}
	r.runs = used;
	r.seconds = secs;
	o->as_expected = hit && !strcmp(r.name, v->expect);
	/* a spin is the simulated scheduler starving a thread, which a fair
	 * OS scheduler does not do: nothing for hardware to confirm */
	int spin = !strcmp(v->expect, "busy-spin") || !strcmp(v->expect, "livelock");
	o->replay = o->as_expected && !spin;
	o->pages = scn.pages;
	o->psize = scn.page_size;
	snprintf(o->trace, sizeof o->trace, "%s", r.trace);
	if (hit) {
		size_t l = strlen(r.trace);
		if (l > 6 && !strcmp(r.trace + l - 6, ".trace"))
			snprintf(pic, sizeof pic, "%.*s.svg", (int)(l - 6), r.trace);
	}
	snprintf(who, sizeof who, "%s/%s", v->handler, v->name);
	snprintf(o->line, sizeof o->line, "%-12s %-40s %-50s %-21s %-21s %-6s %9llu %9.1f  %s%s",
		 v->bug, who, v->scenario, v->expect, hit ? r.name : "not found",
		 st == SCHED_PCT ? "pct" : "random", (unsigned long long)r.runs, r.seconds * 1000,
		 pic, o->as_expected ? "" : "  <-- NOT AS EXPECTED");
	size_t l = strlen(o->line);
	if (skipped && l < sizeof o->line)
		snprintf(o->line + l, sizeof o->line - l, "  (%llu of %s's own expected first)",
			 (unsigned long long)skipped, v->handler);
}

/* Print a row, keep its trace for the hardware; 1 if not as expected. */
static int zoo_add(const struct zoo_out *o, struct tally *t)
{
	if (o->line[0])
		printf("%s\n", o->line);
	fflush(stdout);
	t->bad += o->t.bad;
	t->failed += o->t.failed;
	t->secs += o->t.secs;
	t->runs += o->t.runs;
	if (o->replay && nzoo_traces < ZOO_MAX) {
		zoo_pages[nzoo_traces] = o->pages;
		zoo_psize[nzoo_traces] = o->psize;
		snprintf(zoo_traces[nzoo_traces++], sizeof zoo_traces[0], "%s", o->trace);
	}
	return !o->as_expected;
}

struct zoo_rows {
	const struct variant_info **order;
	uint64_t runs;
	struct zoo_out *rows;
};

static void zoo_row_i(int i, void *ctx)
{
	struct zoo_rows *c = ctx;
	zoo_row(c->order[i], c->runs, &c->rows[i]);
}

/* The zoo rows among `jobs` forked workers (fork_rows), into rows (shared
 * by the caller). 0, or -1 (then the caller runs them here). */
static int zoo_rows_parallel(const struct variant_info **order, int n, uint64_t runs,
			     unsigned jobs, struct zoo_out *rows)
{
	struct zoo_rows c = {order, runs, rows};
	return fork_rows(n, jobs, zoo_row_i, &c);
}

/* Each variant in the zoo scenario that shows it, ordered by zoo id;
 * returns how many were not found with the invariant the table names. */
static int variant_table_run(uint64_t runs, unsigned jobs, struct tally *t)
{
	const struct variant_info *order[64];
	int n = 0;
	for (const struct variant_info *v = variant_table; v->name && n < 64; v++)
		order[n++] = v;
	qsort(order, (size_t)n, sizeof order[0], zoo_cmp);
	printf("\n== the bug zoo: each variant in its scenario (docs/HANDLER.md section 3), up to %llu\n"
	       "   schedules each; schedules and ms to the first failure, its picture beside the trace\n",
	       (unsigned long long)(runs * 10 > ZOO_MIN_RUNS ? runs * 10 : ZOO_MIN_RUNS));
	printf("%-12s %-40s %-50s %-21s %-21s %-6s %9s %9s  %s\n", "id", "handler/variant",
	       "scenario", "expected", "found", "search", "schedules", "ms", "picture");
	size_t len = (size_t)n * sizeof(struct zoo_out);
	struct zoo_out *rows = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				    -1, 0);
	if (rows == MAP_FAILED) {
		t->bad++;
		return n;
	}
	if (jobs < 2 || zoo_rows_parallel(order, n, runs, jobs, rows))
		for (int i = 0; i < n; i++)
			zoo_row(order[i], runs, &rows[i]);
	int missed = 0;
	for (int i = 0; i < n; i++)
		missed += zoo_add(&rows[i], t);
	munmap(rows, len);
	return missed;
}

/* Every zoo failure the simulator found, replayed on hardware in its
 * schedule's order (replay --real), at 4 KiB and on 2 MiB hugetlb: the
 * verdicts and rates. Informational: a diverged window the hardware never
 * holds open is a fact about the kernel, not a failed expectation. */
/* Replays per trace and page size: the rate is printed with its count
 * (uffdlab replay --real TRACE --repeat 20 measures one more closely). */
#define ZOO_REPLAYS 5

static void real_replay_zoo(struct tally *t)
{
	printf("\n== real kernel: each variant's trace replayed on hardware in the simulator's order,\n"
	       "   %d times at 4 KiB and %d on 2 MiB hugetlb (uffdlab replay --real); busy-spin traces\n"
	       "   are not replayed (the simulated scheduler starving a thread, not a kernel behaviour)\n",
	       ZOO_REPLAYS, ZOO_REPLAYS);
	fflush(stdout);
	for (int i = 0; i < nzoo_traces; i++)
		for (uint64_t ps = 4096; ps <= (2u << 20); ps *= 512) {
			if (ps > 4096 && zoo_pages[i] > ZOO_REPLAY_MAX_2M) {
				printf("%s: not replayed on 2 MiB hugetlb pages here: its memory is %d huge pages "
				       "(%d MiB), more than the %d this run reserves (uffdlab replay --real "
				       "TRACE --page-size 2m does it: seconds a replay)\n", zoo_traces[i],
				       zoo_pages[i], zoo_pages[i] * 2, ZOO_REPLAY_MAX_2M);
				continue;
			}
			int rc = drive_replay_real(zoo_traces[i], ZOO_REPLAYS, ps, 0);
			if (zoo_psize[i] > ps)
				printf("  (its scenario has %d pages of 2 MiB: at 4 KiB its memory and every range "
				       "is 512 times smaller)\n", zoo_pages[i]);
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
	static const char *const zoo[] = {"b03-prefault-unlocked", "b01-stale-source",
					  "b04-read-under-settle", "fix2-no-wake-deferred"};
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
			if (hs[i]->seed)
				continue; /* seed_table stresses its own scenario */
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

/* The copy-after-zap window is zoo/b03-prefault-unlocked's: STALE is expected
 * exactly for the handlers that scenario expects stale-data of. */
static void real_confirm_all(struct tally *t)
{
	static struct scenario scn;
	char err[512], where[4096];
	if (scn_parse_file(scn_resolve("scenarios/zoo/b03-prefault-unlocked.scn", where, sizeof where),
			   &scn, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		t->bad++;
		return;
	}
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);
	printf("\n== real kernel: the simulator's copy-after-zap interleaving, its stored trace replayed\n");
	for (int i = 0; i < nh; i++)
		for (uint64_t ps = 4096; ps <= (2u << 20) && !hs[i]->seed; ps *= 512) {
			struct real_shape_result r;
			real_confirm_copy_after_zap(hs[i]->name, ps, &r);
			int stale = r.status == REAL_SHAPE_FAILED;
			int unexpected = stale != scn_expects(&scn, hs[i]->name, NULL, "stale-data") &&
					 r.status != REAL_SHAPE_SKIPPED;
			t->failed += unexpected;
			printf("real copy-after-zap %s %s: %s%s: %s\n", hs[i]->name, ps == 4096 ? "4k" : "2m",
			       r.status == REAL_SHAPE_PASSED ? "not confirmed" : stale ? "STALE" : "skipped",
			       unexpected ? " (NOT EXPECTED)" : "", r.why);
			fflush(stdout);
		}
}

/* The hardware checks that need nothing from the simulator (the upstream
 * shapes, the stress runs, the stored copy-after-zap trace) run in a child
 * process beside the simulator's tables: their time is mostly waiting (a
 * lost wake takes 10 s to call), not CPU. The child's output goes to a
 * temporary file, printed where the section always stood; its tally to
 * shared memory. */
struct hw_job {
	pid_t pid;
	FILE *out;
	struct tally *t;
};

static void hw_checks(struct tally *t)
{
	printf("== real kernel: upstream shapes on %s\n", handler_default());
	fflush(stdout);
	int failed = real_run_shapes(stdout, 0);
	printf("== real kernel: %d shape(s) failed\n\n", failed);
	t->failed += failed;
	real_stress_zoo(t);
	real_confirm_all(t);
}

/* 0 with the child started, or -1 (nothing started: run hw_checks here). */
static int hw_start(struct hw_job *j)
{
	j->out = tmpfile();
	j->t = mmap(NULL, sizeof *j->t, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (j->t == MAP_FAILED)
		j->t = NULL;
	if (j->t)
		memset(j->t, 0, sizeof *j->t);
	fflush(NULL);
	j->pid = j->out && j->t ? fork() : -1;
	if (j->pid == 0) {
		if (dup2(fileno(j->out), STDOUT_FILENO) < 0)
			_exit(2);
		hw_checks(j->t);
		fflush(NULL);
		exit(0); /* atexit: the hugepage ledger gives back what it raised */
	}
	if (j->pid > 0)
		return 0;
	if (j->out)
		fclose(j->out);
	if (j->t)
		munmap(j->t, sizeof *j->t);
	return -1;
}

static void hw_finish(struct hw_job *j, struct tally *t)
{
	int st;
	if (waitpid(j->pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "uffdlab: run: the hardware checks' process failed\n");
		t->bad++;
	}
	char buf[4096];
	size_t n;
	rewind(j->out);
	while ((n = fread(buf, 1, sizeof buf, j->out)) > 0)
		fwrite(buf, 1, n, stdout);
	fflush(stdout);
	t->failed += j->t->failed;
	t->bad += j->t->bad;
	fclose(j->out);
	munmap(j->t, sizeof *j->t);
}

static int run_args(int argc, char **argv, uint64_t *runs, int *sim_only, unsigned *jobs)
{
	for (int i = 2; i < argc; i++) {
		uint64_t j;
		if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
			if (scn_parse_u64(argv[++i], &j) || !j || j > 256) {
				fprintf(stderr, "uffdlab: --jobs: '%s' is not between 1 and 256\n", argv[i]);
				return 2;
			}
			*jobs = (unsigned)j;
			continue;
		}
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if (scn_parse_u64(argv[++i], runs) || !*runs) {
				fprintf(stderr, "uffdlab: --runs: '%s' is not a positive integer\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--bound") == 0 && i + 1 < argc) {
			if (scn_parse_u64(argv[++i], &j) || j > 64) {
				fprintf(stderr, "uffdlab: --bound: '%s' is not between 0 and 64\n", argv[i]);
				return 2;
			}
			run_bound = (unsigned)j;
		} else if (strcmp(argv[i], "--no-shrink") == 0) {
			run_no_shrink = 1;
		} else if (strcmp(argv[i], "--shrink") == 0) {
			run_shrink_all = 1;
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
		if (!hs[h]->seed)
			printf("%s %s violates an invariant in %d of %d scenarios", h ? "," : "",
			       hs[h]->name, found[h], n);
	printf(";\n   %d finding(s) no scenario expects (marked *), %d of the variants' bugs not found as expected;\n"
	       "   %llu schedules in %.2f s (%.0f schedules/s)\n",
	       t->failed, missed, (unsigned long long)t->runs, t->secs,
	       t->secs > 0 ? (double)t->runs / t->secs : 0);
	printf("   reproduce any cell: uffdlab explore SCENARIO --handler H [--variant V] "
	       "--strategy S --seed SEED --runs 1;\n"
	       "   the library and seed tables' traces are as found (run --shrink, or uffdlab shrink TRACE)\n\n");
}

/* Does a scenario's expect line name handler (with no variant)? */
static int names_handler(const struct scenario *scn, const char *handler)
{
	for (int e = 0; e < scn->nexpect; e++)
		for (int k = 0; k < scn->expects[e].nwho; k++)
			if (!scn->expects[e].who[k].variant[0] &&
			    !strcmp(scn->expects[e].who[k].handler, handler))
				return 1;
	return 0;
}

/* The seed systems' handlers on the scenarios that name them: random then
 * pct, judged against those expect lines. */
static void seed_table(char (*names)[256], int n, uint64_t runs, struct tally *t)
{
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);
	printf("== simulator: the seed systems' handlers, on the scenarios that name them\n\n"
	       "%-12s %-50s %s\n", "handler", "scenario", "random+pct");
	for (int h = 0; h < nh; h++)
		for (int i = 0; i < n && hs[h]->seed; i++) {
			static struct scenario scn;
			char err[512], c[64];
			if (scn_parse_file(names[i], &scn, err, sizeof err)) {
				t->bad++;
				continue;
			}
			if (!names_handler(&scn, hs[h]->name))
				continue;
			/* a floor, as the zoo table's: each cell stops at its
			 * first failure, and a seed handler's bug is expected */
			uint64_t budget = runs < 20000 ? 20000 : runs;
			if (!sim_cell(names[i], hs[h]->name, budget, c, sizeof c, t)) {
				snprintf(c, sizeof c, "not found");
				t->failed++;
			}
			judge(&scn, hs[h]->name, c, sizeof c, t);
			printf("%-12s %-50s %s\n", hs[h]->name, names[i], c);
			fflush(stdout);
		}
	printf("\n");
}

/* Exit 0 when everything came out as the scenarios and the variant table
 * say, 1 when an expectation failed (a CI job can gate on it), 2 when a
 * cell could not run. */
int cmd_run(int argc, char **argv)
{
	uint64_t runs = 2000;
	int sim_only = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned jobs = cores > 0 && cores <= 256 ? (unsigned)cores : 1; /* default: the cores */
	if (run_args(argc, argv, &runs, &sim_only, &jobs))
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
	       "   a cell is ok or <violated invariant>@<seed> (trace in out/); %u job%s\n\n",
	       n, (unsigned long long)runs, jobs, jobs == 1 ? "" : "s");
	int found[32] = {0}; /* HANDLERS_MAX in handler/registry.c */
	struct tally t = {0};
	struct hw_job hw = {0};
	int hw_child = !sim_only && hw_start(&hw) == 0;
	sim_table(names, n, runs, jobs, found, &t);
	int missed = variant_table_run(runs, jobs, &t);
	sim_summary(n, found, missed, &t);
	seed_table(names, n, runs, &t);
	t.failed += missed;
	if (hw_child)
		hw_finish(&hw, &t);
	else if (!sim_only)
		hw_checks(&t);
	if (!sim_only)
		real_replay_zoo(&t);
	printf("\n== %s\n", t.bad ? "ERROR: some cells could not run"
			 : t.failed ? "FAILED: an expectation failed (see NOT EXPECTED and * above)"
				    : "as expected");
	return t.bad ? 2 : t.failed ? 1 : 0;
}

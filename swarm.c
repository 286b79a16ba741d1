/* The swarm driver (`uffdlab swarm`): scenarios generated from seeds
 * (scenarios/gen.c), each explored with a small budget of random, pct and
 * dfs within one deviation; a violation's scenario is shrunk (threads,
 * operations, features, pages dropped while the same invariant still
 * breaks, swarm_shrink.c), written beside the generated one, and handed
 * to the explore driver, which writes its trace and picture and prints the
 * command that reproduces it. Workers (--jobs) are forked processes, each
 * taking every jobs-th seed. */
#include "swarm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "handler/handler.h"
#include "handler/variants.h"
#include "scenarios/gen.h"
#include "sched/dfs.h"

struct dfs_ctx {
	struct world *w;
	const struct run_id *id;
	struct verdict v;
};

static int dfs_cb(void *ctx, const uint32_t *prefix, size_t n, const uint32_t **choices,
		  const uint64_t **masks, size_t *nsteps, int *wide)
{
	struct dfs_ctx *c = ctx;
	struct sched_opts o = run_opts(c->id);
	o.replay = prefix;
	o.replay_len = n;
	o.record_runnable = 1;
	int err = world_run(c->w, &o, NULL, NULL, &c->v);
	if (err)
		return err;
	size_t nm;
	*choices = sched_choices(world_sched(c->w), nsteps);
	*masks = sched_runnable_masks(world_sched(c->w), &nm, wide);
	return c->v.violated;
}

/* runs seeded runs of strategy st from seed 0 (pct learns k from its
 * first run, as explore does). 1 and *h on a violation, 0, or -errno. */
static int seeded(struct world *w, struct run_id *id, enum sched_strategy st, uint64_t runs,
		  struct swarm_hit *h, uint64_t *nruns)
{
	id->strategy = st;
	id->pct_k = 0;
	for (uint64_t i = 0; i < runs; i++) {
		id->seed = i;
		struct sched_opts o = run_opts(id);
		struct verdict v;
		int err = world_run(w, &o, NULL, NULL, &v);
		if (err)
			return err;
		(*nruns)++;
		if (v.violated) {
			*h = (struct swarm_hit){.strategy = st, .seed = i,
						.pct_k = i ? id->pct_k : 0};
			snprintf(h->name, sizeof h->name, "%s", v.name);
			snprintf(h->text, sizeof h->text, "%s", v.text);
			return 1;
		}
		if (st == SCHED_PCT && !id->pct_k)
			id->pct_k = sched_pct_k(world_sched(w));
	}
	return 0;
}

int swarm_explore(const struct scenario *scn, const char *handler, const char *variant,
		  uint64_t bits, const struct swarm_budget *b, struct swarm_hit *h,
		  uint64_t *nruns)
{
	struct world *w = world_new(scn, handler, bits);
	if (!w)
		return -ENOMEM;
	struct run_id id = {.scn = scn, .handler = handler, .variant = variant, .depth = 3,
			    .max_steps = b->max_steps ? b->max_steps : RUN_MAX_STEPS_DEFAULT,
			    .bound = 1};
	int r = seeded(w, &id, SCHED_RANDOM, b->random, h, nruns);
	if (!r)
		r = seeded(w, &id, SCHED_PCT, b->pct, h, nruns);
	if (!r && b->dfs) {
		id.strategy = SCHED_DFS;
		id.seed = 0;
		struct dfs_ctx dc = {.w = w, .id = &id};
		struct dfs_stats ds = {0};
		uint32_t *fail = NULL;
		size_t nfail;
		r = dfs_run(1, b->dfs, dfs_cb, &dc, &ds, &fail, &nfail);
		*nruns += ds.runs;
		free(fail);
		if (r == 1) {
			*h = (struct swarm_hit){.strategy = SCHED_DFS};
			snprintf(h->name, sizeof h->name, "%s", dc.v.name);
			snprintf(h->text, sizeof h->text, "%s", dc.v.text);
		}
	}
	world_free(w);
	return r;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	int bad = fputs(text, f) < 0;
	if (fclose(f) || bad)
		return -EIO;
	return 0;
}

/* The scenario's text under comment, into dir/name; 0 or -errno. */
static int save(const struct scenario *s, const char *comment, const char *path)
{
	static char text[65536];
	int n = scn_format(s, comment, text, sizeof text);
	return n < 0 ? n : write_file(path, text);
}

/* Hand the shrunk scenario's failing run to the explore driver: it
 * re-runs it, writes the trace and picture, prints the repro line. */
static int explore_hit(const struct swarm_args *a, const char *path, const struct swarm_hit *h)
{
	struct explore_args e = {.scenario = path, .handler = a->handler, .variant = a->variant,
				 .strategy = h->strategy, .seed = h->seed, .runs = 1, .depth = 3,
				 .pct_k = h->pct_k, .max_steps = a->budget.max_steps,
				 .out_dir = a->out_dir, .bound = EXPLORE_NO_BOUND};
	if (h->strategy == SCHED_DFS) {
		e.bound = 1; /* the same deterministic search finds it first */
		e.runs = a->budget.dfs;
		e.seed = 0;
	}
	return drive_explore(&e);
}

static void lock_out(const struct swarm_args *a, int *fd, int on)
{
	char p[600];
	if (on) {
		snprintf(p, sizeof p, "%s/.swarm.lock", a->out_dir);
		*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (*fd >= 0)
			(void)flock(*fd, LOCK_EX); /* best effort: only output order */
		return;
	}
	fflush(stdout);
	if (*fd >= 0)
		close(*fd);
}

/* A violation on generated scenario s of seed: keep, shrink, report.
 * The exit status of the explore driver (1), or 2/3. */
static int report_hit(const struct swarm_args *a, uint64_t bits, uint64_t seed,
		      struct scenario *s, struct swarm_hit *h)
{
	char orig[600], shr[600], comment[200];
	snprintf(orig, sizeof orig, "%s/swarm-%" PRIu64 "-generated.scn", a->out_dir, seed);
	snprintf(shr, sizeof shr, "%s/swarm-%" PRIu64 ".scn", a->out_dir, seed);
	snprintf(comment, sizeof comment, "generated by uffdlab swarm --seed %" PRIu64
		 " --scenarios 1%s", seed, a->events ? " --events" : "");
	int err = save(s, comment, orig);
	struct swarm_shrunk st = {0};
	if (!err && !a->no_shrink)
		err = swarm_shrink(s, a->handler, a->variant, bits, &a->budget, h, &st);
	snprintf(comment, sizeof comment, "uffdlab swarm --seed %" PRIu64 ", shrunk: %s", seed,
		 st.what[0] ? st.what : "not shrunk");
	if (!err)
		err = save(s, comment, shr);
	int fd = -1;
	lock_out(a, &fd, 1);
	printf("swarm: seed %" PRIu64 ": VIOLATION %s on %s (generated: %s; shrunk: %s)\n", seed,
	       h->name, shr, orig, st.what[0] ? st.what : "not shrunk");
	int status = err ? 2 : explore_hit(a, shr, h);
	if (err)
		fprintf(stderr, "uffdlab: swarm: writing %s: %s\n", shr, strerror(-err));
	printf("  swarm:     uffdlab swarm --seed %" PRIu64 " --scenarios 1 --handler %s%s%s%s\n",
	       seed, a->handler, a->variant[0] ? " --variant " : "", a->variant,
	       a->events ? " --events" : "");
	lock_out(a, &fd, 0);
	return status;
}

struct tally {
	uint64_t scenarios, runs, violations;
	int status;
};

/* Generated scenarios seed + i for i = job, job + jobs, ... */
static void work(const struct swarm_args *a, uint64_t bits, int job, struct tally *t)
{
	static struct scenario s;
	struct scn_gen_opts go = {.events = a->events};
	double t0 = drv_now();
	for (uint64_t i = (uint64_t)job;; i += (uint64_t)a->jobs) {
		if (a->scenarios && i >= a->scenarios)
			break;
		if (!a->scenarios && drv_now() - t0 >= a->seconds)
			break;
		uint64_t seed = a->seed + i;
		scn_generate(seed, &go, &s);
		snprintf(s.path, sizeof s.path, "swarm-%" PRIu64 ".scn", seed);
		struct swarm_hit h;
		int r = swarm_explore(&s, a->handler, a->variant, bits, &a->budget, &h, &t->runs);
		t->scenarios++;
		if (r < 0) {
			fprintf(stderr, "uffdlab: swarm: seed %" PRIu64 ": %s\n", seed, strerror(-r));
			t->status = 2;
			return;
		}
		if (r == 1) {
			t->violations++;
			int st = report_hit(a, bits, seed, &s, &h);
			if (st != 1 && st > t->status)
				t->status = st;
			if (!t->status)
				t->status = 1;
		}
	}
}

/* Fork a->jobs workers, each writing its tally to a pipe. */
static int run_jobs(const struct swarm_args *a, uint64_t bits, struct tally *sum)
{
	int fds[2];
	if (pipe(fds))
		return -errno;
	fflush(stdout);
	for (int j = 0; j < a->jobs; j++) {
		pid_t pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0) {
			close(fds[0]);
			struct tally t = {0};
			work(a, bits, j, &t);
			fflush(stdout);
			ssize_t n = write(fds[1], &t, sizeof t);
			_exit(n == (ssize_t)sizeof t ? 0 : 2);
		}
	}
	close(fds[1]);
	struct tally t;
	int got = 0;
	while (read(fds[0], &t, sizeof t) == (ssize_t)sizeof t) {
		sum->scenarios += t.scenarios;
		sum->runs += t.runs;
		sum->violations += t.violations;
		if (t.status > sum->status)
			sum->status = t.status;
		got++;
	}
	close(fds[0]);
	while (wait(NULL) > 0)
		;
	return got == a->jobs ? 0 : -ECHILD;
}

/* mkdir -p: out/swarm is the default, out/ may not exist yet. */
static int make_dirs(const char *dir)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1;; p++) {
		int end = *p == '\0';
		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		if (end)
			return 0;
		*p = '/';
	}
}

int drive_swarm(const struct swarm_args *a)
{
	uint64_t bits;
	char msg[160];
	if (variant_parse_list(a->handler, a->variant, &bits, msg, sizeof msg)) {
		fprintf(stderr, "uffdlab: %s\n", msg);
		return 2;
	}
	int derr = make_dirs(a->out_dir);
	if (derr) {
		fprintf(stderr, "uffdlab: swarm: cannot create %s: %s\n", a->out_dir, strerror(-derr));
		return 2;
	}
	double t0 = drv_now();
	struct tally sum = {0};
	if (a->jobs > 1) {
		int err = run_jobs(a, bits, &sum);
		if (err) {
			fprintf(stderr, "uffdlab: swarm: workers: %s\n", strerror(-err));
			return 2;
		}
	} else {
		work(a, bits, 0, &sum);
	}
	double el = drv_now() - t0;
	printf("swarm: %s%s%s: %" PRIu64 " scenarios in %.1f s (%.1f scenarios/s, %" PRIu64
	       " schedules, budget random %" PRIu64 " + pct %" PRIu64 " + dfs bound 1 <= %" PRIu64
	       "), %" PRIu64 " with a violation\n",
	       a->handler, a->variant[0] ? " --variant " : "", a->variant, sum.scenarios, el,
	       el > 0 ? (double)sum.scenarios / el : 0, sum.runs, a->budget.random, a->budget.pct,
	       a->budget.dfs, sum.violations);
	if (a->result) {
		a->result->scenarios = sum.scenarios;
		a->result->violations = sum.violations;
		a->result->runs = sum.runs;
	}
	return sum.status;
}

/* swarm.h — `uffdlab swarm`: generated scenarios explored with a small
 * budget each, and the scenario shrinker of its violations.
 *
 * Contract: drive_swarm() returns the process exit status (0 no violation,
 * 1 at least one, each reported with its generated and shrunk scenario,
 * trace, picture and repro line; 2 bad usage or an I/O error). The same
 * (handler, variant, seed, --scenarios N, budget, --events) gives the same
 * scenarios, verdicts and files on any machine and with any --jobs (with
 * --time, how many scenarios run depends on the machine). Private to the
 * top-level drivers, like run.h.
 */
#ifndef UFFDLAB_SWARM_H
#define UFFDLAB_SWARM_H

#include <stdint.h>

#include "run.h"

struct swarm_budget {
	uint64_t random, pct; /* seeded runs of each, seeds 0.. */
	uint64_t dfs;         /* dfs within one deviation: at most this many runs */
	uint64_t max_steps;   /* 0: explore's default */
};

#define SWARM_BUDGET_DEFAULT 150 /* random, pct and dfs runs each */

/* What found a violation: enough for `explore --runs 1` to re-run it. */
struct swarm_hit {
	enum sched_strategy strategy;
	uint64_t seed, pct_k;
	char name[32];
	char text[512];
};

struct swarm_result {
	uint64_t scenarios, violations, runs;
};

struct swarm_args {
	const char *handler;     /* never NULL */
	const char *variant;     /* "" for none */
	double seconds;          /* used when scenarios == 0 */
	uint64_t scenarios;      /* 0: until seconds */
	uint64_t seed;           /* the first scenario's seed */
	int jobs;                /* >= 1 forked workers */
	int events;              /* generate unmap/remap/fork and their events */
	int no_shrink;
	struct swarm_budget budget;
	const char *out_dir;
	struct swarm_result *result; /* may be NULL: the totals over all workers */
};

int drive_swarm(const struct swarm_args *a);

/* Explore scn within the budget (random, then pct, then dfs): 1 and *h
 * for the first violation, 0 none, or -errno. *nruns grows by the runs. */
int swarm_explore(const struct scenario *scn, const char *handler, const char *variant,
		  uint64_t bits, const struct swarm_budget *b, struct swarm_hit *h,
		  uint64_t *nruns);

struct swarm_shrunk {
	char what[160];          /* "threads 5->2, ops 9->3, ..." or "" */
	int candidates;          /* scenarios tried */
};

/* Shrink *s while h->name still breaks within the budget: *s and *h
 * become the smallest scenario found and the run that breaks it. 0 or
 * -errno. */
int swarm_shrink(struct scenario *s, const char *handler, const char *variant, uint64_t bits,
		 const struct swarm_budget *b, struct swarm_hit *h, struct swarm_shrunk *st);

#endif

/* The strategy table and the one parser of strategy names and options. */
#include "sched/strategy.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

const struct sched_strategy_ops *const sched_strategies[] = {
	&strategy_random, &strategy_pct, &strategy_dfs, &strategy_replay,
	&strategy_guided, NULL,
};

int sched_view_runnable(const struct sched_view *v, uint32_t tid)
{
	int lo = 0, hi = v->nrunnable;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if ((uint32_t)v->runnable[mid] < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->nrunnable && (uint32_t)v->runnable[lo] == tid;
}

_Static_assert(SCHED_DFS + 1 == SCHED_STRATEGY_COUNT, "one state slot per strategy");

const struct sched_strategy_ops *sched_strategy_of(enum sched_strategy id)
{
	for (const struct sched_strategy_ops *const *o = sched_strategies; *o; o++)
		if ((*o)->id == id)
			return *o;
	return NULL;
}

const struct sched_strategy_ops *sched_strategy_find(const char *name)
{
	for (const struct sched_strategy_ops *const *o = sched_strategies; *o; o++)
		if (strcmp((*o)->name, name) == 0)
			return *o;
	return NULL;
}

const char *sched_strategy_names(void)
{
	static char buf[128];

	if (!buf[0]) {
		size_t k = 0;

		for (const struct sched_strategy_ops *const *o = sched_strategies; *o; o++)
			if ((*o)->flags & STRATEGY_CLI)
				k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s",
						      k ? "|" : "", (*o)->name);
		assert(k > 0 && k < sizeof buf);
	}
	return buf;
}

static const struct {
	unsigned opt;
	const char *flag;
} opt_names[] = {
	{STRATEGY_OPT_DEPTH, "--depth"},
	{STRATEGY_OPT_PCT_K, "--pct-k"},
	{STRATEGY_OPT_BOUND, "--bound"},
	{STRATEGY_OPT_TIME, "--time"},
};

/* The CLI strategies that take opt, "a or b", for an error line. */
static void takers(unsigned opt, char *buf, size_t n)
{
	size_t k = 0;

	buf[0] = '\0';
	for (const struct sched_strategy_ops *const *o = sched_strategies; *o; o++)
		if (((*o)->flags & STRATEGY_CLI) && ((*o)->opts & opt) && k < n)
			k += (size_t)snprintf(buf + k, n - k, "%s--strategy %s",
					      k ? " or " : "", (*o)->name);
}

const struct sched_strategy_ops *sched_strategy_parse(const char *name, unsigned given,
						      char *err, size_t n)
{
	const struct sched_strategy_ops *o = sched_strategy_find(name);

	if (!o || !(o->flags & STRATEGY_CLI)) {
		snprintf(err, n, "unknown strategy '%s' (%s)", name, sched_strategy_names());
		return NULL;
	}
	for (size_t i = 0; i < sizeof opt_names / sizeof opt_names[0]; i++) {
		if (!(given & opt_names[i].opt) || (o->opts & opt_names[i].opt))
			continue;
		if (opt_names[i].opt == STRATEGY_OPT_TIME) {
			/* a search of a finite space is bounded by runs */
			snprintf(err, n, "--strategy %s takes --runs, not --time", o->name);
			return NULL;
		}
		char who[96];

		takers(opt_names[i].opt, who, sizeof who);
		snprintf(err, n, "%s is only for %s, not --strategy %s", opt_names[i].flag,
			 who, o->name);
		return NULL;
	}
	return o;
}

/* dfs: every schedule within --bound deviations from the no-preemption
 * default (sched/dfs.c drives the search). Each of its runs is guided by a
 * prefix ending in a deviation, so a run chooses as guided does. With a
 * reducing explorer (opts.explorer, sched/dpor.c) the explorer picks. */
#include "sched/strategy.h"

static int dfs_choose(void *state, const struct sched_view *v)
{
	const struct sched_explorer *ex = v->opts->explorer;

	if (ex)
		return ex->choose(ex->ctx, v);
	return strategy_guided_choose(state, v);
}

const struct sched_strategy_ops strategy_dfs = {
	.name = "dfs",
	.help = "exhaustive: every schedule up to equivalence (DPOR), or within --bound deviations / --preemptions",
	.id = SCHED_DFS,
	.flags = STRATEGY_CLI | STRATEGY_EXHAUSTIVE,
	.opts = STRATEGY_OPT_BOUND,
	.choose = dfs_choose,
};

/* dfs: every schedule within --bound deviations from the no-preemption
 * default (sched/dfs.c drives the search). Each of its runs is guided by a
 * prefix ending in a deviation, so a run chooses as guided does. */
#include "sched/strategy.h"

const struct sched_strategy_ops strategy_dfs = {
	.name = "dfs",
	.help = "exhaustive: every schedule within --bound deviations from the no-preemption default",
	.id = SCHED_DFS,
	.flags = STRATEGY_CLI | STRATEGY_EXHAUSTIVE,
	.opts = STRATEGY_OPT_BOUND,
	.choose = strategy_guided_choose,
};

/* guided: follow opts.replay where it names a runnable thread; elsewhere,
 * and past its end, no preemption: the thread of the previous step if it
 * can run, else the lowest-id runnable one. The shrinker's replay. */
#include "sched/strategy.h"

#include <assert.h>

int strategy_guided_choose(void *state, const struct sched_view *v)
{
	(void)state;
	assert(v->nrunnable > 0);
	if (v->steps < v->opts->replay_len) {
		uint32_t tid = v->opts->replay[v->steps];

		if (sched_view_runnable(v, tid))
			return (int)tid;
	}
	if (v->steps > 0) {
		uint32_t last = v->choices[v->steps - 1];

		if (sched_view_runnable(v, last))
			return (int)last;
	}
	return v->runnable[0];
}

const struct sched_strategy_ops strategy_guided = {
	.name = "guided",
	.help = "follow a choice sequence where it can, else do not preempt (shrinking)",
	.id = SCHED_GUIDED,
	.choose = strategy_guided_choose,
};

/* replay: follow opts.replay exactly; a step it names a thread that is not
 * runnable (or past its end) ends the run as diverged. */
#include "sched/strategy.h"

#include <assert.h>

static int replay_choose(void *state, const struct sched_view *v)
{
	(void)state;
	assert(v->nrunnable > 0);
	if (v->steps < v->opts->replay_len) {
		uint32_t tid = v->opts->replay[v->steps];

		if (sched_view_runnable(v, tid))
			return (int)tid;
	}
	return -1;
}

const struct sched_strategy_ops strategy_replay = {
	.name = "replay",
	.help = "follow a recorded choice sequence exactly (uffdlab replay)",
	.id = SCHED_REPLAY,
	.choose = replay_choose,
};

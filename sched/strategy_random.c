/* random: a uniform choice among the runnable threads at every step. The
 * r-th runnable thread in id order: the order is part of the determinism. */
#include "sched/strategy.h"

#include <assert.h>

static int random_choose(void *state, const struct sched_view *v)
{
	(void)state;
	assert(v->nrunnable > 0);
	uint64_t r = v->nrunnable == 1 ? 0 : rng_below(v->rng, (uint64_t)v->nrunnable);

	assert(r < (uint64_t)v->nrunnable);
	return v->runnable[r];
}

const struct sched_strategy_ops strategy_random = {
	.name = "random",
	.help = "a uniform choice among the runnable threads at every scheduling point",
	.id = SCHED_RANDOM,
	.flags = STRATEGY_CLI | STRATEGY_SEEDED,
	.opts = STRATEGY_OPT_TIME,
	.choose = random_choose,
};

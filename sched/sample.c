/* Random schedules within a preemption bound (sched/sample.h). */
#include "sched/sample.h"

#include <assert.h>
#include <string.h>

#include "sched/strategy.h"

static void sample_step(void *ctx, uint64_t step, int tid, const struct sched_fp *fp,
			uint64_t woke, int wide)
{
	(void)ctx, (void)step, (void)tid, (void)fp, (void)woke, (void)wide;
}

static int sample_choose(void *ctx, const struct sched_view *v)
{
	struct sample *s = ctx;
	assert(v->nrunnable >= 1);
	int prev = v->steps ? (int)v->choices[v->steps - 1] : -1;
	int keep = prev >= 0 && sched_view_runnable(v, (uint32_t)prev);
	while (s->next < s->nat && s->at[s->next] < v->steps)
		s->next++; /* a point where nothing could be preempted */
	int preempt = keep && v->nrunnable > 1 && s->next < s->nat && s->at[s->next] == v->steps;
	if (keep && !preempt)
		return prev;
	if (preempt)
		s->next++;
	for (;;) { /* a preemption draws another thread than prev */
		int t = v->runnable[rng_below(&s->rng, (uint64_t)v->nrunnable)];
		if (!preempt || t != prev)
			return t;
	}
}

void sample_init(struct sample *s, uint64_t seed, unsigned bound, uint64_t horizon)
{
	memset(s, 0, sizeof *s);
	rng_seed(&s->rng, seed);
	s->nat = bound < SAMPLE_MAX_BOUND ? bound : SAMPLE_MAX_BOUND;
	for (unsigned i = 0; i < s->nat; i++)
		s->at[i] = horizon ? rng_below(&s->rng, horizon) : 0;
	for (unsigned i = 1; i < s->nat; i++) /* insertion sort: a few points */
		for (unsigned j = i; j > 0 && s->at[j - 1] > s->at[j]; j--) {
			uint64_t x = s->at[j];
			s->at[j] = s->at[j - 1];
			s->at[j - 1] = x;
		}
	s->ex = (struct sched_explorer){.ctx = s, .step = sample_step, .choose = sample_choose};
}

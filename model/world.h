/* model/world.h — one simulated run of a scenario: kernel + handler + guests.
 *
 * Contract: world_new() binds a parsed scenario, a handler name and a
 * variant set; world_run() executes one schedule under the given scheduler
 * options and fills a verdict: the first invariant violated (checked after
 * every step), or none. A world is reused across runs (scheduler and kernel
 * are reset, not reallocated). The same options give the same verdict and
 * the same step sink output, byte for byte. Verdict names are stable words:
 * stale-data, install-into-removed, tracker-disagrees, lost-wake, deadlock,
 * madvise-blocked, busy-spin, livelock, handler-exit, setup,
 * replay-diverged.
 */
#ifndef UFFDLAB_WORLD_H
#define UFFDLAB_WORLD_H

#include <stdint.h>

#include "sched/sched.h"
#include "scenarios/scenario.h"

struct world;

struct verdict {
	int violated;
	char name[32];
	char text[512];
	uint64_t steps;
	enum sched_result sres;
	char relaxed[128]; /* checks relaxed by a contract-breaking scenario */
};

struct world *world_new(const struct scenario *scn, const char *handler,
			uint64_t variants);
void world_free(struct world *w);
/* The kernel profile the next runs simulate (enum mk_kver, 0 = the
 * default 6.18; model/kernel.h). */
void world_set_kernel(struct world *w, int kver);
/* The retry cut for the next runs (model/kernel.h mk_set_retry_cut): a
 * run of the reducing search ends (SCHED_CUT, verdict not a verdict) at a
 * retried fill the uffd refuses again. Off unless set. */
void world_set_retry_cut(struct world *w, int on);
/* Run one schedule. sink (may be NULL) receives every step when
 * opts->labels is set. Returns 0, or -errno if the run could not start. */
int world_run(struct world *w, const struct sched_opts *opts,
	      sched_step_sink sink, void *sink_ctx, struct verdict *v);
/* The scheduler of the last run (choices, thread names), valid until the
 * next run. */
const sched_t *world_sched(const struct world *w);
/* A canonical digest of the last run's end: every page of the kernel
 * (present, WP, content), the handler's export and what every read got
 * (which read, what value), independent of the order they happened in.
 * Two schedules of one equivalence class give the same digest. */
uint64_t world_digest(const struct world *w);
/* Reducing runs (opts.explorer): the steps of the last run that changed
 * the handler's view of a page without declaring it (handler/sys.h); 0
 * for a handler that keeps its drf promise (handler/handler.h). */
uint64_t world_undeclared(const struct world *w);

#endif

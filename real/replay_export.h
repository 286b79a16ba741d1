/* real/replay_export.h — the export and dirty layers judged on hardware
 * for replay --real (docs/ORACLE.md "The export oracle", "The dirty
 * layer"), the same judgement as model/world.c check_export/check_dirty.
 *
 * Contract: rr_export_judge() restores a fresh guest image from the
 * replay's real snapshot plus the handler's export (views, taken over
 * [start, end] in trace-step time): a dirty page ships the guest
 * mapping's bytes (zeros where pagemap says absent), an unknown one the
 * snapshot's, removed/zero ones zeros. It classifies each restored page
 * (zeros, its snapshot, one scenario write) and judges it with the
 * simulator's oracle (INV_AT_EXPORT: tracker-disagrees, export-lost-write,
 * export-not-zero, export-stale). rr_dirty_judge() reads each page's
 * pagemap entry (present, bit 57 uffd-WP: under WP_ASYNC "not written
 * since protection", docs/KERNEL.md) and judges it against the guest's
 * writes (INV_AT_DIRTY: wp-written-clean, wp-unwritten-dirty). written
 * and writing are the replay's per-page facts, read under mu (which also
 * guards orc). Both return 1 with rep and the hardware evidence in ev
 * when an invariant broke, else 0. Called by a thread at its own step
 * (the turnstile keeps the others parked), so the guest mapping holds
 * still while it is read.
 */
#ifndef UFFDLAB_REAL_REPLAY_EXPORT_H
#define UFFDLAB_REAL_REPLAY_EXPORT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "handler/handler.h"
#include "model/invariant.h"
#include "real/harness.h"
#include "scenarios/scenario.h"

struct rr_exp {
	const struct scenario *scn;
	struct real_env *e;
	const struct oracle *orc;
	pthread_mutex_t *mu;
	const unsigned char *written, *writing;  /* SCN_MAX_PAGES each */
};

int rr_export_judge(const struct rr_exp *x, const enum hpage *views, uint64_t start,
		    uint64_t end, const char *when, int mid_run, struct inv_report *rep,
		    char *ev, size_t n);
int rr_dirty_judge(const struct rr_exp *x, int settled, const char *when,
		   struct inv_report *rep, char *ev, size_t n);

#endif

/* handler/tracker.h — the per-page state tracker of REF (docs/HANDLER.md 1.6).
 *
 * Contract: one state per page (enum page_state), NOT_PRESENT initially.
 * Each get/set is atomic on its own (as REF's tracker-internal mutex makes
 * it); exclusion between a worker's read-act-commit and a REMOVE batch is the
 * handler's settle lock, not the tracker's business. tracker_init returns 0
 * or -ENOMEM. No scheduling points: the tracker is plain memory; with sys
 * set, every get and set declares its access (sys_shared, SYS_SHARED_PAGE)
 * so that a reducing search orders them even where no lock does (a
 * worker's unlocked hint, two workers under the read lock).
 * tracker_peek() declares nothing: for an observer that declares its own
 * read (the oracle's page_view between steps). */
#ifndef UFFDLAB_TRACKER_H
#define UFFDLAB_TRACKER_H

#include <stdint.h>

#include "sys.h"

/* Page tracker states (REF, docs/HANDLER.md 1.6). */
enum page_state {
	PAGE_NOT_PRESENT = 0,
	PAGE_DIRTY = 1,
	PAGE_ZERO = 2,
};

struct tracker {
	uint64_t pages;
	unsigned char *state; /* accessed with __atomic builtins */
	sys_t *sys;           /* where accesses are declared; NULL: nowhere */
};

int tracker_init(struct tracker *t, uint64_t pages);
void tracker_fini(struct tracker *t);
enum page_state tracker_get(const struct tracker *t, uint64_t page);
enum page_state tracker_peek(const struct tracker *t, uint64_t page);
void tracker_set(struct tracker *t, uint64_t page, enum page_state s);
/* Pages [first, last) := s; pages past the end are ignored. */
void tracker_set_range(struct tracker *t, uint64_t first, uint64_t last,
		       enum page_state s);
const char *page_state_name(enum page_state s);

#endif

/* real/hw_oracle.h — the oracle's facts from what hardware showed.
 *
 * Contract: shared by the two hardware backends (real/stress.c, which
 * defines these, and real/replay_real.c) so that a read on hardware is
 * mapped to a content tag and judged the one way. Apart from stress.h
 * because it needs <pthread.h>, which clashes with sched/sched.h.
 */
#ifndef UFFDLAB_REAL_HW_ORACLE_H
#define UFFDLAB_REAL_HW_ORACLE_H

#include <pthread.h>
#include <stdint.h>

#include "model/invariant.h"
#include "scenarios/scenario.h"

/* What a guest read on hardware saw, as the oracle's content tag
 * (model/content.h): zeros, page's snapshot, the scenario write that
 * stores v into page, or INV_FOREIGN for bytes no operation wrote. Both
 * hardware backends (stress, replay --real) judge reads with it. */
uint64_t real_content_tag(const struct scenario *scn, int page, int content, uint8_t v);

/* The read layer's check of a hardware read of page as tag over [start,
 * end] (the backend's clock); mu guards orc, which writer threads share.
 * 1 with rep filled if an invariant broke, else 0. */
int real_check_read(const struct scenario *scn, const struct oracle *orc, pthread_mutex_t *mu,
		    const char *who, int page, uint64_t tag, uint64_t start, uint64_t end,
		    struct inv_report *rep);

#endif

/* real/confirm.h — a simulator finding, forced on the real kernel.
 *
 * Contract: real_confirm_copy_after_zap() re-creates on hardware, with a
 * fault barrier instead of a schedule, the interleaving the simulator found
 * in E2B's REF handler (zoo/b03-prefault-unlocked.scn seed 16, zoo/b01-stale-source.scn
 * seed 83): a worker holds the settle read lock with "snapshot" chosen; the
 * balloon's madvise(DONTNEED) of that page is started; once madvise has
 * returned (or after 500 ms if it is held up) the worker is released; after
 * both ended a fresh read of the page must see zeros. res->status is PASSED
 * (zeros), FAILED (why names what was read and the tracker state), or
 * SKIPPED (no userfaultfd / hugepages). Returns 0, or -errno on a usage
 * error. Every wait is bounded.
 */
#ifndef UFFDLAB_REAL_CONFIRM_H
#define UFFDLAB_REAL_CONFIRM_H

#include <stdint.h>

#include "real/shapes.h"

int real_confirm_copy_after_zap(const char *handler, uint64_t page_size,
				struct real_shape_result *res);

#endif

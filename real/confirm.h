/* real/confirm.h — a simulator finding replayed on the real kernel.
 *
 * Contract: real_confirm_replay() is `replay --real` of one stored trace,
 * once (real/replay_real.h): the trace's scenario, handler and variants
 * (none if fixed: the fix the variant reverses is back in), at page size
 * ps (0: the scenario's). 0, or -errno (res->why says why).
 *
 * real_confirm_copy_after_zap() is its copy-after-zap case: the
 * interleaving the simulator found in E2B's REF handler
 * (zoo/b03-prefault-unlocked.scn seed 16: the balloon's madvise returns while a
 * worker that chose "snapshot" under the settle read lock waits, then the
 * worker installs the snapshot into the removed page and the guest reads
 * it). For e2b-ref it replays REAL_CONFIRM_TRACE; for reference, the same
 * schedule of its read-gate reversal (REAL_CONFIRM_TRACE_FIXED) with the
 * read gate in. res->status is FAILED when the hardware confirmed the
 * trace's invariant (why: "confirmed NAME: evidence"), PASSED when it did
 * not (why: the verdict, and that no invariant broke), SKIPPED (no
 * userfaultfd / huge pages, or a handler without a stored trace). Paths
 * are relative to the source tree. Every wait is bounded.
 */
#ifndef UFFDLAB_REAL_CONFIRM_H
#define UFFDLAB_REAL_CONFIRM_H

#include <stdint.h>

#include "real/replay_real.h"
#include "real/shapes.h"

#define REAL_CONFIRM_TRACE "tests/golden/b03-prefault-unlocked-e2b-ref-random-16.trace"
#define REAL_CONFIRM_TRACE_FIXED "tests/replay/b03-prefault-unlocked-reference-no-read-gate-random-16.trace"

int real_confirm_replay(const char *trace_path, int fixed, uint64_t ps, struct rr_result *res);
int real_confirm_copy_after_zap(const char *handler, uint64_t page_size,
				struct real_shape_result *res);

#endif

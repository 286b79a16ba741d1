/* real/stress.h — a scenario file run on the real kernel, many times.
 *
 * Contract: real_stress_run() runs the scenario's threads as pthreads
 * against a real userfaultfd and the named handler, `iterations` times,
 * each on a fresh region, and checks what the simulator's oracle checks
 * where hardware lets it: every guest read against the per-page sequential
 * spec (model/oracle.h; operations are ordered by a global sequence of
 * start and end ticks, i.e. real time), a final read of every page, a page
 * the tracker marks removed holding data, a guest operation that never ends
 * (lost-wake, after 10 s), and the handler exiting where the scenario does
 * not allow it. It stops at the first violation. Scenarios using unmap,
 * remap or fork, or WP without WP_ASYNC, are skipped with the reason.
 * Returns 0 (res filled) or -errno on a usage error.
 */
#ifndef UFFDLAB_REAL_STRESS_H
#define UFFDLAB_REAL_STRESS_H

#include <stdint.h>

#include "scenarios/scenario.h"

struct real_stress_result {
	uint64_t iterations;  /* completed */
	uint64_t ops;         /* guest operations run */
	int skipped;          /* the machine or the scenario cannot */
	int violated;
	char name[32];        /* verdict name, as model/world.h's */
	char text[512];       /* or the skip reason */
	double ms;
};

int real_stress_run(const struct scenario *scn, const char *handler,
		    uint64_t variants, uint64_t iterations,
		    struct real_stress_result *res);

#endif

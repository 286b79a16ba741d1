/* real/replay_real.h — a simulator trace replayed on the real kernel.
 *
 * Contract: real_replay_run() runs the trace's scenario, handler and
 * variants on the real backend (real/harness.h), one real thread per
 * simulated thread (numbered as the trace's thread table: scenario threads
 * by name, handler threads by the spawn events), and lets them pass their
 * scheduling points in the trace's order (real/turnstile.h). The same
 * oracle as the simulator's judges what the hardware did (reads against
 * the sequential spec in trace-step time, installs against the handler's
 * view, the export against pagemap, backoffs and stuck threads from
 * /proc). The result is CONFIRMED (the trace's invariant broke on
 * hardware; evidence says how), NOT_REPRODUCED (the schedule was followed
 * and it did not; obs names the first step whose real observation differs
 * from the simulated one), DIVERGED (the kernel would not follow: step and
 * why), SKIPPED (no userfaultfd / huge pages, or a trace this replay
 * cannot follow), or NOT_APPLICABLE (replayed at 2 MiB, the trace installs
 * with UFFDIO_ZEROPAGE, which hugetlb lacks: docs/KERNEL.md rule 30; nothing is run;
 * or a 2 MiB trace replayed at 4 KiB diverged where it zero-fills with a
 * COPY of zeros and the handler made a ZEROPAGE: why names the page size
 * and the step). Nothing is left behind: threads ended, uffd closed,
 * memory unmapped, huge pages given back. Every wait is bounded (stall_ms
 * per step). A scenario `unmap` is a real munmap (EVENT_UNMAP registered
 * with `features unmap`); a scenario `exit` is not run (the guests share
 * this process): its other guests, parked or asleep in faults, are taken
 * out of the trace at its step, and a later fill whose result differs
 * from the trace's (the simulator's mm is dead there) is DIVERGED.
 * Returns 0, or -errno on a usage error.
 */
#ifndef UFFDLAB_REAL_REPLAY_REAL_H
#define UFFDLAB_REAL_REPLAY_REAL_H

#include <stdint.h>

#include "real/rts_plan.h"
#include "scenarios/scenario.h"

enum rr_verdict {
	RR_CONFIRMED = 1,
	RR_NOT_REPRODUCED,
	RR_DIVERGED,
	RR_SKIPPED,
	RR_NOT_APPLICABLE,       /* the trace makes a call the page size lacks */
	RR_NVERDICTS
};

struct rr_opts {
	const struct scenario *scn;
	const char *handler;
	uint64_t variants;
	const struct rts_plan *plan;
	const char *violation;   /* the trace's "name: text", or NULL */
	uint64_t page_size;      /* 0: the scenario's; 2 MiB: hugetlb */
	int stall_ms;            /* 0: 1000 */
};

struct rr_result {
	enum rr_verdict v;
	char name[48];           /* the invariant broken on hardware, or "" */
	char evidence[1024];     /* CONFIRMED: what the hardware showed */
	long step;               /* DIVERGED: the step; else -1 */
	char why[512];           /* DIVERGED / SKIPPED: why */
	long obs_step;           /* first step observed otherwise, or -1 */
	char obs[256];
	char window[1024];       /* rule 25 windows: held, or not reachable and why; or "" */
	double ms;
};

const char *rr_verdict_name(enum rr_verdict v);
int real_replay_run(const struct rr_opts *o, struct rr_result *res);

#endif

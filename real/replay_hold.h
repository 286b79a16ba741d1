/* real/replay_hold.h — the rule-25 windows of a trace, held on hardware
 * for replay --real (docs/KERNEL.md rule 25, docs/DESIGN.md).
 *
 * Contract: rr_hold_plan() finds the trace's windows the kernel closes at
 * once, each madvise woken by its REMOVE's read (up to RR_MAX_WINDOWS, in
 * trace order): early (fills between a REMOVE's read and its madvise's
 * resume, which the simulator failed with EAGAIN) or late (steps between
 * the resume and the zap). Each is held as below in its turn; the madvise
 * and guests of a window are moved onto the hold CPU at its read and off
 * it when it ends, so one window's threads never starve in another's. rr_hold_open() opens a CPU hold (real/hold.h)
 * and sets the turnstile's hooks: from the REMOVE's read the madvise
 * thread, which runs on the hold CPU only, is kept off it; for an early
 * window until the trace reaches the resume; for a late one, at the resume
 * a writer of the mm is started and madvise moved to the other CPUs,
 * where it lowers mmap_changing and then waits for the mm lock before its
 * zap (the turnstile takes the resume as done then); guests blocked in a
 * fault across the window run on the hold CPU too and are kept off it
 * until the step after the zap (a fill in the window wakes them; they must
 * retry after the zap, as in the trace). rr_hold_thread() pins or keeps
 * off the calling thread at its start. rr_hold_note() says what was held
 * or why a window was not (`window held on hardware` / `window not
 * reachable on hardware`). Thread-safe where it says so.
 */
#ifndef UFFDLAB_REAL_REPLAY_HOLD_H
#define UFFDLAB_REAL_REPLAY_HOLD_H

#include <pthread.h>
#include <stddef.h>

#include "real/hold.h"
#include "real/rts_plan.h"
#include "real/turnstile.h"

/* One rule-25 window: a madvise woken by the read of its REMOVE. */
struct rr_window {
	int early, late;
	size_t read, fill, resume, zap, first, last;
	int madvise_tid;
	size_t lock_step;                      /* a madvise in the late window */
	size_t retry_step;                     /* a guest's retried fault in it */
	unsigned char pin[RTS_MAX_THREADS];    /* guests kept with madvise */
	int nguests;
};

#define RR_MAX_WINDOWS 4

struct rr_hold {
	const struct rts_plan *p;
	struct rts *ts;
	struct real_hold *h;
	int late;                              /* a window is late */
	int nw;                                /* windows found */
	struct rr_window w[RR_MAX_WINDOWS];
	int madvise_tid;                       /* the first window's, -1: none */
	unsigned char pin[RTS_MAX_THREADS];    /* on the hold CPU from the start */
	size_t at[RTS_MAX_HOOKS];
	int kind[RTS_MAX_HOOKS], win[RTS_MAX_HOOKS], n;
	int err;                               /* after the run */
	double writer_ms[RR_MAX_WINDOWS];
	int writer_win;                        /* whose writer runs, or -1 */
	pthread_mutex_t mu;                    /* why */
	char why[160];                         /* why it cannot be had */
};

void rr_hold_plan(struct rr_hold *x, const struct rts_plan *p);
/* Before the run's threads start; the calling thread stays off the hold
 * CPU until rr_hold_close(). */
void rr_hold_open(struct rr_hold *x, struct rts *ts);
/* At a thread's start (any thread; thread-safe). */
void rr_hold_thread(struct rr_hold *x, int tid, const char *name);
/* After the run: the note into buf; 1 if a window went unheld. */
int rr_hold_note(struct rr_hold *x, struct rts *ts, int confirmed, char *buf, size_t n);
void rr_hold_close(struct rr_hold *x);

#endif

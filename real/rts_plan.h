/* real/rts_plan.h — a simulator trace as the replay turnstile follows it.
 *
 * Contract: rts_plan_build() reads a parsed trace (sched/trace.h, events of
 * model/event.h's schema) into plain per-step facts: the thread, the
 * events, whether the step sleeps in the simulator (and in what, as the
 * kernel shows it: docs/KERNEL.md rule 43) and at which step that thread
 * resumes, and the thread table of the header. The plan borrows the
 * trace's events: the trace must outlive it. Built from the typed events
 * only, never from a label. Here and not in turnstile.c because the
 * simulator's headers and <pthread.h> cannot meet in one file
 * (sched/sched.h declares its own sched_yield).
 */
#ifndef UFFDLAB_REAL_RTS_PLAN_H
#define UFFDLAB_REAL_RTS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "real/sys_real.h"
#include "sched/event.h"

#define RTS_MAX_THREADS 64

/* The event kinds the replay reads fields of: model/event.h's codes
 * (checked in rts_plan.c), for files that cannot include it. */
enum rts_kind {
	RK_ACCESS = 0, RK_FAULT = 1, RK_CHECKED_READ = 5, RK_POLL = 26,
	RK_ATOMIC_CAS = 48, RK_UFFD_READ = 49, RK_READ_PF = 50,
	RK_READ_REMOVE = 51, RK_READ_UNMAP = 52, RK_UFFD_COPY = 55, RK_UFFD_ZEROPAGE = 56,
	RK_SOURCE_READ = 59, RK_MADVISE = 15, RK_EV_RESUMED = 10,
	RK_WOKEN = 3,
};

enum rts_block {
	RTS_B_NONE = 0,
	RTS_B_FAULT,  /* asleep in handle_userfault */
	RTS_B_EVENT,  /* asleep in userfaultfd_event_wait_completion */
	RTS_B_SLEEP,  /* asleep anywhere (a futex, poll) */
};

struct rts_pstep {
	int tid;
	const struct sched_event *ev;
	size_t nev;
	const char *what;      /* first event's kind name, or "a bare point" */
	enum rts_block block;  /* the step's call sleeps in the simulator */
	size_t resume;         /* then: the thread's step where it resumes, or n */
	int ev_resumed, zap;   /* it holds these events */
	int spawn_child;       /* its spawn event's child, or -1 */
};

struct rts_plan {
	size_t n;
	struct rts_pstep *s;
	int nthreads;          /* 1 + the highest tid of the thread table */
	char names[RTS_MAX_THREADS][32];
	int kinds[RTS_MAX_THREADS]; /* 0: not in the table */
};

/* 0, or -1 with one line in err (a trace this replay cannot follow). */
int rts_plan_build(const void *trace, struct rts_plan *p, char *err, size_t n);
void rts_plan_free(struct rts_plan *p);
/* 1 if a call of op may make step s (its first event), else 0. */
int rts_plan_op_matches(const struct rts_pstep *s, enum sys_real_op op);
const char *rts_op_name(enum sys_real_op op);
/* The event of kind k (model/event.h) in step s, the last if several. */
const struct sched_event *rts_ev(const struct rts_pstep *s, int k);
/* The tid of the table's thread called name, or -1. */
int rts_plan_tid(const struct rts_plan *p, const char *name);

#endif

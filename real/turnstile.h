/* real/turnstile.h — real threads pass their scheduling points in the
 * order a simulator trace recorded (issue 9, docs/DESIGN.md "replay on
 * hardware").
 *
 * Contract: a turnstile is built from a trace's steps (thread id and typed
 * events per step, never the label). A participating thread attaches with
 * its simulated tid and then calls rts_enter() at every scheduling point
 * (the sys_real gate does it for sys calls; the replay runner for guest
 * accesses and madvise) and rts_leave() after the call. rts_enter() ends the
 * thread's current step and returns when the trace's next step is this
 * thread's; it checks that the step's first event is of the kind the call
 * makes (else: diverged). A step the trace shows blocking (a fault, a
 * madvise waiting on its REMOVE, a lock or poll that sleeps) is taken as
 * done when the kernel shows the thread asleep (docs/KERNEL.md rule 43:
 * /proc/self/task/TID stat S/D and wchan); the controller (rts_drive, run
 * by one thread that does not participate) watches for that. After a
 * blocking call returns, rts_leave() waits until the trace reaches the
 * step where the simulated thread resumed. Every wait is bounded: when the
 * trace does not move for stall_ms, the turnstile stops with the step and
 * what it waited for, and every thread passes freely from then on (so the
 * caller can tear the run down). Thread-safe; one turnstile per replay.
 */
#ifndef UFFDLAB_REAL_TURNSTILE_H
#define UFFDLAB_REAL_TURNSTILE_H

#include <stddef.h>
#include <stdint.h>

#include "real/rts_plan.h"
#include "real/sys_real.h"

struct rts;

enum rts_end {
	RTS_RUNNING = 0,
	RTS_ENDED,     /* every step of the trace was passed */
	RTS_DIVERGED,  /* a thread did something else than its step */
	RTS_STALLED,   /* the trace did not move within stall_ms */
	RTS_RELEASED,  /* rts_release(): the caller stopped following */
};

/* p is borrowed and must outlive the turnstile. 0 or -errno. */
int rts_new(const struct rts_plan *p, int stall_ms, struct rts **out);
void rts_free(struct rts *ts);

/* The calling thread is simulated thread tid (0 <= tid < RTS_MAX_THREADS)
 * from now on; rts_begin() then waits for its first step. */
int rts_attach(struct rts *ts, int tid);
void rts_begin(struct rts *ts);
/* The calling thread ends: its step is done. */
void rts_exit(struct rts *ts);
/* The child tid of the caller's current step's spawn event, or -1. */
int rts_spawn_child(struct rts *ts);
/* The caller's tid, or -1 when it does not participate. */
int rts_self(void);

/* Around a scheduling point of the calling thread (no-ops for a thread
 * that does not participate, and once the turnstile stopped). rts_enter
 * returns the step the call belongs to, or -1 when it runs freely. */
long rts_enter(struct rts *ts, enum sys_real_op op);
void rts_leave(struct rts *ts, enum sys_real_op op);
/* 1 once thread tid has exited (rts_exit). */
int rts_thread_done(struct rts *ts, int tid);
/* The guest process's exit on hardware (a trace's `exit`, which the
 * replay does not run: real/replay_real.h): thread tid, parked or asleep
 * in a fault, is out of the trace from now on. Its later steps (the kill
 * that ends its wait) are taken as done at once, it counts as ended, and
 * its calls pass freely when the teardown wakes it. Not the caller.
 * 0, or -EBUSY for a thread running its step (it cannot be stopped there). */
int rts_kill(struct rts *ts, int tid);
int rts_thread_killed(struct rts *ts, int tid);
/* 1 while thread tid sleeps in a step the trace shows blocking. */
int rts_thread_blocked(struct rts *ts, int tid);
/* Thread tid, asleep in a step the trace shows blocking, was seen
 * runnable (woken; a hook that kept it off the CPU saw it): if its resume
 * step faults again, that step is done when it sleeps in a fault again. */
void rts_mark_awake(struct rts *ts, int tid);
/* A blocking lock call of the caller took its lock on hardware (a futex
 * wake hands the woken waiter the lock, where the simulator's unlocker may
 * retake it first): 1 while the trace has not reached the step where the
 * caller's simulated thread wakes, and then the caller gives the lock back
 * and calls rts_await_turn() before taking it again; else 0. */
int rts_lock_early(struct rts *ts);
void rts_await_turn(struct rts *ts);
/* The kernel tid of thread tid, or 0. */
int rts_thread_ktid(struct rts *ts, int tid);

/* Run the controller until the turnstile ends, diverges, stalls or is
 * released; returns how it ended. */
enum rts_end rts_drive(struct rts *ts);
/* Hooks: the controller calls fn(ctx, i) when the trace reaches step
 * at[i] (ascending, at most RTS_MAX_HOOKS), before any thread runs that
 * step, and fn(ctx, -1) when the turnstile ends (to undo them). A hook
 * returns 0 or -errno; after a failure the later hooks do not run. Set
 * before rts_drive. */
#define RTS_MAX_HOOKS 16
void rts_set_hooks(struct rts *ts, const size_t *at, int n, int (*fn)(void *, int), void *ctx);
/* How many hooks ran; *err (may be NULL) the first failure, or 0. */
int rts_hooks_fired(struct rts *ts, int *err);
/* Step s is a madvise's resume that the replay holds before the zap (a
 * writer of the mm keeps it from the zap): it is done once the thread
 * sleeps other than in its event wait, not when madvise returned. One
 * call per held window, at most RTS_MAX_LATE, before rts_drive. */
#define RTS_MAX_LATE 8
void rts_set_late_resume(struct rts *ts, size_t s);

/* Stop following the trace (a verdict is in, or teardown): every thread
 * passes freely. Idempotent; does not override an earlier end. */
void rts_release(struct rts *ts);
/* Stop following the trace, blaming step (diverged). why is copied. */
void rts_diverge(struct rts *ts, long step, const char *why);
/* How it ended, the step named (or -1) and why; the step reached. */
enum rts_end rts_result(struct rts *ts, long *step, char *why, size_t n);
size_t rts_cur(struct rts *ts);

/* /proc/self/task/KTID: 1 if it sleeps (S or D) and, if wchan is not
 * NULL, its wchan is that function; 0 if not; -errno if unreadable. */
int rts_task_sleeps(int ktid, const char *wchan);
/* The "pending:" count of fd's fdinfo (rule 43), or -errno. */
long rts_uffd_pending(int fd);

#endif

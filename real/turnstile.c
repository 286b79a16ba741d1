/* The replay turnstile: contract in real/turnstile.h. */
#include "real/turnstile.h"
#include "real/procfs.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>


/* A participant parked longer than this passes anyway: a turnstile whose
 * controller is gone must not hang its threads (every wait is bounded). */
#define PARK_CAP_MS 8000
#define WCHAN_FAULT "handle_userfault"
#define WCHAN_EVENT "userfaultfd_event_wait_completion"

enum tstate {
	T_NONE = 0, /* not attached yet */
	T_WAIT,     /* parked at a scheduling point */
	T_RUN,      /* running step `step` */
	T_BLOCKING, /* in a call its step shows blocking; not yet seen asleep */
	T_BLOCKED,  /* seen asleep; the trace resumes it at step `resume` */
	T_DONE,
};

struct rts_thread {
	enum tstate st;
	int ktid;
	size_t step;          /* T_RUN: the step; T_BLOCK*: the blocking step */
	size_t resume;        /* T_BLOCK*: the step where it resumes, or n */
	const char *wchan;    /* T_BLOCKING: what the kernel must show, "" any */
	int awake;            /* T_BLOCKED: seen runnable since (rts_mark_awake) */
	int killed;           /* rts_kill: out of the trace, passes freely */
};

struct rts {
	pthread_mutex_t mu;
	pthread_cond_t cv;    /* CLOCK_MONOTONIC; any change */
	const struct rts_plan *p;
	size_t n, cur;
	int stall_ms;
	enum rts_end end;
	int released;
	long end_step;
	char why[384];
	struct rts_thread th[RTS_MAX_THREADS];
	/* rts_set_hooks: fn(ctx, i) when the trace reaches step at[i] */
	size_t hook_at[RTS_MAX_HOOKS];
	int nhooks, hooks_fired, hook_err;
	int (*hook)(void *, int);
	void *hook_ctx;
	size_t late_resume[RTS_MAX_LATE]; /* rts_set_late_resume */
	int nlate;
};

static _Thread_local int tls_tid = -1;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait on the turnstile's cv for at most ms (callers loop on their
 * condition; a timeout is not an error). */
static void wait_ms(struct rts *ts, long ms)
{
	struct timespec d;
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_nsec += ms * 1000000L;
	d.tv_sec += d.tv_nsec / 1000000000L;
	d.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&ts->cv, &ts->mu, &d);
}

int rts_new(const struct rts_plan *p, int stall_ms, struct rts **out)
{
	struct rts *ts = calloc(1, sizeof *ts);
	if (!ts)
		return -ENOMEM;
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int e = pthread_cond_init(&ts->cv, &a);
	pthread_condattr_destroy(&a);
	if (e || pthread_mutex_init(&ts->mu, NULL)) {
		if (!e)
			pthread_cond_destroy(&ts->cv);
		free(ts);
		return -ENOMEM;
	}
	ts->p = p;
	ts->n = p->n;
	ts->stall_ms = stall_ms > 0 ? stall_ms : 1000;
	ts->end_step = -1;
	*out = ts;
	return 0;
}

void rts_free(struct rts *ts)
{
	if (!ts)
		return;
	pthread_cond_destroy(&ts->cv);
	pthread_mutex_destroy(&ts->mu);
	free(ts);
}

static const struct rts_pstep *step_at(const struct rts *ts, size_t s)
{
	return &ts->p->s[s];
}

/* The next step of thread tid after s, or n. */
static size_t next_of(const struct rts *ts, int tid, size_t s)
{
	for (size_t i = s + 1; i < ts->n; i++)
		if (step_at(ts, i)->tid == tid)
			return i;
	return ts->n;
}

/* --- ending ---------------------------------------------------------- */

/* First end wins; everyone is woken to run freely. Under mu. */
static void end_locked(struct rts *ts, enum rts_end how, long step, const char *why)
{
	if (ts->end == RTS_RUNNING) {
		ts->end = how;
		ts->end_step = step;
		snprintf(ts->why, sizeof ts->why, "%s", why ? why : "");
	}
	pthread_cond_broadcast(&ts->cv);
}

/* Threads pass freely: the caller released them, or following failed. */
static int stopped(const struct rts *ts)
{
	return ts->released || (ts->end != RTS_RUNNING && ts->end != RTS_ENDED);
}

void rts_release(struct rts *ts)
{
	pthread_mutex_lock(&ts->mu);
	ts->released = 1;
	end_locked(ts, RTS_RELEASED, -1, NULL);
	pthread_mutex_unlock(&ts->mu);
}

void rts_diverge(struct rts *ts, long step, const char *why)
{
	pthread_mutex_lock(&ts->mu);
	end_locked(ts, RTS_DIVERGED, step, why);
	pthread_mutex_unlock(&ts->mu);
}

enum rts_end rts_result(struct rts *ts, long *step, char *why, size_t n)
{
	pthread_mutex_lock(&ts->mu);
	enum rts_end e = ts->end;
	if (step)
		*step = ts->end_step;
	if (why)
		snprintf(why, n, "%s", ts->why);
	pthread_mutex_unlock(&ts->mu);
	return e;
}

size_t rts_cur(struct rts *ts)
{
	pthread_mutex_lock(&ts->mu);
	size_t c = ts->cur;
	pthread_mutex_unlock(&ts->mu);
	return c;
}

/* --- participants ---------------------------------------------------- */

int rts_self(void)
{
	return tls_tid;
}

int rts_attach(struct rts *ts, int tid)
{
	if (tid < 0 || tid >= RTS_MAX_THREADS)
		return -EINVAL;
	pthread_mutex_lock(&ts->mu);
	int busy = ts->th[tid].st != T_NONE;
	if (!busy) {
		ts->th[tid].st = T_WAIT;
		ts->th[tid].ktid = (int)syscall(SYS_gettid);
	}
	pthread_cond_broadcast(&ts->cv);
	pthread_mutex_unlock(&ts->mu);
	if (busy)
		return -EEXIST;
	tls_tid = tid;
	return 0;
}

/* The caller's running step is done. Under mu. */
static void commit_locked(struct rts *ts, struct rts_thread *me)
{
	if (me->st == T_RUN && ts->cur == me->step && ts->cur < ts->n) {
		ts->cur++;
		pthread_cond_broadcast(&ts->cv);
	}
	me->st = T_WAIT;
}

/* Park until the current step is tid's (1), or the turnstile stopped or
 * the cap passed (0). Under mu. */
static int park_locked(struct rts *ts, int tid)
{
	uint64_t t0 = now_ms();
	while (!stopped(ts) && !ts->th[tid].killed && now_ms() - t0 < PARK_CAP_MS) {
		/* a step with a hook waits until the hook has run */
		int unheld = ts->hooks_fired < ts->nhooks &&
			     ts->cur == ts->hook_at[ts->hooks_fired];
		if (ts->cur < ts->n && step_at(ts, ts->cur)->tid == tid && !unheld)
			return 1;
		wait_ms(ts, 20);
	}
	return 0;
}

void rts_begin(struct rts *ts)
{
	int me = tls_tid;
	if (me < 0)
		return;
	pthread_mutex_lock(&ts->mu);
	if (park_locked(ts, me)) {
		ts->th[me].st = T_RUN;
		ts->th[me].step = ts->cur;
	}
	pthread_mutex_unlock(&ts->mu);
}

void rts_exit(struct rts *ts)
{
	int me = tls_tid;
	if (me < 0)
		return;
	pthread_mutex_lock(&ts->mu);
	if (!ts->th[me].killed)
		commit_locked(ts, &ts->th[me]);
	ts->th[me].st = T_DONE;
	pthread_cond_broadcast(&ts->cv);
	pthread_mutex_unlock(&ts->mu);
	tls_tid = -1;
}

int rts_spawn_child(struct rts *ts)
{
	int me = tls_tid, child = -1;
	if (me < 0)
		return -1;
	pthread_mutex_lock(&ts->mu);
	const struct rts_thread *t = &ts->th[me];
	if (t->st == T_RUN && t->step < ts->n)
		child = step_at(ts, t->step)->spawn_child;
	pthread_mutex_unlock(&ts->mu);
	return child;
}

/* The step tid is to run is s: does op match it? 0, or diverged. */
static int check_kind(struct rts *ts, int tid, size_t s, enum sys_real_op op)
{
	if (rts_plan_op_matches(step_at(ts, s), op))
		return 0;
	char why[256];
	snprintf(why, sizeof why,
		 "step %zu: %s does %s on hardware, the trace's step has %s", s,
		 ts->p->names[tid], rts_op_name(op), step_at(ts, s)->what);
	end_locked(ts, RTS_DIVERGED, (long)s, why);
	return -1;
}

long rts_enter(struct rts *ts, enum sys_real_op op)
{
	int me = tls_tid;
	if (me < 0)
		return -1;
	long step = -1;
	pthread_mutex_lock(&ts->mu);
	struct rts_thread *t = &ts->th[me];
	if (t->killed)
		goto out;
	commit_locked(ts, t);
	for (;;) {
		if (!park_locked(ts, me))
			goto out;
		/* a bare step (a wake-up in the simulator) where the call is
		 * not a bare point: it passes, in its place in the order (dup
		 * is a bare step in the simulator too: a label, no event) */
		if (op != SYS_REAL_OP_YIELD && op != SYS_REAL_OP_BLOCK &&
		    op != SYS_REAL_OP_DUP && op != SYS_REAL_OP_EXIT &&
		    step_at(ts, ts->cur)->nev == 0 && step_at(ts, ts->cur)->tid == me) {
			ts->cur++;
			pthread_cond_broadcast(&ts->cv);
			continue;
		}
		break;
	}
	if (check_kind(ts, me, ts->cur, op))
		goto out;
	step = (long)ts->cur;
	t->step = ts->cur;
	t->st = T_RUN;
	const struct rts_pstep *st = step_at(ts, ts->cur);
	if (st->block != RTS_B_NONE) {
		t->st = T_BLOCKING;
		t->resume = st->resume;
		t->wchan = st->block == RTS_B_FAULT ? WCHAN_FAULT :
			   st->block == RTS_B_EVENT ? WCHAN_EVENT : "";
		pthread_cond_broadcast(&ts->cv);
	}
out:
	pthread_mutex_unlock(&ts->mu);
	return step;
}

/* Thread me's blocking call returned: its steps up to the resume step
 * are the kernel's or the lock's; wait for the resume step and run it. */
static void resumed_locked(struct rts *ts, int me)
{
	struct rts_thread *t = &ts->th[me];
	size_t e = t->resume;
	for (size_t p = next_of(ts, me, t->step); p < e && !stopped(ts);
	     p = next_of(ts, me, p)) {
		uint64_t t0 = now_ms();
		while (ts->cur < p && !stopped(ts) && now_ms() - t0 < PARK_CAP_MS)
			wait_ms(ts, 20);
		if (ts->cur == p) {
			ts->cur++;
			pthread_cond_broadcast(&ts->cv);
		}
	}
	t->st = T_WAIT;
	if (e < ts->n && park_locked(ts, me) && ts->cur == e) {
		t->st = T_RUN;
		t->step = e;
	}
}

void rts_leave(struct rts *ts, enum sys_real_op op)
{
	int me = tls_tid;
	if (me < 0)
		return;
	pthread_mutex_lock(&ts->mu);
	struct rts_thread *t = &ts->th[me];
	if (t->killed) {
		pthread_mutex_unlock(&ts->mu);
		return;
	}
	if (t->st == T_BLOCKING && !stopped(ts)) {
		char why[256];
		snprintf(why, sizeof why,
			 "step %zu: the trace has %s sleep in %s (%s), on hardware the call returned at once",
			 t->step, ts->p->names[me], rts_op_name(op), step_at(ts, t->step)->what);
		end_locked(ts, RTS_DIVERGED, (long)t->step, why);
	}
	if (t->st == T_BLOCKED)
		resumed_locked(ts, me);
	else if (t->st == T_BLOCKING)
		t->st = T_WAIT;
	pthread_mutex_unlock(&ts->mu);
}

int rts_lock_early(struct rts *ts)
{
	int me = tls_tid;
	if (me < 0)
		return 0;
	pthread_mutex_lock(&ts->mu);
	const struct rts_thread *t = &ts->th[me];
	int early = !stopped(ts) && t->st == T_BLOCKED && ts->cur < t->resume;
	pthread_mutex_unlock(&ts->mu);
	return early;
}

/* The steps before the resume are the other threads' or the controller's
 * (kernel_step passes a blocked thread's own ones): only wait. */
void rts_await_turn(struct rts *ts)
{
	int me = tls_tid;
	if (me < 0)
		return;
	pthread_mutex_lock(&ts->mu);
	const struct rts_thread *t = &ts->th[me];
	uint64_t t0 = now_ms();
	while (!stopped(ts) && t->st == T_BLOCKED && ts->cur < t->resume &&
	       now_ms() - t0 < PARK_CAP_MS)
		wait_ms(ts, 20);
	pthread_mutex_unlock(&ts->mu);
}

int rts_thread_done(struct rts *ts, int tid)
{
	pthread_mutex_lock(&ts->mu);
	int d = tid >= 0 && tid < RTS_MAX_THREADS &&
		(ts->th[tid].st == T_DONE || ts->th[tid].killed);
	pthread_mutex_unlock(&ts->mu);
	return d;
}

int rts_thread_blocked(struct rts *ts, int tid)
{
	pthread_mutex_lock(&ts->mu);
	int b = tid >= 0 && tid < RTS_MAX_THREADS && ts->th[tid].st == T_BLOCKED;
	pthread_mutex_unlock(&ts->mu);
	return b;
}

int rts_kill(struct rts *ts, int tid)
{
	int me = tls_tid;
	if (tid < 0 || tid >= RTS_MAX_THREADS || tid == me)
		return -EINVAL;
	pthread_mutex_lock(&ts->mu);
	struct rts_thread *t = &ts->th[tid];
	/* only a thread parked or asleep is out of the trace at once: one
	 * running its step would go on past the point the exit ends it at */
	int ok = t->st == T_NONE || t->st == T_WAIT || t->st == T_BLOCKED || t->st == T_DONE;
	if (ok && t->st != T_DONE)
		t->killed = 1;
	pthread_cond_broadcast(&ts->cv);
	pthread_mutex_unlock(&ts->mu);
	return ok ? 0 : -EBUSY;
}

int rts_thread_killed(struct rts *ts, int tid)
{
	pthread_mutex_lock(&ts->mu);
	int k = tid >= 0 && tid < RTS_MAX_THREADS && ts->th[tid].killed;
	pthread_mutex_unlock(&ts->mu);
	return k;
}

void rts_mark_awake(struct rts *ts, int tid)
{
	pthread_mutex_lock(&ts->mu);
	if (tid >= 0 && tid < RTS_MAX_THREADS && ts->th[tid].st == T_BLOCKED)
		ts->th[tid].awake = 1;
	pthread_mutex_unlock(&ts->mu);
}

int rts_thread_ktid(struct rts *ts, int tid)
{
	pthread_mutex_lock(&ts->mu);
	int k = tid >= 0 && tid < RTS_MAX_THREADS ? ts->th[tid].ktid : 0;
	pthread_mutex_unlock(&ts->mu);
	return k;
}

/* --- /proc ------------------------------------------------------------ */

int rts_task_sleeps(int ktid, const char *wchan)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", ktid);
	int e = real_read_small(path, buf, sizeof buf);
	if (e)
		return e;
	const char *p = strrchr(buf, ')'); /* comm may hold anything */
	if (!p || p[1] != ' ' || (p[2] != 'S' && p[2] != 'D'))
		return 0;
	if (!wchan || !*wchan)
		return 1;
	snprintf(path, sizeof path, "/proc/self/task/%d/wchan", ktid);
	if ((e = real_read_small(path, buf, sizeof buf)))
		return e;
	return strcmp(buf, wchan) == 0;
}

long rts_uffd_pending(int fd)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	int e = real_read_small(path, buf, sizeof buf);
	if (e)
		return e;
	const char *p = strstr(buf, "pending:");
	return p ? strtol(p + 8, NULL, 10) : -ENOENT;
}

/* --- the controller --------------------------------------------------- */

/* Step s is a madvise's resume held before its zap. Under mu. */
static int is_late(const struct rts *ts, size_t s)
{
	for (int i = 0; i < ts->nlate; i++)
		if (ts->late_resume[i] == s)
			return 1;
	return 0;
}

/* A thread in its blocking step, seen asleep as the step says: the step is
 * done. An intermediate step of a blocked thread is done at once (a bare
 * or re-sleeping one), or, for a madvise's resume and zap, when madvise
 * returned (the thread commits them in rts_leave). Under mu; mu is dropped while
 * /proc is read. 1 if the trace moved. */
static int kernel_step(struct rts *ts)
{
	size_t s = ts->cur;
	int tid = step_at(ts, s)->tid;
	struct rts_thread *t = &ts->th[tid];
	int ktid = t->ktid;
	if (t->killed) { /* its steps (the kill ending its wait) are the exit's */
		ts->cur++;
		pthread_cond_broadcast(&ts->cv);
		return 1;
	}
	if (t->st == T_BLOCKING && t->step == s) {
		const char *w = t->wchan;
		pthread_mutex_unlock(&ts->mu);
		int asleep = rts_task_sleeps(ktid, w) == 1;
		pthread_mutex_lock(&ts->mu);
		if (asleep && ts->cur == s && t->st == T_BLOCKING) {
			t->st = T_BLOCKED;
			ts->cur++;
			pthread_cond_broadcast(&ts->cv);
			return 1;
		}
		return 0;
	}
	/* a madvise held between its resume and its zap (rts_set_late_resume):
	 * resumed once it sleeps somewhere else than in its event wait */
	if (is_late(ts, s) && t->st == T_BLOCKED && s < t->resume) {
		pthread_mutex_unlock(&ts->mu);
		int waits = rts_task_sleeps(ktid, NULL) == 1 &&
			    rts_task_sleeps(ktid, WCHAN_EVENT) == 0;
		pthread_mutex_lock(&ts->mu);
		if (waits && ts->cur == s) {
			ts->cur++;
			pthread_cond_broadcast(&ts->cv);
			return 1;
		}
		return 0;
	}
	/* a fault woken and taken again in one access (its resume step faults
	 * anew): done once the thread, seen awake, sleeps in a fault again */
	if (t->st == T_BLOCKED && s == t->resume && t->awake &&
	    step_at(ts, s)->block == RTS_B_FAULT) {
		pthread_mutex_unlock(&ts->mu);
		int asleep = rts_task_sleeps(ktid, WCHAN_FAULT) == 1;
		pthread_mutex_lock(&ts->mu);
		if (asleep && ts->cur == s && t->st == T_BLOCKED) {
			t->step = s;
			t->resume = step_at(ts, s)->resume;
			t->awake = 0;
			ts->cur++;
			pthread_cond_broadcast(&ts->cv);
			return 1;
		}
		return 0;
	}
	/* ev_resumed: the woken madvise may not have run yet (state R, the
	 * counter still raised); it is done when madvise returned, which the
	 * thread itself reports (rts_leave) */
	if (t->st != T_BLOCKED || s >= t->resume || step_at(ts, s)->zap ||
	    step_at(ts, s)->ev_resumed)
		return 0;
	ts->cur++;
	pthread_cond_broadcast(&ts->cv);
	return 1;
}

/* Why the trace stands at step s: for the stall report. Under mu. */
static void describe(struct rts *ts, size_t s, char *buf, size_t n)
{
	int tid = step_at(ts, s)->tid;
	const struct rts_thread *t = &ts->th[tid];
	static const char *const st[] = {"was never started", "waits for its turn",
					 "runs its step", "is in a call the trace shows sleeping, not yet asleep",
					 "sleeps and has not resumed", "has ended"};
	char wchan[96] = "";
	if (t->ktid) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/task/%d/wchan", t->ktid);
		if (real_read_small(path, wchan, sizeof wchan))
			wchan[0] = 0;
	}
	snprintf(buf, n, "stalled at step %zu (%s, %s): the thread %s%s%s%s", s,
		 ts->p->names[tid], step_at(ts, s)->what, st[t->st], wchan[0] ? " (kernel wchan " : "", wchan,
		 wchan[0] ? ")" : "");
}

void rts_set_hooks(struct rts *ts, const size_t *at, int n, int (*fn)(void *, int), void *ctx)
{
	pthread_mutex_lock(&ts->mu);
	assert(n >= 0 && n <= RTS_MAX_HOOKS && ts->cur == 0);
	for (int i = 0; i < n; i++) {
		assert(at[i] < ts->n && (i == 0 || at[i] > at[i - 1]));
		ts->hook_at[i] = at[i];
	}
	ts->nhooks = n;
	ts->hook = fn;
	ts->hook_ctx = ctx;
	pthread_mutex_unlock(&ts->mu);
}

void rts_set_late_resume(struct rts *ts, size_t step)
{
	pthread_mutex_lock(&ts->mu);
	assert(ts->nlate < RTS_MAX_LATE && ts->cur == 0);
	ts->late_resume[ts->nlate++] = step;
	pthread_mutex_unlock(&ts->mu);
}

int rts_hooks_fired(struct rts *ts, int *err)
{
	pthread_mutex_lock(&ts->mu);
	int n = ts->hooks_fired;
	if (err)
		*err = ts->hook_err;
	pthread_mutex_unlock(&ts->mu);
	return n;
}

/* Run the next hook when the trace reached its step (or, end: the final
 * call, fn(ctx, -1)). Under mu; mu is dropped around the hook. A failed
 * hook stops the rest (the trace goes on without them). 1 if one ran. */
static int hook_step(struct rts *ts, int end)
{
	int i = ts->hooks_fired;
	if (!ts->hook || (!end && (i >= ts->nhooks || ts->cur != ts->hook_at[i])))
		return 0;
	if (end)
		ts->hooks_fired = ts->nhooks;
	pthread_mutex_unlock(&ts->mu);
	int rc = ts->hook(ts->hook_ctx, end ? -1 : i);
	pthread_mutex_lock(&ts->mu);
	if (!end) {
		ts->hooks_fired = rc ? ts->nhooks : i + 1;
		ts->hook_err = rc ? rc : ts->hook_err;
	}
	pthread_cond_broadcast(&ts->cv);
	return 1;
}

enum rts_end rts_drive(struct rts *ts)
{
	pthread_mutex_lock(&ts->mu);
	size_t seen = ts->cur;
	uint64_t since = now_ms();
	while (ts->end == RTS_RUNNING) {
		if (ts->cur >= ts->n) {
			end_locked(ts, RTS_ENDED, (long)ts->cur, NULL);
			break;
		}
		if (hook_step(ts, 0) || kernel_step(ts))
			continue;
		if (ts->cur != seen) {
			seen = ts->cur;
			since = now_ms();
		} else if (now_ms() - since > (uint64_t)ts->stall_ms) {
			char why[384];
			describe(ts, ts->cur, why, sizeof why);
			end_locked(ts, RTS_STALLED, (long)ts->cur, why);
			break;
		}
		/* /proc is polled every ~0.2 ms while a sleep is awaited */
		struct timespec d;
		clock_gettime(CLOCK_MONOTONIC, &d);
		d.tv_nsec += 200000;
		d.tv_sec += d.tv_nsec / 1000000000L;
		d.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&ts->cv, &ts->mu, &d);
	}
	if (ts->hook) /* the end: the hooks undo what they did */
		hook_step(ts, 1);
	enum rts_end e = ts->end;
	pthread_mutex_unlock(&ts->mu);
	return e;
}

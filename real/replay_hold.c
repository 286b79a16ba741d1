/* The rule-25 windows held on hardware: contract in real/replay_hold.h. */
#include "real/replay_hold.h"
#include "real/procfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The longest the hold CPU is kept (a window needs a few ms; the late one
 * as long as the mm writer works, ~50 ms per GiB here). */
#define HOLD_CAP_MS 400

enum { K_ON, K_OFF, K_LATE, K_LATE_OFF, K_RETRY, K_ZAP };

static void set_why(struct rr_hold *x, const char *why)
{
	pthread_mutex_lock(&x->mu);
	if (!x->why[0])
		snprintf(x->why, sizeof x->why, "%s", why);
	pthread_mutex_unlock(&x->mu);
}

/* The read of the REMOVE whose madvise resumes at step s (the message
 * ev_resumed names: another madvise's REMOVE may be read in between). */
static size_t read_before(const struct rts_plan *p, size_t s)
{
	const struct sched_event *res = rts_ev(&p->s[s], RK_EV_RESUMED);
	for (size_t rd = s; res && rd-- > 0;)
		for (size_t i = 0; i < p->s[rd].nev; i++)
			if (p->s[rd].ev[i].kind == RK_READ_REMOVE && p->s[rd].ev[i].f[0] == res->f[1])
				return rd;
	return p->n;
}

/* Guests asleep in a fault from before the read to after the zap. */
static void late_guests(const struct rts_plan *p, struct rr_window *w)
{
	for (size_t b = 0; b < w->read; b++)
		if (p->s[b].block == RTS_B_FAULT && p->s[b].resume > w->zap &&
		    p->s[b].resume < p->n && p->kinds[p->s[b].tid] == 1 && !w->pin[p->s[b].tid]) {
			w->pin[p->s[b].tid] = 1;
			w->nguests++;
		}
}

/* The window of the madvise that resumes at step s, if the kernel closes
 * it at once: 1 and *w filled, else 0. */
static int window_at(const struct rts_plan *p, size_t s, struct rr_window *w)
{
	memset(w, 0, sizeof *w);
	size_t rd = read_before(p, s);
	if (rd >= s)
		return 0;
	for (size_t f = rd + 1; f < s && !w->early; f++)
		if (p->s[f].tid != p->s[s].tid &&
		    (rts_ev(&p->s[f], RK_UFFD_COPY) || rts_ev(&p->s[f], RK_UFFD_ZEROPAGE))) {
			w->early = 1;
			w->fill = f;
		}
	size_t z = s + 1;
	while (z < p->n && p->s[z].tid != p->s[s].tid)
		z++;
	w->late = !p->s[s].zap && z > s + 1 && z < p->n && p->s[z].zap;
	/* a madvise in the window needs the mm lock the writer holds */
	for (size_t k = s + 1; w->late && k < z && !w->lock_step; k++)
		if (rts_ev(&p->s[k], RK_MADVISE))
			w->lock_step = k;
	if (!w->early && !w->late)
		return 0;
	/* a guest's fault retried inside the late window (not one kept off
	 * the CPU across it): on hardware it waits for the writer's lock */
	for (size_t k = s + 1; w->late && k < z && !w->retry_step; k++)
		if (rts_ev(&p->s[k], RK_WOKEN) && p->kinds[p->s[k].tid] == 1)
			w->retry_step = k;
	w->read = rd;
	w->resume = s;
	w->zap = z;
	w->first = s + 1;
	w->last = z - 1;
	w->madvise_tid = p->s[s].tid;
	if (w->late)
		late_guests(p, w);
	return 1;
}

static void find(struct rr_hold *x)
{
	const struct rts_plan *p = x->p;
	for (size_t s = 0; s < p->n && x->nw < RR_MAX_WINDOWS; s++)
		if (p->s[s].ev_resumed && window_at(p, s, &x->w[x->nw]))
			x->late |= x->w[x->nw++].late;
}

static void add_hook(struct rr_hold *x, size_t at, int kind, int w)
{
	x->at[x->n] = at;
	x->win[x->n] = w;
	x->kind[x->n++] = kind;
}

/* Window i's hooks, after the ones before it; 0, or -1 with why set. */
static int plan_window(struct rr_hold *x, int i)
{
	const struct rts_plan *p = x->p;
	const struct rr_window *w = &x->w[i];
	char why[160];
	if (w->lock_step) {
		snprintf(why, sizeof why, "step %zu (%s's madvise) takes the mm lock itself, which the writer that would hold %s there holds",
			 w->lock_step, p->names[p->s[w->lock_step].tid], p->names[w->madvise_tid]);
		set_why(x, why);
		return -1;
	}
	if ((x->n && w->read <= x->at[x->n - 1]) || x->n + 5 > RTS_MAX_HOOKS) {
		snprintf(why, sizeof why, "%s's window (REMOVE read at step %zu) overlaps the one before it, which holds the CPU then",
			 p->names[w->madvise_tid], w->read);
		set_why(x, why);
		return -1;
	}
	add_hook(x, w->read, K_ON, i);
	add_hook(x, w->resume, !w->late ? K_OFF : w->nguests ? K_LATE : K_LATE_OFF, i);
	if (w->late && w->retry_step)
		add_hook(x, w->retry_step, K_RETRY, i);
	if (w->late)
		add_hook(x, w->zap, K_ZAP, i); /* the window's steps are done */
	if (w->late && w->nguests && w->zap + 1 < p->n)
		add_hook(x, w->zap + 1, K_OFF, i);
	return 0;
}

void rr_hold_plan(struct rr_hold *x, const struct rts_plan *p)
{
	memset(x, 0, sizeof *x);
	pthread_mutex_init(&x->mu, NULL);
	x->p = p;
	x->madvise_tid = -1;
	x->writer_win = -1;
	find(x);
	if (!x->nw)
		return;
	x->madvise_tid = x->w[0].madvise_tid;
	for (int i = 0; i < x->nw; i++)
		if (plan_window(x, i)) {
			x->n = 0; /* a window unheld: the trace cannot be followed */
			return;
		}
	x->pin[x->madvise_tid] = 1;
	for (int t = 0; t < p->nthreads; t++)
		x->pin[t] |= x->w[0].pin[t];
}

/* Guests the hold kept off the CPU that a fill woke meanwhile: runnable
 * now, so the turnstile knows their next fault is a new one. */
static void mark_awake(struct rr_hold *x, const struct rr_window *w)
{
	for (int t = 0; t < x->p->nthreads; t++) {
		if (!w->pin[t] || t == w->madvise_tid)
			continue;
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/self/task/%d/stat", rts_thread_ktid(x->ts, t));
		const char *c = real_read_small(path, buf, sizeof buf) ? NULL : strrchr(buf, ')');
		if (c && c[1] == ' ' && c[2] == 'R')
			rts_mark_awake(x->ts, t);
	}
}

/* Window w's threads (madvise if with, its guests) onto or off the hold
 * CPU. 0, or -ESRCH with why set (for off, only a thread still there). */
static int move_window(struct rr_hold *x, const struct rr_window *w, int on, int with)
{
	for (int t = 0; t < x->p->nthreads; t++) {
		if (!(w->pin[t] || (with && t == w->madvise_tid)))
			continue;
		int kt = rts_thread_ktid(x->ts, t);
		/* off: a thread that ended meanwhile is off the CPU already */
		int rc = !kt ? -ESRCH : on ? real_hold_move_on(x->h, kt) : real_hold_move_off(x->h, kt);
		if (rc && (on || rc != -ESRCH)) {
			char why[96];
			snprintf(why, sizeof why, "%s could not be moved %s the hold CPU",
				 x->p->names[t], on ? "onto" : "off");
			set_why(x, why);
			return -ESRCH;
		}
	}
	return 0;
}

/* The last writer joined, its ms kept for its window's note. */
static void writer_done(struct rr_hold *x)
{
	double ms = real_hold_writer_wait(x->h);
	if (x->writer_win >= 0 && ms > 0)
		x->writer_ms[x->writer_win] = ms;
}

/* K_LATE*: the writer first; madvise, moved off the held CPU, then
 * lowers mmap_changing and waits for the mm lock before its zap. */
static int hook_late(struct rr_hold *x, int i)
{
	const struct rr_window *w = &x->w[x->win[i]];
	writer_done(x);
	x->writer_win = x->win[i];
	int rc = real_hold_writer_start(x->h);
	if (rc) {
		set_why(x, "no writer of the mm could be started");
		return rc;
	}
	struct rr_window m = {.madvise_tid = w->madvise_tid};
	if ((rc = move_window(x, &m, 0, 1)))
		return rc;
	if (x->kind[i] == K_LATE_OFF)
		real_hold_off(x->h);
	return 0;
}

/* K_RETRY: a guest's fault, woken in the late window, retried before the
 * zap. On hardware the retry takes mmap_lock (the arch fault handler
 * falls back from the per-VMA lock after VM_FAULT_RETRY), so it waits
 * behind the writer, queued after madvise, which waits there for its zap;
 * the writer's release grants both their read locks at once and the
 * first to run wins. So madvise goes back onto the hold CPU, kept off it
 * by the spinner, and the writer is boosted to finish: the guest's retry
 * runs alone, finds the page the fill installed, and only at the zap
 * step is madvise let go (K_ZAP). */
static int hook_retry(struct rr_hold *x, const struct rr_window *w)
{
	int rc = move_window(x, &(struct rr_window){.madvise_tid = w->madvise_tid}, 1, 1);
	if (!rc && !w->nguests) /* with guests pinned the spinner is on already */
		rc = real_hold_on(x->h);
	return rc ? rc : real_hold_writer_boost(x->h);
}

static int hook(void *ctx, int i)
{
	struct rr_hold *x = ctx;
	if (i < 0) {
		real_hold_off(x->h);
		writer_done(x);
		return 0;
	}
	pthread_mutex_lock(&x->mu);
	int failed = x->why[0] != 0;
	pthread_mutex_unlock(&x->mu);
	if (failed)
		return -EPERM;
	int wi = x->win[i], rc;
	const struct rr_window *w = &x->w[wi];
	switch (x->kind[i]) {
	case K_ON: /* the first window's threads were pinned at their start */
		if (wi > 0 && (rc = move_window(x, w, 1, 1)))
			return rc;
		return real_hold_on(x->h);
	case K_OFF:
		mark_awake(x, w);
		real_hold_off(x->h);
		return move_window(x, w, 0, !w->late);
	case K_RETRY:
		return hook_retry(x, w);
	case K_ZAP:
		if ((rc = real_hold_writer_boost(x->h)) || !w->retry_step)
			return rc;
		/* the retried fault is done: madvise may zap now */
		if (!w->nguests)
			real_hold_off(x->h);
		return move_window(x, &(struct rr_window){.madvise_tid = w->madvise_tid}, 0, 1);
	}
	rc = hook_late(x, i);
	if (!rc && x->kind[i] == K_LATE_OFF)
		rc = move_window(x, w, 0, 0);
	return rc;
}

void rr_hold_open(struct rr_hold *x, struct rts *ts)
{
	if (!x->n)
		return;
	if (real_hold_open(HOLD_CAP_MS, &x->h, x->why, sizeof x->why)) {
		x->n = 0;
		return;
	}
	if (real_hold_avoid(x->h))
		set_why(x, "keeping the replay off the hold CPU failed");
	/* the writer's range is made now, not inside the window (most of a
	 * second, once per process) */
	if (x->late && real_hold_writer_prepare())
		set_why(x, "no range for a writer of the mm could be mapped");
	x->ts = ts;
	rts_set_hooks(ts, x->at, x->n, hook, x);
	for (int i = 0; i < x->nw; i++)
		if (x->w[i].late)
			rts_set_late_resume(ts, x->w[i].resume);
}

void rr_hold_thread(struct rr_hold *x, int tid, const char *name)
{
	if (!x->h || tid < 0 || tid >= RTS_MAX_THREADS || !x->pin[tid])
		return;
	if (real_hold_pin(x->h)) {
		char why[96];
		snprintf(why, sizeof why, "pinning %s to CPU %d failed", name, real_hold_cpu(x->h));
		set_why(x, why);
	}
}

/* Who else the late hold kept off the CPU, for the note. */
static void guests(const struct rr_hold *x, const struct rr_window *w, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = 0;
	for (int t = 0; t < x->p->nthreads && k < n; t++)
		if (w->pin[t] && t != w->madvise_tid)
			k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "", x->p->names[t]);
}

/* What window i's hold did, into buf (one clause). */
static int held_clause(const struct rr_hold *x, int i, char *buf, size_t n)
{
	const struct rr_window *w = &x->w[i];
	const char *who = x->p->names[w->madvise_tid];
	char g[96];
	guests(x, w, g, sizeof g);
	if (w->early && !w->late)
		return snprintf(buf, n, "%s's madvise was kept off CPU %d (a SCHED_FIFO spinner ran there) from the REMOVE's read (step %zu) to its resume (step %zu), so the fill at step %zu met mmap_changing still raised, as in the simulator",
				who, real_hold_cpu(x->h), w->read, w->resume, w->fill);
	char rt[320] = "";
	if (w->retry_step)
		snprintf(rt, sizeof rt, "; step %zu (%s's fault, woken in the window, retried) needs the mm lock on hardware (a fault retried after handle_userfault takes mmap_lock, not the per-VMA lock): madvise was put back on the held CPU and the writer let go there, so the retry ran before the zap",
			 w->retry_step, x->p->names[x->p->s[w->retry_step].tid]);
	return snprintf(buf, n, "%s's madvise was kept off CPU %d from the REMOVE's read (step %zu) to its resume (step %zu), then held between lowering mmap_changing and its zap (step %zu) by a writer of its mm (an mprotect of %llu MiB of zero-page PTEs of its own, %.0f ms), so steps %zu-%zu ran in between%s%s%s%s",
			who, real_hold_cpu(x->h), w->read, w->resume, w->zap,
			(unsigned long long)(REAL_HOLD_WRITER_BYTES >> 20), x->writer_ms[i], w->first, w->last,
			g[0] ? "; " : "", g, g[0] ? " kept off the CPU until after the zap" : "", rt);
}

/* The first window whose hooks did not all run, or nw. */
static int first_unheld(const struct rr_hold *x, int fired)
{
	for (int i = 0; i < x->n; i++)
		if (i >= fired)
			return x->win[i];
	return x->nw;
}

static void unheld_note(const struct rr_hold *x, int i, int capped, int err, char *buf, size_t n)
{
	const struct rr_window *w = &x->w[i < x->nw ? i : 0];
	snprintf(buf, n, "window not reachable on hardware: steps %zu-%zu ran %s %s's resume (step %zu)%s in the simulator, and this replay could not hold it: %s (KERNEL.md rule 25)",
		 w->early ? w->fill : w->first, w->early ? w->fill : w->last,
		 w->early ? "between the REMOVE's read and" : "between", x->p->names[w->madvise_tid],
		 w->resume, w->early ? "" : " and its zap",
		 x->why[0] ? x->why : capped ? "the hold reached its cap before the trace moved on"
		 : err ? strerror(-err) : "the trace never reached the window");
}

int rr_hold_note(struct rr_hold *x, struct rts *ts, int confirmed, char *buf, size_t n)
{
	buf[0] = 0;
	if (x->madvise_tid < 0)
		return 0;
	int err = 0;
	int fired = x->n ? rts_hooks_fired(ts, &err) : 0;
	int capped = x->h && real_hold_capped(x->h);
	int held = x->n && fired == x->n && !err && !x->why[0] && !capped;
	if (!held) {
		int i = x->n ? first_unheld(x, fired) : 0;
		if (!confirmed || x->w[i < x->nw ? i : 0].early)
			unheld_note(x, i, capped, err, buf, n);
		return 1;
	}
	size_t k = (size_t)snprintf(buf, n, "window%s held on hardware: ", x->nw > 1 ? "s" : "");
	for (int i = 0; i < x->nw && k < n; i++) {
		if (x->nw > 1)
			k += (size_t)snprintf(buf + k, n - k, "%s%d) ", i ? "; " : "", i + 1);
		if (k < n)
			k += (size_t)held_clause(x, i, buf + k, n - k);
	}
	if (k < n)
		snprintf(buf + k, n - k, " (KERNEL.md rule%s 25)", x->late ? "s 21," : "");
	return 0;
}

void rr_hold_close(struct rr_hold *x)
{
	real_hold_close(x->h);
	x->h = NULL;
	pthread_mutex_destroy(&x->mu);
}

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

enum { K_ON, K_OFF, K_LATE, K_LATE_OFF };

static void set_why(struct rr_hold *x, const char *why)
{
	pthread_mutex_lock(&x->mu);
	if (!x->why[0])
		snprintf(x->why, sizeof x->why, "%s", why);
	pthread_mutex_unlock(&x->mu);
}

/* The read of the REMOVE that step s (its madvise's resume) follows. */
static size_t read_before(const struct rts_plan *p, size_t s)
{
	size_t rd = s;
	while (rd-- > 0 && !rts_ev(&p->s[rd], RK_READ_REMOVE))
		;
	return rd < s ? rd : p->n;
}

/* Guests asleep in a fault from before the read to after the zap. */
static void late_guests(struct rr_hold *x)
{
	const struct rts_plan *p = x->p;
	for (size_t b = 0; b < x->read; b++)
		if (p->s[b].block == RTS_B_FAULT && p->s[b].resume > x->zap &&
		    p->s[b].resume < p->n && p->kinds[p->s[b].tid] == 1) {
			x->pin[p->s[b].tid] = 1;
			x->nguests++;
		}
}

static void find(struct rr_hold *x)
{
	const struct rts_plan *p = x->p;
	for (size_t s = 0; s < p->n && !x->early && !x->late; s++) {
		if (!p->s[s].ev_resumed)
			continue;
		size_t rd = read_before(p, s);
		for (size_t f = rd + 1; rd < s && f < s && !x->early; f++)
			if (p->s[f].tid != p->s[s].tid &&
			    (rts_ev(&p->s[f], RK_UFFD_COPY) || rts_ev(&p->s[f], RK_UFFD_ZEROPAGE))) {
				x->early = 1;
				x->fill = f;
			}
		size_t z = s + 1;
		while (z < p->n && p->s[z].tid != p->s[s].tid)
			z++;
		x->late = !p->s[s].zap && z > s + 1 && z < p->n && p->s[z].zap;
		/* a madvise in the window needs the mm lock the writer holds */
		for (size_t k = s + 1; x->late && k < z && !x->lock_step; k++)
			if (rts_ev(&p->s[k], RK_MADVISE))
				x->lock_step = k;
		if (x->early || x->late) {
			x->read = rd;
			x->resume = s;
			x->zap = z;
			x->first = s + 1;
			x->last = z - 1;
			x->madvise_tid = p->s[s].tid;
		}
	}
}

void rr_hold_plan(struct rr_hold *x, const struct rts_plan *p)
{
	memset(x, 0, sizeof *x);
	pthread_mutex_init(&x->mu, NULL);
	x->p = p;
	x->madvise_tid = -1;
	find(x);
	if (x->madvise_tid < 0 || x->read >= p->n)
		return;
	if (x->lock_step) {
		char why[160];
		snprintf(why, sizeof why, "step %zu (%s's madvise) takes the mm lock itself, which the writer that would hold %s there holds",
			 x->lock_step, p->names[p->s[x->lock_step].tid], p->names[x->madvise_tid]);
		set_why(x, why);
		return;
	}
	x->pin[x->madvise_tid] = 1;
	x->at[x->n] = x->read;
	x->kind[x->n++] = K_ON;
	if (x->late)
		late_guests(x);
	x->at[x->n] = x->resume;
	x->kind[x->n++] = !x->late ? K_OFF : x->nguests ? K_LATE : K_LATE_OFF;
	if (x->late && x->nguests && x->zap + 1 < p->n) {
		x->at[x->n] = x->zap + 1;
		x->kind[x->n++] = K_OFF;
	}
}

/* Guests the hold kept off the CPU that a fill woke meanwhile: runnable
 * now, so the turnstile knows their next fault is a new one. */
static void mark_awake(struct rr_hold *x)
{
	for (int t = 0; t < x->p->nthreads; t++) {
		if (!x->pin[t] || t == x->madvise_tid)
			continue;
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/self/task/%d/stat", rts_thread_ktid(x->ts, t));
		const char *c = real_read_small(path, buf, sizeof buf) ? NULL : strrchr(buf, ')');
		if (c && c[1] == ' ' && c[2] == 'R')
			rts_mark_awake(x->ts, t);
	}
}

static int hook(void *ctx, int i)
{
	struct rr_hold *x = ctx;
	if (i < 0) {
		real_hold_off(x->h);
		x->writer_ms = real_hold_writer_wait(x->h);
		return 0;
	}
	pthread_mutex_lock(&x->mu);
	int failed = x->why[0] != 0;
	pthread_mutex_unlock(&x->mu);
	if (failed)
		return -EPERM;
	switch (x->kind[i]) {
	case K_ON:
		return real_hold_on(x->h);
	case K_OFF:
		mark_awake(x);
		real_hold_off(x->h);
		return 0;
	}
	/* K_LATE*: the writer first; madvise, moved off the held CPU, then
	 * lowers mmap_changing and waits for the mm lock before its zap */
	int rc = real_hold_writer_start(x->h);
	if (rc) {
		set_why(x, "no writer of the mm could be started");
		return rc;
	}
	int kt = rts_thread_ktid(x->ts, x->madvise_tid);
	if (!kt || real_hold_move_off(x->h, kt)) {
		set_why(x, "the madvise thread could not be moved off the hold CPU");
		return -ESRCH;
	}
	if (x->kind[i] == K_LATE_OFF)
		real_hold_off(x->h);
	return 0;
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
	if (x->late)
		rts_set_late_resume(ts, x->resume);
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
static void guests(const struct rr_hold *x, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = 0;
	for (int t = 0; t < x->p->nthreads && k < n; t++)
		if (x->pin[t] && t != x->madvise_tid)
			k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "", x->p->names[t]);
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
	const char *who = x->p->names[x->madvise_tid];
	char g[96];
	guests(x, g, sizeof g);
	if (held && x->early && !x->late)
		snprintf(buf, n, "window held on hardware: %s's madvise was kept off CPU %d (a SCHED_FIFO spinner ran there) from the REMOVE's read (step %zu) to its resume (step %zu), so the fill at step %zu met mmap_changing still raised, as in the simulator (KERNEL.md rule 25)",
			 who, real_hold_cpu(x->h), x->read, x->resume, x->fill);
	else if (held)
		snprintf(buf, n, "window held on hardware: %s's madvise was kept off CPU %d from the REMOVE's read (step %zu) to its resume (step %zu), then held between lowering mmap_changing and its zap (step %zu) by a writer of its mm (an mprotect of %llu MiB of zero-page PTEs of its own, %.0f ms), so steps %zu-%zu ran in between%s%s%s (KERNEL.md rules 21, 25)",
			 who, real_hold_cpu(x->h), x->read, x->resume, x->zap,
			 (unsigned long long)(REAL_HOLD_WRITER_BYTES >> 20), x->writer_ms, x->first, x->last,
			 g[0] ? "; " : "", g, g[0] ? " kept off the CPU until after the zap" : "");
	else if (!confirmed || x->early)
		snprintf(buf, n, "window not reachable on hardware: steps %zu-%zu ran %s %s's resume (step %zu)%s in the simulator, and this replay could not hold it: %s (KERNEL.md rule 25)",
			 x->early ? x->fill : x->first, x->early ? x->fill : x->last,
			 x->early ? "between the REMOVE's read and" : "between", who, x->resume,
			 x->early ? "" : " and its zap",
			 x->why[0] ? x->why : capped ? "the hold reached its cap before the trace moved on"
			 : err ? strerror(-err) : "the trace never reached the window");
	return !held;
}

void rr_hold_close(struct rr_hold *x)
{
	real_hold_close(x->h);
	x->h = NULL;
	pthread_mutex_destroy(&x->mu);
}

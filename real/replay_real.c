/* A simulator trace replayed on hardware: contract in real/replay_real.h.
 * The threads mirror model/world.c (harness, scenario threads, final
 * reads) so that their scheduling points are the simulator's. */
#include "real/replay_real.h"
#include "real/hw_oracle.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler/handler.h"
#include "model/content.h"
#include "model/invariant.h"
#include "model/oracle.h"
#include "real/harness.h"
#include "real/replay_export.h"
#include "real/replay_hold.h"
#include "real/snapshot.h"
#include "real/sys_real.h"
#include "real/turnstile.h"

/* The simulator's guest memory base (model/world.c BASE): trace addresses
 * are offsets from it. */
#define SIM_BASE 0x7f0000000000ull

struct rr_run;

struct rr_targ {
	struct rr_run *r;
	int idx, tid;
};

struct rr_run {
	const struct rr_opts *o;
	const struct scenario *scn;
	struct rr_result *res;
	struct rts *ts;
	struct real_env *e;
	uint64_t ps;
	pthread_mutex_t mu;       /* the oracle, done_ops, the result */
	pthread_cond_t cv;
	int done_ops[SCN_MAX_THREADS];
	struct oracle orc;
	uint64_t initial[SCN_MAX_PAGES];
	int read_locks[RTS_MAX_THREADS];
	int reader;               /* the tid that reads the uffd, or -1 */
	/* uffd calls on a number that was no open uffd (fd-after-close) */
	int bad_uffd_calls, bad_uffd_tid, bad_uffd_err;
	int violated;
	int setup_failed;
	int harness_done;
	struct rr_targ targs[SCN_MAX_THREADS];
	struct rr_hold hold;      /* rule 25's window, held (real/replay_hold.h) */
	/* the dirty layer's facts (model/world.c's): a guest write landed
	 * since the page's last install / is in flight; under mu */
	unsigned char written[SCN_MAX_PAGES], writing[SCN_MAX_PAGES];
	int paused;               /* the scenario paused the handler */
	/* a scenario thread's handler_pause/export/resume against the
	 * teardown's handler_stop: both join the serve loop, which one
	 * waiter only may do (a replay that stopped following tears down
	 * while a control thread may still be in its export) */
	pthread_mutex_t hmu;
	int hstopped, hstop_err;  /* under hmu */
	struct rr_exp exp;        /* real/replay_export.h */
	/* the guest process's exit (exit_op): its step, or -1 */
	long exit_step;
	/* model/world.c's exit excuse: a page the handler needed fails for
	 * good (on_source_fail, on_fault_read); under mu */
	int excused, fails_for_good;
	unsigned char fresh_fault[SCN_MAX_PAGES], fail_perm[SCN_MAX_PAGES];
	/* a scenario unmap's pages (model/world.c's unchecked): no guest
	 * access touches them again (SIGSEGV); under mu */
	unsigned char unmapped[SCN_MAX_PAGES];
	int nunmapped;
};

static _Thread_local long tls_step = -1;

static void violated(struct rr_run *r, const struct inv_report *rep, const char *extra)
{
	pthread_mutex_lock(&r->mu);
	if (!r->violated) {
		r->violated = 1;
		snprintf(r->res->name, sizeof r->res->name, "%s", rep->name);
		snprintf(r->res->evidence, sizeof r->res->evidence, "%s%s%s", rep->text,
			 extra && *extra ? "; " : "", extra ? extra : "");
	}
	pthread_mutex_unlock(&r->mu);
}

/* The first step whose real observation differs from the trace's. */
static void observed(struct rr_run *r, long step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void observed(struct rr_run *r, long step, const char *fmt, ...)
{
	pthread_mutex_lock(&r->mu);
	if (r->res->obs_step < 0 || step < r->res->obs_step) {
		r->res->obs_step = step;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->res->obs, sizeof r->res->obs, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&r->mu);
}

static uint64_t page_of_sim(const struct rr_run *r, int64_t addr)
{
	return ((uint64_t)addr - SIM_BASE) / r->scn->page_size;
}

/* The model tag of a page's bytes (model/content.h), INV_FOREIGN for
 * bytes no operation of the scenario makes. */

/* What a COPY source buffer holds, as a tag. */
static uint64_t buf_tag(const struct rr_run *r, const void *buf, uint64_t len)
{
	const uint64_t *w = buf;
	uint64_t n = len / 8;
	int zero = 1;
	for (uint64_t i = 0; i < n && zero; i++)
		zero = w[i] == 0;
	if (zero)
		return 0;
	const struct real_snapshot *s = r->e->r->snap;
	for (uint64_t p = 0; p < s->pages; p++)
		if (w[0] == real_snapshot_word(s, p, 0) &&
		    memcmp(buf, s->words + p * (s->page_size / 8), (size_t)len) == 0)
			return MK_SNAP(p);
	return INV_FOREIGN; /* handlers copy only snapshot pages and zeros */
}

/* --- the gate: checks at installs and backoffs, observations --------- */

static void check_install(struct rr_run *r, const struct sys_real_obs *ob, int zero)
{
	if (ob->res != 0 || ob->addr < r->e->r->base)
		return;
	int page = (int)((ob->addr - r->e->r->base) / r->ps);
	pthread_mutex_lock(&r->mu);
	for (uint64_t p = (uint64_t)page; p < r->e->r->pages && p * r->ps < ob->addr - r->e->r->base + ob->len; p++)
		r->written[p] = 0;
	pthread_mutex_unlock(&r->mu);
	uint64_t c = zero ? 0 : buf_tag(r, ob->buf, ob->len);
	struct inv_facts f = {.layer = INV_AT_INSTALL};
	f.u.install = (struct inv_install){
		.who = r->o->plan->names[rts_self()], .page = page, .content = c,
		.view = handler_page_view(r->e->h, (uint64_t)page)};
	struct inv_report rep;
	if (inv_check(&f, &rep)) {
		char ex[160];
		snprintf(ex, sizeof ex, "on hardware: UFFDIO_%s returned 0 at step %ld",
			 zero ? "ZEROPAGE" : "COPY", tls_step);
		violated(r, &rep, ex);
	}
	char ev[200];
	if (tls_step >= 0 && rr_dirty_judge(&r->exp, 0, "after an install", &rep, ev, sizeof ev))
		violated(r, &rep, ev);
}

/* A handler thread backs off: the simulator's INV_AT_BACKOFF facts, read
 * from the hardware (a balloon asleep in its event wait, the uffd's reader
 * asleep, the read locks the sleeper holds). */
static void check_backoff(struct rr_run *r)
{
	int me = rts_self();
	struct inv_facts f = {.layer = INV_AT_BACKOFF};
	struct inv_backoff *b = &f.u.backoff;
	b->sleeper = r->o->plan->names[me];
	pthread_mutex_lock(&r->mu);
	b->read_locks = r->read_locks[me];
	int reader = r->reader;
	pthread_mutex_unlock(&r->mu);
	if (b->read_locks <= 0)
		return;
	const struct rts_plan *p = r->o->plan;
	for (int t = 0; t < p->nthreads; t++) {
		int k = rts_thread_ktid(r->ts, t);
		if (p->kinds[t] == 2 && k && rts_task_sleeps(k, "userfaultfd_event_wait_completion") == 1)
			b->madvise_waiting = p->names[t];
	}
	b->reader_blocked = reader >= 0 && rts_thread_blocked(r->ts, reader) &&
			    rts_task_sleeps(rts_thread_ktid(r->ts, reader), NULL) == 1;
	struct inv_report rep;
	if (inv_check(&f, &rep))
		violated(r, &rep, "on hardware: the balloon's madvise sleeps in userfaultfd_event_wait_completion, the serve loop sleeps too");
}

static int g_enter(void *ctx, enum sys_real_op op)
{
	struct rr_run *r = ctx;
	if (op == SYS_REAL_OP_RDUNLOCK && rts_self() >= 0) {
		pthread_mutex_lock(&r->mu);
		r->read_locks[rts_self()]--;
		pthread_mutex_unlock(&r->mu);
	}
	tls_step = rts_enter(r->ts, op);
	if (op == SYS_REAL_OP_SLEEP && tls_step >= 0) {
		check_backoff(r);
		return 1; /* the order is imposed: a backoff means nothing */
	}
	return 0;
}

/* The trace's guest process has exited (exit_op). */
static int after_exit(struct rr_run *r)
{
	pthread_mutex_lock(&r->mu);
	int x = r->exit_step >= 0;
	pthread_mutex_unlock(&r->mu);
	return x;
}

/* model/world.c on_fault_read and on_source_fail, from what the hardware
 * returned: a fault message of a page read before any write or remove of
 * it, and a handler thread's read of a page whose source fails for good,
 * which excuses the handler's exit. Under mu. */
static void excuse_facts(struct rr_run *r, int me, enum sys_real_op op,
			 const struct sys_real_obs *ob)
{
	if (!r->fails_for_good)
		return;
	uint64_t now = rts_cur(r->ts);
	if (op == SYS_REAL_OP_UFFD_READ) {
		for (int64_t i = 0; i < ob->res; i++) {
			const struct uffd_msg *m = &ob->msgs[i];
			if (m->event != UFFD_EVENT_PAGEFAULT || m->arg.pagefault.address < r->e->r->base)
				continue;
			uint64_t p = (m->arg.pagefault.address - r->e->r->base) / r->ps;
			if (p < (uint64_t)r->scn->pages && !r->fresh_fault[p] &&
			    !oracle_mutated_before(&r->orc, (int)p, now))
				r->fresh_fault[p] = 1;
		}
		return;
	}
	if (op != SYS_REAL_OP_SOURCE_READ || ob->res != -EIO || r->o->plan->kinds[me] != 4)
		return;
	uint64_t p = ob->addr / r->ps;
	if (p >= (uint64_t)r->scn->pages || !r->fail_perm[p] || r->excused ||
	    handler_error(r->e->h))
		return;
	if (r->scn->contract != SCN_CONTRACT_BREAKS && !r->fresh_fault[p] &&
	    oracle_mutated_before(&r->orc, (int)p, now))
		return;
	r->excused = 1;
}

/* Compare a uffd read with the trace's: count and each message's kind and
 * page. */
static void compare_read(struct rr_run *r, const struct rts_pstep *s,
			 const struct sys_real_obs *ob)
{
	const struct sched_event *e = rts_ev(s, RK_UFFD_READ);
	if (!e)
		return;
	if (e->f[2] != ob->res) {
		observed(r, tls_step, "step %ld: uffd_read returned %lld on hardware, %lld in the simulator",
			 tls_step, (long long)ob->res, (long long)e->f[2]);
		return;
	}
	size_t m = 0;
	for (size_t i = 0; i < s->nev && ob->res > 0 && m < (size_t)ob->res; i++) {
		const struct sched_event *x = &s->ev[i];
		const struct uffd_msg *g = &ob->msgs[m];
		uint64_t got, want;
		if (x->kind == RK_READ_PF && g->event == UFFD_EVENT_PAGEFAULT) {
			got = (g->arg.pagefault.address - r->e->r->base) / r->ps;
			want = page_of_sim(r, x->f[1]);
		} else if (x->kind == RK_READ_REMOVE && g->event == UFFD_EVENT_REMOVE) {
			got = (g->arg.remove.start - r->e->r->base) / r->ps;
			want = page_of_sim(r, x->f[1]);
		} else if (x->kind == RK_READ_UNMAP && g->event == UFFD_EVENT_UNMAP) {
			got = (g->arg.remove.start - r->e->r->base) / r->ps;
			want = page_of_sim(r, x->f[1]);
		} else if (x->kind == RK_READ_PF || x->kind == RK_READ_REMOVE ||
			   x->kind == RK_READ_UNMAP) {
			observed(r, tls_step, "step %ld: message %zu is of another kind on hardware (event 0x%x)",
				 tls_step, m + 1, g->event);
			return;
		} else {
			continue;
		}
		if (got != want)
			observed(r, tls_step, "step %ld: message %zu names page %llu on hardware, %llu in the simulator",
				 tls_step, m + 1, (unsigned long long)got, (unsigned long long)want);
		m++;
	}
}

/* The result field of the step's first event, where it is one. */
static void compare(struct rr_run *r, enum sys_real_op op, const struct sys_real_obs *ob)
{
	if (tls_step < 0)
		return;
	const struct rts_pstep *s = &r->o->plan->s[tls_step];
	int k = -1, fi = 0;
	switch (op) {
	case SYS_REAL_OP_UFFD_READ:
		compare_read(r, s, ob);
		return;
	case SYS_REAL_OP_UFFD_COPY: k = RK_UFFD_COPY; fi = 4; break;
	case SYS_REAL_OP_UFFD_ZEROPAGE: k = RK_UFFD_ZEROPAGE; fi = 3; break;
	case SYS_REAL_OP_SOURCE_READ: k = RK_SOURCE_READ; fi = 1; break;
	case SYS_REAL_OP_ATOMIC_CAS: k = RK_ATOMIC_CAS; fi = 2; break;
	case SYS_REAL_OP_POLL: k = RK_POLL; fi = 1; break;
	default: return;
	}
	const struct sched_event *e = rts_ev(s, k);
	if (e && e->f[fi] != ob->res && after_exit(r) &&
	    (op == SYS_REAL_OP_UFFD_COPY || op == SYS_REAL_OP_UFFD_ZEROPAGE)) {
		char why[300];
		snprintf(why, sizeof why,
			 "step %ld: %s returned %lld on hardware, %lld in the simulator, whose guest process had exited at step %ld (not run on hardware: the mm lives on, KERNEL.md rule 44)",
			 tls_step, rts_op_name(op), (long long)ob->res, (long long)e->f[fi], r->exit_step);
		rts_diverge(r->ts, tls_step, why);
	} else if (e && e->f[fi] != ob->res) {
		observed(r, tls_step, "step %ld: %s returned %lld on hardware, %lld in the simulator",
			 tls_step, rts_op_name(op), (long long)ob->res, (long long)e->f[fi]);
	}
}

/* A handler's uffd call the kernel refused for its fd: EBADF (closed) or
 * ENOTTY (the number now names another file). */
static void note_bad_uffd_call(struct rr_run *r, int me, enum sys_real_op op, int64_t res)
{
	int uffd_op = op == SYS_REAL_OP_UFFD_READ || op == SYS_REAL_OP_UFFD_COPY ||
		      op == SYS_REAL_OP_UFFD_ZEROPAGE || op == SYS_REAL_OP_UFFD_WAKE ||
		      op == SYS_REAL_OP_UFFD_WP || op == SYS_REAL_OP_UFFD_UNREGISTER;
	if (!uffd_op || (res != -EBADF && res != -ENOTTY))
		return;
	if (!r->bad_uffd_calls++) {
		r->bad_uffd_tid = me;
		r->bad_uffd_err = (int)res;
	}
}

static void g_leave(void *ctx, enum sys_real_op op, const struct sys_real_obs *ob)
{
	struct rr_run *r = ctx;
	int me = rts_self();
	if (me >= 0) {
		pthread_mutex_lock(&r->mu);
		if (op == SYS_REAL_OP_RDLOCK)
			r->read_locks[me]++;
		if (op == SYS_REAL_OP_UFFD_READ)
			r->reader = me;
		note_bad_uffd_call(r, me, op, ob->res);
		excuse_facts(r, me, op, ob);
		pthread_mutex_unlock(&r->mu);
		if (op == SYS_REAL_OP_UFFD_COPY || op == SYS_REAL_OP_UFFD_ZEROPAGE)
			check_install(r, ob, op == SYS_REAL_OP_UFFD_ZEROPAGE);
		compare(r, op, ob);
	}
	rts_leave(r->ts, op);
}

static void *g_child(void *ctx)
{
	struct rr_run *r = ctx;
	return (void *)(intptr_t)(rts_spawn_child(r->ts) + 1);
}

static void g_child_begin(void *ctx, void *token)
{
	struct rr_run *r = ctx;
	int tid = (int)(intptr_t)token - 1;
	if (tid >= 0 && rts_attach(r->ts, tid) == 0)
		rts_begin(r->ts);
}

static void g_child_end(void *ctx, void *token)
{
	struct rr_run *r = ctx;
	(void)token;
	rts_exit(r->ts);
}

static int g_early(void *ctx)
{
	struct rr_run *r = ctx;
	return rts_lock_early(r->ts);
}

static void g_turn(void *ctx)
{
	struct rr_run *r = ctx;
	rts_await_turn(r->ts);
}

static const struct sys_real_gate rr_gate = {
	.enter = g_enter, .leave = g_leave, .child = g_child,
	.child_begin = g_child_begin, .child_end = g_child_end,
	.early = g_early, .turn = g_turn,
};


/* --- scenario threads (model/world.c scenario_thread) ---------------- */

/* A point of the calling thread whose wait the replay keeps in step (a
 * scenario op's `after`, a join of a scenario thread). Running freely, it
 * waits on cv instead, bounded. */
static void step_wait(struct rr_run *r)
{
	if (rts_enter(r->ts, SYS_REAL_OP_BLOCK) >= 0) {
		rts_leave(r->ts, SYS_REAL_OP_BLOCK);
		return;
	}
	struct timespec d;
	clock_gettime(CLOCK_REALTIME, &d);
	d.tv_nsec += 10000000;
	d.tv_sec += d.tv_nsec / 1000000000L;
	d.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&r->mu);
	pthread_cond_timedwait(&r->cv, &r->mu, &d);
	pthread_mutex_unlock(&r->mu);
}

/* The calling scenario thread died with the guest process (exit_op):
 * what it does from now on is not the trace's. */
static int killed(struct rr_run *r)
{
	return rts_self() >= 0 && rts_thread_killed(r->ts, rts_self());
}

static int page_unmapped(struct rr_run *r, int page)
{
	pthread_mutex_lock(&r->mu);
	int u = r->unmapped[page];
	pthread_mutex_unlock(&r->mu);
	return u;
}

/* model/world.c SCN_UNMAP: the pages are unchecked from the start (what
 * reads them is the guest's own doing), then munmap, which with EVENT_UNMAP
 * sleeps in its event wait until the handler reads the UNMAP. */
static int unmap_op(struct rr_run *r, const struct scn_op *op)
{
	pthread_mutex_lock(&r->mu);
	for (uint64_t p = op->a; p <= op->b; p++)
		r->unmapped[p] = 1;
	r->nunmapped++;
	pthread_mutex_unlock(&r->mu);
	rts_enter(r->ts, SYS_REAL_OP_MUNMAP);
	int err = killed(r) ? 0 : real_guest_unmap(r->e->r, op->a, op->b - op->a + 1);
	rts_leave(r->ts, SYS_REAL_OP_MUNMAP);
	return err;
}

/* A guest access at a scheduling point; for a read, its content tag and
 * the check against the spec (in trace-step time). */
static void guest_read(struct rr_run *r, const char *who, int page)
{
	uint64_t start = rts_cur(r->ts);
	long step = rts_enter(r->ts, SYS_REAL_OP_ACCESS);
	if (killed(r))
		return;
	if (page_unmapped(r, page)) { /* SIGSEGV in both: not made, not judged */
		rts_leave(r->ts, SYS_REAL_OP_ACCESS);
		return;
	}
	uint8_t v = 0;
	enum real_content c = real_guest_read(r->e->r, (uint64_t)page, 1, &v);
	rts_leave(r->ts, SYS_REAL_OP_ACCESS);
	if (killed(r))
		return; /* the exit ended it (its wait ended by the teardown) */
	uint64_t end = rts_cur(r->ts), tag = real_content_tag(r->scn, page, (int)c, v);
	long at = rts_cur(r->ts);
	if (step >= 0 && at < (long)r->o->plan->n) {
		const struct sched_event *e = rts_ev(&r->o->plan->s[at], RK_CHECKED_READ);
		if (e && (uint64_t)e->f[1] != tag)
			observed(r, at, "step %ld: %s read page %d as %s on hardware", at, who, page,
				 real_content_name(c));
	}
	struct inv_report rep;
	int bad = real_check_read(r->scn, &r->orc, &r->mu, who, page, tag, start, end, &rep);
	if (bad && step >= 0)
		violated(r, &rep, "the bytes were read from the guest mapping after the steps before it");
}

/* A write or remove of pages a..b, logged for the oracle around it. */
static int mutate(struct rr_run *r, int tidx, int oidx)
{
	const struct scn_op *op = &r->scn->threads[tidx].ops[oidx];
	int a = (int)op->a, b = op->kind == SCN_WRITE ? a : (int)op->b, h[SCN_MAX_PAGES];
	uint64_t val = op->kind == SCN_WRITE
			       ? MK_WRITE((uint64_t)tidx * SCN_MAX_OPS + (uint64_t)oidx + 1) : 0;
	pthread_mutex_lock(&r->mu);
	for (int p = a; p <= b; p++)
		h[p] = oracle_begin(&r->orc, p, val, rts_cur(r->ts));
	pthread_mutex_unlock(&r->mu);
	int err = 0;
	if (op->kind == SCN_WRITE) {
		pthread_mutex_lock(&r->mu);
		r->writing[a]++;
		pthread_mutex_unlock(&r->mu);
		rts_enter(r->ts, SYS_REAL_OP_ACCESS);
		if (!killed(r))
			real_guest_write(r->e->r, (uint64_t)a, (uint8_t)op->b);
		/* landed in the step it returned in, as the model's */
		pthread_mutex_lock(&r->mu);
		r->writing[a]--;
		r->written[a] = 1;
		pthread_mutex_unlock(&r->mu);
		rts_leave(r->ts, SYS_REAL_OP_ACCESS);
	} else {
		rts_enter(r->ts, SYS_REAL_OP_MADVISE);
		err = killed(r) ? 0 : real_guest_remove(r->e->r, (uint64_t)a, (uint64_t)(b - a + 1));
		pthread_mutex_lock(&r->mu);
		for (int p = a; p <= b && !err; p++)
			r->written[p] = 0; /* its write is gone with the page */
		pthread_mutex_unlock(&r->mu);
		rts_leave(r->ts, SYS_REAL_OP_MADVISE);
	}
	pthread_mutex_lock(&r->mu);
	for (int p = a; p <= b; p++)
		if (h[p] >= 0)
			oracle_end(&r->orc, h[p], rts_cur(r->ts));
	pthread_mutex_unlock(&r->mu);
	return err;
}

/* model/world.c do_prefetch: a page whose source read fails is skipped. */
static int prefetch(struct rr_run *r, int first, int last)
{
	sys_t *sys = r->e->sys;
	for (int p = first; p <= last; p++) {
		void *buf = sys->ops->buf_alloc(sys, r->ps);
		if (!buf)
			return -ENOMEM;
		int err = 0;
		if (sys->ops->source_read(sys, (uint64_t)p * r->ps, buf, r->ps) == 0)
			err = handler_prefault(r->e->h, (uint64_t)p, buf);
		sys->ops->buf_free(sys, buf, r->ps);
		if (err)
			return err;
	}
	return 0;
}

static int export_check(struct rr_run *r, const char *when, int mid_run);

/* model/world.c export_op: E2B's snapshot flow (pause, export, resume
 * unless the scenario had paused the handler); guests go on meanwhile. */
static int export_op(struct rr_run *r, int tidx)
{
	char when[64];
	snprintf(when, sizeof when, "the export by %s", r->scn->threads[tidx].name);
	int err = handler_pause(r->e->h);
	if (!err)
		err = export_check(r, when, 1);
	if (!err && !r->paused)
		err = handler_resume(r->e->h);
	return err;
}

static int handler_op(struct rr_run *r, int tidx, const struct scn_op *op)
{
	pthread_mutex_lock(&r->hmu);
	int err = 0;
	if (r->hstopped) {
		err = -ECANCELED; /* the teardown stopped the handler first */
	} else if (op->kind == SCN_EXPORT) {
		err = export_op(r, tidx);
	} else {
		r->paused = op->kind == SCN_PAUSE;
		err = r->paused ? handler_pause(r->e->h) : handler_resume(r->e->h);
	}
	pthread_mutex_unlock(&r->hmu);
	return err;
}

/* The guest process's exit (model/world.c SCN_EXIT, KERNEL.md rule 44)
 * is not run on hardware, whose guest threads share the replay's process:
 * at its step every other thread of the process, parked or asleep in a
 * fault, is taken out of the trace (rts_kill; the teardown's unregister
 * ends its wait), as do_exit's SIGKILL takes it out of its fault. What
 * the simulator's exit does besides, the mm's death (COPY, ZEROPAGE, WP
 * get ESRCH), is not had: a later fill whose result differs from the
 * trace's diverges (compare). A madvise in its event wait cannot be taken
 * out (on hardware only the process's death or the uffd's release ends
 * that wait): diverged. */
static int exit_op(struct rr_run *r, int tidx)
{
	long step = rts_enter(r->ts, SYS_REAL_OP_EXIT);
	const struct rts_plan *p = r->o->plan;
	for (int i = 0; i < r->scn->nthreads; i++) {
		int t = r->targs[i].tid;
		if (i == tidx || r->scn->threads[i].role == SCN_CONTROL || t < 0 ||
		    rts_thread_done(r->ts, t))
			continue;
		char why[200] = "";
		if (p->kinds[t] == 2 && rts_thread_blocked(r->ts, t))
			snprintf(why, sizeof why, "step %ld: the exit ends %s's madvise in its event wait, which on hardware only the process's death does (the exit is not run)",
				 step, p->names[t]);
		else if (rts_kill(r->ts, t))
			snprintf(why, sizeof why, "step %ld: the exit ends %s, which runs a step of its own on hardware",
				 step, p->names[t]);
		if (why[0] && step >= 0)
			rts_diverge(r->ts, step, why);
	}
	pthread_mutex_lock(&r->mu);
	r->exit_step = step >= 0 ? step : (long)rts_cur(r->ts);
	pthread_mutex_unlock(&r->mu);
	rts_leave(r->ts, SYS_REAL_OP_EXIT);
	return 0;
}

static int run_op(struct rr_run *r, int tidx, int oidx)
{
	const struct scn_op *op = &r->scn->threads[tidx].ops[oidx];
	switch (op->kind) {
	case SCN_READ:
		guest_read(r, r->scn->threads[tidx].name, (int)op->a);
		return 0;
	case SCN_WRITE:
	case SCN_REMOVE:
		return mutate(r, tidx, oidx);
	case SCN_PAUSE:
	case SCN_RESUME:
	case SCN_EXPORT:
		return handler_op(r, tidx, op);
	case SCN_PREFETCH:
		return prefetch(r, (int)op->a, (int)op->b);
	case SCN_SOURCE_FAIL:
		pthread_mutex_lock(&r->mu);
		if (op->a < SCN_MAX_PAGES)
			r->fail_perm[op->a] = op->b == 0;
		pthread_mutex_unlock(&r->mu);
		return sys_real_source_fail(r->e->sys, op->a, (int)op->b);
	case SCN_EXIT:
		return exit_op(r, tidx);
	case SCN_UNMAP:
		return unmap_op(r, op);
	default:
		return -ENOTSUP;
	}
}

static int scenario_main(struct real_env *e, void *arg, char *why, size_t whylen)
{
	struct rr_targ *t = arg;
	struct rr_run *r = t->r;
	const struct scn_thread *th = &r->scn->threads[t->idx];
	(void)e;
	rr_hold_thread(&r->hold, t->tid, th->name);
	if (rts_attach(r->ts, t->tid) == 0)
		rts_begin(r->ts);
	int rc = 0;
	for (int i = 0; i < th->nops && !rc; i++) {
		const struct scn_op *op = &th->ops[i];
		for (int k = 0; op->after_thread >= 0 && k < 1000; k++) {
			pthread_mutex_lock(&r->mu);
			int ready = r->done_ops[op->after_thread] > op->after_op;
			pthread_mutex_unlock(&r->mu);
			if (ready)
				break;
			step_wait(r);
		}
		if ((after_exit(r) && th->role != SCN_CONTROL) || killed(r))
			break; /* it died with the process */
		int err = run_op(r, t->idx, i);
		if (err) {
			snprintf(why, whylen, "%s: %s (op %d): %s", th->name, scn_op_name(op->kind),
				 i + 1, strerror(-err));
			rc = -1;
		}
		pthread_mutex_lock(&r->mu);
		r->done_ops[t->idx]++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	pthread_mutex_lock(&r->mu);
	if (r->exit_step >= 0 && th->role != SCN_CONTROL) {
		/* what waits on its ops that never ran may go on */
		r->done_ops[t->idx] = th->nops;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	rts_exit(r->ts);
	return rc;
}

static int final_main(struct real_env *e, void *arg, char *why, size_t whylen)
{
	struct rr_run *r = arg;
	(void)e;
	(void)why;
	(void)whylen;
	int tid = rts_plan_tid(r->o->plan, "final");
	if (tid >= 0 && rts_attach(r->ts, tid) == 0)
		rts_begin(r->ts);
	for (int p = 0; p < r->scn->pages; p++)
		guest_read(r, "final", p);
	rts_exit(r->ts);
	return 0;
}

/* --- the harness (model/world.c harness) ------------------------------ */

static int following(struct rr_run *r)
{
	return rts_result(r->ts, NULL, NULL, 0) == RTS_RUNNING;
}

/* The region, the sys under the gate, the handler started (its sys calls
 * are the trace's first steps). 0, or -1 with the reason in res->why. */
static int harness_open(struct rr_run *r)
{
	const struct scenario *scn = r->scn;
	struct real_env_opts o;
	real_env_opts_init(&o, r->ps, (uint64_t)scn->pages);
	o.handler = r->o->handler;
	o.variants = r->o->variants;
	o.event_remove = scn->event_remove;
	o.event_unmap = scn->event_unmap;
	o.wp = scn->wp;
	o.fill = scn->fill;
	o.max_workers = scn->workers;
	o.source_retries = scn->retries;
	o.prefetch_all = scn->prefetch;
	o.backoff_base_ns = 1000000;
	o.backoff_cap_ns = 10000000;
	o.no_start = 1;
	o.anon_vma = r->hold.late;
	o.gate = &rr_gate;
	o.gate_ctx = r;
	int rc = real_env_open(&o, &r->e, r->res->why, sizeof r->res->why);
	if (rc) {
		r->setup_failed = real_env_skip_reason(rc, r->ps) ? 1 : 2;
		return -1;
	}
	r->exp = (struct rr_exp){.scn = scn, .e = r->e, .orc = &r->orc, .mu = &r->mu,
				 .written = r->written, .writing = r->writing};
	rc = handler_start(r->e->h);
	if (rc) {
		snprintf(r->res->why, sizeof r->res->why, "handler_start: %s", strerror(-rc));
		r->setup_failed = 2;
		return -1;
	}
	return 0;
}

/* Wait (in step) until scenario thread tid has ended. */
static void join_in_step(struct rr_run *r, int tid, struct real_guest *g)
{
	for (int k = 0; k < 2000 && !rts_thread_done(r->ts, tid); k++) {
		if (!following(r))
			return;
		step_wait(r);
	}
	if (!rts_thread_killed(r->ts, tid)) /* else asleep until the teardown */
		real_guest_wait(g, REAL_WAIT_MS);
}

/* model/world.c check_export: the handler's export (under its own
 * exclusion) over [start, end] in trace-step time, a guest restored from
 * the snapshot plus it judged against the spec, then the dirty layer
 * (real/replay_export.h). mid_run: scenario threads may still run. 0, or
 * -errno (the export failed). */
static int export_check(struct rr_run *r, const char *when, int mid_run)
{
	enum hpage views[SCN_MAX_PAGES];
	pthread_mutex_lock(&r->mu);
	int holes = r->nunmapped;
	pthread_mutex_unlock(&r->mu);
	if (holes) /* the restore reads the guest mapping, which has holes now */
		return 0;
	uint64_t start = rts_cur(r->ts);
	int err = handler_export(r->e->h, 0, (uint64_t)r->scn->pages, views);
	if (err == -EOPNOTSUPP)
		return 0; /* a handler with no snapshot diff: nothing to restore */
	if (err)
		return err;
	uint64_t end = rts_cur(r->ts);
	struct inv_report rep;
	char ev[400];
	if (rr_export_judge(&r->exp, views, start, end, when, mid_run, &rep, ev, sizeof ev) ||
	    rr_dirty_judge(&r->exp, 1, when, &rep, ev, sizeof ev))
		violated(r, &rep, ev);
	return 0;
}

/* model/world.c run_threads's end: the final reads, unless the handler
 * gave up (then the harness goes straight to the stop, as the model's
 * does). 0 to go on to the stop. */
static int final_reads(struct rr_run *r)
{
	if (handler_error(r->e->h))
		return 0;
	if (after_exit(r)) /* no process is left to read its memory */
		return handler_resume(r->e->h) ? -1 : 0;
	/* the simulator's pause-time export before the final reads */
	if (handler_pause(r->e->h) || export_check(r, "the export before the final reads", 0))
		return -1;
	if (!following(r) || handler_resume(r->e->h))
		return -1;
	struct real_guest *f;
	if (real_guest_start(r->e, "final", final_main, r, &f))
		return -1;
	join_in_step(r, rts_plan_tid(r->o->plan, "final"), f);
	return following(r) ? 0 : -1;
}

/* handler_stop once, never while a scenario thread is in a handler call
 * (handler_op). */
static int stop_handler(struct rr_run *r)
{
	pthread_mutex_lock(&r->hmu);
	if (!r->hstopped) {
		r->hstop_err = real_env_stop(r->e);
		r->hstopped = 1;
	}
	int err = r->hstop_err;
	pthread_mutex_unlock(&r->hmu);
	return err;
}

static void harness_rest(struct rr_run *r, struct real_guest **g, const int *tids)
{
	for (int i = 0; i < r->scn->nthreads; i++)
		join_in_step(r, tids[i], g[i]);
	if (!following(r) || final_reads(r))
		return;
	int err = stop_handler(r);
	struct inv_facts st = {.layer = INV_AT_STOP};
	pthread_mutex_lock(&r->mu); /* the handler's threads are done */
	/* an exit the scenario allows is no violation (model/world.c) */
	st.u.stop = (struct inv_stop){
		.err = r->excused ? 0 : err, .handler_error = handler_error(r->e->h),
		.bad_uffd_calls = r->bad_uffd_calls, .bad_uffd_err = r->bad_uffd_err,
		.bad_uffd_fd = -1, /* the gate does not see the number */
		.bad_uffd_who = r->bad_uffd_calls ? r->o->plan->names[r->bad_uffd_tid] : NULL};
	pthread_mutex_unlock(&r->mu);
	struct inv_report rep;
	if (inv_check(&st, &rep))
		violated(r, &rep, "handler_stop on hardware");
	if (!after_exit(r)) /* its memory is gone: nothing to export against */
		export_check(r, "the export after the handler stopped", 0);
}

static void *harness_main(void *arg)
{
	struct rr_run *r = arg;
	struct real_guest *g[SCN_MAX_THREADS];
	int tids[SCN_MAX_THREADS];
	if (r->hold.h) /* every thread it starts inherits the mask */
		real_hold_avoid(r->hold.h);
	if (rts_attach(r->ts, 0) == 0)
		rts_begin(r->ts);
	if (harness_open(r) == 0) {
		int n = 0;
		for (; n < r->scn->nthreads; n++) {
			tids[n] = rts_plan_tid(r->o->plan, r->scn->threads[n].name);
			r->targs[n] = (struct rr_targ){r, n, tids[n]};
			if (real_guest_start(r->e, r->scn->threads[n].name, scenario_main,
					     &r->targs[n], &g[n]))
				break;
		}
		if (n == r->scn->nthreads)
			harness_rest(r, g, tids);
	}
	rts_exit(r->ts);
	pthread_mutex_lock(&r->mu);
	r->harness_done = 1;
	pthread_mutex_unlock(&r->mu);
	if (r->setup_failed)
		rts_release(r->ts);
	return NULL;
}

/* --- the end of the trace and the verdict ----------------------------- */

static int stuck_layer(const char *name)
{
	return !strcmp(name, "lost-wake") || !strcmp(name, "handler-exit") ||
	       !strcmp(name, "deadlock") || !strcmp(name, "madvise-blocked");
}

/* The trace ended with threads asleep for good: are they still, on
 * hardware, after REAL_BLOCKED_MS? The simulator's stuck facts, read from
 * /proc, fdinfo and pagemap. */
static void stuck_check(struct rr_run *r)
{
	struct timespec d = {.tv_sec = 0, .tv_nsec = REAL_BLOCKED_MS * 1000000L};
	nanosleep(&d, NULL);
	const struct rts_plan *p = r->o->plan;
	struct inv_blocked b[RTS_MAX_THREADS];
	int n = 0;
	long pending = rts_uffd_pending(r->e->r->uffd);
	char ex[200] = "";
	for (int t = 0; t < p->nthreads; t++) {
		int k = rts_thread_ktid(r->ts, t);
		if (!k || (p->kinds[t] != 1 && p->kinds[t] != 2) || rts_thread_done(r->ts, t))
			continue;
		struct inv_blocked x = {.name = p->names[t], .fault_page = -1};
		if (rts_task_sleeps(k, "handle_userfault") == 1) {
			for (size_t s = 0; s < p->n; s++) {
				const struct sched_event *e = rts_ev(&p->s[s], RK_FAULT);
				if (p->s[s].tid == t && e)
					x.fault_page = (int)page_of_sim(r, e->f[2]);
			}
			int present = 0;
			if (x.fault_page >= 0)
				real_page_flags(r->e->r, (uint64_t)x.fault_page, &present, NULL);
			x.fault_read = pending == 0;
			x.page_present = present;
			x.have_view = 1;
			x.view = x.fault_page >= 0 ? handler_page_view(r->e->h, (uint64_t)x.fault_page)
						   : HPAGE_UNKNOWN;
			snprintf(ex, sizeof ex, "on hardware %s still sleeps in handle_userfault after %d ms, uffd fdinfo pending %ld, page %s",
				 x.name, REAL_BLOCKED_MS, pending, present ? "present" : "absent");
		} else if (rts_task_sleeps(k, "userfaultfd_event_wait_completion") == 1) {
			x.event_wait = 1;
		} else {
			continue;
		}
		b[n++] = x;
	}
	struct inv_facts f = {.layer = INV_AT_STUCK};
	f.u.stuck = (struct inv_stuck){.n = n, .t = b, .handler_error = handler_error(r->e->h),
				       .where = " on hardware"};
	struct inv_report rep;
	if (n && inv_check(&f, &rep))
		violated(r, &rep, ex);
}

/* The mirror of rule 30: a 2 MiB trace replayed at 4 KiB diverged where
 * its handler zero-filled with a COPY of zeros (hugetlb has no ZEROPAGE)
 * and on hardware made a UFFDIO_ZEROPAGE: the same handler at 4 KiB. 1
 * with the reason in res->why. */
static int zero_copy_at_4k(struct rr_run *r, long step, const char *why)
{
	const struct rts_plan *p = r->o->plan;
	if (step < 0 || (size_t)step >= p->n || r->ps >= (2u << 20) || r->scn->page_size < (2u << 20) ||
	    !strstr(why, " does uffd_zeropage on hardware"))
		return 0;
	const struct sched_event *e = rts_ev(&p->s[step], RK_UFFD_COPY);
	if (!e || e->f[3] != 0)
		return 0;
	snprintf(r->res->why, sizeof r->res->why,
		 "not applicable at 4 KiB: the 2 MiB trace zero-fills with a UFFDIO_COPY of zeros (step %ld, %s), where at 4 KiB the handler made a UFFDIO_ZEROPAGE (KERNEL.md rule 30), so the schedule cannot be followed; explore the scenario with `memory 4k` for a 4 KiB trace",
		 step, p->names[p->s[step].tid]);
	return 1;
}

static void verdict(struct rr_run *r, enum rts_end end)
{
	struct rr_result *res = r->res;
	char want[48] = "";
	if (r->o->violation)
		sscanf(r->o->violation, "%47[^:]", want);
	long step;
	char why[384];
	rts_result(r->ts, &step, why, sizeof why);
	if (r->setup_failed) {
		res->v = r->setup_failed == 1 ? RR_SKIPPED : RR_DIVERGED;
	} else if (r->violated && want[0] && !strcmp(res->name, want)) {
		res->v = RR_CONFIRMED;
	} else if (end == RTS_DIVERGED && zero_copy_at_4k(r, step, why)) {
		res->v = RR_NOT_APPLICABLE;
		res->step = step;
	} else if (end == RTS_DIVERGED || end == RTS_STALLED) {
		res->v = RR_DIVERGED;
		res->step = step;
		snprintf(res->why, sizeof res->why, "%s", why);
	} else {
		res->v = RR_NOT_REPRODUCED;
		snprintf(res->why, sizeof res->why, "%s%s%s",
			 r->violated ? "hardware broke another invariant: " : "the kernel did not break ",
			 r->violated ? res->name : want[0] ? want : "anything",
			 r->violated ? "" : " (schedule followed to its end)");
	}
}

/* A trace's exit, not run on hardware (exit_op): the note says so. */
static void exit_note(struct rr_run *r)
{
	struct rr_result *res = r->res;
	if (r->exit_step < 0)
		return;
	size_t n = strlen(res->window);
	snprintf(res->window + n, sizeof res->window - n,
		 "%sthe guest process's exit (step %ld) is not run on hardware: the threads it kills, asleep in faults, were taken out of the trace there (the teardown ends their waits); a fill after it whose result differs from the simulator's (an open uffd would show the mm's death: ESRCH, KERNEL.md rule 44) diverges",
		 n ? "; " : "", r->exit_step);
}

/* A late window the replay could not hold: a verdict other than confirmed
 * says so first. */
static void late_window_verdict(struct rr_result *res)
{
	if (!strstr(res->window, "window not reachable on hardware") || res->v == RR_CONFIRMED ||
	    res->v == RR_SKIPPED)
		return;
	char was[sizeof res->why];
	snprintf(was, sizeof was, "%s", res->why);
	snprintf(res->why, sizeof res->why,
		 "window not reachable on hardware (KERNEL.md rule 25, see the note); then: %.400s", was);
}

const char *rr_verdict_name(enum rr_verdict v)
{
	switch (v) {
	case RR_CONFIRMED: return "confirmed";
	case RR_NOT_REPRODUCED: return "not reproduced";
	case RR_DIVERGED: return "diverged";
	case RR_SKIPPED: return "skipped";
	case RR_NOT_APPLICABLE: return "not applicable at this page size";
	case RR_NVERDICTS: break;
	}
	return "?";
}

/* The turnstile's deadline: setting up a memory of gigabytes (B22's
 * 2,048 huge pages: 4 GiB of hugetlb and a 4 GiB snapshot image, which
 * the kernel zeroes before the pattern is written; 12 s here) happens in
 * the harness's first step, so the deadline grows by 5 s per GiB from
 * 1 GiB up. */
static int stall_for(const struct rr_opts *o, uint64_t page_size)
{
	int base = o->stall_ms > 0 ? o->stall_ms : 1000;
	uint64_t gib = page_size * (uint64_t)o->scn->pages >> 30;
	return gib ? base + (int)(gib * 5000) : base;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void run_init(struct rr_run *r, const struct rr_opts *o, struct rr_result *res)
{
	r->o = o;
	r->scn = o->scn;
	r->res = res;
	r->reader = -1;
	r->exit_step = -1;
	for (int t = 0; t < o->scn->nthreads; t++)
		for (int i = 0; i < o->scn->threads[t].nops; i++)
			r->fails_for_good |= o->scn->threads[t].ops[i].kind == SCN_SOURCE_FAIL &&
					     o->scn->threads[t].ops[i].b == 0;
	r->ps = o->page_size ? o->page_size : o->scn->page_size;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->hmu, NULL);
	pthread_cond_init(&r->cv, NULL);
	for (int p = 0; p < o->scn->pages; p++)
		r->initial[p] = o->scn->fill[p] == SCN_FILL_ZERO ? 0 : MK_SNAP((uint64_t)p);
	oracle_reset(&r->orc, o->scn->pages, r->initial);
}

/* A trace the real harness cannot run (unmap, remap, fork, exit), or one
 * whose handler zero-fills with UFFDIO_ZEROPAGE replayed on hugetlb,
 * where the handler fills with COPY (rule 30). 1 with the verdict in res. */
static int not_applicable(const struct rr_opts *o, struct rr_result *res)
{
	const struct scenario *scn = o->scn;
	/* as real/stress.c: the real harness registers no UNMAP, REMAP or
	 * FORK events and runs none of those operations */
	for (int t = 0; t < scn->nthreads; t++)
		for (int i = 0; i < scn->threads[t].nops; i++) {
			enum scn_op_kind k = scn->threads[t].ops[i].kind;
			if (k == SCN_REMAP || k == SCN_FORK) {
				res->v = RR_SKIPPED;
				snprintf(res->why, sizeof res->why,
					 "%s's '%s' is not run on hardware: the real harness has no such operation and registers no REMAP/FORK events",
					 scn->threads[t].name, scn_op_name(k));
				return 1;
			}
		}
	if (scn->event_remap || scn->event_fork) {
		res->v = RR_SKIPPED;
		snprintf(res->why, sizeof res->why, "REMAP/FORK events are not run on hardware");
		return 1;
	}
	uint64_t ps = o->page_size ? o->page_size : scn->page_size;
	if (ps < (2u << 20))
		return 0;
	for (size_t s = 0; s < o->plan->n; s++)
		if (rts_ev(&o->plan->s[s], RK_UFFD_ZEROPAGE)) {
			res->v = RR_NOT_APPLICABLE;
			snprintf(res->why, sizeof res->why,
				 "not applicable at 2 MiB: the trace installs with UFFDIO_ZEROPAGE (step %zu, %s), which hugetlb lacks (KERNEL.md rule 30: there the handler zero-fills with UFFDIO_COPY, so the schedule cannot be followed); explore the scenario with `memory 2m` for a 2 MiB trace",
				 s, o->plan->names[o->plan->s[s].tid]);
			return 1;
		}
	return 0;
}

int real_replay_run(const struct rr_opts *o, struct rr_result *res)
{
	memset(res, 0, sizeof *res);
	res->step = res->obs_step = -1;
	if (!o || !o->scn || !o->plan || !o->handler)
		return -EINVAL;
	double t0 = now_ms();
	if (not_applicable(o, res))
		return 0;
	struct rr_run *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	run_init(r, o, res);
	int rc = rts_new(o->plan, stall_for(o, r->ps), &r->ts);
	pthread_t h;
	rr_hold_plan(&r->hold, o->plan);
	if (!rc)
		rr_hold_open(&r->hold, r->ts);
	if (!rc && (rc = -pthread_create(&h, NULL, harness_main, r)) == 0) {
		enum rts_end end = rts_drive(r->ts);
		char want[48] = "";
		if (o->violation)
			sscanf(o->violation, "%47[^:]", want);
		if (end == RTS_ENDED && !r->setup_failed && !r->violated && stuck_layer(want))
			stuck_check(r);
		verdict(r, end);
		rts_release(r->ts);
		pthread_join(h, NULL);
		if (r->e) {
			stop_handler(r);
			real_env_close(r->e);
		}
		if (rr_hold_note(&r->hold, r->ts, res->v == RR_CONFIRMED, res->window,
				 sizeof res->window))
			late_window_verdict(res);
		exit_note(r);
	}
	rr_hold_close(&r->hold);
	rts_free(r->ts);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->hmu);
	pthread_mutex_destroy(&r->mu);
	free(r);
	res->ms = now_ms() - t0;
	return rc;
}

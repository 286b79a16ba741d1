/* One simulated run: a harness coroutine builds the handler, runs the
 * scenario's threads, stops the handler and checks the end state; the
 * oracle watches every read, install and step. */
#include "world.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/handler.h"
#include "handler/tracker.h"
#include "model/event.h"
#include "model/kernel.h"
#include "model/oracle.h"

#define BASE MK_BASE_DEFAULT

struct targ {
	struct world *w;
	int idx;
};

struct world {
	const struct scenario *scn;
	const char *handler_name;
	uint64_t variants;
	sched_t *s;
	struct mkern *k;
	struct handler *h;
	struct oracle orc;
	uint64_t initial[SCN_MAX_PAGES];
	int tids[SCN_MAX_THREADS];
	int done_ops[SCN_MAX_THREADS];
	struct targ targs[SCN_MAX_THREADS];
	sched_waitq_t progress;
	int main_tid;
	int exit_allowed; /* a permanent source failure: teardown is by design */
	struct verdict *v;
};

static void violate(struct world *w, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void violate(struct world *w, const char *name, const char *fmt, ...)
{
	struct verdict *v = w->v;
	if (v->violated)
		return; /* the first violation stops the run */
	v->violated = 1;
	snprintf(v->name, sizeof v->name, "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->text, sizeof v->text, fmt, ap);
	va_end(ap);
	sched_stop(w->s);
}

static const char *tname(const struct world *w, int idx)
{
	return w->scn->threads[idx].name;
}

static void fmt_content(char *buf, size_t n, uint64_t c)
{
	if (c == 0)
		snprintf(buf, n, "zeros");
	else if (MK_IS_SNAP(c))
		snprintf(buf, n, "snapshot(%" PRIu64 ")", MK_SNAP_PAGE(c));
	else if (MK_IS_WRITE(c))
		snprintf(buf, n, "write#%" PRIu64, MK_WRITE_ID(c));
	else
		snprintf(buf, n, "0x%" PRIx64, c);
}

/* --- oracle hooks ------------------------------------------------------ */

static void on_install(void *ctx, int tid, int page, mk_content c, int wp)
{
	struct world *w = ctx;
	(void)wp;
	if (!w->h || c == 0)
		return;
	if (handler_page_state_peek(w->h, (uint64_t)page) == PAGE_ZERO) {
		char cs[48];
		fmt_content(cs, sizeof cs, c);
		violate(w, "install-into-removed",
			"thread %s installed %s into page %d, which the handler's tracker already marks removed (zero)",
			sched_thread_name(w->s, tid), cs, page);
	}
}

/* A handler thread backs off. If it holds a read lock while a madvise
 * waits for its REMOVE to be read and the serve loop is blocked, reading
 * the uffd waits for the handler's I/O retries (B4; HANDLER.md B39). */
static void on_sleep(void *ctx, int tid, uint64_t ns)
{
	struct world *w = ctx;
	(void)ns;
	if (mk_read_locks_held(w->k, tid) <= 0)
		return;
	int waiting = -1, serve_blocked = 0;
	for (int t = 0; t < sched_nthreads(w->s); t++) {
		if (sched_thread_kind(w->s, t) == MK_BALLOON && mk_waiting_event(w->k, t))
			waiting = t;
		if (strcmp(sched_thread_name(w->s, t), "serve") == 0 &&
		    sched_thread_state(w->s, t) == SCHED_T_BLOCKED)
			serve_blocked = 1;
	}
	if (waiting >= 0 && serve_blocked)
		violate(w, "madvise-blocked",
			"%s's REMOVE stays unread: the serve loop is blocked while %s, holding the settle read lock, sleeps in a source-retry backoff (madvise waits for the handler's I/O)",
			sched_thread_name(w->s, waiting), sched_thread_name(w->s, tid));
}

/* --- scenario threads -------------------------------------------------- */

static void wait_after(struct world *w, const struct scn_op *op)
{
	if (op->after_thread < 0)
		return;
	while (w->done_ops[op->after_thread] <= op->after_op)
		sched_block(w->s, &w->progress);
}

static uint64_t write_tag(int tidx, int oidx)
{
	return MK_WRITE((uint64_t)tidx * SCN_MAX_OPS + (uint64_t)oidx + 1);
}

/* A guest read of page, checked against the sequential spec (unless the
 * scenario breaks the contract). who names the reader in messages. */
static void checked_read(struct world *w, const char *who, int page)
{
	uint64_t start = sched_steps(w->s);
	mk_content got = mk_guest_read(w->k, page);
	uint64_t end = sched_steps(w->s);
	char gs[48];
	fmt_content(gs, sizeof gs, got);
	if (sched_labels_on(w->s))
		sched_label(w->s, "%s read %d -> %s", who, page, gs);
	MEV(w->s, MEV_CHECKED_READ, page, (int64_t)got);
	if (w->scn->contract == SCN_CONTRACT_BREAKS ||
	    oracle_read_ok(&w->orc, page, got, start, end))
		return;
	uint64_t c[8];
	int n = oracle_candidates(&w->orc, page, start, end, c, 8);
	char want[200] = "";
	for (int i = 0; i < n; i++) {
		char cs[48];
		fmt_content(cs, sizeof cs, c[i]);
		snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
			 i ? " or " : "", cs);
	}
	violate(w, "stale-data", "%s read page %d as %s, but the sequential spec allows only %s",
		who, page, gs, want);
}

static void do_prefetch(struct world *w, int first, int last)
{
	sys_t *sys = mk_sys(w->k);
	uint64_t ps = w->scn->page_size;
	for (int p = first; p <= last; p++) {
		void *buf = sys->ops->buf_alloc(sys, ps);
		if (!buf)
			return;
		/* the prefetcher skips a page whose source read fails */
		if (sys->ops->source_read(sys, (uint64_t)p * ps, buf, ps) == 0)
			handler_prefault(w->h, (uint64_t)p, buf);
		sys->ops->buf_free(sys, buf, ps);
	}
}

static void run_op(struct world *w, int tidx, int oidx)
{
	const struct scn_op *op = &w->scn->threads[tidx].ops[oidx];
	int a = (int)op->a, b = (int)op->b;
	switch (op->kind) {
	case SCN_READ:
		checked_read(w, tname(w, tidx), a);
		break;
	case SCN_WRITE: {
		uint64_t tag = write_tag(tidx, oidx);
		int hd = oracle_begin(&w->orc, a, tag, sched_steps(w->s));
		mk_guest_write(w->k, a, tag);
		oracle_end(&w->orc, hd, sched_steps(w->s));
		break;
	}
	case SCN_REMOVE: {
		int hd[SCN_MAX_PAGES];
		for (int p = a; p <= b; p++)
			hd[p] = oracle_begin(&w->orc, p, 0, sched_steps(w->s));
		mk_madvise_dontneed(w->k, a, b);
		for (int p = a; p <= b; p++)
			oracle_end(&w->orc, hd[p], sched_steps(w->s));
		break;
	}
	case SCN_PAUSE:
		handler_pause(w->h);
		break;
	case SCN_RESUME:
		handler_resume(w->h);
		break;
	case SCN_PREFETCH:
		do_prefetch(w, a, b);
		break;
	case SCN_SOURCE_FAIL:
		mk_source_fail(w->k, a, b);
		break;
	case SCN_UNMAP:
		mk_munmap(w->k, a, b);
		break;
	case SCN_REMAP:
		mk_mremap(w->k, a, b);
		break;
	case SCN_FORK:
		mk_fork(w->k);
		break;
	}
}

static void scenario_thread(void *arg)
{
	struct targ *t = arg;
	struct world *w = t->w;
	const struct scn_thread *th = &w->scn->threads[t->idx];
	for (int i = 0; i < th->nops; i++) {
		wait_after(w, &th->ops[i]);
		run_op(w, t->idx, i);
		w->done_ops[t->idx]++;
		sched_wake_all(w->s, &w->progress);
	}
}

/* --- the harness ------------------------------------------------------- */

static int role_kind(enum scn_role r)
{
	return r == SCN_GUEST ? MK_GUEST : r == SCN_BALLOON ? MK_BALLOON : MK_CONTROL;
}

/* After the scenario's threads: a guest reads every page once more, so that
 * "every page is servable and reads as the spec says" is checked by a real
 * access through the handler, not predicted from its tracker. */
static void final_reads(void *arg)
{
	struct world *w = arg;
	for (int p = 0; p < w->scn->pages && !w->v->violated; p++)
		checked_read(w, "final", p);
}

/* After the handler stopped: a page the tracker marks removed must not hold
 * data (the handler would export it as empty, and serve it as zeros). */
static void final_checks(struct world *w)
{
	for (int p = 0; p < w->scn->pages; p++) {
		struct mk_page_view pv;
		mk_page_view(w->k, p, &pv);
		enum page_state st = handler_page_state_peek(w->h, (uint64_t)p);
		if (st == PAGE_ZERO && pv.present && pv.content != 0) {
			char cs[48];
			fmt_content(cs, sizeof cs, pv.content);
			violate(w, "tracker-disagrees",
				"page %d is marked removed (zero) but holds %s", p, cs);
			return;
		}
	}
}

static void harness(void *arg)
{
	struct world *w = arg;
	const struct scenario *scn = w->scn;
	struct handler_config hc = {
		.base = BASE,
		.size = scn->page_size * (uint64_t)scn->pages,
		.page_size = scn->page_size,
		.uffd = mk_uffd(w->k),
		.max_workers = scn->workers,
		.wp = scn->wp,
		.source_retries = scn->retries,
		.variants = w->variants,
	};
	int err = handler_new(w->handler_name, mk_sys(w->k), &hc, &w->h);
	if (!err)
		err = handler_start(w->h);
	if (err) {
		violate(w, "setup", "handler %s could not start: %s", w->handler_name,
			strerror(-err));
		return;
	}
	for (int i = 0; i < scn->nthreads; i++) {
		w->targs[i].w = w;
		w->targs[i].idx = i;
		w->tids[i] = sched_spawn(w->s, scn->threads[i].name,
					 role_kind(scn->threads[i].role),
					 scenario_thread, &w->targs[i]);
	}
	for (int i = 0; i < scn->nthreads; i++)
		sched_join(w->s, w->tids[i]);
	if (!handler_error(w->h)) {
		handler_resume(w->h); /* a scenario may end paused */
		int t = sched_spawn(w->s, "final", MK_GUEST, final_reads, w);
		if (t < 0) {
			violate(w, "setup", "cannot start the final reads: %s", strerror(-t));
			return;
		}
		sched_join(w->s, t);
	}
	err = handler_stop(w->h);
	if (err && !w->exit_allowed) {
		const char *why = handler_error(w->h);
		violate(w, "handler-exit", "the handler exited: %s",
			why ? why : strerror(-err));
		return;
	}
	final_checks(w);
	if (w->v->violated)
		return; /* the run ends at the next point: world_run discards h */
	handler_free(w->h);
	w->h = NULL;
}

/* Nothing runnable: say who is stuck and why. */
static void classify_stuck(struct world *w)
{
	if (w->h && handler_error(w->h) && w->exit_allowed)
		return; /* teardown by design: the sandbox dies with the source */
	for (int t = 0; t < sched_nthreads(w->s); t++) {
		if (sched_thread_state(w->s, t) != SCHED_T_BLOCKED)
			continue;
		int kind = sched_thread_kind(w->s, t);
		int read = 0;
		int page = kind == MK_GUEST ? mk_waiting_page(w->k, t, &read) : -1;
		if (page >= 0) {
			const char *why = w->h ? handler_error(w->h) : NULL;
			struct mk_page_view pv;
			mk_page_view(w->k, page, &pv);
			const char *st = w->h ? page_state_name(handler_page_state_peek(w->h, (uint64_t)page))
					      : "gone";
			violate(w, why ? "handler-exit" : "lost-wake",
				"%s is blocked on page %d forever: its fault message was %s and no worker, deferred entry or wake will serve it (tracker: %s, page %s)%s%s",
				sched_thread_name(w->s, t), page, read ? "read" : "never read", st,
				pv.present ? "present" : "absent",
				why ? "; the handler exited: " : "", why ? why : "");
			return;
		}
		if (kind == MK_BALLOON && mk_waiting_event(w->k, t)) {
			violate(w, "madvise-blocked",
				"%s is blocked in madvise forever: nobody reads its REMOVE",
				sched_thread_name(w->s, t));
			return;
		}
	}
	char who[256] = "";
	for (int t = 0; t < sched_nthreads(w->s); t++)
		if (sched_thread_state(w->s, t) == SCHED_T_BLOCKED)
			snprintf(who + strlen(who), sizeof who - strlen(who), "%s%s",
				 who[0] ? ", " : "", sched_thread_name(w->s, t));
	violate(w, "deadlock", "no thread can run; blocked: %s", who);
}

/* The step bound was hit. If a runnable thread was starved for most of the
 * run (the strategy, e.g. PCT, never picked it), the others were spinning
 * on something it would end: with a fair OS scheduler that is wasted CPU,
 * not a hang (B14). Otherwise nothing could make progress: a livelock. */
static void classify_bound(struct world *w)
{
	size_t n;
	const uint32_t *c = sched_choices(w->s, &n);
	for (int t = 0; t < sched_nthreads(w->s); t++) {
		if (sched_thread_state(w->s, t) != SCHED_T_RUNNABLE)
			continue;
		size_t last = n;
		for (size_t i = n; i-- > 0;)
			if (c[i] == (uint32_t)t) {
				last = i;
				break;
			}
		size_t idle = last == n ? n : n - 1 - last;
		if (idle > n / 2) {
			char spinners[200] = "";
			for (size_t i = n > 64 ? n - 64 : 0; i < n; i++) {
				const char *nm = sched_thread_name(w->s, (int)c[i]);
				if (!strstr(spinners, nm) && strlen(spinners) + strlen(nm) + 3 < sizeof spinners)
					snprintf(spinners + strlen(spinners),
						 sizeof spinners - strlen(spinners), "%s%s",
						 spinners[0] ? ", " : "", nm);
			}
			violate(w, "busy-spin",
				"%s spun for %zu steps without progress while %s, runnable, was not scheduled: a fair scheduler ends it, but the loop burns CPU until then (step bound %zu)",
				spinners, idle, sched_thread_name(w->s, t), n);
			return;
		}
	}
	violate(w, "livelock", "no end after %zu steps (step bound) although every runnable thread kept running",
		n);
}

struct world *world_new(const struct scenario *scn, const char *handler,
			uint64_t variants)
{
	struct world *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->scn = scn;
	w->handler_name = handler;
	w->variants = variants;
	for (int p = 0; p < scn->pages; p++)
		w->initial[p] = scn->fill[p] == SCN_FILL_ZERO ? 0 : MK_SNAP((uint64_t)p);
	for (int i = 0; i < scn->nthreads; i++)
		for (int j = 0; j < scn->threads[i].nops; j++)
			if (scn->threads[i].ops[j].kind == SCN_SOURCE_FAIL &&
			    scn->threads[i].ops[j].b == 0)
				w->exit_allowed = 1;
	return w;
}

void world_free(struct world *w)
{
	if (!w)
		return;
	handler_discard(w->h);
	if (w->k)
		mk_free(w->k);
	if (w->s)
		sched_free(w->s);
	free(w);
}

const sched_t *world_sched(const struct world *w)
{
	return w->s;
}

static uint64_t features_of(const struct scenario *scn)
{
	uint64_t f = 0;
	if (scn->event_remove)
		f |= UFFD_FEATURE_EVENT_REMOVE;
	if (scn->wp_async)
		f |= UFFD_FEATURE_WP_ASYNC;
	if (scn->page_size != 4096)
		f |= UFFD_FEATURE_MISSING_HUGETLBFS;
	return f;
}

int world_run(struct world *w, const struct sched_opts *opts,
	      sched_step_sink sink, void *sink_ctx, struct verdict *v)
{
	memset(v, 0, sizeof *v);
	w->v = v;
	if (!w->s) {
		w->s = sched_new(opts);
		if (!w->s)
			return -ENOMEM;
	} else {
		int err = sched_reset(w->s, opts);
		if (err)
			return err;
	}
	struct mk_config kc = {
		.base = BASE,
		.page_size = w->scn->page_size,
		.pages = w->scn->pages,
		.features = features_of(w->scn),
		.register_wp = w->scn->wp,
		.snapshot = w->initial,
	};
	/* a handler left by an abandoned run: its coroutines never run again */
	handler_discard(w->h);
	w->h = NULL;
	if (!w->k) {
		w->k = mk_new(w->s, &kc);
		if (!w->k)
			return -ENOMEM;
	} else {
		int err = mk_reset(w->k, &kc);
		if (err)
			return err;
	}
	/* invariants are checked where state changes (installs and backoffs
	 * through this observer, every guest read, the end of the run); a
	 * violation stops the run at the step that caused it, so no per-step
	 * hook is needed */
	struct mk_observer ob = {.ctx = w, .install = on_install, .sleep = on_sleep};
	mk_set_observer(w->k, &ob);
	oracle_reset(&w->orc, w->scn->pages, w->initial);
	memset(w->done_ops, 0, sizeof w->done_ops);
	memset(&w->progress, 0, sizeof w->progress);
	if (w->scn->contract == SCN_CONTRACT_BREAKS)
		snprintf(v->relaxed, sizeof v->relaxed,
			 "content linearizability (the guest breaks the free-page-reporting contract)");
	sched_set_step_hook(w->s, NULL, NULL);
	sched_set_step_sink(w->s, sink, sink_ctx);
	w->main_tid = sched_spawn(w->s, "harness", MK_CONTROL, harness, w);
	if (w->main_tid < 0)
		return w->main_tid;
	enum sched_result r = sched_run(w->s);
	v->sres = r;
	v->steps = sched_steps(w->s);
	if (!v->violated) {
		if (r == SCHED_STUCK)
			classify_stuck(w);
		else if (r == SCHED_STEP_BOUND)
			classify_bound(w);
		else if (r == SCHED_DIVERGED)
			violate(w, "replay-diverged",
				"the recorded schedule names a thread that cannot run at step %" PRIu64,
				v->steps);
	}
	return 0;
}

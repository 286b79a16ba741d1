/* One simulated run: a harness coroutine builds the handler, runs the
 * scenario's threads, stops the handler and checks the end state; the
 * oracle watches every read, install and step. */
#include "world.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/handler.h"
#include "model/event.h"
#include "model/invariant.h"
#include "model/kernel.h"
#include "model/oracle.h"

#define BASE MK_BASE_DEFAULT
/* blocked threads named in a stuck report */
#define SCHED_REPORT_MAX 64

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
	/* a handler exit is by design: it read the source of a page that
	 * fails for good while the page still needed it (on_source_fail) */
	int exit_excused;
	int fails_for_good;      /* the scenario has a source-fail P 0 */
	/* the handler read a fault message of the page before any write or
	 * remove of it ended (only where a source fails for good) */
	unsigned char fresh_fault[SCN_MAX_PAGES];
	/* threads blocked where a teardown leaves them: a scenario thread
	 * waiting in `after`, the harness joining the scenario's threads or
	 * the final reader */
	unsigned char in_after[SCN_MAX_THREADS];
	int joining;
	int exited;       /* an `exit` op ended the guest process (rule 44) */
	/* a page an unmap or remap op has touched: a read of it may SEGV or
	 * see unregistered memory, which no handler serves (not checked) */
	unsigned char unchecked[SCN_MAX_PAGES];
	int paused;       /* the scenario's last pause/resume was a pause */
	struct verdict *v;
	/* the WP/dirty oracle: a guest write landed on the page since its
	 * last install (cleared by an install or a zap), or is in flight */
	unsigned char written[SCN_MAX_PAGES];
	unsigned char writing[SCN_MAX_PAGES];
	/* the page's last fill landed while a remove of it was in flight */
	unsigned char fill_raced[SCN_MAX_PAGES];
	/* unrequested-refill: each page's fills, and the requests for one
	 * (fault messages the handler read, prefetches) */
	uint32_t fills[SCN_MAX_PAGES], asked[SCN_MAX_PAGES];
	/* world_digest(): order-independent sums over this run's reads
	 * (which read, what it got) and the handler's export */
	uint64_t dg_reads, dg_export;
	int drf;                 /* handler_drf(): no heap object */
	/* reducing runs: each page's view at the last step's end, and the
	 * steps that changed one without declaring it (fp_check) */
	enum hpage last_view[SCN_MAX_PAGES];
	uint64_t undeclared;
	int h_live;              /* started, not yet being freed: views valid */
	int kver;          /* world_set_kernel */
	int retry_cut;     /* world_set_retry_cut */
};

static uint64_t mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static void set_verdict(struct world *w, const char *name, const char *text)
{
	struct verdict *v = w->v;
	assert(inv_known(name));
	if (v->violated)
		return; /* the first violation stops the run */
	v->violated = 1;
	snprintf(v->name, sizeof v->name, "%s", name);
	snprintf(v->text, sizeof v->text, "%s", text);
	sched_stop(w->s);
	assert(v->violated && v->name[0]);
}

/* Check one layer's facts against the registry. */
static void check(struct world *w, const struct inv_facts *f)
{
	struct inv_report r;
	if (!w->v->violated && inv_check(f, &r))
		set_verdict(w, r.name, r.text);
}

/* A run outcome that is not an invariant (setup, replay-diverged, ...). */
#define OUTCOME(w, ...)                                                      \
	do {                                                                 \
		struct inv_report o_;                                        \
		inv_outcome(&o_, __VA_ARGS__);                               \
		set_verdict((w), o_.name, o_.text);                          \
	} while (0)

static const char *tname(const struct world *w, int idx)
{
	return w->scn->threads[idx].name;
}

/* --- oracle hooks ------------------------------------------------------ */

static void touch_oracle(struct world *w, int page, int kind)
{
	/* the log orders a page's reads and mutations by step number: the
	 * steps that stamp a mutation write it, so that every read and
	 * mutation keeps its order against them in every schedule; a read
	 * (a check against the log) only reads it, so two reads commute */
	sched_touch(w->s, SCHED_OBJ(MK_OC_ORACLE, page), kind);
}

/* The oracle reads the handler's state without a lock: a read of what
 * the handler declares it shares (handler/sys.h). */
static void touch_view(struct world *w, uint64_t id)
{
	sched_touch(w->s, SCHED_OBJ(MK_OC_HSHARED, id), 0);
}

static const char *h_error(struct world *w)
{
	touch_view(w, SYS_SHARED_ERROR);
	return handler_error(w->h);
}

static enum hpage h_view(struct world *w, int page)
{
	touch_view(w, SYS_SHARED_PAGE(page));
	return handler_page_view(w->h, (uint64_t)page);
}

/* Under WP, every page's dirty state against the guest's writes (the
 * dirty layer). settled: no handler thread is half-way through an
 * install (its exclusion was just held, or it stopped). */
static void check_dirty(struct world *w, int settled, const char *when)
{
	if (!w->scn->wp || !w->h)
		return;
	for (int p = 0; p < w->scn->pages && !w->v->violated; p++) {
		struct mk_page_view pv;
		mk_page_view(w->k, p, &pv);
		struct inv_facts f = {.layer = INV_AT_DIRTY};
		f.u.dirty = (struct inv_dirty){
			.page = p, .wp_async = w->scn->wp_async, .present = pv.present,
			.wp = pv.wp, .view = h_view(w, p),
			.written = w->written[p], .writing = w->writing[p],
			.settled = settled, .when = when};
		check(w, &f);
	}
}

static void on_install(void *ctx, int tid, int page, mk_content c, int wp)
{
	struct world *w = ctx;
	(void)wp;
	if (!w->h)
		return;
	touch_view(w, SYS_SHARED_PAGE(page));
	w->written[page] = 0;
	w->fills[page]++;
	touch_oracle(w, page, SCHED_READ); /* reads the page's log */
	w->fill_raced[page] = (unsigned char)oracle_remove_open(&w->orc, page);
	struct inv_facts f = {.layer = INV_AT_INSTALL};
	f.u.install = (struct inv_install){
		.who = sched_thread_name(w->s, tid), .page = page, .content = c,
		.view = handler_page_view(w->h, (uint64_t)page),
		/* a page an unmap or remap touched: its faults are not mm 0's */
		.fills = w->unchecked[page] ? 0 : w->fills[page], .asked = w->asked[page]};
	check(w, &f);
	check_dirty(w, 0, "after an install");
}

/* A fault message the handler read: a request to fill its page. */
static void on_fault_read(void *ctx, uint64_t addr)
{
	struct world *w = ctx;
	uint64_t size = w->scn->page_size * (uint64_t)w->scn->pages;
	if (addr < BASE || addr - BASE >= size)
		return;
	int p = (int)((addr - BASE) / w->scn->page_size);
	w->asked[p]++;
	if (!w->fails_for_good || w->fresh_fault[p])
		return;
	touch_oracle(w, p, SCHED_READ); /* reads the page's log */
	if (!oracle_mutated_before(&w->orc, p, sched_steps(w->s)))
		w->fresh_fault[p] = 1;
}

/* A handler thread's source read of a page that fails for good: the
 * handler's exit is by design if the page may still need its snapshot
 * bytes and the handler had not failed before. It may if no write or
 * remove of it ended before the read, or if the handler read a fault
 * message of the page before one did (its worker may have decided on
 * the tracker before the page changed: a stale message, served after
 * another fault's fill woke it). Where the contract breaks, a fault may
 * race its page's remove: any such read excuses (docs/ORACLE.md,
 * handler-exit). */
static void on_source_fail(void *ctx, int tid, int page, int permanent)
{
	struct world *w = ctx;
	if (!permanent || w->exit_excused || !w->h ||
	    sched_thread_kind(w->s, tid) != MK_HANDLER)
		return;
	touch_oracle(w, page, SCHED_READ); /* reads the page's log */
	if (w->scn->contract != SCN_CONTRACT_BREAKS && !w->fresh_fault[page] &&
	    oracle_mutated_before(&w->orc, page, sched_steps(w->s)))
		return;
	if (!h_error(w))
		w->exit_excused = 1;
}

static void on_zap(void *ctx, int page)
{
	struct world *w = ctx;
	w->written[page] = 0; /* its write is gone with the page */
}

/* A handler thread backs off: is a madvise waiting on the uffd's reader,
 * which waits on the sleeper? */
static void on_sleep(void *ctx, int tid, uint64_t ns)
{
	struct world *w = ctx;
	(void)ns;
	struct inv_facts f = {.layer = INV_AT_BACKOFF};
	struct inv_backoff *b = &f.u.backoff;
	b->sleeper = sched_thread_name(w->s, tid);
	b->read_locks = mk_read_locks_held(w->k, tid);
	if (b->read_locks <= 0)
		return; /* the common case, kept cheap */
	for (int t = 0; t < sched_nthreads(w->s); t++) {
		if (sched_thread_kind(w->s, t) == MK_BALLOON && mk_waiting_event(w->k, t))
			b->madvise_waiting = sched_thread_name(w->s, t);
		if (mk_reads_uffd(w->k, t) && sched_thread_state(w->s, t) == SCHED_T_BLOCKED)
			b->reader_blocked = 1;
	}
	check(w, &f);
}

/* --- scenario threads -------------------------------------------------- */

/* Scenario thread tidx's done count, one object each: an op's end
 * writes its thread's, an `after` reads the one it waits on (a guest's
 * exit, which frees every waiter, is a step that touches everything). */
static void touch_progress(struct world *w, int tidx, int write)
{
	sched_touch(w->s, SCHED_OBJ(MK_OC_PROGRESS, (uint64_t)tidx), write);
}


/* A thread of the guest process (Firecracker): it dies when it exits. */
static int of_process(const struct world *w, int tidx)
{
	return w->scn->threads[tidx].role != SCN_CONTROL;
}

static void wait_after(struct world *w, int tidx, const struct scn_op *op)
{
	if (op->after_thread < 0)
		return;
	touch_progress(w, op->after_thread, 0);
	while (w->done_ops[op->after_thread] <= op->after_op &&
	       !(w->exited && of_process(w, tidx))) {
		w->in_after[tidx] = 1;
		sched_block(w->s, &w->progress);
		w->in_after[tidx] = 0;
		touch_progress(w, op->after_thread, 0);
	}
}

static uint64_t write_tag(int tidx, int oidx)
{
	return MK_WRITE((uint64_t)tidx * SCN_MAX_OPS + (uint64_t)oidx + 1);
}

/* A guest read of page, checked against the sequential spec (unless the
 * scenario breaks the contract). who names the reader in messages. */
static void checked_read(struct world *w, const char *who, int page, uint64_t slot)
{
	touch_oracle(w, page, SCHED_READ);
	uint64_t start = sched_steps(w->s);
	mk_content got = mk_guest_read(w->k, page);
	touch_oracle(w, page, SCHED_READ);
	uint64_t end = sched_steps(w->s);
	w->dg_reads += mix(mix(slot) ^ got);
	if (sched_labels_on(w->s)) {
		char gs[48];
		inv_fmt_content(gs, sizeof gs, got);
		sched_label(w->s, "%s read %d -> %s", who, page, gs);
	}
	MEV(w->s, MEV_CHECKED_READ, page, (int64_t)got);
	if ((w->exited && got == MK_KILLED) || w->unchecked[page])
		return; /* the reader died with its process; unregistered or gone */
	struct inv_facts f = {.layer = INV_AT_READ};
	f.u.read = (struct inv_read){
		.who = who, .page = page, .got = got, .start = start, .end = end,
		.orc = &w->orc, .contract_breaks = w->scn->contract == SCN_CONTRACT_BREAKS};
	check(w, &f);
}

/* Prefault each page the source can read; a page whose source read fails
 * is skipped (the prefetcher's choice). 0 or -errno. */
static int do_prefetch(struct world *w, int first, int last)
{
	sys_t *sys = mk_sys(w->k);
	uint64_t ps = w->scn->page_size;
	for (int p = first; p <= last; p++) {
		void *buf = sys->ops->buf_alloc(sys, ps);
		if (!buf)
			return -ENOMEM;
		int err = 0;
		if (sys->ops->source_read(sys, (uint64_t)p * ps, buf, ps) == 0) {
			w->asked[p]++;
			err = handler_prefault(w->h, (uint64_t)p, buf);
		}
		sys->ops->buf_free(sys, buf, ps);
		if (err)
			return err;
	}
	return 0;
}

/* A mutation of pages a..b as the oracle's log records it, around the
 * kernel call that performs it. */
static int mutate(struct world *w, int a, int b, uint64_t value, int tidx, int oidx)
{
	int hd[SCN_MAX_PAGES];
	assert(a >= 0 && a <= b && b < w->scn->pages);
	for (int p = a; p <= b; p++) {
		touch_oracle(w, p, SCHED_WRITE);
		if ((hd[p] = oracle_begin(&w->orc, p, value, sched_steps(w->s))) < 0)
			return -ENOSPC; /* the log would lose it: no verdict is sound */
	}
	int write = w->scn->threads[tidx].ops[oidx].kind == SCN_WRITE;
	unsigned char *wr = &w->writing[(unsigned)a % SCN_MAX_PAGES];
	*wr += (unsigned char)write;
	int err = write ? mk_guest_write(w->k, a, value) : mk_madvise_dontneed(w->k, a, b);
	*wr -= (unsigned char)write;
	if (write && !err)
		w->written[(unsigned)a % SCN_MAX_PAGES] = 1; /* landed in the step it returned in */
	for (int p = a; p <= b; p++) {
		touch_oracle(w, p, SCHED_WRITE);
		oracle_end(&w->orc, hd[p], sched_steps(w->s));
	}
	return err;
}

/* Before the unmap starts (it may block on its event while reads of the
 * pages already SEGV); a write of each page's oracle object, which every
 * checked read of it touches, keeps the reduction sound. */
static void mark_unchecked(struct world *w, int a, int b)
{
	for (int p = a; p <= b; p++) {
		touch_oracle(w, p, SCHED_WRITE);
		w->unchecked[p] = 1;
	}
}

static int check_export(struct world *w, const char *when, int mid_run,
			enum hpage *views);

/* `export`: E2B's snapshot flow — pause the handler (its serve loop ends
 * its batch, its workers finish), take the export, resume it unless the
 * scenario had paused it. Guest threads go on meanwhile. */
static int export_op(struct world *w, int tidx)
{
	enum hpage views[SCN_MAX_PAGES];
	char when[64];
	snprintf(when, sizeof when, "the export by %s", tname(w, tidx));
	int was_paused = w->paused;
	int err = handler_pause(w->h);
	if (!err)
		err = check_export(w, when, 1, views);
	if (!err && !was_paused)
		err = handler_resume(w->h);
	return err;
}

static int run_op(struct world *w, int tidx, int oidx)
{
	const struct scn_op *op = &w->scn->threads[tidx].ops[oidx];
	int a = (int)op->a, b = (int)op->b;
	switch (op->kind) {
	case SCN_READ:
		checked_read(w, tname(w, tidx), a, (uint64_t)tidx * SCN_MAX_OPS + (uint64_t)oidx);
		return 0;
	case SCN_WRITE:
		return mutate(w, a, a, write_tag(tidx, oidx), tidx, oidx);
	case SCN_REMOVE:
		return mutate(w, a, b, 0, tidx, oidx);
	case SCN_PAUSE:
		w->paused = 1;
		return handler_pause(w->h);
	case SCN_RESUME:
		w->paused = 0;
		return handler_resume(w->h);
	case SCN_PREFETCH:
		return do_prefetch(w, a, b);
	case SCN_SOURCE_FAIL:
		mk_source_fail(w->k, a, b);
		return 0;
	case SCN_UNMAP:
		mark_unchecked(w, a, b);
		return mk_munmap(w->k, a, b);
	case SCN_REMAP:
		mark_unchecked(w, a, b);
		return mk_mremap(w->k, a, b);
	case SCN_EXIT: {
		int err = mk_exit(w->k);
		w->exited = 1; /* in mk_exit's step, which touches everything */
		return err;
	}
	case SCN_FORK: {
		int child = mk_fork(w->k);
		return child < 0 ? child : 0;
	}
	case SCN_EXPORT:
		return export_op(w, tidx);
	}
	assert(0 && "scenario op out of range");
	return -EINVAL;
}

/* An op on a page an unmap or remap touched may fail (SIGSEGV, ENOMEM,
 * EINVAL): the guest process's own doing, not the handler's. */
static int on_unchecked(const struct world *w, const struct scn_op *op)
{
	if (op->kind == SCN_FORK || op->kind == SCN_EXIT || op->kind == SCN_PAUSE ||
	    op->kind == SCN_RESUME || op->kind == SCN_SOURCE_FAIL || op->kind == SCN_EXPORT)
		return 0;
	uint64_t last = op->kind == SCN_READ || op->kind == SCN_WRITE ? op->a : op->b;
	for (uint64_t p = op->a; p <= last; p++)
		if (w->unchecked[p])
			return 1;
	return 0;
}

static void scenario_thread(void *arg)
{
	struct targ *t = arg;
	struct world *w = t->w;
	const struct scn_thread *th = &w->scn->threads[t->idx];
	for (int i = 0; i < th->nops && !w->v->violated; i++) {
		wait_after(w, t->idx, &th->ops[i]);
		if (w->exited && of_process(w, t->idx))
			break; /* it died with the process */
		int err = run_op(w, t->idx, i);
		if (err && w->exited && of_process(w, t->idx))
			break; /* killed inside the op (-EINTR) */
		if (err && on_unchecked(w, &th->ops[i]))
			err = 0;
		if (err) {
			OUTCOME(w, "op-failed", "%s: %s (op %d): %s", th->name,
				scn_op_name(th->ops[i].kind), i + 1,
				err == -ENOSPC ? "the oracle's log is full" : strerror(-err));
			return;
		}
		assert(w->done_ops[t->idx] == i);
		touch_progress(w, t->idx, 1);
		w->done_ops[t->idx]++;
		sched_wake_all(w->s, &w->progress);
	}
	if (w->exited && of_process(w, t->idx)) {
		/* what waits on its ops that never ran may go on */
		touch_progress(w, t->idx, 1);
		w->done_ops[t->idx] = th->nops;
		sched_wake_all(w->s, &w->progress);
	}
}

/* --- the harness ------------------------------------------------------- */

static int role_kind(enum scn_role r)
{
	return r == SCN_GUEST ? MK_GUEST : r == SCN_BALLOON ? MK_BALLOON : MK_CONTROL;
}

static void observe_quiet(struct world *w);

/* Memories up to this many pages (every scenario but B22's 4 GiB one)
 * get a final read of every page; a larger one is read where its pages
 * differ (final_pages). */
#define FINAL_READ_ALL 64

static void mark_page(unsigned char *sel, int pages, int64_t p)
{
	if (p >= 0 && p < pages)
		sel[p] = 1;
}

/* The pages of a large memory the final reads visit: page 0 and the last,
 * each page an op names alone, each end of an op's range and the page
 * beside it outside the range, each side of a change of snapshot fill,
 * every page of a prefetch range (or all, with the handler's own
 * prefetcher). A page left out lies in a run of pages that every op and
 * the snapshot treat alike, no thread but the final reader faults on it
 * alone, and a page of the same run on each side of it is read: the
 * final read of a neighbour is the same check of the same history (the
 * handler sees only whole ranges of it). Every page, read or not, is
 * still judged by the exports before and after the final reads. */
static void final_pages(const struct scenario *scn, unsigned char *sel)
{
	int n = scn->pages;
	memset(sel, scn->prefetch, (size_t)n);
	mark_page(sel, n, 0);
	mark_page(sel, n, n - 1);
	for (int p = 1; p < n; p++)
		if (scn->fill[p] != scn->fill[p - 1]) {
			mark_page(sel, n, p - 1);
			mark_page(sel, n, p);
		}
	for (int t = 0; t < scn->nthreads; t++)
		for (int i = 0; i < scn->threads[t].nops; i++) {
			const struct scn_op *op = &scn->threads[t].ops[i];
			int64_t a = (int64_t)op->a, b = (int64_t)op->b;
			switch (op->kind) {
			case SCN_READ: case SCN_WRITE: case SCN_SOURCE_FAIL:
				mark_page(sel, n, a);
				break;
			case SCN_PREFETCH:
				for (int64_t p = a; p <= b; p++)
					mark_page(sel, n, p);
				break;
			case SCN_REMOVE: case SCN_UNMAP: case SCN_REMAP:
				for (int64_t p = a - 1; p <= a; p++)
					mark_page(sel, n, p);
				for (int64_t p = b; p <= b + 1; p++)
					mark_page(sel, n, p);
				break;
			default:
				break;
			}
		}
}

/* After the scenario's threads: a guest reads every page once more (of a
 * large memory, those final_pages picks), so that "every page is servable
 * and reads as the spec says" is checked by a real access through the
 * handler, not predicted from its tracker. */
static void final_reads(void *arg)
{
	struct world *w = arg;
	unsigned char sel[SCN_MAX_PAGES];
	if (w->scn->pages > FINAL_READ_ALL)
		final_pages(w->scn, sel);
	else
		memset(sel, 1, (size_t)w->scn->pages);
	for (int p = 0; p < w->scn->pages && !w->v->violated; p++) {
		if (!sel[p] || w->unchecked[p])
			continue;
		observe_quiet(w); /* each read starts with the handler at rest */
		checked_read(w, "final", p, (uint64_t)SCN_MAX_THREADS * SCN_MAX_OPS + (uint64_t)p);
	}
}

/* What a fresh guest restored from the snapshot plus the export reads
 * on page p: the memory of a page in the diff (as the snapshot writer
 * reads it, zeros if the page is gone), zeros for an empty one, the
 * snapshot's bytes for a page left out. */
static uint64_t restored(const struct world *w, int p, enum hpage v,
			 const struct mk_page_view *pv)
{
	if (v == HPAGE_DIRTY)
		return pv->present ? pv->content : 0;
	return v == HPAGE_UNKNOWN ? w->initial[p] : 0;
}

/* The export oracle: take the handler's export (under its own exclusion:
 * it may block) and judge every page's restore as a read over the
 * export's interval, then the WP/dirty state. mid_run: scenario threads
 * may still run (an `export` op, docs/ORACLE.md). 0, or -errno. */
static int check_export(struct world *w, const char *when, int mid_run,
			enum hpage *views)
{
	int n = w->scn->pages;
	for (int p = 0; p < n; p++)
		touch_oracle(w, p, SCHED_WRITE);
	uint64_t start = sched_steps(w->s);
	int err = handler_export(w->h, 0, (uint64_t)n, views);
	if (err == -EOPNOTSUPP)
		return 0; /* a handler with no snapshot diff: nothing to restore */
	if (err)
		return err;
	for (int p = 0; p < n; p++)
		touch_oracle(w, p, SCHED_WRITE);
	uint64_t end = sched_steps(w->s);
	for (int p = 0; p < n && !w->v->violated; p++) {
		struct mk_page_view pv;
		mk_page_view(w->k, p, &pv);
		if (!pv.mapped)
			continue; /* munmapped: no restore to judge */
		uint64_t got = restored(w, p, views[p], &pv);
		if (sched_labels_on(w->s)) {
			char gs[48];
			inv_fmt_content(gs, sizeof gs, got);
			sched_label(w->s, "%s: page %d %s -> %s", when, p, hpage_name(views[p]), gs);
		}
		struct inv_facts f = {.layer = INV_AT_EXPORT};
		f.u.exp = (struct inv_export){
			.page = p, .view = views[p], .present = pv.present, .content = pv.content,
			.orc = &w->orc, .restored = got, .start = start, .end = end,
			.contract_breaks = w->scn->contract == SCN_CONTRACT_BREAKS,
			.mid_run = mid_run, .when = when,
			.tracker = h_view(w, p), .fill_raced_remove = w->fill_raced[p]};
		check(w, &f);
	}
	check_dirty(w, 1, when);
	return 0;
}

/* After the handler stopped: the export once more (a page it would export
 * as removed must not hold data; the restore must match the spec). */
static void final_checks(struct world *w)
{
	enum hpage views[SCN_MAX_PAGES];
	int err = check_export(w, "the export after the handler stopped", 0, views);
	if (err) {
		OUTCOME(w, "setup", "the handler's export failed: %s", strerror(-err));
		return;
	}
	for (int p = 0; p < w->scn->pages; p++)
		w->dg_export += mix(((uint64_t)p << 8) ^ (uint64_t)views[p]);
}

static int start_handler(struct world *w)
{
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
		.prefetch_all = scn->prefetch,
		.wp_async = scn->wp_async,
	};
	assert(!w->h);
	int err = handler_new(w->handler_name, mk_sys(w->k), &hc, &w->h);
	if (!err)
		err = handler_start(w->h);
	if (err)
		OUTCOME(w, "setup", "handler %s could not start: %s", w->handler_name,
			strerror(-err));
	return err;
}

/* Before the final reads re-fault every page: the handler's pause-time
 * view (loop ended, workers done, export under its lock) against the
 * kernel, so that a tracker the final reads would paper over is seen
 * (a page marked dirty that is gone; a late tracker update). 0, or -1
 * with the verdict set. */
static int pre_final_check(struct world *w)
{
	enum hpage views[SCN_MAX_PAGES];
	int err = handler_pause(w->h);
	if (!err)
		err = check_export(w, "the export before the final reads", 0, views);
	if (err)
		OUTCOME(w, "setup", "the handler's pause and export before the final reads failed: %s",
			strerror(-err));
	return w->v->violated ? -1 : 0;
}

/* The oracle's final phase (pause, export, final reads, stop) is the
 * harness's, not the scenario's: it starts each of its steps with every
 * handler thread at rest (serve in poll, no worker alive), so that its
 * order against a worker still finishing a fault is no interleaving of
 * the scenario (one that wants a pause racing its workers says `pause`).
 * A handler that never comes to rest spins; classify_bound counts the
 * waiter as runnable (a fair scheduler would run it). */
static void observe_quiet(struct world *w)
{
	/* a handler's own prefetcher is work of its own, not an answer to
	 * the scenario: the sandbox's stop may race it (wrenn's W4), so
	 * with one the final phase keeps racing the handler */
	if (!w->scn->prefetch)
		sched_wait_quiet(w->s);
}

/* Every scenario thread, then (unless the handler gave up) the final reads
 * through the handler. 0, or -1 with the verdict set. */
static int run_threads(struct world *w)
{
	const struct scenario *scn = w->scn;
	for (int i = 0; i < scn->nthreads; i++) {
		w->targs[i].w = w;
		w->targs[i].idx = i;
		w->tids[i] = sched_spawn(w->s, scn->threads[i].name,
					 role_kind(scn->threads[i].role),
					 scenario_thread, &w->targs[i]);
		if (w->tids[i] < 0) {
			OUTCOME(w, "setup", "cannot start thread %s: %s", scn->threads[i].name,
				strerror(-w->tids[i]));
			return -1;
		}
	}
	w->joining = 1;
	for (int i = 0; i < scn->nthreads; i++)
		sched_join(w->s, w->tids[i]);
	w->joining = 0;
	observe_quiet(w);
	if (h_error(w))
		return 0;
	/* after `exit` the memory is gone: no export to judge (a write
	 * fault's writable install whose writer died reads dirty; a page
	 * zapped by the teardown reads absent under a dirty mark) */
	if (!w->exited && pre_final_check(w))
		return -1;
	int err = handler_resume(w->h); /* a scenario may end paused */
	if (err) {
		OUTCOME(w, "setup", "the handler could not resume for the final reads: %s",
			strerror(-err));
		return -1;
	}
	if (w->exited)
		return 0; /* no process is left to read its memory */
	int t = sched_spawn(w->s, "final", MK_GUEST, final_reads, w);
	if (t < 0) {
		OUTCOME(w, "setup", "cannot start the final reads: %s", strerror(-t));
		return -1;
	}
	w->joining = 1; /* the final reader: a guest thread, in a fault if stuck */
	sched_join(w->s, t);
	w->joining = 0;
	return 0;
}

static void harness(void *arg)
{
	struct world *w = arg;
	if (start_handler(w))
		return;
	w->h_live = 1;
	if (run_threads(w))
		return;
	observe_quiet(w);
	int err = handler_stop(w->h);
	struct inv_facts f = {.layer = INV_AT_STOP};
	int tid, fd, ferr;
	int bad = mk_bad_uffd_calls(w->k, &tid, &fd, &ferr);
	/* an exit the scenario allows is no violation; a call on a closed
	 * uffd is one either way */
	f.u.stop = (struct inv_stop){
		.err = w->exit_excused ? 0 : err, .handler_error = h_error(w),
		.bad_uffd_calls = bad, .bad_uffd_fd = fd, .bad_uffd_err = ferr,
		.bad_uffd_who = tid >= 0 ? sched_thread_name(w->s, tid) : NULL};
	check(w, &f);
	if (w->v->violated)
		return;
	if (!w->exited) /* its memory is gone: nothing to export against */
		final_checks(w);
	if (w->v->violated)
		return; /* the run ends at the next point: world_run discards h */
	w->h_live = 0;
	handler_free(w->h);
	w->h = NULL;
}

/* After an excused exit, is every blocked scenario thread (and the
 * harness) where the sandbox's death leaves it: a guest in a fault, a
 * balloon waiting for its event, a thread waiting in `after`, the
 * harness joining them? A scenario thread blocked on the handler's own
 * exclusion (an export, a pause behind a lock a dead worker kept) is a
 * teardown that hangs, not one by design. */
static int teardown_by_design(struct world *w)
{
	for (int i = 0; i < w->scn->nthreads; i++) {
		int t = w->tids[i];
		if (t < 0 || sched_thread_state(w->s, t) != SCHED_T_BLOCKED || w->in_after[i])
			continue;
		int read, kind = sched_thread_kind(w->s, t);
		if (kind == MK_GUEST && mk_waiting_page(w->k, t, &read) >= 0)
			continue;
		if (kind == MK_BALLOON && mk_waiting_event(w->k, t))
			continue;
		return 0;
	}
	return sched_thread_state(w->s, w->main_tid) != SCHED_T_BLOCKED || w->joining;
}

/* Nothing runnable: the blocked threads, as the stuck-layer invariants
 * see them. */
static void classify_stuck(struct world *w)
{
	const char *why = w->h ? handler_error(w->h) : NULL;
	if (why && w->exit_excused && teardown_by_design(w))
		return; /* the sandbox dies with the source */
	static struct inv_blocked bl[SCHED_REPORT_MAX];
	int n = 0;
	for (int t = 0; t < sched_nthreads(w->s) && n < SCHED_REPORT_MAX; t++) {
		if (sched_thread_state(w->s, t) != SCHED_T_BLOCKED)
			continue;
		struct inv_blocked *b = &bl[n++];
		int kind = sched_thread_kind(w->s, t), read = 0;
		*b = (struct inv_blocked){.name = sched_thread_name(w->s, t), .fault_page = -1};
		int page = kind == MK_GUEST ? mk_waiting_page(w->k, t, &read) : -1;
		if (page >= 0) {
			struct mk_page_view pv;
			mk_page_view(w->k, page, &pv);
			b->fault_page = page;
			b->fault_read = read;
			b->page_present = pv.present;
			b->have_view = w->h != NULL;
			b->view = w->h ? handler_page_view(w->h, (uint64_t)page) : HPAGE_UNKNOWN;
		}
		b->event_wait = kind == MK_BALLOON && mk_waiting_event(w->k, t);
	}
	struct inv_facts f = {.layer = INV_AT_STUCK};
	f.u.stuck = (struct inv_stuck){.n = n, .t = bl, .handler_error = why};
	check(w, &f);
	assert(w->v->violated); /* deadlock catches what nothing else names */
}

/* A reducing run, as each step ends: a page whose view the step changed
 * was written by it, declared or not. The write joins the footprint (so a
 * missed declaration costs no soundness for what the oracle sees); a
 * data-race-free handler must have declared it, and the count says when
 * one did not (tests/test_dpor.c asserts none). */
static void fp_check(void *ctx, sched_t *s, int tid)
{
	struct world *w = ctx;
	(void)tid;
	mk_touch_changes(w->k);
	if (!w->h || !w->h_live || !w->drf)
		return; /* a row without the promise has its heap object */
	for (int p = 0; p < w->scn->pages; p++) {
		enum hpage v = handler_page_view(w->h, (uint64_t)p);
		if (v == w->last_view[p])
			continue;
		uint64_t obj = SCHED_OBJ(MK_OC_HSHARED, SYS_SHARED_PAGE(p));
		if (!sched_fp_has(s, obj, 1))
			w->undeclared++;
		sched_touch(s, obj, 1);
		w->last_view[p] = v;
	}
}

uint64_t world_undeclared(const struct world *w)
{
	return w->undeclared;
}

static const char *bound_name(void *ctx, int tid)
{
	return sched_thread_name(ctx, tid);
}

static uint64_t bound_waited(void *ctx, int tid, uint64_t *end)
{
	return sched_longest_wait(ctx, tid, end);
}

static int bound_runnable(void *ctx, int tid)
{
	/* a quiescence waiter is the harness's artefact: a fair scheduler
	 * runs it, so a spin that keeps it asleep starves it */
	return sched_thread_state(ctx, tid) == SCHED_T_RUNNABLE ||
	       sched_waiting_quiet(ctx, tid);
}

/* The step bound was hit: a spin (busy-spin) or no progress (livelock). */
static void classify_bound(struct world *w)
{
	struct inv_facts f = {.layer = INV_AT_BOUND};
	f.u.bound = (struct inv_bound){
		.nthreads = sched_nthreads(w->s), .ctx = w->s,
		.name = bound_name, .runnable = bound_runnable,
		.waited = bound_waited};
	f.u.bound.choices = sched_choices(w->s, &f.u.bound.n);
	check(w, &f);
	assert(w->v->violated);
}

/* Scenario threads that pause or resume the handler. A handler's drf
 * promise covers its lifecycle calls made by one thread at a time (the
 * harness's come after every scenario thread is joined): with two such
 * threads its plain lifecycle fields could race, so it keeps the heap. */
static int lifecycle_threads(const struct scenario *scn)
{
	int n = 0;
	for (int i = 0; i < scn->nthreads; i++) {
		int life = 0;
		for (int j = 0; j < scn->threads[i].nops; j++)
			life |= scn->threads[i].ops[j].kind == SCN_PAUSE ||
				scn->threads[i].ops[j].kind == SCN_RESUME;
		n += life;
	}
	return n;
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
	w->drf = handler_drf(handler, variants) && lifecycle_threads(scn) <= 1;
	for (int p = 0; p < scn->pages; p++)
		w->initial[p] = scn->fill[p] == SCN_FILL_ZERO ? 0 : MK_SNAP((uint64_t)p);
	for (int i = 0; i < scn->nthreads; i++)
		for (int j = 0; j < scn->threads[i].nops; j++)
			w->fails_for_good |= scn->threads[i].ops[j].kind == SCN_SOURCE_FAIL &&
					     scn->threads[i].ops[j].b == 0;
	return w;
}

void world_set_retry_cut(struct world *w, int on)
{
	w->retry_cut = !!on;
}

void world_set_kernel(struct world *w, int kver)
{
	w->kver = kver;
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

uint64_t world_digest(const struct world *w)
{
	uint64_t h = mix(w->dg_reads) ^ mix(w->dg_export + 1);
	for (int p = 0; w->k && p < w->scn->pages; p++) {
		struct mk_page_view pv;
		mk_page_view(w->k, p, &pv);
		h = mix(h ^ ((uint64_t)pv.present | (uint64_t)pv.wp << 1 | (uint64_t)pv.mapped << 2));
		h = mix(h ^ pv.content);
	}
	return h;
}

static uint64_t features_of(const struct scenario *scn)
{
	uint64_t f = 0;
	if (scn->event_remove)
		f |= UFFD_FEATURE_EVENT_REMOVE;
	if (scn->wp_async)
		f |= UFFD_FEATURE_WP_ASYNC;
	if (scn->event_unmap)
		f |= UFFD_FEATURE_EVENT_UNMAP;
	if (scn->event_remap)
		f |= UFFD_FEATURE_EVENT_REMAP;
	if (scn->event_fork)
		f |= UFFD_FEATURE_EVENT_FORK;
	if (scn->page_size != 4096)
		f |= UFFD_FEATURE_MISSING_HUGETLBFS;
	return f;
}

/* The scheduler and kernel of a run: made on the first, reset after. */
static int setup_run(struct world *w, const struct sched_opts *opts)
{
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
		.kver = w->kver,
	};
	/* a handler left by an abandoned run: its coroutines never run again */
	handler_discard(w->h);
	w->h = NULL;
	int err = 0;
	if (!w->k)
		err = (w->k = mk_new(w->s, &kc)) ? 0 : -ENOMEM;
	else
		err = mk_reset(w->k, &kc);
	if (!err)
		mk_set_retry_cut(w->k, w->retry_cut);
	return err;
}

/* The oracle's per-run state, back to its start. */
static void reset_oracle_state(struct world *w)
{
	/* invariants are checked where state changes (installs and backoffs
	 * through this observer, every guest read, the end of the run); a
	 * violation stops the run at the step that caused it, so no per-step
	 * hook is needed */
	struct mk_observer ob = {.ctx = w, .install = on_install, .zap = on_zap,
				 .sleep = on_sleep, .source_fail = on_source_fail,
				 .fault_read = on_fault_read};
	mk_set_observer(w->k, &ob);
	oracle_reset(&w->orc, w->scn->pages, w->initial);
	sched_heap_kinds(w->s, w->drf ? 0 : MK_HEAP_KINDS);
	w->undeclared = 0;
	w->h_live = 0;
	for (int p = 0; p < w->scn->pages; p++)
		w->last_view[p] = HPAGE_UNKNOWN;
	sched_set_fp_hook(w->s, fp_check, w);
	w->dg_reads = w->dg_export = 0;
	w->exited = 0;
	/* per-page state is indexed below scn->pages only: clearing the
	 * arrays' whole SCN_MAX_PAGES was most of a short run's set-up */
	size_t np = (size_t)w->scn->pages;
	memset(w->unchecked, 0, np * sizeof w->unchecked[0]);
	memset(w->done_ops, 0, sizeof w->done_ops);
	memset(w->written, 0, np * sizeof w->written[0]);
	memset(w->fill_raced, 0, np * sizeof w->fill_raced[0]);
	w->paused = 0;
	memset(w->writing, 0, np * sizeof w->writing[0]);
	memset(&w->progress, 0, sizeof w->progress);
	w->exit_excused = 0;
	memset(w->fresh_fault, 0, np * sizeof w->fresh_fault[0]);
	memset(w->in_after, 0, sizeof w->in_after);
	w->joining = 0;
	memset(w->fills, 0, np * sizeof w->fills[0]);
	for (int p = 0; p < w->scn->pages; p++)
		w->asked[p] = w->scn->prefetch ? 1 : 0; /* the handler's own prefetcher */
}

int world_run(struct world *w, const struct sched_opts *opts,
	      sched_step_sink sink, void *sink_ctx, struct verdict *v)
{
	memset(v, 0, sizeof *v);
	w->v = v;
	int err = setup_run(w, opts);
	if (err)
		return err;
	reset_oracle_state(w);
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
			OUTCOME(w, "replay-diverged",
				"the recorded schedule names a thread that cannot run at step %" PRIu64,
				v->steps);
	}
	return 0;
}

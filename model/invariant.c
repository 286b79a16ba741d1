/* The invariant registry: one check function per invariant, one row each.
 * The texts name the threads and pages of the run so that a report can be
 * read without the trace. */
#include "model/invariant.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/content.h"

#define AT(l) (1u << (l))

void inv_fmt_content(char *buf, size_t n, uint64_t c)
{
	if (c == 0)
		snprintf(buf, n, "zeros");
	else if (c == INV_FOREIGN)
		snprintf(buf, n, "foreign bytes");
	else if (MK_IS_SNAP(c))
		snprintf(buf, n, "snapshot(%" PRIu64 ")", MK_SNAP_PAGE(c));
	else if (MK_IS_WRITE(c))
		snprintf(buf, n, "write#%" PRIu64, MK_WRITE_ID(c));
	else
		snprintf(buf, n, "0x%" PRIx64, c);
}

static int stale_data(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_read *x = &f->u.read;
	/* no contract makes bytes appear that nothing wrote */
	if (x->got != INV_FOREIGN &&
	    (x->contract_breaks || /* relaxed: the trace's header says so */
	     oracle_read_ok(x->orc, x->page, x->got, x->start, x->end)))
		return 0;
	uint64_t c[8];
	int n = oracle_candidates(x->orc, x->page, x->start, x->end, c, 8);
	char want[200] = "", gs[48];
	for (int i = 0; i < n; i++) {
		char cs[48];
		inv_fmt_content(cs, sizeof cs, c[i]);
		snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
			 i ? " or " : "", cs);
	}
	inv_fmt_content(gs, sizeof gs, x->got);
	snprintf(r->text, sizeof r->text,
		 "%s read page %d as %s%s, but the sequential spec allows only %s",
		 x->who, x->page, gs, x->where ? x->where : "", want);
	return 1;
}

static int install_into_removed(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_install *x = &f->u.install;
	if (x->content == 0 || x->view != HPAGE_REMOVED)
		return 0;
	char cs[48];
	inv_fmt_content(cs, sizeof cs, x->content);
	snprintf(r->text, sizeof r->text,
		 "thread %s installed %s into page %d, which the handler already marks removed",
		 x->who, cs, x->page);
	return 1;
}

/* More fills of a page than anything asked for: each fault message read
 * and each prefetch may fill its page once (a second fill needs the page
 * gone, and only a new fault or prefetch asks for it again). An extra
 * fill is a request served twice, which re-populates a page the balloon
 * removed since: its memory is taken back from the host (mutant
 * 24-deferred-kept: served faults re-dispatched at every wake-up). */
static int unrequested_refill(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_install *x = &f->u.install;
	if (x->fills <= x->asked)
		return 0;
	char cs[48];
	inv_fmt_content(cs, sizeof cs, x->content);
	snprintf(r->text, sizeof r->text,
		 "thread %s filled page %d with %s (its fill %u) though only %u request%s for it came (fault messages read, prefetches): a removed page re-populated that nothing asked for",
		 x->who, x->page, cs, x->fills, x->asked, x->asked == 1 ? "" : "s");
	return 1;
}

/* A handler thread backs off holding a read lock while a madvise waits for
 * its REMOVE to be read and the uffd's reader is blocked: reading the uffd
 * waits for the handler's I/O retries (B4; docs/HANDLER.md B39). */
static int madvise_blocked_backoff(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_backoff *x = &f->u.backoff;
	if (x->read_locks <= 0 || !x->madvise_waiting || !x->reader_blocked)
		return 0;
	snprintf(r->text, sizeof r->text,
		 "%s's REMOVE stays unread: the serve loop is blocked while %s, holding the settle read lock, sleeps in a source-retry backoff (madvise waits for the handler's I/O)",
		 x->madvise_waiting, x->sleeper);
	return 1;
}

static int tracker_disagrees(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_export *x = &f->u.exp;
	/* a guest that breaks the contract faults a page while it is being
	 * removed: the install can land between the REMOVE's read and its
	 * zap (rule 25), which reference's fault path takes as zeros */
	/* the same where a stale fault message (its fault resolved by another
	 * fill) is served in that window though the guest keeps it: the
	 * handler's mark outlives the zap, and its next fault is zeros */
	if (!x->mid_run && x->orc && !x->contract_breaks && x->tracker == HPAGE_DIRTY &&
	    !x->present && !x->fill_raced_remove) {
		snprintf(r->text, sizeof r->text,
			 "page %d is marked dirty but absent at %s: its next fault is short-circuited or served by a guess",
			 x->page, x->when ? x->when : "the export");
		return 1;
	}
	if (x->mid_run || x->view != HPAGE_REMOVED || !x->present || x->content == 0)
		return 0;
	char cs[48];
	inv_fmt_content(cs, sizeof cs, x->content);
	snprintf(r->text, sizeof r->text, "page %d is marked removed but holds %s%s",
		 x->page, cs, x->where ? x->where : "");
	return 1;
}

enum export_miss { EXP_OK = 0, EXP_LOST_WRITE, EXP_NOT_ZERO, EXP_STALE };

/* How a restored page misses the spec: a write the spec wants is missing,
 * a page the spec has removed holds data, or an untouched page lost its
 * snapshot bytes. want gets the values the spec allows. */
static enum export_miss export_miss(const struct inv_export *x, char *want, size_t n)
{
	if (!x->orc || x->contract_breaks ||
	    (x->restored != INV_FOREIGN &&
	     oracle_read_ok(x->orc, x->page, x->restored, x->start, x->end)))
		return EXP_OK;
	uint64_t c[8];
	int nc = oracle_candidates(x->orc, x->page, x->start, x->end, c, 8);
	int writes = 0, zeros = 0;
	want[0] = '\0';
	for (int i = 0; i < nc; i++) {
		char cs[48];
		inv_fmt_content(cs, sizeof cs, c[i]);
		snprintf(want + strlen(want), n - strlen(want), "%s%s", i ? " or " : "", cs);
		writes += MK_IS_WRITE(c[i]);
		zeros += c[i] == 0;
	}
	if (writes)
		return EXP_LOST_WRITE;
	return zeros == nc && nc > 0 ? EXP_NOT_ZERO : EXP_STALE;
}

static int export_check(const struct inv_facts *f, struct inv_report *r, enum export_miss kind)
{
	const struct inv_export *x = &f->u.exp;
	char want[200], gs[48];
	if (export_miss(x, want, sizeof want) != kind)
		return 0;
	inv_fmt_content(gs, sizeof gs, x->restored);
	snprintf(r->text, sizeof r->text,
		 "a restore from the snapshot and %s gives page %d %s (exported %s), but the sequential spec allows only %s",
		 x->when ? x->when : "the export", x->page, gs, hpage_name(x->view), want);
	return 1;
}

static int export_lost_write(const struct inv_facts *f, struct inv_report *r)
{
	return export_check(f, r, EXP_LOST_WRITE);
}

static int export_not_zero(const struct inv_facts *f, struct inv_report *r)
{
	return export_check(f, r, EXP_NOT_ZERO);
}

static int export_stale(const struct inv_facts *f, struct inv_report *r)
{
	return export_check(f, r, EXP_STALE);
}

/* Under WP, a page the guest wrote since its last install must be dirty:
 * uffd-wp clear in the pagemap (WP_ASYNC), or dirty in the handler's view
 * (sync WP, where every write to an armed page is a message). */
static int wp_written_clean(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_dirty *x = &f->u.dirty;
	if (!x->present || !x->written || (x->wp_async ? !x->wp : x->view == HPAGE_DIRTY))
		return 0;
	if (x->wp_async)
		snprintf(r->text, sizeof r->text,
			 "page %d was written by the guest since its last install but is write-protected again %s (pagemap: clean, so a diff leaves it out)",
			 x->page, x->when);
	else
		snprintf(r->text, sizeof r->text,
			 "page %d was written by the guest since its last install but the handler's view is %s %s",
			 x->page, hpage_name(x->view), x->when);
	return 1;
}

/* Under WP_ASYNC, a present page no guest wrote since its last install
 * (and none is writing) must be armed: else the pagemap calls it dirty
 * and every diff ships it (B9). Checked only where no install is half
 * done (a zero-fill is armed in a second step at REF). */
static int wp_unwritten_dirty(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_dirty *x = &f->u.dirty;
	if (!x->wp_async || !x->settled || !x->present || x->wp || x->written || x->writing)
		return 0;
	snprintf(r->text, sizeof r->text,
		 "page %d reads dirty in the pagemap (present, not write-protected) %s, but no guest wrote it since its last install",
		 x->page, x->when);
	return 1;
}

/* The first thread that waits on the handler (a fault) or on the uffd's
 * reader (an event): the one a stuck run is reported for. */
static const struct inv_blocked *first_waiter(const struct inv_stuck *x)
{
	for (int i = 0; i < x->n; i++)
		if (x->t[i].fault_page != -1 || x->t[i].event_wait)
			return &x->t[i];
	return NULL;
}

static void fault_text(const struct inv_stuck *x, const struct inv_blocked *b,
		       struct inv_report *r)
{
	const char *why = x->handler_error;
	if (b->fault_page == INV_PAGE_UNKNOWN) { /* hardware: only "no progress" is seen */
		snprintf(r->text, sizeof r->text,
			 "%s is blocked in a fault forever%s: no worker, deferred entry or wake serves it%s%s",
			 b->name, x->where ? x->where : "", why ? "; the handler exited: " : "",
			 why ? why : "");
		return;
	}
	char page[32] = "a page";
	if (b->fault_page >= 0)
		snprintf(page, sizeof page, "page %d", b->fault_page);
	snprintf(r->text, sizeof r->text,
		 "%s is blocked on %s forever%s: its fault message was %s and no worker, deferred entry or wake will serve it (handler's view: %s, page %s)%s%s",
		 b->name, page, x->where ? x->where : "",
		 b->fault_read ? "read" : "never read", b->have_view ? hpage_name(b->view) : "gone",
		 b->page_present ? "present" : "absent",
		 why ? "; the handler exited: " : "", why ? why : "");
}

static int handler_exit_stuck(const struct inv_stuck *x, struct inv_report *r)
{
	const struct inv_blocked *b = first_waiter(x);
	if (!b || b->fault_page == -1 || !x->handler_error)
		return 0;
	fault_text(x, b, r);
	return 1;
}

static int handler_exit(const struct inv_facts *f, struct inv_report *r)
{
	if (f->layer == INV_AT_STUCK)
		return handler_exit_stuck(&f->u.stuck, r);
	const struct inv_stop *x = &f->u.stop;
	if (!x->err)
		return 0;
	snprintf(r->text, sizeof r->text, "the handler exited: %s",
		 x->handler_error ? x->handler_error : strerror(-x->err));
	return 1;
}

/* A uffd call on a closed number gets EBADF on one VM; once the number is
 * reused by another sandbox's uffd it lands in that registration
 * (docs/HANDLER.md B19, B35 W4). */
static int fd_after_close(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_stop *x = &f->u.stop;
	if (x->bad_uffd_calls <= 0)
		return 0;
	char fd[24] = "an fd";
	if (x->bad_uffd_fd >= 0)
		snprintf(fd, sizeof fd, "fd %d", x->bad_uffd_fd);
	snprintf(r->text, sizeof r->text,
		 "%s made a uffd call on %s, which was no open uffd (%s; %d such call%s): a reused number lands in another registration",
		 x->bad_uffd_who ? x->bad_uffd_who : "a handler thread", fd,
		 strerror(-x->bad_uffd_err), x->bad_uffd_calls, x->bad_uffd_calls > 1 ? "s" : "");
	return 1;
}

static int lost_wake(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_stuck *x = &f->u.stuck;
	const struct inv_blocked *b = first_waiter(x);
	if (!b || b->fault_page == -1 || x->handler_error)
		return 0;
	fault_text(x, b, r);
	return 1;
}

static int madvise_blocked(const struct inv_facts *f, struct inv_report *r)
{
	if (f->layer == INV_AT_BACKOFF)
		return madvise_blocked_backoff(f, r);
	const struct inv_stuck *x = &f->u.stuck;
	const struct inv_blocked *b = first_waiter(x);
	if (!b || b->fault_page != -1)
		return 0;
	assert(b->event_wait);
	snprintf(r->text, sizeof r->text,
		 "%s is blocked in madvise forever%s: nobody reads its REMOVE", b->name,
		 x->where ? x->where : "");
	return 1;
}

static int deadlock(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_stuck *x = &f->u.stuck;
	if (first_waiter(x))
		return 0; /* reported as a lost wake or a blocked madvise */
	char who[256] = "";
	for (int i = 0; i < x->n; i++)
		snprintf(who + strlen(who), sizeof who - strlen(who), "%s%s",
			 who[0] ? ", " : "", x->t[i].name);
	snprintf(r->text, sizeof r->text, "no thread can run; blocked: %s", who);
	return 1;
}

/* Steps since tid last ran, or n if it never did. */
static size_t idle_steps(const struct inv_bound *x, int tid)
{
	for (size_t i = x->n; i-- > 0;)
		if (x->choices[i] == (uint32_t)tid)
			return x->n - 1 - i;
	return x->n;
}

/* If a runnable thread was starved for most of the run (the strategy never
 * picked it), the others spun on something it would end: with a fair OS
 * scheduler that is wasted CPU, not a hang (B14). */
static int busy_spin(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_bound *x = &f->u.bound;
	for (int t = 0; t < x->nthreads; t++) {
		size_t idle = x->runnable(x->ctx, t) ? idle_steps(x, t) : 0, end = x->n;
		/* a spin that the starved thread ended just before the bound is
		 * a spin all the same, not a livelock: its longest wait */
		uint64_t wend = 0, w = idle > x->n / 2 || !x->waited ? 0 : x->waited(x->ctx, t, &wend);
		if (w > idle && wend <= x->n) {
			idle = (size_t)w;
			end = (size_t)wend;
		}
		if (idle <= x->n / 2)
			continue;
		char spinners[200] = "";
		for (size_t i = end > 64 ? end - 64 : 0; i < end; i++) {
			const char *nm = x->name(x->ctx, (int)x->choices[i]);
			if (!strstr(spinners, nm) && strlen(spinners) + strlen(nm) + 3 < sizeof spinners)
				snprintf(spinners + strlen(spinners), sizeof spinners - strlen(spinners),
					 "%s%s", spinners[0] ? ", " : "", nm);
		}
		char until[40] = "";
		if (end < x->n)
			snprintf(until, sizeof until, " until step %zu", end);
		snprintf(r->text, sizeof r->text,
			 "%s spun for %zu steps without progress while %s, runnable, was not scheduled%s: a fair scheduler ends it, but the loop burns CPU until then (step bound %zu)",
			 spinners, idle, x->name(x->ctx, t), until, x->n);
		return 1;
	}
	return 0;
}

static int livelock(const struct inv_facts *f, struct inv_report *r)
{
	const struct inv_bound *x = &f->u.bound;
	snprintf(r->text, sizeof r->text,
		 "no end after %zu steps (step bound) although every runnable thread kept running",
		 x->n);
	return 1; /* after busy-spin: hitting the bound is itself the failure */
}

const struct invariant inv_table[] = {
	{"stale-data", "a guest read returns a value the per-page sequential specification allows",
	 AT(INV_AT_READ), stale_data},
	{"install-into-removed", "no data is installed into a page the handler marks removed",
	 AT(INV_AT_INSTALL), install_into_removed},
	{"unrequested-refill", "a page is filled no more often than faults and prefetches ask for it (no removed page re-populated unasked)",
	 AT(INV_AT_INSTALL), unrequested_refill},
	{"tracker-disagrees", "after the handler stopped, a page it would export as removed holds no data (and, in the simulator, a page marked dirty is present)",
	 AT(INV_AT_EXPORT), tracker_disagrees},
	{"export-lost-write", "a restore from snapshot + export keeps every page's last write",
	 AT(INV_AT_EXPORT), export_lost_write},
	{"export-not-zero", "a restore from snapshot + export reads zeros where the page was removed",
	 AT(INV_AT_EXPORT), export_not_zero},
	{"export-stale", "a restore from snapshot + export reads an untouched page's snapshot bytes",
	 AT(INV_AT_EXPORT), export_stale},
	{"wp-written-clean", "under WP, a page the guest wrote since its last install is dirty (pagemap, or the handler's view)",
	 AT(INV_AT_DIRTY), wp_written_clean},
	{"wp-unwritten-dirty", "under WP_ASYNC, a page only the handler wrote reads clean (write-protected) in the pagemap",
	 AT(INV_AT_DIRTY), wp_unwritten_dirty},
	{"handler-exit", "the handler does not exit with an error (unless the source of a page it needed fails for good)",
	 AT(INV_AT_STUCK) | AT(INV_AT_STOP), handler_exit},
	{"fd-after-close", "the handler makes no uffd call on a closed (or reused) fd number",
	 AT(INV_AT_STOP), fd_after_close},
	{"lost-wake", "every guest fault is eventually served and its thread woken",
	 AT(INV_AT_STUCK), lost_wake},
	{"madvise-blocked", "a madvise's REMOVE is read without waiting for the handler's I/O",
	 AT(INV_AT_STUCK) | AT(INV_AT_BACKOFF), madvise_blocked},
	{"deadlock", "some thread can always run until every thread ends",
	 AT(INV_AT_STUCK), deadlock},
	{"busy-spin", "no handler loop spins while the thread it waits for is runnable",
	 AT(INV_AT_BOUND), busy_spin},
	{"livelock", "the run ends within the step bound",
	 AT(INV_AT_BOUND), livelock},
	{NULL, NULL, 0, NULL},
};

const struct inv_outcome inv_outcomes[] = {
	{"setup", "the run could not be set up (the handler or a thread did not start)"},
	{"replay-diverged", "a recorded schedule names a thread that cannot run"},
	{"harness", "a scenario thread failed on hardware for a reason of its own"},
	{"op-failed", "a scenario operation returned an error, so the run is not the one written"},
	{NULL, NULL},
};

int inv_check(const struct inv_facts *f, struct inv_report *r)
{
	assert((unsigned)f->layer < INV_NLAYERS);
	for (const struct invariant *i = inv_table; i->name; i++) {
		if (!(i->layers & AT(f->layer)))
			continue;
		r->text[0] = '\0';
		if (i->check(f, r)) {
			assert(r->text[0]);
			r->name = i->name;
			return 1;
		}
	}
	return 0;
}

const struct invariant *inv_find(const char *name)
{
	for (const struct invariant *i = inv_table; i->name; i++)
		if (strcmp(i->name, name) == 0)
			return i;
	return NULL;
}

const char *inv_known(const char *name)
{
	const struct invariant *i = inv_find(name);
	if (i)
		return i->name;
	for (const struct inv_outcome *o = inv_outcomes; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o->name;
	return NULL;
}

const char *inv_layer_name(enum inv_layer l)
{
	static const char *const names[INV_NLAYERS] = {
		[INV_AT_READ] = "read", [INV_AT_INSTALL] = "install",
		[INV_AT_BACKOFF] = "backoff", [INV_AT_EXPORT] = "export",
		[INV_AT_STUCK] = "stuck", [INV_AT_STOP] = "stop",
		[INV_AT_BOUND] = "bound", [INV_AT_DIRTY] = "dirty",
	};
	return (unsigned)l < INV_NLAYERS ? names[l] : "?";
}

const struct inv_report *inv_outcome(struct inv_report *r, const char *name,
				     const char *fmt, ...)
{
	assert(!inv_find(name) && inv_known(name));
	r->name = inv_known(name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
	return r;
}

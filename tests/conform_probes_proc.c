/* tests/conform_probes_proc.c — conformance probes of a fill racing a
 * REMOVE being queued (rule 16), of fork (rule 39) and of the exit of the
 * process that owns the memory (rule 44).
 * The fork and exit probes run on memory of a process of its own
 * (struct cmem.proc): on the real kernel a child of the test process made
 * the uffd and passed it over, so the test process's threads never fork
 * and never exit. fill_remove is a race judged by its set of outcomes
 * (tests/test_conformance.c, test_fill_remove); the others settle after
 * every action and are compared line by line.
 */
#include "tests/conform_probes.h"

#include <errno.h>

#include "tests/conform_probe_util.h"

/* Pages present, and how many of them do not hold snap(1). */
static int count_present(struct pc *c, int n, int *odd)
{
	int k = 0;

	*odd = 0;
	for (int p = 0; p < n; p++) {
		struct cview v;

		if (c->e->ops->view(c->e, p, &v)) {
			clog_add(c->L, "ERROR view p%d", p);
			return -1;
		}
		k += v.present;
		*odd += v.present && !(v.content.kind == CC_SNAP && v.content.arg == 1);
	}
	return k;
}

/* Rule 16: a COPY of C_FILL_REMOVE_PAGES pages starts, then a madvise of
 * the same range. Looked at as soon as the REMOVE is queued and again once
 * the COPY returned (the REMOVE still unread, so nothing was zapped): from
 * 6.9 the pages are all there or none, the same both times, and a COPY
 * that did not fill is refused whole (EAGAIN, nothing copied); before 6.9
 * a COPY that passed the check fills while the REMOVE is queued. */
void cprobe_fill_remove(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);
	const int n = C_FILL_REMOVE_PAGES;
	struct cres cr;
	int odd[3];

	if (p_open(c, KB4, n, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	uint64_t len = (uint64_t)n * e->ps;
	void *src = e->sys->ops->buf_alloc(e->sys, len);

	if (!src || e->ops->fill(e, src, len, cc_snap(1))) {
		clog_add(L, "ERROR source buffer");
		return;
	}
	int hc = p_copy_async(c, 0, n, src);
	int hm = p_dontneed(c, 0, n);

	if (hc < 0 || hm < 0 || p_await(c))
		return;
	int a = count_present(c, n, &odd[0]);

	p_settle(c);
	int b = count_present(c, n, &odd[1]);

	p_state(c, "queued", hm);
	p_uread(c, "read", 1);
	p_settle(c);
	p_state(c, "zapped", hm);
	int f = count_present(c, n, &odd[2]);

	struct cres mr;

	e->ops->result(e, hc, &cr);
	e->ops->result(e, hm, &mr);
	/* real only: madvise entered while the COPY ran (the race was run) */
	if (cr.t_leave)
		clog_add(L, "overlap: %d", mr.t_enter > cr.t_enter &&
			 mr.t_enter < cr.t_leave);
	if (!cr.done || odd[0] || odd[1] || odd[2]) {
		clog_add(L, "ERROR copy done=%d, pages not snap(1): %d %d %d",
			 cr.done, odd[0], odd[1], odd[2]);
		return;
	}
	char eb[24];
	long long copied = cr.field > 0 ? cr.field / (int64_t)e->ps : 0;

	clog_add(L, C_OUTCOME_PREFIX "pending=%d,%d copy=%s,%lld final=%d", a, b,
		 p_err(cr.rc, eb, sizeof eb), copied, f);
	e->sys->ops->buf_free(e->sys, src, len);
}

/* Serve the child's fault through the FORK's uffd, then close it. */
static void serve_child(struct pc *c, int h)
{
	int parent = c->e->uffd;

	if (c->fork_ufd < 0) {
		clog_add(c->L, "ERROR no FORK read");
		return;
	}
	c->e->uffd = c->fork_ufd;
	p_uread(c, "child uffd", 8);
	p_copy(c, "serve child", 1, 1, cc_snap(1), 0);
	p_settle(c);
	p_state(c, "served", h);
	p_rc(c, "close child uffd", c->e->sys->ops->close(c->e->sys, c->fork_ufd));
	c->e->uffd = parent;
	c->fork_ufd = -1;
}

/* Rule 39 with EVENT_FORK: fork blocks in the parent until FORK is read;
 * the read gives a new uffd; the child's fault on a missing page goes to
 * it, not to the parent's; a present page was copied to the child. */
void cprobe_fork(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open_proc(c, 4, UFFD_FEATURE_EVENT_FORK, 0))
		return;
	p_copy(c, "setup", 0, 1, cc_snap(0), 0);
	int h = p_fork(c, 1);

	p_settle(c);
	p_state(c, "unread", h);
	p_poll(c, "unread");
	p_uread(c, "read", 8);
	p_settle(c);
	p_state(c, "child faults", h);
	p_uread(c, "parent uffd", 8);
	serve_child(c, h);
	int h2 = p_fork(c, 0);

	p_settle(c);
	p_state(c, "second fork", h2);
	p_uread(c, "second fork", 8);
	p_settle(c);
	p_state(c, "present page", h2);
	if (c->fork_ufd >= 0)
		p_rc(c, "close child uffd",
		     e->sys->ops->close(e->sys, c->fork_ufd));
}

/* Rule 39 without EVENT_FORK: fork never blocks, nothing is queued, the
 * child's VMAs are unregistered: it reads zeros where the parent has a
 * missing page and the parent's data where it has one. */
void cprobe_fork_plain(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open_proc(c, 4, 0, 0))
		return;
	p_copy(c, "setup", 0, 1, cc_snap(0), 0);
	int h = p_fork(c, 1);

	p_settle(c);
	p_state(c, "missing page", h);
	p_uread(c, "nothing queued", 8);
	int h2 = p_fork(c, 0);

	p_settle(c);
	p_state(c, "present page", h2);
	p_copy(c, "parent still registered", 1, 1, cc_snap(1), 0);
}

/* Rule 44: the process's exit (real: its death by SIGKILL, the same
 * do_exit) ends a thread's wait in a fault and drops its unread message;
 * after it COPY, ZEROPAGE
 * and WRITEPROTECT get ESRCH (after validation: a misaligned range is
 * still EINVAL); read, poll and WAKE work; nothing was queued. Rule 13's
 * EAGAIN would come first, but it cannot be seen here: exit ends the
 * event waits that raised mmap_changing, which lowers it again. */
void cprobe_exit(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open_proc(c, 4, 0, 1))
		return;
	p_copy(c, "alive", 0, 1, cc_snap(0), 0);
	int r = p_read(c, 1);

	p_settle(c);
	p_state(c, "alive", r);
	p_poll(c, "alive");
	int h = p_exit(c);

	p_settle(c);
	p_state(c, "exit", h);
	p_state(c, "exit", r);
	p_copy(c, "exited", 1, 1, cc_snap(1), 0);
	p_zero(c, "exited", 2, 1, 0);
	p_wp(c, "exited", 0, 1, WP_ON);
	p_copy(c, "exited", 0, 1, cc_snap(0), 0);
	p_copy_raw(c, "misaligned", e->base + 8, e->ps, &(struct cc){CC_SNAP, 1},
		   0, 1);
	p_zero_raw(c, "odd length", c_addr(e, 3), 100, 0, 1);
	p_wake(c, "exited", 1, 1);
	p_poll(c, "exited");
	p_uread(c, "exited", 8);
}

/* The e2b-ref serve loop (docs/HANDLER.md 1.4): poll uffd + exit + wake pipe,
 * drain the uffd until EAGAIN, apply the batch's REMOVEs under the settle
 * write lock, then hand each fault (deferred ones first) to a worker. */
#include "e2b.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void e2b_signal_exit(struct serve *sv)
{
	struct e2b *h = sv->h;
	if (!h->o->atomic_cas(h->sys, &sv->exit_once, 0, 1))
		return;
	char b = 1;
	/* a full pipe already says "exit", so the result does not matter */
	(void)h->o->write(h->sys, sv->exit_fds[1], &b, 1);
}

static int push(struct uffd_msg **a, int *n, int *cap, const struct uffd_msg *m)
{
	assert(*n >= 0 && *n <= *cap && (*cap == 0 || *a));
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 8;
		struct uffd_msg *na = realloc(*a, (size_t)nc * sizeof **a);
		if (!na)
			return -ENOMEM;
		*a = na;
		*cap = nc;
	}
	(*a)[(*n)++] = *m;
	assert(*n <= *cap);
	return 0;
}

/* read_all: one message per read until EAGAIN (REF since #2445). */
static int read_all(struct e2b *h, struct batch *b)
{
	for (;;) {
		struct uffd_msg m;
		int n = h->o->uffd_read(h->sys, h->cfg.uffd, &m, 1);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == 0)
			return 0;
		if (n < 0) {
			e2b_fail(h, n, "reading the uffd failed: %s", strerror(-n));
			return n;
		}
		int err;
		if (m.event == UFFD_EVENT_PAGEFAULT)
			err = push(&b->faults, &b->nfaults, &b->capfaults, &m);
		else if (m.event == UFFD_EVENT_REMOVE)
			err = push(&b->removes, &b->nremoves, &b->capremoves, &m);
		else {
			e2b_fail(h, -EPROTO, "unexpected uffd event type %u", m.event);
			return -EPROTO;
		}
		if (err)
			return err;
		/* B11 (bc94cdf): every entry pointed at the one message buffer,
		 * so a batch's faults all read as the last fault read */
		if ((h->cfg.variants & VARIANT_ALIAS_BATCH) && m.event == UFFD_EVENT_PAGEFAULT)
			for (int i = 0; i < b->nfaults; i++)
				b->faults[i] = m;
	}
}

/* locked: the caller already holds the settle write lock (FIX_READ_GATE) */
static void apply_removes(struct e2b *h, const struct batch *b, int locked)
{
	if (!b->nremoves)
		return;
	if (!locked)
		h->o->wrlock(h->sys, h->settle);
	for (int i = 0; i < b->nremoves; i++) {
		uint64_t start = b->removes[i].arg.remove.start;
		uint64_t end = b->removes[i].arg.remove.end;
		if (start < h->cfg.base || start >= h->cfg.base + h->cfg.size)
			continue; /* REF: "not found" is logged and skipped */
		uint64_t off = start - h->cfg.base;
		uint64_t first = off / h->cfg.page_size;
		/* REF assumes page alignment (B23): length / page size */
		uint64_t len = end - start;
		if (h->cfg.variants & VARIANT_REMOVE_LEN_TRUNCATED)
			len = (uint32_t)len; /* B22: narrowed before the division */
		uint64_t last = first + len / h->cfg.page_size;
		assert(end >= start && first <= last);
		tracker_set_range(&h->tr, first, last, PAGE_ZERO);
		if (last > first) /* B22's truncated range marks nothing */
			h->o->note(h->sys, SYS_NOTE_TRACKER, first, PAGE_ZERO);
		e2b_stat(h, &h->st.removes);
	}
	if (!locked)
		h->o->wrunlock(h->sys, h->settle);
}

/* errgroup.Go: blocks the caller while max_workers are alive. */
static int dispatch(struct serve *sv, const struct uffd_msg *m, int retry)
{
	struct e2b *h = sv->h;
	const struct sys_ops *o = h->o;
	uint64_t flags = m->arg.pagefault.flags;
	uint64_t addr = m->arg.pagefault.address;
	if (flags & UFFD_PAGEFAULT_FLAG_MINOR) {
		e2b_fail(h, -EPROTO, "unexpected MINOR fault at 0x%llx", (unsigned long long)addr);
		return -EPROTO;
	}
	if (flags & UFFD_PAGEFAULT_FLAG_WP) {
		e2b_fail(h, -EPROTO, "unexpected WP fault at 0x%llx (WP_ASYNC never delivers one)",
			 (unsigned long long)addr);
		return -EPROTO;
	}
	if (addr < h->cfg.base || addr >= h->cfg.base + h->cfg.size) {
		e2b_fail(h, -EFAULT, "fault at 0x%llx outside the mapping", (unsigned long long)addr);
		return -EFAULT;
	}
	/* a long Serve frees what its ended workers left (the real backend's
	 * stress); the simulator's scenarios never get there */
	if (h->nworks >= 64)
		e2b_work_reclaim(h, 0);
	struct work *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->seq = h->work_seq++;
	w->next = h->works;
	h->works = w;
	h->nworks++;
	w->sv = sv;
	w->msg = *m;
	w->offset = (addr - h->cfg.base) / h->cfg.page_size * h->cfg.page_size;
	w->pre_state = -1;
	w->retry = retry;
	if (h->cfg.variants & VARIANT_STALE_SOURCE) /* B1: decided before the lock */
		w->pre_state = (int)tracker_get(&h->tr, w->offset / h->cfg.page_size);
	o->sem_acquire(h->sys, h->wg);
	assert(w->offset < h->cfg.size);
	e2b_stat(h, &h->st.faults);
	int err = o->spawn(h->sys, NULL, "worker", e2b_worker_main, w);
	if (err) {
		w->done = 1;
		o->sem_release(h->sys, h->wg);
		e2b_fail(h, err, "spawning a worker failed: %s", strerror(-err));
	}
	return err;
}

static void wait_workers(struct e2b *h)
{
	h->o->sem_wait_zero(h->sys, h->wg);
	e2b_work_reclaim(h, 1); /* every worker has marked its item done */
}

static void drain_pipe(struct e2b *h, int fd)
{
	char buf[64];
	while (h->o->read(h->sys, fd, buf, sizeof buf) > 0)
		;
}

/* deferred ++ the batch's faults, into sv->merge; returns how many or
 * -ENOMEM. The deferred queue is emptied. */
static int take_deferred(struct serve *sv)
{
	struct e2b *h = sv->h;
	struct batch *b = &sv->b;
	int n = 0;
	h->o->mutex_lock(h->sys, sv->dmu);
	assert(sv->ndeferred >= 0 && sv->ndeferred <= sv->capdeferred);
	int need = sv->ndeferred + b->nfaults;
	if (need > sv->capmerge) {
		struct uffd_msg *m = realloc(sv->merge, (size_t)need * sizeof *m);
		if (!m) {
			h->o->mutex_unlock(h->sys, sv->dmu);
			return -ENOMEM;
		}
		sv->merge = m;
		sv->capmerge = need;
	}
	if (sv->ndeferred)
		memcpy(sv->merge, sv->deferred, (size_t)sv->ndeferred * sizeof *sv->merge);
	n = sv->ndeferred;
	sv->ndeferred = 0;
	h->o->mutex_unlock(h->sys, sv->dmu);
	if (b->nfaults)
		memcpy(sv->merge + n, b->faults, (size_t)b->nfaults * sizeof *sv->merge);
	assert(n + b->nfaults <= sv->capmerge || n + b->nfaults == 0);
	return n + b->nfaults;
}

/* Read one batch under readSerial and apply its REMOVEs (the read step of
 * an iteration whose poll found the uffd readable). */
static int read_step(struct serve *sv)
{
	struct e2b *h = sv->h;
	const struct sys_ops *o = h->o;
	struct batch *b = &sv->b;
	/* gate: no worker may be between its state check and its install
	 * while a REMOVE is read (reading it lets madvise resume and zap) */
	int gate = !!(h->fixes & FIX_READ_GATE) ||
		   !!(h->cfg.variants & VARIANT_READ_UNDER_SETTLE); /* B4 */
	o->mutex_lock(h->sys, h->read_serial);
	if (gate)
		o->wrlock(h->sys, h->settle);
	int err = read_all(h, b);
	if (!err && !(h->cfg.variants & VARIANT_DISPATCH_BEFORE_REMOVE))
		apply_removes(h, b, gate);
	if (gate)
		o->wrunlock(h->sys, h->settle);
	o->mutex_unlock(h->sys, h->read_serial);
	return err;
}

/* Deferred faults first, then the batch's: each to a worker. */
static int dispatch_all(struct serve *sv)
{
	struct e2b *h = sv->h;
	const struct sys_ops *o = h->o;
	struct batch *b = &sv->b;
	int nf = take_deferred(sv);
	if (nf < 0)
		return nf;
	/* only retries, nothing new: whoever must act first (a madvise
	 * thread resuming after its REMOVE was read) needs the CPU */
	if ((h->fixes & FIX_YIELD_ON_RETRY) && nf && !b->nfaults && !b->nremoves)
		o->yield(h->sys);
	int err = 0;
	int ndef = nf - b->nfaults; /* take_deferred put them first */
	for (int i = 0; i < nf && !err; i++)
		err = dispatch(sv, &sv->merge[i], i < ndef);
	if (err)
		return err;
	if (h->cfg.variants & VARIANT_DISPATCH_BEFORE_REMOVE) { /* B5 */
		o->mutex_lock(h->sys, h->read_serial);
		apply_removes(h, b, 0);
		o->mutex_unlock(h->sys, h->read_serial);
	}
	return 0;
}

static int serve_loop(struct serve *sv)
{
	struct e2b *h = sv->h;
	const struct sys_ops *o = h->o;
	struct batch *b = &sv->b;
	for (;;) {
		struct sys_pollfd fds[3] = {
			{h->cfg.uffd, SYS_POLLIN, 0},
			{sv->exit_fds[0], SYS_POLLIN, 0},
			{h->wake_fds[0], SYS_POLLIN, 0},
		};
		int r = o->poll(h->sys, fds, 3, -1);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r < 0) {
			e2b_fail(h, r, "poll failed: %s", strerror(-r));
			return r;
		}
		if (fds[1].revents & SYS_POLLIN)
			return 0; /* unread messages and deferred faults are abandoned */
		if (fds[2].revents & SYS_POLLIN)
			drain_pipe(h, h->wake_fds[0]);
		b->nfaults = b->nremoves = 0;
		if (fds[0].revents & SYS_POLLIN) {
			int err = read_step(sv);
			if (err)
				return err;
			/* B7 (#1896): readable, but nothing was read (the fault
			 * was woken meanwhile, rule 9): back to poll, leaving the
			 * deferred faults whose pipe byte was just drained */
			if ((h->cfg.variants & VARIANT_SKIP_DEFERRED_ON_EMPTY_READ) &&
			    !b->nfaults && !b->nremoves)
				continue;
		}
		int err = dispatch_all(sv);
		if (err)
			return err;
	}
}

void e2b_serve_release(struct serve *sv)
{
	free(sv->b.faults);
	free(sv->b.removes);
	free(sv->merge);
	free(sv->deferred);
	free(sv);
}

/* Serve ended with an error of its own or of a worker (SignalExit), not
 * for a harness pause: the sandbox is torn down (B18, B19 variants). */
static int ended_for_good(struct serve *sv)
{
	struct e2b *h = sv->h;
	h->o->mutex_lock(h->sys, h->wg_mu);
	int failed = sv->err || h->wg_err;
	h->o->mutex_unlock(h->sys, h->wg_mu);
	return failed;
}

void e2b_serve_main(void *arg)
{
	struct serve *sv = arg;
	struct e2b *h = sv->h;
	sv->err = serve_loop(sv);
	/* B18 (before 9272d61): Serve returned before its workers ended, and
	 * uffd.go closed the uffd; the wait below is only the C harness's
	 * (Go's GC kept the memory alive) */
	if ((h->cfg.variants & VARIANT_WORKERS_OUTLIVE_SERVE) && ended_for_good(sv))
		e2b_teardown(h);
	wait_workers(h); /* on every return (9272d61, B18) */
	/* B19 (before #2830): after the workers, uffd.go's close; Prefault
	 * does not check for it */
	if ((h->cfg.variants & VARIANT_PREFAULT_AFTER_CLOSE) && ended_for_good(sv))
		e2b_teardown(h);
	if (h->fixes & FIX_WAKE_DEFERRED) {
		/* the queue dies with this Serve: let each thread re-fault, so
		 * that the next Serve (or the kernel's teardown) sees it again */
		for (int i = 0; i < sv->ndeferred; i++) {
			uint64_t a = sv->deferred[i].arg.pagefault.address;
			a -= (a - h->cfg.base) % h->cfg.page_size;
			(void)h->o->uffd_wake(h->sys, h->cfg.uffd, a, h->cfg.page_size);
		}
		sv->ndeferred = 0;
	}
	assert(!h->works && !h->nworks);
}

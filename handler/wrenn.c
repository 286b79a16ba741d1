/* The wrenn handler (handler/wrenn.h): Wrenn's serve loop, its workers and
 * one page of its Prefetch, warts included (docs/HANDLER.md B35 W1-W3). */
#include "wrenn.h"
#include "serve_thread.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void stat_add(uint64_t *counter)
{
	/* statistics only: not a race the testbed explores */
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/* The loop's error (doneErr): the first one is kept. */
static void serve_fail(struct wrenn *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void serve_fail(struct wrenn *h, int err, const char *fmt, ...)
{
	if (h->serve_err)
		return;
	h->serve_err = err ? err : -EIO;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof h->errmsg, fmt, ap);
	va_end(ap);
	h->o->note(h->sys, SYS_NOTE_ERROR, 0, (uint64_t)h->serve_err);
}

/* slog.Error and drop: no retry, no wake, no exit (W2). */
static void drop_fault(struct wrenn *h, uint64_t addr, int err)
{
	stat_add(&h->dropped);
	h->o->note(h->sys, SYS_NOTE_ERROR, addr, (uint64_t)err);
}

/* faultPage: ReadPage, then COPY mode 0 at the fault address; EEXIST is
 * success. 0, or the error the caller logs. */
static int fault_page_fd(struct wrenn *h, int uffd, uint64_t addr, uint64_t offset)
{
	const struct sys_ops *o = h->o;
	uint64_t ps = h->cfg.page_size;
	void *buf = o->buf_alloc(h->sys, ps);
	if (!buf)
		return -ENOMEM;
	int err = o->source_read(h->sys, offset, buf, ps);
	if (!err) {
		int64_t copied = 0;
		err = o->uffd_copy(h->sys, uffd, addr, buf, ps, 0, &copied);
		if (err == -EEXIST) {
			stat_add(&h->st.eexist);
			err = 0;
		}
	}
	o->buf_free(h->sys, buf, ps);
	return err;
}

/* A worker's slot is given back (sem and wg): unlink and free w. Call
 * with mu held: w must not be unreachable across the unlock, a sys call
 * where an abandoned run may end. */
static void work_done(struct wrenn *h, struct wrenn_work *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		h->live = w->next;
	if (w->next)
		w->next->prev = w->prev;
	h->inflight--;
	assert(h->inflight >= 0 && h->live != w);
	free(w);
	h->o->cond_broadcast(h->sys, h->cv);
}

static void worker_main(void *arg)
{
	struct wrenn_work *w = arg;
	struct wrenn *h = w->h;
	int err = fault_page_fd(h, h->uffd, w->addr, w->offset);
	if (err)
		drop_fault(h, w->addr, err);
	else
		stat_add(&h->st.installed);
	h->o->mutex_lock(h->sys, h->mu);
	work_done(h, w);
	h->o->mutex_unlock(h->sys, h->mu);
}

/* sem <- struct{}{}; wg.Add(1); go faultPage. 0 or -errno (fatal). */
static int dispatch(struct wrenn *h, uint64_t addr)
{
	const struct sys_ops *o = h->o;
	if (addr < h->cfg.base || addr - h->cfg.base >= h->cfg.size) {
		serve_fail(h, -EFAULT, "resolve address 0x%llx: not in any memory region",
			   (unsigned long long)addr);
		return -EFAULT;
	}
	struct wrenn_work *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->h = h;
	w->addr = addr;
	w->offset = h->cfg.src_offset + (addr - h->cfg.base);
	h->pending = w; /* reachable while the slot is awaited */
	o->mutex_lock(h->sys, h->mu);
	while (h->inflight >= h->cfg.max_workers)
		o->cond_wait(h->sys, h->cv, h->mu);
	h->inflight++;
	w->next = h->live;
	if (h->live)
		h->live->prev = w;
	h->live = w;
	h->pending = NULL;
	o->mutex_unlock(h->sys, h->mu);
	stat_add(&h->st.faults);
	/* a goroutine cannot fail to start; a thread can: give the slot back */
	int err = o->spawn(h->sys, NULL, "worker", worker_main, w);
	if (err) {
		o->mutex_lock(h->sys, h->mu);
		work_done(h, w);
		o->mutex_unlock(h->sys, h->mu);
		serve_fail(h, err, "start worker: %d", err);
	}
	return err;
}

/* One message: 1 to go on polling, 0 to return (an error is recorded). */
static int handle_msg(struct wrenn *h, const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		return dispatch(h, m->arg.pagefault.address) == 0;
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
	case UFFD_EVENT_REMAP:
	case UFFD_EVENT_FORK:
		/* c93ad5e2db: skipped, so a removed page is refilled from the
		 * snapshot at its next fault (W1) */
		if (m->event == UFFD_EVENT_REMOVE)
			stat_add(&h->st.removes);
		return 1;
	default:
		serve_fail(h, -EINVAL, "unexpected uffd event type: %u", m->event);
		return 0;
	}
}

/* The poll loop of serve(): returns on the exit pipe or a fatal error. */
static void serve_loop(struct wrenn *h, int exit_rd)
{
	const struct sys_ops *o = h->o;
	for (;;) {
		struct sys_pollfd p[2] = {{h->uffd, SYS_POLLIN, 0},
					  {exit_rd, SYS_POLLIN, 0}};
		int r = o->poll(h->sys, p, 2, -1);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r < 0) {
			serve_fail(h, r, "poll: %d", r);
			return;
		}
		if (p[1].revents & SYS_POLLIN)
			return;
		if (!(p[0].revents & SYS_POLLIN))
			continue;
		struct uffd_msg m;
		int n = o->uffd_read(h->sys, h->uffd, &m, 1);
		if (n == -EAGAIN)
			continue;
		if (n < 0) {
			serve_fail(h, n, "read uffd msg: %d", n);
			return;
		}
		assert(n == 1);
		if (!handle_msg(h, &m))
			return;
	}
}

static void serve_main(void *arg)
{
	struct wrenn *h = arg;
	const struct sys_ops *o = h->o;
	serve_loop(h, h->exit_fds[0]);
	/* defer wg.Wait(): every in-flight worker ends before serve returns */
	o->mutex_lock(h->sys, h->mu);
	while (h->inflight > 0)
		o->cond_wait(h->sys, h->cv, h->mu);
	o->mutex_unlock(h->sys, h->mu);
	/* handle()'s defer uffdFd.close(), whatever made serve return (a
	 * harness pause keeps the fd for the next loop) */
	if (!o->atomic_load(h->sys, &h->pausing) && h->uffd_open) {
		h->uffd_open = 0;
		o->close(h->sys, h->uffd);
	}
}

/* Prefetch()'s goroutine: every page, a cancel check before each; errors
 * counted. The fd is the one it read at the start (uffdFd := s.uffdFd). */
static void prefetch_main(void *arg)
{
	struct wrenn *h = arg;
	const struct sys_ops *o = h->o;
	int uffd = h->uffd;
	uint64_t ps = h->cfg.page_size;
	for (uint64_t p = 0; p < h->pages; p++) {
		if (o->atomic_load(h->sys, &h->prefetch_cancel))
			return;
		int err = fault_page_fd(h, uffd, h->cfg.base + p * ps, h->cfg.src_offset + p * ps);
		stat_add(err ? &h->prefetch_errors : &h->st.prefaulted);
	}
}

/* ---- lifecycle ---------------------------------------------------------- */

static struct wrenn *wrenn_of(struct handler *hh)
{
	assert(hh);
	struct wrenn *h = (struct wrenn *)hh; /* base is the first member */
	assert(h->pages == h->cfg.size / h->cfg.page_size);
	return h;
}

static int wrenn_init(struct handler *hh, sys_t *sys, const struct handler_config *cfg)
{
	struct wrenn *h = (struct wrenn *)hh;
	h->exit_fds[0] = h->exit_fds[1] = -1;
	h->uffd = -1;
	h->sys = sys;
	h->o = sys->ops;
	if (!cfg->page_size || !cfg->size || cfg->size % cfg->page_size ||
	    cfg->base % cfg->page_size)
		return -EINVAL;
	h->cfg = *cfg;
	if (h->cfg.max_workers <= 0)
		h->cfg.max_workers = 4096; /* maxConcurrentFaults */
	h->pages = cfg->size / cfg->page_size;
	int err = h->o->mutex_new(sys, &h->mu);
	if (!err)
		err = h->o->cond_new(sys, &h->cv);
	return err; /* on an error the registry calls wrenn_free */
}

static int start_serve(struct wrenn *h)
{
	return serve_thread_start(h->sys, h->o, &h->serve_thr, h->exit_fds, serve_main, h);
}

/* Start + handle(): the handshake hands Wrenn its own fd of the uffd;
 * then serve, and Prefetch() where the sandbox asks for it. */
static int wrenn_start(struct handler *hh)
{
	struct wrenn *h = wrenn_of(hh);
	const struct sys_ops *o = h->o;
	if (h->serve_thr || h->uffd >= 0)
		return -EBUSY;
	int fd = o->dup(h->sys, h->cfg.uffd);
	if (fd < 0)
		return fd;
	h->uffd = fd;
	h->uffd_open = 1;
	int err = start_serve(h);
	if (!err && h->cfg.prefetch_all)
		err = o->spawn(h->sys, &h->prefetch_thr, "prefetch", prefetch_main, h);
	if (err)
		h->prefetch_thr = NULL;
	return err; /* on an error the registry's free stops what started */
}

static int wrenn_resume(struct handler *hh)
{
	struct wrenn *h = wrenn_of(hh);
	if (h->serve_thr)
		return 0;
	return h->uffd_open ? start_serve(h) : -EBADF;
}

/* Stop's "write a byte to the exit pipe, <-doneCh". */
static int stop_serve(struct wrenn *h)
{
	int err = serve_thread_stop(h->sys, h->o, &h->serve_thr, h->exit_fds);
	if (!err)
		assert(h->inflight == 0 && !h->live);
	return err;
}

static int wrenn_pause(struct handler *hh)
{
	struct wrenn *h = wrenn_of(hh);
	h->o->atomic_store(h->sys, &h->pausing, 1);
	int err = stop_serve(h);
	h->o->atomic_store(h->sys, &h->pausing, 0);
	return err;
}

/* Stop(): prefetchCancel(), the exit byte, <-doneCh (serve closed its
 * fd), and only then <-prefetchDone. */
static int stop_all(struct wrenn *h)
{
	const struct sys_ops *o = h->o;
	o->atomic_store(h->sys, &h->prefetch_cancel, 1);
	int err = stop_serve(h);
	if (!err && h->prefetch_thr) {
		err = o->join(h->sys, h->prefetch_thr);
		h->prefetch_thr = NULL;
	}
	return err;
}

static int wrenn_stop(struct handler *hh)
{
	struct wrenn *h = wrenn_of(hh);
	int err = stop_all(h);
	return err ? err : h->serve_err;
}

/* One page of Prefetch(): faultPage with the prefetcher's data. Errors are
 * counted (errored++), never returned. */
static int wrenn_prefault(struct handler *hh, uint64_t page, const void *data)
{
	struct wrenn *h = wrenn_of(hh);
	if (page >= h->pages)
		return -EINVAL;
	uint64_t ps = h->cfg.page_size, addr = h->cfg.base + page * ps;
	int64_t copied = 0;
	int err = h->o->uffd_copy(h->sys, h->uffd, addr, data, ps, 0, &copied);
	if (err && err != -EEXIST)
		stat_add(&h->prefetch_errors);
	else
		stat_add(&h->st.prefaulted);
	return 0;
}

/* Wrenn keeps no per-page record: it cannot say more than "unknown". */
static enum hpage wrenn_page_view(const struct handler *hh, uint64_t page)
{
	(void)hh;
	(void)page;
	return HPAGE_UNKNOWN;
}

static int wrenn_export(struct handler *hh, uint64_t first, uint64_t n,
			enum hpage *out)
{
	struct wrenn *h = wrenn_of(hh);
	if (first > h->pages || n > h->pages - first)
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++)
		out[i] = HPAGE_UNKNOWN;
	return -EOPNOTSUPP; /* no per-page record: no snapshot diff to judge */
}

static void wrenn_get_stats(const struct handler *hh, struct handler_stats *out)
{
	*out = ((const struct wrenn *)hh)->st;
}

static const char *wrenn_error(const struct handler *hh)
{
	const struct wrenn *h = (const struct wrenn *)hh;
	return h->errmsg[0] ? h->errmsg : NULL;
}

/* Also releases a half-built handler: every member is checked first. */
static void wrenn_free(struct handler *hh)
{
	struct wrenn *h = (struct wrenn *)hh;
	if (h->serve_thr || h->prefetch_thr)
		stop_all(h);
	if (h->uffd_open) { /* never served: no serve to close it */
		h->uffd_open = 0;
		h->o->close(h->sys, h->uffd);
	}
	if (h->cv)
		h->o->cond_free(h->sys, h->cv);
	if (h->mu)
		h->o->mutex_free(h->sys, h->mu);
}

static void wrenn_discard(struct handler *hh)
{
	struct wrenn *h = (struct wrenn *)hh;
	while (h->live) {
		struct wrenn_work *w = h->live;
		h->live = w->next;
		free(w);
	}
	free(h->pending);
	h->pending = NULL;
}

const struct handler_ops wrenn_ops = {
	.init = wrenn_init,
	.start = wrenn_start, .pause = wrenn_pause, .resume = wrenn_resume,
	.stop = wrenn_stop, .prefault = wrenn_prefault,
	.page_view = wrenn_page_view, .export_pages = wrenn_export,
	.get_stats = wrenn_get_stats, .error = wrenn_error,
	.free = wrenn_free, .discard = wrenn_discard,
};

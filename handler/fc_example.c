/* The fc-example handler (handler/fc_example.h): Firecracker's example
 * on-demand handler, faithfully including its bugs (docs/HANDLER.md B36). */
#include "fc_example.h"
#include "serve_thread.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* panic!(): the example's panic hook SIGKILLs Firecracker; here the loop
 * ends, with the first reason kept. */
static void panic_(struct fcx *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void panic_(struct fcx *h, int err, const char *fmt, ...)
{
	if (h->err)
		return;
	h->err = err ? err : -EIO;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof h->errmsg, fmt, ap);
	va_end(ap);
	h->o->note(h->sys, SYS_NOTE_ERROR, 0, (uint64_t)h->err);
}

static int list_push(struct fcx_list *l, const struct uffd_msg *m)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 8;
		struct uffd_msg *a = realloc(l->m, (size_t)cap * sizeof *a);
		if (!a)
			return -ENOMEM;
		l->m = a;
		l->cap = cap;
	}
	l->m[l->n++] = *m; /* a copy: the read buffer is reused */
	assert(l->n <= l->cap);
	return 0;
}

/* What uffd-rs and the example make of a COPY's result: 1 served, 0 not
 * handled (defer), -1 panicked. */
static int copy_outcome(struct fcx *h, uint64_t dst, int r, int64_t copied)
{
	if (r == 0) {
		h->st.installed++;
		return 1; /* Ok(value), value > 0 */
	}
	if (r == -EAGAIN && (copied == 0 || copied == -EAGAIN)) {
		h->st.deferred++;
		h->o->note(h->sys, SYS_NOTE_DEFER, dst, 0);
		return 0; /* PartiallyCopied(0 | -EAGAIN) */
	}
	if (r == -EEXIST) {
		h->st.installed++;
		h->st.eexist++;
		return 1; /* CopyFailed(EEXIST): another fault got there first */
	}
	panic_(h, r, "Uffd copy failed at 0x%llx: %d (copy field %lld)",
	       (unsigned long long)dst, r, (long long)copied);
	return -1;
}

/* serve_pf + populate_from_file: the page round down, one page from the
 * memory file at region.offset + (dst - base), COPY with wake. */
static int serve_pf(struct fcx *h, uint64_t addr)
{
	const struct sys_ops *o = h->o;
	uint64_t ps = h->cfg.page_size, dst = addr & ~(ps - 1);
	h->st.faults++;
	if (dst < h->cfg.base || dst - h->cfg.base >= h->cfg.size) {
		panic_(h, -EFAULT, "Could not find addr: 0x%llx within guest region mappings.",
		       (unsigned long long)addr);
		return -1;
	}
	void *buf = o->buf_alloc(h->sys, ps);
	if (!buf) {
		panic_(h, -ENOMEM, "no page buffer");
		return -1;
	}
	int64_t copied = 0;
	int r = o->source_read(h->sys, h->cfg.src_offset + (dst - h->cfg.base), buf, ps);
	if (r) {
		/* the example mmaps the file: a failed read is a SIGBUS */
		o->buf_free(h->sys, buf, ps);
		panic_(h, r, "memory file read at 0x%llx: %d", (unsigned long long)dst, r);
		return -1;
	}
	r = o->uffd_copy(h->sys, h->cfg.uffd, dst, buf, ps, 0, &copied);
	o->buf_free(h->sys, buf, ps);
	return copy_outcome(h, dst, r, copied);
}

/* unregister_range: assert! alignment, then .expect() the ioctl. */
static int unregister_range(struct fcx *h, uint64_t start, uint64_t end)
{
	uint64_t ps = h->cfg.page_size;
	h->st.removes++;
	if ((start | end) & (ps - 1) || end <= start) {
		panic_(h, -EINVAL, "REMOVE range 0x%llx-0x%llx not page-aligned",
		       (unsigned long long)start, (unsigned long long)end);
		return -1;
	}
	int r = h->o->uffd_unregister(h->sys, h->cfg.uffd, start, end - start);
	if (r)
		panic_(h, r, "range should be valid: UFFDIO_UNREGISTER 0x%llx-0x%llx: %d",
		       (unsigned long long)start, (unsigned long long)end, r);
	return r ? -1 : 1;
}

/* One event in read order: 1 done, 0 deferred, -1 panicked. */
static int handle_event(struct fcx *h, const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		return serve_pf(h, m->arg.pagefault.address);
	case UFFD_EVENT_REMOVE:
		return unregister_range(h, m->arg.remove.start, m->arg.remove.end);
	default:
		panic_(h, -EINVAL, "Unexpected event on userfaultfd: %u", m->event);
		return -1;
	}
}

/* Read every message until EAGAIN onto h->events. 0, or -1 panicked. */
static int read_all(struct fcx *h)
{
	for (;;) {
		struct uffd_msg m;
		int n = h->o->uffd_read(h->sys, h->cfg.uffd, &m, 1);
		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			panic_(h, n, "Failed to read uffd_msg: %d", n);
			return -1;
		}
		assert(n == 1);
		if (list_push(&h->events, &m)) {
			panic_(h, -ENOMEM, "out of memory");
			return -1;
		}
	}
}

/* The dispatch closure: 0 when nothing is deferred, -1 after a panic. */
static int dispatch(struct fcx *h)
{
	for (;;) {
		/* events_to_handle = deferred.drain(..), then every new one */
		h->events.n = 0;
		for (int i = 0; i < h->deferred.n; i++)
			if (list_push(&h->events, &h->deferred.m[i])) {
				panic_(h, -ENOMEM, "out of memory");
				return -1;
			}
		h->deferred.n = 0;
		if (read_all(h))
			return -1;
		for (int i = 0; i < h->events.n; i++) {
			int r = handle_event(h, &h->events.m[i]);
			if (r < 0)
				return -1;
			if (r == 0 && list_push(&h->deferred, &h->events.m[i])) {
				panic_(h, -ENOMEM, "out of memory");
				return -1;
			}
		}
		h->events.n = 0;
		if (!h->deferred.n)
			return 0;
	}
}

/* Runtime::run with the harness's exit pipe instead of the socket. */
static void serve_main(void *arg)
{
	struct fcx *h = arg;
	for (;;) {
		struct sys_pollfd p[2] = {{h->exit_fds[0], SYS_POLLIN, 0},
					  {h->cfg.uffd, SYS_POLLIN, 0}};
		int r = h->o->poll(h->sys, p, 2, -1);
		if (r < 0) {
			panic_(h, r, "Could not poll for events!");
			return;
		}
		if (p[0].revents & SYS_POLLIN)
			return;
		if ((p[1].revents & SYS_POLLIN) && dispatch(h))
			return;
	}
}

/* ---- lifecycle ---------------------------------------------------------- */

static struct fcx *fcx_of(struct handler *hh)
{
	assert(hh);
	struct fcx *h = (struct fcx *)hh; /* base is the first member */
	assert(h->pages == h->cfg.size / h->cfg.page_size);
	return h;
}

static int fcx_init(struct handler *hh, sys_t *sys, const struct handler_config *cfg)
{
	struct fcx *h = (struct fcx *)hh;
	h->exit_fds[0] = h->exit_fds[1] = -1;
	h->sys = sys;
	h->o = sys->ops;
	if (!cfg->page_size || !cfg->size || cfg->size % cfg->page_size ||
	    cfg->base % cfg->page_size)
		return -EINVAL;
	h->cfg = *cfg;
	h->pages = cfg->size / cfg->page_size;
	return 0;
}

static int start_serve(struct fcx *h)
{
	return serve_thread_start(h->sys, h->o, &h->serve_thr, h->exit_fds, serve_main, h);
}

static int fcx_start(struct handler *hh)
{
	struct fcx *h = fcx_of(hh);
	return h->serve_thr ? -EBUSY : start_serve(h);
}

static int fcx_resume(struct handler *hh)
{
	struct fcx *h = fcx_of(hh);
	return h->serve_thr ? 0 : start_serve(h);
}

static int stop_serve(struct fcx *h)
{
	return serve_thread_stop(h->sys, h->o, &h->serve_thr, h->exit_fds);
}

static int fcx_pause(struct handler *hh)
{
	return stop_serve(fcx_of(hh));
}

static int fcx_stop(struct handler *hh)
{
	struct fcx *h = fcx_of(hh);
	int err = stop_serve(h);
	return err ? err : h->err;
}

/* The example keeps no per-page record (since e313163 not even a set of
 * removed pages: the kernel owns unregistered ranges). */
static enum hpage fcx_page_view(const struct handler *hh, uint64_t page)
{
	(void)hh;
	(void)page;
	return HPAGE_UNKNOWN;
}

static int fcx_export(struct handler *hh, uint64_t first, uint64_t n,
		      enum hpage *out)
{
	struct fcx *h = fcx_of(hh);
	if (first > h->pages || n > h->pages - first)
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++)
		out[i] = HPAGE_UNKNOWN;
	return -EOPNOTSUPP; /* no per-page record: no snapshot diff to judge */
}

/* The example has no prefetcher: a prefetch installs nothing, and the
 * contract's "0 whether or not it installed" says so. */
static int fcx_prefault(struct handler *hh, uint64_t page, const void *data)
{
	(void)data;
	return page < fcx_of(hh)->pages ? 0 : -EINVAL;
}

static void fcx_get_stats(const struct handler *hh, struct handler_stats *out)
{
	*out = ((const struct fcx *)hh)->st;
}

static const char *fcx_error(const struct handler *hh)
{
	const struct fcx *h = (const struct fcx *)hh;
	return h->errmsg[0] ? h->errmsg : NULL;
}

static void fcx_discard(struct handler *hh)
{
	struct fcx *h = (struct fcx *)hh;
	free(h->events.m);
	free(h->deferred.m);
	h->events = h->deferred = (struct fcx_list){0};
}

static void fcx_free(struct handler *hh)
{
	struct fcx *h = (struct fcx *)hh;
	if (h->serve_thr)
		stop_serve(h);
	fcx_discard(hh);
}

const struct handler_ops fc_example_ops = {
	.init = fcx_init,
	.start = fcx_start, .pause = fcx_pause, .resume = fcx_resume,
	.stop = fcx_stop, .prefault = fcx_prefault,
	.page_view = fcx_page_view, .export_pages = fcx_export,
	.get_stats = fcx_get_stats, .error = fcx_error,
	.free = fcx_free, .discard = fcx_discard,
};

/* The e2b-ref handler: lifecycle (new, start, pause, resume, stop, free). */
#include "e2b.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void e2b_fail(struct e2b *h, int err, const char *fmt, ...)
{
	const struct sys_ops *o = h->o;
	o->mutex_lock(h->sys, h->wg_mu);
	sys_shared(h->sys, SYS_SHARED_ERROR, 1); /* error() reads it unlocked */
	if (!h->wg_err) {
		h->wg_err = err ? err : -EIO;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(h->errmsg, sizeof h->errmsg, fmt, ap);
		va_end(ap);
	}
	o->mutex_unlock(h->sys, h->wg_mu);
}

void e2b_stat(struct e2b *h, uint64_t *counter)
{
	(void)h; /* statistics only: not a race the testbed explores */
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

static void defaults(struct handler_config *c)
{
	if (c->max_workers <= 0)
		c->max_workers = 4096;
	if (c->source_retries < 0)
		c->source_retries = 3;
	if (!c->backoff_base_ns)
		c->backoff_base_ns = 50ull * 1000 * 1000;
	if (!c->backoff_cap_ns)
		c->backoff_cap_ns = 500ull * 1000 * 1000;
}

/* Dirty tracking on WP-registered memory relies on WP_ASYNC: without it
 * every write to a clean page is a WP fault the serve loop cannot serve.
 * -EOPNOTSUPP (with a SYS_NOTE_ERROR note) when the kernel does not offer
 * it (uffd_api: -EINVAL) or this uffd was not given it. */
static int need_wp_async(struct e2b *h)
{
	uint64_t f = 0, io = 0;
	int err = h->o->uffd_api(h->sys, h->cfg.uffd, UFFD_FEATURE_WP_ASYNC, &f, &io);

	if (!err && (f & UFFD_FEATURE_WP_ASYNC))
		return 0;
	h->o->note(h->sys, SYS_NOTE_ERROR, 0, (uint64_t)(int64_t)-EOPNOTSUPP);
	return -EOPNOTSUPP;
}

/* h is the registry's zeroed object: every member is set before the sys
 * call that might be the last one of an abandoned run. */
static int e2b_init(struct e2b *h, sys_t *sys, const struct handler_config *cfg,
		    uint64_t fixes)
{
	h->wake_fds[0] = h->wake_fds[1] = -1;
	h->own_uffd = -1;
	h->sys = sys;
	h->o = sys->ops;
	if (!cfg->page_size || cfg->size % cfg->page_size || !cfg->size ||
	    cfg->base % cfg->page_size)
		return -EINVAL;
	h->cfg = *cfg;
	/* a variant may take one of reference's fixes back out */
	if (cfg->variants & VARIANT_NO_READ_GATE)
		fixes &= ~(uint64_t)FIX_READ_GATE;
	if (cfg->variants & VARIANT_NO_WAKE_DEFERRED)
		fixes &= ~(uint64_t)FIX_WAKE_DEFERRED;
	if (cfg->variants & VARIANT_NO_YIELD_ON_RETRY)
		fixes &= ~(uint64_t)FIX_YIELD_ON_RETRY;
	if (cfg->variants & VARIANT_SHORT_CIRCUIT)
		fixes &= ~(uint64_t)FIX_NO_SHORT_CIRCUIT;
	if (cfg->variants & (VARIANT_EEXIST_LEAVES_UNARMED | VARIANT_ZERO_WP_SPLIT))
		fixes &= ~(uint64_t)(FIX_ZERO_COPY_WP | FIX_ARM_WRITE_FILL);
	if (cfg->variants & VARIANT_WRITE_FILL_WRITABLE)
		fixes &= ~(uint64_t)FIX_ARM_WRITE_FILL;
	if (cfg->variants & VARIANT_EEXIST_MARKS_DIRTY)
		fixes &= ~(uint64_t)FIX_EEXIST_KEEPS_ZERO;
	h->fixes = fixes;
	if (cfg->variants & (VARIANT_WORKERS_OUTLIVE_SERVE | VARIANT_PREFAULT_AFTER_CLOSE)) {
		int fd = h->o->dup(sys, cfg->uffd);
		if (fd < 0)
			return fd;
		h->own_uffd = h->cfg.uffd = fd; /* every call goes through it */
	}
	defaults(&h->cfg);
	if (cfg->wp && (fixes & FIX_ASK_FEATURES)) {
		int e = need_wp_async(h);
		if (e)
			return e;
	}
	h->pages = cfg->size / cfg->page_size;
	int err = tracker_init(&h->tr, h->pages);
	h->tr.sys = sys;
	if (!err)
		err = h->o->rwlock_new(sys, &h->settle);
	if (!err)
		err = h->o->mutex_new(sys, &h->read_serial);
	if (!err)
		err = h->o->mutex_new(sys, &h->wg_mu);
	if (!err)
		err = h->o->sem_new(sys, &h->wg, h->cfg.max_workers);
	if (!err)
		err = h->o->pipe(sys, h->wake_fds);
	if (!err && !(h->zero_buf = h->o->buf_alloc(sys, h->cfg.page_size)))
		err = -ENOMEM;
	if (!err)
		h->o->buf_zero(sys, h->zero_buf, h->cfg.page_size);
	assert(err || (h->settle && h->wg_mu && h->wg && h->zero_buf));
	return err; /* on an error the registry calls e2b_free */
}

void e2b_teardown(struct e2b *h)
{
	if (h->own_uffd < 0 || h->own_closed)
		return;
	h->own_closed = 1;
	(void)h->o->close(h->sys, h->own_uffd); /* uffd.go ignores it too */
}

static int start_serve(struct e2b *h)
{
	const struct sys_ops *o = h->o;
	struct serve *sv = calloc(1, sizeof *sv);
	if (!sv)
		return -ENOMEM;
	assert(!h->starting);
	h->starting = sv; /* reachable for discard while it is set up */
	sv->h = h;
	int err = o->pipe(h->sys, sv->exit_fds);
	if (err) {
		h->starting = NULL;
		e2b_serve_release(sv);
		return err;
	}
	err = o->mutex_new(h->sys, &sv->dmu);
	if (!err)
		err = o->spawn(h->sys, &h->serve_thr, "serve", e2b_serve_main, sv);
	if (err) {
		if (sv->dmu)
			o->mutex_free(h->sys, sv->dmu);
		o->close(h->sys, sv->exit_fds[0]);
		o->close(h->sys, sv->exit_fds[1]);
		h->starting = NULL;
		e2b_serve_release(sv);
		return err;
	}
	h->serve = sv;
	h->starting = NULL;
	return 0;
}

static struct e2b *e2b_of(struct handler *hh)
{
	assert(hh);
	struct e2b *h = (struct e2b *)hh; /* base is the first member */
	assert(h->pages == h->tr.pages);
	return h;
}

static const struct e2b *e2b_of_c(const struct handler *hh)
{
	return e2b_of((struct handler *)hh);
}

static int e2b_start(struct handler *hh)
{
	struct e2b *h = e2b_of(hh);
	if (h->serve)
		return -EBUSY;
	return start_serve(h);
}

static int e2b_resume(struct handler *hh)
{
	struct e2b *h = e2b_of(hh);
	if (h->serve) /* idempotent, as the harness's Resume (B33 fixed) */
		return 0;
	return start_serve(h);
}

static int pause_serve(struct e2b *h)
{
	const struct sys_ops *o = h->o;
	struct serve *sv = h->serve;
	if (!sv)
		return 0;
	assert(sv->h == h && h->serve_thr);
	e2b_signal_exit(sv);
	int err = o->join(h->sys, h->serve_thr);
	if (err)
		return err;
	h->last_serve_err = sv->err;
	/* sv stays reachable (h->serve) across these sys calls: a run
	 * abandoned in one of them must still find it to free it */
	o->close(h->sys, sv->exit_fds[0]);
	o->close(h->sys, sv->exit_fds[1]);
	o->mutex_free(h->sys, sv->dmu);
	h->serve = NULL;
	h->serve_thr = NULL;
	e2b_serve_release(sv);
	return 0;
}

static int e2b_pause(struct handler *hh)
{
	return pause_serve(e2b_of(hh));
}

static int e2b_stop(struct handler *hh)
{
	struct e2b *h = e2b_of(hh);
	int err = pause_serve(h);
	if (err)
		return err;
	assert(!h->serve && !h->serve_thr);
	if (h->last_serve_err)
		return h->last_serve_err;
	return h->wg_err;
}

static enum hpage view_of(enum page_state s)
{
	switch (s) {
	case PAGE_NOT_PRESENT: return HPAGE_UNKNOWN;
	case PAGE_DIRTY: return HPAGE_DIRTY;
	case PAGE_ZERO: return HPAGE_REMOVED; /* REF exports ZERO as removed */
	}
	assert(0 && "tracker state out of range");
	return HPAGE_UNKNOWN;
}

static enum hpage e2b_page_view(const struct handler *hh, uint64_t page)
{
	const struct e2b *h = e2b_of_c(hh);
	assert(page < h->pages);
	return view_of(tracker_peek(&h->tr, page)); /* the caller declares it */
}

/* One page of reference's export under WP_ASYNC: the pagemap says which
 * pages were written (present, not WP), the tracker which were removed;
 * dirty wins (3ae7f06), or empty wins (7f22709, the B24 variant). A page
 * that is neither is left out of the diff: the restore inherits the
 * snapshot's bytes (HPAGE_UNKNOWN). */
static int pagemap_view(struct e2b *h, uint64_t page, enum hpage *out)
{
	uint64_t e = 0;
	int err = h->o->pagemap(h->sys, h->cfg.base + page * h->cfg.page_size, &e);
	if (err)
		return err;
	int dirty = (e >> PM_PRESENT_BIT & 1) && !(e >> PM_UFFD_WP_BIT & 1);
	int empty = tracker_get(&h->tr, page) == PAGE_ZERO;
	if (h->cfg.variants & VARIANT_ZERO_INSTALL_MERGE)
		*out = empty ? HPAGE_REMOVED : dirty ? HPAGE_DIRTY : HPAGE_UNKNOWN;
	else
		*out = dirty ? HPAGE_DIRTY : empty ? HPAGE_REMOVED : HPAGE_UNKNOWN;
	return 0;
}

int e2b_pagemap_export(const struct e2b *h)
{
	return (h->fixes & FIX_PAGEMAP_EXPORT) && h->cfg.wp_async;
}

/* REF's export reads the tracker under the settle write lock, so no
 * worker is between its state check and its commit; reference's, under
 * WP_ASYNC, the pagemap too. */
static int e2b_export(struct handler *hh, uint64_t first, uint64_t n,
		      enum hpage *out)
{
	struct e2b *h = e2b_of(hh);
	int err = 0;
	if (first > h->pages || n > h->pages - first)
		return -EINVAL;
	h->o->wrlock(h->sys, h->settle);
	for (uint64_t i = 0; i < n && !err; i++) {
		if (e2b_pagemap_export(h))
			err = pagemap_view(h, first + i, &out[i]);
		else
			out[i] = view_of(tracker_get(&h->tr, first + i));
	}
	h->o->wrunlock(h->sys, h->settle);
	return err;
}

static void e2b_get_stats(const struct handler *hh, struct handler_stats *out)
{
	*out = e2b_of_c(hh)->st;
}

static const char *e2b_error(const struct handler *hh)
{
	const struct e2b *h = e2b_of_c(hh);
	if (h->errmsg[0])
		return h->errmsg;
	return NULL;
}

static int e2b_prefault_op(struct handler *hh, uint64_t page, const void *data)
{
	struct e2b *h = e2b_of(hh);
	if (page >= h->pages)
		return -EINVAL;
	return e2b_prefault(h, page, data);
}

/* Also releases a half-built handler (e2b_init's error path): every member is
 * checked before it is released. */
static void e2b_release(struct e2b *h)
{
	const struct sys_ops *o = h->o;
	if (h->serve)
		pause_serve(h);
	e2b_teardown(h);
	if (h->wake_fds[0] >= 0)
		o->close(h->sys, h->wake_fds[0]);
	if (h->wake_fds[1] >= 0)
		o->close(h->sys, h->wake_fds[1]);
	if (h->zero_buf)
		o->buf_free(h->sys, h->zero_buf, h->cfg.page_size);
	e2b_work_reclaim(h, 1); /* after the teardown: no worker runs */
	if (h->wg)
		o->sem_free(h->sys, h->wg);
	if (h->wg_mu)
		o->mutex_free(h->sys, h->wg_mu);
	if (h->read_serial)
		o->mutex_free(h->sys, h->read_serial);
	if (h->settle)
		o->rwlock_free(h->sys, h->settle);
	tracker_fini(&h->tr);
}

static void e2b_free(struct handler *hh)
{
	struct e2b *h = e2b_of(hh);
	assert(h->nworks >= 0);
	e2b_release(h);
}

static void e2b_discard(struct handler *hh)
{
	struct e2b *h = e2b_of(hh);
	if (h->serve)
		e2b_serve_release(h->serve);
	if (h->starting)
		e2b_serve_release(h->starting);
	e2b_work_reclaim(h, 1); /* its coroutines never run again */
	tracker_fini(&h->tr);
}

static int ref_init(struct handler *hh, sys_t *sys, const struct handler_config *cfg)
{
	return e2b_init((struct e2b *)hh, sys, cfg, 0);
}

static int reference_init(struct handler *hh, sys_t *sys, const struct handler_config *cfg)
{
	return e2b_init((struct e2b *)hh, sys, cfg, FIX_ALL);
}

const struct handler_ops e2b_ref_ops = {
	.init = ref_init,
	.start = e2b_start, .pause = e2b_pause, .resume = e2b_resume,
	.stop = e2b_stop, .prefault = e2b_prefault_op,
	.page_view = e2b_page_view, .export_pages = e2b_export,
	.get_stats = e2b_get_stats, .error = e2b_error,
	.free = e2b_free, .discard = e2b_discard,
};

const struct handler_ops e2b_reference_ops = {
	.init = reference_init,
	.start = e2b_start, .pause = e2b_pause, .resume = e2b_resume,
	.stop = e2b_stop, .prefault = e2b_prefault_op,
	.page_view = e2b_page_view, .export_pages = e2b_export,
	.get_stats = e2b_get_stats, .error = e2b_error,
	.free = e2b_free, .discard = e2b_discard,
};

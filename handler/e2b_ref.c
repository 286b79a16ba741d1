/* The e2b-ref handler: lifecycle (new, start, pause, resume, stop, free). */
#include "e2b.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void e2b_fail(struct handler *h, int err, const char *fmt, ...)
{
	const struct sys_ops *o = h->o;
	o->mutex_lock(h->sys, h->wg_mu);
	if (!h->wg_err) {
		h->wg_err = err ? err : -EIO;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(h->errmsg, sizeof h->errmsg, fmt, ap);
		va_end(ap);
	}
	o->mutex_unlock(h->sys, h->wg_mu);
}

void e2b_stat(struct handler *h, uint64_t *counter)
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

int e2b_new(sys_t *sys, const struct handler_config *cfg, uint64_t fixes,
	    struct handler **out)
{
	if (!cfg->page_size || cfg->size % cfg->page_size || !cfg->size ||
	    cfg->base % cfg->page_size)
		return -EINVAL;
	struct handler *h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	h->sys = sys;
	h->o = sys->ops;
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
	h->fixes = fixes;
	defaults(&h->cfg);
	h->pages = cfg->size / cfg->page_size;
	h->wake_fds[0] = h->wake_fds[1] = -1;
	int err = tracker_init(&h->tr, h->pages);
	if (!err)
		err = h->o->rwlock_new(sys, &h->settle);
	if (!err)
		err = h->o->mutex_new(sys, &h->read_serial);
	if (!err)
		err = h->o->mutex_new(sys, &h->wg_mu);
	if (!err)
		err = h->o->cond_new(sys, &h->wg_cv);
	if (!err)
		err = h->o->pipe(sys, h->wake_fds);
	if (!err && !(h->zero_buf = h->o->buf_alloc(sys, h->cfg.page_size)))
		err = -ENOMEM;
	if (!err)
		h->o->buf_zero(sys, h->zero_buf, h->cfg.page_size);
	if (err) {
		handler_free(h);
		return err;
	}
	*out = h;
	return 0;
}

static int start_serve(struct handler *h)
{
	const struct sys_ops *o = h->o;
	struct serve *sv = calloc(1, sizeof *sv);
	if (!sv)
		return -ENOMEM;
	sv->h = h;
	int err = o->pipe(h->sys, sv->exit_fds);
	if (err) {
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
		e2b_serve_release(sv);
		return err;
	}
	h->serve = sv;
	return 0;
}

int handler_start(struct handler *h)
{
	if (h->serve)
		return -EBUSY;
	return start_serve(h);
}

int handler_resume(struct handler *h)
{
	if (h->serve) /* idempotent, as the harness's Resume (B33 fixed) */
		return 0;
	return start_serve(h);
}

int handler_pause(struct handler *h)
{
	const struct sys_ops *o = h->o;
	struct serve *sv = h->serve;
	if (!sv)
		return 0;
	e2b_signal_exit(sv);
	int err = o->join(h->sys, h->serve_thr);
	if (err)
		return err;
	h->serve = NULL;
	h->serve_thr = NULL;
	h->last_serve_err = sv->err;
	o->close(h->sys, sv->exit_fds[0]);
	o->close(h->sys, sv->exit_fds[1]);
	o->mutex_free(h->sys, sv->dmu);
	e2b_serve_release(sv);
	return 0;
}

int handler_stop(struct handler *h)
{
	int err = handler_pause(h);
	if (err)
		return err;
	if (h->last_serve_err)
		return h->last_serve_err;
	return h->wg_err;
}

enum page_state handler_page_state(struct handler *h, uint64_t page)
{
	h->o->wrlock(h->sys, h->settle);
	enum page_state s = tracker_get(&h->tr, page);
	h->o->wrunlock(h->sys, h->settle);
	return s;
}

enum page_state handler_page_state_peek(const struct handler *h, uint64_t page)
{
	return tracker_get(&h->tr, page);
}

void handler_get_stats(const struct handler *h, struct handler_stats *out)
{
	*out = h->st;
}

const char *handler_error(const struct handler *h)
{
	if (h->errmsg[0])
		return h->errmsg;
	return NULL;
}

int handler_prefault(struct handler *h, uint64_t page, const void *data)
{
	return e2b_prefault(h, page, data);
}

void handler_free(struct handler *h)
{
	if (!h)
		return;
	const struct sys_ops *o = h->o;
	if (h->serve)
		handler_pause(h);
	if (h->wake_fds[0] >= 0)
		o->close(h->sys, h->wake_fds[0]);
	if (h->wake_fds[1] >= 0)
		o->close(h->sys, h->wake_fds[1]);
	if (h->zero_buf)
		o->buf_free(h->sys, h->zero_buf, h->cfg.page_size);
	if (h->wg_cv)
		o->cond_free(h->sys, h->wg_cv);
	if (h->wg_mu)
		o->mutex_free(h->sys, h->wg_mu);
	if (h->read_serial)
		o->mutex_free(h->sys, h->read_serial);
	if (h->settle)
		o->rwlock_free(h->sys, h->settle);
	tracker_fini(&h->tr);
	free(h);
}

void handler_discard(struct handler *h)
{
	if (!h)
		return;
	if (h->serve)
		e2b_serve_release(h->serve);
	while (h->live) {
		struct work *w = h->live;
		h->live = w->next;
		free(w);
	}
	tracker_fini(&h->tr);
	free(h);
}

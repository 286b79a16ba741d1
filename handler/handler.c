/* Calls through the handler interface: each checks the object it is given
 * and dispatches to its row's ops. */
#include "handler.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

static const struct handler_ops *ops_of(const struct handler *h)
{
	assert(h && h->desc && h->desc->ops);
	return h->desc->ops;
}

const char *hpage_name(enum hpage v)
{
	static const char *const names[HPAGE_NKINDS] = {
		[HPAGE_UNKNOWN] = "unknown",
		[HPAGE_DIRTY] = "dirty",
		[HPAGE_REMOVED] = "removed",
		[HPAGE_ZERO] = "zero",
	};
	return (unsigned)v < HPAGE_NKINDS ? names[v] : "invalid";
}

int handler_new(const char *name, sys_t *sys, const struct handler_config *cfg,
		struct handler **out)
{
	const struct handler_desc *d = handler_find(name);
	if (!d)
		return -ENOENT;
	if (cfg->variants & ~d->variants)
		return -EINVAL;
	assert(d->size >= sizeof(struct handler));
	struct handler *h = calloc(1, d->size);
	if (!h)
		return -ENOMEM;
	h->desc = d;
	*out = h; /* reachable before init's first sys call */
	int err = d->ops->init(h, sys, cfg);
	if (err) {
		d->ops->free(h);
		free(h);
		*out = NULL;
	}
	assert(err || *out == h);
	return err;
}

int handler_start(struct handler *h)
{
	return ops_of(h)->start(h);
}

int handler_pause(struct handler *h)
{
	return ops_of(h)->pause(h);
}

int handler_resume(struct handler *h)
{
	return ops_of(h)->resume(h);
}

int handler_stop(struct handler *h)
{
	return ops_of(h)->stop(h);
}

int handler_prefault(struct handler *h, uint64_t page, const void *data)
{
	const struct handler_ops *o = ops_of(h);
	return o->prefault ? o->prefault(h, page, data) : -ENOTSUP;
}

enum hpage handler_page_view(const struct handler *h, uint64_t page)
{
	enum hpage v = ops_of(h)->page_view(h, page);
	assert((unsigned)v < HPAGE_NKINDS);
	return v;
}

int handler_export(struct handler *h, uint64_t first, uint64_t n,
		   enum hpage *out)
{
	int err = ops_of(h)->export_pages(h, first, n, out);
	for (uint64_t i = 0; !err && i < n; i++)
		assert((unsigned)out[i] < HPAGE_NKINDS);
	return err;
}

enum hpage handler_page_export(struct handler *h, uint64_t page)
{
	enum hpage v = HPAGE_UNKNOWN;
	return handler_export(h, page, 1, &v) ? HPAGE_UNKNOWN : v;
}

void handler_get_stats(const struct handler *h, struct handler_stats *out)
{
	ops_of(h)->get_stats(h, out);
}

const char *handler_error(const struct handler *h)
{
	return ops_of(h)->error(h);
}

const char *handler_name(const struct handler *h)
{
	(void)ops_of(h);
	return h->desc->name;
}

void handler_free(struct handler *h)
{
	if (!h)
		return;
	ops_of(h)->free(h);
	free(h);
}

void handler_discard(struct handler *h)
{
	if (!h)
		return;
	ops_of(h)->discard(h);
	free(h);
}

/* model/buffer.c — the simulated backend's page buffers and the snapshot
 * mapping (contract in model/kernel_impl.h and model/sys_model.h).
 *
 * A buffer is an address range in reserved, inaccessible address space
 * and one tag per page: a handler may pass `buf + off` to a COPY, as it
 * would on the real kernel, and the model works out which bytes that is
 * (docs/KERNEL.md rule 14: the copy stops where the readable source
 * ends). Bytes that are no whole page of one tag (an unaligned window
 * over two different pages) are MK_FOREIGN, except where every byte is
 * alike anyway (zeros, a guest write's value). Every buffer is followed
 * by a guard page that belongs to no buffer, so reading past a buffer's
 * end is an unreadable source, never the next buffer.
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#define MK_BCHUNK (UINT64_C(1) << 30)

static int uniform(mk_content t)
{
	return t == 0 || MK_IS_WRITE(t);
}

/* The tag of n bytes at offset off of a tag array of pages of ps bytes
 * (the caller checked that they are inside it). */
static mk_content window(const mk_content *tags, uint64_t ps, uint64_t off,
			 uint64_t n)
{
	uint64_t i = off / ps, last = (off + n - 1) / ps;
	mk_content t = tags[i];

	assert(n > 0 && last >= i);
	if (off % ps == 0 && n == ps)
		return t;
	for (uint64_t j = i + 1; j <= last; j++)
		if (tags[j] != t)
			return MK_FOREIGN;
	/* part of a page: the same bytes only if every byte is alike */
	return uniform(t) ? t : MK_FOREIGN;
}

void mk_bufs_reset(struct mkern *k)
{
	struct mk_bufspace *b = &k->bs;

	b->n = 0;
	b->ntags = 0;
	b->snapmap = -1;
	b->cur = b->chunks;
	b->next = b->chunks ? b->chunks->lo : 0;
}

void mk_bufs_destroy(struct mkern *k)
{
	struct mk_bufspace *b = &k->bs;
	struct mk_bchunk *c = b->chunks;

	while (c) {
		struct mk_bchunk *n = c->next;

		munmap((void *)(uintptr_t)c->lo, (size_t)(c->hi - c->lo));
		free(c);
		c = n;
	}
	free(b->v);
	free(b->tags);
	b->v = NULL;
	b->tags = NULL;
	b->chunks = b->cur = NULL;
	b->n = b->cap = b->ntags = b->tags_cap = 0;
}

static struct mk_bchunk *chunk_new(uint64_t size)
{
	struct mk_bchunk *c = malloc(sizeof(*c));

	if (!c)
		return NULL;
	/* PROT_NONE: nothing may read a model buffer's bytes */
	void *p = mmap(NULL, (size_t)size, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		free(c);
		return NULL;
	}
	c->lo = (uint64_t)(uintptr_t)p;
	c->hi = c->lo + size;
	c->next = NULL;
	return c;
}

/* span bytes of address space, aligned to the page size; 0 on ENOMEM. */
static uint64_t space_take(struct mkern *k, uint64_t span)
{
	struct mk_bufspace *b = &k->bs;

	for (;;) {
		if (b->cur) {
			uint64_t a = (b->next + k->ps - 1) & ~(k->ps - 1);

			if (a + span <= b->cur->hi && a + span > a) {
				b->next = a + span;
				return a;
			}
			if (b->cur->next) {
				b->cur = b->cur->next;
				b->next = b->cur->lo;
				continue;
			}
		}
		uint64_t size = MK_BCHUNK;

		while (size < span + k->ps)
			size *= 2;
		struct mk_bchunk *c = chunk_new(size);

		if (!c)
			return 0;
		struct mk_bchunk **tail = &b->chunks;

		while (*tail)
			tail = &(*tail)->next;
		*tail = c;
		b->cur = c;
		b->next = c->lo;
	}
}

static struct mk_buf *record_new(struct mkern *k, uint64_t len, int ntags)
{
	struct mk_bufspace *b = &k->bs;

	if (b->n == b->cap) {
		int cap = b->cap ? 2 * b->cap : 16;
		struct mk_buf *v = realloc(b->v, (size_t)cap * sizeof(*v));

		if (!v)
			return NULL;
		b->v = v;
		b->cap = cap;
	}
	if (b->ntags + ntags > b->tags_cap) {
		int cap = b->tags_cap ? b->tags_cap : 64;

		while (cap < b->ntags + ntags)
			cap *= 2;
		mk_content *t = realloc(b->tags, (size_t)cap * sizeof(*t));

		if (!t)
			return NULL;
		b->tags = t;
		b->tags_cap = cap;
	}
	uint64_t pages = (len + k->ps - 1) / k->ps;
	uint64_t span = (pages ? pages : 1) * k->ps + k->ps; /* + guard */
	uint64_t start = space_take(k, span);

	if (!start)
		return NULL;
	struct mk_buf *r = &b->v[b->n++];

	*r = (struct mk_buf){.start = start, .len = len, .span = span,
			     .tag0 = b->ntags, .ntags = ntags, .live = 1};
	b->ntags += ntags;
	return r;
}

void *mk_buf_new(struct mkern *k, uint64_t len)
{
	struct mk_bufspace *b = &k->bs;
	uint64_t pages = (len + k->ps - 1) / k->ps;
	int ntags = pages ? (int)pages : 1;
	uint64_t span = (uint64_t)ntags * k->ps + k->ps;

	if (pages > (uint64_t)1 << 30)
		return NULL;
	/* a freed buffer of the same size first, the latest freed first:
	 * the same order of calls gets the same addresses */
	struct mk_buf *r = NULL;

	for (int i = b->n - 1; i >= 0 && !r; i--)
		if (!b->v[i].live && !b->v[i].snap && b->v[i].span == span)
			r = &b->v[i];
	if (r) {
		r->live = 1;
		r->len = len;
	} else if (!(r = record_new(k, len, ntags))) {
		return NULL;
	}
	for (int i = 0; i < r->ntags; i++)
		b->tags[r->tag0 + i] = 0; /* a fresh buffer reads as zeros */
	return (void *)(uintptr_t)r->start;
}

/* The live buffer holding address a, or NULL. */
static struct mk_buf *find(const struct mkern *k, uint64_t a)
{
	const struct mk_bufspace *b = &k->bs;

	for (int i = 0; i < b->n; i++) {
		struct mk_buf *r = &b->v[i];

		if (r->live && a >= r->start && a - r->start < r->len)
			return r;
	}
	return NULL;
}

uint64_t mk_buf_left(const struct mkern *k, uint64_t a)
{
	const struct mk_buf *r = find(k, a);

	return r ? r->len - (a - r->start) : 0;
}

int mk_buf_put(struct mkern *k, const void *p)
{
	struct mk_buf *r = find(k, (uint64_t)(uintptr_t)p);

	if (!r || r->snap || r->start != (uint64_t)(uintptr_t)p)
		return -EINVAL;
	r->live = 0;
	return 0;
}

const void *mk_buf_snapmap(struct mkern *k)
{
	struct mk_bufspace *b = &k->bs;

	if (b->snapmap < 0) {
		struct mk_buf *r = record_new(k, (uint64_t)k->npages * k->ps, 0);

		if (!r)
			return NULL;
		r->snap = 1;
		b->snapmap = (int)(r - b->v);
	}
	return (const void *)(uintptr_t)b->v[b->snapmap].start;
}

int mk_src_tag(const struct mkern *k, uint64_t a, uint64_t n, mk_content *out)
{
	const struct mk_buf *r = find(k, a);

	if (!r || n > r->len - (a - r->start))
		return -EFAULT; /* copy_from_user() fails */
	*out = window(r->snap ? k->snap : k->bs.tags + r->tag0, k->ps,
		      a - r->start, n);
	return 0;
}

int mk_snap_tag(const struct mkern *k, uint64_t off, uint64_t n, mk_content *out)
{
	uint64_t lo = k->cfg.src_offset, size = (uint64_t)k->npages * k->ps;

	if (off < lo || off - lo > size || n > size - (off - lo) || !n)
		return -EIO; /* outside the file: a short read */
	*out = window(k->snap, k->ps, off - lo, n);
	return 0;
}

/* The new tag of page j of r when [a, a+len) is written from fn;
 * 0 or fn's error. */
static int page_after(struct mkern *k, const struct mk_buf *r, uint64_t j,
		      uint64_t a, uint64_t len, mk_src_fn fn, void *ctx,
		      mk_content *out)
{
	uint64_t ps = k->ps, off = a - r->start;
	uint64_t plo = j * ps, phi = plo + ps < r->len ? plo + ps : r->len;
	uint64_t lo = plo > off ? plo : off;
	uint64_t hi = phi < off + len ? phi : off + len;
	mk_content src = 0, old = k->bs.tags[r->tag0 + (int)j];

	assert(lo < hi);
	if (fn) {
		int err = fn(ctx, lo - off, hi - lo, &src);

		if (err)
			return err;
	}
	if (lo == plo && hi == phi)
		*out = src;
	else /* part of the page: the rest keeps the old bytes */
		*out = old == src && uniform(src) ? src : MK_FOREIGN;
	return 0;
}

int mk_buf_write(struct mkern *k, uint64_t a, uint64_t len, mk_src_fn fn,
		 void *ctx)
{
	struct mk_buf *r = find(k, a);

	if (!r || r->snap || len > r->len - (a - r->start))
		return -EFAULT;
	if (!len)
		return 0;
	uint64_t first = (a - r->start) / k->ps;
	uint64_t last = (a - r->start + len - 1) / k->ps;
	mk_content t;

	/* all or nothing: a failing read leaves the buffer as it was */
	for (uint64_t j = first; j <= last; j++) {
		int err = page_after(k, r, j, a, len, fn, ctx, &t);

		if (err)
			return err;
	}
	for (uint64_t j = first; j <= last; j++) {
		int err = page_after(k, r, j, a, len, fn, ctx, &t);

		assert(!err); /* fn is a pure function of the source */
		(void)err;
		k->bs.tags[r->tag0 + (int)j] = t;
	}
	return 0;
}

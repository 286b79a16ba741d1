/* tests/conform_probes_src.c — conformance probes of where a COPY's bytes
 * come from: any offset into a buffer, the snapshot's mapping, a source
 * that ends before the copy does, and source_read of several pages into
 * any part of a buffer (docs/KERNEL.md rule 14; the divergence an
 * independent cross-check found: the model once took only exact buffer
 * handles and one tag per buffer). Logged as the other probes are; the
 * table is in tests/conform_probes.c.
 */
#include "tests/conform_probes.h"

#include <inttypes.h>
#include <stdio.h>

#include "tests/conform_probe_util.h"

/* "<tag>: COPY p0 len=8192 src=<what> mode=0x0 -> EAGAIN copied=4096" */
static int copy_from(struct pc *c, const char *tag, int page, int n,
		     const void *src, const char *what)
{
	sys_t *s = c->e->sys;
	uint64_t len = (uint64_t)n * c->e->ps;
	int64_t f = 0;
	char eb[24], fb[24], wb[32];
	int rc = s->ops->uffd_copy(s, c->e->uffd, c_addr(c->e, page), src, len,
				   0, &f);

	if (f < 0)
		snprintf(fb, sizeof fb, "-%s", p_err((int)f, eb, sizeof eb));
	else
		snprintf(fb, sizeof fb, "%" PRId64, f);
	clog_add(c->L, "%s: COPY %s len=%" PRIu64 " src=%s mode=0x0 -> %s copied=%s",
		 tag, p_where(c->e, c_addr(c->e, page), wb, sizeof wb), len,
		 what, p_err(rc, eb, sizeof eb), fb);
	return rc;
}

/* A buffer of n pages, page i holding snap(first + i). */
static char *snap_buf(struct pc *c, int n, int first)
{
	sys_t *s = c->e->sys;
	char *b = s->ops->buf_alloc(s, (uint64_t)n * c->e->ps);

	if (!b) {
		clog_add(c->L, "ERROR buf_alloc");
		return NULL;
	}
	for (int i = 0; i < n; i++)
		if (c->e->ops->fill(c->e, b + (uint64_t)i * c->e->ps, c->e->ps,
				    cc_snap(first + i))) {
			clog_add(c->L, "ERROR fill");
			s->ops->buf_free(s, b, (uint64_t)n * c->e->ps);
			return NULL;
		}
	return b;
}

/* Rule 14: src may point anywhere into a buffer; each page is copied
 * from the bytes at the same offset of the source; a window across two
 * different pages is neither (other); a copy stops at the first page
 * whose source is not readable: EAGAIN with the bytes done, EFAULT when
 * that is the first page. (Past a buffer's end the real backend's heap may
 * be readable: the end is shown with short_src's guard page.) */
void cprobe_copy_source(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);
	sys_t *s;

	if (p_open(c, KB4, 16, 0, 0))
		return;
	s = e->sys;
	uint64_t ps = e->ps;
	char *b = snap_buf(c, 3, 4);

	if (!b)
		return;
	copy_from(c, "offset", 0, 1, b + ps, "buf+1p");
	p_view(c, "offset", 0);
	copy_from(c, "two from offset", 1, 2, b + ps, "buf+1p");
	p_view(c, "two from offset", 1);
	p_view(c, "two from offset", 2);
	copy_from(c, "unaligned", 3, 1, b + 8, "buf+8");
	p_view(c, "unaligned", 3);
	s->ops->buf_free(s, b, 3 * ps);
	const char *sh = e->ops->short_src(e, ps, cc_snap(7));

	if (!sh) {
		clog_add(L, "ERROR short_src");
		return;
	}
	copy_from(c, "short source", 5, 2, sh, "1 page");
	p_view(c, "short source", 5);
	p_view(c, "short source", 6);
	copy_from(c, "crosses the end", 7, 1, sh + 8, "1 page+8");
	p_view(c, "crosses the end", 7);
	char *z = s->ops->buf_alloc(s, 2 * ps);

	if (!z || e->ops->fill(e, z, 2 * ps, cc_zero())) {
		clog_add(L, "ERROR zero buffer");
		return;
	}
	copy_from(c, "zeros unaligned", 8, 1, z + 8, "zeros+8");
	p_view(c, "zeros unaligned", 8);
	/* the source is read before the PTE is looked at */
	p_copy_raw(c, "present, unreadable", c_addr(e, 0), ps, NULL, 0, 1);
	s->ops->buf_free(s, z, 2 * ps);
}

/* source_read of several pages, into any part of a buffer; the snapshot's
 * mapping as a COPY source at any page. */
void cprobe_source_read(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 16, 0, 0))
		return;
	sys_t *s = e->sys;
	uint64_t ps = e->ps, mlen = 0;
	char *b = s->ops->buf_alloc(s, 3 * ps);
	char eb[24];

	if (!b) {
		clog_add(L, "ERROR buf_alloc");
		return;
	}
	clog_add(L, "two pages: source_read p8 len=8192 -> %s",
		 p_err(s->ops->source_read(s, 8 * ps, b, 2 * ps), eb, sizeof eb));
	copy_from(c, "two pages", 8, 2, b, "buf");
	p_view(c, "two pages", 8);
	p_view(c, "two pages", 9);
	clog_add(L, "into buf+2p: source_read p10 len=4096 -> %s",
		 p_err(s->ops->source_read(s, 10 * ps, b + 2 * ps, ps), eb, sizeof eb));
	copy_from(c, "into buf+2p", 10, 1, b + 2 * ps, "buf+2p");
	p_view(c, "into buf+2p", 10);
	s->ops->buf_free(s, b, 3 * ps);
	const char *map = s->ops->source_map(s, &mlen);

	clog_add(L, "map: %s len=%" PRIu64 " pages", map ? "mapped" : "NULL",
		 mlen / ps);
	if (!map)
		return;
	copy_from(c, "map", 11, 1, map + 11 * ps, "map+11p");
	p_view(c, "map", 11);
	copy_from(c, "map two", 12, 2, map + 3 * ps, "map+3p");
	p_view(c, "map two", 12);
	p_view(c, "map two", 13);
}

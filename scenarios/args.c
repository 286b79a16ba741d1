/* scenarios/args.c — the parser's token helpers: errors at a token,
 * numbers, pages and page ranges, "nothing more on this line". See parse.h.
 */
#include <stdarg.h>
#include <string.h>

#include "scenarios/parse.h"

int scn_fail_at(struct scn_ctx *c, const struct scn_tok *t, const char *fmt,
		...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = scn_vfail(&c->e, c->l.no, t->col, fmt, ap);
	va_end(ap);
	return rc;
}

int scn_fail_after(struct scn_ctx *c, const struct scn_tok *t,
		   const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = scn_vfail(&c->e, c->l.no, t->col + (int)strlen(t->s), fmt,
		       ap);
	va_end(ap);
	return rc;
}

int scn_no_more(struct scn_ctx *c, int i)
{
	if (c->l.ntok > i)
		return scn_fail_at(c, &c->l.tok[i], "unexpected '%.40s'",
				   c->l.tok[i].s);
	return 0;
}

static int num_error(struct scn_ctx *c, const struct scn_tok *t, int rc,
		     const char *what)
{
	if (rc == -2)
		return scn_fail_at(c, t, "%s '%.40s' does not fit in 64 bits",
				   what, t->s);
	return scn_fail_at(c, t, "expected %s (a number), got '%.40s'", what,
			   t->s);
}

int scn_tok_num(struct scn_ctx *c, int i, const char *what, uint64_t lo,
		uint64_t hi, uint64_t *v)
{
	const struct scn_tok *t = &c->l.tok[i];
	int rc;

	if (i >= c->l.ntok)
		return scn_fail_after(c, &c->l.tok[i - 1], "expected %s", what);
	rc = scn_parse_u64(t->s, v);
	if (rc)
		return num_error(c, t, rc, what);
	if (*v < lo || *v > hi)
		return scn_fail_at(c, t, "%s %llu out of range (%llu..%llu)",
				   what, (unsigned long long)*v,
				   (unsigned long long)lo,
				   (unsigned long long)hi);
	return 0;
}

static int page_range_error(struct scn_ctx *c, const struct scn_tok *t,
			    uint64_t page, uint64_t limit)
{
	return scn_fail_at(c, t, "page %llu out of range (memory has %llu pages)",
			   (unsigned long long)page,
			   (unsigned long long)limit);
}

int scn_tok_page(struct scn_ctx *c, int i, uint64_t *v)
{
	if (scn_tok_num(c, i, "page", 0, UINT64_MAX, v))
		return -1;
	if (*v >= (uint64_t)c->s->pages)
		return page_range_error(c, &c->l.tok[i], *v,
					(uint64_t)c->s->pages);
	return 0;
}

int scn_tok_range(struct scn_ctx *c, int i, uint64_t limit, uint64_t *a,
		  uint64_t *b)
{
	const struct scn_tok *t = &c->l.tok[i];
	char first[SCN_LINE_MAX + 1];
	const char *dots;
	int rc;

	if (i >= c->l.ntok)
		return scn_fail_after(c, &c->l.tok[i - 1],
				      "expected a page P or a range P..Q");
	dots = strstr(t->s, "..");
	if (!dots) {
		rc = scn_parse_u64(t->s, a);
		*b = *a;
	} else {
		memcpy(first, t->s, (size_t)(dots - t->s));
		first[dots - t->s] = '\0';
		rc = scn_parse_u64(first, a);
		if (!rc)
			rc = scn_parse_u64(dots + 2, b);
	}
	if (rc == -2)
		return scn_fail_at(c, t,
				   "page number in '%.40s' does not fit in 64 bits",
				   t->s);
	if (rc)
		return scn_fail_at(c, t,
				   "expected a page P or a range P..Q, got '%.40s'",
				   t->s);
	if (*a > *b)
		return scn_fail_at(c, t, "reversed range %llu..%llu",
				   (unsigned long long)*a,
				   (unsigned long long)*b);
	if (*b >= limit)
		return page_range_error(c, t, *b, limit);
	return 0;
}

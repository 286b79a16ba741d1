/* scenarios/scenario.c — the scenario parser's entry points, the shared token
 * helpers and the header directives (memory, snapshot, features, handler,
 * contract, expect). Threads and operations are in ops.c, `after` resolution
 * in order.c, the language in scenarios/README.md. See scenario.h for the
 * contract.
 */
#include "scenarios/scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scenarios/parse.h"

/* A scenario is a few hundred bytes; refuse to slurp anything absurd. */
#define SCN_FILE_MAX (1u << 20)

uint64_t scn_hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 offset basis */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL; /* FNV-1a 64 prime */
	}
	return h;
}

static int vfail(struct scn_ctx *c, int col, const char *fmt, va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return scn_fail(&c->e, c->l.no, col, "%s", msg);
}

int scn_fail_at(struct scn_ctx *c, const struct scn_tok *t, const char *fmt,
		...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(c, t->col, fmt, ap);
	va_end(ap);
	return rc;
}

int scn_fail_after(struct scn_ctx *c, const struct scn_tok *t,
		   const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(c, t->col + (int)strlen(t->s), fmt, ap);
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

/* --- header directives ------------------------------------------------ */

static int d_memory(struct scn_ctx *c)
{
	struct scenario *s = c->s;
	const struct scn_tok *t = c->l.tok;
	uint64_t n;

	if (c->l.ntok < 2)
		return scn_fail_after(c, &t[0], "expected page size 4k or 2m");
	if (!strcasecmp(t[1].s, "4k"))
		s->page_size = 4096;
	else if (!strcasecmp(t[1].s, "2m"))
		s->page_size = 2097152;
	else
		return scn_fail_at(c, &t[1],
				   "unknown page size '%.40s' (expected 4k or 2m)",
				   t[1].s);
	if (scn_tok_num(c, 2, "page count", 1, SCN_MAX_PAGES, &n))
		return -1;
	/* 2 MiB pages are real hugetlb memory on the real backend: keep a
	 * scenario within what a test machine's hugepage pool can hold. */
	if (s->page_size == 2097152 && n > 64)
		return scn_fail_at(c, &t[2],
				   "2m memory has at most 64 pages, got %llu",
				   (unsigned long long)n);
	if (scn_no_more(c, 3))
		return -1;
	s->pages = (int)n;
	if (c->snap_max >= (int64_t)n)
		return scn_fail(&c->e, c->snap_line, c->snap_col,
				"page %lld out of range (memory has %d pages)",
				(long long)c->snap_max, s->pages);
	c->snap_max = -1;
	return 0;
}

static int d_snapshot(struct scn_ctx *c)
{
	static const char *const fills[] = {"pattern", "zero", "sentinel"};
	const struct scn_tok *t = c->l.tok;
	int memory = c->once_line[SCN_D_MEMORY] != 0;
	uint64_t a, b, p;
	int f;

	if (scn_tok_range(c, 1, memory ? (uint64_t)c->s->pages : SCN_MAX_PAGES,
			  &a, &b))
		return -1;
	if (c->l.ntok < 3)
		return scn_fail_after(c, &t[1],
				      "expected pattern, zero or sentinel");
	for (f = 0; f < 3; f++)
		if (!strcmp(t[2].s, fills[f]))
			break;
	if (f == 3)
		return scn_fail_at(c, &t[2],
				   "unknown fill '%.40s' (expected pattern, zero or sentinel)",
				   t[2].s);
	if (scn_no_more(c, 3))
		return -1;
	for (p = a; p <= b; p++)
		c->s->fill[p] = (unsigned char)f;
	if (!memory && (int64_t)b > c->snap_max) {
		c->snap_max = (int64_t)b;
		c->snap_line = c->l.no;
		c->snap_col = t[1].col;
	}
	return 0;
}

static int d_features(struct scn_ctx *c)
{
	struct scenario *s = c->s;
	const struct scn_tok *t = c->l.tok;
	int i, none = 0, async_tok = 0;

	if (c->l.ntok < 2)
		return scn_fail_after(c, &t[0],
				      "expected remove, wp, wp-async or none");
	for (i = 1; i < c->l.ntok; i++) {
		int *flag;

		if (!strcmp(t[i].s, "none")) {
			if (c->l.ntok != 2)
				return scn_fail_at(c, &t[i],
						   "'none' cannot be combined with other features");
			none = 1;
			continue;
		} else if (!strcmp(t[i].s, "remove")) {
			flag = &s->event_remove;
		} else if (!strcmp(t[i].s, "wp")) {
			flag = &s->wp;
		} else if (!strcmp(t[i].s, "wp-async")) {
			flag = &s->wp_async;
			async_tok = i;
		} else {
			return scn_fail_at(c, &t[i],
					   "unknown feature '%.40s' (expected remove, wp, wp-async or none)",
					   t[i].s);
		}
		if (*flag)
			return scn_fail_at(c, &t[i], "duplicate feature '%s'",
					   t[i].s);
		*flag = 1;
	}
	/* WP_ASYNC only changes how write faults on WP-armed pages resolve;
	 * without WP registration there is nothing armed. */
	if (!none && s->wp_async && !s->wp)
		return scn_fail_at(c, &t[async_tok],
				   "feature 'wp-async' requires 'wp'");
	return 0;
}

static int d_handler(struct scn_ctx *c)
{
	struct scenario *s = c->s;
	const struct scn_tok *t = c->l.tok;
	int i, seen_w = 0, seen_r = 0;
	uint64_t v;

	for (i = 1; i < c->l.ntok; i += 2) {
		if (!strcmp(t[i].s, "workers")) {
			if (seen_w++)
				return scn_fail_at(c, &t[i],
						   "duplicate handler key 'workers'");
			if (scn_tok_num(c, i + 1, "workers", 1, 4096, &v))
				return -1;
			s->workers = (int)v;
		} else if (!strcmp(t[i].s, "retries")) {
			if (seen_r++)
				return scn_fail_at(c, &t[i],
						   "duplicate handler key 'retries'");
			if (scn_tok_num(c, i + 1, "retries", 0, 16, &v))
				return -1;
			s->retries = (int)v;
		} else {
			return scn_fail_at(c, &t[i],
					   "unknown handler key '%.40s' (expected workers or retries)",
					   t[i].s);
		}
	}
	return 0;
}

static int d_contract(struct scn_ctx *c)
{
	const struct scn_tok *t = c->l.tok;

	if (c->l.ntok < 2)
		return scn_fail_after(c, &t[0], "expected keeps or breaks");
	if (!strcmp(t[1].s, "keeps"))
		c->s->contract = SCN_CONTRACT_KEEPS;
	else if (!strcmp(t[1].s, "breaks"))
		c->s->contract = SCN_CONTRACT_BREAKS;
	else
		return scn_fail_at(c, &t[1],
				   "unknown contract '%.40s' (expected keeps or breaks)",
				   t[1].s);
	return scn_no_more(c, 2);
}

static int d_expect(struct scn_ctx *c)
{
	const struct scn_tok *t = c->l.tok;
	size_t n;

	if (c->l.ntok < 2)
		return scn_fail_after(c, &t[0], "expected an invariant name");
	n = strspn(t[1].s, "abcdefghijklmnopqrstuvwxyz-");
	if (t[1].s[n] != '\0')
		return scn_fail_at(c, &t[1],
				   "invalid invariant name '%.40s' (expected [a-z-]+)",
				   t[1].s);
	if (n >= sizeof(c->s->expect))
		return scn_fail_at(c, &t[1],
				   "invariant name too long (%zu bytes, max %zu)",
				   n, sizeof(c->s->expect) - 1);
	memcpy(c->s->expect, t[1].s, n + 1);
	return scn_no_more(c, 2);
}

static const struct directive {
	const char *name;
	int once;  /* enum scn_once, or -1: repeatable */
	int (*parse)(struct scn_ctx *);
} directives[] = {
	{"memory", SCN_D_MEMORY, d_memory},
	{"snapshot", -1, d_snapshot},
	{"features", SCN_D_FEATURES, d_features},
	{"handler", SCN_D_HANDLER, d_handler},
	{"contract", SCN_D_CONTRACT, d_contract},
	{"expect", SCN_D_EXPECT, d_expect},
};

static int parse_line(struct scn_ctx *c)
{
	const struct scn_tok *kw = &c->l.tok[0];
	size_t i;

	if (!strcmp(kw->s, "thread"))
		return scn_parse_thread(c);
	for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++) {
		const struct directive *d = &directives[i];

		if (strcmp(kw->s, d->name))
			continue;
		if (c->s->nthreads > 0)
			return scn_fail_at(c, kw,
					   "directive '%s' must come before the first thread",
					   d->name);
		if (d->once >= 0) {
			if (c->once_line[d->once])
				return scn_fail_at(c, kw,
						   "duplicate '%s' directive (first at line %d)",
						   d->name, c->once_line[d->once]);
			c->once_line[d->once] = c->l.no;
		}
		return d->parse(c);
	}
	if (scn_is_op(kw->s)) {
		if (c->s->nthreads == 0)
			return scn_fail_at(c, kw,
					   "operation '%s' outside a thread (start one with 'thread NAME ROLE')",
					   kw->s);
		return scn_parse_op(c);
	}
	if (c->s->nthreads == 0)
		return scn_fail_at(c, kw, "unknown directive '%.40s'", kw->s);
	return scn_fail_at(c, kw, "unknown operation '%.40s'", kw->s);
}

/* Scenario name: the file name without its directory and ".scn". */
static int set_names(struct scn_ctx *c, const char *path)
{
	struct scenario *s = c->s;
	const char *base = strrchr(path, '/');
	size_t n;

	if (strlen(path) >= sizeof(s->path))
		return scn_fail(&c->e, 1, 1, "path too long (max %zu bytes)",
				sizeof(s->path) - 1);
	strcpy(s->path, path);
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 4 && !strcmp(base + n - 4, ".scn"))
		n -= 4;
	if (n >= sizeof(s->name))
		return scn_fail(&c->e, 1, 1,
				"scenario name too long (max %zu bytes)",
				sizeof(s->name) - 1);
	memcpy(s->name, base, n);
	s->name[n] = '\0';
	return 0;
}

static int parse(struct scn_ctx *c, const char *path, const void *data,
		 size_t len)
{
	struct scenario *s = c->s;
	int rc, line, col;

	s->retries = -1;
	s->contract = SCN_CONTRACT_KEEPS;
	c->snap_max = -1;
	if (set_names(c, path))
		return -1;
	s->hash = scn_hash_bytes(data, len);
	if (len == 0)
		return scn_fail(&c->e, 1, 1, "empty file");
	c->r.p = data;
	c->r.len = len;
	while ((rc = scn_next_line(&c->r, &c->l, &c->e)) == 1)
		if (c->l.ntok > 0 && parse_line(c))
			return -1;
	if (rc < 0)
		return -1;
	scn_eof_pos(&c->r, &line, &col);
	if (!c->once_line[SCN_D_MEMORY])
		return scn_fail(&c->e, line, col, "missing 'memory' directive");
	if (s->nthreads == 0)
		return scn_fail(&c->e, line, col,
				"no thread (a scenario needs at least one 'thread NAME ROLE')");
	return scn_resolve_order(c);
}

int scn_parse_bytes(const char *path, const void *data, size_t len,
		    struct scenario *out, char *err, size_t errlen)
{
	struct scn_err e = {path, err, errlen, 0};
	struct scn_ctx *c;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path)
		return scn_fail(&e, 1, 1, "no path given");
	if (!out || (!data && len))
		return scn_fail(&e, 1, 1, "no %s given", out ? "data" : "output");
	memset(out, 0, sizeof(*out));
	/* ~40 KiB of working state: keep it off the caller's stack. */
	c = calloc(1, sizeof(*c));
	if (!c)
		return scn_fail(&e, 1, 1, "out of memory");
	c->e = e;
	c->s = out;
	rc = parse(c, path, data ? data : "", len);
	free(c);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int scn_parse_string(const char *path, const char *text, struct scenario *out,
		     char *err, size_t errlen)
{
	struct scn_err e = {path, err, errlen, 0};

	if (!text) {
		if (err && errlen)
			err[0] = '\0';
		return scn_fail(&e, 1, 1, "no text given");
	}
	return scn_parse_bytes(path, text, strlen(text), out, err, errlen);
}

/* Read the whole file: 0 and a malloc'd buffer, or -1 with the error set. */
static int slurp(struct scn_err *e, FILE *f, unsigned char **data, size_t *len)
{
	size_t cap = 4096, n = 0;
	unsigned char *buf = malloc(cap), *nb;

	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f)) {
			int saved = errno;

			free(buf);
			return scn_fail(e, 1, 1, "cannot read: %s",
					strerror(saved));
		}
		if (feof(f)) {
			*data = buf;
			*len = n;
			return 0;
		}
		if (n > SCN_FILE_MAX) {
			free(buf);
			return scn_fail(e, 1, 1,
					"file too large (more than %u bytes)",
					SCN_FILE_MAX);
		}
		if (n == cap) {
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	return scn_fail(e, 1, 1, "out of memory");
}

int scn_parse_file(const char *path, struct scenario *out, char *err,
		   size_t errlen)
{
	struct scn_err e = {path, err, errlen, 0};
	unsigned char *data = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path)
		return scn_fail(&e, 1, 1, "no path given");
	f = fopen(path, "rb");
	if (!f)
		return scn_fail(&e, 1, 1, "cannot open: %s", strerror(errno));
	rc = slurp(&e, f, &data, &len);
	fclose(f);
	if (rc)
		return -1;
	rc = scn_parse_bytes(path, data, len, out, err, errlen);
	free(data);
	return rc;
}

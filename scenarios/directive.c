/* scenarios/directive.c — the header directives: memory, snapshot,
 * features, handler, contract, expect. Each may appear once (snapshot and
 * expect: repeatable), only before the first thread. See scenarios/README.md.
 */
#include <string.h>
#include <strings.h>

#include <stdio.h>

#include "handler/handler.h"
#include "handler/variants.h"
#include "model/invariant.h"
#include "scenarios/parse.h"

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
	if (s->page_size == 2097152 && n > SCN_MAX_2M_PAGES)
		return scn_fail_at(c, &t[2],
				   "2m memory has at most %d pages, got %llu",
				   SCN_MAX_2M_PAGES, (unsigned long long)n);
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
				      "expected remove, wp, wp-async, unmap, remap, fork or none");
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
		} else if (!strcmp(t[i].s, "unmap")) {
			flag = &s->event_unmap;
		} else if (!strcmp(t[i].s, "remap")) {
			flag = &s->event_remap;
		} else if (!strcmp(t[i].s, "fork")) {
			flag = &s->event_fork;
		} else {
			return scn_fail_at(c, &t[i],
					   "unknown feature '%.40s' (expected remove, wp, wp-async, unmap, remap, fork or none)",
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
		if (!strcmp(t[i].s, "prefetch")) {
			if (s->prefetch++)
				return scn_fail_at(c, &t[i],
						   "duplicate handler key 'prefetch'");
			i--; /* a key without a value */
		} else if (!strcmp(t[i].s, "workers")) {
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
					   "unknown handler key '%.40s' (expected workers, retries or prefetch)",
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

/* One WHO of an expect line: a registered handler, or handler/variant
 * with a variant that handler accepts. */
static int expect_who(struct scn_ctx *c, const struct scn_tok *t, struct scn_expect *e)
{
	char name[48];
	const char *slash = strchr(t->s, '/');
	size_t hn = slash ? (size_t)(slash - t->s) : strlen(t->s);
	if (hn == 0 || hn >= sizeof name || (slash && strlen(slash + 1) >= sizeof name))
		return scn_fail_at(c, t, "expected HANDLER or HANDLER/VARIANT, got '%.40s'", t->s);
	memcpy(name, t->s, hn);
	name[hn] = '\0';
	const struct handler_desc *d = handler_find(name);
	if (!d)
		return scn_fail_at(c, t, "unknown handler '%.40s'", name);
	uint64_t bit = slash ? variant_parse(slash + 1) : 0;
	if (slash && !(bit & d->variants))
		return scn_fail_at(c, t, "'%.40s' is not a variant of %s (uffdlab list)",
				   slash + 1, name);
	if (e->nwho >= SCN_MAX_WHO)
		return scn_fail_at(c, t, "too many handlers on one expect line (max %d)",
				   SCN_MAX_WHO);
	snprintf(e->who[e->nwho].handler, sizeof e->who[0].handler, "%s", name);
	snprintf(e->who[e->nwho].variant, sizeof e->who[0].variant, "%s",
		 slash ? slash + 1 : "");
	e->nwho++;
	return 0;
}

static int d_expect(struct scn_ctx *c)
{
	const struct scn_tok *t = c->l.tok;
	if (c->l.ntok < 2)
		return scn_fail_after(c, &t[0], "expected an invariant name");
	const struct invariant *inv = inv_find(t[1].s);
	if (!inv)
		return scn_fail_at(c, &t[1], "unknown invariant '%.40s' (uffdlab list names them)",
				   t[1].s);
	if (c->s->nexpect >= SCN_MAX_EXPECT)
		return scn_fail_at(c, &t[0], "too many expect lines (max %d)", SCN_MAX_EXPECT);
	struct scn_expect *e = &c->s->expects[c->s->nexpect];
	memset(e, 0, sizeof *e);
	snprintf(e->invariant, sizeof e->invariant, "%s", inv->name);
	e->line = c->l.no;
	for (int i = 2; i < c->l.ntok; i++)
		if (expect_who(c, &t[i], e))
			return -1;
	if (c->s->nexpect++ == 0)
		snprintf(c->s->expect, sizeof c->s->expect, "%s", inv->name);
	return 0;
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
	{"expect", -1, d_expect},
};

int scn_parse_directive(struct scn_ctx *c)
{
	const struct scn_tok *kw = &c->l.tok[0];
	size_t i;

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
	return 1;
}

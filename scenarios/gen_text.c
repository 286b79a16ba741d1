/* scenarios/gen_text.c — a parsed scenario back to its text, and the
 * contract check (is every guest access ordered against the removes of its
 * page?). See gen.h.
 */
#include "scenarios/gen.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NODES (SCN_MAX_THREADS * SCN_MAX_OPS)

/* Is op y reachable from op x through program order and `after` edges?
 * (x happens before y.) */
static int reaches(const struct scenario *s, int x, int y)
{
	static unsigned char seen[NODES];
	static int stack[NODES];
	int n = 0;
	memset(seen, 0, sizeof seen);
	stack[n++] = x;
	seen[x] = 1;
	while (n) {
		int v = stack[--n], t = v / SCN_MAX_OPS, i = v % SCN_MAX_OPS;
		if (v == y)
			return 1;
		if (i + 1 < s->threads[t].nops && !seen[v + 1]) {
			seen[v + 1] = 1;
			stack[n++] = v + 1;
		}
		/* ops whose `after` names v */
		for (int u = 0; u < s->nthreads; u++)
			for (int j = 0; j < s->threads[u].nops; j++) {
				const struct scn_op *op = &s->threads[u].ops[j];
				int w = u * SCN_MAX_OPS + j;
				if (op->after_thread == t && op->after_op == i && !seen[w]) {
					seen[w] = 1;
					stack[n++] = w;
				}
			}
		assert(n <= NODES);
	}
	return 0;
}

static int guest_access_page(const struct scn_op *op)
{
	return op->kind == SCN_READ || op->kind == SCN_WRITE ? (int)op->a : -1;
}

int scn_breaks_contract(const struct scenario *s)
{
	for (int t = 0; t < s->nthreads; t++)
		for (int i = 0; i < s->threads[t].nops; i++) {
			const struct scn_op *r = &s->threads[t].ops[i];
			if (r->kind != SCN_REMOVE)
				continue;
			for (int u = 0; u < s->nthreads; u++)
				for (int j = 0; j < s->threads[u].nops; j++) {
					int p = guest_access_page(&s->threads[u].ops[j]);
					if (p < (int)r->a || p > (int)r->b)
						continue;
					int x = t * SCN_MAX_OPS + i, y = u * SCN_MAX_OPS + j;
					if (!reaches(s, x, y) && !reaches(s, y, x))
						return 1;
				}
		}
	return 0;
}

struct out {
	char *buf;
	size_t n, len;
	int full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->n ? o->n - o->len : 0;
	int k = vsnprintf(o->buf + (o->len < o->n ? o->len : 0), room, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= room)
		o->full = 1;
	o->len += k > 0 ? (size_t)k : 0;
}

static void put_header(struct out *o, const struct scenario *s)
{
	static const char *const fills[] = {"pattern", "zero", "sentinel"};
	put(o, "memory %s %d\n", s->page_size == 4096 ? "4k" : "2m", s->pages);
	for (int p = 0; p < s->pages; p++)
		if (s->fill[p] != SCN_FILL_PATTERN)
			put(o, "snapshot %d %s\n", p, fills[s->fill[p]]);
	const char *f[] = {s->event_remove ? " remove" : "", s->wp ? " wp" : "",
			   s->wp_async ? " wp-async" : "", s->event_unmap ? " unmap" : "",
			   s->event_remap ? " remap" : "", s->event_fork ? " fork" : ""};
	char feats[80] = "";
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		strcat(feats, f[i]);
	put(o, "features %s\n", feats[0] ? feats + 1 : "none");
	if (s->workers > 0 || s->retries >= 0 || s->prefetch) {
		put(o, "handler");
		if (s->workers > 0)
			put(o, " workers %d", s->workers);
		if (s->retries >= 0)
			put(o, " retries %d", s->retries);
		if (s->prefetch)
			put(o, " prefetch");
		put(o, "\n");
	}
	put(o, "contract %s\n", s->contract == SCN_CONTRACT_BREAKS ? "breaks" : "keeps");
	for (int e = 0; e < s->nexpect; e++) {
		const struct scn_expect *x = &s->expects[e];
		put(o, "expect %s", x->invariant);
		for (int k = 0; k < x->nwho; k++)
			put(o, " %s%s%s", x->who[k].handler, x->who[k].variant[0] ? "/" : "",
			    x->who[k].variant);
		put(o, "\n");
	}
}

static void put_op(struct out *o, const struct scenario *s, const struct scn_op *op)
{
	put(o, "  %s", scn_op_name(op->kind));
	switch (op->kind) {
	case SCN_READ:
		put(o, " %llu", (unsigned long long)op->a);
		break;
	case SCN_WRITE:
	case SCN_SOURCE_FAIL:
		put(o, " %llu %llu", (unsigned long long)op->a, (unsigned long long)op->b);
		break;
	case SCN_REMOVE:
	case SCN_UNMAP:
	case SCN_REMAP:
	case SCN_PREFETCH:
		if (op->a == op->b)
			put(o, " %llu", (unsigned long long)op->a);
		else
			put(o, " %llu..%llu", (unsigned long long)op->a, (unsigned long long)op->b);
		break;
	case SCN_PAUSE:
	case SCN_RESUME:
	case SCN_FORK:
	case SCN_EXIT:
	case SCN_EXPORT:
		break;
	}
	if (op->after_thread >= 0)
		put(o, " after %s.%d", s->threads[op->after_thread].name, op->after_op + 1);
	put(o, "\n");
}

int scn_format(const struct scenario *s, const char *comment, char *buf, size_t n)
{
	struct out o = {.buf = buf, .n = n};
	if (n)
		buf[0] = '\0';
	if (comment)
		put(&o, "# %s\n", comment);
	put_header(&o, s);
	for (int t = 0; t < s->nthreads; t++) {
		const struct scn_thread *th = &s->threads[t];
		put(&o, "thread %s %s\n", th->name, scn_role_name(th->role));
		for (int i = 0; i < th->nops; i++)
			put_op(&o, s, &th->ops[i]);
	}
	return o.full ? -ENOSPC : (int)o.len;
}

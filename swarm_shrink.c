/* The swarm's scenario shrinker: a greedy reducer over the parsed
 * scenario. Each candidate is the scenario less one thing (a thread, an
 * operation, an `after`, a feature, the handler configuration, huge
 * pages, a page, a snapshot fill); it is printed and parsed back (valid by
 * construction, checked anyway) and explored with the swarm's budget; it
 * is kept when the same invariant still breaks. Passes repeat until none
 * is kept. (sched/shrink.c shrinks a schedule; this shrinks the input.) */
#include "swarm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scenarios/gen.h"

/* Ops of any thread that wait on thread t's op i now wait on its op
 * before (i = -1: the thread is gone, so they wait on nothing). */
static void unlink_after(struct scenario *s, int t, int i, int thread_gone)
{
	for (int u = 0; u < s->nthreads; u++)
		for (int j = 0; j < s->threads[u].nops; j++) {
			struct scn_op *op = &s->threads[u].ops[j];
			if (op->after_thread != t)
				continue;
			if (thread_gone) {
				op->after_thread = op->after_op = -1;
			} else if (op->after_op >= i) {
				op->after_op--;
				if (op->after_op < 0)
					op->after_thread = -1;
			}
		}
}

static int drop_thread(struct scenario *s, int t)
{
	if (s->nthreads < 2)
		return 1;
	unlink_after(s, t, 0, 1);
	for (int u = 0; u < s->nthreads; u++)
		for (int j = 0; j < s->threads[u].nops; j++)
			if (s->threads[u].ops[j].after_thread > t)
				s->threads[u].ops[j].after_thread--;
	memmove(&s->threads[t], &s->threads[t + 1],
		(size_t)(s->nthreads - t - 1) * sizeof s->threads[0]);
	s->nthreads--;
	return 0;
}

/* A pause goes with the resume after it (a pause alone would leave the
 * guest's faults unserved until the end: a scenario bug, not a finding). */
static int drop_op(struct scenario *s, int t, int i)
{
	struct scn_thread *th = &s->threads[t];
	int n = 1;
	if (th->ops[i].kind == SCN_RESUME && i > 0 && th->ops[i - 1].kind == SCN_PAUSE)
		return 1;
	if (th->ops[i].kind == SCN_PAUSE && i + 1 < th->nops && th->ops[i + 1].kind == SCN_RESUME)
		n = 2;
	for (int k = 0; k < n; k++) {
		unlink_after(s, t, i, 0);
		memmove(&th->ops[i], &th->ops[i + 1], (size_t)(th->nops - i - 1) * sizeof th->ops[0]);
		th->nops--;
	}
	return 0;
}

static int uses(const struct scenario *s, enum scn_op_kind k, uint64_t page_at_least)
{
	for (int t = 0; t < s->nthreads; t++)
		for (int i = 0; i < s->threads[t].nops; i++) {
			const struct scn_op *op = &s->threads[t].ops[i];
			if (op->kind == k && (op->a >= page_at_least || op->b >= page_at_least))
				return 1;
		}
	return 0;
}

/* The page-independent candidates: features, handler, memory. */
static int drop_setting(struct scenario *s, int k)
{
	int *flags[] = {&s->wp_async, &s->event_unmap, &s->event_remap, &s->event_fork};
	if (k < 4) {
		if (!*flags[k])
			return 1;
		*flags[k] = 0;
		return 0;
	}
	switch (k) {
	case 4:
		if (!s->wp || s->wp_async)
			return 1;
		s->wp = 0;
		return 0;
	case 5:
		if (!s->event_remove || uses(s, SCN_REMOVE, 0))
			return 1;
		s->event_remove = 0;
		return 0;
	case 6:
		if (!s->workers)
			return 1;
		s->workers = 0;
		return 0;
	case 7: /* the default retries (3) must still cover the failures */
		if (s->retries < 0 || uses(s, SCN_SOURCE_FAIL, 4))
			return 1;
		s->retries = -1;
		return 0;
	case 8:
		if (s->page_size == 4096)
			return 1;
		s->page_size = 4096;
		return 0;
	}
	return -1;
}

static int drop_page(struct scenario *s, int p)
{
	if (p >= s->pages)
		return -1;
	if (s->fill[p] != SCN_FILL_PATTERN) {
		s->fill[p] = SCN_FILL_PATTERN;
		return 0;
	}
	if (p != s->pages - 1 || s->pages == 1)
		return 1;
	for (int t = 0; t < s->nthreads; t++)
		for (int i = 0; i < s->threads[t].nops; i++) {
			const struct scn_op *op = &s->threads[t].ops[i];
			int ranged = op->kind == SCN_REMOVE || op->kind == SCN_UNMAP ||
				     op->kind == SCN_REMAP || op->kind == SCN_PREFETCH;
			if ((int)op->a == p || (ranged && (int)op->b == p))
				return 1;
		}
	s->pages--;
	return 0;
}

/* Candidate number c of s: 0 applied, 1 not applicable, -1 none left. */
static int candidate(struct scenario *s, int c)
{
	if (c < s->nthreads)
		return drop_thread(s, s->nthreads - 1 - c);
	c -= s->nthreads;
	for (int t = s->nthreads - 1; t >= 0; t--) {
		int n = s->threads[t].nops;
		if (c < 2 * n) {
			int i = n - 1 - c / 2;
			struct scn_op *op = &s->threads[t].ops[i];
			if (c % 2 == 0)
				return drop_op(s, t, i);
			if (op->after_thread < 0)
				return 1;
			op->after_thread = op->after_op = -1;
			return 0;
		}
		c -= 2 * n;
	}
	int r = drop_setting(s, c);
	return r >= 0 ? r : drop_page(s, c - 9);
}

static int size_of(const struct scenario *s, int *ops)
{
	*ops = 0;
	for (int t = 0; t < s->nthreads; t++)
		*ops += s->threads[t].nops;
	return s->nthreads;
}

/* Print and parse cand back: what the user will get in the file. */
static int reparse(const struct scenario *cand, struct scenario *out)
{
	static char text[65536];
	char err[256];
	int n = scn_format(cand, NULL, text, sizeof text);
	if (n < 0 || scn_parse_string(cand->path, text, out, err, sizeof err))
		return -1;
	if (scn_breaks_contract(out))
		out->contract = SCN_CONTRACT_BREAKS; /* an `after` gone may break it */
	return 0;
}

int swarm_shrink(struct scenario *s, const char *handler, const char *variant, uint64_t bits,
		 const struct swarm_budget *b, struct swarm_hit *h, struct swarm_shrunk *st)
{
	static struct scenario cand, parsed;
	int ops0, ops1, th0 = size_of(s, &ops0), pages0 = s->pages;
	for (int kept = 1; kept;) {
		kept = 0;
		for (int c = 0;; c++) {
			cand = *s;
			int r = candidate(&cand, c);
			if (r < 0)
				break;
			if (r > 0 || reparse(&cand, &parsed))
				continue;
			struct swarm_hit h2;
			uint64_t runs = 0;
			st->candidates++;
			int e = swarm_explore(&parsed, handler, variant, bits, b, &h2, &runs);
			if (e < 0)
				return e;
			if (e == 1 && strcmp(h2.name, h->name) == 0) {
				snprintf(parsed.path, sizeof parsed.path, "%s", s->path);
				snprintf(parsed.name, sizeof parsed.name, "%s", s->name);
				*s = parsed;
				*h = h2;
				kept = 1;
				c--; /* the same index is now another candidate */
			}
		}
	}
	int th1 = size_of(s, &ops1);
	snprintf(st->what, sizeof st->what, "threads %d->%d, ops %d->%d, pages %d->%d, %d candidates",
		 th0, th1, ops0, ops1, pages0, s->pages, st->candidates);
	return 0;
}

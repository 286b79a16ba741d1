/* The candidates of the scenario reducers (scenarios/reduce.h). */
#include "scenarios/reduce.h"

#include <assert.h>
#include <string.h>

#include "scenarios/gen.h"

/* Pages go one at a time, each candidate a search: a memory over this
 * many pages is there for its size (B22's 4 GiB REMOVE of 2,048 huge
 * pages) and keeps its pages and fills. */
#define REDUCE_PAGES_MAX 64

/* Ops that wait on thread t's op i wait on its op before instead (on
 * nothing when i was its first); thread_gone: t is gone, they wait on
 * nothing, and threads after t move down one. */
static void unlink_after(struct scenario *s, int t, int i, int thread_gone)
{
	for (int u = 0; u < s->nthreads; u++)
		for (int j = 0; j < s->threads[u].nops; j++) {
			struct scn_op *op = &s->threads[u].ops[j];
			if (op->after_thread != t) {
				if (thread_gone && op->after_thread > t)
					op->after_thread--;
				continue;
			}
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
		return 0;
	unlink_after(s, t, 0, 1);
	memmove(&s->threads[t], &s->threads[t + 1],
		(size_t)(s->nthreads - t - 1) * sizeof s->threads[0]);
	s->nthreads--;
	return 1;
}

/* A pause goes with the resume after it (a pause alone would leave the
 * guests' faults unserved to the end: a scenario bug, not a finding). */
static int drop_op(struct scenario *s, int t, int i)
{
	struct scn_thread *th = &s->threads[t];
	int n = 1;
	if (th->ops[i].kind == SCN_RESUME && i > 0 && th->ops[i - 1].kind == SCN_PAUSE)
		return 0;
	if (th->ops[i].kind == SCN_PAUSE && i + 1 < th->nops && th->ops[i + 1].kind == SCN_RESUME)
		n = 2;
	for (int k = 0; k < n; k++) {
		unlink_after(s, t, i, 0);
		memmove(&th->ops[i], &th->ops[i + 1], (size_t)(th->nops - i - 1) * sizeof th->ops[0]);
		th->nops--;
	}
	return 1;
}

static int drop_after(struct scenario *s, int t, int i)
{
	struct scn_op *op = &s->threads[t].ops[i];
	if (op->after_thread < 0)
		return 0;
	op->after_thread = op->after_op = -1;
	return 1;
}

/* Does an op of kind k name a page >= page_at_least? */
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

/* Setting k (0..9) back to its default: 1 made, 0 already default or
 * needed, -1 no setting k. */
static int drop_setting(struct scenario *s, int k)
{
	int *flags[] = {&s->wp_async, &s->event_unmap, &s->event_remap, &s->event_fork,
			&s->prefetch};
	if (k < 5) {
		int was = *flags[k];
		*flags[k] = 0;
		return was != 0;
	}
	switch (k) {
	case 5: /* WP_ASYNC needs WP */
		if (!s->wp || s->wp_async)
			return 0;
		s->wp = 0;
		return 1;
	case 6:
		if (!s->event_remove || uses(s, SCN_REMOVE, 0))
			return 0;
		s->event_remove = 0;
		return 1;
	case 7:
		if (!s->workers)
			return 0;
		s->workers = 0;
		return 1;
	case 8: /* the default retries (3) must still cover the failures */
		if (s->retries < 0 || uses(s, SCN_SOURCE_FAIL, 4))
			return 0;
		s->retries = -1;
		return 1;
	case 9:
		if (s->page_size == 4096)
			return 0;
		s->page_size = 4096;
		return 1;
	}
	return -1;
}

static int ranged(const struct scn_op *op)
{
	return op->kind == SCN_REMOVE || op->kind == SCN_PREFETCH || op->kind == SCN_UNMAP ||
	       op->kind == SCN_REMAP;
}

/* Page p goes: later pages move down one, ranges over p get one shorter.
 * 0 when an operation is about p alone (it would lose its page). */
static int drop_page(struct scenario *s, int p)
{
	if (s->pages < 2)
		return 0;
	for (int t = 0; t < s->nthreads; t++)
		for (int j = 0; j < s->threads[t].nops; j++) {
			const struct scn_op *op = &s->threads[t].ops[j];
			int paged = ranged(op) || op->kind == SCN_READ || op->kind == SCN_WRITE ||
				    op->kind == SCN_SOURCE_FAIL;
			if (paged && op->a == (uint64_t)p && (!ranged(op) || op->b == (uint64_t)p))
				return 0;
		}
	for (int t = 0; t < s->nthreads; t++)
		for (int j = 0; j < s->threads[t].nops; j++) {
			struct scn_op *op = &s->threads[t].ops[j];
			int paged = ranged(op) || op->kind == SCN_READ || op->kind == SCN_WRITE ||
				    op->kind == SCN_SOURCE_FAIL;
			if (paged && op->a > (uint64_t)p)
				op->a--;
			if (ranged(op) && op->b >= (uint64_t)p)
				op->b--;
		}
	memmove(&s->fill[p], &s->fill[p + 1], (size_t)(s->pages - p - 1));
	s->pages--;
	return 1;
}

int scn_nops(const struct scenario *s)
{
	int k = 0;
	for (int t = 0; t < s->nthreads; t++)
		k += s->threads[t].nops;
	return k;
}

/* Candidate c among the operations (two each: the op, its `after`), the
 * last op of the last thread first: 1/0 as scn_reduce, -1 past them. */
static int op_candidate(struct scenario *s, int c)
{
	if (c >= 2 * scn_nops(s))
		return -1;
	for (int t = s->nthreads - 1; t >= 0; t--) {
		int n = s->threads[t].nops;
		if (c < 2 * n) {
			int i = n - 1 - c / 2;
			return c % 2 ? drop_after(s, t, i) : drop_op(s, t, i);
		}
		c -= 2 * n;
	}
	assert(0);
	return -1;
}

int scn_reduce(const struct scenario *from, int c, struct scenario *out, int *dropped)
{
	*out = *from;
	*dropped = -1;
	int r;
	if (c < from->nthreads) {
		r = drop_thread(out, from->nthreads - 1 - c);
		if (r)
			*dropped = from->nthreads - 1 - c;
	} else if ((r = op_candidate(out, c - from->nthreads)) < 0) {
		c -= from->nthreads + 2 * scn_nops(from);
		r = drop_setting(out, c);
		if (r < 0) {
			c -= 10;
			if (c >= 2 * from->pages || from->pages > REDUCE_PAGES_MAX)
				return -1;
			int p = from->pages - 1 - c / 2;
			if (c % 2 == 0) {
				r = out->fill[p] != SCN_FILL_PATTERN;
				out->fill[p] = SCN_FILL_PATTERN;
			} else {
				r = drop_page(out, p);
			}
		}
	}
	if (r == 1 && out->contract == SCN_CONTRACT_KEEPS && scn_breaks_contract(out))
		out->contract = SCN_CONTRACT_BREAKS;
	return r;
}

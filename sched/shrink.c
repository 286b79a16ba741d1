/* Delta debugging over a choice sequence, guided by real runs. */
#include "sched/shrink.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t shrink_switches(const uint32_t *c, size_t n)
{
	size_t k = 0;
	for (size_t i = 1; i < n; i++)
		k += c[i] != c[i - 1];
	return k;
}

size_t shrink_preemptions(const uint32_t *c, const uint64_t *masks, size_t n)
{
	size_t k = 0;
	for (size_t i = 1; masks && i < n; i++)
		k += c[i] != c[i - 1] && c[i - 1] < 64 && (masks[i] >> c[i - 1] & 1);
	return k;
}

struct shrink_size shrink_size_of(const uint32_t *c, const uint64_t *masks, size_t n)
{
	struct shrink_size s = {shrink_preemptions(c, masks, n), n, shrink_switches(c, n)};
	return s;
}

int shrink_smaller(struct shrink_size a, struct shrink_size b)
{
	if (a.preempt != b.preempt)
		return a.preempt < b.preempt;
	if (a.steps != b.steps)
		return a.steps < b.steps;
	return a.switches < b.switches;
}

/* The best run so far and the candidate buffer. */
struct best {
	uint32_t *c, *cand;
	size_t n, cap;
	struct shrink_size size;
};

/* Take (act, nact) as the new best; 0 or -ENOMEM. */
static int take(struct best *b, const uint32_t *act, size_t nact, struct shrink_size sz)
{
	if (nact > b->cap) { /* fewer preemptions may cost steps */
		uint32_t *c = realloc(b->c, nact * sizeof *c), *k;
		if (!c)
			return -ENOMEM;
		b->c = c;
		if (!(k = realloc(b->cand, nact * sizeof *k)))
			return -ENOMEM;
		b->cand = k;
		b->cap = nact;
	}
	memcpy(b->c, act, nact * sizeof *act);
	b->n = nact;
	b->size = sz;
	return 0;
}

/* One pass of deletions of chunk-sized pieces. 1 improved, 0 not, -errno. */
static int pass(struct best *b, size_t chunk, shrink_test test, void *ctx,
		unsigned max_tests, struct shrink_stats *st)
{
	int improved = 0;
	for (size_t i = 0; i < b->n && st->tests < max_tests;) {
		size_t cut = chunk < b->n - i ? chunk : b->n - i;

		assert(cut >= 1 && i + cut <= b->n);
		memcpy(b->cand, b->c, i * sizeof *b->cand);
		memcpy(b->cand + i, b->c + i + cut, (b->n - i - cut) * sizeof *b->cand);
		const uint32_t *act;
		const uint64_t *masks = NULL;
		size_t nact;
		st->tests++;
		int r = test(ctx, b->cand, b->n - cut, &act, &masks, &nact);
		if (r < 0)
			return r;
		struct shrink_size sz = shrink_size_of(act, masks, nact);
		if (r == 1 && shrink_smaller(sz, b->size)) {
			/* the actual run (the guide completes the candidate) */
			int e = take(b, act, nact, sz);
			if (e)
				return e;
			improved = 1;
			continue; /* retry the same position */
		}
		i += cut;
	}
	return improved;
}

int shrink_run(uint32_t **choices, size_t *n, const uint64_t *masks, shrink_test test,
	       void *ctx, unsigned max_tests, struct shrink_stats *st)
{
	struct best b = {.c = *choices, .n = *n, .cap = *n,
			 .size = shrink_size_of(*choices, masks, *n)};
	memset(st, 0, sizeof *st);
	st->from_steps = b.n;
	st->from_switches = b.size.switches;
	st->from_preempt = b.size.preempt;
	struct shrink_size from = b.size;
	b.cand = malloc((b.n ? b.n : 1) * sizeof *b.cand);
	if (!b.cand)
		return -ENOMEM;
	int err = 0, improved = 1;
	while (improved && !err && st->tests < max_tests) {
		improved = 0;
		for (size_t chunk = b.n / 2 ? b.n / 2 : 1; chunk >= 1; chunk /= 2) {
			int r = pass(&b, chunk, test, ctx, max_tests, st);
			if (r < 0) {
				err = r;
				break;
			}
			improved |= r;
			if (chunk == 1)
				break;
		}
	}
	free(b.cand);
	*choices = b.c;
	*n = b.n;
	st->to_steps = b.n;
	st->to_switches = b.size.switches;
	st->to_preempt = b.size.preempt;
	/* never bigger in (preemptions, steps, switches) order */
	assert(!shrink_smaller(from, b.size));
	return err;
}

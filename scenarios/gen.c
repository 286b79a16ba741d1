/* scenarios/gen.c — swarm scenarios from a seed, the text of a scenario,
 * and the contract check the generator and the shrinker share. See gen.h.
 */
#include "scenarios/gen.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* splitmix64: a stream from the seed alone, the same on every machine */
struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int pick(struct rng *r, int n)
{
	assert(n > 0);
	return (int)(next(r) % (uint64_t)n);
}

static int coin(struct rng *r, int pct)
{
	return pick(r, 100) < pct;
}

/* The swarm's configuration: which operation kinds this scenario may use. */
struct kinds {
	int read, write, exit, remove, unmap, remap, fork, prefetch, pause, fail;
	int unmaps;  /* unmap or remap ops so far: at most one per scenario */
	int forks;   /* at most one fork */
	uint64_t failing; /* pages with a source-fail: one per page, so that a
			     fault never sees more failures than its retries */
};

static void pick_kinds(struct rng *r, const struct scn_gen_opts *o, struct kinds *k)
{
	memset(k, 0, sizeof *k);
	k->read = coin(r, 85);
	k->write = coin(r, 60);
	if (!k->read && !k->write)
		k->read = 1; /* a scenario without a guest access tests nothing */
	k->exit = coin(r, 15);
	k->remove = coin(r, 55);
	k->prefetch = coin(r, 35);
	k->pause = coin(r, 30);
	k->fail = coin(r, 35);
	if (o && o->events) {
		k->unmap = coin(r, 35);
		k->remap = coin(r, 25);
		k->fork = coin(r, 25);
	}
}

static void pick_header(struct rng *r, const struct scn_gen_opts *o, const struct kinds *k,
			struct scenario *s)
{
	s->page_size = coin(r, 25) ? 2097152 : 4096;
	s->pages = 1 + pick(r, 4);
	for (int p = 0; p < s->pages; p++) {
		int f = pick(r, 100);
		s->fill[p] = f < 70 ? SCN_FILL_PATTERN : f < 85 ? SCN_FILL_ZERO : SCN_FILL_SENTINEL;
	}
	/* a balloon without EVENT_REMOVE zaps behind the handler's back: no
	 * handler can serve zeros it was never told about */
	s->event_remove = k->remove || coin(r, 30);
	s->wp = coin(r, 40);
	/* E2B registers WP with WP_ASYNC only (reference refuses a uffd
	 * without it: a setup outcome, no finding); the coin is still drawn,
	 * so that the rest of each seed's scenario stays what it was */
	if (s->wp && !k->write)
		(void)coin(r, 50);
	s->wp_async = s->wp;
	if (o && o->events) {
		s->event_unmap = coin(r, 50);
		s->event_remap = coin(r, 50);
		s->event_fork = coin(r, 50);
	}
	s->workers = coin(r, 50) ? 1 + pick(r, 3) : 0;
	s->retries = coin(r, 50) ? pick(r, 4) : -1;
}

static struct scn_op *add_op(struct scn_thread *t, enum scn_op_kind kind, uint64_t a,
			     uint64_t b)
{
	assert(t->nops < SCN_MAX_OPS);
	struct scn_op *op = &t->ops[t->nops++];
	*op = (struct scn_op){.kind = kind, .a = a, .b = b, .after_thread = -1, .after_op = -1};
	return op;
}

static void range(struct rng *r, const struct scenario *s, uint64_t *a, uint64_t *b)
{
	int first = pick(r, s->pages);
	*a = (uint64_t)first;
	*b = (uint64_t)(first + pick(r, s->pages - first));
}

static void guest_op(struct rng *r, const struct kinds *k, const struct scenario *s,
		     struct scn_thread *t)
{
	int write = k->write && (!k->read || coin(r, 50));
	uint64_t p = (uint64_t)pick(r, s->pages);
	if (write)
		add_op(t, SCN_WRITE, p, (uint64_t)(1 + pick(r, 255)));
	else
		add_op(t, SCN_READ, p, 0);
}

/* 0 when no balloon kind is left to use (one unmap/remap, one fork). */
static int balloon_op(struct rng *r, struct kinds *k, const struct scenario *s,
		      struct scn_thread *t)
{
	enum scn_op_kind c[4];
	int n = 0;
	if (k->remove)
		c[n++] = SCN_REMOVE;
	if (k->unmap && !k->unmaps)
		c[n++] = SCN_UNMAP;
	if (k->remap && !k->unmaps)
		c[n++] = SCN_REMAP;
	if (k->fork && !k->forks)
		c[n++] = SCN_FORK;
	if (!n)
		return 0;
	enum scn_op_kind kind = c[pick(r, n)];
	uint64_t a = 0, b = 0;
	if (kind != SCN_FORK)
		range(r, s, &a, &b);
	k->unmaps += kind == SCN_UNMAP || kind == SCN_REMAP;
	k->forks += kind == SCN_FORK;
	add_op(t, kind, a, b);
	return 1;
}

/* 0 when no control kind is enabled (or the page already fails). A pause
 * is followed by its resume. */
static int control_op(struct rng *r, struct kinds *k, const struct scenario *s,
		      struct scn_thread *t)
{
	enum scn_op_kind c[3];
	int n = 0;
	if (k->prefetch)
		c[n++] = SCN_PREFETCH;
	if (k->pause && t->nops + 2 <= SCN_MAX_OPS)
		c[n++] = SCN_PAUSE;
	if (k->fail)
		c[n++] = SCN_SOURCE_FAIL;
	if (!n)
		return 0;
	enum scn_op_kind kind = c[pick(r, n)];
	uint64_t a, b;
	if (kind == SCN_PREFETCH) {
		range(r, s, &a, &b);
		add_op(t, kind, a, b);
	} else if (kind == SCN_PAUSE) {
		add_op(t, SCN_PAUSE, 0, 0);
		add_op(t, SCN_RESUME, 0, 0);
	} else {
		/* transient failures within the retries (the handler's default
		 * is 3), or for good (the sandbox is then torn down by design) */
		int retries = s->retries >= 0 ? s->retries : 3;
		uint64_t nfail = retries > 0 && !coin(r, 20) ? (uint64_t)(1 + pick(r, retries)) : 0;
		int page = pick(r, s->pages);
		if (k->failing & (UINT64_C(1) << page))
			return 0;
		k->failing |= UINT64_C(1) << page;
		add_op(t, SCN_SOURCE_FAIL, (uint64_t)page, nfail);
	}
	return 1;
}

static struct scn_thread *add_thread(struct scenario *s, const char *prefix, int i,
				     enum scn_role role)
{
	assert(s->nthreads < SCN_MAX_THREADS);
	struct scn_thread *t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s%d", prefix, i);
	t->role = role;
	return t;
}

/* `after` only on ops of earlier threads: acyclic by construction. */
static void pick_after(struct rng *r, struct scenario *s)
{
	for (int t = 1; t < s->nthreads; t++)
		for (int i = 0; i < s->threads[t].nops; i++) {
			int u = pick(r, t);
			/* a resume that waits on anything may wait on an access
			 * its own pause holds up: a deadlock of the scenario */
			if (!coin(r, 30) || !s->threads[u].nops ||
			    s->threads[t].ops[i].kind == SCN_RESUME)
				continue;
			s->threads[t].ops[i].after_thread = u;
			s->threads[t].ops[i].after_op = pick(r, s->threads[u].nops);
		}
}

static void pick_threads(struct rng *r, struct kinds *k, struct scenario *s)
{
	int guests = 1 + pick(r, 4);
	int balloons = k->remove || k->unmap || k->remap || k->fork ? pick(r, 3) : 0;
	int controls = k->prefetch || k->pause || k->fail ? pick(r, 2) : 0;
	for (int g = 0; g < guests; g++) {
		struct scn_thread *t = add_thread(s, "g", g, SCN_GUEST);
		for (int n = 1 + pick(r, 3); n > 0; n--)
			guest_op(r, k, s, t);
	}
	if (k->exit) /* the process ends once, as some vCPU's last act */
		add_op(&s->threads[pick(r, guests)], SCN_EXIT, 0, 0);
	for (int b = 0; b < balloons; b++) {
		struct scn_thread *t = add_thread(s, "b", b, SCN_BALLOON);
		for (int n = 1 + pick(r, 2); n > 0 && balloon_op(r, k, s, t); n--)
			;
	}
	for (int c = 0; c < controls; c++) {
		struct scn_thread *t = add_thread(s, "c", c, SCN_CONTROL);
		for (int n = 1 + pick(r, 2); n > 0 && control_op(r, k, s, t); n--)
			;
	}
	pick_after(r, s);
}

void scn_generate(uint64_t seed, const struct scn_gen_opts *opts, struct scenario *out)
{
	struct rng r = {.s = seed};
	struct kinds k;
	memset(out, 0, sizeof *out);
	pick_kinds(&r, opts, &k);
	pick_header(&r, opts, &k, out);
	pick_threads(&r, &k, out);
	out->contract = scn_breaks_contract(out) || coin(&r, 30) ? SCN_CONTRACT_BREAKS
								 : SCN_CONTRACT_KEEPS;
	snprintf(out->name, sizeof out->name, "swarm-%llu", (unsigned long long)seed);
	assert(out->nthreads >= 1 && out->pages >= 1);
}

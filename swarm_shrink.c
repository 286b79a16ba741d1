/* The swarm's scenario shrinker: a greedy reducer over the parsed
 * scenario. Each candidate is the scenario less one thing, as the
 * shrinker of a found failure has it (scenarios/reduce.h: a thread, an
 * operation, an `after`, a feature, the handler configuration, huge
 * pages, a snapshot fill, a page); it is printed and parsed back (valid by
 * construction, checked anyway) and explored with the swarm's budget; it
 * is kept when the same invariant still breaks. Passes repeat until none
 * is kept. (sched/shrink.c shrinks a schedule; this shrinks the input.) */
#include "swarm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scenarios/gen.h"
#include "scenarios/reduce.h"

static int size_of(const struct scenario *s, int *ops)
{
	*ops = scn_nops(s);
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
			int dropped, r = scn_reduce(s, c, &cand, &dropped);
			if (r < 0)
				break;
			if (!r || reparse(&cand, &parsed))
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

#include "oracle.h"

#include <assert.h>
#include <string.h>

/* Each mutation of page `page`, in log order. */
#define FOR_PAGE(o, page, m)                                                    \
	for (const struct oracle_mut *m = (o)->first[page] < 0 ? NULL : &(o)->muts[(o)->first[page]]; \
	     m; m = m->next < 0 ? NULL : &(o)->muts[m->next])

void oracle_reset(struct oracle *o, int pages, const uint64_t *initial)
{
	assert(pages >= 0 && pages <= ORACLE_MAX_PAGES && (initial || pages == 0));
	memset(o->first, 0xff, sizeof o->first[0] * (size_t)pages); /* -1 */
	o->pages = pages;
	o->initial = initial;
	o->nmuts = 0;
	assert(o->nmuts == 0 && o->pages == pages);
}

int oracle_begin(struct oracle *o, int page, uint64_t value, uint64_t now)
{
	assert(page >= 0 && page < o->pages && o->nmuts <= ORACLE_MAX_MUTS);
	if (o->nmuts == ORACLE_MAX_MUTS)
		return -1;
	struct oracle_mut *m = &o->muts[o->nmuts];
	m->page = page;
	m->value = value;
	m->start = now;
	m->end = ORACLE_OPEN;
	m->next = -1;
	if (o->first[page] < 0)
		o->first[page] = o->nmuts;
	else
		o->muts[o->last[page]].next = o->nmuts;
	o->last[page] = o->nmuts;
	return o->nmuts++;
}

void oracle_end(struct oracle *o, int handle, uint64_t now)
{
	if (handle >= 0 && handle < o->nmuts) {
		/* ended once, not before it began */
		assert(o->muts[handle].end == ORACLE_OPEN);
		assert(now >= o->muts[handle].start && now != ORACLE_OPEN);
		o->muts[handle].end = now;
	}
}

/* Is there a mutation of the page wholly after m and wholly before `before`? */
static int overwritten(const struct oracle *o, const struct oracle_mut *m,
		       uint64_t before)
{
	FOR_PAGE(o, m->page, n) {
		if (n == m || n->end == ORACLE_OPEN)
			continue;
		if (m->end != ORACLE_OPEN && n->start > m->end && n->end < before)
			return 1;
	}
	return 0;
}

int oracle_candidates(const struct oracle *o, int page, uint64_t start,
		      uint64_t end, uint64_t *out, int max)
{
	int n = 0, any_before = 0;
	assert(page >= 0 && page < o->pages && max >= 0);
	FOR_PAGE(o, page, m) {
		if (m->end != ORACLE_OPEN && m->end < start)
			any_before = 1;
		if (m->start > end || overwritten(o, m, start))
			continue;
		if (n < max)
			out[n] = m->value;
		n++;
	}
	if (!any_before) {
		if (n < max)
			out[n] = o->initial[page];
		n++;
	}
	return n < max ? n : max;
}

int oracle_read_ok(const struct oracle *o, int page, uint64_t got,
		   uint64_t start, uint64_t end)
{
	/* oracle_candidates' rule, one candidate at a time: the log may hold
	 * thousands of mutations, too many to copy onto a coroutine's stack */
	int any_before = 0;
	assert(page >= 0 && page < o->pages);
	FOR_PAGE(o, page, m) {
		if (m->end != ORACLE_OPEN && m->end < start)
			any_before = 1;
		if (m->value == got && m->start <= end && !overwritten(o, m, start))
			return 1;
	}
	return !any_before && o->initial[page] == got;
}

int oracle_mutated_before(const struct oracle *o, int page, uint64_t now)
{
	assert(page >= 0 && page < o->pages);
	FOR_PAGE(o, page, m)
		if (m->end != ORACLE_OPEN && m->end < now)
			return 1;
	return 0;
}

int oracle_remove_open(const struct oracle *o, int page)
{
	assert(page >= 0 && page < o->pages);
	FOR_PAGE(o, page, m)
		if (m->value == 0 && m->end == ORACLE_OPEN)
			return 1;
	return 0;
}

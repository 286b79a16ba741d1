#include "oracle.h"

#include <assert.h>

void oracle_reset(struct oracle *o, int pages, const uint64_t *initial)
{
	assert(pages >= 0 && (initial || pages == 0));
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
	for (int i = 0; i < o->nmuts; i++) {
		const struct oracle_mut *n = &o->muts[i];
		if (n->page != m->page || n == m || n->end == ORACLE_OPEN)
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
	for (int i = 0; i < o->nmuts; i++) {
		const struct oracle_mut *m = &o->muts[i];
		if (m->page != page)
			continue;
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
	uint64_t c[ORACLE_MAX_MUTS + 1];
	int n = oracle_candidates(o, page, start, end, c, ORACLE_MAX_MUTS + 1);
	for (int i = 0; i < n; i++)
		if (c[i] == got)
			return 1;
	return 0;
}

int oracle_mutated_before(const struct oracle *o, int page, uint64_t now)
{
	assert(page >= 0 && page < o->pages);
	for (int i = 0; i < o->nmuts; i++)
		if (o->muts[i].page == page && o->muts[i].end != ORACLE_OPEN &&
		    o->muts[i].end < now)
			return 1;
	return 0;
}

int oracle_remove_open(const struct oracle *o, int page)
{
	assert(page >= 0 && page < o->pages);
	for (int i = 0; i < o->nmuts; i++)
		if (o->muts[i].page == page && o->muts[i].value == 0 &&
		    o->muts[i].end == ORACLE_OPEN)
			return 1;
	return 0;
}

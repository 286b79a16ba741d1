#include "tracker.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

int tracker_init(struct tracker *t, uint64_t pages)
{
	t->pages = pages;
	t->sys = NULL;
	t->state = calloc(pages ? pages : 1, 1);
	return t->state ? 0 : -ENOMEM;
}

void tracker_fini(struct tracker *t)
{
	free(t->state);
	t->state = NULL;
	t->pages = 0;
}

enum page_state tracker_peek(const struct tracker *t, uint64_t page)
{
	if (page >= t->pages)
		return PAGE_NOT_PRESENT;
	unsigned char v = __atomic_load_n(&t->state[page], __ATOMIC_SEQ_CST);
	assert(v <= PAGE_ZERO);
	return (enum page_state)v;
}

enum page_state tracker_get(const struct tracker *t, uint64_t page)
{
	if (page < t->pages)
		sys_shared(t->sys, SYS_SHARED_PAGE(page), 0);
	return tracker_peek(t, page);
}

void tracker_set(struct tracker *t, uint64_t page, enum page_state s)
{
	assert(t->state && (unsigned)s <= PAGE_ZERO);
	if (page >= t->pages)
		return;
	/* setting the state it has is only a look: it commutes with the
	 * other looks, where a store would order them (handler/sys.h) */
	unsigned char was = __atomic_load_n(&t->state[page], __ATOMIC_SEQ_CST);
	sys_shared(t->sys, SYS_SHARED_PAGE(page), was != (unsigned char)s);
	if (was != (unsigned char)s)
		__atomic_store_n(&t->state[page], (unsigned char)s, __ATOMIC_SEQ_CST);
}

void tracker_set_range(struct tracker *t, uint64_t first, uint64_t last,
		       enum page_state s)
{
	assert(t->state);
	if (last > t->pages)
		last = t->pages;
	for (uint64_t p = first; p < last; p++)
		tracker_set(t, p, s);
}

const char *page_state_name(enum page_state s)
{
	switch (s) {
	case PAGE_NOT_PRESENT: return "not-present";
	case PAGE_DIRTY: return "dirty";
	case PAGE_ZERO: return "zero";
	}
	return "invalid";
}

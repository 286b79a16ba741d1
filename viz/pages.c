/* viz/pages.c — the page lanes: for each page the race touches, its state
 * in the kernel and in the handler's tracker over time, from the typed
 * step events only (model/event.h; the labels are never parsed).
 *
 * The kernel side: absent until an install (UFFDIO_COPY: the source's
 * content, snapshot bytes or a guest write or zeros; UFFDIO_ZEROPAGE:
 * zeros) or a guest write that needed no fault; absent again after a zap;
 * write-protected after a UFFDIO_COPY with MODE_WP or a UFFDIO_WRITEPROTECT
 * that sets WP, until one that clears it, a guest write that lands (WP_ASYNC
 * clears the bit) or a zap; "unregistered" after a UFFDIO_UNREGISTER of
 * its range (its faults no longer reach the handler). The handler side: its tracker notes (docs/TRACE.md:
 * 0 not-present, served from the snapshot on a fault; 1 dirty, installed
 * or written; 2 zero, removed: served and exported as zeros), "no note
 * yet" before the first. They part when the tracker's state does not
 * describe the kernel's page: not-present over a present page, dirty over
 * an absent one, removed over a page holding data (between a REMOVE's
 * read and its zap they part by rule: that is the window races use). A
 * step that changes the page and notes the tracker (an install marking
 * its page dirty) is judged first against the tracker as it was, so that
 * an install over a page the tracker marked removed shows. A node is drawn
 * on a shown step where either side changed.
 */
#include "viz/viz_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_BASE 0x7f0000000000ull /* model/world.c: guest memory base */
#define TAG_SNAP 0x53ull
#define TAG_WRITE 0x57ull

enum { K_ABSENT, K_SNAP, K_ZERO, K_WRITE, K_OTHER };

struct pstate {
	int touched, kernel, wp;
	int unreg;            /* UFFDIO_UNREGISTER'd: faults no longer reach the handler */
	int64_t tracker;      /* -1: no note yet */
	uint64_t content;
	int shown_k, shown_wp, shown_unreg;
	int64_t shown_t;
	int drawn;            /* a node was drawn */
	int64_t over;         /* the kernel changed under this tracker state,
				 which did not describe it (-2: no) */
};

/* The scenario's page size, from the embedded "memory SIZE N" line. */
static uint64_t page_size(const struct trace *tr)
{
	const char *v = NULL;
	size_t it = 0;
	while ((v = trace_get_next(tr, "scenario-text", &it))) {
		unsigned long long n;
		char unit = 0;
		if (sscanf(v, " memory %llu%c", &n, &unit) >= 1)
			return unit == 'm' || unit == 'M' ? n << 20 : unit == 'k' || unit == 'K'
			       ? n << 10 : n;
	}
	return 4096;
}

static int kind_of(uint64_t content)
{
	if (!content)
		return K_ZERO;
	if (content >> 56 == TAG_SNAP)
		return K_SNAP;
	return content >> 56 == TAG_WRITE ? K_WRITE : K_OTHER;
}

/* Pages [a, a+len) of the guest range, clipped to VIZ_PAGES_MAX. */
static void range(uint64_t ps, int64_t a, int64_t len, uint64_t *lo, uint64_t *hi)
{
	uint64_t s = (uint64_t)a < SIM_BASE ? 0 : ((uint64_t)a - SIM_BASE) / ps;
	uint64_t e = (uint64_t)a + (uint64_t)len <= SIM_BASE ? 0
		     : ((uint64_t)a + (uint64_t)len - SIM_BASE + ps - 1) / ps;
	*lo = s < VIZ_PAGES_MAX ? s : VIZ_PAGES_MAX;
	*hi = e < VIZ_PAGES_MAX ? e : VIZ_PAGES_MAX;
}

static void set_kernel(struct pstate *p, uint64_t lo, uint64_t hi, int k, uint64_t c)
{
	for (uint64_t i = lo; i < hi; i++) {
		p[i].touched = 1;
		p[i].kernel = k;
		p[i].content = c;
		if (k == K_ABSENT)
			p[i].wp = 0;
	}
}

/* One event's effect on the pages. */
static void apply(struct pstate *p, uint64_t ps, const struct sched_event *e)
{
	uint64_t lo, hi;
	const int64_t *f = e->f;
	switch (e->kind) {
	case MEV_FAULT: case MEV_WOKEN: case MEV_CHECKED_READ:
		lo = (uint64_t)f[e->kind == MEV_CHECKED_READ ? 0 : 1];
		if (lo < VIZ_PAGES_MAX)
			p[lo].touched = 1;
		break;
	case MEV_ACCESS:
		if (f[1] >= 0 && f[1] < VIZ_PAGES_MAX && f[2] && f[3] == MEV_RES_OK) {
			set_kernel(p, (uint64_t)f[1], (uint64_t)f[1] + 1, K_WRITE, (uint64_t)f[4]);
			p[f[1]].wp = 0; /* a write that landed: not armed (or WP_ASYNC cleared it) */
		}
		else if (f[1] >= 0 && f[1] < VIZ_PAGES_MAX)
			p[f[1]].touched = 1;
		break;
	case MEV_UFFD_COPY:
		range(ps, f[0], f[1], &lo, &hi);
		if (f[4] == 0) {
			set_kernel(p, lo, hi, kind_of((uint64_t)f[3]), (uint64_t)f[3]);
			for (uint64_t i = lo; i < hi; i++) /* UFFDIO_COPY_MODE_WP arms it */
				p[i].wp = (f[2] & 2) != 0;
		}
		break;
	case MEV_UFFD_ZEROPAGE:
		range(ps, f[0], f[1], &lo, &hi);
		if (f[3] == 0) {
			set_kernel(p, lo, hi, K_ZERO, 0);
			for (uint64_t i = lo; i < hi; i++)
				p[i].wp = 0; /* ZEROPAGE has no WP mode */
		}
		break;
	case MEV_ZAP:
		range(ps, f[1], f[2] - f[1], &lo, &hi);
		set_kernel(p, lo, hi, K_ABSENT, 0);
		break;
	case MEV_MADVISE:
		range(ps, f[1], f[2], &lo, &hi);
		for (uint64_t i = lo; i < hi; i++)
			p[i].touched = 1;
		break;
	case MEV_UFFD_WP:
		range(ps, f[0], f[1], &lo, &hi);
		for (uint64_t i = lo; i < hi && f[3] == 0; i++)
			p[i].wp = (f[2] & 1) != 0; /* UFFDIO_WRITEPROTECT_MODE_WP */
		break;
	case MEV_UNREGISTER:
		range(ps, f[0], f[1] - f[0], &lo, &hi);
		for (uint64_t i = lo; i < hi; i++)
			p[i].touched = p[i].unreg = 1;
		break;
	case MEV_NOTE:
		if (f[0] == MEV_NOTE_TRACKER && f[1] >= 0 && f[1] < VIZ_PAGES_MAX) {
			p[f[1]].touched = 1;
			p[f[1]].tracker = f[2];
		}
		break;
	}
}

/* Does the tracker's state describe the kernel's page? */
static int parted(const struct pstate *s)
{
	if (s->tracker < 0)
		return 0;
	if (s->tracker == 0)
		return s->kernel != K_ABSENT;
	if (s->tracker == 1)
		return s->kernel == K_ABSENT;
	return s->kernel != K_ABSENT && s->kernel != K_ZERO;
}

static const char *const knames[] = {"absent", "present: snapshot bytes", "present: zeros",
				     "present: a guest write", "present: other bytes"};

static int add_node(struct viz_pages *pg, uint64_t page, size_t step, const struct pstate *s)
{
	if (pg->n == pg->cap) {
		size_t cap = pg->cap ? pg->cap * 2 : 32;
		struct viz_page_node *nn = realloc(pg->node, cap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		pg->node = nn;
		pg->cap = cap;
	}
	struct viz_page_node *d = &pg->node[pg->n++];
	d->page = page;
	d->step = step;
	d->parted = parted(s) || s->over != -2;
	d->absent = s->kernel == K_ABSENT;
	snprintf(d->kernel, sizeof d->kernel, "kernel: %s%s%s", knames[s->kernel],
		 s->wp ? ", WP armed" : "", s->unreg ? ", unregistered" : "");
	snprintf(d->tracker, sizeof d->tracker, "tracker: %s",
		 s->tracker < 0 ? "no note yet" : s->tracker == 0 ? "not-present"
		 : s->tracker == 1 ? "dirty (installed)" : s->tracker == 2 ? "zero (removed)" : "?");
	d->over[0] = 0;
	if (s->over != -2 && s->over != s->tracker)
		snprintf(d->over, sizeof d->over, "%s", s->over == 0 ? "not-present" : s->over == 1
			 ? "dirty (installed)" : "zero (removed)");
	return 0;
}

int viz_pages_derive(const struct trace *tr, const unsigned char *shown, struct viz_pages *pg)
{
	memset(pg, 0, sizeof(*pg));
	struct pstate p[VIZ_PAGES_MAX];
	uint64_t ps = page_size(tr);
	memset(p, 0, sizeof p);
	for (int i = 0; i < VIZ_PAGES_MAX; i++) {
		p[i].tracker = p[i].shown_t = -1;
		p[i].over = -2;
	}
	for (size_t i = 0; i < tr->nsteps; i++) {
		const struct trace_step *s = &tr->steps[i];
		/* the kernel's change first, judged against the tracker as it
		 * was: an install and its own note in one step must not hide
		 * that it landed on a page the tracker marked removed */
		for (size_t k = 0; k < s->nev; k++)
			if (s->ev[k].kind != MEV_NOTE)
				apply(p, ps, &s->ev[k]);
		for (int q = 0; q < VIZ_PAGES_MAX; q++)
			if (p[q].touched && (!p[q].drawn || p[q].kernel != p[q].shown_k) && parted(&p[q]))
				p[q].over = p[q].tracker;
		for (size_t k = 0; k < s->nev; k++)
			if (s->ev[k].kind == MEV_NOTE)
				apply(p, ps, &s->ev[k]);
		if (shown && !shown[i])
			continue;
		for (uint64_t q = 0; q < VIZ_PAGES_MAX; q++) {
			struct pstate *x = &p[q];
			if (!x->touched || (x->drawn && x->shown_k == x->kernel &&
					    x->shown_wp == x->wp && x->shown_t == x->tracker &&
					    x->shown_unreg == x->unreg))
				continue;
			int e = add_node(pg, q, i, x);
			if (e) {
				viz_pages_free(pg);
				return e;
			}
			x->drawn = 1;
			x->over = -2;
			x->shown_k = x->kernel;
			x->shown_wp = x->wp;
			x->shown_unreg = x->unreg;
			x->shown_t = x->tracker;
		}
	}
	return 0;
}

void viz_pages_free(struct viz_pages *pg)
{
	free(pg->node);
	memset(pg, 0, sizeof(*pg));
}

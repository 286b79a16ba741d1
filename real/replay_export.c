/* The export and dirty layers on hardware: contract in
 * real/replay_export.h. */
#include "real/replay_export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "real/hw_oracle.h"
#include "real/region.h"
#include "real/snapshot.h"

/* One restored page's bytes (ps of them into buf) from the snapshot plus
 * the export: what a fresh guest restored from this diff would hold. */
static void restore_page(const struct rr_exp *x, int p, enum hpage view, int present,
			 unsigned char *buf)
{
	struct real_region *r = x->e->r;
	size_t ps = (size_t)r->page_size;
	if (view == HPAGE_DIRTY && present)
		memcpy(buf, (const void *)(uintptr_t)real_page_addr(r, (uint64_t)p), ps);
	else if (view == HPAGE_UNKNOWN && x->scn->fill[p] != SCN_FILL_ZERO)
		memcpy(buf, r->snap->words + (size_t)p * (ps / 8), ps);
	else
		memset(buf, 0, ps);
}

/* The restored page's bytes, classified as a read of them would be. */
static enum real_content classify(const struct rr_exp *x, int p, const unsigned char *buf,
				  uint8_t *v)
{
	struct real_region *r = x->e->r;
	size_t ps = (size_t)r->page_size;
	const unsigned char *snap = (const unsigned char *)(r->snap->words + (size_t)p * (ps / 8));
	size_t i = 0;
	while (i < ps && buf[i] == buf[0])
		i++;
	if (i == ps) {
		*v = buf[0];
		return buf[0] ? REAL_C_WRITTEN : REAL_C_ZERO;
	}
	return memcmp(buf, snap, ps) == 0 ? REAL_C_SNAPSHOT : REAL_C_OTHER;
}

int rr_export_judge(const struct rr_exp *x, const enum hpage *views, uint64_t start,
		    uint64_t end, const char *when, int mid_run, struct inv_report *rep,
		    char *ev, size_t n)
{
	struct real_region *r = x->e->r;
	unsigned char *buf = malloc((size_t)r->page_size);
	if (!buf)
		return 0;
	int bad = 0;
	for (int p = 0; p < x->scn->pages && !bad; p++) {
		int present = 0, wp = 0;
		if (real_page_flags(r, (uint64_t)p, &present, &wp))
			continue;
		restore_page(x, p, views[p], present, buf);
		uint8_t v = 0;
		enum real_content c = classify(x, p, buf, &v);
		uint64_t got = real_content_tag(x->scn, p, (int)c, v);
		/* what the mapping holds (a present page), for tracker-disagrees */
		uint64_t mem = 0;
		if (present) {
			enum real_content mc = real_guest_read(r, (uint64_t)p, 1, &v);
			mem = real_content_tag(x->scn, p, (int)mc, v);
		}
		struct inv_facts f = {.layer = INV_AT_EXPORT};
		f.u.exp = (struct inv_export){
			.page = p, .view = views[p], .present = present, .content = mem,
			.where = " on hardware", .orc = x->orc, .restored = got, .start = start,
			.end = end, .contract_breaks = x->scn->contract == SCN_CONTRACT_BREAKS,
			.mid_run = mid_run, .when = when,
			.tracker = handler_page_view(x->e->h, (uint64_t)p)};
		pthread_mutex_lock(x->mu);
		bad = inv_check(&f, rep);
		pthread_mutex_unlock(x->mu);
		if (bad)
			snprintf(ev, n, "on hardware: the handler exported page %d %s; pagemap: %s%s; a guest restored from the snapshot and that export holds %s there",
				 p, hpage_name(views[p]), present ? "present" : "absent",
				 present ? (wp ? ", uffd-WP set" : ", uffd-WP clear") : "",
				 real_content_name(c));
	}
	free(buf);
	return bad;
}

int rr_dirty_judge(const struct rr_exp *x, int settled, const char *when,
		   struct inv_report *rep, char *ev, size_t n)
{
	if (!x->scn->wp)
		return 0;
	for (int p = 0; p < x->scn->pages; p++) {
		int present = 0, wp = 0;
		if (real_page_flags(x->e->r, (uint64_t)p, &present, &wp))
			continue;
		struct inv_facts f = {.layer = INV_AT_DIRTY};
		pthread_mutex_lock(x->mu);
		f.u.dirty = (struct inv_dirty){
			.page = p, .wp_async = x->scn->wp_async, .present = present, .wp = wp,
			.view = handler_page_view(x->e->h, (uint64_t)p),
			.written = x->written[p], .writing = x->writing[p],
			.settled = settled, .when = when};
		int bad = inv_check(&f, rep);
		pthread_mutex_unlock(x->mu);
		if (bad) {
			snprintf(ev, n, "on hardware: /proc/self/pagemap page %d: present %d, bit 57 (uffd-WP) %d; the guest %s it since its last install",
				 p, present, wp, f.u.dirty.written ? "wrote" : "did not write");
			return 1;
		}
	}
	return 0;
}
